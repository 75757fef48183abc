//! Whole-file writes that a reader never sees half done (through `jukemir_fs::write_atomically`).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    jukemir_fs::write_atomically(path, |file| file.write_all(contents))
        .with_context(|| format!("cannot write {}", path.display()))
}
