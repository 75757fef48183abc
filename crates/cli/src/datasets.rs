//! `jukemir datasets`: raw assets → `processed/<dataset>/{meta.json, wav/}`.

use crate::progress::files_bar;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use jukemir_datasets::assets::{cache_root, DownloadOptions, Downloader, Registry, PROCESSED_DIR};
use jukemir_datasets::process::cached_assets::CachedAssets;
use jukemir_datasets::process::run::{process_dataset, ProcessProgress};
use jukemir_datasets::process::{processor, AudioDuration, DecodedDuration, ProcessContext, DATASETS};
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "Process a benchmark dataset exactly as the reference does: read its raw \
assets from the cache (downloading and verifying any that are missing, as `jukemir assets` does), compute \
uids, labels and splits, and write CACHE/processed/<dataset>/meta.json plus one 16-bit mono WAV per example \
in CACHE/processed/<dataset>/wav/<uid>.wav (at the source's sample rate, cut to the dataset's clips).

Re-running skips WAVs that are complete; WAVs and meta.json are written through temporary files, so an \
interrupted run leaves nothing truncated. meta.json is written last, only when every WAV succeeded.

Datasets: gtzan_ff, magnatagatune, emomusic, giantsteps_clips (the paper's four), and gtzan, giantsteps, \
debug.";

#[derive(Subcommand)]
pub enum DatasetsCommand {
    /// Build processed/<dataset>/meta.json and its WAVs from the raw assets.
    #[command(long_about = LONG_ABOUT)]
    Process(ProcessArgs),
}

#[derive(Args)]
pub struct ProcessArgs {
    /// Dataset to process.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(DATASETS))]
    dataset: String,
    /// Only write meta.json; do not unpack or convert audio.
    #[arg(long)]
    metadata_only: bool,
    /// Use asset files even when their checksum differs from the registry (your own copies of the
    /// data). Missing assets are still downloaded and verified.
    #[arg(long)]
    no_verify: bool,
    /// Cache root (default: $JUKEMIR_CACHE_DIR or ~/.jukemir).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Files converted in parallel (0: one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    threads: usize,
}

pub fn run(command: DatasetsCommand) -> anyhow::Result<()> {
    match command {
        DatasetsCommand::Process(args) => process(args),
    }
}

/// Measures track durations (GiantSteps clips need one per track, several minutes in all) and
/// shows that it is doing so.
struct MeasuredDurations(ProgressBar);

impl AudioDuration for MeasuredDurations {
    fn duration(&self, path: &Path) -> anyhow::Result<f64> {
        let seconds = DecodedDuration.duration(path);
        self.0.inc(1);
        seconds
    }
}

struct Bar(ProgressBar);

impl ProcessProgress for Bar {
    fn start(&self, examples: usize, with_audio: usize) {
        self.0.set_length(with_audio as u64);
        self.0.println(format!("{examples} examples, {with_audio} with audio to convert"));
    }
    fn converted(&self, _uid: &str) {
        self.0.inc(1);
    }
}

fn process(args: ProcessArgs) -> anyhow::Result<()> {
    if args.no_verify {
        eprintln!(
            "WARNING: --no-verify: asset files are used even if their checksums differ from the registry. \
             Results may not match the paper's data."
        );
    }
    let root = args.cache_dir.unwrap_or_else(cache_root);
    let dataset = processor(&args.dataset).context("unknown dataset")?;
    let downloader = Downloader::new(DownloadOptions::default());
    let assets = CachedAssets::new(Registry::active()?, &root, &downloader, args.no_verify);
    // The unpacked archive (1.2 GB for GTZAN) lives in a temporary named for this process, so a
    // later run removes the copy a killed run left behind.
    let scratch = std::env::temp_dir();
    jukemir_fs::remove_stale_temporaries(&scratch)
        .with_context(|| format!("cannot clear stale unpacked archives from {}", scratch.display()))?;
    let workdir = tempfile::Builder::new()
        .prefix(&jukemir_fs::temp_prefix(&format!("unpacked-{}", args.dataset)))
        .tempdir_in(&scratch)
        .with_context(|| format!("cannot create a scratch folder for unpacking in {}", scratch.display()))?;
    let measuring = ProgressBar::new_spinner().with_message("track durations measured");
    measuring.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} {msg} ({per_sec}, {elapsed})")
            .expect("the template is valid"),
    );
    let durations = MeasuredDurations(measuring);
    let ctx = ProcessContext {
        assets: &assets,
        workdir: workdir.path(),
        metadata_only: args.metadata_only,
        durations: &durations,
    };
    let out_dir = root.join(PROCESSED_DIR).join(&args.dataset);
    let bar = Bar(files_bar(0, "convert"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.threads).build()?;
    let report = pool.install(|| process_dataset(dataset.as_ref(), &ctx, &out_dir, &bar))?;
    durations.0.finish_and_clear();
    bar.0.finish();
    println!(
        "{}: {} examples, {} WAVs; metadata in {}",
        args.dataset,
        report.examples,
        report.wavs,
        report.meta_path.display()
    );
    Ok(())
}
