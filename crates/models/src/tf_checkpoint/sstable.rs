//! The LevelDB table ("SSTable") format that TensorFlow's `.index` files use, and CRC-32C.
//!
//! Layout (tensorflow/core/lib/io/table_format.txt, a fork of LevelDB's): data blocks, a
//! metaindex block, an index block whose values are handles of the data blocks, then a 48-byte
//! footer: two varint block handles (metaindex, index) padded to 40 bytes and the 8-byte magic
//! `0xdb4775248b80fb57`. Every block is followed by a 5-byte trailer: a compression-type byte
//! and the masked CRC-32C of the block contents plus that byte. A block holds prefix-compressed
//! entries (`shared`, `non_shared`, `value_len` varints, key delta, value) then a restart array
//! of `u32`s and its length.
//!
//! Everything here is a pure function over a byte slice that reports problems as values and
//! never panics: the input is treated as hostile.

use super::error::IndexProblem;

/// CRC-32C (Castagnoli) tables for slicing-by-8, built at compile time. Hand-written rather than
/// pulling a crate: it is ~30 lines and checkpoint data is small enough (tens of MB) that
/// software slicing-by-8 (~1-2 GB/s) costs nothing next to the read itself.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut k = 0;
        while k < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
            k += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut t = 1;
    while t < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[t - 1][i];
            tables[t][i] = (prev >> 8) ^ tables[0][(prev & 0xff) as usize];
            i += 1;
        }
        t += 1;
    }
    tables
};

/// Continues a CRC-32C over `data` (start with `crc = 0`).
pub fn crc32c_extend(crc: u32, data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut crc = !crc;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
    }
    !crc
}

/// CRC-32C (Castagnoli) of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_extend(0, data)
}

/// LevelDB/TensorFlow's CRC masking (stored CRCs are masked so that CRCs of data that embeds
/// CRCs stay well distributed).
pub fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// The table magic number, little-endian in the last 8 bytes of the file.
pub const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Footer length: two max-length block handles (2 × 2 × 10 bytes) plus the magic.
pub const FOOTER_LEN: usize = 48;
/// Compression byte + masked CRC after every block.
const BLOCK_TRAILER_LEN: usize = 5;
/// Cap on the bytes of all decoded keys together: prefix compression lets a small hostile file
/// describe quadratically many key bytes; real indexes are nowhere near this.
const MAX_TOTAL_KEY_BYTES: usize = 256 << 20;

/// Decodes a base-128 varint at `*pos`, advancing it.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        let bits = u64::from(b & 0x7f);
        // The 10th byte may only contribute the top bit.
        if i == 9 && b > 1 {
            return None;
        }
        result |= bits << (7 * i);
        if b & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BlockHandle {
    offset: u64,
    size: u64,
}

fn read_handle(buf: &[u8], pos: &mut usize) -> Option<BlockHandle> {
    let offset = read_varint(buf, pos)?;
    let size = read_varint(buf, pos)?;
    Some(BlockHandle { offset, size })
}

/// Checks a block handle against the file, verifies the trailer CRC and returns the contents.
fn read_block<'a>(file: &'a [u8], handle: BlockHandle, what: &str) -> Result<&'a [u8], IndexProblem> {
    let start = usize::try_from(handle.offset).ok();
    let size = usize::try_from(handle.size).ok();
    let end = start.zip(size).and_then(|(s, n)| s.checked_add(n)?.checked_add(BLOCK_TRAILER_LEN));
    let (Some(start), Some(size), Some(end)) = (start, size, end) else {
        return Err(IndexProblem::corrupt(format!(
            "{what} handle (offset {}, size {}) overflows",
            handle.offset, handle.size
        )));
    };
    if end > file.len() {
        return Err(IndexProblem::corrupt(format!(
            "{what} [{start}, {end}) extends past the end of the file ({} bytes; truncated?)",
            file.len()
        )));
    }
    let contents = &file[start..start + size];
    let kind = file[start + size];
    let trailer = &file[start + size + 1..end];
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = mask_crc(crc32c_extend(crc32c(contents), &[kind]));
    if stored != computed {
        return Err(IndexProblem::BlockCrc { offset: handle.offset, stored, computed });
    }
    match kind {
        0 => Ok(contents),
        _ => Err(IndexProblem::Compression { offset: handle.offset, kind }),
    }
}

/// Decodes all entries of one block, calling `f(key, value)` with each full key.
fn for_each_entry<'a>(
    block: &'a [u8],
    what: &str,
    mut f: impl FnMut(&[u8], &'a [u8]) -> Result<(), IndexProblem>,
) -> Result<(), IndexProblem> {
    let bad = |msg: String| IndexProblem::corrupt(format!("{what}: {msg}"));
    if block.len() < 4 {
        return Err(bad(format!("{} bytes is too short for a block", block.len())));
    }
    let n = block.len() - 4;
    let num_restarts = u32::from_le_bytes([block[n], block[n + 1], block[n + 2], block[n + 3]]) as usize;
    let restarts_len = num_restarts.checked_mul(4).filter(|&l| l <= n);
    let Some(restarts_len) = restarts_len else {
        return Err(bad(format!("{num_restarts} restart points do not fit in a {}-byte block", block.len())));
    };
    let entries = &block[..n - restarts_len];
    let mut pos = 0;
    let mut key: Vec<u8> = Vec::new();
    while pos < entries.len() {
        let at = pos;
        let header = (|| {
            let shared = usize::try_from(read_varint(entries, &mut pos)?).ok()?;
            let non_shared = usize::try_from(read_varint(entries, &mut pos)?).ok()?;
            let value_len = usize::try_from(read_varint(entries, &mut pos)?).ok()?;
            Some((shared, non_shared, value_len))
        })();
        let Some((shared, non_shared, value_len)) = header else {
            return Err(bad(format!("bad entry header at block offset {at}")));
        };
        if shared > key.len() {
            return Err(bad(format!("entry at block offset {at} shares {shared} bytes of a {}-byte key", key.len())));
        }
        let delta_end = pos.checked_add(non_shared).filter(|&e| e <= entries.len());
        let value_end = delta_end.and_then(|d| d.checked_add(value_len)).filter(|&e| e <= entries.len());
        let (Some(delta_end), Some(value_end)) = (delta_end, value_end) else {
            return Err(bad(format!("entry at block offset {at} runs past the entries")));
        };
        key.truncate(shared);
        key.extend_from_slice(&entries[pos..delta_end]);
        f(&key, &entries[delta_end..value_end])?;
        pos = value_end;
    }
    Ok(())
}

/// One table entry: its full key and its value (borrowed from the file).
pub type TableEntry<'a> = (Vec<u8>, &'a [u8]);

/// Parses a whole table, returning its `(key, value)` entries in file order. Checks the magic,
/// every block's CRC, that data blocks follow each other without overlapping and that keys are
/// strictly increasing.
pub fn read_table(file: &[u8]) -> Result<Vec<TableEntry<'_>>, IndexProblem> {
    if file.len() < FOOTER_LEN {
        return Err(IndexProblem::corrupt(format!(
            "truncated footer: the file is {} bytes, shorter than the {FOOTER_LEN}-byte table footer",
            file.len()
        )));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&footer[40..]);
    let magic = u64::from_le_bytes(magic);
    if magic != TABLE_MAGIC {
        return Err(IndexProblem::corrupt(format!(
            "bad magic {magic:#018x} in the footer (expected {TABLE_MAGIC:#018x}): not a TensorFlow checkpoint index"
        )));
    }
    let mut pos = 0;
    let handles = &footer[..40];
    let (Some(meta), Some(index)) = (read_handle(handles, &mut pos), read_handle(handles, &mut pos)) else {
        return Err(IndexProblem::corrupt("undecodable block handles in the footer".into()));
    };
    read_block(file, meta, "metaindex block")?;
    let index_block = read_block(file, index, "index block")?;

    let mut handles = Vec::new();
    for_each_entry(index_block, "index block", |_, value| {
        let mut p = 0;
        let h = read_handle(value, &mut p).ok_or_else(|| IndexProblem::corrupt("bad handle in index block".into()))?;
        handles.push(h);
        Ok(())
    })?;

    let mut out: Vec<TableEntry<'_>> = Vec::new();
    let mut prev_end = 0u64;
    let mut total_key_bytes = 0usize;
    for h in handles {
        if h.offset < prev_end {
            return Err(IndexProblem::corrupt(format!(
                "data block at offset {} overlaps the previous block",
                h.offset
            )));
        }
        let what = format!("data block at offset {}", h.offset);
        let block = read_block(file, h, &what)?;
        prev_end = h.offset.saturating_add(h.size);
        for_each_entry(block, &what, |key, value| {
            if let Some((last, _)) = out.last() {
                if key <= last.as_slice() {
                    return Err(IndexProblem::corrupt(format!("{what}: keys are not strictly increasing")));
                }
            }
            total_key_bytes = total_key_bytes.saturating_add(key.len());
            if total_key_bytes > MAX_TOTAL_KEY_BYTES {
                return Err(IndexProblem::corrupt(format!("keys total more than {MAX_TOTAL_KEY_BYTES} bytes")));
            }
            out.push((key.to_vec(), value));
            Ok(())
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_vectors() {
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        assert_eq!(crc32c_extend(crc32c(&data[..333]), &data[333..]), crc32c(&data));
    }

    #[test]
    fn varints() {
        let mut p = 0;
        assert_eq!(read_varint(&[0xac, 0x02], &mut p), Some(300));
        let mut p = 0;
        assert_eq!(read_varint(&[0xff; 9], &mut p), None);
        let mut p = 0;
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&max, &mut p), Some(u64::MAX));
        let mut p = 0;
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(read_varint(&over, &mut p), None);
    }
}
