//! A representation chosen on the command line: one subcommand per entry of the registry
//! (`jukemir extract <name> …`, `jukemir cluster slurm extract <name> …`), each taking the command's
//! own arguments `A` plus the options that representation declares, and nothing else.

use clap::error::ErrorKind;
use clap::{ArgMatches, Args, Command, FromArgMatches, Subcommand};
use jukemir_representations::{Plugin, PLUGINS};

pub struct Chosen<A> {
    pub plugin: &'static Plugin,
    /// Everything given after the name (the representation reads its own options from it).
    pub options: ArgMatches,
    /// The command's own arguments.
    pub args: A,
}

impl<A: Args> Subcommand for Chosen<A> {
    fn augment_subcommands(command: Command) -> Command {
        PLUGINS
            .iter()
            .fold(command, |command, p| {
                // The command's arguments first (INPUT_DIR, OUTPUT_DIR, …), then the representation's;
                // the description is set last, so neither struct's doc comment replaces it.
                let sub = (p.options)(A::augment_args(Command::new(p.name)));
                command.subcommand(sub.about(p.about).long_about(p.help))
            })
            .subcommand_required(true)
            .disable_help_subcommand(true)
            .subcommand_value_name(choices())
            .subcommand_help_heading("Representations")
    }

    fn augment_subcommands_for_update(command: Command) -> Command {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        PLUGINS.iter().any(|p| p.name == name)
    }
}

impl<A: FromArgMatches> FromArgMatches for Chosen<A> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let (name, sub) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::raw(ErrorKind::MissingSubcommand, "name a representation"))?;
        let plugin = jukemir_representations::plugin(name)
            .map_err(|e| clap::Error::raw(ErrorKind::InvalidSubcommand, format!("{e}\n")))?;
        Ok(Chosen { plugin, options: sub.clone(), args: A::from_arg_matches(sub)? })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// `chroma|mfcc|…`: what usage lines and errors show in place of the representation.
fn choices() -> &'static str {
    static CHOICES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CHOICES.get_or_init(|| jukemir_representations::plugin::names().join("|"))
}
