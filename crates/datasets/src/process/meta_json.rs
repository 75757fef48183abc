//! `meta.json` as the reference writes it: `json.dump(dataset, f, indent=2, sort_keys=True)`.

use std::io::Write;
use std::path::Path;

/// Serialise with sorted keys and two-space indentation, as Python's `json.dump(indent=2,
/// sort_keys=True)` does (serde_json's maps are ordered by key).
pub fn to_reference_json(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON values always serialise")
}

/// Write atomically (temporary file + rename), so an interrupted run never leaves a half-written
/// `meta.json`.
pub fn write_meta_json(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    jukemir_fs::write_atomically(path, |file| file.write_all(to_reference_json(value).as_bytes()))
}

/// The largest `meta.json` read (uncompressed): the biggest real one, MagnaTagATune's, is a few MB;
/// a few KB of gzip can otherwise expand into gigabytes in memory.
pub const MAX_META_JSON_BYTES: u64 = 256 << 20;

/// Read a `meta.json` or the reference's `.json.gz`.
pub fn read_meta_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context;
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_META_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_META_JSON_BYTES {
        anyhow::bail!(
            "{} is larger than {} MiB uncompressed; no dataset's meta.json is near that (corrupt or not a meta.json)",
            path.display(),
            MAX_META_JSON_BYTES >> 20
        );
    }
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_bomb_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.json.gz");
        let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::best());
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..=(MAX_META_JSON_BYTES >> 20) {
            gz.write_all(&spaces).unwrap();
        }
        gz.finish().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20, "a small file on disk");
        let err = format!("{:#}", read_meta_json(&path).unwrap_err());
        assert!(err.contains("meta.json.gz") && err.contains("larger than 256 MiB"), "{err}");
    }

    #[test]
    fn gzipped_and_plain_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let value = serde_json::json!({"a": {"split": "train", "y": [1, 2]}});
        write_meta_json(&dir.path().join("meta.json"), &value).unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(dir.path().join("m.json.gz")).unwrap(),
            Default::default(),
        );
        gz.write_all(to_reference_json(&value).as_bytes()).unwrap();
        gz.finish().unwrap();
        assert_eq!(read_meta_json(&dir.path().join("meta.json")).unwrap(), value);
        assert_eq!(read_meta_json(&dir.path().join("m.json.gz")).unwrap(), value);
    }
}
