//! `npy_io::read_vector` on arbitrary bytes. Corpus: `fixtures/**/*.npy`.
#![no_main]

use std::sync::OnceLock;

use jukemir_representations::npy_io::{is_valid_output, read_vector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let path = DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().join("input.npy");
    std::fs::write(&path, data).unwrap();
    if let Err(e) = read_vector(&path) {
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
    let _ = is_valid_output(&path, Some(8));
});
