//! The reference's `SimpleMLP` in candle: dropout on the input, then per hidden layer
//! Linear → ReLU → dropout, then a linear output.
//!
//! As in the reference, the input dropout is applied whatever `dropout_input` says: its
//! `SimpleMLP` accepts that flag but never reads it, and parity means keeping that.

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;

pub struct Linear {
    /// Stored transposed, `(in, out)`: `x · W` needs no transpose op in the graph, whose
    /// backward pass would add a strided gradient (a third of an MLP probe's step time). Saved
    /// and loaded as torch's `(out, in)`.
    pub weight_t: Var,
    pub bias: Var,
}

pub struct SimpleMlp {
    /// Hidden layers, then the output layer last.
    pub layers: Vec<Linear>,
    pub dropout_p: f64,
}

/// torch's `nn.Linear` initialisation of an `out × inp` layer (kaiming_uniform with a=√5 for the
/// weights, which is U(±1/√inp), and U(±1/√inp) for the biases), drawn from `rng` in torch's
/// order: the `(out, inp)` row-major weight, then the bias.
pub fn torch_linear_init(rng: &mut ChaCha8Rng, out: usize, inp: usize) -> (Vec<f32>, Vec<f32>) {
    let bound = 1.0 / (inp as f32).sqrt();
    let weight = (0..out * inp).map(|_| rng.random_range(-bound..bound)).collect();
    let bias = (0..out).map(|_| rng.random_range(-bound..bound)).collect();
    (weight, bias)
}

impl SimpleMlp {
    /// Every layer initialised as torch's `nn.Linear` ([`torch_linear_init`]), in torch's order.
    pub fn new(
        num_features: usize,
        hidden: &[usize],
        num_outputs: usize,
        dropout_p: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        let mut layers = Vec::new();
        let mut d = num_features;
        for &out in hidden.iter().chain(std::iter::once(&num_outputs)) {
            layers.push(torch_linear_init(rng, out, d));
            d = out;
        }
        Self::from_torch_layers(layers, dropout_p)
    }

    /// A probe from plain buffers in torch's layout: per layer (first to output), the `(out, in)`
    /// row-major weight and the bias.
    pub fn from_torch_layers(layers: Vec<(Vec<f32>, Vec<f32>)>, dropout_p: f64) -> Result<Self> {
        let layers = layers
            .into_iter()
            .map(|(weight, bias)| {
                let (out, len) = (bias.len(), weight.len());
                let weight = Tensor::from_vec(weight, (out, len / out.max(1)), &Device::Cpu)?;
                Ok(Linear {
                    weight_t: Var::from_tensor(&weight.t()?.contiguous()?)?,
                    bias: Var::from_tensor(&Tensor::from_vec(bias, out, &Device::Cpu)?)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { layers, dropout_p })
    }

    /// Logits for a `(batch, features)` input. With `rng`, dropout is on (training mode) and its
    /// masks come from `rng`, because candle's CPU RNG cannot be seeded.
    pub fn forward(&self, x: &Tensor, mut rng: Option<&mut ChaCha8Rng>) -> Result<Tensor> {
        let x = self.dropout(x, rng.as_deref_mut())?;
        self.forward_layers(x, rng)
    }

    /// Training-mode logits for the rows `rows` of the row-major `(n, dim)` matrix `x`: the same
    /// as `forward` on the gathered batch, with the same draws from `rng`, but the input dropout
    /// is applied while gathering instead of through a mask tensor.
    pub fn forward_train_rows(&self, x: &[f32], dim: usize, rows: &[usize], rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let n = rows.len() * dim;
        let mut batch = Vec::with_capacity(n);
        if self.dropout_p == 0.0 {
            for &r in rows {
                batch.extend_from_slice(&x[r * dim..(r + 1) * dim]);
            }
        } else {
            let (threshold, scale) = self.keep_threshold_and_scale();
            let mut bits = vec![0u32; n];
            rng.fill(&mut bits[..]);
            for (&r, bits) in rows.iter().zip(bits.chunks_exact(dim)) {
                let row = &x[r * dim..(r + 1) * dim];
                // Branch-free: the mask is random, so a branch would be mispredicted half the time.
                batch.extend(
                    row.iter().zip(bits).map(|(&v, &b)| v * (scale * f32::from(u8::from(u64::from(b) < threshold)))),
                );
            }
        }
        let batch = Tensor::from_vec(batch, (rows.len(), dim), &Device::Cpu)?;
        self.forward_layers(batch, Some(rng))
    }

    /// Keep an element when its u32 draw is below the threshold: one draw per element against a
    /// threshold (a per-element `random_bool` was most of a linear probe's step time).
    fn keep_threshold_and_scale(&self) -> (u64, f32) {
        let keep = 1.0 - self.dropout_p;
        ((keep * 4_294_967_296.0) as u64, (1.0 / keep) as f32)
    }

    fn forward_layers(&self, mut x: Tensor, mut rng: Option<&mut ChaCha8Rng>) -> Result<Tensor> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = x.matmul(layer.weight_t.as_tensor())?.broadcast_add(layer.bias.as_tensor())?;
            if i < last {
                x = self.dropout(&x.relu()?, rng.as_deref_mut())?;
            }
        }
        Ok(x)
    }

    fn dropout(&self, x: &Tensor, rng: Option<&mut ChaCha8Rng>) -> Result<Tensor> {
        let Some(rng) = rng else { return Ok(x.clone()) };
        if self.dropout_p == 0.0 {
            return Ok(x.clone());
        }
        let (threshold, scale) = self.keep_threshold_and_scale();
        let mut bits = vec![0u32; x.elem_count()];
        rng.fill(&mut bits[..]);
        let mask: Vec<f32> = bits.iter().map(|&b| scale * f32::from(u8::from(u64::from(b) < threshold))).collect();
        Ok((x * Tensor::from_vec(mask, x.shape(), x.device())?)?)
    }

    pub fn vars(&self) -> Vec<&Var> {
        self.layers.iter().flat_map(|l| [&l.weight_t, &l.bias]).collect()
    }

    /// Parameters under the reference's state-dict names (`hidden_0.weight`, …, `output.bias`).
    pub fn named_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        let last = self.layers.len() - 1;
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let name = if i == last { "output".to_string() } else { format!("hidden_{i}") };
            out.push((format!("{name}.weight"), l.weight_t.as_tensor().t()?.contiguous()?));
            out.push((format!("{name}.bias"), l.bias.as_tensor().clone()));
        }
        Ok(out)
    }

    /// A deep copy of the parameters (the early-stopping checkpoint).
    pub fn snapshot(&self) -> Result<Vec<Tensor>> {
        self.vars().into_iter().map(|v| Ok(v.as_tensor().copy()?)).collect()
    }

    pub fn restore(&self, state: &[Tensor]) -> Result<()> {
        for (v, t) in self.vars().into_iter().zip(state) {
            v.set(t)?;
        }
        Ok(())
    }

    /// Flat copy of all parameters, for comparisons.
    pub fn flat_params(&self) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        for v in self.vars() {
            out.extend(v.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    pub fn save_safetensors(&self, path: &Path) -> Result<()> {
        let map: HashMap<String, Tensor> = self.named_tensors()?.into_iter().collect();
        candle_core::safetensors::save(&map, path).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Load weights written by [`Self::save_safetensors`]; the layer sizes come from the file.
    pub fn load_safetensors(path: &Path, num_hidden: usize, dropout_p: f64) -> Result<Self> {
        let mut map = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let names = (0..num_hidden).map(|i| format!("hidden_{i}")).chain(std::iter::once("output".to_string()));
        let mut layers = Vec::new();
        for name in names {
            let mut take = |suffix: &str| -> Result<Var> {
                let key = format!("{name}.{suffix}");
                let t = map.remove(&key).with_context(|| format!("{} has no tensor `{key}`", path.display()))?;
                Ok(Var::from_tensor(&t.to_dtype(DType::F32)?)?)
            };
            let weight = take("weight")?;
            let weight_t = Var::from_tensor(&weight.as_tensor().t()?.contiguous()?)?;
            layers.push(Linear { weight_t, bias: take("bias")? });
        }
        Ok(Self { layers, dropout_p })
    }
}
