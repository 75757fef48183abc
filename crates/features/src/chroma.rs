//! `librosa.feature.chroma_cqt` (librosa 0.8.1, `cqt_mode="full"`, no smoothing window): CQT
//! magnitudes folded onto pitch classes, then normalised per frame.

use crate::cqt::numpy_ops::cabs32;
use crate::cqt::{cqt, CqtError, CqtParams};
use crate::filters_cq::{cq_to_chroma, CqFilterError};
use crate::normalize::{normalize_columns, Norm, NormalizeError};
use ndarray::Array2;

/// Parameters of `librosa.feature.chroma_cqt`; [`Default`] gives librosa 0.8.1's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChromaCqtParams {
    pub hop_length: usize,
    /// `None` is C1; the chroma map is aligned to this (untuned) frequency.
    pub fmin: Option<f64>,
    /// `None` estimates the tuning from the signal.
    pub tuning: Option<f64>,
    pub n_chroma: usize,
    pub n_octaves: usize,
    pub bins_per_octave: usize,
    /// Chroma energies below this are set to zero before normalising.
    pub threshold: Option<f32>,
    /// Per-frame normalisation; `None` leaves the raw pitch-class energies.
    pub norm: Option<Norm>,
}

impl Default for ChromaCqtParams {
    fn default() -> Self {
        ChromaCqtParams {
            hop_length: 512,
            fmin: None,
            tuning: None,
            n_chroma: 12,
            n_octaves: 7,
            bins_per_octave: 36,
            threshold: Some(0.0),
            norm: Some(Norm::Max),
        }
    }
}

impl ChromaCqtParams {
    /// The CQT that `chroma_cqt` takes magnitudes of.
    pub fn cqt_params(&self) -> CqtParams {
        CqtParams {
            hop_length: self.hop_length,
            fmin: self.fmin,
            n_bins: self.n_octaves * self.bins_per_octave,
            bins_per_octave: self.bins_per_octave,
            tuning: self.tuning,
            ..CqtParams::default()
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChromaError {
    #[error(transparent)]
    Cqt(#[from] CqtError),
    #[error(transparent)]
    Filter(#[from] CqFilterError),
    #[error(transparent)]
    Normalize(#[from] NormalizeError),
}

/// `librosa.feature.chroma_cqt(y, sr, …)`: pitch-class profile of shape `(n_chroma, n_frames)`,
/// row 0 = C, in `float32`.
///
/// Silent frames stay all-zero (below the normalisation threshold they are left unscaled), so
/// silence yields zeros, not NaN.
pub fn chroma_cqt(y: &[f32], sr: u32, params: &ChromaCqtParams) -> Result<Array2<f32>, ChromaError> {
    if params.bins_per_octave.checked_rem(params.n_chroma) != Some(0) {
        return Err(CqFilterError::IncompatibleMerge {
            bins_per_octave: params.bins_per_octave,
            n_chroma: params.n_chroma,
        }
        .into());
    }
    let c = cqt(y, sr, &params.cqt_params())?;
    let magnitude = c.mapv(|v| cabs32(v.re, v.im));
    let mut chroma = fold_to_chroma(&magnitude, params)?;
    if let Some(threshold) = params.threshold {
        chroma.iter_mut().filter(|v| **v < threshold).for_each(|v| *v = 0.0);
    }
    if let Some(norm) = params.norm {
        normalize_columns(&mut chroma, norm, None, None)?;
    }
    Ok(chroma)
}

/// `cq_to_chroma(…).dot(C)`: each pitch class sums its bins in `float32`, lowest bin first (the
/// 0/1 map makes BLAS's fused multiply-adds plain additions in that order).
fn fold_to_chroma(magnitude: &Array2<f32>, params: &ChromaCqtParams) -> Result<Array2<f32>, CqFilterError> {
    let (n_bins, n_frames) = magnitude.dim();
    let map = cq_to_chroma(n_bins, params.bins_per_octave, params.n_chroma, params.fmin)?;
    let mut chroma = Array2::<f32>::zeros((params.n_chroma, n_frames));
    for (mut out, weights) in chroma.rows_mut().into_iter().zip(map.rows()) {
        for (b, &w) in weights.iter().enumerate() {
            if w != 0.0 {
                out.zip_mut_with(&magnitude.row(b), |acc, &m| *acc += w * m);
            }
        }
    }
    Ok(chroma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_a_tone_lands_on_a() {
        let y: Vec<f32> =
            (0..22050).map(|i| (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 22050.0).sin() as f32).collect();
        let chroma = chroma_cqt(&y, 22050, &ChromaCqtParams::default()).unwrap();
        assert_eq!(chroma.dim(), (12, 1 + 22050 / 512));
        let col = chroma.column(20);
        assert_eq!(col[9], 1.0);
        assert!(col.iter().enumerate().all(|(k, &v)| k == 9 || v < 0.5));
    }

    #[test]
    fn silence_gives_zeros_not_nan() {
        let chroma = chroma_cqt(&[0.0; 22050], 22050, &ChromaCqtParams::default()).unwrap();
        assert!(chroma.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bins_per_octave_must_split_into_classes() {
        let params = ChromaCqtParams { bins_per_octave: 30, n_octaves: 7, ..ChromaCqtParams::default() };
        assert!(matches!(chroma_cqt(&[0.0; 4096], 22050, &params), Err(ChromaError::Filter(_))));
    }
}
