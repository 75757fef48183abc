//! The reference's musicnn container: `musicnn.extractor.extractor(path, model, extract_features=True)`
//! and the concatenation of the clip means of its `mean_pool` and `max_pool` features.
//!
//! Input preparation follows `musicnn` 0.1.0's `batch_data`: `librosa.load(path, sr=16000)`, a
//! mel power spectrogram (n_fft 512, hop 256, 96 bands), **rounded to float16**, then
//! `log10(10000·x + 1)` in float32 (numpy 1.x promotes float16 × int to float32), cut into
//! non-overlapping 187-frame (3 s) patches; the last partial patch is dropped. Each patch is run
//! alone (the reference's batch size is 1), so results do not depend on batching.

use crate::representation::Representation;
use anyhow::{bail, Context};
use candle_core::{Device, Tensor};
use jukemir_audio::{load, LoadOptions};
use jukemir_features::{MelNorm, MelParams, MelSpectrogram, MelSpectrogramParams, StftParams};
use jukemir_models::musicnn::{Config, Musicnn};
use std::path::Path;

pub const SAMPLE_RATE: u32 = 16000;
pub const N_FFT: usize = 512;
pub const HOP_LENGTH: usize = 256;
pub const N_MELS: usize = 96;
/// `librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1`.
pub const PATCH_FRAMES: usize = 187;

/// The published musicnn models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MusicnnModel {
    MsdMusicnn,
    MttMusicnn,
    /// The paper's model; its weights are not in the PyPI wheel.
    MsdMusicnnBig,
}

impl MusicnnModel {
    pub const ALL: [MusicnnModel; 3] =
        [MusicnnModel::MsdMusicnnBig, MusicnnModel::MsdMusicnn, MusicnnModel::MttMusicnn];

    /// The folder name in the `musicnn` package (and the reference's `model=` argument).
    pub fn name(self) -> &'static str {
        match self {
            MusicnnModel::MsdMusicnn => "MSD_musicnn",
            MusicnnModel::MttMusicnn => "MTT_musicnn",
            MusicnnModel::MsdMusicnnBig => "MSD_musicnn_big",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn config(self) -> Config {
        match self {
            MusicnnModel::MsdMusicnnBig => Config::musicnn_big(),
            _ => Config::musicnn(),
        }
    }
}

/// The log-mel input of the reference: `(frames, 96)` values, row-major.
pub struct LogMel {
    pub frames: usize,
    pub values: Vec<f32>,
}

/// Mel power spectrogram → float16 → `log10(10000·x + 1)`, laid out `(time, mel)`.
pub fn log_mel(mel: &MelSpectrogram, y: &[f32]) -> anyhow::Result<LogMel> {
    let s = mel.compute(y)?;
    let frames = s.ncols();
    let mut values = Vec::with_capacity(frames * N_MELS);
    for t in 0..frames {
        for m in 0..N_MELS {
            let rounded = half::f16::from_f32(s[[m, t]]).to_f32();
            values.push((10000.0f32 * rounded + 1.0).log10());
        }
    }
    Ok(LogMel { frames, values })
}

pub fn mel_spectrogram() -> MelSpectrogram {
    let params = MelSpectrogramParams {
        stft: StftParams::new(N_FFT).hop_length(HOP_LENGTH),
        power: 2.0,
        mel: MelParams { n_mels: N_MELS, fmin: 0.0, fmax: None, htk: false, norm: MelNorm::Slaney },
        ..Default::default()
    };
    MelSpectrogram::new(SAMPLE_RATE, &params).expect("the musicnn mel parameters are valid")
}

pub struct MusicnnRepresentation {
    model: Musicnn,
    mel: MelSpectrogram,
}

impl MusicnnRepresentation {
    pub fn new(model: Musicnn) -> Self {
        MusicnnRepresentation { model, mel: mel_spectrogram() }
    }

    pub fn network(&self) -> &Musicnn {
        &self.model
    }

    /// The representation of a 16 kHz mono signal.
    pub fn from_signal(&self, y: &[f32]) -> anyhow::Result<Vec<f32>> {
        let log_mel = log_mel(&self.mel, y)?;
        self.from_log_mel(&log_mel)
    }

    /// Mean over patches of `mean_pool`, then of `max_pool`, concatenated.
    pub fn from_log_mel(&self, log_mel: &LogMel) -> anyhow::Result<Vec<f32>> {
        let patches = log_mel.frames / PATCH_FRAMES;
        if patches == 0 {
            bail!(
                "audio too short for musicnn: {} spectrogram frames, one 3-s patch needs {PATCH_FRAMES} ({:.2} s at \
                 {SAMPLE_RATE} Hz)",
                log_mel.frames,
                ((PATCH_FRAMES - 1) * HOP_LENGTH) as f64 / SAMPLE_RATE as f64
            );
        }
        let width = self.model.config().pooled_width();
        let (mut mean, mut max) = (vec![0f64; width], vec![0f64; width]);
        for p in 0..patches {
            let start = p * PATCH_FRAMES * N_MELS;
            let patch = log_mel.values[start..start + PATCH_FRAMES * N_MELS].to_vec();
            let patch = Tensor::from_vec(patch, (1, PATCH_FRAMES, N_MELS), &Device::Cpu)?;
            let features = self.model.forward(&patch)?;
            for (acc, pooled) in [(&mut mean, &features.mean_pool), (&mut max, &features.max_pool)] {
                for (a, v) in acc.iter_mut().zip(pooled.squeeze(0)?.to_vec1::<f32>()?) {
                    *a += f64::from(v);
                }
            }
        }
        Ok(mean.iter().chain(&max).map(|&v| (v / patches as f64) as f32).collect())
    }
}

impl Representation for MusicnnRepresentation {
    fn name(&self) -> &'static str {
        "musicnn"
    }

    fn dim(&self) -> usize {
        2 * self.model.config().pooled_width()
    }

    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        let options = LoadOptions { sample_rate: Some(SAMPLE_RATE), ..Default::default() };
        let audio = load(path, &options).context("cannot load the audio")?;
        self.from_signal(&audio.samples)
    }
}

impl clap::ValueEnum for MusicnnModel {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// musicnn's own options.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MusicnnOptions {
    /// Which published model [default: MSD_musicnn_big, the paper's].
    #[arg(long, value_enum)]
    pub model: Option<MusicnnModel>,
}

pub static PLUGIN: crate::plugin::Plugin = crate::plugin::Plugin {
    name: "musicnn",
    about: "the musicnn tagger's pooled features (4194 values; 1506 for the small models)",
    help: "the musicnn package's extractor at 16 kHz (log-mel rounded to float16, 3-s patches), mean over \
           patches of its mean_pool and max_pool features: 4194 values for MSD_musicnn_big (the paper's, the \
           default), 1506 for --model MSD_musicnn or MTT_musicnn. Weights: `jukemir weights fetch musicnn_big` \
           (or musicnn for the PyPI wheel's models), or --weights with the wheel or a TensorFlow checkpoint folder",
    dim: crate::plugin::Dim::Depends("4194 for MSD_musicnn_big, 1506 for MSD_musicnn and MTT_musicnn"),
    weights: Some(
        "`jukemir weights fetch musicnn_big` (or musicnn), or --weights with the wheel or a checkpoint folder",
    ),
    in_paper: true,
    batch_dependence: None,
    options: <MusicnnOptions as clap::Args>::augment_args,
    task: |_| crate::plugin::DEFAULT_TASK,
    uses_gpu: crate::plugin::cpu_only,
    load: |matches, context| {
        let options = <MusicnnOptions as clap::FromArgMatches>::from_arg_matches(matches)?;
        let model = options.model.unwrap_or(MusicnnModel::MsdMusicnnBig);
        let dir = crate::weights::musicnn_checkpoint(model.name(), context)?;
        Ok(Box::new(MusicnnRepresentation::new(Musicnn::from_checkpoint(&dir, &model.config())?)))
    },
};
