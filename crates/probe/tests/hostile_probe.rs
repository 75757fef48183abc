//! Hostile inputs for the probe's readers, tested like a fuzzer:
//! * `config::ProbeConfig::from_json_str`: mutations of real configs' JSON text, and arbitrary
//!   JSON values in every field (wrong types, huge numbers, deep nesting, odd strings);
//! * `data::load`: `<root>/processed/<dataset>/meta.json` mutated byte-wise (seeded with real
//!   GTZAN entries from `fixtures/probe/parity/meta.json`) or rebuilt with arbitrary splits, uids
//!   and labels for a multiclass, a multilabel and a regression dataset; and the representation
//!   `.npy` files it reads, mutated (lying shapes and header lengths included).
//!
//! Every call must return `Ok` or an error naming its source (the config's label, the meta.json
//! or .npy path), without panicking, without a single allocation above the harness's 256 MiB cap,
//! and quickly. `.npy` inputs that once broke a reader (`fixtures/hostile/npy/`) are replayed
//! through `data::load` by `npy_regressions_stay_fixed`.

#[path = "../../audio/tests/hostile_harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harness::{apply, config, mutations, names, replay_fixtures, run_case, Field, Seed};
use jukemir_probe::config::{paper_grid, ProbeConfig};
use jukemir_probe::data::{load, DataRoots};
use ndarray::Array1;
use ndarray_npy::WriteNpyExt;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};

/// Arbitrary JSON: every scalar kind (extreme numbers included) nested up to 4 levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![0.0, -0.0, 0.5, 1.0, 1e-300, 1e300, f64::MAX, f64::MIN_POSITIVE, -1.5])
            .prop_map(|f| json!(f)),
        prop::sample::select(vec!["", "0", "train", "valid", "test", "rock", "primary", "-loss", "é\u{0}😀", "../x"])
            .prop_map(|s| json!(s)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop::sample::select(vec!["split", "y", "dataset", "seed", "batch_size", "a", ""])
                    .prop_map(String::from),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const CONFIG_FIELDS: [&str; 16] = [
    "dataset",
    "representation",
    "data_standardization",
    "hidden_layer_sizes",
    "batch_size",
    "learning_rate",
    "dropout_input",
    "dropout_p",
    "l2_weight_decay",
    "max_num_epochs",
    "early_stopping_metric",
    "early_stopping",
    "early_stopping_eval_frequency",
    "early_stopping_boredom",
    "seed",
    "unknown_field",
];

fn config_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let grid = paper_grid("gtzan_ff", "jukebox");
        let mut out = vec![Seed::new("defaults", ProbeConfig::new("emomusic", "chroma").to_json().into_bytes())];
        for i in [0, 77, 215] {
            out.push(Seed::new(format!("paper grid #{i}"), grid[i].to_json().into_bytes()));
        }
        out
    })
}

fn check_config(text: &str, source: &str) -> Result<(), TestCaseError> {
    run_case("ProbeConfig::from_json_str", text.as_bytes(), || -> Result<(), TestCaseError> {
        match ProbeConfig::from_json_str(text, source) {
            Ok(cfg) => {
                // What is accepted must serialise and hash, and read back as itself.
                let again = ProbeConfig::from_json_str(&cfg.to_json(), source);
                prop_assert!(again.is_ok(), "{source}: its own JSON is refused: {:?}", again.err());
                prop_assert_eq!(cfg.uid().len(), 40);
                Ok(())
            }
            Err(e) => names(source, &e.to_string()),
        }
    })?
}

// ---------------------------------------------------------------------------------------------
// data::load

const DIM: usize = 8;

/// The first entries of the real GTZAN meta.json fixture (a mix of splits and genres).
fn gtzan_meta() -> &'static Map<String, Value> {
    static META: OnceLock<Map<String, Value>> = OnceLock::new();
    META.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/probe/parity/meta.json");
        let all: Map<String, Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        all.into_iter().take(12).collect()
    })
}

fn vector_npy(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    Array1::from((0..DIM).map(|k| (i * DIM + k) as f32 * 0.25).collect::<Vec<f32>>()).write_npy(&mut out).unwrap();
    out
}

fn tmp() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

/// A fresh cache root for this thread holding `meta` (as raw bytes) and one vector per uid
/// (`vectors[i]` for the i-th uid, else a good one).
fn write_root(dataset: &str, meta: &[u8], uids: &[String], vectors: &[(usize, Vec<u8>)]) -> PathBuf {
    let name = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "");
    let root = tmp().path().join(name);
    let _ = std::fs::remove_dir_all(&root);
    let processed = root.join("processed").join(dataset);
    let rep = root.join("representations").join(dataset).join("rep");
    std::fs::create_dir_all(&processed).unwrap();
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::write(processed.join("meta.json"), meta).unwrap();
    for (i, uid) in uids.iter().enumerate() {
        // Hostile uids may name paths that cannot be created; those simply stay missing.
        let bytes = vectors.iter().find(|(k, _)| *k == i).map_or_else(|| vector_npy(i), |(_, b)| b.clone());
        let _ = std::fs::write(rep.join(format!("{uid}.npy")), bytes);
    }
    root
}

fn check_load(target: &str, dataset: &str, root: &Path, input: &[u8]) -> Result<(), TestCaseError> {
    let label = root.display().to_string();
    let roots = DataRoots::from_cache(root);
    run_case(target, input, || -> Result<(), TestCaseError> {
        match load(&roots, dataset, "rep", Some(0)) {
            Ok(data) => {
                prop_assert!(data.dim > 0);
                for split in [&data.train, &data.valid, &data.test] {
                    prop_assert_eq!(split.x.len(), split.len() * data.dim);
                }
                Ok(())
            }
            Err(e) => names(&label, &format!("{e:#}")),
        }
    })?
}

fn npy_fields(bytes: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::le(6, 1), Field::le(8, 2)];
    if let Some(s) = String::from_utf8_lossy(bytes).find("'shape': (") {
        f.extend([Field::le(s + 10, 1), Field::le(s + 10, 4)]);
    }
    f
}

proptest! {
    #![proptest_config(config("proptest-regressions/hostile_probe.txt", 256))]

    /// Byte-level damage to real configs' JSON.
    #[test]
    fn mutated_configs_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations()) {
        let seed = &config_seeds()[seed.index(config_seeds().len())];
        let bytes = apply(seed, &muts);
        check_config(&String::from_utf8_lossy(&bytes), "configs/hostile.json")?;
    }

    /// Well-formed JSON with arbitrary values in any of the fields (and unknown ones).
    #[test]
    fn arbitrary_config_values_fail_cleanly(
        fields in proptest::collection::vec((prop::sample::select(CONFIG_FIELDS.to_vec()), arb_json()), 0..6),
        keep_required in any::<bool>(),
        top in proptest::option::weighted(0.1, arb_json()),
    ) {
        let mut map = Map::new();
        if keep_required {
            map.insert("dataset".into(), json!("gtzan_ff"));
            map.insert("representation".into(), json!("jukebox"));
        }
        for (k, v) in fields {
            map.insert(k.to_string(), v);
        }
        let value = top.unwrap_or(Value::Object(map));
        check_config(&serde_json::to_string(&value).unwrap(), "probe config #7")?;
    }

    /// Byte-level damage to a real meta.json (GTZAN entries) with good vectors.
    #[test]
    fn mutated_meta_json_fails_cleanly(muts in mutations()) {
        let meta = serde_json::to_vec_pretty(gtzan_meta()).unwrap();
        let seed = Seed::new("gtzan meta.json", meta);
        let bytes = apply(&seed, &muts);
        let uids: Vec<String> = gtzan_meta().keys().cloned().collect();
        let root = write_root("gtzan_ff", &bytes, &uids, &[]);
        check_load("data::load (mutated meta.json)", "gtzan_ff", &root, &bytes)?;
    }

    /// meta.json rebuilt with arbitrary splits and labels, for each kind of target.
    #[test]
    fn arbitrary_meta_entries_fail_cleanly(
        dataset in prop::sample::select(vec!["test", "gtzan_ff", "magnatagatune", "emomusic", "giantsteps_clips"]),
        entries in proptest::collection::vec((
            prop_oneof![3 => prop::sample::select(vec!["a", "b", "c", "d", "e", "f", "x y", ".hidden"]).prop_map(String::from), 1 => any::<String>()],
            prop_oneof![4 => prop::sample::select(vec!["train", "valid", "test"]).prop_map(|s| json!(s)), 1 => arb_json()],
            prop_oneof![
                2 => prop::sample::select(vec!["0", "1", "3", "4", "rock", "guitar", "C major", "C minor"]).prop_map(|s| json!(s)),
                1 => prop::sample::select(vec!["guitar", "piano", "rock", "nope"]).prop_map(|s| json!([s, "slow"])),
                1 => (any::<f64>(), any::<f64>()).prop_map(|(a, b)| json!([a, b])),
                1 => arb_json(),
            ],
            any::<bool>(),
        ), 0..10),
    ) {
        let mut meta = Map::new();
        for (uid, split, y, has_y) in entries {
            let mut entry = Map::new();
            entry.insert("split".into(), split);
            if has_y {
                entry.insert("y".into(), y);
            }
            meta.insert(uid, Value::Object(entry));
        }
        let uids: Vec<String> = meta.keys().cloned().collect();
        let bytes = serde_json::to_vec(&meta).unwrap();
        let root = write_root(dataset, &bytes, &uids, &[]);
        check_load("data::load (arbitrary meta.json)", dataset, &root, &bytes)?;
    }

    /// Good meta.json, one representation vector damaged (lying shapes and header lengths too).
    #[test]
    fn mutated_vectors_fail_cleanly(which in any::<prop::sample::Index>(), muts in mutations()) {
        let uids: Vec<String> = gtzan_meta().keys().cloned().collect();
        let i = which.index(uids.len());
        let good = vector_npy(i);
        let seed = Seed::new("vector", good.clone()).with_fields(npy_fields(&good));
        let bytes = apply(&seed, &muts);
        let meta = serde_json::to_vec(gtzan_meta()).unwrap();
        let root = write_root("gtzan_ff", &meta, &uids, &[(i, bytes.clone())]);
        check_load("data::load (mutated .npy)", "gtzan_ff", &root, &bytes)?;
    }
}

#[test]
fn npy_regressions_stay_fixed() {
    let uids: Vec<String> = gtzan_meta().keys().cloned().collect();
    let meta = serde_json::to_vec(gtzan_meta()).unwrap();
    let n = replay_fixtures("npy", |name, bytes| {
        let root = write_root("gtzan_ff", &meta, &uids, &[(3, bytes.to_vec())]);
        check_load(&format!("fixtures/hostile/npy/{name} via data::load"), "gtzan_ff", &root, bytes)
    });
    eprintln!("{n} regression inputs replayed");
}

#[test]
fn seeds_load_unmutated() {
    let uids: Vec<String> = gtzan_meta().keys().cloned().collect();
    let root = write_root("gtzan_ff", &serde_json::to_vec(gtzan_meta()).unwrap(), &uids, &[]);
    let data = load(&DataRoots::from_cache(&root), "gtzan_ff", "rep", Some(0)).unwrap();
    assert_eq!(data.dim, DIM);
    for seed in config_seeds() {
        ProbeConfig::from_json_str(std::str::from_utf8(&seed.bytes).unwrap(), "seed").unwrap();
    }
}

/// Found by `arbitrary_meta_entries_fail_cleanly`: a uid such as `/அ/` or `../x` made `data::load`
/// read `<uid>.npy` outside the representation folder (an absolute uid replaces the folder).
#[test]
fn uids_that_are_paths_are_refused() {
    for uid in ["/அ/", "../../escape", "a/b", "./a", ""] {
        let mut meta = Map::new();
        for (u, split) in [(uid, "train"), ("v", "valid"), ("t", "test")] {
            meta.insert(u.to_string(), json!({"split": split, "y": "0"}));
        }
        let bytes = serde_json::to_vec(&meta).unwrap();
        let root = write_root("test", &bytes, &["v".to_string(), "t".to_string()], &[]);
        let err = load(&DataRoots::from_cache(&root), "test", "rep", Some(0)).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("meta.json") && msg.contains("not a plain file name"), "{uid:?}: {msg}");
    }
}

#[test]
fn config_regressions_stay_fixed() {
    let n = replay_fixtures("probe_config", |name, bytes| {
        check_config(&String::from_utf8_lossy(bytes), &format!("fixtures/hostile/probe_config/{name}"))
    });
    assert!(n >= 3, "the pinned configs are replayed ({n})");
}

#[test]
fn meta_regressions_stay_fixed() {
    let n = replay_fixtures("probe_meta", |name, bytes| {
        // Vectors only for the uids that are plain names: the test must not write outside its folder.
        let uids: Vec<String> = serde_json::from_slice::<Map<String, Value>>(bytes)
            .map(|m| m.keys().filter(|k| !k.contains('/') && !k.contains("..")).cloned().collect())
            .unwrap_or_default();
        let root = write_root("gtzan_ff", bytes, &uids, &[]);
        check_load(&format!("fixtures/hostile/probe_meta/{name} via data::load"), "gtzan_ff", &root, bytes)
    });
    assert!(n >= 1, "the pinned meta.json files are replayed ({n})");
}
