//! A TensorFlow `.index` table (a LevelDB SSTable of protobuf entries) built byte by byte, for the
//! checkpoint reader's tests and its hostile-input tests.

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
