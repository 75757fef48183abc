//! `librosa.resample(y, factor, 1, res_type, scale=True)`, the CQT's decimation by a power of two.

use jukemir_audio::{librosa_resample, ResampleError, ResampleFilter};

/// Downsamples by `factor` and divides by `sqrt(1/factor)` (librosa's `scale=True`).
pub(crate) fn decimate(y: &[f32], factor: u32, filter: ResampleFilter) -> Result<Vec<f32>, ResampleError> {
    librosa_resample(y, factor, 1, filter, true)
}

/// Output length of [`decimate`]: `ceil(len / factor)` (librosa's `fix=True`).
pub(crate) fn decimated_len(len: usize, factor: usize) -> usize {
    len.div_ceil(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_keeps_a_low_tone_and_its_energy_per_sample_scaling() {
        let y: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.05).sin()).collect();
        let h = decimate(&y, 2, ResampleFilter::KaiserFast).unwrap();
        assert_eq!(h.len(), decimated_len(4000, 2));
        // Output sample k is input sample 2k, times sqrt(2) for scale=True.
        let expect = (500.0f32 * 0.1).sin() * std::f32::consts::SQRT_2;
        assert!((h[500] - expect).abs() < 1e-2, "{} vs {}", h[500], expect);
    }
}
