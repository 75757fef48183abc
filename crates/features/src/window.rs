//! Analysis windows, computed as `scipy.signal.get_window(…, fftbins=True)` does.

/// The windows librosa 0.8.1 asks for in the features jukemir reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `"hann"`, periodic (DFT-even).
    Hann,
    /// `"ones"`: rectangular, used by the CQT's STFT of pre-windowed filters.
    Ones,
}

impl Window {
    /// The window of length `n`, in `f64` like scipy's.
    pub fn samples(self, n: usize) -> Vec<f64> {
        match self {
            Window::Ones => vec![1.0; n],
            Window::Hann => hann_periodic(n),
        }
    }
}

/// scipy's `general_cosine` over `linspace(-pi, pi, n + 1)`, last point dropped: the same
/// arithmetic as scipy, so values agree to the last bit rather than to 1e-16.
pub fn hann_periodic(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    if n == 1 {
        return vec![1.0];
    }
    let m = n + 1;
    let pi = std::f64::consts::PI;
    let step = 2.0 * pi / (m - 1) as f64;
    (0..n).map(|k| 0.5 + 0.5 * (-pi + k as f64 * step).cos()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hann_is_periodic_and_zero_at_start() {
        let w = hann_periodic(8);
        assert!(w[0].abs() < 1e-15);
        assert!((w[4] - 1.0).abs() < 1e-15);
        assert!((w[1] - w[7]).abs() < 1e-15);
    }
}
