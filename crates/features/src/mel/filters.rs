//! `librosa.filters.mel` and its sparse form for projecting spectra.

use crate::convert::{fft_frequencies, mel_frequencies};
use ndarray::Array2;

/// How `filters.mel` scales each triangle (`norm=`). librosa's p-norm options are not needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MelNorm {
    /// `norm=None`: unit-peak triangles.
    Off,
    /// `norm="slaney"`: each triangle divided by its width in Hz, for roughly constant energy.
    Slaney,
}

/// Arguments of `librosa.filters.mel` other than `sr` and `n_fft`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelParams {
    pub n_mels: usize,
    pub fmin: f64,
    /// `None` means `sr / 2`.
    pub fmax: Option<f64>,
    /// HTK mel scale instead of Slaney's.
    pub htk: bool,
    pub norm: MelNorm,
}

impl Default for MelParams {
    fn default() -> Self {
        MelParams { n_mels: 128, fmin: 0.0, fmax: None, htk: false, norm: MelNorm::Slaney }
    }
}

/// `librosa.filters.mel(sr, n_fft, ...)` with its default `dtype=np.float32`, shape
/// `(n_mels, 1 + n_fft/2)`.
///
/// librosa rounds twice: the unit triangles are stored into the `float32` matrix, and the Slaney
/// scaling multiplies that `float32` matrix by a `float64` vector before storing again. Both
/// roundings are kept so that weights agree bit for bit rather than to 1e-7.
pub fn mel_filters(sr: u32, n_fft: usize, params: &MelParams) -> Array2<f32> {
    let MelParams { n_mels, fmin, fmax, htk, norm } = *params;
    let sr = sr as f64;
    let fftfreqs = fft_frequencies(sr, n_fft);
    let mel_f = mel_frequencies(n_mels + 2, fmin, fmax.unwrap_or(sr / 2.0), htk);
    let mut weights = Array2::<f32>::zeros((n_mels, fftfreqs.len()));
    for (i, mut row) in weights.outer_iter_mut().enumerate() {
        let (lo_width, hi_width) = (mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]);
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        // Outside (mel_f[i], mel_f[i + 2]) one slope is <= 0 and the weight is exactly 0, so only
        // the triangle's own bins need the arithmetic.
        let first = fftfreqs.partition_point(|&f| f <= mel_f[i]);
        let last = fftfreqs.partition_point(|&f| f < mel_f[i + 2]);
        for (w, &f) in row.iter_mut().zip(&fftfreqs).take(last).skip(first) {
            let lower = -(mel_f[i] - f) / lo_width;
            let upper = (mel_f[i + 2] - f) / hi_width;
            let tri = 0f64.max(lower.min(upper)) as f32;
            *w = match norm {
                MelNorm::Off => tri,
                MelNorm::Slaney => (tri as f64 * enorm) as f32,
            };
        }
    }
    weights
}

/// The nonzero span of each filter, so projecting a frame costs ~2 MACs per FFT bin instead of
/// `n_mels`.
#[derive(Debug, Clone)]
pub(crate) struct SparseFilters {
    /// Per filter: first bin, offset of its weights in `weights`, and length.
    spans: Vec<(usize, usize, usize)>,
    /// The `float32` weights, widened once so the inner loop is plain `f64` arithmetic.
    weights: Vec<f64>,
}

impl SparseFilters {
    pub(crate) fn new(dense: &Array2<f32>) -> Self {
        let mut spans = Vec::with_capacity(dense.nrows());
        let mut weights = Vec::new();
        for row in dense.outer_iter() {
            let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
            let last = row.iter().rposition(|&w| w != 0.0).map_or(first, |l| l + 1);
            spans.push((first, weights.len(), last - first));
            weights.extend(row.iter().skip(first).take(last - first).map(|&w| w as f64));
        }
        SparseFilters { spans, weights }
    }

    /// `out[m * stride + j] = Σ_k W[m, k] · spectra[k * BATCH + j]` for the first `width` of
    /// [`BATCH`] interleaved spectra. Each sum runs over `k` in order, in `f64`, rounded once: at
    /// least as accurate as the `float32` BLAS `np.dot` librosa uses, whose summation order we
    /// cannot reproduce anyway.
    #[inline(always)]
    pub(crate) fn apply_batch(&self, spectra: &[f32], width: usize, out: &mut [f32], stride: usize) {
        for (m, &(first, offset, len)) in self.spans.iter().enumerate() {
            let mut acc = [0f64; BATCH];
            let rows = spectra[first * BATCH..(first + len) * BATCH].chunks_exact(BATCH);
            for (&w, row) in self.weights[offset..offset + len].iter().zip(rows) {
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a += w * x as f64;
                }
            }
            for (o, &a) in out[m * stride..m * stride + width].iter_mut().zip(&acc) {
                *o = a as f32;
            }
        }
    }
}

/// Frames projected together; spectra are stored interleaved `[bin][frame]` in groups of this.
pub(crate) const BATCH: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_projection_equals_dense() {
        let dense = mel_filters(22050, 512, &MelParams { n_mels: 40, ..MelParams::default() });
        let frame = |j: usize| move |k: usize| (((k + 3 * j) * 37 % 101) as f32).sqrt();
        let spectra: Vec<f32> = (0..257).flat_map(|k| (0..BATCH).map(move |j| frame(j)(k))).collect();
        let mut sparse = vec![0f32; 40 * 5];
        SparseFilters::new(&dense).apply_batch(&spectra, 5, &mut sparse, 5);
        for (m, row) in dense.outer_iter().enumerate() {
            for j in 0..5 {
                let expect: f64 = row.iter().enumerate().map(|(k, &w)| w as f64 * frame(j)(k) as f64).sum();
                assert!((sparse[m * 5 + j] as f64 - expect).abs() <= 1e-6 * expect.abs());
            }
        }
    }

    #[test]
    fn every_filter_is_nonempty_at_librosa_defaults() {
        let w = mel_filters(22050, 2048, &MelParams::default());
        assert_eq!(w.dim(), (128, 1025));
        assert!(w.outer_iter().all(|row| row.iter().any(|&x| x > 0.0)));
    }
}
