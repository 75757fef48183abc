//! The `.npy` format as numpy writes and bounds it: the header checks every reader runs first.

use std::io::{Read, Seek, SeekFrom};

/// numpy's own bound on the header's length (`max_header_size`, numpy ≥ 1.24).
const MAX_HEADER_LEN: u64 = 10_000;
/// Brackets nested deeper than this are refused (real headers nest 2–4 deep).
const MAX_HEADER_NESTING: usize = 16;

/// Checks an `.npy` header against the file's length before ndarray-npy sees it: ndarray-npy
/// allocates the header length (a `u32` in versions 2 and 3) and the shape's element count without
/// comparing them with the file, and parses the header recursively (3000 nested brackets overflow
/// the stack and abort the process). Headers it cannot parse pass, for ndarray-npy to reject.
/// `elem_size`: the fewest bytes per element of the types about to be read. Shared with the
/// probe loader, which reads the same files.
pub fn check_npy_header(file: &mut (impl Read + Seek), file_len: u64, elem_size: u64) -> Result<(), String> {
    let mut prelude = Vec::with_capacity(12);
    file.by_ref().take(12).read_to_end(&mut prelude).map_err(|e| e.to_string())?;
    if prelude.len() < 10 || !prelude.starts_with(b"\x93NUMPY") {
        return Ok(());
    }
    let (start, header_len) = match prelude[6] {
        1 => (10u64, u64::from(u16::from_le_bytes([prelude[8], prelude[9]]))),
        2 | 3 if prelude.len() == 12 => {
            (12, u64::from(u32::from_le_bytes([prelude[8], prelude[9], prelude[10], prelude[11]])))
        }
        _ => return Ok(()),
    };
    if header_len > MAX_HEADER_LEN {
        return Err(format!("an .npy header of {header_len} bytes (more than {MAX_HEADER_LEN})"));
    }
    let data_len = file_len.checked_sub(start + header_len).ok_or_else(|| {
        format!("an .npy header of {header_len} bytes runs past the end of the file ({file_len} bytes)")
    })?;
    let mut header = prelude[..start as usize].to_vec();
    file.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
    file.by_ref().take(header_len).read_to_end(&mut header).map_err(|e| e.to_string())?;
    let mut depth = 0usize;
    for &b in &header[start as usize..] {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_HEADER_NESTING {
            return Err(format!("an .npy header nested more than {MAX_HEADER_NESTING} brackets deep"));
        }
    }
    let Ok(parsed) = ndarray_npy::npy::header::Header::from_reader(&mut header.as_slice()) else {
        return Ok(());
    };
    let needed = parsed
        .shape
        .iter()
        .try_fold(elem_size, |n, &d| n.checked_mul(u64::try_from(d).ok()?))
        .ok_or_else(|| format!("the .npy shape {:?} overflows", parsed.shape))?;
    if needed > data_len {
        return Err(format!(
            "the .npy shape {:?} needs {needed} bytes of data but the file holds {data_len}",
            parsed.shape
        ));
    }
    Ok(())
}
