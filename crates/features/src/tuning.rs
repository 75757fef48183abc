//! Tuning estimation as librosa 0.8.1 does it: `piptrack` peaks on a Hann STFT, the louder half
//! of them, and the histogram peak of their deviation from the equal-tempered grid
//! (`estimate_tuning` / `pitch_tuning`).

use crate::cqt::numpy_ops::{cabs32_finite, linspace, remainder_f32};
use crate::pad::{pad, PadMode};
use crate::stft::StftParams;
use crate::window::Window;
use ndarray::Array2;
use realfft::RealFftPlanner;

/// `librosa.piptrack`'s parameters that jukemir uses; [`Default`] gives librosa's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiptrackParams {
    pub n_fft: usize,
    /// `None` is `n_fft / 4`.
    pub hop_length: Option<usize>,
    pub fmin: f64,
    pub fmax: f64,
    /// Peaks below this fraction of their frame's maximum are ignored.
    pub threshold: f32,
}

impl Default for PiptrackParams {
    fn default() -> Self {
        PiptrackParams { n_fft: 2048, hop_length: None, fmin: 150.0, fmax: 4000.0, threshold: 0.1 }
    }
}

/// One spectral peak: parabolically interpolated frequency and magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub bin: usize,
    pub frame: usize,
    pub pitch: f32,
    pub mag: f32,
}

/// The non-zero entries of `librosa.piptrack(y, sr, …)`'s `(pitches, magnitudes)`, frame by frame.
pub fn piptrack_peaks(y: &[f32], sr: u32, params: &PiptrackParams) -> Vec<Peak> {
    let n_fft = params.n_fft;
    let hop = params.hop_length.unwrap_or(n_fft / 4);
    if n_fft < 2 || hop == 0 {
        return Vec::new();
    }
    let n_bins = n_fft / 2 + 1;
    // fft_frequencies are k · (sr/2)/(n_bins − 1); only fmin ≤ f < fmax may hold a peak.
    let freqs = linspace(0.0, sr as f64 / 2.0, n_bins);
    let fmin = params.fmin.max(0.0);
    let fmax = params.fmax.min(sr as f64 / 2.0);
    let lo = freqs.iter().position(|&f| fmin <= f).unwrap_or(n_bins);
    let hi = freqs.iter().rposition(|&f| f < fmax).map_or(0, |k| k + 1);
    // Bin 0 is never a strict local maximum under util.localmax's edge padding, and the
    // Nyquist bin is never below fmax, so every candidate has both neighbours.
    let candidates = lo.max(1)..hi.min(n_bins - 1);
    if candidates.is_empty() {
        return Vec::new();
    }
    let threshold = params.threshold;
    let mut peaks = Vec::new();
    for_each_magnitude_frame(y, n_fft, hop, candidates.start - 1..candidates.end + 1, |t, ref_mag, mag| {
        let ref_value = threshold * ref_mag;
        // util.localmax on S * (S > ref): entries at or below the reference count as zero.
        let gated = |f: usize| if mag[f] > ref_value { mag[f] } else { 0.0 };
        for f in candidates.clone() {
            let g = gated(f);
            if g > gated(f - 1) && g >= gated(f + 1) {
                peaks.push(interpolate(mag, f, t, sr, n_fft));
            }
        }
    });
    peaks
}

/// `np.abs(stft(y, n_fft, hop))` (Hann window, centred, reflect padding), one frame at a time:
/// each frame windowed and transformed in `float64`, rounded to `complex64` as librosa stores it,
/// then numpy's `complex64` magnitude. No spectrogram is materialised, and magnitudes are only
/// computed for the bins in `needed` (the rest of `mag` is left 0) and for the frame maximum.
/// `visit(frame, max magnitude, magnitudes)`.
fn for_each_magnitude_frame(
    y: &[f32],
    n_fft: usize,
    hop: usize,
    needed: std::ops::Range<usize>,
    mut visit: impl FnMut(usize, f32, &[f32]),
) {
    let padded = pad(y, n_fft / 2, n_fft / 2, PadMode::Reflect);
    let window = Window::Hann.samples(n_fft);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let n_bins = spectrum.len();
    let needed = needed.start.min(n_bins)..needed.end.min(n_bins);
    let mut parts = vec![(0f32, 0f32); n_bins];
    let mut squares = vec![0f64; n_bins];
    let mut mag = vec![0f32; n_bins];
    let n_frames = StftParams::new(n_fft).hop_length(hop).n_frames(y.len());
    for t in 0..n_frames {
        let frame = &padded[t * hop..t * hop + n_fft];
        for ((dst, &s), &w) in input.iter_mut().zip(frame).zip(&window) {
            *dst = s as f64 * w;
        }
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch).expect("buffer sizes come from the plan");
        for ((p, q), c) in parts.iter_mut().zip(squares.iter_mut()).zip(&spectrum) {
            *p = (c.re as f32, c.im as f32);
            *q = p.0 as f64 * p.0 as f64 + p.1 as f64 * p.1 as f64;
        }
        for (m, &(re, im)) in mag[needed.clone()].iter_mut().zip(&parts[needed.clone()]) {
            *m = cabs32_finite(re, im);
        }
        visit(t, frame_max(&parts, &squares), &mag);
    }
}

/// The largest numpy magnitude in a frame, computing it only for bins whose exact squared
/// magnitude is within 1e-5 of the largest: numpy's magnitudes are within a few ulps (< 1e-6) of
/// the exact ones, so no other bin can hold the maximum.
fn frame_max(parts: &[(f32, f32)], squares: &[f64]) -> f32 {
    let max_sq = squares.iter().copied().fold(0.0, f64::max);
    let floor = max_sq * (1.0 - 1e-5);
    parts
        .iter()
        .zip(squares)
        .filter(|(_, &q)| q >= floor)
        .map(|(&(re, im), _)| cabs32_finite(re, im))
        .fold(0.0, f32::max)
}

/// librosa's parabolic interpolation around bin `f`, in its `float32` arithmetic.
fn interpolate(s: &[f32], f: usize, t: usize, sr: u32, n_fft: usize) -> Peak {
    let (prev, cur, next) = (s[f - 1], s[f], s[f + 1]);
    let avg = 0.5f32 * (next - prev);
    let shift_den = 2.0f32 * cur - next - prev;
    let guard = if shift_den.abs() < f32::MIN_POSITIVE { 1.0f32 } else { 0.0 };
    let shift = avg / (shift_den + guard);
    let dskew = 0.5f32 * avg * shift;
    // The bin index is an int64, so numpy adds the float32 shift in float64.
    let pitch = ((f as f64 + shift as f64) * sr as f64 / n_fft as f64) as f32;
    Peak { bin: f, frame: t, pitch, mag: cur + dskew }
}

/// `librosa.piptrack(y, sr, …)`: dense `(pitches, magnitudes)`, each `(1 + n_fft/2, n_frames)`.
pub fn piptrack(y: &[f32], sr: u32, params: &PiptrackParams) -> (Array2<f32>, Array2<f32>) {
    let n_bins = params.n_fft / 2 + 1;
    let hop = params.hop_length.unwrap_or(params.n_fft / 4);
    let n_frames = StftParams::new(params.n_fft).hop_length(hop).n_frames(y.len());
    let mut pitches = Array2::zeros((n_bins, n_frames));
    let mut mags = Array2::zeros((n_bins, n_frames));
    for p in piptrack_peaks(y, sr, params) {
        pitches[[p.bin, p.frame]] = p.pitch;
        mags[[p.bin, p.frame]] = p.mag;
    }
    (pitches, mags)
}

/// `librosa.estimate_tuning(y, sr, bins_per_octave=…)` with its defaults (n_fft 2048,
/// resolution 0.01): the tuning offset, in fractions of a bin, of the peaks at least as loud as
/// the median peak. 0.0 when there are none (silence), as librosa returns.
pub fn estimate_tuning(y: &[f32], sr: u32, bins_per_octave: usize) -> f64 {
    let peaks = piptrack_peaks(y, sr, &PiptrackParams::default());
    let mut voiced: Vec<&Peak> = peaks.iter().filter(|p| p.pitch > 0.0).collect();
    if voiced.is_empty() {
        return pitch_tuning(&[], 0.01, bins_per_octave);
    }
    let threshold = median_f32(voiced.iter().map(|p| p.mag).collect());
    voiced.retain(|p| p.mag >= threshold);
    let freqs: Vec<f32> = voiced.iter().map(|p| p.pitch).collect();
    pitch_tuning(&freqs, 0.01, bins_per_octave)
}

/// `np.median` of `float32` values: the middle one, or the mean of the middle two taken in
/// `float32`.
fn median_f32(mut v: Vec<f32>) -> f32 {
    let n = v.len();
    let mid = n / 2;
    let (_, &mut upper, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = v[..mid].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    (lower + upper) / 2.0
}

/// `librosa.pitch_tuning(frequencies, resolution, bins_per_octave)`: the left edge of the
/// fullest histogram bin of each frequency's offset from the nearest bin centre, in
/// `[-0.5, 0.5)`. 0.0 for no positive frequencies.
pub fn pitch_tuning(frequencies: &[f32], resolution: f64, bins_per_octave: usize) -> f64 {
    let edges = linspace(-0.5, 0.5, (1.0 / resolution).ceil() as usize + 1);
    let n_hist = edges.len() - 1;
    let mut counts = vec![0usize; n_hist];
    let mut any = false;
    for &f in frequencies.iter().filter(|&&f| f > 0.0) {
        any = true;
        // hz_to_octs in float32: log2(f / (440/16)); numpy's log2 here may differ from the
        // correctly rounded value by an ulp, which only matters on a histogram edge.
        let octs = ((f / 27.5f32) as f64).log2() as f32;
        let mut residual = remainder_f32(bins_per_octave as f32 * octs, 1.0);
        if residual >= 0.5 {
            residual -= 1.0;
        }
        let r = residual as f64;
        // np.histogram: [edge_k, edge_k+1) except the last bin, which includes its right edge.
        if r < edges[0] || r > edges[n_hist] {
            continue;
        }
        let k = edges.partition_point(|&e| e <= r).saturating_sub(1).min(n_hist - 1);
        counts[k] += 1;
    }
    if !any {
        return 0.0;
    }
    let best = counts.iter().enumerate().fold(0, |best, (k, &c)| if c > counts[best] { k } else { best });
    edges[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, n: usize) -> Vec<f32> {
        (0..n).map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / 22050.0).sin() as f32).collect()
    }

    #[test]
    fn pure_tones_give_librosas_estimates() {
        // librosa 0.8.1 on the same float32 tones; the parabolic interpolation of Hann-windowed
        // peaks biases them a little (A440 reads +0.01 semitone).
        assert_eq!(estimate_tuning(&tone(440.0, 22050), 22050, 12), 0.010000000000000009);
        assert_eq!(estimate_tuning(&tone(440.0, 22050), 22050, 36), 0.030000000000000027);
        // 20 cents sharp: +0.2 semitone, or +0.6 of a third of a semitone, i.e. -0.4.
        let hz = 440.0 * 2f64.powf(0.2 / 12.0);
        assert_eq!(estimate_tuning(&tone(hz, 22050), 22050, 12), 0.17000000000000004);
        assert_eq!(estimate_tuning(&tone(hz, 22050), 22050, 36), -0.47);
    }

    #[test]
    fn silence_has_zero_tuning() {
        assert_eq!(estimate_tuning(&[0.0; 22050], 22050, 36), 0.0);
        assert_eq!(pitch_tuning(&[], 0.01, 12), 0.0);
    }

    #[test]
    fn histogram_edges_follow_numpy() {
        // A440 exactly: residual 0 falls in the bin whose left edge is linspace's 50th point.
        assert_eq!(pitch_tuning(&[440.0], 0.01, 12), 50.0 * 0.01 - 0.5);
        assert_eq!(median_f32(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(median_f32(vec![3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn dense_piptrack_holds_the_peaks() {
        let y = tone(440.0, 8192);
        let (pitches, mags) = piptrack(&y, 22050, &PiptrackParams::default());
        assert_eq!(pitches.dim(), (1025, 1 + 8192 / 512));
        let col = pitches.column(8);
        let best = (0..1025).max_by(|&a, &b| mags[[a, 8]].total_cmp(&mags[[b, 8]])).unwrap();
        assert!((col[best] - 440.0).abs() < 2.0, "{}", col[best]);
    }
}
