//! Streaming file digests, so multi-gigabyte archives are checked without loading them.

use super::registry::{Algorithm, Checksum};
use jukemir_models::jukebox::published::PublishedCheckpoint;
use sha2::Digest;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

const CHUNK: usize = 1 << 20;

/// The lowercase hex digest of a file. ([`Algorithm::Structure`] has none: an error.)
pub fn file_digest(path: &Path, algorithm: Algorithm) -> io::Result<String> {
    let file = File::open(path)?;
    match algorithm {
        Algorithm::Structure => Err(io::Error::new(io::ErrorKind::InvalidInput, "a structure check has no digest")),
        Algorithm::Md5 => digest_reader(md5::Md5::new(), file),
        Algorithm::Sha1 => digest_reader(sha1::Sha1::new(), file),
        Algorithm::Sha256 => digest_reader(sha2::Sha256::new(), file),
        Algorithm::GitBlobSha1 => {
            let mut hasher = sha1::Sha1::new();
            hasher.update(format!("blob {}\0", file.metadata()?.len()).as_bytes());
            digest_reader(hasher, file)
        }
    }
}

/// `Ok(None)` when the file matches, `Ok(Some(actual_hex))` when it does not (for a structure
/// check: `Some(what is wrong)`).
pub fn check_file(path: &Path, expected: &Checksum) -> io::Result<Option<String>> {
    if let Checksum::Structure(name) = expected {
        File::open(path)?;
        let model = PublishedCheckpoint::from_name(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("no published model {name}")))?;
        return Ok(model.verify(path).err());
    }
    let actual = file_digest(path, expected.algorithm())?;
    Ok((actual != expected.hex()).then_some(actual))
}

fn digest_reader<D: Digest>(mut hasher: D, mut reader: impl Read) -> io::Result<String> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(to_hex(&hasher.finalize()))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(DIGITS[usize::from(b >> 4)] as char);
        hex.push(DIGITS[usize::from(b & 15)] as char);
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(file_digest(&path, Algorithm::Md5).unwrap(), "900150983cd24fb0d6963f7d28e17f72");
        // `printf abc | git hash-object --stdin`
        assert_eq!(file_digest(&path, Algorithm::GitBlobSha1).unwrap(), "f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f");
        assert_eq!(file_digest(&path, Algorithm::Sha1).unwrap(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            file_digest(&path, Algorithm::Sha256).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let good = Checksum::parse("900150983CD24FB0D6963F7D28E17F72").unwrap();
        assert_eq!(check_file(&path, &good).unwrap(), None);
        let bad = Checksum::parse(&"0".repeat(40)).unwrap();
        assert_eq!(check_file(&path, &bad).unwrap().as_deref(), Some("a9993e364706816aba3e25717850c26c9cd0d89d"));
    }
}
