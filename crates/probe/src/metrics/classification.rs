use ndarray::{ArrayView1, ArrayView2};

use super::MetricError;

/// `np.argmax` of one row: the first maximum; a NaN counts as the maximum (numpy's rule), so
/// the first NaN wins. `None` for an empty row.
pub fn argmax(row: ArrayView1<f32>) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in row.iter().enumerate() {
        if v.is_nan() {
            return Some(i);
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}

/// Fraction of rows whose [`argmax`] equals the label (the reference's gtzan_ff / test metric).
///
/// The reference averages in float32 (`astype(np.float32).mean()`); this is the exact ratio,
/// which differs from it by at most half a float32 ulp (< 6e-8).
pub fn accuracy(scores: ArrayView2<f32>, labels: &[usize]) -> Result<f64, MetricError> {
    let (n, classes) = scores.dim();
    if n != labels.len() {
        return Err(MetricError::Shape {
            what: "scores rows vs labels",
            left: vec![n, classes],
            right: vec![labels.len()],
        });
    }
    if n == 0 || classes == 0 {
        return Err(MetricError::Empty);
    }
    let mut correct = 0usize;
    for (row, &label) in scores.rows().into_iter().zip(labels) {
        if label >= classes {
            return Err(MetricError::LabelOutOfRange { label, classes });
        }
        correct += usize::from(argmax(row) == Some(label));
    }
    Ok(correct as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_take_the_first_maximum_and_nan_wins() {
        assert_eq!(argmax(array![1.0f32, 3.0, 3.0].view()), Some(1));
        assert_eq!(argmax(array![1.0f32, f32::NAN, 5.0, f32::NAN].view()), Some(1));
        let s = array![[0.5f32, 0.5], [0.1, 0.9]];
        assert_eq!(accuracy(s.view(), &[0, 0]).unwrap(), 0.5);
        assert!(accuracy(s.view(), &[0]).is_err());
    }
}
