//! What jukemir's tests share (a dev-dependency only): where the test data lives, and archives
//! built in the original layouts.
//!
//! The tests that compare with the references read real material — music clips, annotation files,
//! the reference's metadata, published weights — from one folder: `$JUKEMIR_TEST_DATA`, else
//! `shared/` beside the checkout (`../shared` from the repository root). `tools/fetch-test-data`
//! rebuilds that folder from its public origins.

use std::path::PathBuf;

/// The variable that names the test-data folder.
pub const TEST_DATA_ENV: &str = "JUKEMIR_TEST_DATA";

/// The test-data folder: `$JUKEMIR_TEST_DATA`, else `../shared` from the repository root.
pub fn test_data() -> PathBuf {
    match std::env::var_os(TEST_DATA_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// A path inside the test-data folder, e.g. `test_file("data/music/wesnoth/sad.ogg")`.
pub fn test_file(rel: &str) -> PathBuf {
    test_data().join(rel)
}

/// A real music clip of `data/music/`.
pub fn music(rel: &str) -> PathBuf {
    test_data().join("data/music").join(rel)
}

/// The bytes of a `.tar.gz` holding `members` (name, contents) as regular files, in order.
pub fn tar_gz<N: AsRef<str>, B: AsRef<[u8]>>(members: impl IntoIterator<Item = (N, B)>) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for (name, bytes) in members {
            let bytes = bytes.as_ref();
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name.as_ref(), bytes).expect("writing to memory");
        }
        tar.finish().expect("writing to memory");
    }
    gz.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_is_the_folder_beside_the_checkout() {
        if std::env::var_os(super::TEST_DATA_ENV).is_none() {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
            assert_eq!(super::test_data(), root.join("../shared"));
        }
    }

    use std::path::PathBuf;
}
