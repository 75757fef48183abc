//! Where jukemir keeps downloaded and derived files: the reference's cache layout.

use std::path::PathBuf;

/// Environment variable that moves the whole cache, as in the reference.
pub const CACHE_ENV: &str = "JUKEMIR_CACHE_DIR";

/// Raw downloaded assets (`datasets/<dataset>/...`).
pub const DATASETS_DIR: &str = "datasets";
/// Datasets turned into `meta.json` + audio.
pub const PROCESSED_DIR: &str = "processed";
/// One vector per clip and representation (precomputed downloads land here too).
pub const REPRESENTATIONS_DIR: &str = "representations";
/// Probe results.
pub const PROBES_DIR: &str = "probes";

/// `$JUKEMIR_CACHE_DIR`, else `~/.jukemir`, made absolute like the reference's `resolve()` so that
/// paths printed to the user work from any folder.
pub fn cache_root() -> PathBuf {
    let root = match std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => home_dir().join(".jukemir"),
    };
    std::path::absolute(&root).unwrap_or(root)
}

fn home_dir() -> PathBuf {
    // USERPROFILE covers Windows, where HOME is usually unset.
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
