//! The grouped trainer's arithmetic on plain buffers: strided operands for the GEMM (the models'
//! checked entry point), element-wise passes and the loss gradients.
//!
//! Hand-written rather than candle's graph because a probe step is two products and a few
//! element-wise passes of a fixed shape: the graph's allocations, the input gradient its backward
//! pass computes (unused) and one product per config instead of one per group were most of the
//! grid's time (`docs/probes.md`, "Speed").

use crate::data::{OutputType, Targets};
pub use jukemir_models::linalg::{matmul, Operand};

/// Defines `fn $name` that runs its body compiled for AVX2 and FMA when the CPU has them (the
/// element-wise loops then vectorise twice as wide), else compiled for the baseline. The results
/// are identical: Rust never contracts or reorders float operations on its own, whatever the
/// target features.
macro_rules! wide_when_possible {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: this CPU has the features `wide` was compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use wide_when_possible;

/// A row-major matrix with `cols` columns, as an operand of [`matmul`].
pub fn row_major(data: &[f32], cols: usize) -> Operand<'_> {
    (data, cols, 1)
}

/// The transpose of a row-major matrix with `cols` columns, as an operand of [`matmul`].
pub fn transposed(data: &[f32], cols: usize) -> Operand<'_> {
    (data, 1, cols)
}

wide_when_possible! {
    /// Add `bias` to every row of the `rows × bias.len()` block of `x` that starts at column
    /// `offset` of rows `row_len` long.
    pub fn add_bias(x: &mut [f32], row_len: usize, offset: usize, bias: &[f32]) {
        for row in x.chunks_exact_mut(row_len) {
            row[offset..offset + bias.len()].iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    }
}

wide_when_possible! {
    /// `out = max(z + bias, 0) · mask`: the bias, ReLU and dropout of one row of a hidden layer
    /// in one pass.
    pub fn bias_relu_masked(out: &mut [f32], z: &[f32], bias: &[f32], mask: &[f32]) {
        let n = out.len();
        let (z, bias, mask) = (&z[..n], &bias[..n], &mask[..n]);
        for i in 0..n {
            out[i] = (z[i] + bias[i]).max(0.0) * mask[i];
        }
    }
}

wide_when_possible! {
    /// `out[j] = Σ_rows x[row][offset + j]`: the bias gradient of a block of columns.
    pub fn column_sums(x: &[f32], row_len: usize, offset: usize, out: &mut [f32]) {
        out.fill(0.0);
        let width = out.len();
        for row in x.chunks_exact(row_len) {
            out.iter_mut().zip(&row[offset..offset + width]).for_each(|(o, v)| *o += v);
        }
    }
}

wide_when_possible! {
    /// `out = x · mask` element-wise (dropout with a mask of 0 or 1/keep).
    pub fn masked(out: &mut [f32], x: &[f32], mask: &[f32]) {
        let n = out.len();
        let (x, mask) = (&x[..n], &mask[..n]);
        for i in 0..n {
            out[i] = x[i] * mask[i];
        }
    }
}

wide_when_possible! {
    /// The gradient through ReLU and dropout of one row, from the layer's output `hidden` =
    /// max(z, 0) · mask (mask: 0 or `scale` > 0): `g = gh · scale` where `hidden` is positive,
    /// else 0, which is `gh · mask · [z > 0]` without reading `z` and the mask again. `g` is also
    /// added to `bias_grad` (the bias gradient sums the rows). No branch: the signs are random.
    pub fn relu_masked_backward(g: &mut [f32], hidden: &[f32], gh: &[f32], scale: f32, bias_grad: &mut [f32]) {
        let n = g.len();
        let (hidden, gh, bias_grad) = (&hidden[..n], &gh[..n], &mut bias_grad[..n]);
        for i in 0..n {
            g[i] = gh[i] * scale * f32::from(u8::from(hidden[i] > 0.0));
            bias_grad[i] += g[i];
        }
    }
}

wide_when_possible! {
    /// `x = max(x + bias, 0)` over columns `offset..offset + bias.len()` of rows `row_len` long.
    pub fn bias_relu_in_place(x: &mut [f32], row_len: usize, offset: usize, bias: &[f32]) {
        for row in x.chunks_exact_mut(row_len) {
            row[offset..offset + bias.len()].iter_mut().zip(bias).for_each(|(v, b)| *v = (*v + b).max(0.0));
        }
    }
}

/// The gradient of the reference's mean loss with respect to the `batch × k` logits of the
/// training rows `rows`, written over `logits`: softmax minus one-hot over the batch for
/// cross-entropy, (sigmoid − y) over all elements for BCE-with-logits, 2(x − y) over all elements
/// for MSE (what torch's `reduction="mean"` differentiates to).
pub fn loss_gradient(output_type: OutputType, targets: &Targets, rows: &[usize], k: usize, logits: &mut [f32]) {
    let batch = rows.len() as f32;
    match (output_type, targets) {
        (OutputType::Multiclass, Targets::Classes(classes)) => {
            for (row, &r) in logits.chunks_exact_mut(k).zip(rows) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0f32;
                row.iter_mut().for_each(|v| {
                    *v = (*v - max).exp();
                    sum += *v;
                });
                row.iter_mut().for_each(|v| *v /= sum * batch);
                row[classes[r] as usize] -= 1.0 / batch;
            }
        }
        (OutputType::Multilabel, Targets::Matrix(y)) => {
            let scale = 1.0 / (batch * k as f32);
            for (row, &r) in logits.chunks_exact_mut(k).zip(rows) {
                for (v, &t) in row.iter_mut().zip(&y[r * k..(r + 1) * k]) {
                    *v = (1.0 / (1.0 + (-*v).exp()) - t) * scale;
                }
            }
        }
        (OutputType::Regression, Targets::Matrix(y)) => {
            let scale = 2.0 / (batch * k as f32);
            for (row, &r) in logits.chunks_exact_mut(k).zip(rows) {
                for (v, &t) in row.iter_mut().zip(&y[r * k..(r + 1) * k]) {
                    *v = (*v - t) * scale;
                }
            }
        }
        _ => unreachable!("targets are built for the dataset's output type"),
    }
}

/// The reference's mean loss of `n × k` logits against all of `targets` (in f64: this is only
/// reported, in `metrics.json` and for `-loss` early stopping).
pub fn loss_value(output_type: OutputType, targets: &Targets, k: usize, logits: &[f32]) -> f64 {
    let n = logits.len() / k;
    let total: f64 = match (output_type, targets) {
        (OutputType::Multiclass, Targets::Classes(classes)) => logits
            .chunks_exact(k)
            .zip(classes)
            .map(|(row, &y)| {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
                let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
                max + sum.ln() - row[y as usize] as f64
            })
            .sum::<f64>(),
        (OutputType::Multilabel, Targets::Matrix(y)) => logits
            .iter()
            .zip(y)
            .map(|(&x, &t)| {
                let (x, t) = (x as f64, t as f64);
                x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()
            })
            .sum::<f64>(),
        (OutputType::Regression, Targets::Matrix(y)) => {
            logits.iter().zip(y).map(|(&x, &t)| (x as f64 - t as f64).powi(2)).sum::<f64>()
        }
        _ => unreachable!("targets are built for the dataset's output type"),
    };
    match output_type {
        OutputType::Multiclass => total / n as f64,
        _ => total / (n * k) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::loss::{compute_loss, targets_tensor};
    use candle_core::{Device, Tensor, Var};

    /// Each gradient equals candle's autograd of the loss the single-config trainer uses.
    #[test]
    fn loss_gradients_match_autograd() {
        let (k, rows) = (3usize, [2usize, 0, 1]);
        let logits: Vec<f32> = vec![0.3, -1.2, 2.0, 0.1, 0.0, -0.4, 5.0, -3.0, 1.5];
        let cases = [
            (OutputType::Multiclass, Targets::Classes(vec![1, 2, 0])),
            (OutputType::Multilabel, Targets::Matrix(vec![1., 0., 1., 0., 0., 1., 1., 1., 0.])),
            (OutputType::Regression, Targets::Matrix(vec![0.5, -1., 2., 0., 3., -2., 1., 1., 1.])),
        ];
        for (output_type, targets) in cases {
            let var = Var::from_tensor(&Tensor::from_vec(logits.clone(), (3, k), &Device::Cpu).unwrap()).unwrap();
            let y = targets_tensor(&targets, &rows, k).unwrap();
            let loss = compute_loss(output_type, var.as_tensor(), &y).unwrap();
            let want = loss.backward().unwrap().get(&var).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let mut got = logits.clone();
            loss_gradient(output_type, &targets, &rows, k, &mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-6, "{output_type:?}: {got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn loss_values_match_the_single_trainers_loss() {
        let (k, rows) = (3usize, [0usize, 1, 2]);
        let logits: Vec<f32> = vec![0.3, -1.2, 2.0, 0.1, 0.0, -0.4, 50.0, -30.0, 1.5];
        let cases = [
            (OutputType::Multiclass, Targets::Classes(vec![1, 2, 0])),
            (OutputType::Multilabel, Targets::Matrix(vec![1., 0., 1., 0., 0., 1., 1., 1., 0.])),
            (OutputType::Regression, Targets::Matrix(vec![0.5, -1., 2., 0., 3., -2., 1., 1., 1.])),
        ];
        for (output_type, targets) in cases {
            let x = Tensor::from_vec(logits.clone(), (3, k), &Device::Cpu).unwrap();
            let y = targets_tensor(&targets, &rows, k).unwrap();
            let want = compute_loss(output_type, &x, &y).unwrap().to_scalar::<f32>().unwrap() as f64;
            let got = loss_value(output_type, &targets, k, &logits);
            assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{output_type:?}: {got} vs {want}");
        }
    }

    #[test]
    fn strided_products() {
        // a (2×3) · b (3×2), with b given as the transpose of a row-major 2×3 matrix.
        let a = [1., 2., 3., 4., 5., 6.];
        let bt = [1., 0., -1., 2., 1., 0.];
        let mut c = [0f32; 4];
        matmul((2, 2, 3), (&mut c, 2), row_major(&a, 3), transposed(&bt, 3), false, 1);
        assert_eq!(c, [-2., 4., -2., 13.]);
        matmul((2, 2, 3), (&mut c, 2), row_major(&a, 3), transposed(&bt, 3), true, 1);
        assert_eq!(c, [-4., 8., -4., 26.]);
    }
}
