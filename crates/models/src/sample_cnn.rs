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

/// One conv → BN → ReLU (→ max-pool) block, its weights as plain vectors: the forward pass runs
/// each kernel tap as a strided GEMM over the (zero-padded) input instead of building im2col
/// copies, which made candle's conv1d twice as slow as PyTorch's here.
#[derive(Debug, Clone)]
struct Block {
    /// `(out, in, k)` row-major, as PyTorch stores it.
    kernel: Vec<f32>,
    cin: usize,
    cout: usize,
    k: usize,
    /// BN scale, and conv bias folded into the BN shift: `relu(acc·scale + shift)`.
    scale: Vec<f32>,
    shift: Vec<f32>,
    /// The input convolution: stride `k`, no padding; the others: stride 1, padding 1.
    strided: bool,
    pool: Option<usize>,
}

impl Block {
    fn load(vb: VarBuilder, (cin, cout): (usize, usize), k: usize) -> Result<Self> {
        let conv = vb.pp("0");
        let kernel = conv.get((cout, cin, k), "weight")?.flatten_all()?.to_vec1::<f32>()?;
        let bias = conv.get(cout, "bias")?.to_dtype(DType::F64)?;
        let bn = vb.pp("1");
        let gamma = bn.get(cout, "weight")?.to_dtype(DType::F64)?;
        let beta = bn.get(cout, "bias")?.to_dtype(DType::F64)?;
        let mean = bn.get(cout, "running_mean")?.to_dtype(DType::F64)?;
        let var = bn.get(cout, "running_var")?.to_dtype(DType::F64)?;
        let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
        // (acc + bias − mean)·scale + beta
        let shift = (beta + ((bias - mean)? * &scale)?)?;
        Ok(Block {
            kernel,
            cin,
            cout,
            k,
            scale: scale.to_dtype(DType::F32)?.to_vec1()?,
            shift: shift.to_dtype(DType::F32)?.to_vec1()?,
            strided: false,
            pool: None,
        })
    }

    /// `x`: `(cin, len)` row-major → `(cout, len')`, and `len'`.
    fn forward(&self, x: &[f32], len: usize) -> (Vec<f32>, usize) {
        let (cin, cout, k) = (self.cin, self.cout, self.k);
        let (out_len, mut acc) = if self.strided {
            // out[o, t] = Σ_j w[o, 0, j] · x[k·t + j]  (cin = 1): one GEMM with a strided view of x.
            let out_len = len / k;
            let mut acc = vec![0f32; cout * out_len];
            // SAFETY: every index the strides reach is inside `kernel` (cout × k), `x` (≥ k·out_len)
            // and `acc` (cout × out_len).
            unsafe {
                gemm::gemm(
                    cout,
                    out_len,
                    k,
                    acc.as_mut_ptr(),
                    1,
                    out_len as isize,
                    false,
                    self.kernel.as_ptr(),
                    1,
                    k as isize,
                    x.as_ptr(),
                    k as isize,
                    1,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            (out_len, acc)
        } else {
            // 'same' padding of 1: tap j reads columns j .. j + len of the padded input.
            let padded_len = len + 2;
            let mut padded = vec![0f32; cin * padded_len];
            for c in 0..cin {
                padded[c * padded_len + 1..c * padded_len + 1 + len].copy_from_slice(&x[c * len..(c + 1) * len]);
            }
            let mut acc = vec![0f32; cout * len];
            for j in 0..k {
                // SAFETY: lhs (o, c) at o·cin·k + c·k + j < cout·cin·k; rhs (c, t) at c·padded_len + t + j
                // < cin·padded_len for t < len, j < k = 3 (padding 1 each side); dst is cout × len.
                unsafe {
                    gemm::gemm(
                        cout,
                        len,
                        cin,
                        acc.as_mut_ptr(),
                        1,
                        len as isize,
                        j > 0,
                        self.kernel.as_ptr().add(j),
                        k as isize,
                        (cin * k) as isize,
                        padded.as_ptr().add(j),
                        1,
                        padded_len as isize,
                        1.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            }
            (len, acc)
        };
        for (o, row) in acc.chunks_exact_mut(out_len).enumerate() {
            let (scale, shift) = (self.scale[o], self.shift[o]);
            for v in row.iter_mut() {
                *v = (*v * scale + shift).max(0.0);
            }
        }
        match self.pool {
            // floor mode: trailing samples that do not fill a window are dropped.
            Some(p) => {
                let pooled_len = out_len / p;
                let mut pooled = Vec::with_capacity(cout * pooled_len);
                for row in acc.chunks_exact(out_len) {
                    pooled.extend(
                        row[..pooled_len * p].chunks_exact(p).map(|w| w.iter().copied().fold(f32::MIN, f32::max)),
                    );
                }
                (pooled, pooled_len)
            }
            None => {
                acc.truncate(cout * out_len);
                (acc, out_len)
            }
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
            block.strided = i == 0;
            block.pool = (i > 0 && i < last).then_some(config.stride);
            blocks.push(block);
        }
        Ok(SampleCnn { config: config.clone(), blocks })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// One frame of raw audio → the flattened last block (`channels × remaining length`).
    pub fn forward_frame(&self, frame: &[f32]) -> Vec<f32> {
        let mut x = frame.to_vec();
        let mut len = frame.len();
        for block in &self.blocks {
            (x, len) = block.forward(&x, len);
        }
        x
    }

    /// `frames`: `(batch, 1, samples)` → `(batch, channels × remaining length)`, as the encoder's
    /// `out.reshape(batch, -1)`.
    pub fn forward(&self, frames: &Tensor) -> Result<Tensor> {
        let (batch, _, samples) = frames.dims3()?;
        let flat = frames.flatten_all()?.to_vec1::<f32>()?;
        let mut out = Vec::new();
        let mut width = 0;
        for frame in flat.chunks_exact(samples) {
            let y = self.forward_frame(frame);
            width = y.len();
            out.extend(y);
        }
        Tensor::from_vec(out, (batch, width), frames.device())
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
