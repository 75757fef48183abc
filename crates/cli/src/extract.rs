//! `jukemir extract`: the extract contract on the command line.

use crate::chosen::Chosen;
use crate::progress::{files_bar, ExtractBar};
use anyhow::{bail, Context};
use clap::Args;
use jukemir_representations::{extract_folder, Batch, ExtractOptions, ExtractReport, LoadContext};
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

Each representation is a subcommand with its own options: `jukemir extract <REPRESENTATION> --help` says \
what it computes, how long its vectors are, where its weights come from and which options it takes.";

#[derive(Args)]
pub struct ExtractArgs {
    #[command(subcommand)]
    chosen: Chosen<ContractArgs>,
}

/// The extract contract's own arguments, the same for every representation.
#[derive(Args)]
pub struct ContractArgs {
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
    /// The network's weights in their original format [default: what `jukemir weights fetch` put in
    /// the cache]; representations without weights refuse it.
    #[arg(long, value_name = "PATH")]
    weights: Option<PathBuf>,
    /// Cache folder for fetched weights [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

/// Which weights a network loads, for `example gtzan` (which chooses its representation itself).
#[derive(Args, Clone, Default)]
pub struct NetworkOptions {
    /// The network's weights in their original format (jukebox: the folder holding vqvae.pth.tar
    /// and prior_level_2.pth.tar; musicnn: the wheel or a checkpoint folder; clmr: the .ckpt; choi:
    /// weights_layer4_theano.hdf5) [default: what `jukemir weights fetch` put in the cache].
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
    /// Which published model (musicnn: MSD_musicnn_big, MSD_musicnn, MTT_musicnn).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<()> {
    let Chosen { plugin, options, args } = args.chosen;
    let context =
        LoadContext { weights: args.weights.clone(), cache_root: crate::probe::resolve_cache(args.cache_dir)? };
    let repr = plugin.load_with(&options, &context)?;
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
