//! The reference's `ProbeExperiment.train`: Adam on random minibatches, with early stopping on a
//! validation metric, then `save` under `probes/<dataset>/<representation>/<uid>/`.

pub mod eval;
pub mod group;
pub(crate) mod kernels;
pub mod loss;
mod save;

pub use eval::{evaluate, Metrics};
pub use save::{probe_dir, save};

use crate::adam::Adam;
use crate::config::ProbeConfig;
use crate::data::{self, DataRoots, ProbeData, PyRandom};
use crate::model::SimpleMlp;
use crate::scaler::StandardScaler;
use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Reported at every early-stopping evaluation.
#[derive(Debug, Clone)]
pub struct Progress {
    pub step: usize,
    pub epoch: f64,
    pub score: f64,
    pub best_score: f64,
    pub boredom: usize,
}

pub struct TrainedProbe {
    pub cfg: ProbeConfig,
    pub scaler: StandardScaler,
    pub model: SimpleMlp,
    pub steps: usize,
    /// Floating-point operations of the training and evaluation products (0 when not counted).
    pub flops: f64,
    /// Metrics of the final weights on the validation split (what `metrics.json` holds).
    pub valid_metrics: Metrics,
}

/// Train one probe. Batches are drawn with CPython's `random.sample`, seeded as the reference
/// seeds it, so the same example indices are used step by step; initialisation and dropout come
/// from a ChaCha8 generator seeded with the same seed (torch's generator is not reproduced).
///
/// Probes with at most one hidden layer (the paper's grid) train on the grouped trainer's
/// kernels as a group of one; deeper ones through candle's autograd ([`train_graph`]).
pub fn train(cfg: &ProbeConfig, data: &ProbeData, on_eval: &mut dyn FnMut(&Progress)) -> Result<TrainedProbe> {
    if !group::supports(cfg) {
        return train_graph(cfg, data, on_eval);
    }
    let mut trained = None;
    group::train_group(std::slice::from_ref(cfg), data, &|| 1, &mut |_, p| on_eval(p), &mut |_, t| {
        trained = Some(t);
        Ok(())
    })?;
    trained.context("the trainer stopped without a probe")
}

/// [`train`] through candle's autograd graph, for any depth: the general (and slower) path.
pub fn train_graph(cfg: &ProbeConfig, data: &ProbeData, on_eval: &mut dyn FnMut(&Progress)) -> Result<TrainedProbe> {
    if !cfg.early_stopping && cfg.max_num_epochs.is_none() {
        bail!("no termination criteria: set `early_stopping` or `max_num_epochs`");
    }
    crate::denormals::flush_denormals_on_this_thread();
    let mut py = cfg.seed.map_or_else(data::fresh_random, PyRandom::new);
    let mut rng = cfg.seed.map_or_else(ChaCha8Rng::from_os_rng, |s| ChaCha8Rng::seed_from_u64(s as u64));
    let (dim, attrs, k) = (data.dim, data.attrs, data.attrs.num_outputs);
    let model = SimpleMlp::new(dim, &cfg.hidden_layer_sizes, k, cfg.dropout_p, &mut rng)?;
    let vars = model.vars().into_iter().cloned().collect();
    let mut opt = Adam::new(vars, cfg.learning_rate, cfg.l2_weight_decay.unwrap_or(0.0))?;

    let (scaler, x_train, x_valid) = standardised(data, cfg.data_standardization);
    let n = data.train.len();
    let batch = cfg.batch_size.min(n);

    let mut step = 0usize;
    let mut best = f64::NEG_INFINITY;
    let mut boredom = 0usize;
    let mut best_state: Option<Vec<Tensor>> = None;
    loop {
        let epoch = (step * cfg.batch_size) as f64 / n as f64;
        // As the reference, stopping on the epoch limit keeps the last weights, not the best.
        if cfg.max_num_epochs.is_some_and(|max| epoch > max) {
            break;
        }
        if cfg.early_stopping && step.is_multiple_of(cfg.early_stopping_eval_frequency) {
            if boredom >= cfg.early_stopping_boredom {
                if let Some(state) = &best_state {
                    model.restore(state)?;
                }
                break;
            }
            let metrics = evaluate(&model, &attrs, &cfg.dataset, &data.valid, &x_valid, dim)?;
            let score = eval::score(&metrics, &cfg.early_stopping_metric)?;
            if score.is_nan() {
                bail!("validation score is NaN at step {step}");
            }
            if score > best {
                best = score;
                boredom = 0;
                best_state = Some(model.snapshot()?);
            } else {
                boredom += 1;
            }
            on_eval(&Progress { step, epoch, score, best_score: best, boredom });
        }

        let idxs = py.sample_indices(n, batch);
        let yb = loss::targets_tensor(&data.train.targets, &idxs, k)?;
        let logits = model.forward_train_rows(&x_train, dim, &idxs, &mut rng)?;
        let l = loss::compute_loss(attrs.output_type, &logits, &yb)?;
        opt.step(&l.backward()?)?;
        step += 1;
    }
    let valid_metrics = evaluate(&model, &attrs, &cfg.dataset, &data.valid, &x_valid, dim)?;
    Ok(TrainedProbe { cfg: cfg.clone(), scaler, model, steps: step, flops: 0.0, valid_metrics })
}

/// The scaler fitted on the training split (mean and std both on or both off), and the training
/// and validation features through it.
pub(crate) fn standardised(data: &ProbeData, standardize: bool) -> (StandardScaler, Vec<f32>, Vec<f32>) {
    let scaler = StandardScaler::fit(&data.train.x, data.dim, standardize, standardize);
    let mut x_train = data.train.x.clone();
    scaler.transform(&mut x_train);
    let mut x_valid = data.valid.x.clone();
    scaler.transform(&mut x_valid);
    (scaler, x_train, x_valid)
}

/// Load the data under `cache_root`, train, and save into `<cache_root>/probes`: the reference's
/// `execute_probe_experiment`. Returns the probe and its directory.
pub fn execute(
    cfg: &ProbeConfig,
    cache_root: &Path,
    on_eval: &mut dyn FnMut(&Progress),
) -> Result<(TrainedProbe, PathBuf)> {
    let data = data::load(&DataRoots::from_cache(cache_root), &cfg.dataset, &cfg.representation, cfg.seed)?;
    let trained = train(cfg, &data, on_eval)?;
    let dir = save(&trained, &cache_root.join("probes"))?;
    Ok((trained, dir))
}
