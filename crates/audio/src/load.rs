//! `librosa.load` as librosa 0.8.1 does it with soundfile, which is how the reference read every
//! clip for the chroma, MFCC and CLMR representations. Matching it step by step (frame indices
//! truncated from seconds, `float32` channel mean, resampy `kaiser_best`) keeps features
//! comparable with the paper's.

use std::path::Path;

use crate::resample::{librosa_resample, ResampleFilter};
use crate::{decode, Audio, AudioError};

/// Upsampling by more than this factor is refused: no recording needs it, and a header that
/// states a tiny rate (1 Hz) would otherwise turn a few kilobytes into gigabytes of samples.
const MAX_UPSAMPLING: u64 = 64;

/// The arguments of `librosa.load(path, sr, mono, offset, duration)`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Target rate; `None` keeps the file's native rate (librosa's `sr=None`).
    pub sample_rate: Option<u32>,
    /// Average the channels into one.
    pub mono: bool,
    /// Start, in seconds from the beginning (start frame `int(offset * native_rate)`).
    pub offset: f64,
    /// Length to read, in seconds (`int(duration * native_rate)` frames); `None` reads to the end.
    pub duration: Option<f64>,
}

impl Default for LoadOptions {
    /// librosa's defaults: 22050 Hz, mono, whole file.
    fn default() -> Self {
        LoadOptions { sample_rate: Some(22050), mono: true, offset: 0.0, duration: None }
    }
}

impl LoadOptions {
    /// Mono at `sample_rate`, whole file.
    pub fn at_rate(sample_rate: u32) -> Self {
        LoadOptions { sample_rate: Some(sample_rate), ..Default::default() }
    }

    /// Mono at the file's own rate, whole file.
    pub fn native() -> Self {
        LoadOptions { sample_rate: None, ..Default::default() }
    }

    /// The same options restricted to `duration` seconds from `offset`.
    pub fn span(self, offset: f64, duration: Option<f64>) -> Self {
        LoadOptions { offset, duration, ..self }
    }

    /// The span in native frames: start `int(offset · sr)`, length `int(duration · sr)`
    /// (Python's int() of a float truncates toward zero; both are >= 0 here).
    pub(crate) fn frame_span(&self, native: u32) -> (u64, Option<u64>) {
        let start = (self.offset * native as f64) as u64;
        (start, self.duration.map(|d| (d * native as f64) as u64))
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), AudioError> {
        let bad = |reason: String| Err(AudioError::InvalidOptions { path: path.to_path_buf(), reason });
        if !(self.offset.is_finite() && self.offset >= 0.0) {
            return bad(format!("offset must be a finite number of seconds >= 0, got {}", self.offset));
        }
        if let Some(d) = self.duration.filter(|d| !(d.is_finite() && *d >= 0.0)) {
            return bad(format!("duration must be a finite number of seconds >= 0, got {d}"));
        }
        if self.sample_rate == Some(0) {
            return bad("sample rate must be positive".into());
        }
        Ok(())
    }
}

/// Loads a span of a file like `librosa.load` (librosa 0.8.1 + soundfile): decode at the native
/// rate from `int(offset * sr)` for `int(duration * sr)` frames, average channels if `mono`, then
/// resample with resampy `kaiser_best` (each channel separately) if a rate is given.
///
/// The result has one channel if `mono`, otherwise the file's channels, interleaved.
pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Audio, AudioError> {
    let path = path.as_ref();
    options.validate(path)?;
    let opened = decode::open(path)?;
    let native = opened.sample_rate();
    check_upsampling(path, native, options.sample_rate)?;
    let (start, frames) = options.frame_span(native);
    let mut audio = opened.read(start, frames)?;
    if audio.is_empty() {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    // librosa's valid_audio() rejects these too ("Audio buffer is not finite everywhere"); only
    // float-sample files can contain them.
    if let Some(i) = audio.samples.iter().position(|x| !x.is_finite()) {
        return Err(non_finite(path, start + (i / audio.channels) as u64));
    }
    if options.mono {
        audio = audio.into_mono();
    }
    match options.sample_rate {
        Some(sr) if sr != native => resample_audio(path, &audio, sr),
        _ => Ok(audio),
    }
}

pub(crate) fn non_finite(path: &Path, frame: u64) -> AudioError {
    AudioError::corrupt(path, format!("non-finite sample (NaN or infinity) at frame {frame}"))
}

pub(crate) fn check_upsampling(path: &Path, native: u32, target: Option<u32>) -> Result<(), AudioError> {
    match target.filter(|&sr| u64::from(sr) > u64::from(native) * MAX_UPSAMPLING) {
        Some(sr) => Err(AudioError::corrupt(
            path,
            format!(
                "implausible sample rate {native} Hz: resampling it to {sr} Hz would multiply the samples by more \
                 than {MAX_UPSAMPLING}"
            ),
        )),
        None => Ok(()),
    }
}

fn resample_audio(path: &Path, audio: &Audio, target: u32) -> Result<Audio, AudioError> {
    let resample = |x: &[f32]| {
        librosa_resample(x, audio.sample_rate, target, ResampleFilter::KaiserBest, false)
            .map_err(|source| AudioError::Resample { path: path.to_path_buf(), source })
    };
    if audio.channels == 1 {
        return Ok(Audio::mono(resample(&audio.samples)?, target));
    }
    let channels = (0..audio.channels).map(|c| resample(&audio.channel(c))).collect::<Result<Vec<_>, _>>()?;
    Ok(Audio::from_channels(&channels, target))
}

/// Scales to a peak of 1 exactly as the reference does (`norm = np.abs(x).max(); if norm > 0:
/// x /= norm`, in `float32`). Silent input, and input containing NaN (numpy's max is then NaN),
/// are left unchanged.
pub fn peak_normalize(samples: &mut [f32]) {
    let mut norm = 0.0f32;
    for &x in samples.iter() {
        if x.is_nan() {
            return;
        }
        norm = norm.max(x.abs());
    }
    divide_by_peak(samples, norm);
}

/// The second half of [`peak_normalize`], for a peak measured elsewhere (see [`crate::load_head`]).
pub fn divide_by_peak(samples: &mut [f32], norm: f32) {
    if norm > 0.0 {
        samples.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_normalize_divides_by_the_absolute_peak() {
        let mut x = vec![0.5, -2.0, 1.0];
        peak_normalize(&mut x);
        assert_eq!(x, vec![0.25, -1.0, 0.5]);
        let mut silent = vec![0.0; 4];
        peak_normalize(&mut silent);
        assert_eq!(silent, vec![0.0; 4]);
        let mut nan = vec![1.0, f32::NAN, 2.0];
        peak_normalize(&mut nan);
        assert_eq!(nan[2], 2.0);
    }

    #[test]
    fn options_are_validated_with_the_path() {
        for opts in [
            LoadOptions { offset: -1.0, ..Default::default() },
            LoadOptions { offset: f64::NAN, ..Default::default() },
            LoadOptions { duration: Some(f64::INFINITY), ..Default::default() },
            LoadOptions { sample_rate: Some(0), ..Default::default() },
        ] {
            let err = load("some/clip.wav", &opts).unwrap_err();
            assert!(matches!(err, AudioError::InvalidOptions { .. }), "{err}");
            assert!(err.to_string().contains("some/clip.wav"), "{err}");
        }
    }
}
