//! musicnn (Pons & Serra, 2019), the `musicnn` 0.1.0 package's TensorFlow graph: a musically
//! motivated front-end (timbral and temporal convolutions over a log-mel patch), a mid-end of
//! three 1-D convolutions with residual connections, and a back-end that pools over time.
//!
//! Weights use the TensorFlow variable names of the published checkpoints (`conv2d_3/kernel`,
//! `batch_normalization_5/moving_variance`, …, with `/` written as `.`): the layers are numbered
//! in the order the reference graph creates them. Kernels are TensorFlow's HWIO; inputs here are
//! `(batch, time, mel)` patches as the reference feeds them.

use candle_core::{DType, Result, Tensor, D};
use candle_nn::VarBuilder;

/// TensorFlow's `batch_normalization` default.
const BN_EPS: f64 = 1e-3;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Mel bands of the input (`yInput`).
    pub n_mels: usize,
    /// Width multiplier of the front-end (`num_filt`): 204 timbral and 51 temporal filters at 1.6.
    pub frontend_filters: f64,
    /// Filters of each mid-end convolution.
    pub midend_filters: usize,
    /// Units of the back-end's penultimate dense layer.
    pub backend_units: usize,
    /// Tags predicted by the output layer.
    pub num_classes: usize,
}

impl Config {
    /// `MSD_musicnn` and `MTT_musicnn` (the same architecture, trained on different data).
    pub fn musicnn() -> Self {
        Config { n_mels: 96, frontend_filters: 1.6, midend_filters: 64, backend_units: 200, num_classes: 50 }
    }

    /// `MSD_musicnn_big`, the model the paper used.
    pub fn musicnn_big() -> Self {
        Config { midend_filters: 512, backend_units: 500, ..Self::musicnn() }
    }

    fn timbral_filters(&self) -> usize {
        (self.frontend_filters * 128.0) as usize
    }

    fn temporal_filters(&self) -> usize {
        (self.frontend_filters * 32.0) as usize
    }

    /// Width of the front-end's output (561 for musicnn).
    pub fn frontend_width(&self) -> usize {
        2 * self.timbral_filters() + 3 * self.temporal_filters()
    }

    /// Width of `mean_pool` and `max_pool`: the front-end's output and the three mid-end layers.
    pub fn pooled_width(&self) -> usize {
        self.frontend_width() + 3 * self.midend_filters
    }
}

/// TensorFlow's numbering of auto-named layers: `conv2d`, `conv2d_1`, `conv2d_2`, …
fn tf_name(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_string()
    } else {
        format!("{base}_{index}")
    }
}

/// Inference-mode batch normalisation with the moving statistics, over dimension `channel_dim`.
#[derive(Debug, Clone)]
struct BatchNorm {
    scale: Tensor,
    shift: Tensor,
}

impl BatchNorm {
    fn load(vb: &VarBuilder, index: usize, channels: usize) -> Result<Self> {
        let vb = vb.pp(tf_name("batch_normalization", index));
        let gamma = vb.get(channels, "gamma")?.to_dtype(DType::F64)?;
        let beta = vb.get(channels, "beta")?.to_dtype(DType::F64)?;
        let mean = vb.get(channels, "moving_mean")?.to_dtype(DType::F64)?;
        let var = vb.get(channels, "moving_variance")?.to_dtype(DType::F64)?;
        let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
        let shift = (beta - (&mean * &scale)?)?;
        Ok(BatchNorm { scale: scale.to_dtype(DType::F32)?, shift: shift.to_dtype(DType::F32)? })
    }

    /// `x` with channels on dimension 1.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut shape = vec![1; x.rank()];
        shape[1] = self.scale.dim(0)?;
        x.broadcast_mul(&self.scale.reshape(shape.as_slice())?)?.broadcast_add(&self.shift.reshape(shape.as_slice())?)
    }
}

/// A 2-D convolution with TensorFlow's HWIO kernel turned into candle's OIHW, and a bias.
#[derive(Debug, Clone)]
struct Conv {
    kernel: Tensor,
    bias: Tensor,
}

impl Conv {
    fn load(vb: &VarBuilder, index: usize, kh: usize, kw: usize, cin: usize, cout: usize) -> Result<Self> {
        let vb = vb.pp(tf_name("conv2d", index));
        let kernel = vb.get((kh, kw, cin, cout), "kernel")?.permute((3, 2, 0, 1))?.contiguous()?;
        let bias = vb.get(cout, "bias")?;
        Ok(Conv { kernel, bias })
    }

    /// `x`: `(batch, cin, h, w)`, no padding (callers pad as the reference does).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.conv2d(&self.kernel, 0, 1, 1, 1)?;
        y.broadcast_add(&self.bias.reshape((1, self.bias.dim(0)?, 1, 1))?)
    }
}

/// Conv → ReLU → BN → max over the whole mel axis: `(batch, channels, time)`.
#[derive(Debug, Clone)]
struct FrontendBlock {
    conv: Conv,
    bn: BatchNorm,
    /// Zeros added before and after the time axis.
    pad_time: (usize, usize),
}

impl FrontendBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.pad_with_zeros(2, self.pad_time.0, self.pad_time.1)?;
        let y = self.bn.forward(&self.conv.forward(&x)?.relu()?)?;
        y.max(3)
    }
}

/// A mid-end layer: a convolution over time (kernel 7, zero padded 3 + 3) spanning all input
/// channels, ReLU, BN.
#[derive(Debug, Clone)]
struct MidendLayer {
    conv: Conv,
    bn: BatchNorm,
}

impl MidendLayer {
    /// `x`: `(batch, channels, time)` → `(batch, filters, time)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // The reference convolves a (time, channels, 1) image with a [7, channels] kernel.
        let x = x.transpose(1, 2)?.unsqueeze(1)?.pad_with_zeros(2, 3, 3)?;
        let y = self.bn.forward(&self.conv.forward(&x)?.relu()?)?;
        y.squeeze(3)
    }
}

/// What the reference's `extractor(..., extract_features=True)` returns per patch, with time
/// last: `(batch, channels, time)` maps and `(batch, channels)` pools.
#[derive(Debug, Clone)]
pub struct Features {
    /// The two timbral blocks' outputs, concatenated (408 channels).
    pub timbral: Tensor,
    /// The three temporal blocks' outputs, concatenated (153 channels).
    pub temporal: Tensor,
    pub cnn1: Tensor,
    pub cnn2: Tensor,
    pub cnn3: Tensor,
    /// Mean over time of `[timbral, temporal, cnn1, cnn2, cnn3]`.
    pub mean_pool: Tensor,
    /// Max over time of the same.
    pub max_pool: Tensor,
}

#[derive(Debug, Clone)]
pub struct Musicnn {
    config: Config,
    input_bn: BatchNorm,
    frontend: Vec<FrontendBlock>,
    midend: Vec<MidendLayer>,
}

impl Musicnn {
    /// The layers up to the pooled features; the back-end's dense layers are not loaded (the
    /// representation does not use them).
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let input_bn = BatchNorm::load(&vb, 0, 1)?;
        let (timbral, temporal) = (config.timbral_filters(), config.temporal_filters());
        let mut frontend = Vec::new();
        // Timbral: 'valid' over mel, time padded 3 + 3 by hand.
        for (i, width) in
            [(0.4 * config.n_mels as f64) as usize, (0.7 * config.n_mels as f64) as usize].into_iter().enumerate()
        {
            let conv = Conv::load(&vb, i, 7, width, 1, timbral)?;
            frontend.push(FrontendBlock { conv, bn: BatchNorm::load(&vb, i + 1, timbral)?, pad_time: (3, 3) });
        }
        // Temporal: 'same' padding of an even kernel, which TensorFlow puts mostly after.
        for (i, length) in [128usize, 64, 32].into_iter().enumerate() {
            let conv = Conv::load(&vb, i + 2, length, 1, 1, temporal)?;
            let before = (length - 1) / 2;
            let bn = BatchNorm::load(&vb, i + 3, temporal)?;
            frontend.push(FrontendBlock { conv, bn, pad_time: (before, length - 1 - before) });
        }
        let mut midend = Vec::new();
        let mut channels = config.frontend_width();
        for i in 0..3 {
            let conv = Conv::load(&vb, 5 + i, 7, channels, 1, config.midend_filters)?;
            midend.push(MidendLayer { conv, bn: BatchNorm::load(&vb, 6 + i, config.midend_filters)? });
            channels = config.midend_filters;
        }
        Ok(Musicnn { config: config.clone(), input_bn, frontend, midend })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `patches`: `(batch, time, n_mels)` log-mel patches.
    pub fn forward(&self, patches: &Tensor) -> Result<Features> {
        let x = self.input_bn.forward(&patches.unsqueeze(1)?)?;
        let blocks = self.frontend.iter().map(|b| b.forward(&x)).collect::<Result<Vec<_>>>()?;
        let timbral = Tensor::cat(&blocks[..2], 1)?;
        let temporal = Tensor::cat(&blocks[2..], 1)?;
        let front = Tensor::cat(&[&timbral, &temporal], 1)?;
        let cnn1 = self.midend[0].forward(&front)?;
        let cnn2 = (self.midend[1].forward(&cnn1)? + &cnn1)?;
        let cnn3 = (self.midend[2].forward(&cnn2)? + &cnn2)?;
        let all = Tensor::cat(&[&front, &cnn1, &cnn2, &cnn3], 1)?;
        let mean_pool = all.mean(D::Minus1)?;
        let max_pool = all.max(D::Minus1)?;
        Ok(Features { timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool })
    }
}

impl Musicnn {
    /// The network of a musicnn TensorFlow checkpoint folder (`.index` + `.data-00000-of-00001`,
    /// as in the `musicnn` package); optimizer slots are ignored.
    pub fn from_checkpoint(dir: &std::path::Path, config: &Config) -> anyhow::Result<Self> {
        use anyhow::Context;
        let checkpoint = crate::tf_checkpoint::TfCheckpoint::open(dir)?;
        let tensors = checkpoint
            .variables(&candle_core::Device::Cpu)?
            .into_iter()
            .map(|(name, t)| (name.replace('/', "."), t))
            .collect();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &candle_core::Device::Cpu);
        Self::load(vb, config)
            .with_context(|| format!("the checkpoint in {} does not fit musicnn with {config:?}", dir.display()))
    }
}
