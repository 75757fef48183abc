//! scikit-learn's `roc_auc_score` and `average_precision_score` (`average="macro"`) for
//! multilabel indicator targets, column by column as `_average_binary_score` does.
//!
//! Both walk the distinct score values from the highest down (`_binary_clf_curve`): tied scores
//! form one threshold, so a tie contributes one ROC trapezoid (a diagonal segment) and one AP
//! step, never an order-dependent staircase.
//!
//! One-class columns: `roc_auc_score` raises ("Only one class present in y_true"), which makes the
//! reference's magnatagatune evaluation fail before it computes AP; [`roc_auc`] returns
//! [`MetricError::SingleClass`]. For AP, a column with no positives has no defined value and the
//! scikit-learn versions disagree (0.24.1, the reference's: NaN; 1.3.2: 0 with a warning), so
//! [`average_precision`] returns the same error; an all-positive column is well defined (1.0 in
//! both) and is scored.

use ndarray::{ArrayView1, ArrayView2, Axis};

use super::MetricError;

/// Cumulative (false positives, true positives) at each distinct threshold, highest first.
fn binary_clf_curve(
    column: usize,
    y_true: ArrayView1<u8>,
    scores: ArrayView1<f32>,
) -> Result<Vec<(f64, f64)>, MetricError> {
    let mut pairs = Vec::with_capacity(y_true.len());
    for (&t, &s) in y_true.iter().zip(scores) {
        if t > 1 {
            return Err(MetricError::NotBinary { column, value: t });
        }
        if !s.is_finite() {
            return Err(MetricError::NonFinite { column, value: s });
        }
        pairs.push((s, t));
    }
    // Scores are finite, so total_cmp orders them as `<` does (-0.0 and 0.0 aside, which
    // sklearn's np.diff also treats as one value; the equality test below does too).
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut curve = Vec::new();
    let (mut fps, mut tps) = (0.0f64, 0.0f64);
    for (i, &(s, t)) in pairs.iter().enumerate() {
        if t == 1 {
            tps += 1.0;
        } else {
            fps += 1.0;
        }
        if pairs.get(i + 1).is_none_or(|next| next.0 != s) {
            curve.push((fps, tps));
        }
    }
    Ok(curve)
}

fn check_shapes(y_true: &ArrayView2<u8>, scores: &ArrayView2<f32>) -> Result<(), MetricError> {
    if y_true.dim() != scores.dim() {
        return Err(MetricError::Shape {
            what: "targets vs scores",
            left: y_true.shape().to_vec(),
            right: scores.shape().to_vec(),
        });
    }
    if y_true.is_empty() {
        return Err(MetricError::Empty);
    }
    Ok(())
}

/// Area under the ROC curve of one binary column (`column` only names it in errors), as
/// `roc_auc_score` on binary targets.
pub fn roc_auc(column: usize, y_true: ArrayView1<u8>, scores: ArrayView1<f32>) -> Result<f64, MetricError> {
    let curve = binary_clf_curve(column, y_true, scores)?;
    let &(neg, pos) = curve.last().ok_or(MetricError::Empty)?;
    if neg == 0.0 || pos == 0.0 {
        return Err(MetricError::SingleClass { column, metric: "ROC-AUC" });
    }
    let mut points = Vec::with_capacity(curve.len() + 1);
    points.push((0.0, 0.0));
    points.extend(curve);
    // roc_curve(drop_intermediate=True) drops collinear interior points before np.trapz; kept
    // here so the trapezoids are summed over the same points.
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for i in 0..points.len() {
        let interior = i > 0 && i + 1 < points.len();
        let second_diff_zero =
            |k: fn(&(f64, f64)) -> f64| k(&points[i + 1]) - 2.0 * k(&points[i]) + k(&points[i - 1]) == 0.0;
        if interior && second_diff_zero(|p| p.0) && second_diff_zero(|p| p.1) {
            continue;
        }
        kept.push(points[i]);
    }
    let area: f64 = kept
        .windows(2)
        .map(|w| {
            let (f0, t0) = (w[0].0 / neg, w[0].1 / pos);
            let (f1, t1) = (w[1].0 / neg, w[1].1 / pos);
            (f1 - f0) * (t1 + t0) / 2.0
        })
        .sum();
    Ok(area)
}

/// Average precision of one binary column, as `average_precision_score`: the step sum
/// `Σ (R_k − R_{k−1}) · P_k` over distinct thresholds (no interpolation).
pub fn average_precision(column: usize, y_true: ArrayView1<u8>, scores: ArrayView1<f32>) -> Result<f64, MetricError> {
    let curve = binary_clf_curve(column, y_true, scores)?;
    let &(_, pos) = curve.last().ok_or(MetricError::Empty)?;
    if pos == 0.0 {
        return Err(MetricError::SingleClass { column, metric: "average precision" });
    }
    let mut ap = 0.0;
    let mut prev_tps = 0.0;
    for &(fps, tps) in &curve {
        if tps > prev_tps {
            ap += (tps - prev_tps) / pos * (tps / (tps + fps));
            prev_tps = tps;
        }
    }
    Ok(ap)
}

fn macro_average(
    y_true: ArrayView2<u8>,
    scores: ArrayView2<f32>,
    metric: fn(usize, ArrayView1<u8>, ArrayView1<f32>) -> Result<f64, MetricError>,
) -> Result<f64, MetricError> {
    check_shapes(&y_true, &scores)?;
    let mut sum = 0.0;
    for (c, (t, s)) in y_true.axis_iter(Axis(1)).zip(scores.axis_iter(Axis(1))).enumerate() {
        sum += metric(c, t, s)?;
    }
    Ok(sum / y_true.ncols() as f64)
}

/// `roc_auc_score(y_true, scores, average="macro")` for an (examples, labels) 0/1 indicator.
pub fn roc_auc_macro(y_true: ArrayView2<u8>, scores: ArrayView2<f32>) -> Result<f64, MetricError> {
    macro_average(y_true, scores, roc_auc)
}

/// `average_precision_score(y_true, scores, average="macro")` for an (examples, labels) 0/1 indicator.
pub fn average_precision_macro(y_true: ArrayView2<u8>, scores: ArrayView2<f32>) -> Result<f64, MetricError> {
    macro_average(y_true, scores, average_precision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_count_as_half() {
        // One positive and one negative tied: the diagonal gives 0.5.
        let t = array![1u8, 0];
        let s = array![0.3f32, 0.3];
        assert_eq!(roc_auc(0, t.view(), s.view()).unwrap(), 0.5);
        assert_eq!(average_precision(0, t.view(), s.view()).unwrap(), 0.5);
    }

    #[test]
    fn single_class_is_an_error() {
        let s = array![0.1f32, 0.2];
        assert!(matches!(roc_auc(3, array![1u8, 1].view(), s.view()), Err(MetricError::SingleClass { column: 3, .. })));
        assert!(average_precision(0, array![0u8, 0].view(), s.view()).is_err());
        assert_eq!(average_precision(0, array![1u8, 1].view(), s.view()).unwrap(), 1.0);
    }
}
