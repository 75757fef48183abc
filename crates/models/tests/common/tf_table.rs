//! A TensorFlow `.index` table (a LevelDB SSTable of protobuf entries) built byte by byte, for the
//! checkpoint reader's tests and its hostile-input tests.

#![allow(dead_code)] // each test binary uses its own part

use jukemir_models::tf_checkpoint::{crc32c, mask_crc};

pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn field_varint(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

pub fn field_bytes(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends a block (no key sharing, one restart point) and its trailer; returns its handle.
pub fn push_block(file: &mut Vec<u8>, entries: &[(Vec<u8>, Vec<u8>)]) -> (u64, u64) {
    let start = file.len();
    for (k, v) in entries {
        varint(file, 0);
        varint(file, k.len() as u64);
        varint(file, v.len() as u64);
        file.extend_from_slice(k);
        file.extend_from_slice(v);
    }
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    let size = file.len() - start;
    file.push(0);
    let crc = mask_crc(crc32c(&file[start..]));
    file.extend_from_slice(&crc.to_le_bytes());
    (start as u64, size as u64)
}

/// A complete `.index` table holding `entries` (sorted by the caller) in one data block.
pub fn build_index(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut file = Vec::new();
    let (data_off, data_size) = push_block(&mut file, entries);
    let mut handle = Vec::new();
    varint(&mut handle, data_off);
    varint(&mut handle, data_size);
    let meta = push_block(&mut file, &[]);
    let last_key = entries.last().map(|e| e.0.clone()).unwrap_or_default();
    let index = push_block(&mut file, &[(last_key, handle)]);
    let mut footer = Vec::new();
    for v in [meta.0, meta.1, index.0, index.1] {
        varint(&mut footer, v);
    }
    footer.resize(40, 0);
    footer.extend_from_slice(&0xdb47_7524_8b80_fb57u64.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// The table's header row (key ""): `BundleHeaderProto` with `num_shards`, little-endian unless
/// `big_endian`, and format version 1.
pub fn header_proto(num_shards: u64, big_endian: bool) -> Vec<u8> {
    let mut h = Vec::new();
    field_varint(&mut h, 1, num_shards);
    if big_endian {
        field_varint(&mut h, 2, 1);
    }
    field_bytes(&mut h, 3, &[0x08, 0x01]);
    h
}

/// The masked CRC32C of 16 zero bytes: a valid checksum for zeroed data, and what lying entries claim.
pub fn zeros_crc() -> u32 {
    mask_crc(crc32c(&[0; 16]))
}

/// The fields of one tensor's `BundleEntryProto`, any of which a test may make lie.
#[derive(Clone, Debug)]
pub struct Entry {
    pub dtype: u64,
    pub dims: Vec<i64>,
    pub shard: u64,
    pub offset: u64,
    pub size: u64,
    pub crc: u32,
    pub slices: usize,
}

pub fn entry_proto(e: &Entry) -> Vec<u8> {
    let mut shape = Vec::new();
    for &d in &e.dims {
        let mut dim = Vec::new();
        field_varint(&mut dim, 1, d as u64);
        field_bytes(&mut shape, 2, &dim);
    }
    let mut out = Vec::new();
    field_varint(&mut out, 1, e.dtype);
    field_bytes(&mut out, 2, &shape);
    field_varint(&mut out, 3, e.shard);
    field_varint(&mut out, 4, e.offset);
    field_varint(&mut out, 5, e.size);
    varint(&mut out, (6 << 3) | 5);
    out.extend_from_slice(&e.crc.to_le_bytes());
    for _ in 0..e.slices {
        field_bytes(&mut out, 7, &[]);
    }
    out
}
