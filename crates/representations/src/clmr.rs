//! The reference's CLMR container: `librosa.core.load(path, sr=22050)`, 59409-sample frames cut as
//! `torch.split` cuts them with the last piece always dropped, the SampleCNN encoder without its
//! head, and the mean over frames (512 values).
//!
//! 59409 is the reference's constant; SampleCNN's receptive field is 59049 (3^10), and any frame of
//! 59049–118097 samples yields one 512-vector, so the reference's value is kept for parity.

use crate::representation::Representation;
use anyhow::{bail, Context};
use jukemir_audio::{load, LoadOptions};
use jukemir_models::sample_cnn::SampleCnn;
use std::path::Path;

pub const SAMPLE_RATE: u32 = 22050;
pub const FRAME_LENGTH: usize = 59409;

pub struct ClmrRepresentation {
    encoder: SampleCnn,
}

impl ClmrRepresentation {
    pub fn new(encoder: SampleCnn) -> Self {
        ClmrRepresentation { encoder }
    }

    /// How many frames the reference feeds the encoder for `samples` samples: `torch.split`'s
    /// pieces minus the last, or an error when that leaves none.
    pub fn frame_count(samples: usize) -> anyhow::Result<usize> {
        let pieces = samples.div_ceil(FRAME_LENGTH).max(1);
        if pieces <= 1 {
            bail!(
                "audio too short for clmr: {samples} samples at {SAMPLE_RATE} Hz; the reference drops the last \
                 {FRAME_LENGTH}-sample piece, so it needs more than {FRAME_LENGTH} samples ({:.2} s)",
                FRAME_LENGTH as f64 / SAMPLE_RATE as f64
            );
        }
        Ok(pieces - 1)
    }

    /// The representation of a 22050 Hz mono signal.
    pub fn from_signal(&self, y: &[f32]) -> anyhow::Result<Vec<f32>> {
        let frames = Self::frame_count(y.len())?;
        let width = self.encoder.config().out_channels();
        let mut sum = vec![0f64; width];
        // One frame at a time: memory stays at one frame's activations (≈ 10 MB in the first block).
        for frame in y.chunks_exact(FRAME_LENGTH).take(frames) {
            let row = self.encoder.forward_frame(frame);
            if row.len() != width {
                bail!("the encoder gave {} values per frame, expected {width}", row.len());
            }
            for (s, v) in sum.iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        Ok(sum.into_iter().map(|s| (s / frames as f64) as f32).collect())
    }
}

impl Representation for ClmrRepresentation {
    fn name(&self) -> &'static str {
        "clmr"
    }

    fn dim(&self) -> usize {
        self.encoder.config().out_channels()
    }

    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        let options = LoadOptions { sample_rate: Some(SAMPLE_RATE), ..Default::default() };
        let audio = load(path, &options).context("cannot load the audio")?;
        self.from_signal(&audio.samples)
    }
}

pub static PLUGIN: crate::plugin::Plugin = crate::plugin::Plugin {
    name: "clmr",
    about: "CLMR's contrastive SampleCNN encoder, mean over frames (512 values)",
    help: "CLMR's SampleCNN encoder on 59409-sample frames at 22050 Hz (the last piece dropped), mean over \
           frames: 512 values. Weights: --weights clmr_epoch=10000.ckpt (CLMR release 2.1, \
           clmr_magnatagatune_mlp.zip), or that file under <cache>/weights/clmr/",
    dim: crate::plugin::Dim::Fixed(512),
    weights: Some("--weights clmr_epoch=10000.ckpt (CLMR release 2.1), or that file under <cache>/weights/clmr/"),
    in_paper: true,
    batch_dependence: None,
    options: crate::plugin::no_options,
    task: |_| crate::plugin::DEFAULT_TASK,
    uses_gpu: crate::plugin::cpu_only,
    load: |_, context| {
        let path = crate::weights::clmr_checkpoint(context)?;
        Ok(Box::new(ClmrRepresentation::new(SampleCnn::from_checkpoint(&path)?)))
    },
};
