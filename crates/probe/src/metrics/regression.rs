use ndarray::{ArrayView2, Axis};

use super::MetricError;

/// `r2_score` of an (examples, outputs) regression: per output (`multioutput="raw_values"`) and
/// their mean (`"uniform_average"`, the reference's emomusic `r2`). The reference's `arousal_r2`
/// and `valence_r2` are `per_output[0]` and `[1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct R2 {
    pub uniform: f64,
    pub per_output: Vec<f64>,
}

/// R² as scikit-learn computes it, with its `force_finite` rules for constant targets: a zero
/// residual scores 1.0, a nonzero residual against a constant target scores 0.0.
///
/// Sums run in f64. scikit-learn keeps float32 inputs in float32 for the differences and the
/// mean (summing squares in f64), so on float32 data the two differ by about 1e-7.
pub fn r2<T: Copy + Into<f64>>(y_true: ArrayView2<T>, y_pred: ArrayView2<T>) -> Result<R2, MetricError> {
    if y_true.dim() != y_pred.dim() {
        return Err(MetricError::Shape {
            what: "targets vs predictions",
            left: y_true.shape().to_vec(),
            right: y_pred.shape().to_vec(),
        });
    }
    let (n, outputs) = y_true.dim();
    if outputs == 0 {
        return Err(MetricError::Empty);
    }
    if n < 2 {
        return Err(MetricError::TooFewSamples(n));
    }
    let per_output: Vec<f64> = y_true
        .axis_iter(Axis(1))
        .zip(y_pred.axis_iter(Axis(1)))
        .map(|(t, p)| {
            let mean = t.iter().map(|&v| v.into()).sum::<f64>() / n as f64;
            let numerator: f64 = t.iter().zip(p).map(|(&a, &b)| (a.into() - b.into()).powi(2)).sum();
            let denominator: f64 = t.iter().map(|&a| (a.into() - mean).powi(2)).sum();
            match (numerator != 0.0, denominator != 0.0) {
                (true, true) => 1.0 - numerator / denominator,
                (true, false) => 0.0,
                (false, _) => 1.0,
            }
        })
        .collect();
    let uniform = per_output.iter().sum::<f64>() / outputs as f64;
    Ok(R2 { uniform, per_output })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn constant_targets_follow_force_finite() {
        let t = array![[1.0f64, 2.0], [1.0, 4.0]];
        let p = array![[1.0f64, 3.0], [1.0, 3.0]];
        let r = r2(t.view(), p.view()).unwrap();
        assert_eq!(r.per_output, vec![1.0, 0.0]);
        let p = array![[2.0f64, 2.0], [1.0, 4.0]];
        assert_eq!(r2(t.view(), p.view()).unwrap().per_output, vec![0.0, 1.0]);
        assert!(r2(t.slice(ndarray::s![..1, ..]), p.slice(ndarray::s![..1, ..])).is_err());
    }
}
