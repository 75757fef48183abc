//! Asset archives: a zip (`PK…`: `open_zip`, every member read, then unpacked) or a tar.gz
//! (anything else: `unpack_tar_gz`), unpacked into a scratch folder. Corpus: small zips and
//! tar.gz files (see README.md).
#![no_main]

use std::sync::OnceLock;

use jukemir_datasets::archive::{open_zip, read_zip_member, unpack_tar_gz, unpack_zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap()).path();
    let dest = dir.join("out");
    let _ = std::fs::remove_dir_all(&dest);
    if data.starts_with(b"PK") {
        let path = dir.join("input.zip");
        std::fs::write(&path, data).unwrap();
        let Ok(mut zip) = open_zip(std::slice::from_ref(&path)) else { return };
        let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
        for name in names.iter().take(32) {
            let _ = read_zip_member(&mut zip, &path, name);
        }
        let _ = unpack_zip(&mut zip, &path, &dest, |_| true);
    } else {
        let path = dir.join("input.tar.gz");
        std::fs::write(&path, data).unwrap();
        let _ = unpack_tar_gz(&path, &dest, |_| true);
    }
});
