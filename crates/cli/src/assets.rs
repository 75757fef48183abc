//! `jukemir assets`: download and verify the raw dataset files, as the reference's `jukemir.assets`.

use crate::progress::ByteBar;
use anyhow::{bail, Context};
use clap::Args;
use indicatif::HumanBytes;
use jukemir_datasets::assets::{
    cache_root, fetch_all, presence, Asset, AssetError, DownloadOptions, Downloader, FetchProgress, Fetched, Outcome,
    Presence, Registry,
};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub const LONG_ABOUT: &str = "Download the raw files the datasets are built from (archives, annotation \
lists, audio clips, precomputed representations), each from its original URL, and verify every one \
against the checksum the reference pins (md5, sha1 or sha256).

Which files: all 2132 assets of the reference, or those whose tag starts with PREFIX (case-insensitive): \
gtzan, magnatagatune, emomusic, giantsteps, precomputed (precomputed-gtzan-jukebox for one file), debug. \
Use --list to see tags, sizes and what is already there.

Where they go: <cache>/<relative path>, e.g. ~/.jukemir/datasets/gtzan/genres.tar.gz. The cache is \
--cache-dir, else $JUKEMIR_CACHE_DIR, else ~/.jukemir — the same layout as the reference (datasets/, \
processed/, representations/, probes/), so an existing reference cache can be reused.

Mirrors: set $JUKEMIR_REGISTRY to a registry file (the format of crates/datasets/src/assets/registry.json) to fetch from other URLs; checksums are still enforced.

What happens to each file:
  present, right checksum     ok (nothing downloaded)
  present, wrong checksum     failed, unless --delete-wrong: then deleted and downloaded again
  missing                     downloaded, verified, then moved into place
A download streams into <file>.part and reaches its final name only once its checksum matches, so a \
file at its final path is never half-written or wrong. Interrupt at any time: the next run resumes each \
.part where it stopped (HTTP Range); files already in place are verified, not downloaded again. Connection errors, timeouts, cut \
transfers and server errors (5xx) are retried with growing waits; 404 and 403 are not. Proxies are \
taken from ALL_PROXY, HTTPS_PROXY, HTTP_PROXY and NO_PROXY. When several \
files in a row from one host fail with network errors, that host's remaining files are skipped.

Some original hosts are gone or flaky years after publication; a file that cannot be downloaded can be \
placed by hand at the path the error names, and is then verified like any other. The command exits \
with status 1 if any file failed, after listing every failure and why.";

#[derive(Args)]
pub struct AssetsArgs {
    /// Only assets whose tag starts with this (case-insensitive), e.g. gtzan or precomputed-emomusic.
    prefix: Option<String>,
    /// Delete files that have the wrong checksum and download them again.
    #[arg(long)]
    delete_wrong: bool,
    /// Files downloaded at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// List the selected assets, their size on disk and status; download nothing, verify nothing.
    #[arg(long)]
    list: bool,
}

pub fn run(args: AssetsArgs) -> anyhow::Result<()> {
    run_with(Registry::active()?, args)
}

/// Fetch (or list) the selected files of `registry`: the dataset assets, or the weights.
pub fn run_with(registry: &Registry, args: AssetsArgs) -> anyhow::Result<()> {
    let root = match args.cache_dir {
        Some(dir) => std::path::absolute(&dir).with_context(|| format!("cannot use {} as cache", dir.display()))?,
        None => cache_root(),
    };
    let assets = registry.select(args.prefix.as_deref());
    if assets.is_empty() {
        let groups: Vec<String> =
            registry.groups().iter().map(|(g, n)| format!("{} ({n})", g.to_lowercase())).collect();
        bail!(
            "no asset tag starts with {:?}; prefixes: {}",
            args.prefix.unwrap_or_default().trim().to_uppercase(),
            groups.join(", ")
        );
    }
    if args.list {
        list(&assets, &root);
        return Ok(());
    }

    fetch_verbose(&assets, &root, args.delete_wrong, usize::from(args.jobs))?;
    if assets.iter().any(|a| a.tag.starts_with("PRECOMPUTED-")) {
        println!(
            "Precomputed representations are archives; `jukemir datasets unpack-precomputed <dataset>` unpacks \
             them for the probe commands (`jukemir reproduce` does every step)."
        );
    }
    Ok(())
}

/// Fetch `assets` into `root` with a byte bar and one line per file; fails listing every failure.
pub fn fetch_verbose(assets: &[&Asset], root: &std::path::Path, delete_wrong: bool, jobs: usize) -> anyhow::Result<()> {
    eprintln!("jukemir: {} file(s) into {} ({jobs} at once)", assets.len(), root.display());
    let progress = CliProgress { bytes: ByteBar::new(), finished: Mutex::new(0), of: assets.len() };
    progress.bytes.bar.set_message(format!("0/{} files", assets.len()));
    let downloader = Downloader::new(DownloadOptions::default());
    let results = fetch_all(assets, root, delete_wrong, jobs, &downloader, &progress);
    progress.bytes.bar.finish_and_clear();
    summarise(&results)
}

/// The overall byte bar, and one line per finished file printed above it on stdout.
struct CliProgress {
    bytes: ByteBar,
    /// Held while a finished line is printed, so counts and lines appear in order.
    finished: Mutex<usize>,
    of: usize,
}

impl FetchProgress for CliProgress {
    fn add_total(&self, delta: i64) {
        self.bytes.add_total(delta);
    }

    fn add_done(&self, delta: i64) {
        self.bytes.add_done(delta);
    }

    fn retrying(&self, url: &str, failure: u32, max_failures: u32, wait: Duration, reason: &str) {
        self.bytes.retrying(url, failure, max_failures, wait, reason);
    }

    fn finished(&self, asset: &Asset, result: &Result<Fetched, AssetError>) {
        let mut finished = self.finished.lock().unwrap();
        *finished += 1;
        self.bytes.bar.set_message(format!("{finished}/{} files", self.of));
        let line = match result {
            Ok(f) => format!("{:<14}{}  {}", outcome_word(f.outcome), asset.tag, HumanBytes(f.bytes)),
            Err(e) => format!("{:<14}{}: {e}", "failed", asset.tag),
        };
        self.bytes.bar.suspend(|| println!("{line}"));
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Verified => "ok",
        Outcome::Downloaded => "downloaded",
        Outcome::Replaced => "deleted-wrong",
    }
}

fn summarise(results: &[(&Asset, Result<Fetched, AssetError>)]) -> anyhow::Result<()> {
    let count = |outcome| results.iter().filter(|(_, r)| matches!(r, Ok(f) if f.outcome == outcome)).count();
    let failed: Vec<_> = results.iter().filter_map(|(a, r)| r.as_ref().err().map(|e| (a, e))).collect();
    let downloaded: u64 = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .filter(|f| f.outcome != Outcome::Verified)
        .map(|f| f.bytes)
        .sum();
    println!(
        "\n{} ok, {} downloaded, {} replaced (had a wrong checksum), {} failed; {} downloaded",
        count(Outcome::Verified),
        count(Outcome::Downloaded),
        count(Outcome::Replaced),
        failed.len(),
        HumanBytes(downloaded)
    );
    if failed.is_empty() {
        return Ok(());
    }
    println!("\nFailed:");
    for (asset, error) in &failed {
        println!("  {}: {error}", asset.tag);
    }
    bail!(
        "{} of {} asset(s) failed (listed above); run the same command again to retry: files in place are \
         only verified and partial downloads resume",
        failed.len(),
        results.len()
    )
}

fn list(assets: &[&Asset], root: &std::path::Path) {
    let (mut present, mut partial, mut missing, mut bytes) = (0, 0, 0, 0u64);
    let width = assets.iter().map(|a| a.tag.len()).max().unwrap_or(0);
    println!("{:<width$}  {:<8} {:>11}  path (under {})", "tag", "status", "size", root.display());
    for asset in assets {
        let (status, size) = match presence(asset, root) {
            Presence::Present { bytes: b } => {
                present += 1;
                bytes += b;
                ("present", HumanBytes(b).to_string())
            }
            Presence::Partial { bytes: b } => {
                partial += 1;
                ("partial", HumanBytes(b).to_string())
            }
            Presence::Missing => {
                missing += 1;
                (if asset.url.is_some() { "missing" } else { "no-url" }, "-".to_string())
            }
        };
        println!("{:<width$}  {status:<8} {size:>11}  {}", asset.tag, asset.path_rel);
    }
    println!(
        "\n{present} present ({}), {partial} partially downloaded, {missing} missing. Checksums were not \
         checked: run without --list to verify and download.",
        HumanBytes(bytes)
    );
}
