//! Band-limited sinc resampling, a faithful port of resampy 0.2.2 (the resampler librosa 0.8.1
//! uses for `librosa.load` and inside the CQT).
//!
//! Faithful means the same filter tables, the same output positions and filter phases, and the
//! same taps, so our output agrees with librosa's to ~1e-7 of the peak rather than merely being
//! of "similar quality" (see `resample_kernel` for the one difference, the summation precision).

use std::sync::OnceLock;

/// The two precomputed filters resampy ships (`resampy/data/*.npz`), regenerated from their
/// defining parameters instead of embedded (they agree with the shipped tables to ~3e-16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResampleFilter {
    /// `kaiser_best`: 64 zero crossings, 512 steps per crossing. `librosa.load`'s default.
    KaiserBest,
    /// `kaiser_fast`: 16 zero crossings, 512 steps per crossing. Used by the CQT's early
    /// downsampling.
    KaiserFast,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResampleError {
    #[error("invalid sample rate {0} Hz (must be positive)")]
    InvalidRate(u32),
    #[error("input of {len} samples is too short to resample from {from} Hz to {to} Hz")]
    TooShort { len: usize, from: u32, to: u32 },
    #[error("cannot resample from {from} Hz to {to} Hz: more than 512-fold downsampling is beyond the filter table")]
    RatioTooSmall { from: u32, to: u32 },
}

struct FilterTable {
    half_window: Vec<f64>,
    precision: usize,
}

const PRECISION_BITS: u32 = 9;

impl ResampleFilter {
    fn params(self) -> (usize, f64, f64) {
        // (zero crossings, rolloff, Kaiser beta), from resampy 0.2.2's filter definitions.
        match self {
            ResampleFilter::KaiserBest => (64, 0.947_593_716_739_959_6, 14.769_656_459_379_492),
            ResampleFilter::KaiserFast => (16, 0.85, 8.555_504_641_634_386),
        }
    }

    fn table(self) -> &'static FilterTable {
        static BEST: OnceLock<FilterTable> = OnceLock::new();
        static FAST: OnceLock<FilterTable> = OnceLock::new();
        let cell = match self {
            ResampleFilter::KaiserBest => &BEST,
            ResampleFilter::KaiserFast => &FAST,
        };
        cell.get_or_init(|| {
            let (zeros, rolloff, beta) = self.params();
            FilterTable {
                half_window: sinc_kaiser_half_window(zeros, PRECISION_BITS, rolloff, beta),
                precision: 1 << PRECISION_BITS,
            }
        })
    }
}

/// resampy.filters.sinc_window with a symmetric Kaiser taper (scipy.signal.kaiser).
fn sinc_kaiser_half_window(num_zeros: usize, precision_bits: u32, rolloff: f64, beta: f64) -> Vec<f64> {
    let num_bits = 1usize << precision_bits;
    let n = num_bits * num_zeros;
    let i0_beta = bessel_i0(beta);
    let step = num_zeros as f64 / n as f64;
    (0..=n)
        .map(|k| {
            // numpy.linspace pins its last point to `stop` exactly.
            let t = if k == n { num_zeros as f64 } else { k as f64 * step };
            let x = rolloff * t;
            let sinc = if x == 0.0 { 1.0 } else { (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x) };
            // Right half of a symmetric Kaiser window of length 2n+1, centred on k = 0.
            let r = k as f64 / n as f64;
            let taper = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            rolloff * sinc * taper
        })
        .collect()
}

/// Modified Bessel function of the first kind, order 0, by its power series (exact to f64
/// rounding for the arguments used here, |x| < 20).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-18 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// `resampy.resample(x, sr_orig, sr_new, filter=…)`: output length `floor(len · sr_new/sr_orig)`.
pub fn resample(x: &[f32], sr_orig: u32, sr_new: u32, filter: ResampleFilter) -> Result<Vec<f32>, ResampleError> {
    check_rates(sr_orig, sr_new)?;
    let n_out = (x.len() as f64 * (sr_new as f64 / sr_orig as f64)) as u64;
    if n_out < 1 {
        return Err(ResampleError::TooShort { len: x.len(), from: sr_orig, to: sr_new });
    }
    let kernel = Kernel::new(sr_orig, sr_new, filter)?;
    let mut y = vec![0f32; n_out as usize];
    let mut time_register = 0.0f64;
    for out in y.iter_mut() {
        *out = kernel.output(time_register, x, 0);
        time_register += kernel.time_increment;
    }
    Ok(y)
}

/// [`resample`] of a signal that arrives in pieces: the same outputs, bit for bit, as resampling
/// the whole signal at once, while holding only the filter's reach of input. Outputs come out as
/// soon as every input sample they depend on has arrived.
pub struct StreamingResampler {
    kernel: Kernel,
    sr_orig: u32,
    sr_new: u32,
    /// Input from sample `base` on; older samples are no longer needed by any output.
    buf: Vec<f32>,
    base: u64,
    received: u64,
    time_register: f64,
    produced: u64,
    out: Vec<f32>,
}

impl StreamingResampler {
    pub fn new(sr_orig: u32, sr_new: u32, filter: ResampleFilter) -> Result<Self, ResampleError> {
        Ok(StreamingResampler {
            kernel: Kernel::new(sr_orig, sr_new, filter)?,
            sr_orig,
            sr_new,
            buf: Vec::new(),
            base: 0,
            received: 0,
            time_register: 0.0,
            produced: 0,
            out: Vec::new(),
        })
    }

    /// Adds input; returns the outputs it completed.
    pub fn push(&mut self, x: &[f32]) -> &[f32] {
        self.buf.extend_from_slice(x);
        self.received += x.len() as u64;
        self.out.clear();
        let reach = self.kernel.reach as u64;
        // Never beyond resampy's output length for the input so far (a lower bound of the final one).
        let limit = self.kernel.output_len(self.received);
        while self.produced < limit {
            let n = self.time_register as u64;
            if n + 1 + reach > self.received {
                break;
            }
            self.emit();
        }
        // Keep `reach` samples before the next output's centre, so its left wing reads the same
        // taps as in one pass (see `PhaseRows::left`: with at least `reach` samples before the
        // centre it never takes the start-of-signal branch, and from sample 0 it takes it as
        // [`resample`] does). Drained in large steps to keep the copying linear.
        let keep_from = (self.time_register as u64).saturating_sub(reach);
        if keep_from >= self.base + (reach.max(1 << 14)) {
            self.buf.drain(..(keep_from - self.base) as usize);
            self.base = keep_from;
        }
        &self.out
    }

    /// Ends the input; returns the remaining outputs (the total is `floor(len · sr_new/sr_orig)`).
    pub fn finish(&mut self) -> Result<&[f32], ResampleError> {
        let n_out = self.kernel.output_len(self.received);
        if n_out < 1 {
            let len = usize::try_from(self.received).unwrap_or(usize::MAX);
            return Err(ResampleError::TooShort { len, from: self.sr_orig, to: self.sr_new });
        }
        self.out.clear();
        while self.produced < n_out {
            self.emit();
        }
        Ok(&self.out)
    }

    /// Outputs so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Input samples so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    fn emit(&mut self) {
        let y = self.kernel.output(self.time_register, &self.buf, self.base as usize);
        self.out.push(y);
        self.produced += 1;
        self.time_register += self.kernel.time_increment;
    }
}

fn check_rates(sr_orig: u32, sr_new: u32) -> Result<(), ResampleError> {
    for rate in [sr_orig, sr_new] {
        if rate == 0 {
            return Err(ResampleError::InvalidRate(rate));
        }
    }
    Ok(())
}

/// One resampling, ready to compute any output from the input around it.
struct Kernel {
    rows: PhaseRows,
    sample_ratio: f64,
    scale: f64,
    time_increment: f64,
    num_table: usize,
    /// The most taps either wing reads.
    reach: usize,
}

impl Kernel {
    fn new(sr_orig: u32, sr_new: u32, filter: ResampleFilter) -> Result<Self, ResampleError> {
        check_rates(sr_orig, sr_new)?;
        let sample_ratio = sr_new as f64 / sr_orig as f64;
        let table = filter.table();
        let mut interp_win = table.half_window.clone();
        if sample_ratio < 1.0 {
            interp_win.iter_mut().for_each(|w| *w *= sample_ratio);
        }
        let mut interp_delta = vec![0.0; interp_win.len()];
        for i in 0..interp_win.len() - 1 {
            interp_delta[i] = interp_win[i + 1] - interp_win[i];
        }
        let num_table = table.precision;
        let scale = sample_ratio.min(1.0);
        let index_step = (scale * num_table as f64) as usize;
        if index_step == 0 {
            return Err(ResampleError::RatioTooSmall { from: sr_orig, to: sr_new });
        }
        let rows = PhaseRows::new(&interp_win, &interp_delta, index_step);
        let reach = rows.taps.iter().copied().max().unwrap_or(0);
        Ok(Kernel { rows, sample_ratio, scale, time_increment: 1.0 / sample_ratio, num_table, reach })
    }

    fn output_len(&self, input_len: u64) -> u64 {
        (input_len as f64 * self.sample_ratio) as u64
    }

    /// resampy's `resample_f` for the output at `time_register` (its running sum, whose rounding
    /// decides the input index and filter phase): the same taps and the same linear interpolation
    /// of the filter table, `Σ (win + eta·delta) · x`. `x[0]` is input sample `base`.
    ///
    /// One deliberate difference: resampy (with float32 audio) rounds its running sum to f32 after
    /// every tap; we sum in f64 and round once. That is more accurate, lets the sums vectorise
    /// (about 5x faster), and stays within ~1e-7 of resampy's output relative to the signal's peak.
    #[inline]
    fn output(&self, time_register: f64, x: &[f32], base: usize) -> f32 {
        let n = time_register as usize;

        let frac = self.scale * (time_register - n as f64);
        let index_frac = frac * self.num_table as f64;
        let offset = index_frac as usize;
        let eta = index_frac - offset as f64;
        let mut sum = self.rows.left(offset, eta, x, n - base);

        let frac = self.scale - frac;
        let index_frac = frac * self.num_table as f64;
        let offset = index_frac as usize;
        let eta = index_frac - offset as f64;
        sum += self.rows.right(offset, eta, x, n - base);

        // resampy adds into a zeroed output (which turns a -0.0 sum into 0.0).
        (0.0 + sum) as f32
    }
}

/// resampy's table rearranged by phase: row `o` holds `win[o], win[o + step], win[o + 2·step], …`
/// (and the same for the differences), so every output reads its taps contiguously.
struct PhaseRows {
    width: usize,
    win: Vec<f64>,
    delta: Vec<f64>,
    /// Each row's taps in reverse order, for the left wing, which walks the input backwards.
    win_rev: Vec<f64>,
    delta_rev: Vec<f64>,
    /// Taps available in each row: resampy's `(nwin - offset) // index_step`.
    taps: Vec<usize>,
}

impl PhaseRows {
    fn new(interp_win: &[f64], interp_delta: &[f64], index_step: usize) -> Self {
        let nwin = interp_win.len();
        // Offsets reach index_step itself when scale·num_table is not an integer.
        let rows = index_step + 1;
        let width = nwin / index_step + 1;
        let mut win = vec![0.0; rows * width];
        let mut delta = vec![0.0; rows * width];
        let mut taps = vec![0; rows];
        for o in 0..rows.min(nwin) {
            let n = (nwin - o) / index_step;
            taps[o] = n;
            for i in 0..n {
                win[o * width + i] = interp_win[o + i * index_step];
                delta[o * width + i] = interp_delta[o + i * index_step];
            }
        }
        let mut win_rev = vec![0.0; rows * width];
        let mut delta_rev = vec![0.0; rows * width];
        for (o, &n) in taps.iter().enumerate() {
            let at = o * width;
            for i in 0..n {
                win_rev[at + i] = win[at + n - 1 - i];
                delta_rev[at + i] = delta[at + n - 1 - i];
            }
        }
        PhaseRows { width, win, delta, win_rev, delta_rev, taps }
    }

    /// The left wing's sums for output position `n`: taps pair with x[n], x[n-1], ….
    /// `Σ (win + eta·delta)·x` of the left wing for output position `n`: taps pair with x[n],
    /// x[n-1], ….
    fn left(&self, offset: usize, eta: f64, x: &[f32], n: usize) -> f64 {
        let full = self.taps[offset];
        let start = offset * self.width;
        if full <= n + 1 {
            let (w, d) = (&self.win_rev[start..start + full], &self.delta_rev[start..start + full]);
            interpolated_dot(w, d, eta, &x[n + 1 - full..=n])
        } else {
            // Near the start of the signal only the first n + 1 taps have input.
            let taps = n + 1;
            let (w, d) = (&self.win[start..start + taps], &self.delta[start..start + taps]);
            let xs: Vec<f32> = x[..=n].iter().rev().copied().collect();
            interpolated_dot(w, d, eta, &xs)
        }
    }

    /// The same for the right wing: taps pair with x[n+1], x[n+2], ….
    fn right(&self, offset: usize, eta: f64, x: &[f32], n: usize) -> f64 {
        let taps = self.taps[offset].min(x.len().saturating_sub(n + 1));
        let start = offset * self.width;
        let (w, d) = (&self.win[start..start + taps], &self.delta[start..start + taps]);
        interpolated_dot(w, d, eta, &x[n + 1..n + 1 + taps])
    }
}

/// `Σ (wᵢ + eta·dᵢ)·xᵢ`, skipping the second sum when the phase falls on a table entry (always,
/// when halving the rate, as the CQT does).
fn interpolated_dot(w: &[f64], d: &[f64], eta: f64, x: &[f32]) -> f64 {
    if eta == 0.0 {
        dot(w, x)
    } else {
        let (a, b) = dot_pair(w, d, x);
        a + eta * b
    }
}

/// `(Σ wᵢ·xᵢ, Σ dᵢ·xᵢ)` in f64, with four partial sums each so the additions vectorise.
fn dot_pair(w: &[f64], d: &[f64], x: &[f32]) -> (f64, f64) {
    let n = w.len().min(d.len()).min(x.len());
    let (w, d, x) = (&w[..n], &d[..n], &x[..n]);
    let mut sw = [0f64; 4];
    let mut sd = [0f64; 4];
    let (wc, dc, xc) = (w.chunks_exact(4), d.chunks_exact(4), x.chunks_exact(4));
    let (wr, dr, xr) = (wc.remainder(), dc.remainder(), xc.remainder());
    for ((w4, d4), x4) in wc.zip(dc).zip(xc) {
        for j in 0..4 {
            let xv = x4[j] as f64;
            sw[j] += w4[j] * xv;
            sd[j] += d4[j] * xv;
        }
    }
    for ((&wi, &di), &xi) in wr.iter().zip(dr).zip(xr) {
        sw[0] += wi * xi as f64;
        sd[0] += di * xi as f64;
    }
    ((sw[0] + sw[1]) + (sw[2] + sw[3]), (sd[0] + sd[1]) + (sd[2] + sd[3]))
}

/// `Σ wᵢ·xᵢ` in f64, four partial sums.
fn dot(w: &[f64], x: &[f32]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut s = [0f64; 4];
    let (wc, xc) = (w.chunks_exact(4), x.chunks_exact(4));
    let (wr, xr) = (wc.remainder(), xc.remainder());
    for (w4, x4) in wc.zip(xc) {
        for j in 0..4 {
            s[j] += w4[j] * x4[j] as f64;
        }
    }
    for (&wi, &xi) in wr.iter().zip(xr) {
        s[0] += wi * xi as f64;
    }
    (s[0] + s[1]) + (s[2] + s[3])
}

/// `librosa.resample(y, orig_sr, target_sr, res_type, fix=True, scale)` from librosa 0.8.1:
/// resampy's output zero-padded (or trimmed) to `ceil(len · ratio)`, optionally divided by
/// `sqrt(ratio)`. Equal rates return the input unchanged, as librosa does.
pub fn librosa_resample(
    y: &[f32],
    orig_sr: u32,
    target_sr: u32,
    filter: ResampleFilter,
    scale: bool,
) -> Result<Vec<f32>, ResampleError> {
    if orig_sr == target_sr {
        return Ok(y.to_vec());
    }
    let ratio = target_sr as f64 / orig_sr as f64;
    let n_samples = (y.len() as f64 * ratio).ceil() as usize;
    let mut out = resample(y, orig_sr, target_sr, filter)?;
    out.resize(n_samples, 0.0);
    if scale {
        // numpy (value-based casting) rounds the float64 scalar `np.sqrt(ratio)` to float32 and
        // divides the float32 array in float32.
        let s = ratio.sqrt() as f32;
        out.iter_mut().for_each(|v| *v /= s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lengths_follow_resampy_and_librosa() {
        let x = vec![0.0f32; 1001];
        assert_eq!(resample(&x, 44100, 22050, ResampleFilter::KaiserBest).unwrap().len(), 500);
        assert_eq!(librosa_resample(&x, 44100, 22050, ResampleFilter::KaiserBest, false).unwrap().len(), 501);
        assert_eq!(librosa_resample(&x, 16000, 22050, ResampleFilter::KaiserFast, false).unwrap().len(), 1380);
    }

    #[test]
    fn rejects_bad_rates_and_too_short_input() {
        assert_eq!(resample(&[0.0; 10], 0, 100, ResampleFilter::KaiserFast), Err(ResampleError::InvalidRate(0)));
        assert!(matches!(
            resample(&[0.0; 1], 44100, 8000, ResampleFilter::KaiserFast),
            Err(ResampleError::TooShort { .. })
        ));
    }

    #[test]
    fn filter_table_matches_resampy_shape_and_peak() {
        let best = ResampleFilter::KaiserBest.table();
        assert_eq!(best.half_window.len(), 32769);
        assert!((best.half_window[0] - 0.947_593_716_739_959_6).abs() < 1e-15);
        assert_eq!(ResampleFilter::KaiserFast.table().half_window.len(), 8193);
    }

    #[test]
    fn a_low_tone_survives_downsampling() {
        let sr = 44100;
        let x: Vec<f32> =
            (0..sr).map(|i| (2.0 * std::f64::consts::PI * 440.0 * i as f64 / sr as f64).sin() as f32).collect();
        let y = resample(&x, sr, 22050, ResampleFilter::KaiserBest).unwrap();
        // Away from the edges the output is the same tone sampled at the new rate.
        for (t, v) in y.iter().enumerate().skip(1000).take(1000) {
            let expect = (2.0 * std::f64::consts::PI * 440.0 * t as f64 / 22050.0).sin();
            assert!((*v as f64 - expect).abs() < 1e-4, "sample {t}: {v} vs {expect}");
        }
    }

    /// Pieces of every size, at ratios up, down and not a simple fraction, with both filters:
    /// the streamed outputs are [`resample`]'s, bit for bit.
    #[test]
    fn streaming_equals_resampling_the_whole_signal() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let x: Vec<f32> = (0..30_011)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (i as f32 * 0.01).sin() + (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        for (from, to) in [(44100, 22050), (22050, 44100), (48000, 44100), (16000, 22050), (44100, 12000)] {
            for filter in [ResampleFilter::KaiserBest, ResampleFilter::KaiserFast] {
                let whole = resample(&x, from, to, filter).unwrap();
                for piece in [1, 7, 1000, 4096, 29_999, 100_000] {
                    let mut streaming = StreamingResampler::new(from, to, filter).unwrap();
                    let mut got = Vec::new();
                    for chunk in x.chunks(piece) {
                        got.extend_from_slice(streaming.push(chunk));
                    }
                    got.extend_from_slice(streaming.finish().unwrap());
                    assert_eq!(streaming.produced(), whole.len() as u64);
                    let same =
                        got.len() == whole.len() && got.iter().zip(&whole).all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{from}->{to} {filter:?} in pieces of {piece}");
                }
            }
        }
    }

    #[test]
    fn streaming_too_short_input_fails_like_resample() {
        let mut streaming = StreamingResampler::new(44100, 8000, ResampleFilter::KaiserFast).unwrap();
        assert!(streaming.push(&[0.5]).is_empty());
        assert!(matches!(streaming.finish(), Err(ResampleError::TooShort { len: 1, .. })));
    }
}
