//! `tf_checkpoint::parse_index`, a pure function of the bytes. Block CRCs make most mutations
//! fail early; the property tests (`crates/models/tests/hostile_weights.rs`) also fuzz with the
//! CRCs recomputed. Corpus: musicnn's `.index` files (in the wheel under `../shared/weights`).
#![no_main]

use std::path::Path;

use jukemir_models::tf_checkpoint::parse_index;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = parse_index(data, Path::new("fuzz.index")) {
        assert!(e.to_string().contains("fuzz.index"), "{e}");
    }
});
