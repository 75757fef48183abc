//! `jukemir reproduce`: the paper's table from its precomputed representations, in one command.

use crate::datasets::{ensure_metadata, fetch_precomputed, or_all, unpack_one};
use anyhow::Context;
use clap::Args;
use jukemir_datasets::precomputed::{PRECOMPUTED_DATASETS, PRECOMPUTED_REPRESENTATIONS};
use jukemir_probe::config::paper_grid;
use std::path::{Path, PathBuf};

pub const LONG_ABOUT: &str = "Rebuild the paper's results table from the representations its authors \
published, with nothing to extract:

  1. download and verify the precomputed archives (PRECOMPUTED-<DATASET>-<REPRESENTATION>, sha256-checked)
  2. build each dataset's meta.json from its metadata assets (`datasets process --metadata-only`)
  3. unpack each archive into representations/<dataset>/<representation>/ (`datasets unpack-precomputed`)
  4. train the 216-config probe grid of every dataset × representation (`probe grid`)
  5. evaluate the best-on-valid probes and print and write the table with the paper's numbers (`report`)

Every stage resumes: verified files are not downloaded again, complete unpackings and saved probes are \
skipped, so an interrupted run continues where it stopped. The grids are the long part (minutes per \
low-dimensional grid, hours for the 4800-dim jukebox and musicnn ones on a laptop); --emit-slurm runs \
stages 1–3 here and writes the grids as Slurm job arrays instead.";

#[derive(Args)]
pub struct ReproduceArgs {
    /// Datasets, comma-separated [default: all four].
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(PRECOMPUTED_DATASETS))]
    datasets: Vec<String>,
    /// Representations, comma-separated [default: all six].
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(PRECOMPUTED_REPRESENTATIONS))]
    representations: Vec<String>,
    /// Probes trained at once [default: the number of CPUs].
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Archives downloaded at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    downloads: usize,
    /// Only N configs of each grid, spread over it (a quick check, not the paper's protocol).
    #[arg(long, value_name = "N")]
    spread: Option<usize>,
    /// Prepare the data here, then write one Slurm job-array script per grid into DIR instead of
    /// training (run `jukemir report` when the jobs are done).
    #[arg(long, value_name = "DIR")]
    emit_slurm: Option<PathBuf>,
    /// Cache folder [default: $JUKEMIR_CACHE_DIR, else ~/.jukemir].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Where to write results.{md,csv,svg} [default: <cache>/report].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: ReproduceArgs) -> anyhow::Result<()> {
    let root = crate::probe::resolve_cache(args.cache_dir)?;
    let datasets = or_all(args.datasets, &PRECOMPUTED_DATASETS);
    let representations = or_all(args.representations, &PRECOMPUTED_REPRESENTATIONS);
    let pairs: Vec<(String, String)> =
        datasets.iter().flat_map(|d| representations.iter().map(move |r| (d.clone(), r.clone()))).collect();

    stage(1, "precomputed archives");
    fetch_precomputed(&root, &pairs, args.downloads)?;
    stage(2, "metadata");
    for dataset in &datasets {
        ensure_metadata(&root, dataset)?;
    }
    stage(3, "unpacking");
    for (dataset, representation) in &pairs {
        unpack_one(&root, dataset, representation)?;
    }
    let grids: Vec<_> = pairs
        .iter()
        .map(|(d, r)| {
            let configs = paper_grid(d, r);
            let configs = match args.spread {
                Some(n) => jukemir_probe::grid::spread(&configs, n),
                None => configs,
            };
            (d, r, configs)
        })
        .collect();
    if let Some(dir) = &args.emit_slurm {
        return emit_slurm(&grids, &root, dir);
    }
    stage(4, "probe grids");
    let jobs = args.jobs.unwrap_or_else(crate::probe::default_jobs);
    for (i, (dataset, representation, configs)) in grids.iter().enumerate() {
        println!("[{}/{}] {dataset} / {representation}", i + 1, grids.len());
        crate::probe::train_grid(configs, &root, jobs)?;
    }
    stage(5, "report");
    crate::report::report_in(&root, args.out)
}

fn stage(n: usize, what: &str) {
    println!("== {n}/5 {what}");
}

type Grid<'a> = (&'a String, &'a String, Vec<jukemir_probe::config::ProbeConfig>);

fn emit_slurm(grids: &[Grid], root: &Path, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot locate this executable")?;
    let mut scripts = Vec::new();
    for (dataset, representation, configs) in grids {
        let paths = jukemir_probe::grid::emit_configs(configs, root)?;
        let script = dir.join(format!("grid-{dataset}-{representation}.sh"));
        crate::cluster::write_slurm_grid(&crate::cluster::SlurmGrid {
            dataset,
            representation,
            root,
            configs: &paths,
            exe: &exe.to_string_lossy(),
            cpus: 1,
            mem: "8G",
            gpus: 0,
            time: "04:00:00",
            partition: None,
            max_parallel: None,
            log_dir: None,
            output: &script,
        })?;
        scripts.push(script);
    }
    println!("wrote {} job-array scripts to {}; submit each with `sbatch FILE`:", scripts.len(), dir.display());
    for script in &scripts {
        println!("  sbatch {}", script.display());
    }
    println!(
        "then `jukemir report --cache-dir {}` once they are done (`jukemir cluster slurm grid` has options for \
         partitions, CPUs and time limits)",
        root.display()
    );
    Ok(())
}
