//! The probe data loader (`data::load`) on an arbitrary `meta.json` for the `test` dataset, with
//! a good 4-value vector for every uid it names. Corpus: `fixtures/probe/parity/meta.json`-like
//! files with labels "0".."3".
#![no_main]

use std::sync::OnceLock;

use jukemir_probe::data::{load, DataRoots};
use libfuzzer_sys::fuzz_target;

/// A float32 `.npy` of `[1, 2, 3, 4]`.
fn npy4() -> Vec<u8> {
    let header = format!("{:<117}\n", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend([1.0f32, 2.0, 3.0, 4.0].iter().flat_map(|x| x.to_le_bytes()));
    out
}

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let root = DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().to_path_buf();
    let (processed, rep) = (root.join("processed/test"), root.join("representations/test/rep"));
    let _ = std::fs::remove_dir_all(&rep);
    std::fs::create_dir_all(&processed).unwrap();
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::write(processed.join("meta.json"), data).unwrap();
    if let Ok(serde_json::Value::Object(meta)) = serde_json::from_slice(data) {
        for uid in meta.keys().take(64) {
            if !uid.contains('/') && !uid.is_empty() && uid != "." && uid != ".." {
                let _ = std::fs::write(rep.join(format!("{uid}.npy")), npy4());
            }
        }
    }
    if let Err(e) = load(&DataRoots::from_cache(&root), "test", "rep", Some(0)) {
        assert!(format!("{e:#}").contains(&root.display().to_string()), "{e:#}");
    }
});
