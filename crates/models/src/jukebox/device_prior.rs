//! The prior's transformer in candle tensors, on any candle device: the CPU (where the tests hold it
//! to the reference's activations) or, built with `--features cuda`, an NVIDIA GPU.
//!
//! The same computation as [`super::prior::JukeboxPrior::forward`], expressed as whole-tensor
//! operations: each factorised attention type becomes a reshape of the `[n_ctx, S]` queries, keys
//! and values into independent groups (blocks, strided "transposed" blocks, or each block against
//! the previous one), a batched product, a mask and a softmax. Matrix products run in the chosen
//! dtype (f32; or f16, as the reference runs them on a GPU with its fp16 parameters; or bf16),
//! LayerNorm, softmax and the residual stream in f32.

use super::prior::{Attention, JukeboxPrior, LayerParams, LinearParams, PriorConfig};
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, D};

/// The dtype of the matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeType {
    F32,
    F16,
    Bf16,
}

impl ComputeType {
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "f32" => ComputeType::F32,
            "f16" => ComputeType::F16,
            "bf16" => ComputeType::Bf16,
            other => bail!("unknown compute type {other:?} (f32, f16 or bf16)"),
        })
    }

    fn dtype(self) -> DType {
        match self {
            ComputeType::F32 => DType::F32,
            ComputeType::F16 => DType::F16,
            ComputeType::Bf16 => DType::BF16,
        }
    }
}

/// A device by name: `cpu`, or `cuda` / `cuda:N` in a build with the `cuda` feature.
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        cuda if cuda == "cuda" || cuda.starts_with("cuda:") => {
            let ordinal = match cuda.strip_prefix("cuda:") {
                Some(n) => n.parse().with_context(|| format!("bad device {cuda:?}: expected cuda:<number>"))?,
                None => 0,
            };
            if !candle_core::utils::cuda_is_available() {
                bail!(
                    "this jukemir was built without CUDA: rebuild with `cargo build --release --features cuda` \
                     (needs the CUDA toolkit's nvcc) to use {cuda:?}"
                );
            }
            Device::new_cuda(ordinal).with_context(|| format!("cannot open CUDA device {ordinal}"))
        }
        other => bail!("unknown device {other:?} (cpu, cuda or cuda:N)"),
    }
}

struct DeviceLinear {
    weight: Tensor,
    bias: Tensor,
}

impl DeviceLinear {
    fn new(params: &LinearParams<'_>, device: &Device, dtype: DType) -> Result<Self> {
        let weight =
            Tensor::from_slice(params.weight.as_ref(), (params.n_in, params.n_out), device)?.to_dtype(dtype)?;
        Ok(DeviceLinear { weight, bias: Tensor::from_slice(params.bias, params.n_out, device)? })
    }

    /// `b + x @ W`, `x` `[rows, n_in]` f32 → `[rows, n_out]` f32.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.to_dtype(self.weight.dtype())?.matmul(&self.weight)?.to_dtype(DType::F32)?;
        Ok(y.broadcast_add(&self.bias)?)
    }
}

struct DeviceLayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl DeviceLayerNorm {
    fn new((weight, bias): (&[f32], &[f32]), device: &Device) -> Result<Self> {
        Ok(DeviceLayerNorm {
            weight: Tensor::from_slice(weight, weight.len(), device)?,
            bias: Tensor::from_slice(bias, bias.len(), device)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::layer_norm(x, &self.weight, &self.bias, 1e-5)?)
    }
}

struct DeviceLayer {
    ln_0: DeviceLayerNorm,
    c_attn: DeviceLinear,
    c_proj: DeviceLinear,
    ln_1: DeviceLayerNorm,
    c_fc: DeviceLinear,
    mlp_proj: DeviceLinear,
    attention: Attention,
}

impl DeviceLayer {
    fn new(p: &LayerParams<'_>, device: &Device, dtype: DType) -> Result<Self> {
        Ok(DeviceLayer {
            ln_0: DeviceLayerNorm::new(p.ln_0, device)?,
            c_attn: DeviceLinear::new(&p.c_attn, device, dtype)?,
            c_proj: DeviceLinear::new(&p.c_proj, device, dtype)?,
            ln_1: DeviceLayerNorm::new(p.ln_1, device)?,
            c_fc: DeviceLinear::new(&p.c_fc, device, dtype)?,
            mlp_proj: DeviceLinear::new(&p.mlp_proj, device, dtype)?,
            attention: p.attention,
        })
    }
}

/// The prior's layers with their weights on a device.
pub struct DevicePrior {
    config: PriorConfig,
    layers: Vec<DeviceLayer>,
    device: Device,
    dtype: DType,
}

impl DevicePrior {
    /// Copies `prior`'s layers to `device` (weights converted from their stored f16 to `compute`;
    /// streamed weights are read from the checkpoint once, here).
    pub fn new(prior: &JukeboxPrior, device: &Device, compute: ComputeType) -> Result<Self> {
        let dtype = compute.dtype();
        let layers = (0..prior.depth())
            .map(|d| DeviceLayer::new(&prior.layer_params(d)?, device, dtype))
            .collect::<Result<Vec<_>>>()?;
        Ok(DevicePrior { config: prior.config().clone(), layers, device: device.clone(), dtype })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Runs the first `layers` layers on `x` (the output of [`JukeboxPrior::embed`], `[n_ctx,
    /// width]`), calling `after_layer(d, x)` with the residual stream (f32, on the device) after
    /// each.
    pub fn forward(
        &self,
        x: &[f32],
        layers: usize,
        after_layer: &mut dyn FnMut(usize, &Tensor) -> Result<()>,
    ) -> Result<()> {
        let (n, w) = (self.config.n_ctx, self.config.width);
        if x.len() != n * w {
            bail!("the prior's input must be [{n}, {w}]");
        }
        if layers > self.layers.len() {
            bail!("{layers} layers asked for, {} loaded", self.layers.len());
        }
        let mut x = Tensor::from_slice(x, (n, w), &self.device)?;
        for (d, layer) in self.layers[..layers].iter().enumerate() {
            x = self.layer_forward(layer, &x)?;
            after_layer(d, &x)?;
        }
        Ok(())
    }

    fn layer_forward(&self, layer: &DeviceLayer, x: &Tensor) -> Result<Tensor> {
        let qkv = layer.c_attn.forward(&layer.ln_0.forward(x)?)?;
        let attended = self.attend(layer.attention, &qkv)?;
        let x = (x + layer.c_proj.forward(&attended)?)?;
        let hidden = layer.c_fc.forward(&layer.ln_1.forward(&x)?)?;
        let hidden = (&hidden * candle_nn::ops::sigmoid(&(&hidden * 1.702)?)?)?;
        Ok((&x + layer.mlp_proj.forward(&hidden)?)?)
    }

    /// Multi-head attention of `kind` over `qkv` `[n_ctx, 3S]` → `[n_ctx, S]`.
    fn attend(&self, kind: Attention, qkv: &Tensor) -> Result<Tensor> {
        let (n, s, heads) = (self.config.n_ctx, self.config.attention_width(), self.config.heads);
        let (block, hd) = (self.config.block_ctx(), s / heads);
        let blocks = n / block;
        let (q, k, v) = (qkv.narrow(1, 0, s)?, qkv.narrow(1, s, s)?, qkv.narrow(1, 2 * s, s)?);
        // Into [groups · heads, positions in a group, hd] and back.
        let split = |t: &Tensor| -> Result<Tensor> {
            Ok(match kind {
                Attention::Dense => t.reshape((n, heads, hd))?.permute((1, 0, 2))?,
                Attention::Block | Attention::PreviousBlock => t
                    .reshape((blocks, block, heads, hd))?
                    .permute((0, 2, 1, 3))?
                    .reshape((blocks * heads, block, hd))?,
                Attention::TransposeBlock => t
                    .reshape((blocks, block, heads, hd))?
                    .permute((1, 2, 0, 3))?
                    .reshape((block * heads, blocks, hd))?,
            }
            .contiguous()?)
        };
        let merge = |t: Tensor| -> Result<Tensor> {
            Ok(match kind {
                Attention::Dense => t.permute((1, 0, 2))?,
                Attention::Block | Attention::PreviousBlock => {
                    t.reshape((blocks, heads, block, hd))?.permute((0, 2, 1, 3))?
                }
                Attention::TransposeBlock => t.reshape((block, heads, blocks, hd))?.permute((2, 0, 1, 3))?,
            }
            .contiguous()?
            .reshape((n, s))?)
        };
        let (k, v) = match kind {
            // Block g attends to block g − 1; block 0 to zeros (its output is then exactly 0).
            Attention::PreviousBlock => {
                let zeros = Tensor::zeros((block, s), DType::F32, &self.device)?;
                let shift =
                    |t: &Tensor| -> Result<Tensor> { Ok(Tensor::cat(&[&zeros, &t.narrow(0, 0, n - block)?], 0)?) };
                (shift(&k)?, shift(&v)?)
            }
            _ => (k, v),
        };
        let (q, k, v) = (split(&q)?, split(&k)?, split(&v)?);
        let scale = {
            let scale = 1.0 / (hd as f64).sqrt().sqrt();
            f64::from((scale * scale) as f32)
        };
        let scores = q
            .to_dtype(self.dtype)?
            .matmul(&k.to_dtype(self.dtype)?.t()?.contiguous()?)?
            .to_dtype(DType::F32)?
            .affine(scale, 0.0)?;
        let scores = if kind == Attention::PreviousBlock {
            scores
        } else {
            let len = scores.dim(D::Minus1)?;
            let visible = Tensor::tril2(len, DType::U8, &self.device)?.broadcast_as(scores.shape())?;
            let hidden = Tensor::new(f32::NEG_INFINITY, &self.device)?.broadcast_as(scores.shape())?;
            visible.where_cond(&scores, &hidden)?
        };
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = weights.to_dtype(self.dtype)?.matmul(&v.to_dtype(self.dtype)?)?.to_dtype(DType::F32)?;
        merge(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(attn_order: usize) -> (JukeboxPrior, Vec<f32>) {
        let (prior, conditioning) = crate::jukebox::prior::tests::tiny(attn_order);
        let codes: Vec<u32> = (0..48).map(|i| (i * 3 % 10) as u32).collect();
        let x = prior.embed(&codes, &conditioning).unwrap();
        (prior, x)
    }

    fn layers_on_cpu(prior: &JukeboxPrior, x: &[f32]) -> Vec<Vec<f32>> {
        let mut x = x.to_vec();
        let mut out = Vec::new();
        prior.forward(&mut x, 3, &mut |_, stream| out.push(stream.to_vec())).unwrap();
        out
    }

    fn layers_on_device(prior: &JukeboxPrior, x: &[f32], compute: ComputeType) -> Vec<Vec<f32>> {
        let device_prior = DevicePrior::new(prior, &Device::Cpu, compute).unwrap();
        let mut out = Vec::new();
        device_prior
            .forward(x, 3, &mut |_, stream| {
                out.push(stream.flatten_all()?.to_vec1::<f32>()?);
                Ok(())
            })
            .unwrap();
        out
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// Every attention type, every layer: the tensor formulation computes what the CPU kernels do.
    #[test]
    fn candle_layers_equal_the_cpu_kernels_in_f32() {
        for order in [0, 1, 2] {
            let (prior, x) = tiny(order);
            let (ours, theirs) = (layers_on_device(&prior, &x, ComputeType::F32), layers_on_cpu(&prior, &x));
            for (d, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
                let diff = max_abs_diff(a, b);
                assert!(diff <= 2e-6 * scale, "order {order} layer {d}: {diff} of {scale}");
            }
        }
    }

    /// Half-precision products change the numbers by about their rounding, no more.
    #[test]
    fn half_precision_products_stay_close() {
        let (prior, x) = tiny(2);
        let reference = layers_on_cpu(&prior, &x);
        for (compute, tolerance) in [(ComputeType::F16, 5e-3), (ComputeType::Bf16, 4e-2)] {
            let ours = layers_on_device(&prior, &x, compute);
            let (a, b) = (ours.last().unwrap(), reference.last().unwrap());
            let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = max_abs_diff(a, b);
            assert!(diff <= tolerance * scale, "{compute:?}: {diff} of {scale}");
        }
    }

    #[test]
    fn devices_and_compute_types_are_named() {
        assert!(matches!(device("cpu"), Ok(Device::Cpu)));
        assert!(device("tpu").unwrap_err().to_string().contains("unknown device"));
        assert!(device("cuda:x").is_err());
        if !candle_core::utils::cuda_is_available() {
            assert!(device("cuda").unwrap_err().to_string().contains("--features cuda"));
        }
        assert_eq!(ComputeType::from_name("bf16").unwrap(), ComputeType::Bf16);
        assert!(ComputeType::from_name("f8").is_err());
    }
}
