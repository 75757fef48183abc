//! `jukemir extract`: the extract contract on the command line.

use crate::progress::{files_bar, ExtractBar};
use anyhow::{bail, Context};
use clap::Args;
use jukemir_representations::{
    extract_folder, representation_with, Batch, ExtractOptions, ExtractReport, WeightOptions, AVAILABLE,
};
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "Extract one representation from every audio file in INPUT_DIR, writing \
OUTPUT_DIR/<stem>.npy (float32, 1-D) per file.

Inputs are the non-hidden files of INPUT_DIR sorted by name (WAV, MP3, FLAC, Ogg/Vorbis, Sun .au). With \
--batch-size N only files [I·N, I·N+N) of that list are processed, where I is --batch-idx, or else \
SLURM_ARRAY_TASK_ID (Slurm job arrays) or JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Outputs that \
already exist and are valid are skipped, so a killed or resubmitted run resumes where it stopped; each \
output is written to a temporary file and renamed, so none is ever half-written. A file that cannot be \
processed is reported with its path and the others go on; the command then exits with status 1 and \
lists the failures.

Representations:
  chroma  librosa 0.8.1 chroma_cqt (hop 512 at 22050 Hz), then mean and std of the 0th, 1st and 2nd time \
differences of each row: 72 values
  mfcc    librosa 0.8.1 mfcc (20 coefficients, hop 512 at 22050 Hz), same statistics: 120 values
  musicnn the musicnn package's extractor at 16 kHz (log-mel rounded to float16, 3-s patches), mean over \
patches of its mean_pool and max_pool features: 4194 values for MSD_musicnn_big (the paper's, the default), \
1506 for --model MSD_musicnn or MTT_musicnn. Weights: `jukemir weights fetch musicnn_big` (or musicnn for the \
PyPI wheel's models), or --weights with the wheel or a TensorFlow checkpoint folder
  clmr    CLMR's SampleCNN encoder on 59409-sample frames at 22050 Hz (the last piece dropped), mean over \
frames: 512 values. Weights: --weights clmr_epoch=10000.ckpt (CLMR release 2.1, clmr_magnatagatune_mlp.zip), \
or that file under <cache>/weights/clmr/
  choi    Choi et al. 2017's Keras convnet on 29 s at 12 kHz (librosa 0.4.0's FFT resampling; shorter clips \
tiled), each of its 5 blocks averaged: 160 values. Weights: `jukemir weights fetch choi`, or --weights with \
weights_layer4_theano.hdf5 or its folder. Its batch norms use batch statistics, so a file's vector depends \
on its batch. As the reference did, the sorted inputs are shuffled (Python 2's random.seed(0)) and cut into \
batches of --batch-size (default 256; --batch-idx then picks one of these batches), each computed whole: \
the same folder and batch size give the reference's vectors; another folder listing gives other batches
  jukebox OpenAI Jukebox 5B as the paper ran it: 44.1 kHz, peak-normalised, first 25 s through the VQ-VAE's \
top-level encoder (8192 codes needed: audio under 23.78 s is an error), then the first 36 layers of the \
5B top prior (artist and genre unknown), mean over time: 4800 values. --device cuda runs the transformer on a \
GPU (build with --features cuda; --compute f16|bf16 for half-precision products). --layers/--pool choose other layers \
and poolings: the chosen layers' vectors stacked in one vector (layer after layer), or with --per-layer one \
folder per layer (layer_12/, layer_36/, …, each usable by `probe` as its own representation). Weights: OpenAI's vqvae.pth.tar and \
prior_level_2.pth.tar as published (legacy PyTorch format, read directly) from \
https://openaipublic.azureedge.net/jukebox/models/5b/, in <cache>/weights/jukebox/5b/ or the folder --weights names. Needs about 6 GB of memory (36 layers kept as float16, as the reference \
rounds them); minutes per clip on a CPU";

#[derive(Args)]
pub struct ExtractArgs {
    /// Representation to extract.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(AVAILABLE))]
    representation: String,
    /// Folder of audio files.
    input_dir: PathBuf,
    /// Folder for the .npy outputs (created if missing).
    output_dir: PathBuf,
    /// Process the sorted input files in batches of this many; select one with --batch-idx.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Which batch to process (0-based). Defaults to $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I")]
    batch_idx: Option<usize>,
    /// Files processed in parallel (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0, value_name = "N")]
    threads: usize,
    #[command(flatten)]
    network: NetworkOptions,
    /// Cache folder for fetched weights [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    #[command(flatten)]
    jukebox: JukeboxOptions,
}

/// Which weights a network loads; shared by `extract`, `cluster … extract` and `example gtzan`.
#[derive(Args, Clone, Default)]
pub struct NetworkOptions {
    /// The network's weights in their original format (jukebox: the folder holding vqvae.pth.tar
    /// and prior_level_2.pth.tar; musicnn: the wheel or a checkpoint folder; clmr: the .ckpt; choi:
    /// weights_layer4_theano.hdf5) [default: what `jukemir weights fetch` put in the cache]. For
    /// `cluster k8s`: relative to the volume, or an absolute path inside the image.
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
    /// Which published model (musicnn: MSD_musicnn_big, MSD_musicnn, MTT_musicnn).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

/// jukebox's options, shared by `extract` and `cluster … extract` (which passes them on).
#[derive(Args, Clone, Default)]
pub struct JukeboxOptions {
    /// jukebox: the transformer layers (1–72) whose pooled activations make the vector, in this
    /// order, e.g. 12,24,36 [default: 36, the paper's].
    #[arg(long, value_name = "L,…", value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,
    /// jukebox: how each layer's activations over time become one vector: mean (the paper's), max,
    /// or none (the whole [8192, 4800] matrix, row-major).
    #[arg(long, value_name = "HOW", value_parser = ["mean", "max", "none"])]
    pub pool: Option<String>,
    /// jukebox: read the prior's weight matrices from the checkpoint for every clip instead of
    /// keeping them in memory (peak memory ~1.3 GB instead of ~6 GB; a few percent slower while the
    /// file stays in the page cache).
    #[arg(long)]
    pub stream_weights: bool,
    /// jukebox: one output folder per layer (<OUTPUT_DIR>/layer_<L>/<stem>.npy, each a vector of
    /// 4800) instead of one vector with the chosen layers one after the other.
    #[arg(long)]
    pub per_layer: bool,
    /// jukebox: run the transformer on this device: cuda or cuda:N (a build with `--features cuda`),
    /// or cpu for the same tensor code on the CPU [default: jukemir's CPU kernels].
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// jukebox, with --device: the dtype of the matrix products. f32 is the reference's (it widens
    /// its fp16 weights to f32); f16 and bf16 trade ~1e-3 / ~1e-2 relative error for speed.
    #[arg(long, value_name = "TYPE", value_parser = ["f32", "f16", "bf16"])]
    pub compute: Option<String>,
}

impl JukeboxOptions {
    /// The options as `jukemir extract` arguments (what a cluster task runs).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(layers) = &self.layers {
            let layers: Vec<String> = layers.iter().map(|l| l.to_string()).collect();
            args.extend(["--layers".into(), layers.join(",")]);
        }
        if let Some(pool) = &self.pool {
            args.extend(["--pool".into(), pool.clone()]);
        }
        if self.stream_weights {
            args.push("--stream-weights".into());
        }
        if self.per_layer {
            args.push("--per-layer".into());
        }
        if let Some(device) = &self.device {
            args.extend(["--device".into(), device.clone()]);
        }
        if let Some(compute) = &self.compute {
            args.extend(["--compute".into(), compute.clone()]);
        }
        args
    }

    /// Whether the transformer runs on a GPU (`--device cuda…`).
    pub fn uses_gpu(&self) -> bool {
        self.device.as_deref().is_some_and(|d| d.starts_with("cuda"))
    }
}

pub fn run(args: ExtractArgs) -> anyhow::Result<()> {
    let cache_root = crate::probe::resolve_cache(args.cache_dir.clone())?;
    let options = WeightOptions {
        weights: args.network.weights.clone(),
        model: args.network.model.clone(),
        cache_root,
        layers: args.jukebox.layers.clone(),
        pool: args.jukebox.pool.clone(),
        stream_weights: args.jukebox.stream_weights,
        per_layer: args.jukebox.per_layer,
        device: args.jukebox.device.clone(),
        compute: args.jukebox.compute.clone(),
    };
    let repr = representation_with(&args.representation, &options)?;
    let batch = Batch::resolve(args.batch_size, args.batch_idx, |var| std::env::var(var).ok())?;
    let report = extract_with_progress(repr.as_ref(), &args.input_dir, &args.output_dir, batch, args.threads)?;
    finish(&report, &args.output_dir)
}

pub fn extract_with_progress(
    repr: &dyn jukemir_representations::Representation,
    input_dir: &Path,
    output_dir: &Path,
    batch: Option<Batch>,
    threads: usize,
) -> anyhow::Result<ExtractReport> {
    let progress = ExtractBar { bar: files_bar(0, repr.name()) };
    let options = ExtractOptions { batch, threads };
    let report = extract_folder(repr, input_dir, output_dir, &options, &progress)
        .with_context(|| format!("cannot extract {} from {}", repr.name(), input_dir.display()))?;
    progress.bar.finish();
    Ok(report)
}

pub fn finish(report: &ExtractReport, output_dir: &Path) -> anyhow::Result<()> {
    eprintln!(
        "{} written, {} skipped (already done), {} failed; outputs in {}",
        report.written,
        report.skipped,
        report.failed.len(),
        output_dir.display()
    );
    if !report.succeeded() {
        for failed in &report.failed {
            eprintln!("  {}: {}", failed.input.display(), failed.error);
        }
        bail!(
            "{} of {} file(s) failed (listed above); fix or remove them and run the same command again: \
             finished outputs are kept and skipped",
            report.failed.len(),
            report.selected
        );
    }
    Ok(())
}
