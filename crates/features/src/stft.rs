//! Short-time Fourier transform as `librosa.stft` (librosa 0.8.1) computes it.

use crate::pad::{pad, PadMode};
use crate::window::Window;
use ndarray::Array2;
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

pub type Complex32 = Complex<f32>;

/// Parameters of `librosa.stft` (`win_length` is always `n_fft` in the features jukemir uses).
#[derive(Debug, Clone, Copy)]
pub struct StftParams {
    pub n_fft: usize,
    pub hop_length: usize,
    pub window: Window,
    pub center: bool,
    pub pad_mode: PadMode,
}

impl StftParams {
    /// librosa 0.8.1's defaults for a given `n_fft`: Hann window, hop `n_fft / 4`, centred
    /// frames with reflect padding.
    pub fn new(n_fft: usize) -> Self {
        StftParams { n_fft, hop_length: n_fft / 4, window: Window::Hann, center: true, pad_mode: PadMode::Reflect }
    }

    pub fn hop_length(mut self, hop: usize) -> Self {
        self.hop_length = hop;
        self
    }

    pub fn window(mut self, window: Window) -> Self {
        self.window = window;
        self
    }

    pub fn pad_mode(mut self, pad_mode: PadMode) -> Self {
        self.pad_mode = pad_mode;
        self
    }

    /// Number of frames `stft` returns for a signal of `len` samples.
    pub fn n_frames(&self, len: usize) -> usize {
        let padded = if self.center { len + 2 * (self.n_fft / 2) } else { len };
        if padded < self.n_fft {
            0
        } else {
            1 + (padded - self.n_fft) / self.hop_length
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StftError {
    #[error("signal of {len} samples is shorter than one STFT frame of {n_fft}")]
    TooShort { len: usize, n_fft: usize },
    #[error("STFT needs n_fft > 0 and hop_length > 0")]
    BadParams,
}

/// Complex spectrogram of shape `(1 + n_fft/2, n_frames)`, like librosa's `complex64` output.
///
/// Each frame is windowed and transformed in `f64` (numpy promotes the `float32` frames against
/// scipy's `float64` window) and rounded to `complex64` at the end, as librosa stores it.
pub fn stft(y: &[f32], params: &StftParams) -> Result<Array2<Complex32>, StftError> {
    let StftParams { n_fft, hop_length, window, center, pad_mode } = *params;
    if n_fft == 0 || hop_length == 0 {
        return Err(StftError::BadParams);
    }
    let padded;
    let signal: &[f32] = if center {
        padded = pad(y, n_fft / 2, n_fft / 2, pad_mode);
        &padded
    } else {
        y
    };
    if signal.len() < n_fft {
        return Err(StftError::TooShort { len: y.len(), n_fft });
    }
    let n_frames = 1 + (signal.len() - n_fft) / hop_length;
    let n_bins = n_fft / 2 + 1;
    let win = window.samples(n_fft);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut out = Array2::<Complex32>::zeros((n_bins, n_frames));
    for t in 0..n_frames {
        let frame = &signal[t * hop_length..t * hop_length + n_fft];
        for ((dst, &s), &w) in input.iter_mut().zip(frame).zip(&win) {
            *dst = s as f64 * w;
        }
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch).expect("buffer sizes come from the plan");
        for (f, c) in spectrum.iter().enumerate() {
            out[[f, t]] = Complex32::new(c.re as f32, c.im as f32);
        }
    }
    Ok(out)
}

/// `np.abs(S) ** power` element-wise, computed in `f32` like numpy on `complex64`.
pub fn magnitude_pow(s: &Array2<Complex32>, power: f32) -> Array2<f32> {
    if power == 2.0 {
        s.mapv(|c| {
            let m = c.norm();
            m * m
        })
    } else if power == 1.0 {
        s.mapv(|c| c.norm())
    } else {
        s.mapv(|c| c.norm().powf(power))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_follows_librosa() {
        let y = vec![0.0f32; 22050];
        let s = stft(&y, &StftParams::new(2048).hop_length(512)).unwrap();
        assert_eq!(s.dim(), (1025, 1 + 22050 / 512));
    }

    #[test]
    fn a_bin_centred_tone_peaks_in_its_bin() {
        let n = 1024;
        let y: Vec<f32> =
            (0..8192).map(|i| (2.0 * std::f64::consts::PI * 32.0 * i as f64 / n as f64).cos() as f32).collect();
        let s = stft(&y, &StftParams::new(n)).unwrap();
        let mag = magnitude_pow(&s, 1.0);
        let col = mag.column(4);
        let peak = col.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(peak, 32);
        // Hann window: the peak is n/4 for a unit cosine.
        assert!((col[32] - n as f32 / 4.0).abs() < 1e-2);
    }

    #[test]
    fn too_short_without_centering_is_an_error() {
        let params = StftParams { center: false, ..StftParams::new(2048) };
        assert_eq!(stft(&[0.0; 100], &params), Err(StftError::TooShort { len: 100, n_fft: 2048 }));
    }
}
