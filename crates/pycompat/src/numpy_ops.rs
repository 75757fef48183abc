//! numpy 1.23's arithmetic where it is not the textbook formula, so our values round the way
//! librosa's do.

/// `np.abs` of a `complex64`: numpy's AVX512F loop computes `larger · sqrt(1 + (smaller/larger)²)`
/// with a fused multiply-add instead of calling `hypotf`; the two differ in the last bit for about
/// a third of inputs. (On CPUs without AVX512F numpy calls `hypotf`; the reference data were
/// produced on an AVX512 machine.)
#[inline]
pub fn cabs32(re: f32, im: f32) -> f32 {
    let (a, b) = (re.abs(), im.abs());
    if a.is_infinite() || b.is_infinite() {
        return f32::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f32::NAN;
    }
    cabs32_finite(re, im)
}

/// [`cabs32`] for finite inputs, without branches so loops over it vectorise.
#[inline]
pub fn cabs32_finite(re: f32, im: f32) -> f32 {
    let (a, b) = (re.abs(), im.abs());
    let larger = a.max(b);
    let smaller = a.min(b);
    // numpy's masked division leaves the ratio 0 when both parts are 0.
    let ratio = if larger == 0.0 { 0.0 } else { smaller / larger };
    square_plus_one(ratio).sqrt() * larger
}

/// `fma(r, r, 1)` in `float32`, correctly rounded, for `0 <= r <= 1`, without an FMA
/// instruction (the portable build would call libm's `fmaf` for every magnitude).
///
/// `r²` is exact in `float64` and `1 + r²` loses at most the bits below `2⁻⁵²`; rounding that sum
/// to odd (nudging an inexact, even result one ulp towards the exact value) makes the final
/// rounding to `float32` correct, since `float64` carries more than 24 + 2 bits.
#[inline]
fn square_plus_one(r: f32) -> f32 {
    let p = r as f64 * r as f64;
    let s = p + 1.0;
    // Fast two-sum (1 >= p): the exact rounding error of `p + 1`.
    let err = p - (s - 1.0);
    let bits = s.to_bits();
    let nudge = if err > 0.0 { 1 } else { u64::MAX };
    let odd = if err != 0.0 && bits & 1 == 0 { bits.wrapping_add(nudge) } else { bits };
    f64::from_bits(odd) as f32
}

/// `np.abs` of a `complex128`, by the same AVX512F formula as [`cabs32`].
#[inline]
pub fn cabs64(re: f64, im: f64) -> f64 {
    let (a, b) = (re.abs(), im.abs());
    if a.is_infinite() || b.is_infinite() {
        return f64::INFINITY;
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    let (larger, smaller) = if a >= b { (a, b) } else { (b, a) };
    if larger == 0.0 {
        return 0.0;
    }
    let ratio = smaller / larger;
    ratio.mul_add(ratio, 1.0).sqrt() * larger
}

/// `np.mod(a, b)` for `float32` (Python's sign convention: the result takes the sign of `b`).
pub fn remainder_f32(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        return a % b;
    }
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f32.copysign(b)
    }
}

/// `np.linspace(start, stop, num)`: `k · step + start` with the last point pinned to `stop`,
/// which is how numpy rounds (not `start + k · (stop − start)/(num − 1)`).
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut out: Vec<f64> = (0..num).map(|k| k as f64 * step + start).collect();
    out[num - 1] = stop;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainder_follows_python_sign_rules() {
        assert_eq!(remainder_f32(-0.25, 1.0), 0.75);
        assert_eq!(remainder_f32(2.5, 1.0), 0.5);
        assert_eq!(remainder_f32(-1e-9, 1.0), 1.0);
        assert_eq!(remainder_f32(-2.0, 1.0).to_bits(), 0.0f32.to_bits());
    }

    #[test]
    fn cabs_agrees_with_hypot_to_an_ulp() {
        for (re, im) in [(3.0f32, 4.0f32), (0.1, -7.5), (0.0, 0.0), (-2.0, 0.0)] {
            let ours = cabs32(re, im);
            assert!((ours - re.hypot(im)).abs() <= f32::EPSILON * ours);
        }
        assert_eq!(cabs64(3.0, 4.0), 5.0);
    }

    #[test]
    fn square_plus_one_is_a_correctly_rounded_fma() {
        // A deterministic spread of ratios, dense near 0 where 1 + r² is inexact in float64.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for k in 0..200_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 40) as f32 / (1u64 << 24) as f32;
            let r = if k % 2 == 0 { u } else { u * 2f32.powi(-(k % 40)) };
            assert_eq!(square_plus_one(r).to_bits(), r.mul_add(r, 1.0).to_bits(), "r = {r:e}");
        }
    }

    #[test]
    fn linspace_pins_the_end() {
        let e = linspace(-0.5, 0.5, 101);
        assert_eq!(e[0], -0.5);
        assert_eq!(e[100], 0.5);
        assert_eq!(e[50], 50.0 * 0.01 - 0.5);
    }
}
