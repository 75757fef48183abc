//! The summary the reference's handcrafted container stores for a feature matrix.

use ndarray::{Array2, ArrayView2, Axis};

/// For n = 0, 1, 2: the n-th discrete time difference's per-row mean and (population) standard
/// deviation, concatenated as `[mean₀, std₀, mean₁, std₁, mean₂, std₂]` → `6 · rows` values.
///
/// Differences are taken in `f32` as `np.diff` does on `float32`; means and deviations are
/// accumulated in `f64` (numpy accumulates `float32` pairwise in `float32`, which is the less
/// accurate of the two; they agree to ~1e-6 relative).
///
/// Needs at least three frames, otherwise the second difference is empty and numpy would yield NaN.
pub fn difference_moments(features: ArrayView2<f32>) -> Result<Vec<f32>, TooFewFrames> {
    let (rows, frames) = features.dim();
    if frames < 3 {
        return Err(TooFewFrames { frames });
    }
    let mut out = Vec::with_capacity(6 * rows);
    let mut current: Array2<f32> = features.to_owned();
    for order in 0..3 {
        if order > 0 {
            current = diff(current.view());
        }
        let (mean, std) = row_mean_std(current.view());
        out.extend(mean);
        out.extend(std);
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{frames} feature frame(s) are too few for second-order difference statistics (need 3)")]
pub struct TooFewFrames {
    pub frames: usize,
}

fn diff(a: ArrayView2<f32>) -> Array2<f32> {
    let n = a.ncols();
    &a.slice(ndarray::s![.., 1..]) - &a.slice(ndarray::s![.., ..n - 1])
}

fn row_mean_std(a: ArrayView2<f32>) -> (Vec<f32>, Vec<f32>) {
    a.axis_iter(Axis(0))
        .map(|row| {
            let n = row.len() as f64;
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            (mean as f32, var.sqrt() as f32)
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matches_numpy_on_a_small_matrix() {
        // numpy: F = [[1,2,4,8],[0,0,0,0]]; moments as in the reference container.
        let f = array![[1.0f32, 2.0, 4.0, 8.0], [0.0, 0.0, 0.0, 0.0]];
        let m = difference_moments(f.view()).unwrap();
        let expect = [
            3.75,
            0.0,
            2.680_951,
            0.0, // n = 0: mean, std of each row
            2.333_333_3,
            0.0,
            1.247_219_1,
            0.0, // n = 1: diff [1,2,4]
            1.5,
            0.0,
            0.5,
            0.0, // n = 2: diff [1,2]
        ];
        assert_eq!(m.len(), 12);
        for (a, b) in m.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{m:?}");
        }
    }

    #[test]
    fn too_few_frames_is_an_error() {
        let f = Array2::<f32>::zeros((12, 2));
        assert_eq!(difference_moments(f.view()), Err(TooFewFrames { frames: 2 }));
    }
}
