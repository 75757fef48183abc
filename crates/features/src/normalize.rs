//! `librosa.util.normalize(S, norm, axis=0, threshold, fill)` (librosa 0.8.1) for `float32`
//! spectrogram-like matrices: each column scaled to unit norm.

use ndarray::Array2;

/// Which norm each column is scaled by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Norm {
    /// `np.inf`: the largest magnitude.
    Max,
    /// `-np.inf`: the smallest magnitude.
    Min,
    /// `0`: the number of non-zero entries.
    NonZero,
    /// `p > 0`: the `p`-norm.
    L(f64),
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum NormalizeError {
    #[error("input must be finite")]
    NonFinite,
    #[error("threshold={0} must be strictly positive")]
    BadThreshold(f64),
    #[error("unsupported norm {0:?}")]
    BadNorm(Norm),
    #[error("cannot normalize with norm=0 and fill=True")]
    FillWithNonZeroNorm,
}

/// Normalises every column of `s` in place.
///
/// Columns whose norm is below `threshold` (`None`: the smallest normal `f32`, librosa's
/// `tiny(S)`) are left as they are when `fill` is `None`, set to zero when `Some(false)`, and
/// filled with the value that has unit norm when `Some(true)`. Division happens in `float64` and
/// rounds to `float32`, as numpy's `S / length` with a `float64` length does.
pub fn normalize_columns(
    s: &mut Array2<f32>,
    norm: Norm,
    threshold: Option<f64>,
    fill: Option<bool>,
) -> Result<(), NormalizeError> {
    let threshold = threshold.unwrap_or(f32::MIN_POSITIVE as f64);
    if threshold <= 0.0 || threshold.is_nan() {
        return Err(NormalizeError::BadThreshold(threshold));
    }
    if s.iter().any(|v| !v.is_finite()) {
        return Err(NormalizeError::NonFinite);
    }
    let n_rows = s.nrows();
    let fill_norm = match norm {
        Norm::NonZero if fill == Some(true) => return Err(NormalizeError::FillWithNonZeroNorm),
        Norm::L(p) if p.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) => {
            return Err(NormalizeError::BadNorm(norm))
        }
        Norm::L(p) => (n_rows as f64).powf(-1.0 / p),
        _ => 1.0,
    };
    for mut col in s.columns_mut() {
        let mags = col.iter().map(|v| v.abs() as f64);
        let length = match norm {
            Norm::Max => mags.fold(f64::NEG_INFINITY, f64::max),
            Norm::Min => mags.fold(f64::INFINITY, f64::min),
            Norm::NonZero => mags.filter(|&m| m > 0.0).count() as f64,
            // A running sum down the column: numpy reduces axis 0 of a row-major array row by row.
            Norm::L(p) => numpy_pow(mags.map(|m| numpy_pow(m, p)).fold(0.0, |a, b| a + b), 1.0 / p),
        };
        if length < threshold {
            match fill {
                None => continue,
                Some(false) => col.iter_mut().for_each(|v| *v = (*v as f64 / f64::INFINITY) as f32),
                Some(true) => col.fill(fill_norm as f32),
            }
        } else {
            col.iter_mut().for_each(|v| *v = (*v as f64 / length) as f32);
        }
    }
    Ok(())
}

/// `x ** p` as numpy evaluates an array power with a scalar exponent: exact shortcuts for
/// 1, 2, 0.5 and -1, `pow` otherwise.
fn numpy_pow(x: f64, p: f64) -> f64 {
    if p == 1.0 {
        x
    } else if p == 2.0 {
        x * x
    } else if p == 0.5 {
        x.sqrt()
    } else if p == -1.0 {
        1.0 / x
    } else {
        x.powf(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn max_norm_scales_each_column_to_one() {
        let mut s = array![[1.0f32, 0.0, -4.0], [3.0, 0.0, 2.0]];
        normalize_columns(&mut s, Norm::Max, None, None).unwrap();
        assert_eq!(s, array![[1.0 / 3.0, 0.0, -1.0], [1.0, 0.0, 0.5]]);
    }

    #[test]
    fn silent_columns_follow_fill() {
        let base = array![[0.0f32, 2.0], [0.0, 0.0]];
        let mut s = base.clone();
        normalize_columns(&mut s, Norm::L(2.0), None, Some(true)).unwrap();
        assert!((s[[0, 0]] - 0.5f32.sqrt()).abs() < 1e-7);
        let mut s = base.clone();
        normalize_columns(&mut s, Norm::L(1.0), Some(3.0), Some(false)).unwrap();
        assert_eq!(s, array![[0.0, 0.0], [0.0, 0.0]]);
        // One non-zero entry: a 0-norm of 1 leaves the column as it is; the silent one stays.
        let mut s = base.clone();
        normalize_columns(&mut s, Norm::NonZero, None, None).unwrap();
        assert_eq!(s, base);
    }

    #[test]
    fn rejects_non_finite_and_bad_parameters() {
        let mut s = array![[f32::NAN]];
        assert_eq!(normalize_columns(&mut s, Norm::Max, None, None), Err(NormalizeError::NonFinite));
        let mut s = array![[1.0f32]];
        assert!(normalize_columns(&mut s, Norm::Max, Some(0.0), None).is_err());
        assert!(normalize_columns(&mut s, Norm::L(-1.0), None, None).is_err());
        assert!(normalize_columns(&mut s, Norm::NonZero, None, Some(true)).is_err());
    }
}
