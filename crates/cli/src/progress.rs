//! Progress bars for long runs, on stderr so that stdout stays clean for results.

use indicatif::{ProgressBar, ProgressStyle};
use jukemir_datasets::assets::{Asset, AssetError, FetchProgress, Fetched};
use jukemir_representations::ExtractProgress;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub fn files_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} files ({per_sec}, ETA {eta}) {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// Draws the extract contract's progress and prints each failure as it happens.
pub struct ExtractBar {
    pub bar: ProgressBar,
}

impl ExtractProgress for ExtractBar {
    fn start(&self, pending: usize, skipped: usize) {
        self.bar.set_length(pending as u64);
        if skipped > 0 {
            self.bar.println(format!("{skipped} file(s) already have valid outputs: skipped"));
        }
    }

    fn file_done(&self, input: &Path, outcome: &Result<(), String>) {
        if let Err(error) = outcome {
            self.bar.println(format!("failed: {}: {error}", input.display()));
        }
        self.bar.inc(1);
    }
}

/// A byte bar for downloads whose sizes arrive as the servers announce them.
pub struct ByteBar {
    pub bar: ProgressBar,
    /// Sum of the sizes announced so far; the bar's length follows it.
    total: Mutex<i64>,
}

impl ByteBar {
    /// `{msg}` at the end of the line shows what [`ProgressBar::set_message`] sets.
    pub fn new() -> Self {
        // No length until the first server announces a size: a zero-length bar would draw as complete.
        let bar = ProgressBar::no_length();
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        ByteBar { bar, total: Mutex::new(0) }
    }
}

impl FetchProgress for ByteBar {
    fn add_total(&self, delta: i64) {
        let mut total = self.total.lock().unwrap();
        *total += delta;
        self.bar.set_length(u64::try_from(*total).unwrap_or(0));
    }

    fn add_done(&self, delta: i64) {
        match u64::try_from(delta) {
            Ok(up) => self.bar.inc(up),
            Err(_) => self.bar.dec(delta.unsigned_abs()),
        }
    }

    fn retrying(&self, url: &str, failure: u32, max_failures: u32, wait: Duration, reason: &str) {
        self.bar.suspend(|| eprintln!("retry {failure}/{max_failures} in {wait:.0?}: {url}: {reason}"));
    }

    fn finished(&self, _asset: &Asset, _result: &Result<Fetched, AssetError>) {}
}
