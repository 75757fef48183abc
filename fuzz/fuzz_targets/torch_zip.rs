//! `torch_checkpoint::state_dict` (zip checkpoints through candle, legacy ones through our own
//! reader) on arbitrary bytes written to a file. Corpus: `fixtures/clmr/tiny_random.ckpt`.
#![no_main]

use std::sync::OnceLock;

use jukemir_models::torch_checkpoint::state_dict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let path = DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().join("input.ckpt");
    std::fs::write(&path, data).unwrap();
    if let Err(e) = state_dict(&path) {
        assert!(format!("{e:#}").contains(&path.display().to_string()), "{e:#}");
    }
});
