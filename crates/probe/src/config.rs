//! The probe experiment configuration (the reference's `ProbeExperimentConfig`): its fields, their
//! defaults, and its uid, the sha1 of the JSON text the reference writes.

use jukemir_pycompat::json as pyjson;

pub use pyjson::{dumps_indent2_sorted, float_repr};

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};
use std::path::Path;

/// Every field the reference knows, with its default, in the reference's order.
fn defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("dataset", Value::Null),
        ("representation", Value::Null),
        ("data_standardization", json!(true)),
        ("hidden_layer_sizes", json!([])),
        ("batch_size", json!(64)),
        ("learning_rate", json!(1e-3)),
        ("dropout_input", json!(true)),
        ("dropout_p", json!(0.5)),
        ("l2_weight_decay", Value::Null),
        ("max_num_epochs", Value::Null),
        ("early_stopping_metric", json!("primary")),
        ("early_stopping", json!(true)),
        ("early_stopping_eval_frequency", json!(8)),
        ("early_stopping_boredom", json!(256)),
        ("seed", json!(0)),
    ]
}

const REQUIRED: [&str; 2] = ["dataset", "representation"];

/// The typed view of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeSettings {
    pub dataset: String,
    pub representation: String,
    pub data_standardization: bool,
    pub hidden_layer_sizes: Vec<usize>,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub dropout_input: bool,
    pub dropout_p: f64,
    pub l2_weight_decay: Option<f64>,
    pub max_num_epochs: Option<f64>,
    /// `primary`, or a metric name; a leading `-` means lower is better (e.g. `-loss`).
    pub early_stopping_metric: String,
    pub early_stopping: bool,
    pub early_stopping_eval_frequency: usize,
    pub early_stopping_boredom: usize,
    /// `None` (JSON null) draws a fresh seed, as the reference does without seeding.
    pub seed: Option<i64>,
}

/// A validated configuration. The JSON values are kept as given (`64` vs `64.0`), because the
/// reference hashes them as given.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    values: Map<String, Value>,
    settings: ProbeSettings,
}

impl std::ops::Deref for ProbeConfig {
    type Target = ProbeSettings;
    fn deref(&self) -> &ProbeSettings {
        &self.settings
    }
}

impl ProbeConfig {
    /// The defaults for one dataset and representation.
    pub fn new(dataset: &str, representation: &str) -> Self {
        let fields = Map::from_iter([
            ("dataset".to_string(), json!(dataset)),
            ("representation".to_string(), json!(representation)),
        ]);
        Self::from_fields(fields).expect("defaults are valid")
    }

    /// Build from the given fields, filling in defaults; unknown or missing required fields and
    /// ill-typed values are errors.
    pub fn from_fields(fields: Map<String, Value>) -> Result<Self> {
        for field in REQUIRED {
            if !fields.contains_key(field) {
                bail!("required field `{field}` missing");
            }
        }
        let known = defaults();
        if let Some(unknown) = fields.keys().find(|k| !known.iter().any(|(name, _)| name == k)) {
            let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
            bail!("unknown field `{unknown}` (known fields: {})", names.join(", "));
        }
        let values: Map<String, Value> = known
            .into_iter()
            .map(|(name, default)| (name.to_string(), fields.get(name).cloned().unwrap_or(default)))
            .collect();
        let settings = parse_settings(&values)?;
        Ok(Self { values, settings })
    }

    /// Parse JSON text; `source` names where it came from in error messages.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).with_context(|| format!("{source} is not valid JSON"))?;
        let Value::Object(fields) = value else {
            bail!("{source}: a probe config must be a JSON object");
        };
        Self::from_fields(fields).with_context(|| format!("invalid probe config {source}"))
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// A copy with one field replaced (validated as in [`Self::from_fields`]).
    pub fn with(&self, field: &str, value: Value) -> Result<Self> {
        let mut fields = self.values.clone();
        fields.insert(field.to_string(), value);
        Self::from_fields(fields)
    }

    /// The JSON text the reference writes (`json.dumps(cfg, indent=2, sort_keys=True)`).
    pub fn to_json(&self) -> String {
        dumps_indent2_sorted(&Value::Object(self.values.clone()))
    }

    /// The reference's uid: sha1 hex of [`Self::to_json`].
    pub fn uid(&self) -> String {
        let digest = Sha1::digest(self.to_json().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    pub fn settings(&self) -> &ProbeSettings {
        &self.settings
    }
}

/// The paper's 216-point grid (`_PAPER_GRID`), in the reference's `itertools.product` order.
pub fn paper_grid(dataset: &str, representation: &str) -> Vec<ProbeConfig> {
    let grid: [(&str, Vec<Value>); 6] = [
        ("data_standardization", vec![json!(false), json!(true)]),
        ("hidden_layer_sizes", vec![json!([]), json!([512])]),
        ("batch_size", vec![json!(64), json!(256)]),
        ("learning_rate", vec![json!(1e-5), json!(1e-4), json!(1e-3)]),
        ("dropout_p", vec![json!(0.25), json!(0.5), json!(0.75)]),
        ("l2_weight_decay", vec![Value::Null, json!(1e-4), json!(1e-3)]),
    ];
    let mut combos: Vec<Vec<(&str, Value)>> = vec![vec![]];
    for (name, options) in &grid {
        combos = combos
            .into_iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let mut c = prefix.clone();
                    c.push((name, o.clone()));
                    c
                })
            })
            .collect();
    }
    let base = ProbeConfig::new(dataset, representation);
    combos
        .into_iter()
        .map(|combo| {
            let mut fields = base.values.clone();
            fields.extend(combo.into_iter().map(|(k, v)| (k.to_string(), v)));
            ProbeConfig::from_fields(fields).expect("grid values are valid")
        })
        .collect()
}

/// Probe depth and width limits: far beyond the paper's grid (no hidden layer, or one of 512), and
/// small enough that a mistyped config fails with a message instead of an allocation of terabytes.
pub const MAX_HIDDEN_LAYERS: usize = 16;
pub const MAX_HIDDEN_WIDTH: usize = 1 << 16;

fn parse_settings(v: &Map<String, Value>) -> Result<ProbeSettings> {
    let settings = ProbeSettings {
        dataset: string(v, "dataset")?,
        representation: string(v, "representation")?,
        data_standardization: boolean(v, "data_standardization")?,
        hidden_layer_sizes: match &v["hidden_layer_sizes"] {
            Value::Array(items) if items.len() > MAX_HIDDEN_LAYERS => {
                bail!("`hidden_layer_sizes` lists {} layers; at most {MAX_HIDDEN_LAYERS} are accepted", items.len())
            }
            Value::Array(items) => items
                .iter()
                .map(|x| match as_count(x) {
                    Some(n) if n > MAX_HIDDEN_WIDTH => {
                        bail!("`hidden_layer_sizes` has a layer of {n} units; at most {MAX_HIDDEN_WIDTH} are accepted")
                    }
                    other => other.context("`hidden_layer_sizes` must be a list of positive integers"),
                })
                .collect::<Result<_>>()?,
            _ => bail!("`hidden_layer_sizes` must be a list of positive integers"),
        },
        batch_size: count(v, "batch_size")?,
        learning_rate: number(v, "learning_rate")?,
        dropout_input: boolean(v, "dropout_input")?,
        dropout_p: number(v, "dropout_p")?,
        l2_weight_decay: optional(v, "l2_weight_decay", |_| number(v, "l2_weight_decay"))?,
        max_num_epochs: optional(v, "max_num_epochs", |_| number(v, "max_num_epochs"))?,
        early_stopping_metric: string(v, "early_stopping_metric")?,
        early_stopping: boolean(v, "early_stopping")?,
        early_stopping_eval_frequency: count(v, "early_stopping_eval_frequency")?,
        early_stopping_boredom: match v["early_stopping_boredom"].as_u64() {
            Some(n) => n as usize,
            None => bail!("`early_stopping_boredom` must be a non-negative integer"),
        },
        seed: optional(v, "seed", |x| x.as_i64().context("`seed` must be an integer or null"))?,
    };
    if !(0.0..1.0).contains(&settings.dropout_p) {
        bail!("`dropout_p` must be in [0, 1), got {}", settings.dropout_p);
    }
    Ok(settings)
}

fn string(v: &Map<String, Value>, k: &str) -> Result<String> {
    v[k].as_str().map(str::to_string).with_context(|| format!("`{k}` must be a string"))
}

fn boolean(v: &Map<String, Value>, k: &str) -> Result<bool> {
    v[k].as_bool().with_context(|| format!("`{k}` must be true or false"))
}

fn number(v: &Map<String, Value>, k: &str) -> Result<f64> {
    v[k].as_f64().with_context(|| format!("`{k}` must be a number"))
}

fn as_count(x: &Value) -> Option<usize> {
    x.as_u64().filter(|&n| n > 0).map(|n| n as usize)
}

fn count(v: &Map<String, Value>, k: &str) -> Result<usize> {
    as_count(&v[k]).with_context(|| format!("`{k}` must be a positive integer"))
}

fn optional<T>(v: &Map<String, Value>, k: &str, f: impl Fn(&Value) -> Result<T>) -> Result<Option<T>> {
    match &v[k] {
        Value::Null => Ok(None),
        x => f(x).map(Some),
    }
}
