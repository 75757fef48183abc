//! Validation metrics for early stopping and `metrics.json`.

use crate::data::{DatasetAttrs, OutputType, Split, Targets};
use crate::metrics;
use crate::metrics::ensemble::SongGroups;
use crate::model::SimpleMlp;
use anyhow::{bail, ensure, Context, Result};
use candle_core::{Device, Tensor};
use ndarray::{Array2, ArrayView2};
use std::collections::BTreeMap;

pub type Metrics = BTreeMap<String, f64>;

/// Logits for already-standardised rows, in eval mode (no dropout).
pub fn logits(model: &SimpleMlp, x: &[f32], dim: usize) -> Result<Vec<f32>> {
    let n = x.len() / dim;
    let t = Tensor::from_slice(x, (n, dim), &Device::Cpu)?;
    Ok(model.forward(&t, None)?.flatten_all()?.to_vec1::<f32>()?)
}

/// `loss`, the task metrics and `primary`, for a split whose `x` is already standardised.
pub fn evaluate(
    model: &SimpleMlp,
    attrs: &DatasetAttrs,
    dataset: &str,
    split: &Split,
    x: &[f32],
    dim: usize,
) -> Result<Metrics> {
    evaluate_logits(attrs, dataset, split, &logits(model, x, dim)?)
}

/// [`evaluate`] from the split's logits (`n × num_outputs`, row-major).
pub fn evaluate_logits(attrs: &DatasetAttrs, dataset: &str, split: &Split, out: &[f32]) -> Result<Metrics> {
    SplitScorer::new(attrs, dataset, split)?.metrics(out)
}

/// The metrics of one split, with what does not depend on the logits (labels, song groups)
/// prepared once: a trainer scores its validation split hundreds of times.
pub struct SplitScorer<'a> {
    attrs: DatasetAttrs,
    dataset: &'a str,
    split: &'a Split,
    /// giantsteps_clips: the clips' labels and their songs.
    songs: Option<(Vec<usize>, SongGroups)>,
}

impl<'a> SplitScorer<'a> {
    pub fn new(attrs: &DatasetAttrs, dataset: &'a str, split: &'a Split) -> Result<Self> {
        let songs = match (&split.targets, dataset) {
            (Targets::Classes(c), "giantsteps_clips") => {
                let labels: Vec<usize> = c.iter().map(|&y| y as usize).collect();
                let groups = SongGroups::new(&split.uids, &labels, attrs.num_outputs)?;
                Some((labels, groups))
            }
            _ => None,
        };
        Ok(Self { attrs: *attrs, dataset, split, songs })
    }

    /// `loss`, the task metrics and `primary` of the split's logits.
    pub fn metrics(&self, out: &[f32]) -> Result<Metrics> {
        self.compute(out, true)
    }

    /// The early-stopping score ([`score`]) of the split's logits, computing only what `metric`
    /// needs (the loss is skipped unless asked for: at every validation it was a tenth of a
    /// 72-dim grid's time).
    pub fn score(&self, out: &[f32], metric: &str) -> Result<f64> {
        let name = metric.strip_prefix('-').unwrap_or(metric);
        let m = self.compute(out, name == "loss")?;
        if m.contains_key(name) {
            return score(&m, metric);
        }
        // An unknown metric: the error lists every metric, the loss included.
        score(&self.metrics(out)?, metric)
    }

    /// The task metrics and `primary`, and `loss` if `with_loss`.
    fn compute(&self, out: &[f32], with_loss: bool) -> Result<Metrics> {
        let (n, k) = (self.split.len(), self.attrs.num_outputs);
        ensure!(out.len() == n * k, "{} logits for {n} examples of {k} outputs", out.len());
        let mut m = Metrics::new();
        if with_loss {
            m.insert("loss".into(), super::kernels::loss_value(self.attrs.output_type, &self.split.targets, k, out));
        }
        let primary = self.task_metrics(out, &mut m)?;
        let value = *m.get(primary).context("primary metric missing")?;
        m.insert("primary".into(), value);
        Ok(m)
    }

    /// The task metrics through `crate::metrics`. Returns the name of the primary metric.
    ///
    /// giantsteps_clips is scored per song, as the reference does: clip logits are ensembled by
    /// each strategy, and the strategy with the best MIREX score on this split supplies `accuracy`
    /// and `score` (the primary). During training this split is valid, where the reference picks it.
    fn task_metrics(&self, out: &[f32], m: &mut Metrics) -> Result<&'static str> {
        let k = self.attrs.num_outputs;
        let n = out.len() / k;
        let logits = ArrayView2::from_shape((n, k), out)?;
        match (self.attrs.output_type, &self.split.targets, &self.songs) {
            (OutputType::Multiclass, _, Some((labels, groups))) => {
                let gm = metrics::ensemble::giantsteps_metrics_of(groups, logits, labels)?;
                m.insert("clip_accuracy".into(), gm.clip.accuracy);
                m.insert("clip_score".into(), gm.clip.score);
                for strategy in metrics::ensemble::Strategy::ALL {
                    let scored = gm.ensemble(strategy);
                    m.insert(format!("ensemble_{}_accuracy", strategy.name()), scored.accuracy);
                    m.insert(format!("ensemble_{}_score", strategy.name()), scored.score);
                }
                let best = gm.ensemble(gm.best_strategy());
                m.insert("accuracy".into(), best.accuracy);
                m.insert("score".into(), best.score);
                Ok("score")
            }
            (OutputType::Multiclass, Targets::Classes(c), None) => {
                let labels: Vec<usize> = c.iter().map(|&y| y as usize).collect();
                m.insert("accuracy".into(), metrics::accuracy(logits, &labels)?);
                Ok("accuracy")
            }
            (OutputType::Regression, Targets::Matrix(y), _) => {
                let r2 = metrics::r2(ArrayView2::from_shape((n, k), y.as_slice())?, logits)?;
                m.insert("r2".into(), r2.uniform);
                if self.dataset == "emomusic" {
                    m.insert("arousal_r2".into(), r2.per_output[0]);
                    m.insert("valence_r2".into(), r2.per_output[1]);
                }
                Ok("r2")
            }
            (OutputType::Multilabel, Targets::Matrix(y), _) => {
                // As the reference, scores are float32 sigmoids (which can tie where logits do not).
                let probs = logits.mapv(|v| 1.0 / (1.0 + (-v).exp()));
                let truth = Array2::from_shape_vec((n, k), y.iter().map(|&v| v as u8).collect())?;
                m.insert("auc_roc".into(), metrics::roc_auc_macro(truth.view(), probs.view())?);
                m.insert("ap".into(), metrics::average_precision_macro(truth.view(), probs.view())?);
                Ok("auc_roc")
            }
            _ => bail!("targets do not match the dataset's output type"),
        }
    }
}

/// The early-stopping score: `metric` (or `-metric`, negated) from `m`.
pub fn score(m: &Metrics, metric: &str) -> Result<f64> {
    let (sign, name) = match metric.strip_prefix('-') {
        Some(name) => (-1.0, name),
        None => (1.0, metric),
    };
    match m.get(name) {
        Some(v) => Ok(sign * v),
        None => bail!(
            "early_stopping_metric `{metric}`: no metric `{name}` (available: {})",
            m.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset_attrs;

    #[test]
    fn giantsteps_clips_are_scored_per_song_with_the_best_strategy() {
        let attrs = dataset_attrs("giantsteps_clips").unwrap();
        // Song a (label 0): both clips say 0. Song b (label 7): one clip says 7 strongly, one says
        // 0 weakly, so max and mean pick 7 while the tied vote picks 0; the best strategy wins.
        let uids: Vec<String> = ["a-0", "a-1", "b-0", "b-1"].map(String::from).to_vec();
        let mut out = vec![0f32; 4 * 24];
        out[0] = 5.0;
        out[24] = 5.0;
        out[2 * 24 + 7] = 9.0;
        out[3 * 24] = 1.0;
        let split = Split { uids, x: vec![], raw_y: vec![], targets: Targets::Classes(vec![0, 0, 7, 7]) };
        let mut m = Metrics::new();
        let scorer = SplitScorer::new(&attrs, "giantsteps_clips", &split).unwrap();
        let primary = scorer.task_metrics(&out, &mut m).unwrap();
        assert_eq!(primary, "score");
        assert_eq!(m["score"], 1.0);
        assert_eq!(m["accuracy"], 1.0);
        // Per clip, b-1 is wrong (0 is a fifth below 7: no credit in mir_eval's direction).
        assert_eq!(m["clip_accuracy"], 0.75);
        assert!(m.contains_key("ensemble_vote_score") && m.contains_key("ensemble_mean_score"));
    }
}
