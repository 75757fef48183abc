//! Which input files an extract run sees, and which of them belong to one shard.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read input folder {}: {source}", path.display())]
    ReadDir { path: PathBuf, source: std::io::Error },
    #[error("batch index {idx} is past the end: {files} input file(s) in batches of {size} make {batches} batch(es), indices 0..{batches}")]
    BatchOutOfRange { idx: usize, size: usize, files: usize, batches: usize },
    #[error("--batch-size must be at least 1")]
    ZeroBatchSize,
    #[error("--batch-idx needs --batch-size")]
    IndexWithoutSize,
    #[error("--batch-size {size} needs a batch index: pass --batch-idx, or run as a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)")]
    SizeWithoutIndex { size: usize },
    #[error("{var}={value:?} is not a batch index (a non-negative integer)")]
    BadIndexVariable { var: &'static str, value: String },
    #[error("{} and {} would both write {stem}.npy; rename one of them", first.display(), second.display())]
    StemCollision { stem: String, first: PathBuf, second: PathBuf },
}

/// The regular, non-hidden files directly inside `dir`, sorted by path as the reference's
/// `sorted(input_dir.iterdir())` does (byte order of the names). Hidden files (`.DS_Store`,
/// editors' swap files, our own temporaries) are never audio and are skipped.
pub fn list_input_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let read_err = |source| InputError::ReadDir { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let hidden = entry.file_name().as_encoded_bytes().starts_with(b".");
        if !hidden && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// One shard of the sorted inputs: files `[index·size, index·size + size)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    pub size: usize,
    pub index: usize,
}

/// The environment variables that carry an array task's index, in the order they are consulted.
pub const BATCH_INDEX_VARIABLES: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

impl Batch {
    /// Combine `--batch-size`/`--batch-idx` with the scheduler's index variable (looked up with
    /// `env`), so Slurm job arrays and Kubernetes Indexed Jobs shard without a wrapper script.
    /// No size means no sharding, whatever the environment says.
    pub fn resolve(
        size: Option<usize>,
        index: Option<usize>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Batch>, InputError> {
        let Some(size) = size else {
            return if index.is_some() { Err(InputError::IndexWithoutSize) } else { Ok(None) };
        };
        if size == 0 {
            return Err(InputError::ZeroBatchSize);
        }
        if let Some(index) = index {
            return Ok(Some(Batch { size, index }));
        }
        for var in BATCH_INDEX_VARIABLES {
            if let Some(value) = env(var) {
                let index =
                    value.trim().parse().map_err(|_| InputError::BadIndexVariable { var, value: value.clone() })?;
                return Ok(Some(Batch { size, index }));
            }
        }
        Err(InputError::SizeWithoutIndex { size })
    }

    /// The files of this shard, or an error when the index is past the last batch.
    pub fn select<'a>(&self, files: &'a [PathBuf]) -> Result<&'a [PathBuf], InputError> {
        let batches = files.len().div_ceil(self.size);
        if self.index >= batches {
            return Err(InputError::BatchOutOfRange { idx: self.index, size: self.size, files: files.len(), batches });
        }
        let start = self.index * self.size;
        Ok(&files[start..(start + self.size).min(files.len())])
    }
}

/// The output name for an input, `<stem>.npy`, with Python's `Path.stem` rule (only the last
/// extension is removed).
pub fn output_name(input: &Path) -> String {
    let stem = input.file_stem().unwrap_or(input.as_os_str()).to_string_lossy();
    format!("{stem}.npy")
}

/// Refuse inputs that would overwrite each other's output (`a.wav` and `a.mp3`).
pub fn check_unique_outputs(files: &[PathBuf]) -> Result<(), InputError> {
    let mut seen: HashMap<String, &PathBuf> = HashMap::new();
    for file in files {
        let name = output_name(file);
        if let Some(first) = seen.insert(name.clone(), file) {
            return Err(InputError::StemCollision {
                stem: name.trim_end_matches(".npy").to_string(),
                first: first.clone(),
                second: file.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(n: usize) -> Vec<PathBuf> {
        (0..n).map(|i| PathBuf::from(format!("{i:03}.wav"))).collect()
    }

    #[test]
    fn batches_follow_the_reference() {
        let files = paths(10);
        let b = Batch { size: 4, index: 2 };
        assert_eq!(b.select(&files).unwrap(), &files[8..10]);
        assert!(matches!(
            Batch { size: 4, index: 3 }.select(&files),
            Err(InputError::BatchOutOfRange { batches: 3, .. })
        ));
        assert!(Batch { size: 1, index: 0 }.select(&[]).is_err());
    }

    #[test]
    fn index_comes_from_flag_then_slurm_then_kubernetes() {
        let none = |_: &str| None;
        let slurm = |v: &str| (v == "SLURM_ARRAY_TASK_ID").then(|| "3".to_string());
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "5".to_string());
        assert_eq!(Batch::resolve(None, None, slurm).unwrap(), None);
        assert_eq!(Batch::resolve(Some(2), Some(1), slurm).unwrap(), Some(Batch { size: 2, index: 1 }));
        assert_eq!(Batch::resolve(Some(2), None, slurm).unwrap(), Some(Batch { size: 2, index: 3 }));
        assert_eq!(Batch::resolve(Some(2), None, k8s).unwrap(), Some(Batch { size: 2, index: 5 }));
        assert!(matches!(Batch::resolve(Some(2), None, none), Err(InputError::SizeWithoutIndex { .. })));
        assert!(matches!(Batch::resolve(None, Some(1), none), Err(InputError::IndexWithoutSize)));
        assert!(matches!(Batch::resolve(Some(0), Some(0), none), Err(InputError::ZeroBatchSize)));
        let bad = |_: &str| Some("x".to_string());
        assert!(matches!(Batch::resolve(Some(2), None, bad), Err(InputError::BadIndexVariable { .. })));
    }

    #[test]
    fn listing_is_sorted_and_skips_hidden_files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.wav", "a.wav", ".DS_Store", "C.wav"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names: Vec<_> = list_input_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["C.wav", "a.wav", "b.wav"]);
    }

    #[test]
    fn stems_follow_python_and_collisions_are_refused() {
        assert_eq!(output_name(Path::new("x/a.b.wav")), "a.b.npy");
        let files = vec![PathBuf::from("a.wav"), PathBuf::from("a.mp3")];
        assert!(matches!(check_unique_outputs(&files), Err(InputError::StemCollision { .. })));
    }
}
