//! Whole-file writes that a reader never sees half done (through `jukemir_fs::write_atomically`).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Write `contents` to `path` atomically, creating its folder if missing.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    jukemir_fs::write_atomically(path, |file| file.write_all(contents))
        .with_context(|| format!("cannot write {}", path.display()))
}
