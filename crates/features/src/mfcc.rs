//! `librosa.feature.mfcc` (0.8.1): the DCT of the dB-scaled mel power spectrogram.

use crate::dct::{Dct2, DctNorm};
use crate::mel::{MelError, MelSpectrogram, MelSpectrogramParams};
use crate::spectrum_db::{power_to_db_in_place, DbError, DbParams};
use ndarray::Array2;

/// Arguments of `librosa.feature.mfcc` other than `y` and `sr`; the defaults are librosa's, with
/// `power_to_db`'s defaults (`ref=1.0`, `amin=1e-10`, `top_db=80`) as `mfcc` calls it.
#[derive(Debug, Clone, Copy)]
pub struct MfccParams {
    pub n_mfcc: usize,
    /// `norm=` of the type-II DCT (librosa's `dct_type` other than 2 is not supported).
    pub norm: DctNorm,
    /// Cepstral liftering coefficient; `0` disables it.
    pub lifter: f64,
    pub mel: MelSpectrogramParams,
    pub db: DbParams,
}

impl Default for MfccParams {
    fn default() -> Self {
        MfccParams {
            n_mfcc: 20,
            norm: DctNorm::Ortho,
            lifter: 0.0,
            mel: MelSpectrogramParams::default(),
            db: DbParams::default(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MfccError {
    #[error(transparent)]
    Mel(#[from] MelError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("n_mfcc = {n_mfcc} exceeds n_mels = {n_mels}")]
    TooManyCoefficients { n_mfcc: usize, n_mels: usize },
    #[error("lifter must be non-negative")]
    BadLifter,
}

/// A reusable MFCC computation: FFT plan, filterbank and DCT basis are built once.
pub struct Mfcc {
    mel: MelSpectrogram,
    dct: Dct2,
    db: DbParams,
    lifter: Option<Vec<f32>>,
}

impl Mfcc {
    pub fn new(sr: u32, params: &MfccParams) -> Result<Self, MfccError> {
        let n_mels = params.mel.mel.n_mels;
        if params.n_mfcc > n_mels {
            return Err(MfccError::TooManyCoefficients { n_mfcc: params.n_mfcc, n_mels });
        }
        if params.lifter.is_nan() || params.lifter < 0.0 {
            return Err(MfccError::BadLifter);
        }
        // Validate now so that `compute` can only fail on the signal.
        power_to_db_in_place(&mut [], &params.db)?;
        Ok(Mfcc {
            mel: MelSpectrogram::new(sr, &params.mel)?,
            dct: Dct2::new(n_mels, params.n_mfcc, params.norm),
            db: params.db,
            lifter: (params.lifter > 0.0).then(|| lifter_weights(params.n_mfcc, params.lifter)),
        })
    }

    /// `librosa.feature.mfcc(y, sr, ...)`, shape `(n_mfcc, n_frames)`.
    pub fn compute(&self, y: &[f32]) -> Result<Array2<f32>, MfccError> {
        let mut db = self.mel.compute(y)?;
        power_to_db_in_place(db.as_slice_mut().expect("freshly built arrays are contiguous"), &self.db)?;
        let mut out = self.dct.transform(db.view());
        if let Some(lifter) = &self.lifter {
            for (mut row, &w) in out.outer_iter_mut().zip(lifter) {
                row.mapv_inplace(|c| c * w);
            }
        }
        Ok(out)
    }
}

/// `1 + (lifter / 2) * sin(pi * arange(1, 1 + n_mfcc) / lifter)`, in `float32` as numpy
/// evaluates it against the `float32` MFCCs.
fn lifter_weights(n_mfcc: usize, lifter: f64) -> Vec<f32> {
    let (pi, l, half) = (std::f32::consts::PI, lifter as f32, (lifter / 2.0) as f32);
    (1..=n_mfcc).map(|n| 1.0 + half * (pi * n as f32 / l).sin()).collect()
}

/// `librosa.feature.mfcc(y, sr, ...)`, shape `(n_mfcc, n_frames)`. Build an [`Mfcc`] instead to
/// process many signals with the same parameters.
pub fn mfcc(y: &[f32], sr: u32, params: &MfccParams) -> Result<Array2<f32>, MfccError> {
    Mfcc::new(sr, params)?.compute(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_gives_finite_constant_coefficients() {
        let m = mfcc(&vec![0.0; 5000], 22050, &MfccParams::default()).unwrap();
        assert_eq!(m.dim(), (20, 10));
        assert!(m.iter().all(|v| v.is_finite()));
        // Every band sits at the -100 dB floor, so only c0 is nonzero: -100 * sqrt(128).
        assert!(m.row(0).iter().all(|&v| (v + 100.0 * 128f32.sqrt()).abs() < 1e-3));
        assert!(m.rows().into_iter().skip(1).flatten().all(|&v| v.abs() < 1e-3));
    }

    #[test]
    fn liftering_scales_rows() {
        let y: Vec<f32> = (0..4096).map(|i| (i as f32 * 0.01).sin()).collect();
        let plain = mfcc(&y, 22050, &MfccParams::default()).unwrap();
        let lifted = mfcc(&y, 22050, &MfccParams { lifter: 22.0, ..MfccParams::default() }).unwrap();
        let w = lifter_weights(20, 22.0);
        for ((&p, &l), k) in plain.iter().zip(&lifted).zip((0..20).flat_map(|k| std::iter::repeat_n(k, 9))) {
            assert_eq!(p * w[k], l);
        }
    }

    #[test]
    fn rejects_more_coefficients_than_bands() {
        let params = MfccParams { n_mfcc: 129, ..MfccParams::default() };
        assert!(matches!(Mfcc::new(22050, &params), Err(MfccError::TooManyCoefficients { .. })));
    }
}
