//! The sparse (CSR) filter basis, built as `util.sparsify_rows` builds it.

use super::numpy_ops::cabs64;
use crate::stft::Complex32;
use jukemir_audio::numpy::pairwise_sum;
use ndarray::Array2;
use realfft::num_complex::Complex;

/// A `complex64` CSR matrix whose rows keep their column indices in ascending order, as scipy's
/// `lil_matrix.tocsr()` leaves them (the order decides how the products round).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseRows {
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<usize>,
    data: Vec<Complex32>,
}

impl SparseRows {
    /// `util.sparsify_rows(x, quantile, dtype=complex64)`: per row, drop the smallest-magnitude
    /// entries whose magnitudes sum to less than `quantile` of the row's L1 norm; keep the rest
    /// (ties included), rounded to `complex64`.
    pub fn sparsify(x: &Array2<Complex<f64>>, quantile: f64) -> Self {
        let (n_rows, n_cols) = x.dim();
        let mut out = SparseRows { n_cols, indptr: vec![0], indices: Vec::new(), data: Vec::new() };
        let mut mags = Vec::with_capacity(n_cols);
        let mut sorted = Vec::with_capacity(n_cols);
        for i in 0..n_rows {
            let row = x.row(i);
            mags.clear();
            mags.extend(row.iter().map(|c| cabs64(c.re, c.im)));
            let norm = pairwise_sum(&mags);
            sorted.clear();
            sorted.extend_from_slice(&mags);
            sorted.sort_by(f64::total_cmp);
            // np.argmin(cumsum(sorted / norm) < quantile): the first index where the running
            // share reaches the quantile, or 0 when it never does (a NaN share, for a zero row).
            let mut cumulative = 0.0;
            let mut threshold_idx = 0;
            for (j, &m) in sorted.iter().enumerate() {
                cumulative = if j == 0 { m / norm } else { cumulative + m / norm };
                if cumulative.partial_cmp(&quantile) != Some(std::cmp::Ordering::Less) {
                    threshold_idx = j;
                    break;
                }
            }
            let threshold = sorted[threshold_idx];
            for (j, (c, &m)) in row.iter().zip(&mags).enumerate() {
                let v = Complex32::new(c.re as f32, c.im as f32);
                // lil_matrix does not store explicit zeros.
                if m >= threshold && (v.re != 0.0 || v.im != 0.0) {
                    out.indices.push(j);
                    out.data.push(v);
                }
            }
            out.indptr.push(out.indices.len());
        }
        out
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Stored entries in all rows.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[usize], &[Complex32]) {
        let span = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[span.clone()], &self.data[span])
    }

    /// The matrix times `s`, as numpy scales `complex64` data by a float scalar: in `float32`,
    /// with the scalar rounded to `float32` first.
    pub fn scaled(&self, s: f64) -> Self {
        let s = s as f32;
        let data = self.data.iter().map(|c| Complex32::new(c.re * s, c.im * s)).collect();
        SparseRows { data, ..self.clone() }
    }

    pub fn to_dense(&self) -> Array2<Complex32> {
        let mut dense = Array2::zeros((self.n_rows(), self.n_cols));
        for i in 0..self.n_rows() {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                dense[[i, j]] = v;
            }
        }
        dense
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_mass_above_the_quantile() {
        // Magnitudes 1, 2, 100, 3: dropping 1 (share 0.0094 < 0.01) and keeping the rest.
        let x = Array2::from_shape_vec(
            (1, 4),
            vec![Complex::new(1.0, 0.0), Complex::new(0.0, 2.0), Complex::new(-100.0, 0.0), Complex::new(3.0, 0.0)],
        )
        .unwrap();
        let s = SparseRows::sparsify(&x, 0.01);
        assert_eq!(s.row(0).0, &[1, 2, 3]);
        let s = SparseRows::sparsify(&x, 0.0);
        assert_eq!(s.nnz(), 4);
    }

    #[test]
    fn a_zero_row_stays_empty() {
        let x = Array2::<Complex<f64>>::zeros((2, 5));
        let s = SparseRows::sparsify(&x, 0.01);
        assert_eq!(s.nnz(), 0);
        assert_eq!(s.row(1).0.len(), 0);
    }

    #[test]
    fn scaling_rounds_the_scalar_to_f32() {
        let x = Array2::from_shape_vec((1, 2), vec![Complex::new(1.0, 1.0), Complex::new(0.0, 2.0)]).unwrap();
        let s = SparseRows::sparsify(&x, 0.0).scaled(2f64.sqrt());
        let r = std::f32::consts::SQRT_2;
        assert_eq!(s.to_dense()[[0, 0]], Complex32::new(r, r));
        assert_eq!(s.to_dense()[[0, 1]], Complex32::new(0.0, 2.0 * r));
    }
}
