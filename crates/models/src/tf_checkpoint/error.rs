//! Errors of the checkpoint reader. Every variant carries the path of the file at fault and its
//! message names it.

use std::path::{Path, PathBuf};

use super::dtype::TfDType;

/// Why a TensorFlow checkpoint could not be opened or a tensor not read.
#[derive(Debug, thiserror::Error)]
pub enum TfCheckpointError {
    /// No checkpoint could be located from the given path (no `.index` file, ambiguous folder...).
    #[error("{}: no TensorFlow checkpoint found: {reason}", path.display())]
    NotFound { path: PathBuf, reason: String },

    /// The operating system refused a read.
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The `.index` file is not a well-formed table/bundle (truncated footer, bad magic,
    /// malformed block or protobuf, inconsistent entry...).
    #[error("{}: corrupt checkpoint index: {reason}", path.display())]
    CorruptIndex { path: PathBuf, reason: String },

    /// A block of the `.index` file does not match its stored CRC.
    #[error(
        "{}: corrupt checkpoint index: CRC mismatch in the block at offset {offset} \
         (stored {stored:#010x}, computed {computed:#010x})",
        path.display()
    )]
    BlockCrc { path: PathBuf, offset: u64, stored: u32, computed: u32 },

    /// A well-formed index that uses a feature this reader does not implement (compressed
    /// blocks, a newer bundle version...).
    #[error("{}: unsupported checkpoint index: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },

    /// The checkpoint holds no tensor of that name.
    #[error("{}: no tensor named `{name}` in the checkpoint", path.display())]
    MissingTensor { path: PathBuf, name: String },

    /// The data shard holding the tensor does not exist (e.g. only the `.index` was shipped).
    #[error("{}: data file missing (needed for tensor `{name}`)", path.display())]
    DataFileMissing { path: PathBuf, name: String },

    /// The tensor's entry is inconsistent with its data file (points past its end, wrong size).
    #[error("{}: tensor `{name}`: {reason}", path.display())]
    CorruptEntry { path: PathBuf, name: String, reason: String },

    /// The tensor's bytes do not match the CRC recorded in the index.
    #[error(
        "{}: tensor `{name}`: data CRC mismatch (stored {stored:#010x}, computed {computed:#010x})",
        path.display()
    )]
    DataCrc { path: PathBuf, name: String, stored: u32, computed: u32 },

    /// The tensor's dtype has no reader (strings, complex numbers...) or no candle equivalent.
    #[error("{}: tensor `{name}` has dtype {dtype}, which is unsupported", path.display())]
    UnsupportedDtype { path: PathBuf, name: String, dtype: TfDType },

    /// The tensor is a partitioned variable saved as slices.
    #[error(
        "{}: tensor `{name}` is saved as {slices} slices (a partitioned variable); sliced tensors are unsupported",
        path.display()
    )]
    SlicedTensor { path: PathBuf, name: String, slices: usize },

    /// candle refused to build the tensor.
    #[error("{}: tensor `{name}`: {source}", path.display())]
    Candle {
        path: PathBuf,
        name: String,
        /// Boxed: candle's error is large and would bloat every `Result` of this module.
        #[source]
        source: Box<candle_core::Error>,
    },
}

/// A problem found by the pure index parsers, before a path is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexProblem {
    Corrupt(String),
    Unsupported(String),
    BlockCrc { offset: u64, stored: u32, computed: u32 },
    Compression { offset: u64, kind: u8 },
}

impl IndexProblem {
    pub(crate) fn corrupt(reason: String) -> Self {
        IndexProblem::Corrupt(reason)
    }

    pub(crate) fn at(self, path: &Path) -> TfCheckpointError {
        let path = path.to_path_buf();
        match self {
            IndexProblem::Corrupt(reason) => TfCheckpointError::CorruptIndex { path, reason },
            IndexProblem::Unsupported(reason) => TfCheckpointError::Unsupported { path, reason },
            IndexProblem::BlockCrc { offset, stored, computed } => {
                TfCheckpointError::BlockCrc { path, offset, stored, computed }
            }
            IndexProblem::Compression { offset, kind } => {
                let name = match kind {
                    1 => "snappy",
                    2 => "zlib",
                    _ => "unknown",
                };
                let reason = format!("the block at offset {offset} uses compression type {kind} ({name})");
                TfCheckpointError::Unsupported { path, reason }
            }
        }
    }
}
