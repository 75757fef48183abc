//! Why an asset could not be fetched, worded so the user knows what to do next.

use super::registry::Algorithm;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("{} is missing and cannot be downloaded (asset {tag} has no URL): place it at {}", path.display(), path.display())]
    NoUrl { tag: String, path: PathBuf },

    #[error(
        "{} has the wrong {algorithm} checksum (expected {expected}, found {actual}): run again with \
         --delete-wrong to delete it and download it again",
        path.display()
    )]
    WrongChecksum { path: PathBuf, algorithm: Algorithm, expected: String, actual: String },

    #[error(
        "the file downloaded from {url} has the wrong {algorithm} checksum (expected {expected}, got {actual}); \
         it was deleted and nothing was written to {}: the server may now serve different content, or a proxy \
         altered it",
        path.display()
    )]
    DownloadedWrong { url: String, path: PathBuf, algorithm: Algorithm, expected: String, actual: String },

    #[error(
        "{url} answered HTTP {status}: the file is not available there (not retried); if you have a copy, \
         place it at {}",
        path.display()
    )]
    HttpStatus { url: String, status: u16, path: PathBuf },

    #[error("{url}: gave up after {failures} failed attempts ({reason}); {}", resume_hint(*kept, part))]
    Network { url: String, failures: u32, reason: String, part: PathBuf, kept: u64 },

    #[error("{url}: {reason} (not retried)")]
    Unreachable { url: String, reason: String },

    #[error(
        "{url}: skipped, because {failures} downloads from {host} in a row failed with network errors; \
         run again later, or place the file at {} by hand",
        path.display()
    )]
    HostDown { url: String, host: String, failures: u32, path: PathBuf },

    #[error(
        "not enough free space to download {}: {needed} more bytes needed, {available} available; free some \
         space or point JUKEMIR_CACHE_DIR (--cache-dir) at a bigger disk",
        path.display()
    )]
    DiskSpace { path: PathBuf, needed: u64, available: u64 },

    #[error("cannot {action} {}: {error}", path.display())]
    Io { action: &'static str, path: PathBuf, error: io::Error },

    #[error("deleted {} (it had the wrong {algorithm} checksum {actual}), then could not replace it: {error}", path.display())]
    ReplaceFailed { path: PathBuf, algorithm: Algorithm, actual: String, error: Box<AssetError> },
}

fn resume_hint(kept: u64, part: &Path) -> String {
    if kept == 0 {
        "run the same command again to retry".into()
    } else {
        format!("run the same command again to resume from the {kept} bytes kept in {}", part.display())
    }
}

impl AssetError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, error: io::Error) -> AssetError {
        AssetError::Io { action, path: path.into(), error }
    }

    /// Network-level trouble (as opposed to a missing file or a bad checksum): what makes a host
    /// look down.
    pub fn is_network(&self) -> bool {
        matches!(self, AssetError::Network { .. } | AssetError::Unreachable { .. })
    }
}
