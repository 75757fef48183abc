//! `jukemir example`: the original README's examples (being written).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ExampleCommand {}

pub fn run(command: ExampleCommand) -> anyhow::Result<()> {
    match command {}
}
