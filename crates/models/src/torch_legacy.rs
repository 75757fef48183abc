//! A pure-Rust reader for PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, the format of
//! OpenAI Jukebox's published checkpoints (`vqvae.pth.tar`, `prior_level_2.pth.tar`, 10–20 GB).
//!
//! The layout (torch/serialization.py `_legacy_save` / `_legacy_load`, unchanged from torch 0.4
//! to 2.x):
//! 1. a pickle of the magic number `0x1950a86a20f9469cfc6c`, one of the protocol version 1001
//!    and one of a `sys_info` dict (byte order, C type sizes);
//! 2. the object pickle, where a tensor is `torch._utils._rebuild_tensor_v2(storage, offset,
//!    size, stride, requires_grad, hooks)` (`_rebuild_tensor` in old files) and a storage is the
//!    persistent id `('storage', torch.<T>Storage, key, location, numel, view_metadata)`;
//! 3. a pickle of the list of storage keys, in the order their data follows;
//! 4. per key, an int64 element count and the storage's raw little-endian bytes.
//!
//! [`LegacyCheckpoint::open`] runs the pickles and walks the data section reading only the 8-byte
//! counts (seeking over the data), so opening a 20 GB checkpoint reads a few hundred kilobytes;
//! each `read_*` then seeks to one tensor and reads only its bytes. Pickles are executed by a
//! small VM of our own ([`pickle`]) that records calls instead of performing them.
//!
//! Hostile input is expected: every count, length and offset is checked against the file's size
//! before anything is allocated or sought, the pickle VM bounds its work and memory and never
//! recurses, and every failure is a [`LegacyError`] naming the file. [`LegacyCheckpoint::from_bytes`]
//! is the same parser over memory, for tests that feed it truncated or corrupted files.
//!
//! ```no_run
//! # use std::path::Path;
//! use jukemir_models::torch_legacy::{LegacyCheckpoint, StorageDtype};
//! let ckpt = LegacyCheckpoint::open(Path::new("vqvae.pth.tar"))?;
//! let info = ckpt.info("encoders.0.level_blocks.0.model.0.0.weight").unwrap();
//! if info.dtype == StorageDtype::F16 {
//!     let w = ckpt.read_f16("encoders.0.level_blocks.0.model.0.0.weight")?;
//! }
//! # Ok::<(), jukemir_models::torch_legacy::LegacyError>(())
//! ```

pub(crate) mod pickle;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pickle::{bad, Fault, Id, Input, Pickle, Value};

/// The magic number `torch.save` writes first in the legacy format.
const MAGIC_NUMBER: i128 = 0x1950a86a20f9469cfc6c;
/// The legacy format's protocol version.
const PROTOCOL_VERSION: i128 = 1001;
/// Most dimensions accepted for a tensor.
const MAX_DIMS: usize = 64;
/// Longest tensor name or storage key accepted, in bytes.
const MAX_NAME: usize = 4096;

/// Why a legacy checkpoint could not be opened or a tensor not read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    /// The operating system refused a read (missing file, permissions, file shrunk since opening).
    #[error("{}: I/O error: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed legacy `torch.save` file, or use something this reader does
    /// not implement; `reason` says what and, where it helps, at which byte.
    #[error("{}: not a readable legacy PyTorch checkpoint: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    /// The state dict holds no tensor of that name.
    #[error("{}: no tensor named `{name}` in the checkpoint's state dict", path.display())]
    MissingTensor { path: PathBuf, name: String },
    /// The tensor's element type cannot be read as asked.
    #[error("{}: tensor `{name}` is stored as {dtype}, which cannot be read as {wanted}", path.display())]
    WrongDtype { path: PathBuf, name: String, dtype: StorageDtype, wanted: &'static str },
    /// The tensor cannot be materialised (larger than the whole file, e.g. a hostile expanded view).
    #[error("{}: tensor `{name}`: {reason}", path.display())]
    BadTensor { path: PathBuf, name: String, reason: String },
}

impl Fault {
    fn at(self, path: &Path) -> LegacyError {
        let path = path.to_path_buf();
        match self {
            Fault::Io(source) => LegacyError::Io { path, source },
            Fault::Bad(reason) => LegacyError::Malformed { path, reason },
        }
    }
}

/// The element type of a storage (`torch.<T>Storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageDtype {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
    ComplexF64,
    ComplexF32,
}

impl StorageDtype {
    /// From the storage class name (`FloatStorage`...).
    pub fn from_storage_class(name: &str) -> Option<Self> {
        Some(match name {
            "DoubleStorage" => Self::F64,
            "FloatStorage" => Self::F32,
            "HalfStorage" => Self::F16,
            "BFloat16Storage" => Self::BF16,
            "LongStorage" => Self::I64,
            "IntStorage" => Self::I32,
            "ShortStorage" => Self::I16,
            "CharStorage" => Self::I8,
            "ByteStorage" | "UntypedStorage" => Self::U8,
            "BoolStorage" => Self::Bool,
            "ComplexDoubleStorage" => Self::ComplexF64,
            "ComplexFloatStorage" => Self::ComplexF32,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::ComplexF64 => 16,
            Self::F64 | Self::I64 | Self::ComplexF32 => 8,
            Self::F32 | Self::I32 => 4,
            Self::F16 | Self::BF16 | Self::I16 => 2,
            Self::I8 | Self::U8 | Self::Bool => 1,
        }
    }

    /// torch's name for it (`float32`...).
    pub fn torch_name(self) -> &'static str {
        match self {
            Self::F64 => "float64",
            Self::F32 => "float32",
            Self::F16 => "float16",
            Self::BF16 => "bfloat16",
            Self::I64 => "int64",
            Self::I32 => "int32",
            Self::I16 => "int16",
            Self::I8 => "int8",
            Self::U8 => "uint8",
            Self::Bool => "bool",
            Self::ComplexF64 => "complex128",
            Self::ComplexF32 => "complex64",
        }
    }
}

impl fmt::Display for StorageDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.torch_name())
    }
}

/// Where a state-dict tensor lives in the file. Validated when the file is opened: its elements
/// lie inside its storage, and its storage's bytes inside the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub dtype: StorageDtype,
    pub shape: Vec<usize>,
    /// In elements, as torch's `stride()`.
    pub strides: Vec<usize>,
    /// Of the first element, in elements from the start of the (root) storage; the storage views
    /// of files from torch ≤ 0.3 are folded in.
    pub storage_offset: u64,
    /// The key of the storage (shared by the tensors that view the same memory).
    pub storage_key: String,
    /// Elements in the storage.
    pub storage_numel: u64,
    /// Absolute byte offset of the storage's first element in the file.
    pub data_offset: u64,
}

impl TensorInfo {
    /// Number of elements (1 for a 0-d tensor).
    pub fn numel(&self) -> usize {
        self.shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))
    }

    /// Row-major contiguous, as torch's `is_contiguous()` (strides of size-1 dims do not matter).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1usize;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected = expected.saturating_mul(d);
        }
        true
    }

    /// The range of storage elements the tensor touches, `None` when it is empty.
    fn span(&self) -> Option<(u64, u64)> {
        if self.shape.contains(&0) {
            return None;
        }
        let last = self
            .shape
            .iter()
            .zip(&self.strides)
            .fold(0u64, |acc, (&d, &s)| acc.saturating_add((d as u64 - 1).saturating_mul(s as u64)));
        Some((self.storage_offset, self.storage_offset.saturating_add(last)))
    }
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Memory(Arc<[u8]>),
}

/// An opened legacy checkpoint: the index of its state dict's tensors. Cheap to keep: tensor data
/// is read on demand, by seeking, from the file (re-opened per read, so reads may run in parallel).
#[derive(Debug, Clone)]
pub struct LegacyCheckpoint {
    source: Source,
    /// The path, or the label given to [`LegacyCheckpoint::from_bytes`], for messages.
    path: PathBuf,
    file_len: u64,
    top_level_keys: Vec<String>,
    tensors: Vec<(String, TensorInfo)>,
    index: HashMap<String, usize>,
}

impl LegacyCheckpoint {
    /// Reads the pickles and indexes every storage's data offset (seeking over the data, reading
    /// only the 8-byte counts), without reading tensor data.
    pub fn open(path: &Path) -> Result<Self, LegacyError> {
        let file = File::open(path).map_err(|source| LegacyError::Io { path: path.to_path_buf(), source })?;
        Self::parse(file, Source::File(path.to_path_buf()), path)
    }

    /// The same parser over a file held in memory; `label` stands for the path in messages.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>, label: &str) -> Result<Self, LegacyError> {
        let bytes: Arc<[u8]> = bytes.into();
        Self::parse(Cursor::new(Arc::clone(&bytes)), Source::Memory(bytes), Path::new(label))
    }

    fn parse<R: Read + Seek>(reader: R, source: Source, path: &Path) -> Result<Self, LegacyError> {
        let (file_len, top_level_keys, list) = index(reader).map_err(|f| f.at(path))?;
        let mut tensors: Vec<(String, TensorInfo)> = Vec::with_capacity(list.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(list.len());
        for (name, info) in list {
            // Jukebox's restore_model: {k[7:] if k[:7] == 'module.' else k: v} (the last one wins).
            let name = name.strip_prefix("module.").map(str::to_string).unwrap_or(name);
            match index.get(&name) {
                Some(&i) => {
                    if let Some(slot) = tensors.get_mut(i) {
                        slot.1 = info;
                    }
                }
                None => {
                    index.insert(name.clone(), tensors.len());
                    tensors.push((name, info));
                }
            }
        }
        Ok(LegacyCheckpoint { source, path: path.to_path_buf(), file_len, top_level_keys, tensors, index })
    }

    /// The file's path (or the label of an in-memory file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys of the top-level dict (`hps`, `model`, `step`... for Jukebox), in file order;
    /// non-string keys are left out.
    pub fn top_level_keys(&self) -> &[String] {
        &self.top_level_keys
    }

    /// The tensors of the state dict, in file order: the dict under `model` (OpenAI) or
    /// `state_dict` (Lightning) if the top-level dict holds one, else the top-level dict itself.
    /// A leading `module.` is stripped from names (as Jukebox's `restore_model`); entries that are
    /// not tensors are left out.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &TensorInfo)> {
        self.tensors.iter().map(|(n, i)| (n.as_str(), i))
    }

    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.index.get(name).and_then(|&i| self.tensors.get(i)).map(|(_, info)| info)
    }

    fn lookup(&self, name: &str) -> Result<&TensorInfo, LegacyError> {
        self.info(name).ok_or_else(|| LegacyError::MissingTensor { path: self.path.clone(), name: name.to_string() })
    }

    fn wrong(&self, name: &str, dtype: StorageDtype, wanted: &'static str) -> LegacyError {
        LegacyError::WrongDtype { path: self.path.clone(), name: name.to_string(), dtype, wanted }
    }

    /// The tensor's elements in row-major order, each as its little-endian bytes (any dtype);
    /// reads only the storage bytes the tensor spans.
    pub fn read_bytes(&self, name: &str) -> Result<Vec<u8>, LegacyError> {
        let info = self.lookup(name)?;
        let bad = |reason: String| LegacyError::BadTensor { path: self.path.clone(), name: name.to_string(), reason };
        let es = info.dtype.size();
        let out_len = info
            .shape
            .iter()
            .try_fold(es as u64, |n, &d| n.checked_mul(d as u64))
            .filter(|&n| n <= self.file_len)
            .ok_or_else(|| bad(format!("shape {:?} holds more bytes than the whole file", info.shape)))?;
        let Some((lo, hi)) = info.span() else { return Ok(Vec::new()) };
        // Validated at open: the span lies inside the storage, and the storage inside the file.
        let span_len = (hi - lo + 1).saturating_mul(es as u64);
        let start = info.data_offset.saturating_add(lo.saturating_mul(es as u64));
        let span = self.read_at(start, span_len)?;
        if info.is_contiguous() && span.len() as u64 == out_len {
            return Ok(span);
        }
        let out_len = usize::try_from(out_len).map_err(|_| bad("too large for this machine".into()))?;
        let mut out = Vec::with_capacity(out_len);
        let ndim = info.shape.len();
        let mut idx = vec![0usize; ndim];
        let mut off = 0usize; // in elements, from `lo`
        loop {
            let b = off * es;
            let elem = span.get(b..b + es).ok_or_else(|| bad("element outside its storage".into()))?;
            out.extend_from_slice(elem);
            // Odometer over the dims, last fastest; `off` never exceeds the span (strides of
            // size-1 dims, which may be anything, are never added).
            let mut d = ndim;
            loop {
                if d == 0 {
                    return Ok(out);
                }
                d -= 1;
                if idx[d] + 1 < info.shape[d] {
                    idx[d] += 1;
                    off += info.strides[d];
                    break;
                }
                off -= info.strides[d] * idx[d];
                idx[d] = 0;
            }
        }
    }

    fn read_at(&self, start: u64, len: u64) -> Result<Vec<u8>, LegacyError> {
        let io = |source| LegacyError::Io { path: self.path.clone(), source };
        let too_far = || LegacyError::Malformed {
            path: self.path.clone(),
            reason: format!("bytes {start}..{start}+{len} lie past the end of the file"),
        };
        let end = start.checked_add(len).filter(|&e| e <= self.file_len).ok_or_else(too_far)?;
        match &self.source {
            Source::Memory(bytes) => {
                let (s, e) =
                    (usize::try_from(start).map_err(|_| too_far())?, usize::try_from(end).map_err(|_| too_far())?);
                bytes.get(s..e).map(<[u8]>::to_vec).ok_or_else(too_far)
            }
            Source::File(path) => {
                let mut file = File::open(path).map_err(io)?;
                file.seek(SeekFrom::Start(start)).map_err(io)?;
                let mut buf = vec![0u8; usize::try_from(len).map_err(|_| too_far())?];
                file.read_exact(&mut buf).map_err(io)?;
                Ok(buf)
            }
        }
    }

    /// One tensor's values as `f32` (from float16, bfloat16, float32 or float64 storage), in
    /// row-major order, honouring the storage offset and strides.
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>, LegacyError> {
        let dtype = self.lookup(name)?.dtype;
        let bytes = self.read_bytes(name)?;
        Ok(match dtype {
            StorageDtype::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            StorageDtype::F16 => {
                bytes.chunks_exact(2).map(|c| half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32()).collect()
            }
            StorageDtype::BF16 => bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_bits(u16::from_le_bytes([c[0], c[1]])).to_f32())
                .collect(),
            StorageDtype::F64 => bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect(),
            other => return Err(self.wrong(name, other, "f32")),
        })
    }

    /// One float16 tensor's values, unconverted (half the memory of [`Self::read_f32`]).
    pub fn read_f16(&self, name: &str) -> Result<Vec<half::f16>, LegacyError> {
        let dtype = self.lookup(name)?.dtype;
        if dtype != StorageDtype::F16 {
            return Err(self.wrong(name, dtype, "f16"));
        }
        let bytes = self.read_bytes(name)?;
        Ok(bytes.chunks_exact(2).map(|c| half::f16::from_bits(u16::from_le_bytes([c[0], c[1]]))).collect())
    }

    /// One integer (or bool) tensor's values as `i64`.
    pub fn read_i64(&self, name: &str) -> Result<Vec<i64>, LegacyError> {
        let dtype = self.lookup(name)?.dtype;
        let bytes = self.read_bytes(name)?;
        Ok(match dtype {
            StorageDtype::I64 => {
                bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
            }
            StorageDtype::I32 => {
                bytes.chunks_exact(4).map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            StorageDtype::I16 => bytes.chunks_exact(2).map(|c| i64::from(i16::from_le_bytes([c[0], c[1]]))).collect(),
            StorageDtype::I8 => bytes.iter().map(|&b| i64::from(b as i8)).collect(),
            StorageDtype::U8 | StorageDtype::Bool => bytes.iter().map(|&b| i64::from(b)).collect(),
            other => return Err(self.wrong(name, other, "i64")),
        })
    }
}

/// A storage as the object pickle declares it.
#[derive(Debug, Clone)]
struct StorageDecl {
    dtype: StorageDtype,
    numel: u64,
    /// Filled from the data section.
    data_offset: Option<u64>,
}

/// What a storage persistent id resolves to: the root storage, and for a view (torch ≤ 0.3) its
/// offset and length in elements.
#[derive(Debug, Clone)]
struct StorageRef {
    key: String,
    view: Option<(u64, u64)>,
}

fn to_u64(v: Option<i128>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// Runs the file's five parts; returns its length, the top-level keys and the state-dict tensors.
#[allow(clippy::type_complexity)]
fn index<R: Read + Seek>(reader: R) -> Result<(u64, Vec<String>, Vec<(String, TensorInfo)>), Fault> {
    let mut reader = reader;
    if looks_like_tar(&mut reader)? {
        return Err(bad!(
            "a tar archive (the serialization of torch < 0.4) is not supported; re-save it with a newer torch"
        ));
    }
    let mut input = Input::new(reader)?;
    let magic = pickle::load(&mut input).map_err(|f| match f {
        Fault::Bad(reason) => bad!("no magic number pickle at the start ({reason})"),
        other => other,
    })?;
    if magic.int(magic.root) != Some(MAGIC_NUMBER) {
        return Err(bad!(
            "the first pickle is {}, not the magic number of torch's legacy format",
            magic.describe(magic.root)
        ));
    }
    let version = pickle::load(&mut input)?;
    if version.int(version.root) != Some(PROTOCOL_VERSION) {
        return Err(bad!("protocol version {} (expected {PROTOCOL_VERSION})", version.describe(version.root)));
    }
    let sys_info = pickle::load(&mut input)?;
    if let Some(entries) = sys_info.dict(sys_info.root) {
        for &(k, v) in entries {
            if sys_info.text_is(k, "little_endian") && sys_info.get(v) == &Value::Bool(false) {
                return Err(bad!("the file was written on a big-endian machine, which is not supported"));
            }
        }
    }
    let objects_at = input.pos();
    let objects = pickle::load(&mut input).map_err(|f| match f {
        Fault::Bad(reason) => bad!("object pickle (from byte {objects_at}): {reason}"),
        other => other,
    })?;
    // Names are copied out of the pickle; memo references could make a small pickle copy one long
    // string many times, so the copies may total a few times the pickle's size at most.
    let mut budget = Budget(4 * (input.pos() - objects_at) + (1 << 20));
    let (mut storages, refs) = storages(&objects, &mut budget)?;
    let (top_level_keys, entries) = state_dict(&objects, &mut budget)?;

    // Storage keys, then per key a count and the data.
    let keys_at = input.pos();
    let keys = pickle::load(&mut input).map_err(|f| match f {
        Fault::Bad(reason) => bad!("storage key list (from byte {keys_at}): {reason}"),
        other => other,
    })?;
    let key_ids = keys.seq(keys.root).ok_or_else(|| bad!("the storage key list is {}", keys.describe(keys.root)))?;
    let mut input = input.unbuffered()?;
    for &k in key_ids {
        let key = key_text(&keys, k, &mut budget)?.ok_or_else(|| bad!("a storage key is {}", keys.describe(k)))?;
        let decl = storages
            .get_mut(&key)
            .ok_or_else(|| bad!("storage {key:?} has data but the object pickle does not declare it"))?;
        if decl.data_offset.is_some() {
            return Err(bad!("storage {key:?} is listed twice"));
        }
        let at = input.pos();
        let count = i64::from_le_bytes(input.array::<8>("a storage's element count")?);
        if u64::try_from(count).ok() != Some(decl.numel) {
            return Err(bad!("storage {key:?} at byte {at}: {count} elements, but the pickle says {}", decl.numel));
        }
        let bytes =
            decl.numel.checked_mul(decl.dtype.size() as u64).ok_or_else(|| bad!("storage {key:?} is too large"))?;
        decl.data_offset = Some(input.pos());
        input.skip(bytes, &format!("the data of storage {key:?} ({} × {})", decl.numel, decl.dtype))?;
    }

    let mut tensors = Vec::with_capacity(entries.len());
    for (name, id) in entries {
        let Some((decl_ref, mut info)) = tensor(&objects, &refs, id).map_err(|f| match f {
            Fault::Bad(reason) => bad!("tensor `{name}`: {reason}"),
            other => other,
        })?
        else {
            continue; // not a tensor
        };
        let problem = |reason: String| bad!("tensor `{name}`: {reason}");
        let decl = storages.get(&decl_ref.key).ok_or_else(|| problem(format!("unknown storage {:?}", decl_ref.key)))?;
        info.dtype = decl.dtype;
        info.storage_numel = decl.numel;
        info.data_offset =
            decl.data_offset.ok_or_else(|| problem(format!("storage {:?} has no data in the file", decl_ref.key)))?;
        info.storage_key = decl_ref.key.clone();
        // The tensor's elements must lie inside its storage (or view).
        let (view_offset, limit) = match decl_ref.view {
            Some((offset, len)) => {
                if offset.checked_add(len).is_none_or(|end| end > decl.numel) {
                    return Err(problem(format!(
                        "storage view {offset}+{len} exceeds its storage of {} elements",
                        decl.numel
                    )));
                }
                (offset, len)
            }
            None => (0, decl.numel),
        };
        let numel = info.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64));
        if numel.is_none() {
            return Err(problem(format!("shape {:?} overflows", info.shape)));
        }
        if let Some((lo, hi)) = info.span() {
            // `span` saturates, so an overflow shows up as a huge `hi`.
            if hi >= limit {
                return Err(problem(format!(
                    "offset {lo}, shape {:?} and strides {:?} reach element {hi} of a storage of {limit}",
                    info.shape, info.strides
                )));
            }
        }
        info.storage_offset = info.storage_offset.saturating_add(view_offset);
        tensors.push((name, info));
    }
    Ok((input.len(), top_level_keys, tensors))
}

/// The `ustar` magic of a tar header at byte 257 (torch < 0.4 saved tar archives).
fn looks_like_tar<R: Read + Seek>(reader: &mut R) -> std::io::Result<bool> {
    let len = reader.seek(SeekFrom::End(0))?;
    if len < 262 {
        return Ok(false);
    }
    reader.seek(SeekFrom::Start(257))?;
    let mut magic = [0u8; 5];
    reader.read_exact(&mut magic)?;
    Ok(&magic == b"ustar")
}

/// A bound on the bytes of names copied out of a pickle.
struct Budget(u64);

/// A name or key: a string (or bytes, or an int, as decimal text) of at most [`MAX_NAME`] bytes;
/// `Ok(None)` for other values.
fn key_text(p: &Pickle, id: Id, budget: &mut Budget) -> Result<Option<String>, Fault> {
    if let Some(len) = p.text_len(id) {
        if len > MAX_NAME {
            return Err(bad!("a name or key of {len} bytes (more than {MAX_NAME})"));
        }
        budget.0 = budget.0.checked_sub(len as u64).ok_or_else(|| bad!("the pickle repeats its strings too often"))?;
    }
    Ok(p.text(id).or_else(|| p.int(id).map(|i| i.to_string())))
}

/// Every storage the object pickle declares, by root key, and what each persistent id refers to.
#[allow(clippy::type_complexity)]
fn storages(p: &Pickle, budget: &mut Budget) -> Result<(HashMap<String, StorageDecl>, HashMap<Id, StorageRef>), Fault> {
    let mut decls: HashMap<String, StorageDecl> = HashMap::new();
    let mut refs = HashMap::new();
    for &pid_obj in &p.persistent {
        let Value::Persistent(pid) = p.get(pid_obj) else { continue };
        let Some(items) = p.seq(*pid) else {
            return Err(bad!("a persistent id is {}, not a tuple", p.describe(*pid)));
        };
        match items.first() {
            Some(&t) if p.text_is(t, "storage") => {}
            Some(&t) if p.text_is(t, "module") => continue, // a saved module class: not data
            _ => {
                return Err(bad!(
                    "unknown persistent id kind {}",
                    items.first().map_or("()".into(), |&t| p.describe(t))
                ))
            }
        }
        let [_, class, key, _location, numel, view] = items else {
            return Err(bad!("a storage persistent id has {} fields, not 6", items.len()));
        };
        let (_, class_name) = p.global(*class).ok_or_else(|| bad!("a storage type is {}", p.describe(*class)))?;
        let dtype = StorageDtype::from_storage_class(class_name)
            .ok_or_else(|| bad!("storage type torch.{class_name} is not supported"))?;
        let key = key_text(p, *key, budget)?.ok_or_else(|| bad!("a storage key is {}", p.describe(*key)))?;
        let numel = to_u64(p.int(*numel)).ok_or_else(|| bad!("storage {key:?} has {} elements", p.describe(*numel)))?;
        let view = match p.get(*view) {
            Value::None => None,
            _ => match p.seq(*view) {
                Some(&[_view_key, offset, size]) => {
                    let offset = to_u64(p.int(offset));
                    let size = to_u64(p.int(size));
                    match (offset, size) {
                        (Some(o), Some(s)) => Some((o, s)),
                        _ => return Err(bad!("storage {key:?} has a malformed view")),
                    }
                }
                _ => return Err(bad!("storage {key:?} has view metadata {}", p.describe(*view))),
            },
        };
        match decls.get(&key) {
            Some(d) if d.dtype != dtype || d.numel != numel => {
                return Err(bad!("storage {key:?} is declared as {} × {} and as {numel} × {dtype}", d.numel, d.dtype))
            }
            Some(_) => {}
            None => {
                decls.insert(key.clone(), StorageDecl { dtype, numel, data_offset: None });
            }
        }
        refs.insert(pid_obj, StorageRef { key, view });
    }
    Ok((decls, refs))
}

/// The top-level keys, and the (name, value) entries of the state dict.
#[allow(clippy::type_complexity)]
fn state_dict(p: &Pickle, budget: &mut Budget) -> Result<(Vec<String>, Vec<(String, Id)>), Fault> {
    let top = p.dict(p.root).ok_or_else(|| bad!("the saved object is {}, not a dict", p.describe(p.root)))?;
    let mut keys = Vec::new();
    for &(k, _) in top {
        if p.text_len(k).is_some() {
            keys.extend(key_text(p, k, budget)?);
        }
    }
    let nested = ["model", "state_dict"]
        .iter()
        .find_map(|want| top.iter().rev().find(|&&(k, _)| p.text_is(k, want)).and_then(|&(_, v)| p.dict(v)));
    let mut entries = Vec::new();
    for &(k, v) in nested.unwrap_or(top) {
        if p.text_len(k).is_some() {
            entries.extend(key_text(p, k, budget)?.map(|k| (k, v)));
        }
    }
    Ok((keys, entries))
}

/// Interprets a state-dict value: `Ok(None)` when it is not a tensor. The returned info has the
/// shape, strides and storage offset (relative to the view); the caller fills in the storage.
fn tensor(p: &Pickle, refs: &HashMap<Id, StorageRef>, mut id: Id) -> Result<Option<(StorageRef, TensorInfo)>, Fault> {
    // nn.Parameter wraps a tensor: _rebuild_parameter(data, requires_grad, hooks[, state]).
    for _ in 0..4 {
        let Value::Object { class, args, .. } = p.get(id) else { return Ok(None) };
        let Some((module, name)) = p.global(*class) else { return Ok(None) };
        if !module.starts_with("torch") {
            return Ok(None);
        }
        let args = p.seq(*args).ok_or_else(|| bad!("{name} is called with {}", p.describe(*args)))?;
        match name {
            "_rebuild_parameter" | "_rebuild_parameter_with_state" => {
                id = *args.first().ok_or_else(|| bad!("{name} without arguments"))?;
            }
            "_rebuild_tensor" | "_rebuild_tensor_v2" => {
                if args.len() < 4 {
                    return Err(bad!("{name} with {} arguments", args.len()));
                }
                if let Some(&meta) = args.get(6) {
                    if p.dict(meta).is_some_and(|m| !m.is_empty()) {
                        return Err(bad!("tensor metadata (conjugate/negative bits) is not supported"));
                    }
                }
                let storage = refs.get(&args[0]).ok_or_else(|| bad!("the storage is {}", p.describe(args[0])))?;
                let offset = to_u64(p.int(args[1])).ok_or_else(|| bad!("storage offset {}", p.describe(args[1])))?;
                let shape = dims(p, args[2]).ok_or_else(|| bad!("shape {}", p.describe(args[2])))?;
                let strides = dims(p, args[3]).ok_or_else(|| bad!("strides {}", p.describe(args[3])))?;
                if shape.len() != strides.len() {
                    return Err(bad!("{} dims but {} strides", shape.len(), strides.len()));
                }
                let info = TensorInfo {
                    dtype: StorageDtype::U8,
                    shape,
                    strides,
                    storage_offset: offset,
                    storage_key: String::new(),
                    storage_numel: 0,
                    data_offset: 0,
                };
                return Ok(Some((storage.clone(), info)));
            }
            _ if module == "torch._utils" && name.starts_with("_rebuild") => {
                return Err(bad!("{module}.{name} (a sparse, quantized or other special tensor) is not supported"));
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// A tuple of non-negative ints (also wrapped as `torch.Size(tuple)`), at most [`MAX_DIMS`].
fn dims(p: &Pickle, id: Id) -> Option<Vec<usize>> {
    let id = match p.get(id) {
        Value::Object { class, args, .. } if p.global(*class) == Some(("torch", "Size")) => *p.seq(*args)?.first()?,
        _ => id,
    };
    let items = p.seq(id)?;
    if items.len() > MAX_DIMS {
        return None;
    }
    items.iter().map(|&d| to_u64(p.int(d)).and_then(|d| usize::try_from(d).ok())).collect()
}
