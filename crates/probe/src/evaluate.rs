//! The reference's `jukemir.probe.aggregate --evaluate test`: pick the probe with the best
//! validation `primary` among the saved runs and score it on the test split.

use crate::config::ProbeConfig;
use crate::data::{self, DataRoots};
use crate::grid::read_metrics;
use crate::model::SimpleMlp;
use crate::scaler::StandardScaler;
use crate::train::{evaluate, Metrics};
use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `probe evaluate` leaves in `evaluations/<dataset>/<representation>.json`, for
/// `jukemir report` to collect without re-scoring. It is kept out of `probes/`, whose grid folders
/// the reference scans for `*.json` configs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub dataset: String,
    pub representation: String,
    /// The uid of the best-on-valid run.
    pub uid: String,
    /// How many saved runs were compared; an evaluation is stale once this changes.
    pub num_runs: usize,
    pub valid: Metrics,
    pub test: Metrics,
}

pub fn evaluation_path(dataset: &str, representation: &str, cache_root: &Path) -> PathBuf {
    cache_root.join("evaluations").join(dataset).join(format!("{representation}.json"))
}

impl Evaluation {
    pub fn from_best(dataset: &str, representation: &str, best: &BestProbe) -> Self {
        Evaluation {
            dataset: dataset.to_string(),
            representation: representation.to_string(),
            uid: best.uid.clone(),
            num_runs: best.num_runs,
            valid: best.valid.clone(),
            test: best.test.clone(),
        }
    }

    /// Write atomically next to the runs it summarises.
    pub fn save(&self, cache_root: &Path) -> Result<PathBuf> {
        let path = evaluation_path(&self.dataset, &self.representation, cache_root);
        crate::atomic::write_atomic(&path, serde_json::to_string_pretty(self)?.as_bytes())?;
        Ok(path)
    }

    /// The saved evaluation, or `None` when there is none.
    pub fn load(dataset: &str, representation: &str, cache_root: &Path) -> Result<Option<Self>> {
        let path = evaluation_path(dataset, representation, cache_root);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let evaluation: Evaluation = serde_json::from_str(&text).with_context(|| {
            format!("{} is not an evaluation; delete it and run `jukemir probe evaluate`", path.display())
        })?;
        Ok(Some(evaluation))
    }
}

/// The saved evaluation of `dataset` / `representation` if it covers every saved run, else a
/// fresh `best_on_valid` (saved for next time).
pub fn evaluation(dataset: &str, representation: &str, cache_root: &Path) -> Result<Evaluation> {
    let runs = saved_runs(dataset, representation, cache_root)?.len();
    if let Some(saved) = Evaluation::load(dataset, representation, cache_root)? {
        if saved.num_runs == runs {
            return Ok(saved);
        }
    }
    let best = best_on_valid(dataset, representation, cache_root)?;
    let evaluation = Evaluation::from_best(dataset, representation, &best);
    evaluation.save(cache_root)?;
    Ok(evaluation)
}

#[derive(Debug, Clone)]
pub struct BestProbe {
    pub uid: String,
    pub dir: PathBuf,
    /// How many saved runs were compared (the reference expects 216).
    pub num_runs: usize,
    /// The chosen run's `metrics.json`.
    pub valid: Metrics,
    /// The chosen run's metrics on the test split.
    pub test: Metrics,
}

/// Saved runs under `<cache_root>/probes/<dataset>/<representation>/` (directories holding a
/// `metrics.json`; hidden staging directories are ignored), sorted by uid.
pub fn saved_runs(dataset: &str, representation: &str, cache_root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let root = cache_root.join("probes").join(dataset).join(representation);
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(&root).with_context(|| format!("cannot read {}", root.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        if !name.starts_with('.') && path.join("metrics.json").is_file() {
            runs.push((name, path));
        }
    }
    runs.sort();
    Ok(runs)
}

/// Pick the run with the highest validation `primary`, reload its weights and scaler, and
/// evaluate it on the test split with the training code's metrics.
///
/// Ties go to the first uid in sorted order. The reference keeps the first of `rglob` order (a
/// strict `>` over an unspecified filesystem order), so on exact ties it may pick another run.
pub fn best_on_valid(dataset: &str, representation: &str, cache_root: &Path) -> Result<BestProbe> {
    let runs = saved_runs(dataset, representation, cache_root)?;
    ensure!(!runs.is_empty(), "no saved probes for {dataset} / {representation} under {}", cache_root.display());
    let mut best: Option<(String, PathBuf, Metrics, f64)> = None;
    for (uid, dir) in &runs {
        let m = read_metrics(dir)?;
        let p = *m.get("primary").with_context(|| format!("{}/metrics.json has no `primary`", dir.display()))?;
        if best.as_ref().is_none_or(|b| p > b.3) {
            best = Some((uid.clone(), dir.clone(), m, p));
        }
    }
    let (uid, dir, valid, _) = best.expect("runs is not empty");
    let test = evaluate_saved(&dir, cache_root, "test")?;
    Ok(BestProbe { uid, dir, num_runs: runs.len(), valid, test })
}

/// Evaluate the probe saved in `dir` on `split` (`train`, `valid` or `test`) of its data.
pub fn evaluate_saved(dir: &Path, cache_root: &Path, split: &str) -> Result<Metrics> {
    let cfg = ProbeConfig::from_file(&dir.join("cfg.json"))?;
    let scaler_path = dir.join("scaler.json");
    let scaler: StandardScaler = serde_json::from_str(
        &std::fs::read_to_string(&scaler_path).with_context(|| format!("cannot read {}", scaler_path.display()))?,
    )
    .with_context(|| format!("{} is not a scaler", scaler_path.display()))?;
    let model =
        SimpleMlp::load_safetensors(&dir.join("probe.safetensors"), cfg.hidden_layer_sizes.len(), cfg.dropout_p)?;
    let data = data::load(&DataRoots::from_cache(cache_root), &cfg.dataset, &cfg.representation, cfg.seed)?;
    ensure!(scaler.dim() == data.dim, "scaler has {} features, the data {}", scaler.dim(), data.dim);
    let split = match split {
        "train" => &data.train,
        "valid" => &data.valid,
        "test" => &data.test,
        other => anyhow::bail!("unknown split `{other}`"),
    };
    let mut x = split.x.clone();
    scaler.transform(&mut x);
    evaluate(&model, &data.attrs, &cfg.dataset, split, &x, data.dim)
}
