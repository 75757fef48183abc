//! Reading and atomically writing the one-vector `.npy` files the extract contract produces.

use ndarray::Array1;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// Whether `path` already holds a finished output: a readable, non-empty, finite float32 1-D `.npy`
/// (of `dim` values when the representation's size is known). Anything else is recomputed.
pub fn is_valid_output(path: &Path, dim: Option<usize>) -> bool {
    match read_vector(path) {
        Ok(v) => !v.is_empty() && dim.is_none_or(|d| v.len() == d) && v.iter().all(|x| x.is_finite()),
        Err(_) => false,
    }
}

/// Read a float32 1-D `.npy`.
pub fn read_vector(path: &Path) -> std::io::Result<Vec<f32>> {
    let file = std::fs::File::open(path)?;
    let array = Array1::<f32>::read_npy(BufReader::new(file))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(array.to_vec())
}

/// Write `values` as a float32 1-D `.npy` at `path` so that `path` is either absent, the old
/// file, or the complete new file: the bytes go to a hidden temporary file in the same directory,
/// are flushed to disk, and only then renamed over `path`.
pub fn write_vector_atomic(path: &Path, values: &[f32]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
    {
        let mut writer = BufWriter::new(tmp.as_file());
        Array1::from(values.to_vec()).write_npy(&mut writer).map_err(std::io::Error::other)?;
        writer.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
