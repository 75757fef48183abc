//! `keras_hdf5::KerasWeights::parse`, a pure function of the bytes. Corpus:
//! `fixtures/choi/hdf5/*.h5`.
#![no_main]

use std::path::Path;

use jukemir_models::keras_hdf5::KerasWeights;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match KerasWeights::parse(data, Path::new("fuzz.h5")) {
        Ok(w) => {
            for layer in w.layer_names() {
                let _ = w.weights(layer);
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.h5"), "{e}"),
    }
});
