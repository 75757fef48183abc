//! What every representation provides to the extract contract (the registry of them is
//! [`crate::plugin`]).

use std::path::{Path, PathBuf};

/// A way of turning one audio file into one fixed-size float32 vector.
///
/// Implementations must be deterministic and thread-safe: the contract may call
/// [`Representation::extract_file`] for many files at once.
pub trait Representation: Send + Sync {
    /// The name used on the command line and as the output folder name in the cache layout.
    fn name(&self) -> &'static str;
    /// Length of every vector this representation produces.
    fn dim(&self) -> usize;
    /// Compute the vector for the audio file at `path`. Errors describe what is wrong with the
    /// file (the contract adds the path).
    fn extract_file(&self, path: &Path) -> anyhow::Result<Vec<f32>>;

    /// Whether one file's computation already uses every thread (Jukebox's large matrix products):
    /// the contract then processes files one after another instead of several at once.
    fn parallel_within_file(&self) -> bool {
        false
    }

    /// Sub-folders that each receive an equal part of the vector, in order (Jukebox's
    /// `--per-layer`: one folder per layer); empty (the default) writes the whole vector to
    /// `<out>/<stem>.npy`. A file counts as done when every part exists.
    fn output_parts(&self) -> Vec<String> {
        Vec::new()
    }

    /// `Some` when a file's vector depends on the other files computed with it (choi's batch
    /// norms use batch statistics). The contract then forms batches as the reference did and
    /// calls [`Representation::extract_batch`] on whole batches.
    fn batch_dependence(&self) -> Option<BatchDependence> {
        None
    }

    /// The vectors of a whole batch, in order. The default computes each file alone.
    fn extract_batch(&self, paths: &[PathBuf]) -> Result<Vec<Vec<f32>>, BatchFailure> {
        paths
            .iter()
            .enumerate()
            .map(|(index, path)| self.extract_file(path).map_err(|error| BatchFailure { file: Some(index), error }))
            .collect()
    }
}

/// How a batch-dependent representation's reference grouped its inputs: the sorted listing,
/// shuffled as Python 2's `random.seed(shuffle_seed); random.shuffle(paths)` does, cut into
/// consecutive batches of `--batch-size` files (default `default_batch_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchDependence {
    pub default_batch_size: usize,
    pub shuffle_seed: u64,
}

/// Why a batch could not be computed; `file` is the index of the input to blame, if one is.
#[derive(Debug)]
pub struct BatchFailure {
    pub file: Option<usize>,
    pub error: anyhow::Error,
}

#[cfg(test)]
mod tests {
    use crate::plugin::{load, names, plugin, LoadContext, PLUGINS};

    /// Every plug-in describes itself fully: the help texts, the dim and the weights note are what
    /// `extract --help`, the cluster defaults and the docs are generated from.
    #[test]
    fn every_plugin_is_fully_described() {
        let mut seen = std::collections::HashSet::new();
        for p in PLUGINS {
            assert!(seen.insert(p.name), "{} is registered twice", p.name);
            assert!(
                !p.name.is_empty() && p.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
            assert!(p.about.len() >= 20 && !p.about.contains('\n'), "{}: about {:?}", p.name, p.about);
            assert!(p.help.len() >= 60, "{}: help {:?}", p.name, p.help);
            match p.dim {
                crate::plugin::Dim::Fixed(d) => assert!(d > 0, "{}", p.name),
                crate::plugin::Dim::Depends(how) => assert!(!how.is_empty(), "{}", p.name),
            }
            assert!(p.weights.is_none_or(|w| !w.is_empty()), "{}", p.name);
            let matches = p.parse_options::<_, &str>([]).unwrap();
            assert!((p.task)(&matches).batch_size >= 1 && (p.task)(&matches).cpus >= 1, "{}", p.name);
        }
    }

    #[test]
    fn the_registry_loads_what_needs_no_weights_and_names_what_it_knows() {
        assert_eq!(names(), ["chroma", "mfcc", "choi", "musicnn", "clmr", "jukebox"]);
        for p in PLUGINS.iter().filter(|p| p.weights.is_none()) {
            assert_eq!(load(p.name, &[], &LoadContext::default()).unwrap().name(), p.name);
        }
        let err = plugin("nope").unwrap_err().to_string();
        assert!(err.contains("unknown representation \"nope\"") && err.contains("jukebox"), "{err}");
        let context = LoadContext { weights: Some("w.bin".into()), ..Default::default() };
        let err = format!("{:#}", load("mfcc", &[], &context).err().unwrap());
        assert!(err.contains("mfcc has no weights: --weights w.bin does not apply"), "{err}");
        let err = format!("{:#}", load("chroma", &["--layers", "3"], &LoadContext::default()).err().unwrap());
        assert!(err.contains("chroma") && err.contains("--layers"), "{err}");
    }

    /// Options given on a command line come back as words that parse to the same options (what a
    /// cluster task is given), whatever kind of argument each is.
    #[test]
    fn options_round_trip_through_words() {
        let jukebox = plugin("jukebox").unwrap();
        let words = ["--layers", "12,36", "--stream-weights", "--pool", "max", "--device", "cpu", "--compute", "bf16"];
        let matches = jukebox.parse_options(words).unwrap();
        let again = jukebox.options_as_words(&matches);
        assert_eq!(
            again,
            ["--layers", "12,36", "--pool", "max", "--stream-weights", "--device", "cpu", "--compute", "bf16"]
        );
        assert_eq!(jukebox.options_as_words(&jukebox.parse_options(&again).unwrap()), again);
        assert!(jukebox.options_as_words(&jukebox.parse_options::<_, &str>([]).unwrap()).is_empty());
        let musicnn = plugin("musicnn").unwrap();
        let matches = musicnn.parse_options(["--model", "MTT_musicnn"]).unwrap();
        assert_eq!(musicnn.options_as_words(&matches), ["--model", "MTT_musicnn"]);
        assert!(musicnn.parse_options(["--model", "MSD_big"]).is_err());
    }

    #[test]
    fn cluster_resources_follow_the_options() {
        let jukebox = plugin("jukebox").unwrap();
        assert_eq!((jukebox.task)(&jukebox.parse_options(["--stream-weights"]).unwrap()).mem_gib, 3);
        assert_eq!((jukebox.task)(&jukebox.parse_options::<_, &str>([]).unwrap()).mem_gib, 8);
        assert!((jukebox.uses_gpu)(&jukebox.parse_options(["--device", "cuda:1"]).unwrap()));
        assert!(!(jukebox.uses_gpu)(&jukebox.parse_options(["--device", "cpu"]).unwrap()));
        let choi = plugin("choi").unwrap();
        assert_eq!((choi.task)(&choi.parse_options::<_, &str>([]).unwrap()).batch_size, 256);
        assert_eq!(choi.batch_dependence.map(|b| b.default_batch_size), Some(256));
    }
}
