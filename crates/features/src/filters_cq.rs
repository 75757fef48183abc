//! Constant-Q filter banks as librosa 0.8.1 builds them: `filters.constant_q_lengths`,
//! `filters.constant_q` (Hann window, L1 norm, `pad_fft=True`, `gamma=0`) and
//! `filters.cq_to_chroma`, plus the note/frequency conversions they rely on.

use crate::cqt::numpy_ops::cabs64;
use crate::window::hann_periodic;
use jukemir_audio::numpy::pairwise_sum;
use ndarray::Array2;
use realfft::num_complex::Complex;

/// `filters.window_bandwidth("hann")`: librosa's tabulated equivalent noise bandwidth in bins.
pub const HANN_BANDWIDTH: f64 = 1.500_183_105_468_75;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CqFilterError {
    #[error("fmin must be positive (got {0})")]
    NonPositiveFmin(f64),
    #[error("bins_per_octave must be positive")]
    NoBinsPerOctave,
    #[error("filter_scale must be positive (got {0})")]
    NonPositiveFilterScale(f64),
    #[error("n_bins must be positive")]
    NoBins,
    #[error("filter pass-band lies beyond Nyquist ({top_hz:.1} Hz at sr={sr} Hz)")]
    BeyondNyquist { top_hz: f64, sr: f64 },
    #[error("incompatible CQ merge: bins_per_octave={bins_per_octave} is not a multiple of n_chroma={n_chroma}")]
    IncompatibleMerge { bins_per_octave: usize, n_chroma: usize },
}

/// `librosa.midi_to_hz`.
pub fn midi_to_hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// `librosa.hz_to_midi`.
pub fn hz_to_midi(hz: f64) -> f64 {
    12.0 * (hz.log2() - 440f64.log2()) + 69.0
}

/// `librosa.note_to_hz("C1")`, the CQT's default lowest frequency (32.70… Hz).
pub fn c1_hz() -> f64 {
    midi_to_hz(24.0)
}

/// Relative bandwidth of one bin, `2^(1/bins_per_octave) − 1`.
pub fn cq_alpha(bins_per_octave: usize) -> f64 {
    2f64.powf(1.0 / bins_per_octave as f64) - 1.0
}

/// `fmin · 2^(k / bins_per_octave)` for `k < n_bins`, rounded as librosa computes it.
pub fn cq_frequencies(n_bins: usize, fmin: f64, bins_per_octave: usize) -> Vec<f64> {
    (0..n_bins).map(|k| fmin * 2f64.powf(k as f64 / bins_per_octave as f64)).collect()
}

/// `filters.constant_q_lengths` (Hann window, `gamma=0`): the fractional length in samples of
/// each bin's filter, `Q · sr / f`.
pub fn constant_q_lengths(
    sr: f64,
    fmin: f64,
    n_bins: usize,
    bins_per_octave: usize,
    filter_scale: f64,
) -> Result<Vec<f64>, CqFilterError> {
    if fmin <= 0.0 || fmin.is_nan() {
        return Err(CqFilterError::NonPositiveFmin(fmin));
    }
    if bins_per_octave == 0 {
        return Err(CqFilterError::NoBinsPerOctave);
    }
    if filter_scale <= 0.0 || filter_scale.is_nan() {
        return Err(CqFilterError::NonPositiveFilterScale(filter_scale));
    }
    if n_bins == 0 {
        return Err(CqFilterError::NoBins);
    }
    let q = filter_scale / cq_alpha(bins_per_octave);
    let freqs = cq_frequencies(n_bins, fmin, bins_per_octave);
    let top = freqs[n_bins - 1];
    if top * (1.0 + 0.5 * HANN_BANDWIDTH / q) > sr / 2.0 {
        return Err(CqFilterError::BeyondNyquist { top_hz: top, sr });
    }
    let q_sr = q * sr;
    // librosa divides by `freq + gamma / alpha`; with gamma = 0 that sum is `freq` exactly.
    Ok(freqs.iter().map(|&f| q_sr / f).collect())
}

/// `filters.constant_q(sr, fmin, n_bins, bins_per_octave, filter_scale=…, pad_fft=True, norm=1)`:
/// time-domain filters, each centred in a row of `2^ceil(log2(max length))` samples, stored as
/// `complex64` like librosa's; also returns the lengths.
pub fn constant_q(
    sr: f64,
    fmin: f64,
    n_bins: usize,
    bins_per_octave: usize,
    filter_scale: f64,
) -> Result<(Array2<Complex<f32>>, Vec<f64>), CqFilterError> {
    let lengths = constant_q_lengths(sr, fmin, n_bins, bins_per_octave, filter_scale)?;
    let freqs = cq_frequencies(n_bins, fmin, bins_per_octave);
    let max_len = lengths.iter().copied().fold(f64::MIN, f64::max);
    let width = 2f64.powf(max_len.log2().ceil()) as usize;
    let mut basis = Array2::<Complex<f32>>::zeros((n_bins, width));
    let mut sig = Vec::new();
    let mut mags = Vec::new();
    for (k, (&ilen, &freq)) in lengths.iter().zip(&freqs).enumerate() {
        filter_taps(ilen, freq, sr, &mut sig, &mut mags);
        let lpad = (width - sig.len()) / 2;
        for (dst, s) in basis.row_mut(k).iter_mut().skip(lpad).zip(&sig) {
            *dst = Complex::new(s.re as f32, s.im as f32);
        }
    }
    Ok((basis, lengths))
}

/// One L1-normalised, Hann-windowed complex exponential, with numpy's rounding at every step.
fn filter_taps(ilen: f64, freq: f64, sr: f64, sig: &mut Vec<Complex<f64>>, mags: &mut Vec<f64>) {
    // `np.arange(-ilen // 2, ilen // 2)`: floor divisions, so the tap count is not always ceil(ilen).
    let start = (-ilen / 2.0).floor();
    let stop = (ilen / 2.0).floor();
    let n = (stop - start).ceil() as usize;
    let window = hann_periodic(n);
    // numpy evaluates `t * 1j * 2 * pi * freq / sr` left to right, and complex division by a
    // real number multiplies by its reciprocal.
    let inv_sr = 1.0 / sr;
    sig.clear();
    sig.extend((0..n).zip(&window).map(|(m, &w)| {
        let t = start + m as f64;
        let phase = (2.0 * t * std::f64::consts::PI) * freq * inv_sr;
        let (s, c) = phase.sin_cos();
        Complex::new(c * w, s * w)
    }));
    mags.clear();
    mags.extend(sig.iter().map(|c| cabs64(c.re, c.im)));
    let l1 = pairwise_sum(mags);
    // util.normalize leaves filters with a norm below tiny(float64) unscaled.
    if l1 >= f64::MIN_POSITIVE {
        let inv = 1.0 / l1;
        sig.iter_mut().for_each(|c| *c = Complex::new(c.re * inv, c.im * inv));
    }
}

/// `filters.cq_to_chroma(n_input, bins_per_octave, n_chroma, fmin)` (no smoothing window,
/// `base_c=True`): a 0/1 matrix of shape `(n_chroma, n_input)` summing each pitch class's CQT bins,
/// centred on the target bin and rotated so row 0 is C.
pub fn cq_to_chroma(
    n_input: usize,
    bins_per_octave: usize,
    n_chroma: usize,
    fmin: Option<f64>,
) -> Result<Array2<f32>, CqFilterError> {
    if bins_per_octave == 0 || bins_per_octave.checked_rem(n_chroma) != Some(0) {
        return Err(CqFilterError::IncompatibleMerge { bins_per_octave, n_chroma });
    }
    let n_merge = bins_per_octave / n_chroma;
    let fmin = fmin.unwrap_or_else(c1_hz);
    let midi_0 = hz_to_midi(fmin).rem_euclid(12.0);
    let roll = (midi_0 * (n_chroma as f64 / 12.0)).round_ties_even() as i64;
    let mut m = Array2::<f32>::zeros((n_chroma, n_input));
    for b in 0..n_input {
        // Bin b of an octave belongs to pitch class (b + n_merge/2) / n_merge: the identity
        // repeated n_merge times, then rolled left by n_merge/2 so each class is centred.
        let within = (b % bins_per_octave + n_merge / 2) % bins_per_octave;
        let class = (within / n_merge) as i64;
        let row = (class + roll).rem_euclid(n_chroma as i64) as usize;
        m[[row, b]] = 1.0;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_is_librosas_value() {
        assert_eq!(c1_hz(), 32.703_195_662_574_83);
    }

    #[test]
    fn lengths_and_nyquist_check() {
        let lengths = constant_q_lengths(22050.0, c1_hz() * 64.0, 36, 36, 1.0).unwrap();
        assert!((lengths[0] - 541.9).abs() < 0.1, "{}", lengths[0]);
        assert!(matches!(constant_q_lengths(8000.0, c1_hz(), 252, 36, 1.0), Err(CqFilterError::BeyondNyquist { .. })));
    }

    #[test]
    fn filters_are_l1_normalised_and_padded_to_a_power_of_two() {
        let (basis, lengths) = constant_q(22050.0, c1_hz() * 64.0, 36, 36, 1.0).unwrap();
        assert_eq!(basis.dim(), (36, 1024));
        for (row, len) in basis.rows().into_iter().zip(&lengths) {
            let l1: f64 = row.iter().map(|c| c.norm() as f64).sum();
            assert!((l1 - 1.0).abs() < 1e-5);
            let taps = row.iter().filter(|c| c.norm() > 0.0).count() as f64;
            assert!((taps - len).abs() <= 2.0);
        }
    }

    #[test]
    fn chroma_map_centres_each_class_on_its_bin() {
        let m = cq_to_chroma(252, 36, 12, None).unwrap();
        assert_eq!(m.dim(), (12, 252));
        // Every CQT bin maps to exactly one pitch class; C takes bins 35, 0, 1 of each octave.
        for b in 0..252 {
            assert_eq!(m.column(b).sum(), 1.0);
        }
        for b in [0, 1, 35, 36, 37, 71] {
            assert_eq!(m[[0, b]], 1.0, "bin {b}");
        }
        assert_eq!(m[[1, 2]], 1.0);
        assert_eq!(m.row(0).sum(), 21.0);
        assert!(cq_to_chroma(252, 36, 7, None).is_err());
    }
}
