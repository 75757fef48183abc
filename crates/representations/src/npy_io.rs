//! Reading and atomically writing the one-vector `.npy` files the extract contract produces.

use ndarray::Array1;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Whether `path` already holds a finished output: a readable, non-empty, finite float32 1-D `.npy`
/// (of `dim` values when the representation's size is known). Anything else is recomputed.
pub fn is_valid_output(path: &Path, dim: Option<usize>) -> bool {
    match read_vector(path) {
        Ok(v) => !v.is_empty() && dim.is_none_or(|d| v.len() == d) && v.iter().all(|x| x.is_finite()),
        Err(_) => false,
    }
}

/// Read a float32 1-D `.npy`. Errors name the file.
pub fn read_vector(path: &Path) -> std::io::Result<Vec<f32>> {
    let named =
        |kind: std::io::ErrorKind, what: String| std::io::Error::new(kind, format!("{}: {what}", path.display()));
    let io = |e: std::io::Error| named(e.kind(), e.to_string());
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    check_npy_header(&mut file, len, 4).map_err(|reason| named(std::io::ErrorKind::InvalidData, reason))?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let array = Array1::<f32>::read_npy(BufReader::new(file))
        .map_err(|e| named(std::io::ErrorKind::InvalidData, format!("not a float32 1-D .npy: {e}")))?;
    Ok(array.to_vec())
}

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

/// Write `values` as a float32 1-D `.npy` at `path` so that `path` is either absent, the old
/// file, or the complete new file: the bytes go to a hidden temporary file in the same directory,
/// are flushed to disk, and only then renamed over `path`.
pub fn write_vector_atomic(path: &Path, values: &[f32]) -> std::io::Result<()> {
    jukemir_fs::write_atomically(path, |file| {
        let mut writer = BufWriter::new(file);
        Array1::from(values.to_vec()).write_npy(&mut writer).map_err(std::io::Error::other)?;
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        assert!(!is_valid_output(&path, None));
        write_vector_atomic(&path, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(read_vector(&path).unwrap(), vec![1.0, 2.0, 3.0]);
        assert!(is_valid_output(&path, Some(3)));
        assert!(!is_valid_output(&path, Some(4)));
        // No temporary files are left beside the output.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn truncated_or_garbage_files_are_not_valid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write_vector_atomic(&path, &[1.0; 100]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert!(!is_valid_output(&path, None));
        std::fs::write(&path, b"not an npy file").unwrap();
        assert!(!is_valid_output(&path, None));
        write_vector_atomic(&path, &[f32::NAN]).unwrap();
        assert!(!is_valid_output(&path, None));
    }
}
