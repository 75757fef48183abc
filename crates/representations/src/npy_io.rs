//! Reading and atomically writing the one-vector `.npy` files the extract contract produces.

use ndarray::Array1;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
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

pub use jukemir_pycompat::npy::check_npy_header;

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
