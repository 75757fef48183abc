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
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(&jukemir_fs::temp_prefix("meta.json")).tempfile_in(dir)?;
    tmp.write_all(to_reference_json(value).as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Read a `meta.json` or the reference's `.json.gz`.
pub fn read_meta_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context;
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    serde_json::from_reader(std::io::BufReader::new(reader))
        .with_context(|| format!("{} is not valid JSON", path.display()))
}
