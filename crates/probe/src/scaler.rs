//! scikit-learn's `StandardScaler` as the reference uses it: fitted on the training split, with
//! mean and std both on or both off (`data_standardization`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    pub with_mean: bool,
    pub with_std: bool,
    /// Per-feature mean (zeros when `with_mean` is off).
    pub mean: Vec<f64>,
    /// Per-feature divisor: population std, 1 for constant features (ones when `with_std` is off).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fit on rows of `dim` features laid out contiguously (`x.len() == n * dim`).
    pub fn fit(x: &[f32], dim: usize, with_mean: bool, with_std: bool) -> Self {
        assert!(dim > 0 && x.len().is_multiple_of(dim), "data is not a whole number of rows");
        let n = x.len() / dim;
        let mut mean = vec![0.0f64; dim];
        let mut var = vec![0.0f64; dim];
        // f64 accumulators and sklearn's corrected two-pass variance, so float32 inputs give the
        // same statistics sklearn computes.
        for row in x.chunks_exact(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut correction = vec![0.0f64; dim];
        for row in x.chunks_exact(dim) {
            for j in 0..dim {
                let d = row[j] as f64 - mean[j];
                var[j] += d * d;
                correction[j] += d;
            }
        }
        for j in 0..dim {
            var[j] = (var[j] - correction[j] * correction[j] / n as f64) / n as f64;
        }
        let eps = f64::EPSILON;
        let nf = n as f64;
        let scale = var
            .iter()
            .zip(&mean)
            .map(|(&v, &m)| {
                // sklearn's `_is_constant_feature` bound: variance within float error of zero.
                let constant = v <= nf * eps * v + (nf * m * eps).powi(2);
                let s = v.sqrt();
                if !with_std || constant || s < 10.0 * eps {
                    1.0
                } else {
                    s
                }
            })
            .collect();
        if !with_mean {
            mean = vec![0.0; dim];
        }
        Self { with_mean, with_std, mean, scale }
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Standardise rows in place.
    pub fn transform(&self, x: &mut [f32]) {
        if !self.with_mean && !self.with_std {
            return;
        }
        for row in x.chunks_exact_mut(self.dim()) {
            for ((v, &m), &s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = ((*v as f64 - m) / s) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_std_and_constant_features() {
        // Column 0: 1, 2, 3, 4 → mean 2.5, population std sqrt(1.25); column 1 constant.
        let x = [1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 4.0, 7.0];
        let s = StandardScaler::fit(&x, 2, true, true);
        assert_eq!(s.mean, vec![2.5, 7.0]);
        assert!((s.scale[0] - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.scale[1], 1.0);
        let mut y = x;
        s.transform(&mut y);
        assert!((y[0] as f64 + 1.5 / 1.25f64.sqrt()).abs() < 1e-6);
        assert_eq!(y[1], 0.0);
    }

    #[test]
    fn disabled_is_identity() {
        let x = [1.0, 5.0, 2.0, 9.0];
        let s = StandardScaler::fit(&x, 2, false, false);
        let mut y = x;
        s.transform(&mut y);
        assert_eq!(y, x);
    }
}
