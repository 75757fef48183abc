//! What OpenAI's published 5B checkpoints must hold. No checksum or size was ever published for
//! `vqvae.pth.tar` and `prior_level_2.pth.tar`, so a download is verified by its structure: the
//! file parses as a legacy `torch.save` archive whose every tensor storage lies inside the file (a
//! truncated download fails here), and every tensor the representation reads is there with the 5B
//! model's shape.

use super::conditioning::{Conditioning, ConditioningConfig};
use super::encoder::{EncoderConfig, JukeboxEncoder};
use super::prior::{tensor_shapes, PriorConfig};
use super::TensorSource;
use crate::torch_legacy::LegacyCheckpoint;
use std::path::Path;

/// The published checkpoint files, by the name the weight registry gives their structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishedCheckpoint {
    /// `5b/vqvae.pth.tar`: the VQ-VAE (its level-2 encoder and bottleneck are used).
    Vqvae5b,
    /// `5b/prior_level_2.pth.tar`: the top-level prior, all 72 layers.
    Prior5b,
}

impl PublishedCheckpoint {
    pub const ALL: [PublishedCheckpoint; 2] = [PublishedCheckpoint::Vqvae5b, PublishedCheckpoint::Prior5b];

    pub fn name(self) -> &'static str {
        match self {
            PublishedCheckpoint::Vqvae5b => "jukebox-5b-vqvae",
            PublishedCheckpoint::Prior5b => "jukebox-5b-prior",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// `Err` describes the first thing wrong with the file at `path`.
    pub fn verify(self, path: &Path) -> Result<(), String> {
        match self {
            PublishedCheckpoint::Vqvae5b => verify_vqvae(path, &EncoderConfig::jukebox_5b()),
            PublishedCheckpoint::Prior5b => verify_prior(
                path,
                &PriorConfig { depth: 72, ..PriorConfig::jukebox_5b() },
                &ConditioningConfig::jukebox_5b(),
            ),
        }
    }
}

fn open(path: &Path) -> Result<LegacyCheckpoint, String> {
    LegacyCheckpoint::open(path).map_err(|e| format!("not a complete legacy PyTorch checkpoint: {e}"))
}

/// The level-2 encoder and bottleneck of a VQ-VAE checkpoint load with `config`'s shapes.
pub fn verify_vqvae(path: &Path, config: &EncoderConfig) -> Result<(), String> {
    let checkpoint = open(path)?;
    JukeboxEncoder::load(&checkpoint, config).map(|_| ()).map_err(|e| format!("{e:#}"))
}

/// Every prior layer of `config` is present with its shape (values are not read: 10 GB), and the
/// label conditioning loads.
pub fn verify_prior(path: &Path, config: &PriorConfig, conditioning: &ConditioningConfig) -> Result<(), String> {
    let checkpoint = open(path)?;
    for (name, expected) in tensor_shapes(config) {
        let shape = checkpoint.shape(&name).map_err(|_| format!("no tensor {name}"))?;
        if shape != expected {
            return Err(format!("tensor {name} has shape {shape:?}, the 5B model's is {expected:?}"));
        }
    }
    Conditioning::load(&checkpoint, conditioning).map(|_| ()).map_err(|e| format!("{e:#}"))
}
