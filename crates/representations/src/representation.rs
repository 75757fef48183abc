//! What every representation provides to the extract contract, and the registry of them.

use std::path::Path;

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
}

/// Representations that can be extracted now.
pub const AVAILABLE: [&str; 2] = ["chroma", "mfcc"];
/// Representations of the paper that this build cannot extract yet.
pub const NOT_YET_AVAILABLE: [&str; 4] = ["choi", "musicnn", "clmr", "jukebox"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnknownRepresentation {
    #[error("representation {0:?} is not implemented in this version of jukemir yet (available: {avail})", avail = AVAILABLE.join(", "))]
    NotYetAvailable(String),
    #[error("unknown representation {0:?} (available: {avail})", avail = AVAILABLE.join(", "))]
    Unknown(String),
}

/// Look a representation up by its command-line name.
pub fn representation(name: &str) -> Result<Box<dyn Representation>, UnknownRepresentation> {
    use crate::handcrafted::{Handcrafted, HandcraftedFeature};
    match name {
        "chroma" => Ok(Box::new(Handcrafted::new(HandcraftedFeature::Chroma))),
        "mfcc" => Ok(Box::new(Handcrafted::new(HandcraftedFeature::Mfcc))),
        other if NOT_YET_AVAILABLE.contains(&other) => Err(UnknownRepresentation::NotYetAvailable(other.into())),
        other => Err(UnknownRepresentation::Unknown(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_knows_available_and_planned_names() {
        for name in AVAILABLE {
            assert_eq!(representation(name).unwrap().name(), name);
        }
        assert!(matches!(representation("jukebox"), Err(UnknownRepresentation::NotYetAvailable(_))));
        assert!(matches!(representation("nope"), Err(UnknownRepresentation::Unknown(_))));
    }
}
