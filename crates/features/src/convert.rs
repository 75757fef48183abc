//! Frequency-scale conversions as `librosa.core.convert` (0.8.1) computes them, in `f64`.

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

/// librosa spells this `np.log(6.4) / 27.0`; kept as an expression so the rounding is the same.
fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// `librosa.hz_to_mel`: the Slaney scale (linear below 1 kHz, logarithmic above) or HTK's.
pub fn hz_to_mel(hz: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + hz / 700.0).log10();
    }
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        hz / F_SP
    }
}

/// `librosa.mel_to_hz`, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    }
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// `np.linspace(start, stop, n)`: `start + k * step` with the last point pinned to `stop`, which
/// is how numpy rounds, not `start + k * (stop - start) / (n - 1)`.
pub fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut out: Vec<f64> = (0..n).map(|k| k as f64 * step + start).collect();
    if let Some(last) = out.last_mut() {
        *last = stop;
    }
    out
}

/// `librosa.mel_frequencies`: `n` frequencies evenly spaced on the mel scale from `fmin` to `fmax`.
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n).into_iter().map(|m| mel_to_hz(m, htk)).collect()
}

/// `librosa.fft_frequencies`: centre frequency of each of the `1 + n_fft/2` rFFT bins.
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    linspace(0.0, sr / 2.0, 1 + n_fft / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_matches_librosa_examples() {
        // librosa.hz_to_mel(60) == 0.9, librosa.hz_to_mel([110, 220, 440]) == [1.65, 3.3, 6.6]
        assert!((hz_to_mel(60.0, false) - 0.9).abs() < 1e-12);
        assert!((hz_to_mel(440.0, false) - 6.6).abs() < 1e-12);
        assert!((mel_to_hz(3.0, false) - 200.0).abs() < 1e-12);
        for hz in [10.0, 999.0, 1000.0, 4321.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz, false), false) - hz).abs() < 1e-9 * hz);
            assert!((mel_to_hz(hz_to_mel(hz, true), true) - hz).abs() < 1e-9 * hz);
        }
    }

    #[test]
    fn mel_frequencies_match_librosa_example() {
        // librosa.mel_frequencies(n_mels=40)[[1, 12, 39]]
        let f = mel_frequencies(40, 0.0, 11025.0, false);
        assert!((f[1] - 85.317).abs() < 1e-3);
        assert!((f[12] - 1024.856).abs() < 1e-3);
        assert!((f[39] - 11025.0).abs() < 1e-9);
    }
}
