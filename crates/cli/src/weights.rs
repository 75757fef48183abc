//! `jukemir weights`: download and verify the pretrained weights the representations load.

use clap::Subcommand;
use jukemir_datasets::assets::Registry;

pub const LONG_ABOUT: &str = "Download the published weight files of the pretrained representations from \
their original locations into <cache>/weights/, verifying each against its sha256 (or, for files published \
only in a git repository, its git blob id; for Jukebox's checkpoints, for which nothing is published, their \
structure: every tensor of the 5B model present with its shape and every storage inside the file), with the same \
resuming and checks as `jukemir assets`.

Groups (tag prefixes): musicnn (the musicnn 0.1.0 wheel from PyPI: MSD_musicnn, MTT_musicnn and the VGG \
models), musicnn_big (MSD_musicnn_big, the paper's model, from github.com/jordipons/musicnn at 516acb2; \
95.8 MB), choi (the five Keras HDF5 files of keunwoochoi/transfer_learning_music at e1f83c3), jukebox (OpenAI's \
5b/vqvae.pth.tar and 5b/prior_level_2.pth.tar from openaipublic.azureedge.net; about 10 GB, resumable).

Without a prefix every group is fetched, Jukebox's 10 GB included. Files already in place are only verified. Without internet, copy the files to the paths `--list` shows.";

#[derive(Subcommand)]
pub enum WeightsCommand {
    /// Download and verify weights (all, or the group whose tags start with PREFIX).
    Fetch(crate::assets::AssetsArgs),
}

pub fn run(command: WeightsCommand) -> anyhow::Result<()> {
    match command {
        WeightsCommand::Fetch(args) => crate::assets::run_with(Registry::weights(), args),
    }
}
