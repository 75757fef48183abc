//! `jukemir bench`: throughput next to the reference's, measured in the same run.

mod features;
mod network;
mod probe;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// chroma and mfcc over a folder of clips: clips/s for jukemir (1 thread and --threads) and for
    /// librosa 0.8.1 on one core, and their ratio.
    Features(features::FeaturesArgs),
    /// The paper's 216-probe grid on a synthetic GTZAN-ff-shaped task (4800-dim features): wall
    /// time for jukemir and for the reference's PyTorch training loop on the same data and threads.
    #[command(long_about = probe::LONG_ABOUT)]
    Probe(probe::ProbeArgs),
    /// musicnn or clmr over a folder of clips: clips/s and peak memory for jukemir and for the
    /// reference framework (TensorFlow, PyTorch) with the same threads, and their ratio.
    #[command(long_about = network::LONG_ABOUT)]
    Network(network::NetworkArgs),
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Features(args) => features::features(args),
        BenchCommand::Probe(args) => probe::probe(args),
        BenchCommand::Network(args) => network::network(args),
    }
}
