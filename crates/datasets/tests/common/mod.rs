//! Helpers shared by the dataset integration tests.
#![allow(dead_code)] // each test file uses a different subset

use jukemir_datasets::process::AssetSource;
use serde_json::Value;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::PathBuf;

/// Assets by tag from a fixed map: what the tests hand the processors instead of the cache.
pub struct Assets<K = &'static str>(pub HashMap<K, PathBuf>);

impl<K: Borrow<str> + Eq + Hash + Sync> AssetSource for Assets<K> {
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf> {
        self.0.get(tag).cloned().ok_or_else(|| anyhow::anyhow!("the test has no asset {tag}"))
    }
}

/// A path under the project's shared/ folder beside the checkout, which these tests need.
pub fn shared(rel: &str) -> PathBuf {
    let path = jukemir_test_support::test_file(rel);
    assert!(path.exists(), "{} is missing: these tests need the project's shared/ folder", path.display());
    path
}

/// Every difference between two JSON values; numbers must agree in kind (integer or float) and
/// floats to 1e-9.
pub fn differences(at: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for key in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{at}/{key}: unexpected"));
            }
            for (key, w) in w {
                match g.get(key) {
                    Some(g) => differences(&format!("{at}/{key}"), g, w, out),
                    None => out.push(format!("{at}/{key}: missing")),
                }
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                differences(&format!("{at}[{i}]"), g, w, out);
            }
        }
        (Value::Number(g), Value::Number(w)) if g.is_f64() && w.is_f64() => {
            let far = (g.as_f64().unwrap() - w.as_f64().unwrap()).abs() > 1e-9;
            out.extend(far.then(|| format!("{at}: {g} != {w}")));
        }
        _ if got != want => out.push(format!("{at}: {got} != {want}")),
        _ => {}
    }
}

pub fn assert_same(got: &Value, want: &Value) {
    let mut diffs = Vec::new();
    differences("", got, want, &mut diffs);
    assert!(diffs.is_empty(), "{} differences, first: {:#?}", diffs.len(), &diffs[..diffs.len().min(10)]);
}
