//! Power spectra of STFT frames projected onto the mel filters, frame by frame, without
//! materialising the STFT.

use super::filters::{SparseFilters, BATCH};
use crate::pad::pad;
use crate::stft::StftParams;
use crate::window::Window;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftNum, FftPlanner};
use std::sync::Arc;

/// The FFT precisions the frame loop supports, with the arithmetic each one implies.
pub(crate) trait Real: FftNum {
    /// A windowed sample; numpy promotes the `float32` frame against the `float64` window.
    fn windowed(x: f32, w: Self) -> Self;
    fn from_window(w: f64) -> Self;
    /// `|c|` of `c = re + i·im` rounded to `complex64`, as numpy's `float32` `abs` (`hypotf`).
    fn magnitude(re: Self, im: Self) -> f32;
    /// `|c|²` as above.
    fn squared_magnitude(re: Self, im: Self) -> f32;
}

impl Real for f64 {
    fn windowed(x: f32, w: f64) -> f64 {
        x as f64 * w
    }

    fn from_window(w: f64) -> f64 {
        w
    }

    /// glibc's `hypotf` is `sqrt(x² + y²)` in `f64`; with `f32` inputs the squares are exact, so
    /// this is the same value, and it vectorises.
    #[inline(always)]
    fn magnitude(re: f64, im: f64) -> f32 {
        let (re, im) = (re as f32 as f64, im as f32 as f64);
        (re * re + im * im).sqrt() as f32
    }

    /// librosa rounds `|c|` to `float32` and squares it in `float32`; we round the exact square
    /// once. The two differ by at most ~2 ULP, less than the `float32` BLAS summation that
    /// follows, and skipping the square root halves the cost of this step.
    #[inline(always)]
    fn squared_magnitude(re: f64, im: f64) -> f32 {
        let (re, im) = (re as f32 as f64, im as f32 as f64);
        (re * re + im * im) as f32
    }
}

impl Real for f32 {
    fn windowed(x: f32, w: f32) -> f32 {
        x * w
    }

    fn from_window(w: f64) -> f32 {
        w as f32
    }

    #[inline(always)]
    fn magnitude(re: f32, im: f32) -> f32 {
        (re as f64).hypot(im as f64) as f32
    }

    #[inline(always)]
    fn squared_magnitude(re: f32, im: f32) -> f32 {
        re * re + im * im
    }
}

/// The STFT's frames of a signal, centre-padded as `np.pad` would, without copying the whole
/// signal: only the frames that overlap the padding read from padded copies of the edges.
pub(crate) struct FrameSource<'a> {
    head: Vec<f32>,
    body: &'a [f32],
    /// Where `body` starts, in padded coordinates.
    body_offset: usize,
    tail: Vec<f32>,
    tail_offset: usize,
    n_fft: usize,
    hop: usize,
    pub(crate) n_frames: usize,
}

impl<'a> FrameSource<'a> {
    /// `None` when the (padded) signal is shorter than one frame.
    pub(crate) fn new(y: &'a [f32], params: &StftParams) -> Option<Self> {
        let StftParams { n_fft, hop_length: hop, center, pad_mode, .. } = *params;
        let half = if center { n_fft / 2 } else { 0 };
        let padded_len = y.len() + 2 * half;
        if padded_len < n_fft {
            return None;
        }
        let n_frames = 1 + (padded_len - n_fft) / hop;
        let mut source = FrameSource {
            head: Vec::new(),
            body: y,
            body_offset: half,
            tail: Vec::new(),
            tail_offset: 0,
            n_fft,
            hop,
            n_frames,
        };
        if half == 0 {
            return Some(source);
        }
        if y.len() < 2 * n_fft {
            // Short signals may reflect more than once; pad them whole.
            source.head = pad(y, half, half, pad_mode);
            source.body = &[];
            return Some(source);
        }
        // The edges only reflect samples within `half` of the ends, so padding `n_fft + half`
        // samples at each end covers every frame that reaches into the padding.
        let edge = n_fft + half;
        source.head = pad(&y[..edge], half, 0, pad_mode);
        source.tail = pad(&y[y.len() - edge..], 0, half, pad_mode);
        source.tail_offset = y.len() - edge + half;
        Some(source)
    }

    #[inline(always)]
    fn frame(&self, t: usize) -> &[f32] {
        let start = t * self.hop;
        let end = start + self.n_fft;
        if end <= self.head.len() {
            &self.head[start..end]
        } else if start >= self.body_offset && end <= self.body_offset + self.body.len() {
            &self.body[start - self.body_offset..end - self.body_offset]
        } else {
            &self.tail[start - self.tail_offset..end - self.tail_offset]
        }
    }
}

/// A planned FFT and window for frames of one length.
pub(crate) struct FramePlan<T: Real> {
    fft: Arc<dyn Fft<T>>,
    window: Vec<T>,
}

impl<T: Real> FramePlan<T> {
    pub(crate) fn new(n_fft: usize, window: Window) -> Self {
        FramePlan {
            fft: FftPlanner::<T>::new().plan_fft_forward(n_fft),
            window: window.samples(n_fft).into_iter().map(T::from_window).collect(),
        }
    }

    /// Writes the mel projection of `|FFT(frame_t · window)|^power` to `out[m * n_frames + t]`,
    /// i.e. an `(n_mels, n_frames)` row-major matrix.
    ///
    /// Two real frames go through one complex FFT, one as the real part and one as the
    /// imaginary part: the same spectra as two real FFTs to rounding, for about half the work.
    /// Spectra are then projected [`BATCH`] frames at a time, so the short per-filter loops
    /// run across frames instead of paying their overhead once per frame.
    pub(crate) fn project(&self, frames: &FrameSource, power: f32, filters: &SparseFilters, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.project_avx2(frames, power, filters, out) };
        }
        self.project_portable(frames, power, filters, out)
    }

    /// The same code compiled for AVX2: twice the SIMD width for the per-bin loops. No FMA, so
    /// results are bit-identical to the portable build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn project_avx2(&self, frames: &FrameSource, power: f32, filters: &SparseFilters, out: &mut [f32]) {
        self.project_portable(frames, power, filters, out)
    }

    #[inline(always)]
    fn project_portable(&self, frames: &FrameSource, power: f32, filters: &SparseFilters, out: &mut [f32]) {
        let (n_fft, n_frames) = (self.window.len(), frames.n_frames);
        let frame = |t: usize| frames.frame(t);
        let mut buf = vec![Complex::new(T::zero(), T::zero()); n_fft];
        let mut scratch = vec![Complex::new(T::zero(), T::zero()); self.fft.get_inplace_scratch_len()];
        let mut spectra = vec![0f32; (n_fft / 2 + 1) * BATCH];
        let (mut pa, mut pb) = (vec![0f32; n_fft / 2 + 1], vec![0f32; n_fft / 2 + 1]);
        for t0 in (0..n_frames).step_by(BATCH) {
            let width = BATCH.min(n_frames - t0);
            for slot in (0..width).step_by(2) {
                let t = t0 + slot;
                let second = (slot + 1 < width).then(|| frame(t + 1));
                self.windowed_pair(frame(t), second, &mut buf);
                self.fft.process_with_scratch(&mut buf, &mut scratch);
                split_power_spectra(&buf, power, &mut pa, &mut pb);
                interleave(&pa, &pb, &mut spectra, slot);
            }
            filters.apply_batch(&spectra, width, &mut out[t0..], n_frames);
        }
    }

    #[inline(always)]
    fn windowed_pair(&self, a: &[f32], b: Option<&[f32]>, buf: &mut [Complex<T>]) {
        match b {
            None => {
                for ((z, &x), &w) in buf.iter_mut().zip(a).zip(&self.window) {
                    *z = Complex::new(T::windowed(x, w), T::zero());
                }
            }
            Some(b) => {
                for (((z, &x), &y), &w) in buf.iter_mut().zip(a).zip(b).zip(&self.window) {
                    *z = Complex::new(T::windowed(x, w), T::windowed(y, w));
                }
            }
        }
    }
}

/// Separates `Z = A + iB` (`A`, `B` spectra of real frames) by Hermitian symmetry,
/// `A[k] = (Z[k] + conj Z[N-k]) / 2` and `B[k] = (Z[k] - conj Z[N-k]) / 2i`, and writes
/// `np.abs(S) ** power` of each, as librosa takes it of its `complex64` STFT, to `pa` and `pb`.
#[inline(always)]
fn split_power_spectra<T: Real>(z: &[Complex<T>], power: f32, pa: &mut [f32], pb: &mut [f32]) {
    let half = z.len() / 2;
    let h = T::from_f64(0.5).expect("0.5 is representable");
    let zero = T::zero();
    let mirrored = || z[1..=half].iter().zip(z[half..].iter().rev());
    let (pa, pb) = (&mut pa[..=half], &mut pb[..=half]);
    if power == 2.0 {
        pa[0] = T::squared_magnitude(z[0].re, zero);
        pb[0] = T::squared_magnitude(z[0].im, zero);
        for ((a, b), (zk, zm)) in pa[1..].iter_mut().zip(pb[1..].iter_mut()).zip(mirrored()) {
            *a = T::squared_magnitude(h * (zk.re + zm.re), h * (zk.im - zm.im));
            *b = T::squared_magnitude(h * (zk.im + zm.im), h * (zm.re - zk.re));
        }
        return;
    }
    pa[0] = T::magnitude(z[0].re, zero);
    pb[0] = T::magnitude(z[0].im, zero);
    for ((a, b), (zk, zm)) in pa[1..].iter_mut().zip(pb[1..].iter_mut()).zip(mirrored()) {
        *a = T::magnitude(h * (zk.re + zm.re), h * (zk.im - zm.im));
        *b = T::magnitude(h * (zk.im + zm.im), h * (zm.re - zk.re));
    }
    if power != 1.0 {
        pa.iter_mut().chain(pb.iter_mut()).for_each(|v| *v = v.powf(power));
    }
}

/// Stores two spectra as frames `slot` and `slot + 1` of the `[bin][BATCH]` layout.
#[inline(always)]
fn interleave(pa: &[f32], pb: &[f32], spectra: &mut [f32], slot: usize) {
    for ((bin, &a), &b) in spectra.chunks_exact_mut(BATCH).zip(pa).zip(pb) {
        bin[slot] = a;
        bin[slot + 1] = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PadMode;

    #[test]
    fn edge_frames_read_the_padding_like_np_pad() {
        // Long enough for the split head/body/tail path, against padding the whole signal.
        let y: Vec<f32> = (0..3 * 2048 + 700).map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.5).collect();
        for pad_mode in [PadMode::Reflect, PadMode::Constant] {
            let params = StftParams::new(2048).hop_length(512).pad_mode(pad_mode);
            let padded = pad(&y, 1024, 1024, pad_mode);
            let source = FrameSource::new(&y, &params).unwrap();
            assert_eq!(source.n_frames, 1 + y.len() / 512);
            for t in 0..source.n_frames {
                assert_eq!(source.frame(t), &padded[t * 512..t * 512 + 2048], "frame {t}");
            }
        }
    }

    #[test]
    fn simd_dispatch_is_bit_identical_to_portable() {
        let y: Vec<f32> = (0..9000).map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.5).collect();
        let params = StftParams::new(2048).hop_length(512);
        let frames = FrameSource::new(&y, &params).unwrap();
        let filters = SparseFilters::new(&super::super::mel_filters(22050, 2048, &Default::default()));
        let n = 128 * frames.n_frames;
        let (mut dispatched, mut portable) = (vec![0f32; n], vec![0f32; n]);
        let plan = FramePlan::<f64>::new(2048, Window::Hann);
        plan.project(&frames, 2.0, &filters, &mut dispatched);
        plan.project_portable(&frames, 2.0, &filters, &mut portable);
        assert!(dispatched.iter().zip(&portable).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
