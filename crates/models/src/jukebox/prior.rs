//! The top prior's transformer (`ConditionalAutoregressive2D` with `only_encode`): code embeddings
//! shifted right with the start embedding in front, plus learned positions and the timing
//! conditioning, through pre-LayerNorm residual blocks of factorised attention and a quick-GELU MLP.
//!
//! Weight matrices are kept as float16: the reference converts them to fp16 parameters before
//! loading (`fp16_params`), so f16 loses nothing and halves the memory (5 GB for 36 layers of the 5B
//! model). Each is widened to f32 just before its matrix product, which runs in f32.

use super::conditioning::Conditioning;
use super::{read_shaped, read_shaped_f16, TensorSource};
use crate::linalg::matmul;
use anyhow::{bail, Result};
use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct PriorConfig {
    /// Positions (codes) per context.
    pub n_ctx: usize,
    pub width: usize,
    pub heads: usize,
    /// Layers to build and run (the reference runs 36 of the checkpoint's 72).
    pub depth: usize,
    /// The context is cut into this many blocks for the factorised attention.
    pub blocks: usize,
    /// Attention width `m_attn · width`, MLP width `m_mlp · width`.
    pub m_attn: f64,
    pub m_mlp: f64,
    /// Which attention type each layer uses (`attn_order` of the hparams: 0, 1 or 2).
    pub attn_order: usize,
    /// Rows of the code embedding (the codebook size).
    pub bins: usize,
}

impl PriorConfig {
    /// `prior_5b` with `prior_depth = 36`, as the reference container builds it.
    pub fn jukebox_5b() -> Self {
        PriorConfig {
            n_ctx: 8192,
            width: 4800,
            heads: 8,
            depth: 36,
            blocks: 128,
            m_attn: 0.25,
            m_mlp: 1.0,
            attn_order: 2,
            bins: 2048,
        }
    }

    pub fn attention_width(&self) -> usize {
        (self.m_attn * self.width as f64) as usize
    }

    pub fn mlp_width(&self) -> usize {
        (self.m_mlp * self.width as f64) as usize
    }

    pub fn block_ctx(&self) -> usize {
        self.n_ctx / self.blocks
    }

    /// The attention type of layer `d` (`attn_func` in the reference).
    pub fn attention(&self, d: usize) -> Result<Attention> {
        Ok(match self.attn_order {
            0 => Attention::Dense,
            1 => [Attention::Block, Attention::TransposeBlock][d % 2],
            2 => [Attention::Block, Attention::TransposeBlock, Attention::PreviousBlock][d % 3],
            other => bail!("attn_order {other} is not supported (the 5B prior uses 2)"),
        })
    }

    fn validate(&self) -> Result<()> {
        let s = self.attention_width();
        if self.heads == 0 || !s.is_multiple_of(self.heads) {
            bail!("attention width {s} is not divisible by {} heads", self.heads);
        }
        if self.blocks == 0 || !self.n_ctx.is_multiple_of(self.blocks) {
            bail!("n_ctx {} is not divisible into {} blocks", self.n_ctx, self.blocks);
        }
        Ok(())
    }
}

/// The factorised attention types (`attn_func` 0–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// Every position attends causally to all earlier ones.
    Dense,
    /// Causal within each block of `block_ctx` consecutive positions.
    Block,
    /// Causal over the positions with the same offset in every block.
    TransposeBlock,
    /// Each block attends to all of the previous block (block 0 to nothing: its output is 0).
    PreviousBlock,
}

#[derive(Debug, Clone)]
struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl LayerNorm {
    fn load(source: &dyn TensorSource, name: &str, width: usize) -> Result<Self> {
        Ok(LayerNorm {
            weight: read_shaped(source, &format!("{name}.weight"), &[width])?,
            bias: read_shaped(source, &format!("{name}.bias"), &[width])?,
        })
    }

    /// `nn.LayerNorm(eps=1e-5)` over each row of `x`.
    fn forward(&self, x: &[f32], out: &mut [f32]) {
        let w = self.weight.len();
        out.par_chunks_exact_mut(w).zip(x.par_chunks_exact(w)).for_each(|(o, row)| {
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / w as f64;
            let var = row.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / w as f64;
            let inv = (1.0 / (var + 1e-5).sqrt()) as f32;
            let mean = mean as f32;
            for (((o, &v), &g), &b) in o.iter_mut().zip(row).zip(&self.weight).zip(&self.bias) {
                *o = (v - mean) * inv * g + b;
            }
        });
    }
}

/// A weight matrix held in memory, or read from the checkpoint each time it is used.
#[derive(Debug, Clone)]
enum Matrix {
    Resident(Vec<f16>),
    Streamed(String),
}

/// jukebox's `Conv1D`: `y = b + x @ W` with `W` stored `[n_in, n_out]`.
#[derive(Debug, Clone)]
struct Linear {
    weight: Matrix,
    bias: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

impl Linear {
    fn load(source: &dyn TensorSource, name: &str, n_in: usize, n_out: usize, stream: bool) -> Result<Self> {
        let w = format!("{name}.w");
        let weight = if stream {
            let shape = source.shape(&w)?;
            if shape != [n_in, n_out] {
                bail!(
                    "{w} has shape {shape:?}, expected {:?} (does the checkpoint match the model's hparams?)",
                    [n_in, n_out]
                );
            }
            Matrix::Streamed(w)
        } else {
            Matrix::Resident(read_shaped_f16(source, &w, &[n_in, n_out])?)
        };
        Ok(Linear { weight, bias: read_shaped(source, &format!("{name}.b"), &[n_out])?, n_in, n_out })
    }

    /// `out[rows × n_out] = x[rows × n_in] · W + b`; `scratch` holds the widened weights.
    fn forward(
        &self,
        x: &[f32],
        rows: usize,
        out: &mut [f32],
        scratch: &mut Vec<f32>,
        source: Option<&dyn TensorSource>,
    ) -> Result<()> {
        let (k, n) = (self.n_in, self.n_out);
        scratch.resize(k * n, 0.0);
        match (&self.weight, source) {
            (Matrix::Resident(weight), _) => weight.convert_to_f32_slice(scratch),
            (Matrix::Streamed(name), Some(source)) => {
                let weight = read_shaped_f16(source, name, &[k, n])?;
                weight.convert_to_f32_slice(scratch);
            }
            (Matrix::Streamed(name), None) => bail!("{name} is streamed but no checkpoint was given"),
        }
        matmul((rows, n, k), (out, n), (x, k, 1), (scratch, n, 1), false, rayon::current_num_threads());
        out.par_chunks_exact_mut(n).for_each(|row| row.iter_mut().zip(&self.bias).for_each(|(v, b)| *v += b));
        Ok(())
    }
}

/// `y = b + x @ W`, `W` `[n_in, n_out]` as f16.
pub(crate) struct LinearParams<'a> {
    pub weight: std::borrow::Cow<'a, [f16]>,
    pub bias: &'a [f32],
    pub n_in: usize,
    pub n_out: usize,
}

/// One transformer layer's parameters: LayerNorm (weight, bias) pairs and the four products.
pub(crate) struct LayerParams<'a> {
    pub ln_0: (&'a [f32], &'a [f32]),
    pub c_attn: LinearParams<'a>,
    pub c_proj: LinearParams<'a>,
    pub ln_1: (&'a [f32], &'a [f32]),
    pub c_fc: LinearParams<'a>,
    pub mlp_proj: LinearParams<'a>,
    pub attention: Attention,
}

fn linear_params<'a>(l: &'a Linear, source: Option<&dyn TensorSource>) -> Result<LinearParams<'a>> {
    let weight = match (&l.weight, source) {
        (Matrix::Resident(w), _) => std::borrow::Cow::Borrowed(w.as_slice()),
        (Matrix::Streamed(name), Some(source)) => {
            std::borrow::Cow::Owned(read_shaped_f16(source, name, &[l.n_in, l.n_out])?)
        }
        (Matrix::Streamed(name), None) => bail!("{name} is streamed but no checkpoint was given"),
    };
    Ok(LinearParams { weight, bias: &l.bias, n_in: l.n_in, n_out: l.n_out })
}

/// Shareable tensor source for streamed weights.
pub type SharedSource = std::sync::Arc<dyn TensorSource + Send + Sync>;

#[derive(Debug, Clone)]
struct Layer {
    ln_0: LayerNorm,
    c_attn: Linear,
    c_proj: Linear,
    ln_1: LayerNorm,
    c_fc: Linear,
    mlp_proj: Linear,
    attention: Attention,
}

#[derive(Clone)]
pub struct JukeboxPrior {
    config: PriorConfig,
    /// Where streamed weight matrices are read from (`None`: all resident).
    stream: Option<SharedSource>,
    /// `[bins, width]`.
    x_emb: Vec<f32>,
    /// `[n_ctx, width]`.
    pos_emb: Vec<f32>,
    layers: Vec<Layer>,
}

/// Buffers reused from layer to layer (each `[n_ctx, width]` or `[n_ctx, 3·attention width]`).
struct Buffers {
    normed: Vec<f32>,
    qkv: Vec<f32>,
    attended: Vec<f32>,
    branch: Vec<f32>,
    hidden: Vec<f32>,
    weights: Vec<f32>,
}

/// The names and shapes of the tensors [`JukeboxPrior::load`] reads for `config`.
pub fn tensor_shapes(config: &PriorConfig) -> Vec<(String, Vec<usize>)> {
    let (w, s, h) = (config.width, config.attention_width(), config.mlp_width());
    let mut shapes = vec![
        ("prior.x_emb.weight".to_string(), vec![config.bins, w]),
        ("prior.pos_emb.pos_emb".into(), vec![config.n_ctx, w]),
    ];
    for d in 0..config.depth {
        let p = format!("prior.transformer._attn_mods.{d}");
        for (name, n_in, n_out) in
            [("attn.c_attn", w, 3 * s), ("attn.c_proj", s, w), ("mlp.c_fc", w, h), ("mlp.c_proj", h, w)]
        {
            shapes.push((format!("{p}.{name}.w"), vec![n_in, n_out]));
            shapes.push((format!("{p}.{name}.b"), vec![n_out]));
        }
        for ln in ["ln_0", "ln_1"] {
            shapes.push((format!("{p}.{ln}.weight"), vec![w]));
            shapes.push((format!("{p}.{ln}.bias"), vec![w]));
        }
    }
    shapes
}

impl std::fmt::Debug for JukeboxPrior {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JukeboxPrior")
            .field("config", &self.config)
            .field("streamed", &self.stream.is_some())
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl JukeboxPrior {
    /// Loads `prior.x_emb`, `prior.pos_emb` and the first `config.depth` transformer layers; any
    /// later layers in the checkpoint are not read.
    pub fn load(source: &dyn TensorSource, config: &PriorConfig) -> Result<Self> {
        Self::build(source, config, None)
    }

    /// Like [`Self::load`], but the weight matrices (99.7 % of the parameters) stay in `source` and
    /// are read for each forward pass, one at a time: memory holds one matrix instead of all of them
    /// (5 GB for the 5B prior's 36 layers) at the cost of reading them again for every clip.
    pub fn load_streaming(source: SharedSource, config: &PriorConfig) -> Result<Self> {
        let stream = source.clone();
        Self::build(source.as_ref(), config, Some(stream))
    }

    fn build(source: &dyn TensorSource, config: &PriorConfig, stream: Option<SharedSource>) -> Result<Self> {
        config.validate()?;
        let streamed = stream.is_some();
        let (w, s, h) = (config.width, config.attention_width(), config.mlp_width());
        let x_emb = read_shaped(source, "prior.x_emb.weight", &[config.bins, w])?;
        let pos_emb = read_shaped(source, "prior.pos_emb.pos_emb", &[config.n_ctx, w])?;
        let layers = (0..config.depth)
            .map(|d| {
                let p = format!("prior.transformer._attn_mods.{d}");
                if !source.contains(&format!("{p}.ln_0.weight")) {
                    bail!(
                        "the checkpoint has no layer {d} ({p}.*): it holds fewer than the {} layers asked for",
                        config.depth
                    );
                }
                Ok(Layer {
                    ln_0: LayerNorm::load(source, &format!("{p}.ln_0"), w)?,
                    c_attn: Linear::load(source, &format!("{p}.attn.c_attn"), w, 3 * s, streamed)?,
                    c_proj: Linear::load(source, &format!("{p}.attn.c_proj"), s, w, streamed)?,
                    ln_1: LayerNorm::load(source, &format!("{p}.ln_1"), w)?,
                    c_fc: Linear::load(source, &format!("{p}.mlp.c_fc"), w, h, streamed)?,
                    mlp_proj: Linear::load(source, &format!("{p}.mlp.c_proj"), h, w, streamed)?,
                    attention: config.attention(d)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(JukeboxPrior { config: config.clone(), stream, x_emb, pos_emb, layers })
    }

    pub fn config(&self) -> &PriorConfig {
        &self.config
    }

    /// Layer `d`'s parameters as stored (weight matrices as f16, read from the checkpoint when
    /// streamed), for other backends (`super::device_prior`).
    pub(crate) fn layer_params(&self, d: usize) -> Result<LayerParams<'_>> {
        let layer = &self.layers[d];
        let source = self.stream.as_deref().map(|s| s as &dyn TensorSource);
        let linear = |l| linear_params(l, source);
        Ok(LayerParams {
            ln_0: (&layer.ln_0.weight, &layer.ln_0.bias),
            c_attn: linear(&layer.c_attn)?,
            c_proj: linear(&layer.c_proj)?,
            ln_1: (&layer.ln_1.weight, &layer.ln_1.bias),
            c_fc: linear(&layer.c_fc)?,
            mlp_proj: linear(&layer.mlp_proj)?,
            attention: layer.attention,
        })
    }

    /// Layers loaded.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The transformer's input: `(roll(x_emb[codes], 1) with the start embedding at 0 + pos_emb)
    /// + timing conditioning`, `[n_ctx, width]`.
    pub fn embed(&self, codes: &[u32], conditioning: &Conditioning) -> Result<Vec<f32>> {
        let (n, w) = (self.config.n_ctx, self.config.width);
        if codes.len() < n {
            bail!("{} codes given, the prior needs {n}", codes.len());
        }
        if conditioning.start.len() != w || conditioning.positions.len() != n * w {
            bail!("the conditioning does not match the prior's width {w} and context {n}");
        }
        let mut x = vec![0f32; n * w];
        for (t, row) in x.chunks_exact_mut(w).enumerate() {
            let token: &[f32] = if t == 0 {
                &conditioning.start
            } else {
                let code = codes[t - 1] as usize;
                if code >= self.config.bins {
                    bail!("code {code} at position {} is outside the {} embeddings", t - 1, self.config.bins);
                }
                &self.x_emb[code * w..(code + 1) * w]
            };
            let (pos, cond) = (&self.pos_emb[t * w..(t + 1) * w], &conditioning.positions[t * w..(t + 1) * w]);
            for j in 0..w {
                row[j] = (token[j] + pos[j]) + cond[j];
            }
        }
        Ok(x)
    }

    /// Runs the first `layers` layers on the output of [`Self::embed`] (in place), calling
    /// `after_layer(d, x)` with the residual stream after each.
    pub fn forward(&self, x: &mut [f32], layers: usize, after_layer: &mut dyn FnMut(usize, &[f32])) -> Result<()> {
        let (n, w) = (self.config.n_ctx, self.config.width);
        if x.len() != n * w {
            bail!("the prior's input must be [{n}, {w}]");
        }
        if layers > self.layers.len() {
            bail!("{layers} layers asked for, {} loaded", self.layers.len());
        }
        let s = self.config.attention_width();
        let h = self.config.mlp_width();
        let mut buffers = Buffers {
            normed: vec![0.0; n * w],
            qkv: vec![0.0; n * 3 * s],
            attended: vec![0.0; n * s],
            branch: vec![0.0; n * w],
            hidden: vec![0.0; n * h],
            weights: Vec::new(),
        };
        for (d, layer) in self.layers[..layers].iter().enumerate() {
            self.layer_forward(layer, x, &mut buffers)?;
            after_layer(d, x);
        }
        Ok(())
    }

    fn layer_forward(&self, layer: &Layer, x: &mut [f32], b: &mut Buffers) -> Result<()> {
        let n = self.config.n_ctx;
        let source = self.stream.as_deref().map(|s| s as &dyn TensorSource);
        layer.ln_0.forward(x, &mut b.normed);
        layer.c_attn.forward(&b.normed, n, &mut b.qkv, &mut b.weights, source)?;
        self.attend(layer.attention, &b.qkv, &mut b.attended);
        layer.c_proj.forward(&b.attended, n, &mut b.branch, &mut b.weights, source)?;
        // x + a, kept in x; then m = mlp(ln_1(x + a)) and x + a + m.
        x.par_iter_mut().zip(b.branch.par_iter()).for_each(|(x, a)| *x += a);
        layer.ln_1.forward(x, &mut b.normed);
        layer.c_fc.forward(&b.normed, n, &mut b.hidden, &mut b.weights, source)?;
        b.hidden.par_iter_mut().for_each(|v| *v *= 1.0 / (1.0 + (-1.702 * *v).exp()));
        layer.mlp_proj.forward(&b.hidden, n, &mut b.branch, &mut b.weights, source)?;
        x.par_iter_mut().zip(b.branch.par_iter()).for_each(|(x, m)| *x += m);
        Ok(())
    }

    /// Multi-head attention of `kind` over `qkv` `[n_ctx, 3S]` into `out` `[n_ctx, S]`.
    fn attend(&self, kind: Attention, qkv: &[f32], out: &mut [f32]) {
        let (n, s, heads) = (self.config.n_ctx, self.config.attention_width(), self.config.heads);
        let block = self.config.block_ctx();
        // Each group: the rows of its queries and of its keys/values, as (first row, row step,
        // count), and whether it is causal.
        let groups: Vec<Group> = match kind {
            Attention::Dense => vec![Group { q: (0, 1, n), kv: Some((0, 1, n)), causal: true }],
            Attention::Block => (0..n / block)
                .map(|g| Group { q: (g * block, 1, block), kv: Some((g * block, 1, block)), causal: true })
                .collect(),
            Attention::TransposeBlock => (0..block)
                .map(|j| Group { q: (j, block, n / block), kv: Some((j, block, n / block)), causal: true })
                .collect(),
            Attention::PreviousBlock => (0..n / block)
                .map(|g| Group {
                    q: (g * block, 1, block),
                    kv: (g > 0).then(|| ((g - 1) * block, 1, block)),
                    causal: false,
                })
                .collect(),
        };
        let hd = s / heads;
        let scale = {
            let scale = 1.0 / (hd as f64).sqrt().sqrt();
            (scale * scale) as f32
        };
        let results: Vec<Vec<f32>> = groups.par_iter().map(|g| g.attend(qkv, s, heads, scale)).collect();
        for (group, result) in groups.iter().zip(results) {
            let (first, step, count) = group.q;
            for i in 0..count {
                let row = first + i * step;
                out[row * s..(row + 1) * s].copy_from_slice(&result[i * s..(i + 1) * s]);
            }
        }
    }
}

struct Group {
    q: (usize, usize, usize),
    kv: Option<(usize, usize, usize)>,
    causal: bool,
}

impl Group {
    /// `softmax(mask(q·kᵀ · scale²)) · v` per head, `[queries, S]`.
    fn attend(&self, qkv: &[f32], s: usize, heads: usize, scale: f32) -> Vec<f32> {
        let (q_first, q_step, lq) = self.q;
        let mut out = vec![0f32; lq * s];
        // Previous-block attention of block 0 sees only zero keys and values: output 0.
        let Some((kv_first, kv_step, lk)) = self.kv else { return out };
        let hd = s / heads;
        let row_stride = 3 * s;
        let mut scores = vec![0f32; lq * lk];
        for h in 0..heads {
            let q = &qkv[q_first * row_stride + h * hd..];
            let k = &qkv[kv_first * row_stride + s + h * hd..];
            let v = &qkv[kv_first * row_stride + 2 * s + h * hd..];
            matmul(
                (lq, lk, hd),
                (&mut scores, lk),
                (q, q_step * row_stride, 1),
                (k, 1, kv_step * row_stride),
                false,
                1,
            );
            for (i, row) in scores.chunks_exact_mut(lk).enumerate() {
                let visible = if self.causal { (i + 1).min(lk) } else { lk };
                let mut max = f32::NEG_INFINITY;
                for v in &mut row[..visible] {
                    *v *= scale;
                    max = max.max(*v);
                }
                let mut sum = 0f32;
                for v in &mut row[..visible] {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                for v in &mut row[..visible] {
                    *v /= sum;
                }
                row[visible..].fill(0.0);
            }
            matmul((lq, hd, lk), (&mut out[h * hd..], s), (&scores, lk, 1), (v, kv_step * row_stride, 1), false, 1);
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jukebox::RandomTensors;

    /// A 3-layer prior of width 16 over 48 positions in 4 blocks, random weights, with its
    /// conditioning (also used by `device_prior`'s tests).
    pub(crate) fn tiny(attn_order: usize) -> (JukeboxPrior, Conditioning) {
        let config = PriorConfig {
            n_ctx: 48,
            width: 16,
            heads: 2,
            depth: 3,
            blocks: 4,
            m_attn: 0.25,
            m_mlp: 2.0,
            attn_order,
            bins: 10,
        };
        let prior = JukeboxPrior::load(&RandomTensors::new(tensor_shapes(&config), 0.5), &config).unwrap();
        let conditioning = Conditioning {
            start: (0..16).map(|i| i as f32 * 0.1).collect(),
            positions: (0..48 * 16).map(|i| ((i * 7) % 13) as f32 * 0.01).collect(),
        };
        (prior, conditioning)
    }

    fn run(prior: &JukeboxPrior, conditioning: &Conditioning, codes: &[u32]) -> Vec<f32> {
        let mut x = prior.embed(codes, conditioning).unwrap();
        prior.forward(&mut x, 3, &mut |_, _| {}).unwrap();
        x
    }

    #[test]
    fn every_attention_type_is_causal() {
        // Position t sees code t−1 and earlier: changing code k changes positions k+1… only.
        for order in [0, 1, 2] {
            let (prior, conditioning) = tiny(order);
            let codes: Vec<u32> = (0..48).map(|i| (i * 3 % 10) as u32).collect();
            let base = run(&prior, &conditioning, &codes);
            for k in [0, 11, 12, 30, 46] {
                let mut changed = codes.clone();
                changed[k] = (changed[k] + 1) % 10;
                let other = run(&prior, &conditioning, &changed);
                let w = 16;
                assert_eq!(base[..(k + 1) * w], other[..(k + 1) * w], "order {order}, code {k}");
                assert_ne!(base[(k + 1) * w..(k + 2) * w], other[(k + 1) * w..(k + 2) * w], "order {order}, code {k}");
            }
        }
    }

    #[test]
    fn previous_block_attention_of_block_zero_is_zero() {
        let (prior, _) = tiny(2);
        let n = 48;
        let s = prior.config().attention_width();
        let qkv: Vec<f32> = (0..n * 3 * s).map(|i| (i % 17) as f32 * 0.1).collect();
        let mut out = vec![1f32; n * s];
        prior.attend(Attention::PreviousBlock, &qkv, &mut out);
        assert!(out[..12 * s].iter().all(|&v| v == 0.0));
        assert!(out[12 * s..].iter().any(|&v| v != 0.0));
    }

    #[test]
    fn too_few_codes_and_bad_codes_are_errors() {
        let (prior, conditioning) = tiny(2);
        assert!(prior.embed(&[1; 47], &conditioning).is_err());
        let mut codes = vec![1u32; 48];
        codes[5] = 10;
        assert!(prior.embed(&codes, &conditioning).unwrap_err().to_string().contains("code 10"));
    }
}
