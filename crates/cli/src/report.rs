//! `jukemir report`: the results table of every evaluated dataset × representation.

use anyhow::Context;
use clap::Args;
use jukemir_probe::atomic::write_atomic;
use jukemir_probe::report::{chart, collect, render};
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Collect the test metrics of every dataset × representation with saved probes \
(probes/<dataset>/<representation>/ in the cache) into the paper's table: tags ROC-AUC and AP \
(magnatagatune), genre accuracy (gtzan_ff), key score (giantsteps_clips), emotion arousal and valence R² \
(emomusic), and their average (each task's metrics averaged, then the four tasks). Grids without an \
up-to-date evaluations/<dataset>/<representation>.json are evaluated first, as `jukemir probe evaluate` does.\n\n\
Prints the table and writes results.md, results.csv and results.svg (a bar chart) to --out. The paper's \
published numbers are shown beside each representation where they are known.";

#[derive(Args)]
pub struct ReportArgs {
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Where to write results.{md,csv,svg} [default: <cache>/report].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let root = crate::probe::resolve_cache(args.cache_dir)?;
    report_in(&root, args.out)
}

/// Collect, print and write the report of every saved grid under the cache `root`.
pub fn report_in(root: &std::path::Path, out: Option<PathBuf>) -> anyhow::Result<()> {
    let order = jukemir_representations::plugin::names();
    let report =
        collect(root, &order, &mut |dataset, representation| eprintln!("collecting {dataset} / {representation}"))?;
    if report.rows.is_empty() {
        anyhow::bail!(
            "no saved probes under {}: run `jukemir probe grid <dataset> <representation>` first",
            root.join("probes").display()
        );
    }
    let out = out.unwrap_or_else(|| root.join("report"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    print!("{}", render::text(&report));
    let files = [
        ("results.md", render::markdown(&report)),
        ("results.csv", render::csv(&report)),
        ("results.svg", chart::svg(&report, "jukemir: test metrics of the best-on-valid probes")),
    ];
    for (name, text) in files {
        write_atomic(&out.join(name), text.as_bytes())?;
    }
    println!("wrote results.md, results.csv and results.svg to {}", out.display());
    Ok(())
}
