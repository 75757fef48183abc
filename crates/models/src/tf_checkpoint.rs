//! A reader for TensorFlow 1.x checkpoints (the "tensor bundle" format of `tf.train.Saver` V2),
//! yielding candle tensors.
//!
//! A checkpoint prefix `P` has an index `P.index` (a LevelDB table mapping tensor names to
//! `BundleEntryProto`s) and data shards `P.data-0000i-of-0000N` holding each tensor's raw bytes
//! at `[offset, offset + size)`.
//! musicnn ships its checkpoints with an empty prefix, i.e. files literally named `.index` and
//! `.data-00000-of-00001` inside a folder.
//!
//! Parsing is a pure function ([`parse_index`]) that checks every block CRC, and reading a tensor
//! checks its offset/size against the data file's length before allocating and verifies its
//! CRC-32C. Partitioned (sliced) variables and string tensors are not supported.
//!
//! ```no_run
//! # use std::path::Path;
//! use jukemir_models::tf_checkpoint::TfCheckpoint;
//! let ckpt = TfCheckpoint::open(Path::new("musicnn/MSD_musicnn"))?;
//! let kernel = ckpt.tensor("conv2d/kernel", &candle_core::Device::Cpu)?; // [7, 38, 1, 204]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dtype;
mod error;
mod index;
mod sstable;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

pub use dtype::TfDType;
pub use error::TfCheckpointError;
pub use index::{parse_index, BundleHeader, BundleIndex, Endianness, TensorInfo};
pub use sstable::{crc32c, crc32c_extend, mask_crc};

/// An opened checkpoint: its parsed index and where its data shards live.
#[derive(Clone, Debug)]
pub struct TfCheckpoint {
    prefix: PathBuf,
    index_path: PathBuf,
    index: BundleIndex,
}

/// `prefix` + `suffix` as strings (a prefix is not a directory: `dir/model.ckpt` + `.index`).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The value of `model_checkpoint_path` in a TF `checkpoint` state file (text protobuf).
fn model_checkpoint_path(text: &str) -> Option<String> {
    let line = text.lines().find_map(|l| l.trim().strip_prefix("model_checkpoint_path:"))?;
    let quoted = line.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(out)
}

/// Finds the checkpoint prefix for a prefix, an `.index` file or a directory.
fn resolve_prefix(path: &Path) -> Result<PathBuf, TfCheckpointError> {
    let not_found = |reason: String| TfCheckpointError::NotFound { path: path.to_path_buf(), reason };
    if !path.is_dir() {
        if let Some(prefix) = path.to_str().and_then(|s| s.strip_suffix(".index")) {
            if path.is_file() {
                return Ok(PathBuf::from(prefix));
            }
        }
        let index = with_suffix(path, ".index");
        return if index.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(not_found(format!("{} does not exist", index.display())))
        };
    }
    let mut candidates = Vec::new();
    if let Ok(text) = std::fs::read_to_string(path.join("checkpoint")) {
        if let Some(recorded) = model_checkpoint_path(&text) {
            // The recorded path is often absolute on the training machine; fall back to its last
            // component inside this folder (empty for musicnn's trailing-slash paths).
            candidates.push(path.join(&recorded));
            let base = recorded.rsplit(['/', '\\']).next().unwrap_or_default();
            candidates.push(path.join(base));
        }
    }
    candidates.push(path.join(""));
    if let Some(found) = candidates.into_iter().find(|p| with_suffix(p, ".index").is_file()) {
        return Ok(found);
    }
    let read_dir = std::fs::read_dir(path).map_err(|source| TfCheckpointError::Io { path: path.into(), source })?;
    let mut indexes: Vec<PathBuf> = read_dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.to_str().is_some_and(|s| s.ends_with(".index")))
        .collect();
    indexes.sort();
    match indexes.as_slice() {
        [one] => Ok(PathBuf::from(one.to_str().and_then(|s| s.strip_suffix(".index")).unwrap_or_default())),
        [] => Err(not_found("the folder holds no `*.index` file".into())),
        many => {
            let names: Vec<_> = many.iter().filter_map(|p| p.file_name()?.to_str()).collect();
            Err(not_found(format!("several checkpoints and no usable `checkpoint` file: {}", names.join(", "))))
        }
    }
}

/// True for TF1 optimizer bookkeeping rather than model weights: Adam/Momentum/RMSProp/Adagrad
/// slot variables (`<var>/Adam`, `<var>/Adam_1`, ...) and Adam's `beta1_power`/`beta2_power`.
pub fn is_optimizer_slot(name: &str) -> bool {
    const SLOTS: [&str; 8] = ["Adam", "Adam_1", "Momentum", "RMSProp", "RMSProp_1", "Adagrad", "Ftrl", "Ftrl_1"];
    let last = name.rsplit('/').next().unwrap_or(name);
    (name.contains('/') && SLOTS.contains(&last)) || matches!(name, "beta1_power" | "beta2_power")
}

impl TfCheckpoint {
    /// Opens a checkpoint given its prefix (`dir/model.ckpt-1000`), its `.index` file, or a
    /// directory (using the `checkpoint` state file's `model_checkpoint_path` when it resolves,
    /// else `<dir>/.index`, else the folder's single `*.index`). Only the index is read; entries
    /// are checked against the lengths of the data shards that exist.
    pub fn open(prefix_or_dir: &Path) -> Result<Self, TfCheckpointError> {
        let prefix = resolve_prefix(prefix_or_dir)?;
        let index_path = with_suffix(&prefix, ".index");
        let bytes = std::fs::read(&index_path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => {
                TfCheckpointError::NotFound { path: index_path.clone(), reason: "no such file".into() }
            }
            _ => TfCheckpointError::Io { path: index_path.clone(), source },
        })?;
        let index = parse_index(&bytes, &index_path)?;
        let ckpt = TfCheckpoint { prefix, index_path, index };
        ckpt.check_data_lengths()?;
        Ok(ckpt)
    }

    fn check_data_lengths(&self) -> Result<(), TfCheckpointError> {
        let mut lengths: HashMap<u32, Option<u64>> = HashMap::new();
        for (name, info) in &self.index.entries {
            let len = *lengths
                .entry(info.shard_id)
                .or_insert_with(|| std::fs::metadata(self.data_path(info.shard_id)).ok().map(|m| m.len()));
            if let Some(len) = len {
                self.check_bounds(name, info, len)?;
            }
        }
        Ok(())
    }

    fn check_bounds(&self, name: &str, info: &TensorInfo, file_len: u64) -> Result<(), TfCheckpointError> {
        if info.num_slices == 0 && info.offset.checked_add(info.size).is_none_or(|end| end > file_len) {
            return Err(TfCheckpointError::CorruptEntry {
                path: self.data_path(info.shard_id),
                name: name.into(),
                reason: format!(
                    "entry [{}, {}) lies past the end of the data file ({file_len} bytes)",
                    info.offset,
                    info.offset.saturating_add(info.size)
                ),
            });
        }
        Ok(())
    }

    /// The checkpoint prefix (`<dir>/` for musicnn's empty-prefix checkpoints).
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// The `.index` file that was parsed.
    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    /// The bundle header (shard count, endianness, version).
    pub fn header(&self) -> &BundleHeader {
        &self.index.header
    }

    /// The path of data shard `shard_id`: `<prefix>.data-0000i-of-0000n`.
    pub fn data_path(&self, shard_id: u32) -> PathBuf {
        with_suffix(&self.prefix, &format!(".data-{shard_id:05}-of-{:05}", self.index.header.num_shards))
    }

    /// All tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.entries.keys().map(String::as_str)
    }

    /// All entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &TensorInfo)> {
        self.index.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The names of model weights: everything except optimizer slots ([`is_optimizer_slot`]).
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.names().filter(|n| !is_optimizer_slot(n))
    }

    /// The dtype, shape and location of tensor `name`.
    pub fn entry(&self, name: &str) -> Option<&TensorInfo> {
        self.index.entries.get(name)
    }

    /// Reads tensor `name`'s bytes (in native byte order), after checking its entry against the
    /// data file and verifying its CRC-32C.
    pub fn tensor_bytes(&self, name: &str) -> Result<Vec<u8>, TfCheckpointError> {
        let info = self
            .entry(name)
            .ok_or_else(|| TfCheckpointError::MissingTensor { path: self.index_path.clone(), name: name.into() })?;
        if info.num_slices > 0 {
            let (path, name, slices) = (self.index_path.clone(), name.into(), info.num_slices);
            return Err(TfCheckpointError::SlicedTensor { path, name, slices });
        }
        let unsupported = || TfCheckpointError::UnsupportedDtype {
            path: self.index_path.clone(),
            name: name.into(),
            dtype: info.dtype,
        };
        let unit = info.dtype.swap_unit().ok_or_else(unsupported)?;
        let path = self.data_path(info.shard_id);
        let corrupt =
            |reason: String| TfCheckpointError::CorruptEntry { path: path.clone(), name: name.into(), reason };
        let io = |source| TfCheckpointError::Io { path: path.clone(), source };
        let mut file = File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                TfCheckpointError::DataFileMissing { path: path.clone(), name: name.into() }
            }
            _ => io(e),
        })?;
        let file_len = file.metadata().map_err(io)?.len();
        self.check_bounds(name, info, file_len)?;
        if info.expected_size() != Some(info.size) {
            return Err(corrupt(format!("size {} does not match shape {:?} of {}", info.size, info.shape, info.dtype)));
        }
        let size = usize::try_from(info.size).map_err(|_| corrupt(format!("size {} overflows", info.size)))?;
        let mut buf = vec![0u8; size];
        file.seek(SeekFrom::Start(info.offset)).map_err(io)?;
        file.read_exact(&mut buf).map_err(io)?;
        let computed = mask_crc(crc32c(&buf));
        if computed != info.crc32c {
            let (path, name, stored) = (path.clone(), name.into(), info.crc32c);
            return Err(TfCheckpointError::DataCrc { path, name, stored, computed });
        }
        let native = if cfg!(target_endian = "little") { Endianness::Little } else { Endianness::Big };
        if self.index.header.endianness != native && unit > 1 {
            buf.chunks_exact_mut(unit).for_each(<[u8]>::reverse);
        }
        Ok(buf)
    }

    /// Reads tensor `name` onto `device` with its stored shape and the matching candle dtype
    /// (`DT_FLOAT` → F32, `DT_HALF` → F16, `DT_INT64` → I64, `DT_BOOL` → U8, ...).
    pub fn tensor(&self, name: &str, device: &Device) -> Result<Tensor, TfCheckpointError> {
        let info = self
            .entry(name)
            .ok_or_else(|| TfCheckpointError::MissingTensor { path: self.index_path.clone(), name: name.into() })?;
        let dtype = info.dtype.to_candle().ok_or_else(|| TfCheckpointError::UnsupportedDtype {
            path: self.index_path.clone(),
            name: name.into(),
            dtype: info.dtype,
        })?;
        let bytes = self.tensor_bytes(name)?;
        Tensor::from_raw_buffer(&bytes, dtype, &info.shape, device).map_err(|source| TfCheckpointError::Candle {
            path: self.data_path(info.shard_id),
            name: name.into(),
            source: Box::new(source),
        })
    }

    /// Reads every tensor whose name starts with `prefix` (e.g. `"conv2d_1/"`), keyed by full name.
    pub fn tensors_with_prefix(
        &self,
        prefix: &str,
        device: &Device,
    ) -> Result<HashMap<String, Tensor>, TfCheckpointError> {
        let names = self.names().filter(|n| n.starts_with(prefix));
        names.map(|n| Ok((n.to_string(), self.tensor(n, device)?))).collect()
    }

    /// Reads all model weights (every tensor except optimizer slots), keyed by name: ready for
    /// `candle_nn::VarBuilder::from_tensors`.
    pub fn variables(&self, device: &Device) -> Result<HashMap<String, Tensor>, TfCheckpointError> {
        self.variable_names().map(|n| Ok((n.to_string(), self.tensor(n, device)?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_state_file() {
        let text = "model_checkpoint_path: \"/home/x/run_17/\"\nall_model_checkpoint_paths: \"/home/x/run_17/\"\n";
        assert_eq!(model_checkpoint_path(text).as_deref(), Some("/home/x/run_17/"));
        assert_eq!(model_checkpoint_path("model_checkpoint_path: \"a\\\"b\"").as_deref(), Some("a\"b"));
        assert_eq!(model_checkpoint_path("nothing"), None);
    }

    #[test]
    fn optimizer_slots() {
        assert!(is_optimizer_slot("conv2d/kernel/Adam"));
        assert!(is_optimizer_slot("conv2d/kernel/Adam_1"));
        assert!(is_optimizer_slot("beta1_power"));
        assert!(!is_optimizer_slot("conv2d/kernel"));
        assert!(!is_optimizer_slot("Adam"));
        assert!(!is_optimizer_slot("batch_normalization/beta"));
    }

    #[test]
    fn suffix_keeps_empty_prefix() {
        assert_eq!(with_suffix(&Path::new("dir").join(""), ".index"), Path::new("dir/.index"));
        assert_eq!(with_suffix(Path::new("d/model.ckpt-5"), ".index"), Path::new("d/model.ckpt-5.index"));
    }
}
