//! The tensor-bundle layer on top of the table: the protobuf messages stored as values, decoded
//! by a minimal hand-written protobuf reader (four small messages do not warrant `prost` and a
//! build step), and [`parse_index`], the pure entry point.
//!
//! Field numbers (tensorflow/core/protobuf/tensor_bundle.proto, framework/tensor_shape.proto,
//! framework/versions.proto):
//! - `BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2; VersionDef version = 3; }`
//! - `BundleEntryProto { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
//!   int64 offset = 4; int64 size = 5; fixed32 crc32c = 6; repeated TensorSliceProto slices = 7; }`
//! - `TensorShapeProto { repeated Dim dim = 2; bool unknown_rank = 3; }`, `Dim { int64 size = 1; string name = 2; }`
//! - `VersionDef { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }`

use std::collections::BTreeMap;
use std::path::Path;

use super::dtype::TfDType;
use super::error::{IndexProblem, TfCheckpointError};
use super::sstable::{read_table, read_varint};

/// The bundle format version this reader implements (TF's `kTensorBundleVersion`).
const BUNDLE_VERSION: i32 = 1;

/// Byte order of the data shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endianness {
    Little,
    Big,
}

/// The bundle header (the value under the empty key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleHeader {
    pub num_shards: u32,
    pub endianness: Endianness,
    pub producer: i32,
    pub min_consumer: i32,
    pub bad_consumers: Vec<i32>,
}

/// Where and how one tensor is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub dtype: TfDType,
    /// Dimensions as stored (TF order, e.g. `[kh, kw, in, out]` for conv kernels); `[]` for scalars.
    pub shape: Vec<usize>,
    pub shard_id: u32,
    pub offset: u64,
    pub size: u64,
    /// Masked CRC-32C of the tensor's bytes.
    pub crc32c: u32,
    /// Number of `TensorSliceProto`s; non-zero for partitioned variables.
    pub num_slices: usize,
}

impl TensorInfo {
    /// Number of elements (1 for scalars; saturating, though parsed entries never overflow).
    pub fn elem_count(&self) -> usize {
        self.shape.iter().fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// `elem_count × element size` for fixed-size dtypes (`None` on overflow or variable size).
    pub fn expected_size(&self) -> Option<u64> {
        let elem = u64::try_from(self.dtype.size_in_bytes()?).ok()?;
        self.shape.iter().try_fold(elem, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
    }
}

/// A parsed `.index` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleIndex {
    pub header: BundleHeader,
    /// Tensor entries by name (sorted).
    pub entries: BTreeMap<String, TensorInfo>,
    /// Entries under encoded slice keys (parts of partitioned variables), not listed in `entries`.
    pub slice_entries: usize,
}

/// One decoded protobuf field value.
#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Fixed64,
    Fixed32(u32),
    Bytes(&'a [u8]),
}

/// Calls `f(field_number, value)` for each field of a serialized message.
fn for_each_field<'a>(
    buf: &'a [u8],
    msg: &str,
    mut f: impl FnMut(u64, Value<'a>) -> Result<(), IndexProblem>,
) -> Result<(), IndexProblem> {
    let bad = |what: &str| IndexProblem::corrupt(format!("malformed {msg} protobuf: {what}"));
    let mut pos = 0;
    while pos < buf.len() {
        let tag = read_varint(buf, &mut pos).ok_or_else(|| bad("bad tag"))?;
        let value = match tag & 7 {
            0 => Value::Varint(read_varint(buf, &mut pos).ok_or_else(|| bad("bad varint"))?),
            1 => {
                pos = pos.checked_add(8).filter(|&p| p <= buf.len()).ok_or_else(|| bad("truncated fixed64"))?;
                Value::Fixed64
            }
            2 => {
                let len = read_varint(buf, &mut pos).ok_or_else(|| bad("bad length"))?;
                let end = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|&e| e <= buf.len());
                let end = end.ok_or_else(|| bad("length-delimited field runs past the message"))?;
                let bytes = &buf[pos..end];
                pos = end;
                Value::Bytes(bytes)
            }
            5 => {
                let b = buf.get(pos..pos.saturating_add(4)).ok_or_else(|| bad("truncated fixed32"))?;
                pos += 4;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            w => return Err(bad(&format!("unsupported wire type {w}"))),
        };
        f(tag >> 3, value)?;
    }
    Ok(())
}

fn wrong_type(msg: &str, field: u64) -> IndexProblem {
    IndexProblem::corrupt(format!("malformed {msg} protobuf: field {field} has the wrong wire type"))
}

fn int64(v: Value<'_>, msg: &str, field: u64) -> Result<i64, IndexProblem> {
    match v {
        Value::Varint(x) => Ok(x as i64),
        _ => Err(wrong_type(msg, field)),
    }
}

fn int32(v: Value<'_>, msg: &str, field: u64) -> Result<i32, IndexProblem> {
    let x = int64(v, msg, field)?;
    i32::try_from(x).map_err(|_| IndexProblem::corrupt(format!("{msg}: field {field} value {x} overflows int32")))
}

fn bytes<'a>(v: Value<'a>, msg: &str, field: u64) -> Result<&'a [u8], IndexProblem> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(wrong_type(msg, field)),
    }
}

fn parse_header(buf: &[u8]) -> Result<BundleHeader, IndexProblem> {
    const M: &str = "BundleHeaderProto";
    let (mut num_shards, mut endianness) = (0i32, 0i32);
    let (mut producer, mut min_consumer, mut bad_consumers) = (0i32, 0i32, Vec::new());
    for_each_field(buf, M, |field, v| {
        match field {
            1 => num_shards = int32(v, M, field)?,
            2 => endianness = int32(v, M, field)?,
            3 => for_each_field(bytes(v, M, field)?, "VersionDef", |field, v| {
                match (field, v) {
                    (1, v) => producer = int32(v, "VersionDef", field)?,
                    (2, v) => min_consumer = int32(v, "VersionDef", field)?,
                    (3, Value::Bytes(packed)) => {
                        let mut p = 0;
                        while p < packed.len() {
                            let x = read_varint(packed, &mut p).ok_or_else(|| wrong_type("VersionDef", 3))?;
                            bad_consumers.push(int32(Value::Varint(x), "VersionDef", 3)?);
                        }
                    }
                    (3, v) => bad_consumers.push(int32(v, "VersionDef", field)?),
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    let endianness = match endianness {
        0 => Endianness::Little,
        1 => Endianness::Big,
        e => return Err(IndexProblem::corrupt(format!("header: unknown endianness {e}"))),
    };
    let num_shards = u32::try_from(num_shards)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| IndexProblem::corrupt(format!("header: invalid num_shards {num_shards}")))?;
    if min_consumer > BUNDLE_VERSION || bad_consumers.contains(&BUNDLE_VERSION) {
        return Err(IndexProblem::Unsupported(format!(
            "bundle version (producer {producer}, min_consumer {min_consumer}, bad_consumers {bad_consumers:?}) \
             excludes this reader (version {BUNDLE_VERSION})"
        )));
    }
    Ok(BundleHeader { num_shards, endianness, producer, min_consumer, bad_consumers })
}

fn parse_shape(buf: &[u8]) -> Result<Vec<usize>, IndexProblem> {
    const M: &str = "TensorShapeProto";
    let mut dims = Vec::new();
    let mut unknown_rank = false;
    for_each_field(buf, M, |field, v| {
        match field {
            2 => {
                let mut size = 0i64;
                for_each_field(bytes(v, M, field)?, "TensorShapeProto.Dim", |field, v| {
                    if field == 1 {
                        size = int64(v, "TensorShapeProto.Dim", field)?;
                    }
                    Ok(())
                })?;
                let dim = usize::try_from(size)
                    .map_err(|_| IndexProblem::corrupt(format!("shape has invalid dimension {size}")))?;
                dims.push(dim);
            }
            3 => unknown_rank = int64(v, M, field)? != 0,
            _ => {}
        }
        Ok(())
    })?;
    if unknown_rank {
        return Err(IndexProblem::corrupt("shape has unknown rank".into()));
    }
    Ok(dims)
}

fn parse_entry(buf: &[u8], num_shards: u32) -> Result<TensorInfo, IndexProblem> {
    const M: &str = "BundleEntryProto";
    let mut info = TensorInfo {
        dtype: TfDType::Other(0),
        shape: Vec::new(),
        shard_id: 0,
        offset: 0,
        size: 0,
        crc32c: 0,
        num_slices: 0,
    };
    let (mut shard_id, mut offset, mut size) = (0i32, 0i64, 0i64);
    for_each_field(buf, M, |field, v| {
        match field {
            1 => info.dtype = TfDType::from_proto(int32(v, M, field)?),
            2 => info.shape = parse_shape(bytes(v, M, field)?)?,
            3 => shard_id = int32(v, M, field)?,
            4 => offset = int64(v, M, field)?,
            5 => size = int64(v, M, field)?,
            6 => match v {
                Value::Fixed32(c) => info.crc32c = c,
                _ => return Err(wrong_type(M, field)),
            },
            7 => {
                bytes(v, M, field)?;
                info.num_slices += 1;
            }
            _ => {}
        }
        Ok(())
    })?;
    let bad = |what: String| IndexProblem::corrupt(what);
    info.shard_id = u32::try_from(shard_id)
        .ok()
        .filter(|&s| s < num_shards)
        .ok_or_else(|| bad(format!("shard_id {shard_id} is not below num_shards {num_shards}")))?;
    info.offset = u64::try_from(offset).map_err(|_| bad(format!("negative offset {offset}")))?;
    info.size = u64::try_from(size).map_err(|_| bad(format!("negative size {size}")))?;
    if info.offset.checked_add(info.size).is_none_or(|end| end > i64::MAX as u64) {
        return Err(bad(format!("offset {} + size {} overflows", info.offset, info.size)));
    }
    let elem_count = info.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if elem_count.is_none() {
        return Err(bad(format!("shape {:?} overflows", info.shape)));
    }
    if info.num_slices == 0 && info.dtype.size_in_bytes().is_some() {
        match info.expected_size() {
            Some(expected) if expected == info.size => {}
            Some(expected) => {
                return Err(bad(format!(
                    "size {} bytes does not match shape {:?} of {} ({expected} bytes)",
                    info.size, info.shape, info.dtype
                )))
            }
            None => return Err(bad(format!("shape {:?} of {} overflows", info.shape, info.dtype))),
        }
    }
    Ok(info)
}

fn parse_index_inner(bytes: &[u8]) -> Result<BundleIndex, IndexProblem> {
    let table = read_table(bytes)?;
    let mut rows = table.into_iter();
    let header = match rows.next() {
        Some((key, value)) if key.is_empty() => parse_header(value)?,
        _ => return Err(IndexProblem::corrupt("missing the bundle header (empty key)".into())),
    };
    let mut entries = BTreeMap::new();
    let mut slice_entries = 0;
    for (key, value) in rows {
        // Slices of partitioned variables are stored under OrderedCode-encoded keys, which begin
        // with a 0 byte; tensor names cannot.
        if key.first() == Some(&0) {
            slice_entries += 1;
            continue;
        }
        let name = String::from_utf8(key)
            .map_err(|e| IndexProblem::corrupt(format!("tensor name {:?} is not UTF-8", e.as_bytes())))?;
        let info = parse_entry(value, header.num_shards).map_err(|p| match p {
            IndexProblem::Corrupt(r) => IndexProblem::Corrupt(format!("entry `{name}`: {r}")),
            other => other,
        })?;
        entries.insert(name, info);
    }
    Ok(BundleIndex { header, entries, slice_entries })
}

/// Parses the bytes of a `.index` file. Pure and panic-free on any input; `path` only names the
/// file in errors. Verifies the table magic, every block CRC, and that every entry is
/// self-consistent (valid shard, non-negative offset/size, size = elements × dtype size).
pub fn parse_index(bytes: &[u8], path: &Path) -> Result<BundleIndex, TfCheckpointError> {
    parse_index_inner(bytes).map_err(|p| p.at(path))
}
