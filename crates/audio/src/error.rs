//! The one error type of this crate.
//!
//! Every variant carries the file's path and its message names it, because these errors surface
//! from batch runs over thousands of clips where "unexpected end of file" alone is useless.

use std::path::{Path, PathBuf};

use crate::resample::ResampleError;

/// Why a file could not be read, decoded, loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The path does not exist (kept apart from other I/O failures so callers can report missing
    /// dataset files distinctly).
    #[error("{}: no such file", path.display())]
    NotFound { path: PathBuf },

    /// The operating system refused a read or write.
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not a container/codec we can decode (or not audio at all).
    #[error("{}: unsupported or unrecognised audio format: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },

    /// The container is recognised but its header or structure is inconsistent.
    #[error("{}: corrupt audio file: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },

    /// Decoding started but a packet failed part-way through the stream.
    #[error("{}: decoding failed near {seconds:.3} s (frame {frame}): {reason}", path.display())]
    Decode { path: PathBuf, frame: u64, seconds: f64, reason: String },

    /// The requested span holds no samples at all (an empty file, or a zero duration).
    #[error("{}: no audio samples in the requested span", path.display())]
    Empty { path: PathBuf },

    /// The requested offset lies at or beyond the end of the audio.
    #[error("{}: too short for the requested offset: starts at frame {start} but has only {frames} frames", path.display())]
    OffsetPastEnd { path: PathBuf, start: u64, frames: u64 },

    /// The caller asked for something meaningless (negative offset, NaN duration, ...).
    #[error("{}: invalid load options: {reason}", path.display())]
    InvalidOptions { path: PathBuf, reason: String },

    /// The decoded audio could not be resampled (too few samples for the rate change).
    #[error("{}: cannot resample: {source}", path.display())]
    Resample {
        path: PathBuf,
        #[source]
        source: ResampleError,
    },

    /// A WAV file could not be written.
    #[error("{}: cannot write WAV: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

impl AudioError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            AudioError::NotFound { path }
            | AudioError::Io { path, .. }
            | AudioError::Unsupported { path, .. }
            | AudioError::Corrupt { path, .. }
            | AudioError::Decode { path, .. }
            | AudioError::Empty { path }
            | AudioError::OffsetPastEnd { path, .. }
            | AudioError::InvalidOptions { path, .. }
            | AudioError::Resample { path, .. }
            | AudioError::Write { path, .. } => path,
        }
    }

    /// Maps an I/O error, keeping "not found" distinguishable.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            AudioError::NotFound { path: path.to_path_buf() }
        } else {
            AudioError::Io { path: path.to_path_buf(), source }
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        AudioError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }

    pub(crate) fn unsupported(path: &Path, reason: impl Into<String>) -> Self {
        AudioError::Unsupported { path: path.to_path_buf(), reason: reason.into() }
    }
}
