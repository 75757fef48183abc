//! `jukemir bench`: throughput next to the reference's, measured in the same run.

mod features;
mod jukebox;
mod long_audio;
mod network;
mod probe;

use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};

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
    /// The Jukebox 5B prior's transformer blocks at full size with random weights: seconds per
    /// block and per clip, GFLOP/s against this machine's peak, and peak memory, next to PyTorch's.
    #[command(long_about = jukebox::LONG_ABOUT)]
    Jukebox(jukebox::JukeboxArgs),
    /// Peak memory of reading jukebox's input (25 s, normalised by the whole file's peak) from a
    /// long recording: jukemir's streamed read against a whole-file load and librosa's.
    #[command(long_about = long_audio::LONG_ABOUT)]
    LongAudio(long_audio::LongAudioArgs),
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Features(args) => features::features(args),
        BenchCommand::Probe(args) => probe::probe(args),
        BenchCommand::Network(args) => network::network(args),
        BenchCommand::Jukebox(args) => jukebox::jukebox(args),
        BenchCommand::LongAudio(args) => long_audio::long_audio(args),
    }
}

const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "mp3", "au", "flac", "ogg", "oga"];

/// The audio files under `dir` (searched recursively), sorted.
pub(super) fn audio_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
