//! `jukemir datasets`: raw assets → `processed/<dataset>/{meta.json, wav/}`.

use crate::progress::files_bar;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use jukemir_datasets::assets::{cache_root, DownloadOptions, Downloader, Registry, PROCESSED_DIR};
use jukemir_datasets::precomputed::{
    listed, precomputed_tag, representation_dir, unpack_precomputed, PRECOMPUTED_DATASETS, PRECOMPUTED_REPRESENTATIONS,
};
use jukemir_datasets::process::cached_assets::CachedAssets;
use jukemir_datasets::process::run::{process_dataset, ProcessProgress, ProcessReport};
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
    /// Unpack the paper's precomputed representations of a dataset for the probe commands.
    #[command(long_about = UNPACK_LONG_ABOUT)]
    UnpackPrecomputed(UnpackArgs),
}

const UNPACK_LONG_ABOUT: &str = "Unpack the paper's precomputed representations of one dataset (the \
PRECOMPUTED-<DATASET>-<REPRESENTATION> archives of `jukemir assets precomputed`, downloaded and verified here if \
missing) into CACHE/representations/<dataset>/<representation>/<uid>.npy, where `jukemir probe` reads them. \
CACHE/processed/<dataset>/meta.json is built first if missing (`datasets process --metadata-only`).

Every uid of meta.json must be in the archive exactly once as a finite float32 vector, all of one dim; \
vectors are checked in a staging folder and moved into place only when the whole archive passes, so a \
bad archive never replaces a good unpacking. Members for uids meta.json does not list are reported and \
skipped. A folder that already holds every uid is left as it is.";

#[derive(Args)]
pub struct UnpackArgs {
    /// Dataset whose archives to unpack.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(PRECOMPUTED_DATASETS))]
    dataset: String,
    /// Representations to unpack, comma-separated [default: all six].
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(PRECOMPUTED_REPRESENTATIONS))]
    representations: Vec<String>,
    /// Archives downloaded at once (when missing).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    jobs: usize,
    /// Cache root (default: $JUKEMIR_CACHE_DIR or ~/.jukemir).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
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
        DatasetsCommand::UnpackPrecomputed(args) => unpack(args),
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
    let report = process_dataset_in(&root, &args.dataset, args.metadata_only, args.no_verify, args.threads)?;
    println!(
        "{}: {} examples, {} WAVs; metadata in {}",
        args.dataset,
        report.examples,
        report.wavs,
        report.meta_path.display()
    );
    Ok(())
}

/// `jukemir datasets process` for one dataset in the cache `root`.
pub fn process_dataset_in(
    root: &Path,
    dataset_name: &str,
    metadata_only: bool,
    no_verify: bool,
    threads: usize,
) -> anyhow::Result<ProcessReport> {
    let dataset = processor(dataset_name).context("unknown dataset")?;
    let downloader = Downloader::new(DownloadOptions::default());
    let assets = CachedAssets::new(Registry::active()?, root, &downloader, no_verify);
    // The unpacked archive (1.2 GB for GTZAN) lives in a temporary named for this process, so a
    // later run removes the copy a killed run left behind.
    let scratch = std::env::temp_dir();
    jukemir_fs::remove_stale_temporaries(&scratch)
        .with_context(|| format!("cannot clear stale unpacked archives from {}", scratch.display()))?;
    let workdir = tempfile::Builder::new()
        .prefix(&jukemir_fs::temp_prefix(&format!("unpacked-{dataset_name}")))
        .tempdir_in(&scratch)
        .with_context(|| format!("cannot create a scratch folder for unpacking in {}", scratch.display()))?;
    let measuring = ProgressBar::new_spinner().with_message("track durations measured");
    measuring.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} {msg} ({per_sec}, {elapsed})")
            .expect("the template is valid"),
    );
    let durations = MeasuredDurations(measuring);
    let ctx = ProcessContext { assets: &assets, workdir: workdir.path(), metadata_only, durations: &durations };
    let out_dir = root.join(PROCESSED_DIR).join(dataset_name);
    let bar = Bar(files_bar(0, "convert"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let report = pool.install(|| process_dataset(dataset.as_ref(), &ctx, &out_dir, &bar))?;
    durations.0.finish_and_clear();
    bar.0.finish_and_clear();
    Ok(report)
}

fn unpack(args: UnpackArgs) -> anyhow::Result<()> {
    let root = crate::probe::resolve_cache(args.cache_dir)?;
    let representations = or_all(args.representations, &PRECOMPUTED_REPRESENTATIONS);
    let pairs: Vec<(String, String)> = representations.iter().map(|r| (args.dataset.clone(), r.clone())).collect();
    fetch_precomputed(&root, &pairs, args.jobs)?;
    ensure_metadata(&root, &args.dataset)?;
    for representation in &representations {
        unpack_one(&root, &args.dataset, representation)?;
    }
    Ok(())
}

/// `chosen`, or every item of `all` when nothing was chosen.
pub fn or_all(chosen: Vec<String>, all: &[&str]) -> Vec<String> {
    if chosen.is_empty() {
        all.iter().map(|s| s.to_string()).collect()
    } else {
        chosen
    }
}

/// Download (or verify) the archives of these dataset × representation pairs.
pub fn fetch_precomputed(root: &Path, pairs: &[(String, String)], jobs: usize) -> anyhow::Result<()> {
    let registry = Registry::active()?;
    let assets = pairs
        .iter()
        .map(|(d, r)| {
            registry.get(&precomputed_tag(d, r)).with_context(|| format!("no precomputed archive for {d} / {r}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::assets::fetch_verbose(&assets, root, false, jobs)
}

/// processed/<dataset>/meta.json, built (metadata only) when missing.
pub fn ensure_metadata(root: &Path, dataset: &str) -> anyhow::Result<PathBuf> {
    let meta = root.join(PROCESSED_DIR).join(dataset).join("meta.json");
    if !meta.is_file() {
        println!("{dataset}: building meta.json from its metadata assets");
        let report = process_dataset_in(root, dataset, true, false, 0)?;
        println!("{dataset}: {} examples in {}", report.examples, report.meta_path.display());
    }
    Ok(meta)
}

/// Unpack one fetched archive, saying what it found.
pub fn unpack_one(root: &Path, dataset: &str, representation: &str) -> anyhow::Result<()> {
    let tag = precomputed_tag(dataset, representation);
    let archive =
        Registry::active()?.get(&tag).with_context(|| format!("asset {tag} is not in the registry"))?.path(root);
    let meta = root.join(PROCESSED_DIR).join(dataset).join("meta.json");
    let out = representation_dir(root, dataset, representation);
    let spinner = ProgressBar::new_spinner().with_message(format!("unpacking {}", archive.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let found = unpack_precomputed(&archive, &meta, &out);
    spinner.finish_and_clear();
    let found = found?;
    match found.dim {
        None => println!("{dataset} / {representation}: already unpacked in {}", out.display()),
        Some(dim) => {
            println!("{dataset} / {representation}: {} vectors of dim {dim} in {}", found.written, out.display())
        }
    }
    if !found.extra.is_empty() {
        println!("  skipped {} vectors whose uid is not in meta.json: {}", found.extra.len(), listed(&found.extra));
    }
    if !found.ignored.is_empty() {
        println!("  ignored {} members that are not .npy files: {}", found.ignored.len(), listed(&found.ignored));
    }
    Ok(())
}
