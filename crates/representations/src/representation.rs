//! What every representation provides to the extract contract, and the registry of them.

use crate::weights::WeightOptions;
use std::path::{Path, PathBuf};

/// A way of turning one audio file into one fixed-size float32 vector.
///
/// Implementations must be deterministic and thread-safe: the contract may call
/// [`Representation::extract_file`] for many files at once.
pub trait Representation: Send + Sync {
    /// The name used on the command line and as the output folder name in the cache layout.
    fn name(&self) -> &'static str;
    /// Length of every vector this representation produces.
    fn dim(&self) -> usize;
    /// Compute the vector for the audio file at `path`. Errors describe what is wrong with the
    /// file (the contract adds the path).
    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>>;

    /// Whether one file's computation already uses every thread (Jukebox's large matrix products):
    /// the contract then processes files one after another instead of several at once.
    fn parallel_within_file(&self) -> bool {
        false
    }

    /// Sub-folders that each receive an equal part of the vector, in order (Jukebox's
    /// `--per-layer`: one folder per layer); empty (the default) writes the whole vector to
    /// `<out>/<stem>.npy`. A file counts as done when every part exists.
    fn output_parts(&self) -> Vec<String> {
        Vec::new()
    }

    /// `Some` when a file's vector depends on the other files computed with it (choi's batch
    /// norms use batch statistics). The contract then forms batches as the reference did and
    /// calls [`Representation::extract_batch`] on whole batches.
    fn batch_dependence(&self) -> Option<BatchDependence> {
        None
    }

    /// The vectors of a whole batch, in order. The default computes each file alone.
    fn extract_batch(&self, paths: &[PathBuf]) -> Result<Vec<Vec<f32>>, BatchFailure> {
        paths
            .iter()
            .enumerate()
            .map(|(index, path)| self.extract_file(path).map_err(|error| BatchFailure { file: Some(index), error }))
            .collect()
    }
}

/// How a batch-dependent representation's reference grouped its inputs: the sorted listing,
/// shuffled as Python 2's `random.seed(shuffle_seed); random.shuffle(paths)` does, cut into
/// consecutive batches of `--batch-size` files (default `default_batch_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchDependence {
    pub default_batch_size: usize,
    pub shuffle_seed: u64,
}

/// Why a batch could not be computed; `file` is the index of the input to blame, if one is.
#[derive(Debug)]
pub struct BatchFailure {
    pub file: Option<usize>,
    pub error: anyhow::Error,
}

/// Representations that can be extracted now.
pub const AVAILABLE: [&str; 6] = ["chroma", "mfcc", "musicnn", "clmr", "choi", "jukebox"];
/// Representations of the paper that this build cannot extract yet.
pub const NOT_YET_AVAILABLE: [&str; 0] = [];
/// Representations that run a pretrained network and so need [`representation_with`].
pub const NEED_WEIGHTS: [&str; 4] = ["musicnn", "clmr", "choi", "jukebox"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnknownRepresentation {
    #[error("representation {0:?} is not implemented in this version of jukemir yet (available: {avail})", avail = AVAILABLE.join(", "))]
    NotYetAvailable(String),
    #[error("unknown representation {0:?} (available: {avail})", avail = AVAILABLE.join(", "))]
    Unknown(String),
    #[error("representation {0:?} runs a pretrained network: load it with its weights (representation_with)")]
    NeedsWeights(String),
}

/// Look a representation that needs no weights up by its command-line name.
pub fn representation(name: &str) -> Result<Box<dyn Representation>, UnknownRepresentation> {
    use crate::handcrafted::{Handcrafted, HandcraftedFeature};
    match name {
        "chroma" => Ok(Box::new(Handcrafted::new(HandcraftedFeature::Chroma))),
        "mfcc" => Ok(Box::new(Handcrafted::new(HandcraftedFeature::Mfcc))),
        other if NEED_WEIGHTS.contains(&other) => Err(UnknownRepresentation::NeedsWeights(other.into())),
        other if NOT_YET_AVAILABLE.contains(&other) => Err(UnknownRepresentation::NotYetAvailable(other.into())),
        other => Err(UnknownRepresentation::Unknown(other.into())),
    }
}

/// Any available representation, loading the weights of network ones as `options` says.
pub fn representation_with(name: &str, options: &WeightOptions) -> anyhow::Result<Box<dyn Representation>> {
    use crate::musicnn::{MusicnnModel, MusicnnRepresentation};
    use anyhow::Context;
    if name != "jukebox"
        && (options.layers.is_some()
            || options.pool.is_some()
            || options.stream_weights
            || options.per_layer
            || options.device.is_some()
            || options.compute.is_some())
    {
        anyhow::bail!("--layers, --pool, --per-layer, --stream-weights, --device and --compute apply to jukebox only");
    }
    match name {
        "musicnn" => {
            let model_name = options.model.as_deref().unwrap_or(MusicnnModel::MsdMusicnnBig.name());
            let model = MusicnnModel::from_name(model_name).with_context(|| {
                let names: Vec<_> = MusicnnModel::ALL.iter().map(|m| m.name()).collect();
                format!("unknown musicnn model {model_name:?} (known: {})", names.join(", "))
            })?;
            let dir = crate::weights::musicnn_checkpoint(model.name(), options)?;
            let network = jukemir_models::musicnn::Musicnn::from_checkpoint(&dir, &model.config())?;
            Ok(Box::new(MusicnnRepresentation::new(network)))
        }
        "clmr" => {
            if let Some(model) = &options.model {
                anyhow::bail!("clmr has one model; --model {model:?} does not apply");
            }
            let path = crate::weights::clmr_checkpoint(options)?;
            let encoder = jukemir_models::sample_cnn::SampleCnn::from_checkpoint(&path)?;
            Ok(Box::new(crate::clmr::ClmrRepresentation::new(encoder)))
        }
        "choi" => {
            if let Some(model) = &options.model {
                anyhow::bail!("choi has one model; --model {model:?} does not apply");
            }
            let path = crate::weights::choi_weights(options)?;
            Ok(Box::new(crate::choi::ChoiRepresentation::from_weights(&path)?))
        }
        "jukebox" => {
            use crate::jukebox::{JukeboxConfig, JukeboxRepresentation, Pool, DEFAULT_LAYER};
            use jukemir_models::torch_legacy::LegacyCheckpoint;
            if let Some(model) = &options.model {
                anyhow::bail!("jukebox runs the 5B model; --model {model:?} does not apply");
            }
            let (vqvae_path, prior_path) = crate::weights::jukebox_checkpoints(options)?;
            let vqvae = LegacyCheckpoint::open(&vqvae_path)?;
            let prior = std::sync::Arc::new(LegacyCheckpoint::open(&prior_path)?);
            let layers = options.layers.clone().unwrap_or_else(|| vec![DEFAULT_LAYER]);
            let pool = Pool::from_name(options.pool.as_deref().unwrap_or("mean"))?;
            let config = JukeboxConfig {
                prior: jukemir_models::jukebox::prior::PriorConfig { depth: 72, ..JukeboxConfig::jukebox_5b().prior },
                ..JukeboxConfig::jukebox_5b()
            };
            let stream = options.stream_weights;
            let mut representation = JukeboxRepresentation::load(&vqvae, prior, &config, &layers, pool, stream)?
                .with_per_layer_outputs(options.per_layer);
            match (&options.device, &options.compute) {
                (Some(device), compute) => {
                    use jukemir_models::jukebox::device_prior::ComputeType;
                    let compute = ComputeType::from_name(compute.as_deref().unwrap_or("f32"))?;
                    representation = representation.on_device(device, compute)?;
                }
                (None, Some(_)) => anyhow::bail!("--compute applies with --device (the CPU kernels compute in f32)"),
                (None, None) => {}
            }
            Ok(Box::new(representation))
        }
        other => {
            if options.weights.is_some() || options.model.is_some() {
                anyhow::bail!("{other} has no weights: --weights and --model do not apply");
            }
            Ok(representation(other)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_knows_available_and_planned_names() {
        for name in AVAILABLE.into_iter().filter(|n| !NEED_WEIGHTS.contains(n)) {
            assert_eq!(representation(name).unwrap().name(), name);
        }
        assert!(matches!(representation("musicnn"), Err(UnknownRepresentation::NeedsWeights(_))));
        assert!(matches!(representation("jukebox"), Err(UnknownRepresentation::NeedsWeights(_))));
        assert!(matches!(representation("nope"), Err(UnknownRepresentation::Unknown(_))));
    }
}
