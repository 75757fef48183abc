//! Progress bars for long runs, on stderr so that stdout stays clean for results.

use indicatif::{ProgressBar, ProgressStyle};
use jukemir_representations::ExtractProgress;
use std::path::Path;

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
