//! The VQ-VAE's level-2 encoder and bottleneck (`VQVAE.encode(x)[-1]`): three levels of strided
//! convolutions, each followed by dilated residual blocks, down to one 64-dim vector per 128
//! samples, then the index of the nearest codebook row.

use super::{read_shaped, TensorSource};
use crate::linalg::matmul;
use anyhow::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct EncoderConfig {
    /// Strided convolutions per level, and their strides (kernel 2·stride, padding stride/2).
    pub downs_t: Vec<usize>,
    pub strides_t: Vec<usize>,
    /// Channels inside the level blocks (the VQ-VAE's width × this level's multiplier).
    pub width: usize,
    /// Residual blocks after each strided convolution (depth × multiplier).
    pub depth: usize,
    /// The residual blocks' inner width is `m_conv · width`.
    pub m_conv: f64,
    /// Residual block j is dilated `growth^(j mod cycle)`.
    pub dilation_growth_rate: usize,
    pub dilation_cycle: Option<usize>,
    /// Scale residual branches by `1/sqrt(depth)` (the VQ-VAE's `res_scale` hparam).
    pub res_scale: bool,
    /// Channels of the codes' embeddings, and codebook size.
    pub emb_width: usize,
    pub l_bins: usize,
    /// Which of the VQ-VAE's encoders and bottleneck levels to load (2: the top level).
    pub level: usize,
}

impl EncoderConfig {
    /// The 5B model's `vqvae` hparams at level 2 (multiplier 1).
    pub fn jukebox_5b() -> Self {
        EncoderConfig {
            downs_t: vec![3, 2, 2],
            strides_t: vec![2, 2, 2],
            width: 32,
            depth: 4,
            m_conv: 1.0,
            dilation_growth_rate: 3,
            dilation_cycle: None,
            res_scale: false,
            emb_width: 64,
            l_bins: 2048,
            level: 2,
        }
    }

    /// Samples per code: the product of `stride^down` over the levels.
    pub fn hop_length(&self) -> usize {
        self.downs_t.iter().zip(&self.strides_t).map(|(&d, &s)| s.pow(d as u32)).product()
    }
}

/// `nn.Conv1d` (cross-correlation, zero padding), weights `[out, in, k]`.
#[derive(Debug, Clone)]
struct Conv1d {
    weight: Vec<f32>,
    bias: Vec<f32>,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
}

impl Conv1d {
    #[allow(clippy::too_many_arguments)]
    fn load(
        source: &dyn TensorSource,
        name: &str,
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
    ) -> Result<Self> {
        Ok(Conv1d {
            weight: read_shaped(source, &format!("{name}.weight"), &[cout, cin, k])?,
            bias: read_shaped(source, &format!("{name}.bias"), &[cout])?,
            cin,
            cout,
            k,
            stride,
            pad,
            dilation,
        })
    }

    fn out_len(&self, len: usize) -> usize {
        let span = self.dilation * (self.k - 1) + 1;
        (len + 2 * self.pad).checked_sub(span).map_or(0, |free| free / self.stride + 1)
    }

    /// `x`: `[cin, len]` row-major → `[cout, out_len]`. Each kernel tap is one strided GEMM over
    /// the zero-padded input.
    fn forward(&self, x: &[f32], len: usize) -> (Vec<f32>, usize) {
        let out_len = self.out_len(len);
        let mut out = vec![0f32; self.cout * out_len];
        if out_len > 0 {
            let plen = len + 2 * self.pad;
            let mut padded = vec![0f32; self.cin * plen];
            for c in 0..self.cin {
                padded[c * plen + self.pad..][..len].copy_from_slice(&x[c * len..(c + 1) * len]);
            }
            let threads = if out_len * self.cout >= 1 << 16 { rayon::current_num_threads() } else { 1 };
            for tap in 0..self.k {
                matmul(
                    (self.cout, out_len, self.cin),
                    (&mut out, out_len),
                    (&self.weight[tap..], self.cin * self.k, self.k),
                    (&padded[self.dilation * tap..], plen, self.stride),
                    tap > 0,
                    threads,
                );
            }
        }
        for (row, &b) in out.chunks_exact_mut(out_len.max(1)).zip(&self.bias) {
            row.iter_mut().for_each(|v| *v += b);
        }
        (out, out_len)
    }
}

/// `ResConv1DBlock`: `x + scale · conv1x1(relu(conv3_dilated(relu(x))))`.
#[derive(Debug, Clone)]
struct ResBlock {
    dilated: Conv1d,
    pointwise: Conv1d,
    scale: f32,
}

impl ResBlock {
    fn forward(&self, x: &mut [f32], len: usize) {
        let relu = |v: &[f32]| v.iter().map(|x| x.max(0.0)).collect::<Vec<f32>>();
        let (h, _) = self.dilated.forward(&relu(x), len);
        let (h, _) = self.pointwise.forward(&relu(&h), len);
        for (x, h) in x.iter_mut().zip(h) {
            *x += if self.scale == 1.0 { h } else { self.scale * h };
        }
    }
}

#[derive(Debug, Clone)]
struct DownStep {
    conv: Conv1d,
    res: Vec<ResBlock>,
}

#[derive(Debug, Clone)]
struct LevelBlock {
    steps: Vec<DownStep>,
    out: Conv1d,
}

/// The codes of one clip and the encoder output they were chosen for.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// `[emb_width, frames]`, row-major: the encoder's output before the bottleneck.
    pub embeddings: Vec<f32>,
    pub frames: usize,
    pub codes: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct JukeboxEncoder {
    config: EncoderConfig,
    levels: Vec<LevelBlock>,
    /// `[l_bins, emb_width]`.
    codebook: Vec<f32>,
    /// `|k_j|²` per codebook row, as `sum(k_w**2, dim=0)` computes it.
    codebook_norms: Vec<f32>,
}

impl JukeboxEncoder {
    /// Loads `encoders.{level}.*` and `bottleneck.level_blocks.{level}.k`.
    pub fn load(source: &dyn TensorSource, config: &EncoderConfig) -> Result<Self> {
        let prefix = format!("encoders.{}.level_blocks", config.level);
        let inner = (config.m_conv * config.width as f64) as usize;
        let scale = if config.res_scale { 1.0 / (config.depth as f32).sqrt() } else { 1.0 };
        let mut levels = Vec::new();
        for (level, (&down, &stride)) in config.downs_t.iter().zip(&config.strides_t).enumerate() {
            let base = format!("{prefix}.{level}.model");
            let mut steps = Vec::new();
            for i in 0..down {
                let cin = match (level, i) {
                    (0, 0) => 1,
                    (_, 0) => config.emb_width,
                    _ => config.width,
                };
                let name = format!("{base}.{i}.0");
                let conv = Conv1d::load(source, &name, cin, config.width, 2 * stride, stride, stride / 2, 1)?;
                let res = (0..config.depth)
                    .map(|j| {
                        let exponent = config.dilation_cycle.map_or(j, |c| j % c);
                        let dilation = config.dilation_growth_rate.pow(exponent as u32);
                        let block = format!("{base}.{i}.1.model.{j}.model");
                        Ok(ResBlock {
                            dilated: Conv1d::load(
                                source,
                                &format!("{block}.1"),
                                config.width,
                                inner,
                                3,
                                1,
                                dilation,
                                dilation,
                            )?,
                            pointwise: Conv1d::load(source, &format!("{block}.3"), inner, config.width, 1, 1, 0, 1)?,
                            scale,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                steps.push(DownStep { conv, res });
            }
            let out = Conv1d::load(source, &format!("{base}.{down}"), config.width, config.emb_width, 3, 1, 1, 1)?;
            levels.push(LevelBlock { steps, out });
        }
        let codebook = read_shaped(
            source,
            &format!("bottleneck.level_blocks.{}.k", config.level),
            &[config.l_bins, config.emb_width],
        )?;
        let codebook_norms =
            codebook.chunks_exact(config.emb_width).map(|row| row.iter().map(|v| v * v).sum()).collect();
        Ok(JukeboxEncoder { config: config.clone(), levels, codebook, codebook_norms })
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Encodes mono audio (44.1 kHz, peak-normalised by the caller) into codes.
    pub fn encode(&self, audio: &[f32]) -> Encoded {
        let mut x = audio.to_vec();
        let mut len = audio.len();
        for level in &self.levels {
            for step in &level.steps {
                (x, len) = step.conv.forward(&x, len);
                for block in &step.res {
                    block.forward(&mut x, len);
                }
            }
            (x, len) = level.out.forward(&x, len);
        }
        let codes = self.quantise(&x, len);
        Encoded { embeddings: x, frames: len, codes }
    }

    /// `argmin_j (|x_t|² − 2·x_t·k_j) + |k_j|²` in float32, in the reference's order of operations
    /// (the first index wins a tie).
    fn quantise(&self, x: &[f32], frames: usize) -> Vec<u32> {
        let (emb, bins) = (self.config.emb_width, self.config.l_bins);
        if frames == 0 {
            return Vec::new();
        }
        let mut dots = vec![0f32; frames * bins];
        let threads = rayon::current_num_threads();
        matmul((frames, bins, emb), (&mut dots, bins), (x, 1, frames), (&self.codebook, 1, emb), false, threads);
        (0..frames)
            .map(|t| {
                let norm: f32 = (0..emb).map(|e| x[e * frames + t] * x[e * frames + t]).sum();
                let row = &dots[t * bins..(t + 1) * bins];
                let mut best = (f32::INFINITY, 0u32);
                for (j, (&dot, &k2)) in row.iter().zip(&self.codebook_norms).enumerate() {
                    let distance = (norm - 2.0 * dot) + k2;
                    if distance < best.0 {
                        best = (distance, j as u32);
                    }
                }
                best.1
            })
            .collect()
    }
}
