//! `scipy.signal.resample`: resampling by zero-padding or truncating the spectrum of the whole
//! signal. librosa 0.4.0 used it when scikits.samplerate was missing, which is how the choi
//! representation's reference loaded audio.
//!
//! The transform covers exactly the given samples, so the signal is treated as periodic: its end
//! wraps into its beginning. That is the reference's behaviour, and why the choi loader crops
//! before it resamples.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// `scipy.signal.resample(y, num)` on a real signal, computed in f64 and returned as f32 (librosa
/// casts back to the input's dtype). Only the even-length Nyquist bin needs care: it is doubled
/// when the spectrum is truncated onto it and halved when it becomes an interior bin, as scipy does.
pub fn fft_resample(y: &[f32], num: usize) -> Vec<f32> {
    let nx = y.len();
    if nx == 0 || num == 0 {
        return vec![0.0; num];
    }
    let mut planner = RealFftPlanner::<f64>::new();
    let mut input: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
    let forward = planner.plan_fft_forward(nx);
    let mut spectrum = forward.make_output_vec();
    forward.process(&mut input, &mut spectrum).expect("buffer lengths come from the plan");

    let kept = num.min(nx);
    let mut output_spectrum = vec![Complex::new(0.0, 0.0); num / 2 + 1];
    output_spectrum[..kept / 2 + 1].copy_from_slice(&spectrum[..kept / 2 + 1]);
    if kept.is_multiple_of(2) {
        if num < nx {
            output_spectrum[kept / 2] *= 2.0;
        } else if nx < num {
            output_spectrum[kept / 2] *= 0.5;
        }
    }
    // The inverse real transform ignores these imaginary parts; realfft insists they are zero.
    output_spectrum[0].im = 0.0;
    if num.is_multiple_of(2) {
        output_spectrum[num / 2].im = 0.0;
    }
    let inverse = planner.plan_fft_inverse(num);
    let mut out = inverse.make_output_vec();
    inverse.process(&mut output_spectrum, &mut out).expect("buffer lengths come from the plan");
    // realfft's inverse is unnormalised (a factor num); scipy scales by num / nx after its 1/num.
    let scale = 1.0 / nx as f64;
    out.into_iter().map(|v| (v * scale) as f32).collect()
}

/// librosa 0.4.0's `resample(y, orig_sr, target_sr)` without scikits.samplerate:
/// [`fft_resample`] to `ceil(len · target / orig)` samples; equal rates return the input.
pub fn librosa040_resample(y: &[f32], orig_sr: u32, target_sr: u32) -> Vec<f32> {
    if orig_sr == target_sr {
        return y.to_vec();
    }
    let num = (y.len() as f64 * f64::from(target_sr) / f64::from(orig_sr)).ceil() as usize;
    fft_resample(y, num)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct O(n·m) evaluation of scipy's definition (full complex spectrum, scipy 1.2.3's
    /// bin copying), to check the real-FFT shortcut on small odd and even lengths.
    fn scipy_definition(y: &[f32], num: usize) -> Vec<f64> {
        use std::f64::consts::PI;
        let nx = y.len();
        let x: Vec<Complex<f64>> = (0..nx)
            .map(|k| {
                (0..nx).fold(Complex::new(0.0, 0.0), |acc, t| {
                    acc + Complex::from_polar(f64::from(y[t]), -2.0 * PI * (k * t) as f64 / nx as f64)
                })
            })
            .collect();
        let n = num.min(nx);
        let mut yy = vec![Complex::new(0.0, 0.0); num];
        let pos = n.div_ceil(2);
        yy[..pos].copy_from_slice(&x[..pos]);
        // Python's `Y[-(N-1)//2:]` floors: N/2 negative bins (the Nyquist bin too when N is even).
        for i in 1..=n / 2 {
            yy[num - i] = x[nx - i];
        }
        if n.is_multiple_of(2) {
            if n < nx {
                yy[n / 2] = x[n / 2] + x[nx - n / 2];
            } else if n < num {
                let half = x[nx - n / 2] / 2.0;
                yy[num - n / 2] = half;
                yy[n / 2] = half;
            }
        }
        (0..num)
            .map(|t| {
                let s = (0..num).fold(Complex::new(0.0, 0.0), |acc, k| {
                    acc + yy[k] * Complex::from_polar(1.0, 2.0 * PI * (k * t) as f64 / num as f64)
                });
                s.re / num as f64 * num as f64 / nx as f64
            })
            .collect()
    }

    #[test]
    fn matches_scipys_definition_up_and_down_odd_and_even() {
        let y: Vec<f32> = (0..24).map(|i| ((i * 7919) % 23) as f32 / 11.0 - 1.0).collect();
        for (len, num) in [(24, 10), (24, 11), (23, 10), (23, 11), (10, 24), (11, 24), (10, 23), (11, 23), (24, 24)] {
            let got = fft_resample(&y[..len], num);
            let want = scipy_definition(&y[..len], num);
            assert_eq!(got.len(), num);
            for (g, w) in got.iter().zip(&want) {
                assert!((f64::from(*g) - w).abs() < 1e-5, "len {len} → {num}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn length_follows_librosa_040() {
        assert_eq!(librosa040_resample(&vec![0.5; 22050], 22050, 12000).len(), 12000);
        assert_eq!(librosa040_resample(&vec![0.5; 100], 44100, 12000).len(), 28); // ceil(27.2)
        assert_eq!(librosa040_resample(&[0.25, 0.5], 12000, 12000), vec![0.25, 0.5]);
        // A constant stays constant: only the DC bin is non-zero.
        assert!(librosa040_resample(&vec![0.5; 999], 16000, 12000).iter().all(|v| (v - 0.5).abs() < 1e-6));
    }
}
