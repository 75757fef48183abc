//! Turning raw assets into `processed/<dataset>/meta.json` and `processed/<dataset>/wav/<uid>.wav`
//! with the reference's exact rules.
//!
//! Each dataset is a [`DatasetProcessor`]: it reads its assets (through an [`AssetSource`], so tests
//! can hand it fixtures) and returns one [`Example`] per uid: the metadata the reference writes for
//! it, and where its audio comes from. [`run::process_dataset`] then converts the audio, records
//! clip durations and writes `meta.json`, identically for every dataset.

pub mod cached_assets;
pub mod convert;
pub mod debug;
pub mod emomusic;
pub mod giantsteps;
pub mod gtzan;
pub mod magnatagatune;
pub mod meta_json;
pub(crate) use jukemir_pycompat::text as pycompat;
pub mod run;

use std::path::{Path, PathBuf};

/// Where a processor finds the raw assets it needs, by registry tag (`GTZAN`, `GTZAN_TRAIN`, …).
pub trait AssetSource: Sync {
    /// The local path of a verified asset; implementations may download it first.
    fn asset(&self, tag: &str) -> anyhow::Result<PathBuf>;
}

/// How long an audio file is, in seconds (the reference asks `ffprobe` for GiantSteps tracks).
pub trait AudioDuration: Sync {
    fn duration(&self, path: &Path) -> anyhow::Result<f64>;
}

/// Measures duration by decoding the file (without keeping it): exact for every format,
/// independent of headers.
pub struct DecodedDuration;

impl AudioDuration for DecodedDuration {
    fn duration(&self, path: &Path) -> anyhow::Result<f64> {
        let (frames, rate) = jukemir_audio::decoded_length(path)?;
        Ok(frames as f64 / f64::from(rate))
    }
}

/// A span of a source file to cut, as the reference's `ffmpeg -ss OFFSET -t DURATION`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipSpan {
    pub offset: f64,
    pub duration: f64,
}

/// The audio behind one example.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioRef {
    pub path: PathBuf,
    pub clip: Option<ClipSpan>,
}

/// One entry of `meta.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub uid: String,
    /// Exactly the object the reference stores under this uid (before `clip.clip_duration`, which
    /// is filled in once the audio is converted).
    pub meta: serde_json::Value,
    /// `None` in metadata-only mode and for entries without usable audio (e.g. MagnaTagATune's
    /// three corrupt clips).
    pub audio: Option<AudioRef>,
}

/// What a processor may use.
pub struct ProcessContext<'a> {
    pub assets: &'a dyn AssetSource,
    /// A scratch folder for unpacked archives, removed after the run.
    pub workdir: &'a Path,
    /// Only metadata: do not unpack or touch audio archives.
    pub metadata_only: bool,
    pub durations: &'a dyn AudioDuration,
}

/// One dataset's rules.
pub trait DatasetProcessor: Sync {
    fn name(&self) -> &'static str;
    /// All examples in the order the reference yields them.
    fn examples(&self, ctx: &ProcessContext) -> anyhow::Result<Vec<Example>>;
}

/// The rules of the dataset called `name` (one of [`DATASETS`]).
pub fn processor(name: &str) -> Option<Box<dyn DatasetProcessor>> {
    Some(match name {
        "gtzan_ff" => Box::new(gtzan::Gtzan { fault_filtered: true }),
        "gtzan" => Box::new(gtzan::Gtzan { fault_filtered: false }),
        "magnatagatune" => Box::new(magnatagatune::MagnaTagATune),
        "emomusic" => Box::new(emomusic::Emomusic),
        "giantsteps_clips" => Box::new(giantsteps::GiantSteps::CLIPS),
        "giantsteps" => Box::new(giantsteps::GiantSteps::TRACKS),
        "debug" => Box::new(debug::Debug),
        _ => return None,
    })
}

/// Datasets `jukemir datasets process` knows.
pub const DATASETS: [&str; 7] =
    ["gtzan_ff", "magnatagatune", "emomusic", "giantsteps_clips", "gtzan", "giantsteps", "debug"];

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_dataset_has_rules_under_its_own_name() {
        for name in super::DATASETS {
            assert_eq!(super::processor(name).unwrap().name(), name);
        }
        assert!(super::processor("nope").is_none());
    }
}
