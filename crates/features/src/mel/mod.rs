//! Mel power spectrogram as librosa 0.8.1's `feature.melspectrogram` computes it.

mod filters;
mod frames;

pub use filters::{mel_filters, MelNorm, MelParams};

use crate::stft::{StftError, StftParams};
use filters::SparseFilters;
use frames::{FramePlan, FrameSource};
use ndarray::Array2;

/// Precision of the FFT behind the spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FftPrecision {
    /// `f64`, as numpy's `rfft` of the `float64`-windowed frames: matches librosa to ~1e-6.
    #[default]
    F64,
    /// `f32`: about twice as fast, with the spectrum's rounding error relative to each frame's
    /// loudest bin instead of to each bin, so quiet bands drift by up to a few 1e-6 of an MFCC
    /// row's range.
    F32,
}

/// Arguments of `librosa.feature.melspectrogram` other than `y` and `sr`, plus the FFT
/// precision (librosa's is `f64`).
#[derive(Debug, Clone, Copy)]
pub struct MelSpectrogramParams {
    pub stft: StftParams,
    /// Exponent of the magnitude: 2 for power, 1 for energy.
    pub power: f32,
    pub mel: MelParams,
    pub precision: FftPrecision,
}

impl Default for MelSpectrogramParams {
    fn default() -> Self {
        MelSpectrogramParams {
            stft: StftParams::new(2048).hop_length(512),
            power: 2.0,
            mel: MelParams::default(),
            precision: FftPrecision::F64,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MelError {
    #[error(transparent)]
    Stft(#[from] StftError),
    #[error("cannot compute a spectrogram of an empty signal")]
    EmptySignal,
    #[error("invalid parameter: {0}")]
    BadParams(&'static str),
}

enum Plan {
    F64(FramePlan<f64>),
    F32(FramePlan<f32>),
}

/// A reusable mel spectrogram computation: the FFT plan, window and filterbank are built once.
pub struct MelSpectrogram {
    params: MelSpectrogramParams,
    plan: Plan,
    filters: SparseFilters,
}

impl MelSpectrogram {
    pub fn new(sr: u32, params: &MelSpectrogramParams) -> Result<Self, MelError> {
        let StftParams { n_fft, hop_length, window, .. } = params.stft;
        if n_fft == 0 || hop_length == 0 {
            return Err(StftError::BadParams.into());
        }
        if sr == 0 || params.mel.n_mels == 0 {
            return Err(MelError::BadParams("sr and n_mels must be positive"));
        }
        if params.power.is_nan() || params.power <= 0.0 {
            return Err(MelError::BadParams("power must be positive"));
        }
        let plan = match params.precision {
            FftPrecision::F64 => Plan::F64(FramePlan::new(n_fft, window)),
            FftPrecision::F32 => Plan::F32(FramePlan::new(n_fft, window)),
        };
        let filters = SparseFilters::new(&mel_filters(sr, n_fft, &params.mel));
        Ok(MelSpectrogram { params: *params, plan, filters })
    }

    pub fn params(&self) -> &MelSpectrogramParams {
        &self.params
    }

    /// `librosa.feature.melspectrogram(y, sr, ...)`, shape `(n_mels, n_frames)`.
    ///
    /// Dtypes follow librosa: frames are windowed and transformed in `f64` (by default), the
    /// spectrum is rounded to `complex64`, `np.abs(S)**power` is `float32`, and so is the mel
    /// projection.
    pub fn compute(&self, y: &[f32]) -> Result<Array2<f32>, MelError> {
        if y.is_empty() {
            return Err(MelError::EmptySignal);
        }
        let frames = FrameSource::new(y, &self.params.stft)
            .ok_or(StftError::TooShort { len: y.len(), n_fft: self.params.stft.n_fft })?;
        let mut out = Array2::<f32>::zeros((self.params.mel.n_mels, frames.n_frames));
        let flat = out.as_slice_mut().expect("freshly built arrays are contiguous");
        let (power, filters) = (self.params.power, &self.filters);
        match &self.plan {
            Plan::F64(plan) => plan.project(&frames, power, filters, flat),
            Plan::F32(plan) => plan.project(&frames, power, filters, flat),
        }
        Ok(out)
    }
}

/// `librosa.feature.melspectrogram(y, sr, ...)`, shape `(n_mels, n_frames)`. Build a
/// [`MelSpectrogram`] instead to process many signals with the same parameters.
pub fn melspectrogram(y: &[f32], sr: u32, params: &MelSpectrogramParams) -> Result<Array2<f32>, MelError> {
    MelSpectrogram::new(sr, params)?.compute(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_signal_is_an_error() {
        assert_eq!(melspectrogram(&[], 22050, &MelSpectrogramParams::default()), Err(MelError::EmptySignal));
    }

    #[test]
    fn an_unpaired_last_frame_matches_its_paired_self() {
        // Frames share complex FFTs in pairs; with 17 frames the last one goes alone.
        let y: Vec<f32> = (0..2048 + 17 * 512).map(|i| ((i * i) as f32 * 1e-5).sin()).collect();
        let params = MelSpectrogramParams {
            stft: StftParams { center: false, ..StftParams::new(2048) }.hop_length(512),
            ..Default::default()
        };
        let paired = melspectrogram(&y, 22050, &params).unwrap();
        let alone = melspectrogram(&y[..y.len() - 512], 22050, &params).unwrap();
        assert_eq!((paired.ncols(), alone.ncols()), (18, 17));
        for (a, b) in paired.slice(ndarray::s![.., ..17]).iter().zip(&alone) {
            assert!((a - b).abs() <= 1e-6 * a.abs(), "{a} vs {b}");
        }
    }
}
