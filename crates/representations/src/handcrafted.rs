//! The reference's "handcrafted" container (chroma and mfcc), step for step: librosa.load at
//! 22050 Hz mono, peak normalisation, the librosa feature matrix, then difference moments.

use crate::moments::difference_moments;
use crate::representation::Representation;
use anyhow::Context;
use jukemir_audio::{load, peak_normalize, LoadOptions};
use ndarray::Array2;
use std::path::Path;

/// The reference's `SAMPLE_RATE`.
pub const SAMPLE_RATE: u32 = 22050;
/// The reference's `HOP_LENGTH`.
pub const HOP_LENGTH: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandcraftedFeature {
    /// `librosa.feature.chroma_cqt(y, sr=22050, hop_length=512)`: 12 rows → 72 values.
    Chroma,
    /// `librosa.feature.mfcc(y, sr=22050, hop_length=512)`: 20 rows → 120 values.
    Mfcc,
}

pub struct Handcrafted {
    feature: HandcraftedFeature,
    /// The mel filterbank, DCT and FFT plans, built once and shared by every file.
    mfcc: std::sync::OnceLock<jukemir_features::Mfcc>,
}

impl Handcrafted {
    pub fn new(feature: HandcraftedFeature) -> Self {
        Handcrafted { feature, mfcc: std::sync::OnceLock::new() }
    }

    /// The per-frame feature matrix of an already loaded, normalised 22050 Hz signal.
    pub fn feature_matrix(&self, y: &[f32]) -> anyhow::Result<Array2<f32>> {
        Ok(match self.feature {
            HandcraftedFeature::Chroma => {
                jukemir_features::chroma_cqt(y, SAMPLE_RATE, &jukemir_features::ChromaCqtParams::default())?
            }
            HandcraftedFeature::Mfcc => {
                let mfcc = match self.mfcc.get() {
                    Some(m) => m,
                    None => {
                        let built = jukemir_features::Mfcc::new(SAMPLE_RATE, &jukemir_features::MfccParams::default())?;
                        self.mfcc.get_or_init(|| built)
                    }
                };
                mfcc.compute(y)?
            }
        })
    }

    /// The representation of an already loaded 22050 Hz mono signal (normalised here).
    pub fn from_signal(&self, mut y: Vec<f32>) -> anyhow::Result<Vec<f32>> {
        peak_normalize(&mut y);
        let features = self.feature_matrix(&y)?;
        Ok(difference_moments(features.view())?)
    }
}

impl Representation for Handcrafted {
    fn name(&self) -> &'static str {
        match self.feature {
            HandcraftedFeature::Chroma => "chroma",
            HandcraftedFeature::Mfcc => "mfcc",
        }
    }

    fn dim(&self) -> usize {
        match self.feature {
            HandcraftedFeature::Chroma => 72,
            HandcraftedFeature::Mfcc => 120,
        }
    }

    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        let options = LoadOptions { sample_rate: Some(SAMPLE_RATE), ..LoadOptions::default() };
        let audio = load(path, &options)?;
        self.from_signal(audio.samples).with_context(|| format!("computing {} features", self.name()))
    }
}

/// The registry entry of a hand-made feature (`chroma.rs`, `mfcc.rs`): no weights, no options,
/// CPU-only, in the paper.
pub(crate) const fn plugin(
    name: &'static str,
    about: &'static str,
    help: &'static str,
    dim: usize,
    load: fn(&clap::ArgMatches, &crate::plugin::LoadContext) -> anyhow::Result<Box<dyn Representation>>,
) -> crate::plugin::Plugin {
    crate::plugin::Plugin {
        name,
        about,
        help,
        dim: crate::plugin::Dim::Fixed(dim),
        weights: None,
        in_paper: true,
        batch_dependence: None,
        options: crate::plugin::no_options,
        task: |_| crate::plugin::TaskResources { gpus: 0, time: "02:00:00", ..crate::plugin::DEFAULT_TASK },
        uses_gpu: crate::plugin::cpu_only,
        load,
    }
}
