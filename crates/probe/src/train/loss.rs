//! The reference's `compute_loss`: mean cross-entropy, BCE-with-logits, or MSE by output type.

use crate::data::{OutputType, Targets};
use anyhow::Result;
use candle_core::{Device, Tensor};

/// Targets as a tensor: u32 class ids, or an `n × k` f32 matrix.
pub fn targets_tensor(targets: &Targets, rows: &[usize], k: usize) -> Result<Tensor> {
    Ok(match targets {
        Targets::Classes(c) => {
            Tensor::from_vec(rows.iter().map(|&i| c[i]).collect::<Vec<u32>>(), rows.len(), &Device::Cpu)?
        }
        Targets::Matrix(m) => {
            let v: Vec<f32> = rows.iter().flat_map(|&i| m[i * k..(i + 1) * k].iter().copied()).collect();
            Tensor::from_vec(v, (rows.len(), k), &Device::Cpu)?
        }
    })
}

pub fn compute_loss(output_type: OutputType, logits: &Tensor, y: &Tensor) -> Result<Tensor> {
    Ok(match output_type {
        OutputType::Multiclass => candle_nn::loss::cross_entropy(logits, y)?,
        OutputType::Multilabel => bce_with_logits(logits, y)?,
        OutputType::Regression => candle_nn::loss::mse(logits, y)?,
    })
}

/// torch's stable form, max(x, 0) − x·y + log(1 + e^−|x|): candle-nn's version takes log of a
/// sigmoid, which gives −inf for confident logits.
fn bce_with_logits(x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    let softplus = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    ((x.relu()? - (x * y)?)? + softplus)?.mean_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_is_stable_and_correct() {
        let x = Tensor::new(&[[0.0f32, 100.0, -100.0]], &Device::Cpu).unwrap();
        let y = Tensor::new(&[[1.0f32, 1.0, 1.0]], &Device::Cpu).unwrap();
        let l = bce_with_logits(&x, &y).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - (2f32.ln() + 0.0 + 100.0) / 3.0).abs() < 1e-4, "{l}");
    }
}
