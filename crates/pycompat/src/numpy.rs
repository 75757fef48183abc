//! NumPy's reductions, in NumPy's rounding order.
//!
//! `np.sum`, `np.mean`, `np.var` and `np.std` over a contiguous array add with pairwise summation,
//! not left to right, so a running sum differs from the reference in the last bits. Every crate
//! that must agree with a NumPy-computed value to the bit (channel means, CQT filter norms,
//! emoMusic's label statistics, cross-validation scores) sums here.

use std::ops::Add;

/// `np.add.reduce` over a contiguous `float32` or `float64` run (`@TYPE@_pairwise_sum`): the
/// identity 0 plus a running sum below 8 terms, eight interleaved partial sums combined as a
/// tree up to 128, halves (cut at a multiple of 8) above that.
pub fn pairwise_sum<T: Copy + Default + Add<Output = T>>(a: &[T]) -> T {
    // The identity is why NumPy sums sixteen -0.0 to +0.0.
    T::default() + blocks(a)
}

fn blocks<T: Copy + Default + Add<Output = T>>(a: &[T]) -> T {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        a.iter().fold(T::default(), |acc, &v| acc + v)
    } else if n <= BLOCK {
        let mut r = [T::default(); 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc = *acc + v;
            }
        }
        let tree = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[whole..].iter().fold(tree, |acc, &v| acc + v)
    } else {
        let half = n / 2;
        let half = half - half % 8;
        blocks(&a[..half]) + blocks(&a[half..])
    }
}

/// `(np.mean(x), np.var(x))`: the mean and population variance (ddof 0) of a `float64` vector.
fn mean_variance(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = pairwise_sum(x) / n;
    let squares: Vec<f64> = x.iter().map(|&v| (v - mean) * (v - mean)).collect();
    (mean, pairwise_sum(&squares) / n)
}

/// `np.var(x)`: the population variance (ddof 0) of a `float64` vector.
pub fn variance(x: &[f64]) -> f64 {
    mean_variance(x).1
}

/// `(np.mean(x), np.std(x))` (ddof 0) of a `float64` vector.
pub fn mean_std(x: &[f64]) -> (f64, f64) {
    let (mean, variance) = mean_variance(x);
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_sum_as_a_plain_sum_does() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let a: Vec<f64> = (0..n).map(|i| (i % 17) as f64).collect();
            let plain: f64 = a.iter().sum();
            assert_eq!(pairwise_sum(&a), plain, "n = {n}");
        }
    }

    #[test]
    fn eight_accumulators_keep_what_a_running_sum_loses() {
        // 1e16 + 1 + …: a running sum loses every 1; r0 = 1e16 + 1 (lost), r1..r7 = 2 each.
        let mut a = vec![1.0f64; 16];
        a[0] = 1e16;
        assert_eq!(pairwise_sum(&a), 1e16 + 14.0);
        // np.sum(np.full(16, 0.1)) == 1.6 exactly; a running sum gives 1.6000000000000003.
        assert_eq!(pairwise_sum(&[0.1f64; 16]), 1.6);
        assert_ne!([0.1f64; 16].iter().sum::<f64>(), 1.6);
    }

    #[test]
    fn float32_uses_the_same_tree() {
        let x: Vec<f32> = (0..8).map(|i| 1.0 + i as f32 * 1e-7).collect();
        let tree = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
        assert_eq!(pairwise_sum(&x), tree);
    }

    #[test]
    fn negative_zeros_sum_to_positive_zero_as_in_numpy() {
        // numpy 1.23.5: np.sum(np.full(n, -0.0)) is 0.0 for every n, float32 and float64.
        for n in [1, 7, 8, 20, 300] {
            assert!(pairwise_sum(&vec![-0.0f64; n]).is_sign_positive(), "n = {n}");
            assert!(pairwise_sum(&vec![-0.0f32; n]).is_sign_positive(), "n = {n}");
        }
    }

    #[test]
    fn mean_and_std_match_numpy() {
        // From numpy 1.23.5; a left-to-right sum gives …405 here, numpy's pairwise sum …403.
        let values: Vec<f64> = (0..504).map(|i| 1.0 / (i + 1) as f64 + 0.1 * i as f64).collect();
        assert_eq!(pairwise_sum(&values), 12682.400783668403);
        assert_eq!(mean_std(&values), (25.16349361838969, 14.532749797800227));
        assert_eq!(mean_std(&[0.5, 1.0]), (0.75, 0.25));
    }
}
