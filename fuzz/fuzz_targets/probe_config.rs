//! `ProbeConfig::from_json_str` on arbitrary text; accepted configs must serialise, hash and read
//! back. Corpus: any probe config JSON (`jukemir probe` writes them beside each probe).
#![no_main]

use jukemir_probe::config::ProbeConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ProbeConfig::from_json_str(text, "fuzz.json") {
        Ok(cfg) => {
            let again = ProbeConfig::from_json_str(&cfg.to_json(), "fuzz.json").expect("its own JSON reads back");
            assert_eq!(again.uid(), cfg.uid());
        }
        Err(e) => assert!(e.to_string().contains("fuzz.json"), "{e}"),
    }
});
