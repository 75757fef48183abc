//! The public error type, and the path-less fault the parser raises internally (the path of the
//! file is attached once, at the API boundary, so the parser stays a pure function over bytes).

use std::path::{Path, PathBuf};

/// Why a Keras HDF5 weights file could not be read. Every variant names the file; the parsing
/// variants also name the HDF5 object (`/layer/weight`, `superblock`, ...) and the byte offset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KerasHdf5Error {
    /// The file could not be read from disk.
    #[error("cannot read Keras HDF5 file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not valid HDF5 (truncated, corrupt, cyclic, inconsistent sizes, ...).
    #[error("{}: malformed HDF5 in {object} at byte {offset:#x}: {reason}", path.display())]
    Malformed { path: PathBuf, object: String, offset: u64, reason: String },
    /// Valid HDF5, but using a feature this reader deliberately does not implement.
    #[error("{}: unsupported HDF5 feature in {object} at byte {offset:#x}: {feature}", path.display())]
    Unsupported { path: PathBuf, object: String, offset: u64, feature: String },
    /// Readable HDF5 that does not follow the Keras `save_weights` layout.
    #[error("{}: not a Keras weights file: {object}: {reason}", path.display())]
    NotKeras { path: PathBuf, object: String, reason: String },
    /// candle refused to build the tensor.
    #[error("{}: cannot build a tensor for {object}: {source}", path.display())]
    Tensor {
        path: PathBuf,
        object: String,
        #[source]
        source: Box<candle_core::Error>,
    },
}

impl KerasHdf5Error {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::Malformed { path, .. }
            | Self::Unsupported { path, .. }
            | Self::NotKeras { path, .. }
            | Self::Tensor { path, .. } => path,
        }
    }
}

#[derive(Debug)]
pub(super) enum FaultKind {
    Malformed(String),
    Unsupported(String),
    NotKeras(String),
    Tensor(Box<candle_core::Error>),
}

/// An error inside the parser: what went wrong, where, and in which object (filled in by the
/// innermost caller that knows it, see [`Fault::within`]).
#[derive(Debug)]
pub(super) struct Fault {
    kind: FaultKind,
    offset: u64,
    object: String,
}

pub(super) type R<T> = Result<T, Fault>;

impl Fault {
    pub(super) fn malformed(offset: u64, reason: impl Into<String>) -> Self {
        Self { kind: FaultKind::Malformed(reason.into()), offset, object: String::new() }
    }

    pub(super) fn unsupported(offset: u64, feature: impl Into<String>) -> Self {
        Self { kind: FaultKind::Unsupported(feature.into()), offset, object: String::new() }
    }

    pub(super) fn not_keras(reason: impl Into<String>) -> Self {
        Self { kind: FaultKind::NotKeras(reason.into()), offset: 0, object: String::new() }
    }

    pub(super) fn tensor(source: candle_core::Error) -> Self {
        Self { kind: FaultKind::Tensor(Box::new(source)), offset: 0, object: String::new() }
    }

    /// Names the object the fault happened in, unless a more precise one is already named.
    pub(super) fn within(mut self, object: &str) -> Self {
        if self.object.is_empty() {
            self.object = object.to_owned();
        }
        self
    }

    pub(super) fn into_error(self, path: &Path) -> KerasHdf5Error {
        let path = path.to_path_buf();
        let object = if self.object.is_empty() { "the file".to_owned() } else { self.object };
        let offset = self.offset;
        match self.kind {
            FaultKind::Malformed(reason) => KerasHdf5Error::Malformed { path, object, offset, reason },
            FaultKind::Unsupported(feature) => KerasHdf5Error::Unsupported { path, object, offset, feature },
            FaultKind::NotKeras(reason) => KerasHdf5Error::NotKeras { path, object, reason },
            FaultKind::Tensor(source) => KerasHdf5Error::Tensor { path, object, source },
        }
    }
}
