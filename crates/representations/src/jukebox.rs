//! The reference's jukebox container (jukemir `representations/jukebox/main.py`): audio at 44.1 kHz
//! peak-normalised over the whole file (streamed: only the first 25 s are held), its first 25 s encoded by the 5B VQ-VAE's level-2 encoder
//! into codes, the first 8192 codes through the first 36 layers of the 5B top prior (artist and
//! genre "unknown", 62 s total length, offset 0), and the activations' mean over time: 4800 values.
//!
//! Other layers and poolings are offered too (`--layers`, `--pool`): the vector is then the chosen
//! layers' pooled activations one after the other (stacked: it reshapes to `[layers, 4800]`), or,
//! with `--per-layer`, each layer's vector goes to its own folder `layer_<L>/`.

use crate::representation::Representation;
use anyhow::{bail, Context, Result};
use jukemir_audio::{load_head, peak_normalize, LoadOptions};
use jukemir_models::jukebox::conditioning::{Conditioning, ConditioningConfig};
use jukemir_models::jukebox::device_prior::{ComputeType, DevicePrior};
use jukemir_models::jukebox::encoder::{EncoderConfig, JukeboxEncoder};
use jukemir_models::jukebox::prior::{JukeboxPrior, PriorConfig, SharedSource};
use jukemir_models::jukebox::TensorSource;
use std::path::Path;

pub const SAMPLE_RATE: u32 = 44100;
/// The reference encodes the first 25 s.
pub const SECONDS: usize = 25;
/// The reference's layer: the residual stream after 36 of the prior's 72 layers.
pub const DEFAULT_LAYER: usize = 36;

/// How the activations `[n_ctx, width]` of a layer become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pool {
    /// Mean over time (the reference's).
    Mean,
    /// Maximum over time.
    Max,
    /// No pooling: the whole `[n_ctx, width]` matrix, row-major.
    None,
}

impl Pool {
    pub fn from_name(name: &str) -> Result<Pool> {
        Ok(match name {
            "mean" => Pool::Mean,
            "max" => Pool::Max,
            "none" => Pool::None,
            other => bail!("unknown pooling {other:?} (mean, max or none)"),
        })
    }

    /// [`Self::apply`] on the device, so only the pooled vector is copied back.
    fn apply_on_device(self, x: &candle_core::Tensor) -> anyhow::Result<Vec<f32>> {
        let pooled = match self {
            Pool::None => x.flatten_all()?,
            Pool::Max => x.max(0)?,
            Pool::Mean => x.to_dtype(candle_core::DType::F64)?.mean(0)?.to_dtype(candle_core::DType::F32)?,
        };
        Ok(pooled.to_vec1::<f32>()?)
    }

    fn apply(self, x: &[f32], rows: usize, width: usize) -> Vec<f32> {
        match self {
            Pool::None => x.to_vec(),
            Pool::Max => {
                let mut out = vec![f32::NEG_INFINITY; width];
                for row in x.chunks_exact(width).take(rows) {
                    out.iter_mut().zip(row).for_each(|(o, &v)| *o = o.max(v));
                }
                out
            }
            Pool::Mean => {
                let mut sum = vec![0f64; width];
                for row in x.chunks_exact(width).take(rows) {
                    sum.iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
                }
                sum.into_iter().map(|s| (s / rows as f64) as f32).collect()
            }
        }
    }
}

/// The three models' hparams.
#[derive(Debug, Clone, PartialEq)]
pub struct JukeboxConfig {
    pub encoder: EncoderConfig,
    pub prior: PriorConfig,
    pub conditioning: ConditioningConfig,
}

impl JukeboxConfig {
    /// The 5B model as the reference container builds it (36 prior layers).
    pub fn jukebox_5b() -> Self {
        JukeboxConfig {
            encoder: EncoderConfig::jukebox_5b(),
            prior: PriorConfig::jukebox_5b(),
            conditioning: ConditioningConfig::jukebox_5b(),
        }
    }
}

pub struct JukeboxRepresentation {
    encoder: JukeboxEncoder,
    prior: JukeboxPrior,
    conditioning: Conditioning,
    /// 1-based layer numbers whose pooled activations make the vector, in this order.
    layers: Vec<usize>,
    pool: Pool,
    per_layer: bool,
    /// Set: the transformer runs as candle tensors on this device (a GPU) instead of on the CPU
    /// kernels.
    on_device: Option<DevicePrior>,
}

impl JukeboxRepresentation {
    /// Loads the VQ-VAE's level-2 encoder and bottleneck from `vqvae`, and the prior layers up to
    /// the highest of `layers` (1-based) from `prior`. With `stream_weights` the prior's weight
    /// matrices are read from `prior` for every clip instead of being kept in memory.
    pub fn load(
        vqvae: &dyn TensorSource,
        prior: SharedSource,
        config: &JukeboxConfig,
        layers: &[usize],
        pool: Pool,
        stream_weights: bool,
    ) -> Result<Self> {
        let Some(&deepest) = layers.iter().max() else { bail!("no layers chosen") };
        if let Some(twice) = layers.iter().enumerate().find_map(|(i, l)| layers[..i].contains(l).then_some(l)) {
            bail!("layer {twice} is listed twice");
        }
        if layers.contains(&0) {
            bail!("layers are numbered from 1 (the output of the first transformer block)");
        }
        let mut prior_config = config.prior.clone();
        if deepest > prior_config.depth {
            bail!("layer {deepest} asked for; the model is built with {} layers", prior_config.depth);
        }
        prior_config.depth = deepest;
        let encoder = JukeboxEncoder::load(vqvae, &config.encoder).context("cannot load the VQ-VAE encoder")?;
        let conditioning = Conditioning::load(prior.as_ref(), &config.conditioning)
            .context("cannot load the prior's label conditioner")?;
        let prior = if stream_weights {
            JukeboxPrior::load_streaming(prior, &prior_config)
        } else {
            JukeboxPrior::load(prior.as_ref(), &prior_config)
        }
        .context("cannot load the prior")?;
        Ok(JukeboxRepresentation {
            encoder,
            prior,
            conditioning,
            layers: layers.to_vec(),
            pool,
            per_layer: false,
            on_device: None,
        })
    }

    /// Runs the transformer on `device` (`cpu` runs the tensor formulation on the CPU, as the tests
    /// do; `cuda`/`cuda:N` needs a build with `--features cuda`), its products in `compute`.
    pub fn on_device(mut self, device: &str, compute: ComputeType) -> Result<Self> {
        let device = jukemir_models::jukebox::device_prior::device(device)?;
        self.on_device =
            Some(DevicePrior::new(&self.prior, &device, compute).context("cannot copy the prior to the device")?);
        Ok(self)
    }

    /// With `true`, each chosen layer's vector is written to its own folder, `layer_<L>/<stem>.npy`
    /// (see [`Representation::output_parts`]) instead of all of them in one vector.
    pub fn with_per_layer_outputs(mut self, per_layer: bool) -> Self {
        self.per_layer = per_layer;
        self
    }

    /// The codes of 44.1 kHz mono audio, as the reference computes them: peak normalisation over
    /// the whole signal, then the first 25 s encoded.
    pub fn codes(&self, mut audio: Vec<f32>) -> Result<Vec<u32>> {
        peak_normalize(&mut audio);
        self.codes_of_head(&audio)
    }

    /// The codes of the first 25 s of `audio`, which is already divided by the whole signal's peak.
    fn codes_of_head(&self, audio: &[f32]) -> Result<Vec<u32>> {
        let audio = &audio[..audio.len().min(SAMPLE_RATE as usize * SECONDS)];
        let encoded = self.encoder.encode(audio);
        let needed = self.prior.config().n_ctx;
        if encoded.codes.len() < needed {
            let hop = self.encoder.config().hop_length();
            bail!(
                "audio too short for jukebox: {:.2} s gives {} codes, the prior needs {needed} ({} samples, {:.2} s at \
                 {SAMPLE_RATE} Hz); the reference fails on such files too",
                audio.len() as f64 / f64::from(SAMPLE_RATE),
                encoded.codes.len(),
                needed * hop,
                (needed * hop) as f64 / f64::from(SAMPLE_RATE)
            );
        }
        Ok(encoded.codes)
    }

    /// The vector for a clip's codes: the chosen layers' pooled activations, concatenated.
    pub fn from_codes(&self, codes: &[u32]) -> Result<Vec<f32>> {
        let config = self.prior.config();
        let (n, w) = (config.n_ctx, config.width);
        let mut x = self.prior.embed(codes, &self.conditioning)?;
        let deepest = self.layers.iter().copied().max().unwrap_or(0);
        let mut pooled: Vec<Option<Vec<f32>>> = vec![None; deepest + 1];
        match &self.on_device {
            Some(device_prior) => device_prior.forward(&x, deepest, &mut |d, stream| {
                if self.layers.contains(&(d + 1)) {
                    pooled[d + 1] = Some(self.pool.apply_on_device(stream)?);
                }
                Ok(())
            })?,
            None => self.prior.forward(&mut x, deepest, &mut |d, stream| {
                if self.layers.contains(&(d + 1)) {
                    pooled[d + 1] = Some(self.pool.apply(stream, n, w));
                }
            })?,
        }
        Ok(self.layers.iter().flat_map(|&l| pooled[l].clone().unwrap_or_default()).collect())
    }
}

impl Representation for JukeboxRepresentation {
    fn name(&self) -> &'static str {
        "jukebox"
    }

    fn dim(&self) -> usize {
        let config = self.prior.config();
        let per_layer = match self.pool {
            Pool::None => config.n_ctx * config.width,
            _ => config.width,
        };
        per_layer * self.layers.len()
    }

    fn parallel_within_file(&self) -> bool {
        true
    }

    fn output_parts(&self) -> Vec<String> {
        if self.per_layer {
            self.layers.iter().map(|l| format!("layer_{l}")).collect()
        } else {
            Vec::new()
        }
    }

    fn extract_file(&self, path: &Path) -> Result<Vec<f32>> {
        // Only the first 25 s are kept in memory; the peak is measured over the whole file as it
        // streams past (the reference loads all of it), so hours-long files cost no more.
        let head = load_head(path, &LoadOptions::at_rate(SAMPLE_RATE), SAMPLE_RATE as usize * SECONDS)
            .context("cannot load the audio")?;
        let codes = self.codes_of_head(&head.peak_normalized())?;
        self.from_codes(&codes)
    }
}

/// The dtype of the device's matrix products (`--compute`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compute {
    /// The reference's (it widens its fp16 weights to f32).
    F32,
    /// ~1e-3 relative error.
    F16,
    /// ~1e-2 relative error.
    Bf16,
}

impl From<Compute> for ComputeType {
    fn from(compute: Compute) -> Self {
        match compute {
            Compute::F32 => ComputeType::F32,
            Compute::F16 => ComputeType::F16,
            Compute::Bf16 => ComputeType::Bf16,
        }
    }
}

/// jukebox's own options.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct JukeboxOptions {
    /// The transformer layers (1–72) whose pooled activations make the vector, in this order, e.g.
    /// 12,24,36 [default: 36, the paper's].
    #[arg(long, value_name = "L,…", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,
    /// How each layer's activations over time become one vector: mean (the paper's), max, or none
    /// (the whole [8192, 4800] matrix, row-major) [default: mean].
    #[arg(long, value_name = "HOW", value_enum)]
    pub pool: Option<Pool>,
    /// Read the prior's weight matrices from the checkpoint for every clip instead of keeping them
    /// in memory (peak memory ~1.3 GB instead of ~6 GB; a few percent slower while the file stays
    /// in the page cache).
    #[arg(long)]
    pub stream_weights: bool,
    /// One output folder per layer (<OUTPUT_DIR>/layer_<L>/<stem>.npy, each a vector of 4800)
    /// instead of one vector with the chosen layers one after the other.
    #[arg(long)]
    pub per_layer: bool,
    /// Run the transformer on this device: cuda or cuda:N (a build with `--features cuda`), or cpu
    /// for the same tensor code on the CPU [default: jukemir's CPU kernels].
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// With --device: the dtype of the matrix products [default: f32].
    #[arg(long, value_name = "TYPE", value_enum, requires = "device")]
    pub compute: Option<Compute>,
}

impl JukeboxOptions {
    fn from_matches(matches: &clap::ArgMatches) -> Result<Self> {
        Ok(<Self as clap::FromArgMatches>::from_arg_matches(matches)?)
    }
}

fn load_plugin(matches: &clap::ArgMatches, context: &crate::plugin::LoadContext) -> Result<Box<dyn Representation>> {
    use jukemir_models::torch_legacy::LegacyCheckpoint;
    let options = JukeboxOptions::from_matches(matches)?;
    let (vqvae_path, prior_path) = crate::weights::jukebox_checkpoints(context)?;
    let vqvae = LegacyCheckpoint::open(&vqvae_path)?;
    let prior = std::sync::Arc::new(LegacyCheckpoint::open(&prior_path)?);
    let layers = options.layers.clone().unwrap_or_else(|| vec![DEFAULT_LAYER]);
    let pool = options.pool.unwrap_or(Pool::Mean);
    // The paper's model: OpenAI's 5B, of whose 72 prior layers the first 36 are run by default.
    let config = JukeboxConfig {
        prior: PriorConfig { depth: 72, ..JukeboxConfig::jukebox_5b().prior },
        ..JukeboxConfig::jukebox_5b()
    };
    let mut representation =
        JukeboxRepresentation::load(&vqvae, prior, &config, &layers, pool, options.stream_weights)?
            .with_per_layer_outputs(options.per_layer);
    if let Some(device) = &options.device {
        representation = representation.on_device(device, options.compute.unwrap_or(Compute::F32).into())?;
    }
    Ok(Box::new(representation))
}

pub static PLUGIN: crate::plugin::Plugin = crate::plugin::Plugin {
    name: "jukebox",
    about: "OpenAI Jukebox 5B's prior activations at layer 36, mean over time (4800 values)",
    help: "OpenAI Jukebox 5B as the paper ran it: 44.1 kHz, peak-normalised, first 25 s through the VQ-VAE's \
           top-level encoder (8192 codes needed: audio under 23.78 s is an error), then the first 36 layers of the \
           5B top prior (artist and genre unknown), mean over time: 4800 values. --device cuda runs the \
           transformer on a GPU (build with --features cuda; --compute f16|bf16 for half-precision products). \
           --layers/--pool choose other layers and poolings: the chosen layers' vectors stacked in one vector \
           (layer after layer), or with --per-layer one folder per layer (layer_12/, layer_36/, …, each usable by \
           `probe` as its own representation). Weights: OpenAI's vqvae.pth.tar and prior_level_2.pth.tar as \
           published (legacy PyTorch format, read directly) from \
           https://openaipublic.azureedge.net/jukebox/models/5b/, in <cache>/weights/jukebox/5b/ or the folder \
           --weights names. Needs about 6 GB of memory (36 layers kept as float16, as the reference rounds them); \
           minutes per clip on a CPU",
    dim: crate::plugin::Dim::Depends("4800 per chosen layer (mean or max pooling), or 8192 × 4800 per layer with --pool none"),
    weights: Some("`jukemir weights fetch jukebox` (OpenAI's 5B vqvae.pth.tar and prior_level_2.pth.tar), or --weights with their folder"),
    in_paper: true,
    batch_dependence: None,
    options: <JukeboxOptions as clap::Args>::augment_args,
    task: |matches| {
        let stream = JukeboxOptions::from_matches(matches).is_ok_and(|o| o.stream_weights);
        crate::plugin::TaskResources {
            batch_size: 8,
            cpus: 8,
            mem_gib: if stream { 3 } else { 8 },
            time: "24:00:00",
            ..crate::plugin::DEFAULT_TASK
        }
    },
    uses_gpu: |matches| {
        JukeboxOptions::from_matches(matches).is_ok_and(|o| o.device.as_deref().is_some_and(|d| d.starts_with("cuda")))
    },
    load: load_plugin,
};
