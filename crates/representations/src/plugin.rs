//! The registry: one [`Plugin`] per representation, each defined in the representation's own file.
//!
//! A plugin is everything the rest of jukemir needs to know about a representation: its static
//! description (for `--help`, `weights`, `report` and the Python package), its own command-line
//! options (a clap `Args` struct in its file, so only the options a representation declares are
//! accepted for it), the resources a cluster task needs, and how to load it. `extract`, `cluster`,
//! `example` and the help texts are generated from [`PLUGINS`].
//!
//! Adding a representation: write `src/<name>.rs` with a type implementing [`Representation`] and a
//! `pub static PLUGIN: Plugin`, declare the module in `lib.rs`, and add `&<name>::PLUGIN` to
//! [`PLUGINS`] (CONTRIBUTING.md walks through it).

use crate::representation::{BatchDependence, Representation};
use anyhow::{bail, Context};
use clap::{ArgMatches, Command};
use std::path::PathBuf;

/// Every representation, in the paper's order first (the order of `--help` and of the report).
pub static PLUGINS: [&Plugin; 6] = [
    &crate::chroma::PLUGIN,
    &crate::mfcc::PLUGIN,
    &crate::choi::PLUGIN,
    &crate::musicnn::PLUGIN,
    &crate::clmr::PLUGIN,
    &crate::jukebox::PLUGIN,
];

/// How long a representation's vectors are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// Follows from the options, as the text says (e.g. jukebox: 4800 per chosen layer).
    Depends(&'static str),
}

/// What a cluster task of this representation asks for, before the user's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskResources {
    /// Files per task (for batch-dependent representations, the reference's batch size).
    pub batch_size: usize,
    pub cpus: usize,
    pub mem_gib: usize,
    pub gpus: usize,
    /// Time limit per task, Slurm syntax.
    pub time: &'static str,
}

/// The defaults most representations run with on a cluster.
pub const DEFAULT_TASK: TaskResources =
    TaskResources { batch_size: 256, cpus: 4, mem_gib: 4, gpus: 1, time: "04:00:00" };

/// What loading a representation may need besides its own options.
#[derive(Debug, Clone, Default)]
pub struct LoadContext {
    /// `--weights`: the network's weights in their original format (a file or folder).
    pub weights: Option<PathBuf>,
    /// The cache root; weights fetched by `jukemir weights fetch` live under `<cache>/weights/`.
    pub cache_root: PathBuf,
}

/// One representation, as the registry knows it.
pub struct Plugin {
    /// The name on the command line and of its output folders.
    pub name: &'static str,
    /// One line: what it is.
    pub about: &'static str,
    /// What it computes and from what, for `extract --help` and the docs.
    pub help: &'static str,
    pub dim: Dim,
    /// How to get the network's weights; `None` for representations without weights.
    pub weights: Option<&'static str>,
    /// Whether the paper evaluated it (its rows then appear beside the paper's numbers).
    pub in_paper: bool,
    /// `Some` when a file's vector depends on the other files of its batch (as on the trait).
    pub batch_dependence: Option<BatchDependence>,
    /// Adds the representation's own options to its command (its `Args::augment_args`).
    pub options: fn(Command) -> Command,
    /// What one cluster task needs, given the options.
    pub task: fn(&ArgMatches) -> TaskResources,
    /// Whether the options put the computation on a GPU.
    pub uses_gpu: fn(&ArgMatches) -> bool,
    /// Load the representation with these options (parsed by [`Plugin::options`]).
    pub load: fn(&ArgMatches, &LoadContext) -> anyhow::Result<Box<dyn Representation>>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Plugin {
    /// This representation's options alone, as a command named after it.
    pub fn command(&self) -> Command {
        (self.options)(Command::new(self.name).no_binary_name(true))
    }

    /// Parse options given as command-line words (`["--layers", "12,36"]`), e.g. from Python.
    pub fn parse_options<I, T>(&self, words: I) -> anyhow::Result<ArgMatches>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        self.command().try_get_matches_from(words).map_err(|e| anyhow::anyhow!("{}: {}", self.name, e.render()))
    }

    /// Load with options already parsed, checking that `--weights` is only given where it applies.
    pub fn load_with(&self, options: &ArgMatches, context: &LoadContext) -> anyhow::Result<Box<dyn Representation>> {
        if self.weights.is_none() {
            if let Some(path) = &context.weights {
                bail!("{} has no weights: --weights {} does not apply", self.name, path.display());
            }
        }
        (self.load)(options, context).with_context(|| format!("cannot load {}", self.name))
    }

    /// The options this representation's user set on the command line, as words that parse back
    /// to the same options (what a cluster task is given). Generic over the declared arguments,
    /// so no representation's flags are spelled out twice.
    pub fn options_as_words(&self, matches: &ArgMatches) -> Vec<String> {
        let command = self.command();
        let mut words = Vec::new();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
                continue;
            }
            let flag = match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => continue,
            };
            match arg.get_action() {
                clap::ArgAction::SetTrue | clap::ArgAction::SetFalse => words.push(flag),
                _ => {
                    let Some(raw) = matches.get_raw(id) else { continue };
                    let values: Vec<String> = raw.map(|v| v.to_string_lossy().into_owned()).collect();
                    match arg.get_value_delimiter() {
                        Some(delimiter) => words.extend([flag, values.join(&delimiter.to_string())]),
                        None => values.into_iter().for_each(|v| words.extend([flag.clone(), v])),
                    }
                }
            }
        }
        words
    }
}

/// The representation called `name`.
pub fn plugin(name: &str) -> anyhow::Result<&'static Plugin> {
    PLUGINS.iter().copied().find(|p| p.name == name).with_context(|| {
        let names: Vec<&str> = PLUGINS.iter().map(|p| p.name).collect();
        format!("unknown representation {name:?} (available: {})", names.join(", "))
    })
}

/// The names of every representation, in registry order.
pub fn names() -> Vec<&'static str> {
    PLUGINS.iter().map(|p| p.name).collect()
}

/// Load `name` with options given as command-line words.
pub fn load(name: &str, words: &[&str], context: &LoadContext) -> anyhow::Result<Box<dyn Representation>> {
    let plugin = plugin(name)?;
    plugin.load_with(&plugin.parse_options(words)?, context)
}

/// For plugins whose options struct has nothing: no options at all.
pub fn no_options(command: Command) -> Command {
    command
}

/// For plugins that never use a GPU.
pub fn cpu_only(_: &ArgMatches) -> bool {
    false
}
