//! `librosa.power_to_db` (0.8.1) for `float32` spectrograms.

use ndarray::{Array, ArrayBase, Data, Dimension};

/// The `ref` argument of `power_to_db`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DbRef {
    /// A fixed reference power (librosa's default is `1.0`).
    Value(f64),
    /// `ref=np.max`: the loudest element becomes 0 dB.
    Max,
}

/// Arguments of `librosa.power_to_db` other than `S`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbParams {
    pub reference: DbRef,
    /// Floor on the power before taking the log.
    pub amin: f64,
    /// Clip to this many dB below the loudest element; `None` disables clipping.
    pub top_db: Option<f64>,
}

impl Default for DbParams {
    fn default() -> Self {
        DbParams { reference: DbRef::Value(1.0), amin: 1e-10, top_db: Some(80.0) }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DbError {
    #[error("amin must be strictly positive")]
    BadAmin,
    #[error("top_db must be non-negative")]
    BadTopDb,
}

impl DbParams {
    fn validate(&self) -> Result<(), DbError> {
        if self.amin.is_nan() || self.amin <= 0.0 {
            return Err(DbError::BadAmin);
        }
        if self.top_db.is_some_and(|t| t.is_nan() || t < 0.0) {
            return Err(DbError::BadTopDb);
        }
        Ok(())
    }
}

/// `librosa.power_to_db(S, ...)` on a `float32` array of any shape.
pub fn power_to_db<S, D>(s: &ArrayBase<S, D>, params: &DbParams) -> Result<Array<f32, D>, DbError>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    let mut out = s.as_standard_layout().into_owned();
    power_to_db_in_place(out.as_slice_mut().expect("standard layout is contiguous"), params)?;
    Ok(out)
}

/// [`power_to_db`] over a flat buffer, overwriting it.
///
/// numpy keeps `float32` throughout: Python-float operands (`amin`, the reference offset, the
/// clipping threshold) are cast to `float32` by value-based casting, so the log and every
/// subtraction are single precision. Only the reference's own log is taken in `f64`.
pub fn power_to_db_in_place(s: &mut [f32], params: &DbParams) -> Result<(), DbError> {
    params.validate()?;
    let ref_value = match params.reference {
        DbRef::Value(r) => r.abs(),
        DbRef::Max => s.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64,
    };
    let offset = (10.0 * params.amin.max(ref_value).log10()) as f32;
    let amin = params.amin as f32;
    let max_db = to_db(s, amin, offset);
    if let Some(top_db) = params.top_db {
        let floor = (max_db as f64 - top_db) as f32;
        for v in s.iter_mut() {
            *v = v.max(floor);
        }
    }
    Ok(())
}

/// `10 log10(max(amin, s)) - offset` in place; returns the maximum.
fn to_db(s: &mut [f32], amin: f32, offset: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { to_db_avx2(s, amin, offset) };
    }
    to_db_portable(s, amin, offset)
}

/// [`to_db_portable`] compiled for AVX2; no FMA, so bit-identical results.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn to_db_avx2(s: &mut [f32], amin: f32, offset: f32) -> f32 {
    to_db_portable(s, amin, offset)
}

#[inline(always)]
fn to_db_portable(s: &mut [f32], amin: f32, offset: f32) -> f32 {
    let mut max_db = f32::NEG_INFINITY;
    let mut floored = [0f32; 64];
    for chunk in s.chunks_mut(64) {
        let floored = &mut floored[..chunk.len()];
        let mut special = false;
        for (f, v) in floored.iter_mut().zip(chunk.iter_mut()) {
            // NaN propagates, as through `np.maximum`.
            *f = if *v >= amin || v.is_nan() { *v } else { amin };
            special |= !(f.is_normal() && *f > 0.0);
            *v = 10.0 * log10(*f) - offset;
        }
        if special {
            // Zero, subnormal, infinite or NaN powers (reachable only with a tiny `amin` or a
            // non-finite input) take the library path.
            for (f, v) in floored.iter().zip(chunk.iter_mut()) {
                if !(f.is_normal() && *f > 0.0) {
                    *v = 10.0 * f.log10() - offset;
                }
            }
        }
        max_db = chunk.iter().fold(max_db, |m, &v| m.max(v));
    }
    max_db
}

/// `log10` of a positive normal `f32`, evaluated in `f64` and rounded once, so correctly rounded
/// but in rare near-ties. numpy's `float32` `log10` (SVML on AVX-512 machines, else libm) is off
/// by up to a few ULP and cannot be reproduced bit for bit anyway; this one is branch-free, so
/// the dB loop vectorises (the log is most of `power_to_db`'s cost).
#[inline(always)]
fn log10(x: f32) -> f32 {
    const SQRT_2: f64 = std::f64::consts::SQRT_2;
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) as f64;
    // Centre the mantissa on 1 so the series below converges fast: m in [sqrt(1/2), sqrt(2)).
    let high = mantissa >= SQRT_2;
    let m = if high { 0.5 * mantissa } else { mantissa };
    let e = (exponent + high as i32) as f64;
    // ln m = 2 atanh(s) = 2 (s + s³/3 + s⁵/5 + …), s = (m - 1)/(m + 1), |s| < 0.172: seven terms
    // leave a relative error below 1e-13, far under half an f32 ULP.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series =
        1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 / 13.0)))));
    let ln = e * std::f64::consts::LN_2 + 2.0 * s * series;
    (ln * std::f64::consts::LOG10_E) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn silence_floors_at_amin() {
        let db = power_to_db(&array![0.0f32, 0.0], &DbParams::default()).unwrap();
        assert_eq!(db, array![-100.0f32, -100.0]);
    }

    #[test]
    fn max_reference_puts_the_peak_at_zero() {
        let params = DbParams { reference: DbRef::Max, top_db: None, ..DbParams::default() };
        let db = power_to_db(&array![1.0f32, 10.0, 100.0], &params).unwrap();
        assert_eq!(db, array![-20.0f32, -10.0, 0.0]);
    }

    #[test]
    fn fast_log10_is_correctly_rounded() {
        // Powers of two and ten, the mantissa split point, and a dense sweep over 80 decades.
        let mut xs: Vec<f32> = (-40..40).map(|e| 2f32.powi(e)).collect();
        xs.extend((-12..12).map(|e| 10f32.powi(e)));
        xs.extend([std::f32::consts::SQRT_2, 1.414_213_4, 1.414_213_7, f32::MIN_POSITIVE, f32::MAX]);
        let mut x = 2e-38f32;
        while x < 1e38 {
            xs.push(x);
            x *= 1.000_913;
        }
        let mut differ = 0;
        for &x in &xs {
            let (ours, exact) = (log10(x), (x as f64).log10() as f32);
            let ulp = (ours.to_bits() as i64 - exact.to_bits() as i64).abs();
            assert!(ulp <= 1, "{x}: {ours} vs {exact}");
            differ += (ours != exact) as usize;
        }
        assert!(differ * 10_000 < xs.len(), "{differ} of {} differ", xs.len());
    }

    #[test]
    fn specials_take_the_library_path() {
        let params = DbParams { amin: 1e-45, top_db: None, ..DbParams::default() };
        let db = power_to_db(&array![0.0f32, 1e-40, f32::INFINITY, f32::NAN, 100.0], &params).unwrap();
        assert_eq!(db[1], 10.0 * 1e-40f32.log10());
        assert_eq!(db[2], f32::INFINITY);
        assert!(db[3].is_nan());
        assert_eq!(db[4], 20.0);
    }

    #[test]
    fn bad_params_are_rejected() {
        let s = array![1.0f32];
        assert_eq!(power_to_db(&s, &DbParams { amin: 0.0, ..DbParams::default() }), Err(DbError::BadAmin));
        assert_eq!(power_to_db(&s, &DbParams { top_db: Some(-1.0), ..DbParams::default() }), Err(DbError::BadTopDb));
    }
}
