//! `jukemir`: music-information-retrieval transfer learning from the command line.

mod assets;
mod bench;
mod chosen;
mod cluster;
mod datasets;
mod demo;
mod example;
mod extract;
mod probe;
mod progress;
mod report;
mod reproduce;
mod weights;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "jukemir",
    version,
    about = "Representations of music for MIR transfer learning (Castellon, Donahue & Liang, ISMIR 2021)",
    long_about = "jukemir turns audio into fixed-size vectors (\"representations\") and judges them with simple \
                  probes, reproducing the paper's pipeline: assets → datasets → extract → probe.\n\n\
                  Start with `jukemir demo`: it synthesises a small labelled set and extracts features from it, \
                  with nothing to download.",
    after_help = "Examples:\n  jukemir demo\n  jukemir extract mfcc clips/ features/mfcc\n  \
                  jukemir extract chroma wav/ out/ --batch-size 256 --batch-idx 3\n  jukemir bench features ../shared/data/music"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract one representation from every audio file in a folder: one <stem>.npy per file.
    #[command(long_about = extract::LONG_ABOUT)]
    Extract(extract::ExtractArgs),
    /// The whole pipeline on a small labelled set it synthesises: extract, train probes, results table.
    #[command(long_about = demo::LONG_ABOUT)]
    Demo(demo::DemoArgs),
    /// Process benchmark datasets from their raw assets into meta.json + WAVs.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
    /// Measure throughput against the reference implementation.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Download the raw dataset files from their original URLs and verify their checksums.
    #[command(long_about = assets::LONG_ABOUT)]
    Assets(assets::AssetsArgs),
    /// Train probes on extracted representations and report their validation metrics.
    #[command(subcommand, long_about = probe::LONG_ABOUT)]
    Probe(probe::ProbeCommand),
    /// Download and verify the pretrained weights of musicnn, choi, … from their original locations.
    #[command(subcommand, long_about = weights::LONG_ABOUT)]
    Weights(weights::WeightsCommand),
    /// Collect evaluated probes into the paper's results table (text, Markdown, CSV, SVG chart).
    #[command(long_about = report::LONG_ABOUT)]
    Report(report::ReportArgs),
    /// The paper's results table from its published precomputed representations, in one command.
    #[command(long_about = reproduce::LONG_ABOUT)]
    Reproduce(reproduce::ReproduceArgs),
    /// Write job scripts that run extraction or the probe grid on a Slurm or Kubernetes cluster.
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// The original jukemir README's examples, end to end (e.g. GTZAN genre with an SVM).
    #[command(subcommand)]
    Example(example::ExampleCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Probe(_)
            | Command::Report(_)
            | Command::Reproduce(_)
            | Command::Demo(_)
            | Command::Bench(bench::BenchCommand::Probe(_))
    ) {
        probe::single_threaded_kernels();
    }
    let result = match cli.command {
        Command::Extract(args) => extract::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(command) => bench::run(command),
        Command::Datasets(command) => datasets::run(command),
        Command::Assets(args) => assets::run(args),
        Command::Probe(command) => probe::run(command),
        Command::Report(args) => report::run(args),
        Command::Reproduce(args) => reproduce::run(args),
        Command::Weights(command) => weights::run(command),
        Command::Cluster(command) => cluster::run(command),
        Command::Example(command) => example::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
