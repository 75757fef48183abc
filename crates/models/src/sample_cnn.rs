//! SampleCNN (Lee et al. 2017) as CLMR (Spijkervet & Burgoyne 2021) builds it with strides 3 × 9:
//! a strided input convolution, nine conv → BN → ReLU → max-pool blocks, and a last conv → BN →
//! ReLU, on raw audio. The encoder's `fc` head is not part of it: the representation is the
//! flattened last block (512 values for a frame of 59049–118097 samples).
//!
//! Weights use CLMR's state-dict names (`sequential.{i}.0.weight` for the convolutions,
//! `sequential.{i}.1.*` for the batch norms).

use candle_core::{DType, Result, Tensor};
use candle_nn::VarBuilder;

/// PyTorch's `BatchNorm1d` default.
const BN_EPS: f64 = 1e-5;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `(in, out)` channels of the 11 convolutions.
    pub widths: Vec<(usize, usize)>,
    /// Kernel (= pool size) of every block, and the input convolution's stride.
    pub stride: usize,
}

impl Config {
    /// CLMR's encoder: 1 → 128, 128, 128, 256 × 6, 512, 512.
    pub fn clmr() -> Self {
        Self::scaled(1)
    }

    /// Every width divided by `divisor` (the input stays 1 channel): small models for tests.
    pub fn scaled(divisor: usize) -> Self {
        let c = |n: usize| n / divisor;
        let mut widths = vec![(1, c(128)), (c(128), c(128)), (c(128), c(128)), (c(128), c(256))];
        widths.extend(std::iter::repeat_n((c(256), c(256)), 5));
        widths.extend([(c(256), c(512)), (c(512), c(512))]);
        Config { widths, stride: 3 }
    }

    pub fn out_channels(&self) -> usize {
        self.widths.last().map_or(0, |w| w.1)
    }
}

#[derive(Debug, Clone)]
struct Block {
    kernel: Tensor,
    bias: Tensor,
    scale: Tensor,
    shift: Tensor,
    conv_stride: usize,
    padding: usize,
    pool: Option<usize>,
}

impl Block {
    fn load(vb: VarBuilder, (cin, cout): (usize, usize), k: usize) -> Result<Self> {
        let conv = vb.pp("0");
        let kernel = conv.get((cout, cin, k), "weight")?;
        let bias = conv.get(cout, "bias")?.reshape((1, cout, 1))?;
        let bn = vb.pp("1");
        let gamma = bn.get(cout, "weight")?.to_dtype(DType::F64)?;
        let beta = bn.get(cout, "bias")?.to_dtype(DType::F64)?;
        let mean = bn.get(cout, "running_mean")?.to_dtype(DType::F64)?;
        let var = bn.get(cout, "running_var")?.to_dtype(DType::F64)?;
        let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
        let shift = (beta - (&mean * &scale)?)?;
        Ok(Block {
            kernel,
            bias,
            scale: scale.to_dtype(DType::F32)?.reshape((1, cout, 1))?,
            shift: shift.to_dtype(DType::F32)?.reshape((1, cout, 1))?,
            conv_stride: 1,
            padding: 0,
            pool: None,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.conv1d(&self.kernel, self.padding, self.conv_stride, 1, 1)?.broadcast_add(&self.bias)?;
        let y = y.broadcast_mul(&self.scale)?.broadcast_add(&self.shift)?.relu()?;
        match self.pool {
            // floor mode: trailing samples that do not fill a window are dropped.
            Some(p) => {
                y.narrow(2, 0, y.dim(2)? / p * p)?.unsqueeze(3)?.max_pool2d_with_stride((p, 1), (p, 1))?.squeeze(3)
            }
            None => Ok(y),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SampleCnn {
    config: Config,
    blocks: Vec<Block>,
}

impl SampleCnn {
    /// `vb` at the encoder's root (`sequential.*` below it).
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let vb = vb.pp("sequential");
        let last = config.widths.len() - 1;
        let mut blocks = Vec::with_capacity(config.widths.len());
        for (i, &width) in config.widths.iter().enumerate() {
            let mut block = Block::load(vb.pp(i.to_string()), width, config.stride)?;
            if i == 0 {
                block.conv_stride = config.stride;
            } else {
                block.padding = 1;
                block.pool = (i < last).then_some(config.stride);
            }
            blocks.push(block);
        }
        Ok(SampleCnn { config: config.clone(), blocks })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `frames`: `(batch, 1, samples)` → `(batch, channels × remaining length)`, as the encoder's
    /// `out.reshape(batch, -1)`.
    pub fn forward(&self, frames: &Tensor) -> Result<Tensor> {
        let mut x = frames.clone();
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        x.flatten_from(1)
    }
}

impl SampleCnn {
    /// The encoder of a CLMR checkpoint: a PyTorch Lightning `.ckpt` (weights under
    /// `state_dict` as `model.encoder.*`, as CLMR's `load_encoder_checkpoint` selects them) or a
    /// plain state dict (`encoder.*`). The widths are read from the weights' shapes.
    pub fn from_checkpoint(path: &std::path::Path) -> anyhow::Result<Self> {
        let encoder = encoder_tensors(path)?;
        let mut widths = Vec::new();
        while let Some(w) = encoder.get(&format!("sequential.{}.0.weight", widths.len())) {
            let (cout, cin, _) = w.dims3().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            widths.push((cin, cout));
        }
        if widths.len() < 2 || widths[0].0 != 1 {
            anyhow::bail!("{}: the encoder's layers do not look like SampleCNN's ({widths:?})", path.display());
        }
        Self::from_tensors(encoder, path, &Config { widths, stride: 3 })
    }

    /// As [`Self::from_checkpoint`], requiring the layer widths of `config`.
    pub fn from_checkpoint_with_config(path: &std::path::Path, config: &Config) -> anyhow::Result<Self> {
        Self::from_tensors(encoder_tensors(path)?, path, config)
    }

    fn from_tensors(
        encoder: std::collections::HashMap<String, Tensor>,
        path: &std::path::Path,
        config: &Config,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let vb = VarBuilder::from_tensors(encoder, DType::F32, &candle_core::Device::Cpu);
        Self::load(vb, config).with_context(|| format!("{} does not fit the SampleCNN encoder", path.display()))
    }
}

fn encoder_tensors(path: &std::path::Path) -> anyhow::Result<std::collections::HashMap<String, Tensor>> {
    use crate::torch_checkpoint::{select_and_strip, state_dict};
    let all = state_dict(path)?;
    let mut encoder = select_and_strip(&all, "model.encoder.");
    if encoder.is_empty() {
        encoder = select_and_strip(&all, "encoder.");
    }
    if encoder.is_empty() {
        anyhow::bail!("{} holds no `model.encoder.*` or `encoder.*` weights: not a CLMR checkpoint", path.display());
    }
    Ok(encoder)
}
