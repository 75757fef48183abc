//! The frequency-domain filter basis of one octave, as librosa 0.8.1's `__cqt_filter_fft` builds it.

use super::sparse::SparseRows;
use crate::filters_cq::{constant_q, CqFilterError};
use ndarray::Array2;
use realfft::num_complex::Complex;
use rustfft::FftPlanner;

/// One octave's sparse FFT-domain filters and the FFT size they apply to.
#[derive(Debug, Clone)]
pub struct FftBasis {
    pub sparse: SparseRows,
    pub n_fft: usize,
    pub lengths: Vec<f64>,
}

/// `__cqt_filter_fft(sr, fmin, n_bins, bins_per_octave, filter_scale, norm=1, sparsity)`.
///
/// The `complex64` time-domain filters are rescaled by `length / n_fft` in `float64` and rounded
/// back to `complex64` (numpy's in-place multiply), transformed in `complex128` like `np.fft.fft`,
/// cut to the non-negative frequencies and sparsified.
pub fn cqt_filter_fft(
    sr: f64,
    fmin: f64,
    n_bins: usize,
    bins_per_octave: usize,
    filter_scale: f64,
    sparsity: f64,
) -> Result<FftBasis, CqFilterError> {
    let (basis, lengths) = constant_q(sr, fmin, n_bins, bins_per_octave, filter_scale)?;
    let n_fft = basis.ncols();
    let n_keep = n_fft / 2 + 1;
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut buf = vec![Complex::new(0.0f64, 0.0); n_fft];
    let mut spectra = Array2::<Complex<f64>>::zeros((n_bins, n_keep));
    for (k, row) in basis.rows().into_iter().enumerate() {
        let s = lengths[k] / n_fft as f64;
        for (dst, c) in buf.iter_mut().zip(row) {
            let re = (c.re as f64 * s) as f32;
            let im = (c.im as f64 * s) as f32;
            *dst = Complex::new(re as f64, im as f64);
        }
        fft.process(&mut buf);
        spectra.row_mut(k).iter_mut().zip(&buf).for_each(|(d, s)| *d = *s);
    }
    Ok(FftBasis { sparse: SparseRows::sparsify(&spectra, sparsity), n_fft, lengths })
}
