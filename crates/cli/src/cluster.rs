//! `jukemir cluster`: job scripts for Slurm and Kubernetes (being written).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ClusterCommand {}

pub fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {}
}
