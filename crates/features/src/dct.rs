//! The type-II DCT as `scipy.fftpack.dct(x, type=2, norm=...)` scales it, truncated to its
//! first coefficients the way `librosa.feature.mfcc` slices `[:n_mfcc]`.
//!
//! MFCCs need ~20 of 128 outputs, so a direct matrix product beats an FFT-based transform.

use ndarray::{Array2, ArrayView2};

/// `norm=` of `scipy.fftpack.dct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DctNorm {
    /// `norm=None`: `y[k] = 2 Σ x[n] cos(π k (2n+1) / 2N)`.
    Unnormalized,
    /// `norm="ortho"`: the orthonormal basis.
    Ortho,
}

/// The first `n_out` DCT-II outputs of length-`n` inputs, as a precomputed `f64` basis.
#[derive(Debug, Clone)]
pub struct Dct2 {
    n: usize,
    n_out: usize,
    basis: Vec<f64>,
}

impl Dct2 {
    pub fn new(n: usize, n_out: usize, norm: DctNorm) -> Self {
        let n_out = n_out.min(n);
        let mut basis = Vec::with_capacity(n * n_out);
        for k in 0..n_out {
            let scale = match (norm, k) {
                (DctNorm::Unnormalized, _) => 2.0,
                (DctNorm::Ortho, 0) => (1.0 / n as f64).sqrt(),
                (DctNorm::Ortho, _) => (2.0 / n as f64).sqrt(),
            };
            for i in 0..n {
                // Reduce the phase exactly in integers before scaling, so large k·(2i+1) lose
                // no precision.
                let phase = (k * (2 * i + 1)) % (4 * n);
                basis.push(scale * (std::f64::consts::PI * phase as f64 / (2 * n) as f64).cos());
            }
        }
        Dct2 { n, n_out, basis }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// `scipy.fftpack.dct(x, type=2, axis=0, norm=...)[:n_out]` of an `(n, cols)` matrix.
    ///
    /// Sums run in `f64` and are rounded once, where scipy works in `float32` throughout: ours is
    /// the more accurate of the two. Columns (frames) are processed [`COLS`] at a time with the
    /// accumulators in registers; every output is still one sequential sum over `n`.
    pub fn transform(&self, x: ArrayView2<f32>) -> Array2<f32> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.transform_avx2(x) };
        }
        self.transform_portable(x)
    }

    /// [`Self::transform_portable`] compiled for AVX2; no FMA, so bit-identical results.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn transform_avx2(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.transform_portable(x)
    }

    #[inline(always)]
    fn transform_portable(&self, x: ArrayView2<f32>) -> Array2<f32> {
        assert_eq!(x.nrows(), self.n, "DCT input length");
        let cols = x.ncols();
        let mut out = Array2::<f32>::zeros((self.n_out, cols));
        if self.n == 0 || cols == 0 {
            return out;
        }
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout is contiguous");
        let flat = out.as_slice_mut().expect("freshly built arrays are contiguous");
        let mut block = vec![0f64; self.n * COLS];
        for c0 in (0..cols).step_by(COLS) {
            let width = COLS.min(cols - c0);
            for (dst, src) in block.chunks_exact_mut(COLS).zip(xs.chunks_exact(cols)) {
                dst.iter_mut().zip(&src[c0..c0 + width]).for_each(|(d, &v)| *d = v as f64);
            }
            for (k, basis) in self.basis.chunks_exact(self.n).enumerate() {
                let mut acc = [0f64; COLS];
                for (&b, xrow) in basis.iter().zip(block.chunks_exact(COLS)) {
                    for (a, &v) in acc.iter_mut().zip(xrow) {
                        *a += b * v;
                    }
                }
                let dst = &mut flat[k * cols + c0..k * cols + c0 + width];
                dst.iter_mut().zip(&acc).for_each(|(d, &a)| *d = a as f32);
            }
        }
        out
    }
}

/// Columns transformed together by [`Dct2::transform`].
const COLS: usize = 8;

/// `scipy.fftpack.dct(x, type=2, axis=0, norm=norm)[:n_out]` for a `float32` matrix.
pub fn dct2(x: ArrayView2<f32>, n_out: usize, norm: DctNorm) -> Array2<f32> {
    Dct2::new(x.nrows(), n_out, norm).transform(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_scipy_ortho() {
        // scipy.fftpack.dct(np.array([1., 2., 3., 4.]), norm='ortho')
        let y = dct2(array![[1.0f32], [2.0], [3.0], [4.0]].view(), 4, DctNorm::Ortho);
        let expect = [5.0, -2.2304424973876635, 0.0, -0.15851266778110706];
        for (a, b) in y.iter().zip(expect) {
            assert!((*a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn matches_scipy_unnormalized() {
        // scipy.fftpack.dct(np.array([4., 3., 5., 10.]))
        let y = dct2(array![[4.0f32], [3.0], [5.0], [10.0]].view(), 4, DctNorm::Unnormalized);
        let expect = [44.0, -12.617288119595798, 8.48528137423857, -0.8966830583359302];
        for (a, b) in y.iter().zip(expect) {
            assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
