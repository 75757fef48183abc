//! `torch_legacy::LegacyCheckpoint::from_bytes`, then every tensor read. Corpus:
//! `fixtures/torch_legacy/*`, `fixtures/jukebox/*.pth.tar`, `fixtures/clmr/tiny_random_legacy.ckpt`.
#![no_main]

use jukemir_models::torch_legacy::LegacyCheckpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match LegacyCheckpoint::from_bytes(data.to_vec(), "fuzz.pth.tar") {
        Ok(ckpt) => {
            let names: Vec<String> = ckpt.tensors().map(|(n, _)| n.to_string()).collect();
            for name in names {
                let _ = ckpt.read_bytes(&name);
                let _ = ckpt.read_f32(&name);
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.pth.tar"), "{e}"),
    }
});
