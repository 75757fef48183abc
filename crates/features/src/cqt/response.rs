//! One octave's filter response, librosa's `__cqt_response`: a centred, reflect-padded STFT with a
//! rectangular window, each frame multiplied by the sparse basis. Computed frame by frame, so the
//! `(1 + n_fft/2, n_frames)` STFT matrix librosa materialises never exists here.

use super::sparse::SparseRows;
use crate::pad::{pad, PadMode};
use crate::stft::Complex32;
use ndarray::ArrayViewMut2;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Frames transformed together before the sparse product, so that each basis entry multiplies a
/// run of frames (vectorisable, with independent accumulators) as scipy's `csr_matvecs` does.
const BLOCK: usize = 16;

/// FFT plan and buffers for one `n_fft`, reused across octaves and frames.
pub(crate) struct ResponsePlan {
    n_fft: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    input: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// The used bins of a block of frames, `complex64` split into parts: `[bin][frame]`.
    block_re: Vec<f32>,
    block_im: Vec<f32>,
}

impl ResponsePlan {
    pub(crate) fn new(n_fft: usize) -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let input = fft.make_input_vec();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        ResponsePlan { n_fft, fft, input, spectrum, scratch, block_re: Vec::new(), block_im: Vec::new() }
    }

    pub(crate) fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// Writes rows `first_row..` of `basis · stft(y)` into `out` (one row per basis row, one
    /// column per frame, `out.ncols()` frames).
    ///
    /// Each frame is transformed in `float64` (numpy's `rfft` of the window-times-frame product)
    /// and rounded to `complex64` (librosa's STFT dtype); the sparse product then accumulates in
    /// `complex64`, entry by entry in column order, exactly as scipy does for each output.
    pub(crate) fn respond(
        &mut self,
        y: &[f32],
        hop: usize,
        basis: &SparseRows,
        first_row: usize,
        mut out: ArrayViewMut2<Complex32>,
    ) {
        let n_fft = self.n_fft;
        // numpy multiplies the float32 frames by the float64 "ones" window: convert once, then
        // each frame is a plain copy.
        let padded: Vec<f64> = pad(y, n_fft / 2, n_fft / 2, PadMode::Reflect).iter().map(|&v| v as f64).collect();
        // Only the bins some filter uses need rounding and storing.
        let (lo, hi) = used_columns(basis, first_row);
        self.block_re.resize((hi - lo) * BLOCK, 0.0);
        self.block_im.resize((hi - lo) * BLOCK, 0.0);
        let n_frames = out.ncols();
        for t0 in (0..n_frames).step_by(BLOCK) {
            let nb = BLOCK.min(n_frames - t0);
            for b in 0..nb {
                let start = (t0 + b) * hop;
                self.input.copy_from_slice(&padded[start..start + n_fft]);
                self.fft
                    .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
                    .expect("buffer sizes come from the plan");
                for (k, c) in self.spectrum[lo..hi].iter().enumerate() {
                    self.block_re[k * BLOCK + b] = c.re as f32;
                    self.block_im[k * BLOCK + b] = c.im as f32;
                }
            }
            for r in first_row..basis.n_rows() {
                let (cols, vals) = basis.row(r);
                let mut acc_re = [0f32; BLOCK];
                let mut acc_im = [0f32; BLOCK];
                for (&j, a) in cols.iter().zip(vals) {
                    let at = (j - lo) * BLOCK;
                    let xr: &[f32; BLOCK] = self.block_re[at..at + BLOCK].try_into().expect("BLOCK wide");
                    let xi: &[f32; BLOCK] = self.block_im[at..at + BLOCK].try_into().expect("BLOCK wide");
                    for b in 0..BLOCK {
                        acc_re[b] += a.re * xr[b] - a.im * xi[b];
                        acc_im[b] += a.re * xi[b] + a.im * xr[b];
                    }
                }
                let mut row = out.row_mut(r - first_row);
                for b in 0..nb {
                    row[t0 + b] = Complex32::new(acc_re[b], acc_im[b]);
                }
            }
        }
    }
}

/// Frames of the centred STFT librosa takes of a signal of `len` samples.
pub(crate) fn n_frames(len: usize, n_fft: usize, hop: usize) -> usize {
    1 + (len + 2 * (n_fft / 2) - n_fft) / hop
}

/// The half-open range of columns stored in rows `first_row..` (empty when there are none).
fn used_columns(basis: &SparseRows, first_row: usize) -> (usize, usize) {
    let mut lo = usize::MAX;
    let mut hi = 0;
    for i in first_row..basis.n_rows() {
        let (cols, _) = basis.row(i);
        if let (Some(&a), Some(&b)) = (cols.first(), cols.last()) {
            lo = lo.min(a);
            hi = hi.max(b + 1);
        }
    }
    if lo >= hi {
        (0, 0)
    } else {
        (lo, hi)
    }
}
