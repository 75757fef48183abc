//! Constant-Q transform as librosa 0.8.1's `cqt` computes it (its `vqt` with `gamma=0`): early
//! downsampling, then octave by octave from the top, a sparse FFT-domain filter basis applied to
//! a rectangular-window STFT, halving the signal (`kaiser_fast`) and the hop between octaves.

mod basis;
mod downsample;
pub(crate) use jukemir_pycompat::numpy_ops;
mod octaves;
mod response;
mod sparse;

pub use basis::{cqt_filter_fft, FftBasis};
pub use sparse::SparseRows;

use crate::filters_cq::{c1_hz, constant_q_lengths, cq_alpha, cq_frequencies, CqFilterError, HANN_BANDWIDTH};
use crate::stft::Complex32;
use crate::tuning::estimate_tuning;
use downsample::{decimate, decimated_len};
use jukemir_audio::{ResampleError, ResampleFilter};
use ndarray::{s, Array2};
use octaves::{plan_octaves, OctavePlanError, OctaveSpec};
use response::{n_frames, ResponsePlan};
use std::borrow::Cow;

/// `audio.BW_FASTEST`: the pass band of resampy's `kaiser_fast` filter, as a fraction of Nyquist.
pub const BW_FASTEST: f64 = 0.85;

/// Parameters of `librosa.cqt`; [`Default`] gives librosa 0.8.1's defaults.
///
/// The window is always Hann, the filter norm 1 and the STFT padding `reflect` (librosa's
/// defaults, and all jukemir needs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CqtParams {
    pub hop_length: usize,
    /// Lowest bin's frequency before tuning; `None` is C1 (32.70 Hz).
    pub fmin: Option<f64>,
    pub n_bins: usize,
    pub bins_per_octave: usize,
    /// Tuning offset in fractions of a bin; `None` estimates it from the signal
    /// ([`estimate_tuning`]).
    pub tuning: Option<f64>,
    pub filter_scale: f64,
    /// Share of each filter's spectral L1 mass that may be dropped to sparsify it.
    pub sparsity: f64,
    /// Divide each bin by `sqrt(filter length)`.
    pub scale: bool,
    /// `None` picks `kaiser_fast` when the top octave fits its pass band, else `kaiser_best`.
    pub res_type: Option<ResampleFilter>,
}

impl Default for CqtParams {
    fn default() -> Self {
        CqtParams {
            hop_length: 512,
            fmin: None,
            n_bins: 84,
            bins_per_octave: 12,
            tuning: Some(0.0),
            filter_scale: 1.0,
            sparsity: 0.01,
            scale: true,
            res_type: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CqtError {
    #[error(transparent)]
    Filter(#[from] CqFilterError),
    #[error("input signal length={len} is too short for {n_octaves}-octave CQT")]
    TooShort { len: usize, n_octaves: usize },
    #[error("hop_length={hop_length} must be a positive integer multiple of 2^{} for {n_octaves}-octave CQT", n_octaves - 1)]
    HopNotDivisible { hop_length: usize, n_octaves: usize },
    #[error("audio buffer is not finite everywhere")]
    NonFinite,
    #[error("sample rate must be positive")]
    ZeroSampleRate,
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// `librosa.cqt(y, sr, …)`: complex CQT of shape `(n_bins, n_frames)`, lowest bin first, in
/// `complex64` like librosa's output for a `float32` signal.
///
/// Errors where librosa raises: empty or non-finite input, a signal too short to halve once per
/// octave (under 33 samples for 7 octaves), a hop not divisible by `2^(n_octaves − 1)`, filters
/// beyond Nyquist.
pub fn cqt(y: &[f32], sr: u32, params: &CqtParams) -> Result<Array2<Complex32>, CqtError> {
    let CqtParams { hop_length, n_bins, bins_per_octave: bpo, filter_scale, sparsity, scale, .. } = *params;
    if sr == 0 {
        return Err(CqtError::ZeroSampleRate);
    }
    if bpo == 0 {
        return Err(CqFilterError::NoBinsPerOctave.into());
    }
    if n_bins == 0 {
        return Err(CqFilterError::NoBins.into());
    }
    let n_octaves = n_bins.div_ceil(bpo);
    if y.is_empty() {
        return Err(CqtError::TooShort { len: 0, n_octaves });
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(CqtError::NonFinite);
    }
    if hop_length == 0 {
        return Err(CqtError::HopNotDivisible { hop_length, n_octaves });
    }
    let n_filters = bpo.min(n_bins);
    let tuning = params.tuning.unwrap_or_else(|| estimate_tuning(y, sr, bpo));
    let fmin = params.fmin.unwrap_or_else(c1_hz) * 2f64.powf(tuning / bpo as f64);

    let top = cq_frequencies(n_bins, fmin, bpo).split_off(n_bins - n_filters);
    let fmin_t = top.iter().copied().fold(f64::INFINITY, f64::min);
    let fmax_t = top.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let q = filter_scale / cq_alpha(bpo);
    let filter_cutoff = fmax_t * (1.0 + 0.5 * HANN_BANDWIDTH / q);
    let nyquist = sr as f64 / 2.0;
    let auto_resample = params.res_type.is_none();
    let mut res_type = params.res_type.unwrap_or(if filter_cutoff < BW_FASTEST * nyquist {
        ResampleFilter::KaiserFast
    } else {
        ResampleFilter::KaiserBest
    });

    let mut signal: Cow<[f32]> = Cow::Borrowed(y);
    let mut sr = sr as f64;
    let mut hop = hop_length;
    let count = early_downsample_count(nyquist, filter_cutoff, hop, n_octaves);
    if count > 0 && res_type == ResampleFilter::KaiserFast {
        let factor = 1usize << count;
        hop /= factor;
        if y.len() < factor {
            return Err(CqtError::TooShort { len: y.len(), n_octaves });
        }
        let mut down = decimate(y, factor as u32, res_type)?;
        if !scale {
            let s = (factor as f64).sqrt() as f32;
            down.iter_mut().for_each(|v| *v *= s);
        }
        signal = Cow::Owned(down);
        sr /= factor as f64;
    }

    // Without an explicit res_type, a top octave too close to Nyquist for kaiser_fast is computed
    // at full rate first; every halving after it uses kaiser_fast.
    let full_rate_top = auto_resample && res_type != ResampleFilter::KaiserFast;
    if full_rate_top {
        res_type = ResampleFilter::KaiserFast;
    }
    let spec =
        OctaveSpec { sr, hop, fmin_top: fmin_t, n_octaves, n_filters, bins_per_octave: bpo, filter_scale, sparsity };
    let octaves = plan_octaves(&spec, full_rate_top).map_err(|e| match e {
        OctavePlanError::Filter(f) => CqtError::Filter(f),
        OctavePlanError::HopNotDivisible => CqtError::HopNotDivisible { hop_length, n_octaves },
    })?;

    // Every octave's frame count is known before any work (each halving gives ceil(len/2)
    // samples), so the output is allocated trimmed and only kept frames are computed.
    let mut len = signal.len();
    let mut max_col = usize::MAX;
    for oct in &octaves {
        if oct.halve_first {
            if len < 2 {
                return Err(CqtError::TooShort { len: y.len(), n_octaves });
            }
            len = decimated_len(len, 2);
        }
        max_col = max_col.min(n_frames(len, oct.basis.n_fft, oct.hop));
    }

    let mut out = Array2::<Complex32>::zeros((n_bins, max_col));
    let mut plan: Option<ResponsePlan> = None;
    let mut end = n_bins;
    for oct in &octaves {
        if oct.halve_first {
            signal = Cow::Owned(decimate(&signal, 2, res_type)?);
        }
        let n_rows = oct.basis.sparse.n_rows();
        let used = end.min(n_rows);
        let plan = match plan.take() {
            Some(p) if p.n_fft() == oct.basis.n_fft => plan.insert(p),
            _ => plan.insert(ResponsePlan::new(oct.basis.n_fft)),
        };
        plan.respond(&signal, oct.hop, &oct.basis.sparse, n_rows - used, out.slice_mut(s![end - used..end, ..]));
        end -= used;
    }

    if scale {
        let lengths = constant_q_lengths(sr, fmin, n_bins, bpo, filter_scale)?;
        for (mut row, &l) in out.rows_mut().into_iter().zip(&lengths) {
            // numpy divides complex64 by a float64 array in complex128, i.e. multiplies by the
            // reciprocal, then rounds back to complex64.
            let inv = 1.0 / l.sqrt();
            row.iter_mut().for_each(|v| *v = Complex32::new((v.re as f64 * inv) as f32, (v.im as f64 * inv) as f32));
        }
    }
    Ok(out)
}

/// `__early_downsample_count`: how many halvings can precede the recursion without touching the
/// top octave's pass band or the hop's divisibility.
fn early_downsample_count(nyquist: f64, filter_cutoff: f64, hop_length: usize, n_octaves: usize) -> usize {
    let by_band = ((BW_FASTEST * nyquist / filter_cutoff).log2().ceil() - 1.0) as i64 - 1;
    let by_hop = hop_length.trailing_zeros() as i64 - n_octaves as i64 + 1;
    by_band.max(0).min(by_hop.max(0)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_early_downsampling_for_chroma_at_22050() {
        let fmax = c1_hz() * 2f64.powf(251.0 / 36.0);
        let cutoff = fmax * (1.0 + 0.5 * HANN_BANDWIDTH * cq_alpha(36));
        assert_eq!(early_downsample_count(11025.0, cutoff, 512, 7), 0);
        // A low 3-octave CQT leaves room to halve first.
        assert!(early_downsample_count(11025.0, 300.0, 512, 3) > 0);
    }

    #[test]
    fn shape_and_errors() {
        let y: Vec<f32> = (0..22050).map(|i| (i as f32 * 0.1).sin()).collect();
        let c = cqt(&y, 22050, &CqtParams::default()).unwrap();
        assert_eq!(c.dim(), (84, 1 + 22050 / 512));
        let p = CqtParams { n_bins: 252, bins_per_octave: 36, ..CqtParams::default() };
        assert_eq!(cqt(&y[..32], 22050, &p), Err(CqtError::TooShort { len: 32, n_octaves: 7 }));
        assert_eq!(cqt(&y[..33], 22050, &p).unwrap().dim(), (252, 1));
        assert!(matches!(cqt(&[], 22050, &p), Err(CqtError::TooShort { len: 0, .. })));
        assert_eq!(cqt(&[f32::NAN; 100], 22050, &p), Err(CqtError::NonFinite));
        let odd_hop = CqtParams { hop_length: 100, ..p };
        assert!(matches!(cqt(&y, 22050, &odd_hop), Err(CqtError::HopNotDivisible { .. })));
    }

    #[test]
    fn a_tone_peaks_in_its_bin() {
        // A4 = 440 Hz (MIDI 69) is bin 69 - 24 = 45 of an 84-bin, 12-per-octave CQT from C1.
        let y: Vec<f32> =
            (0..22050).map(|i| (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 22050.0).sin() as f32).collect();
        let c = cqt(&y, 22050, &CqtParams::default()).unwrap();
        let col = c.column(20);
        let peak = (0..84).max_by(|&a, &b| col[a].norm().total_cmp(&col[b].norm())).unwrap();
        assert_eq!(peak, 45);
    }
}
