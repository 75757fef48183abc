//! The reference's choi container (jukemir `representations/choi/main.py`, Python 2 + Keras 1.2.2 +
//! Theano): 29 s of audio at 12 kHz as librosa 0.4.0 loads it, tiled to 348 000 samples when
//! shorter, run through Choi et al.'s convnet in batches, each block's output averaged (160 values).
//!
//! The network's batch norms use the statistics of the batch being computed, so a file's vector
//! depends on the files it is batched with. The contract reproduces the reference's batches: the
//! sorted listing, shuffled by Python 2's `random.seed(0); random.shuffle`, cut into batches of
//! `--batch-size` (default 256). `docs/choi.md` has the derivation of every step.

use crate::representation::{BatchDependence, BatchFailure, Representation};
use anyhow::{bail, Context};
use jukemir_audio::{decode, f32_to_i16, librosa040_resample, probe};
use jukemir_models::choi::{ChoiConvnet, Config};
use jukemir_models::keras_hdf5::KerasWeights;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub const SAMPLE_RATE: u32 = 12000;
/// librosa.load's `duration`.
pub const SECONDS: f64 = 29.0;
/// `12000 · 29`: every network input row has this many samples.
pub const INPUT_SAMPLES: usize = 348_000;
/// The reference container's `--batch_size` default.
pub const DEFAULT_BATCH_SIZE: usize = 256;
/// The reference's batches: the sorted listing shuffled with Python 2's `random.seed(0)`.
pub const BATCH_DEPENDENCE: BatchDependence =
    BatchDependence { default_batch_size: DEFAULT_BATCH_SIZE, shuffle_seed: 0 };

pub struct ChoiRepresentation {
    network: ChoiConvnet,
}

impl ChoiRepresentation {
    pub fn new(network: ChoiConvnet) -> Self {
        ChoiRepresentation { network }
    }

    /// Loads `weights_layer4_theano.hdf5`. The reference loads `weights_layer{i}` for the model
    /// that stops after block i; those files hold the same values, and any of them lying next to
    /// `path` is checked to, so that one pass through layer 4's network stands for all five.
    pub fn from_weights(path: &Path) -> anyhow::Result<Self> {
        let weights = KerasWeights::open(path)?;
        let network = ChoiConvnet::load(&weights, &Config::choi())
            .with_context(|| format!("cannot load the choi network from {}", path.display()))?;
        if let Some(dir) = path.parent() {
            for layer in 0..4 {
                let companion = dir.join(format!("weights_layer{layer}_theano.hdf5"));
                if companion.is_file() && companion != path {
                    check_same_values(&companion, &weights, path)?;
                }
            }
        }
        Ok(ChoiRepresentation { network })
    }

    pub fn network(&self) -> &ChoiConvnet {
        &self.network
    }

    /// One network input row, as the reference's `_load_audio(path)` makes it from the mono 16-bit
    /// WAV it was given: the first `round(29·sr)` samples at the native rate, as int16 / 32768,
    /// FFT-resampled to 12 kHz (`scipy.signal.resample`, to `ceil(n·12000/sr)` samples), then cut
    /// to 348 000 samples, or tiled (repeated, not zero-padded) up to it.
    pub fn load_input(path: &Path) -> anyhow::Result<Vec<f32>> {
        let info = probe(path)?;
        let keep = (f64::from(info.sample_rate) * SECONDS).round() as u64;
        let audio = decode(path, 0, Some(keep))?;
        // The reference read a WAV that ffmpeg had written as mono 16-bit (`-ac 1`).
        let pcm: Vec<f32> = audio.to_mono().into_iter().map(|x| f32::from(f32_to_i16(x)) * (1.0 / 32768.0)).collect();
        let resampled = librosa040_resample(&pcm, audio.sample_rate, SAMPLE_RATE);
        if resampled.is_empty() {
            bail!("no audio to compute choi from");
        }
        Ok(resampled.iter().copied().cycle().take(INPUT_SAMPLES).collect())
    }

    /// The representations of a batch of input rows (see [`Self::load_input`]), in order.
    pub fn from_inputs(&self, rows: &[Vec<f32>]) -> anyhow::Result<Vec<Vec<f32>>> {
        let rows: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        Ok(self.network.forward_batch(&rows, None)?.representations)
    }
}

/// Refuses a companion weight file whose values differ from the ones in use.
fn check_same_values(companion: &Path, reference: &KerasWeights, reference_path: &Path) -> anyhow::Result<()> {
    let other = KerasWeights::open(companion)?;
    let differs = |what: String| {
        anyhow::anyhow!(
            "{} and {} should hold the same weights but {what}; re-fetch them with `jukemir weights fetch choi`",
            companion.display(),
            reference_path.display()
        )
    };
    for layer in other.layer_names() {
        for (name, tensor) in other.weights(layer).unwrap_or_default() {
            let Some(ours) = reference.weight(layer, name) else {
                return Err(differs(format!("only the first has {layer}/{name}")));
            };
            let same = tensor.dims() == ours.dims()
                && tensor.flatten_all()?.to_vec1::<f32>()? == ours.flatten_all()?.to_vec1::<f32>()?;
            if !same {
                return Err(differs(format!("{layer}/{name} differs")));
            }
        }
    }
    Ok(())
}

impl Representation for ChoiRepresentation {
    fn name(&self) -> &'static str {
        "choi"
    }

    fn dim(&self) -> usize {
        self.network.config().dim()
    }

    /// The vector this file gets in a batch of its own.
    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        let row = Self::load_input(path)?;
        Ok(self.from_inputs(&[row])?.remove(0))
    }

    fn batch_dependence(&self) -> Option<BatchDependence> {
        Some(BATCH_DEPENDENCE)
    }

    fn extract_batch(&self, paths: &[PathBuf]) -> Result<Vec<Vec<f32>>, BatchFailure> {
        let rows = paths
            .par_iter()
            .enumerate()
            .map(|(index, path)| Self::load_input(path).map_err(|error| BatchFailure { file: Some(index), error }))
            .collect::<Result<Vec<_>, _>>()?;
        self.from_inputs(&rows).map_err(|error| BatchFailure { file: None, error })
    }
}

pub static PLUGIN: crate::plugin::Plugin = crate::plugin::Plugin {
    name: "choi",
    about: "Choi et al. 2017's convnet tagger, each block averaged (160 values; batch-dependent)",
    help: "Choi et al. 2017's Keras convnet on 29 s at 12 kHz (librosa 0.4.0's FFT resampling; shorter clips \
           tiled), each of its 5 blocks averaged: 160 values. Weights: `jukemir weights fetch choi`, or --weights \
           with weights_layer4_theano.hdf5 or its folder. Its batch norms use batch statistics, so a file's vector \
           depends on its batch. As the reference did, the sorted inputs are shuffled (Python 2's random.seed(0)) \
           and cut into batches of --batch-size (default 256; --batch-idx then picks one of these batches), each \
           computed whole: the same folder and batch size give the reference's vectors; another folder listing \
           gives other batches",
    dim: crate::plugin::Dim::Fixed(160),
    weights: Some("`jukemir weights fetch choi`, or --weights with weights_layer4_theano.hdf5 or its folder"),
    in_paper: true,
    batch_dependence: Some(BATCH_DEPENDENCE),
    options: crate::plugin::no_options,
    task: |_| crate::plugin::TaskResources { batch_size: DEFAULT_BATCH_SIZE, ..crate::plugin::DEFAULT_TASK },
    uses_gpu: crate::plugin::cpu_only,
    load: |_, context| Ok(Box::new(ChoiRepresentation::from_weights(&crate::weights::choi_weights(context)?)?)),
};
