//! Hostile asset archives and metadata for the datasets crate, tested like a fuzzer:
//! * zip (`archive::open_zip`, whole and split in two parts, then `read_zip_member` and
//!   `unpack_zip`), seeded with archives written here from the first members of the real
//!   GiantSteps annotation zip (stored and deflated), with lying sizes, counts and offsets in the
//!   local headers, central directory and end record;
//! * tar.gz (`archive::unpack_tar_gz`), seeded with archives written here, mutated before
//!   compression (lying octal sizes, checksums, types, names) or after (damaged gzip);
//! * `process::meta_json::read_meta_json`, on the reference's real `gtzan_ff.json.gz` (gzip
//!   damaged) and on its JSON text damaged before compression or saved as plain `.json`.
//!
//! Every call must return `Ok` or an error naming the archive (or, for a member that cannot be
//! written, the target under the destination folder), never write outside the destination,
//! never panic, never make a single allocation above the harness's 256 MiB cap, and finish
//! quickly. Inputs that once broke a reader are kept in `fixtures/hostile/{zip,tar_gz,meta_json}/`
//! and replayed by `regressions_stay_fixed`.

#[path = "../../audio/tests/hostile_harness.rs"]
mod harness;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harness::{apply, config, mutations, names, random_bytes, replay_fixtures, run_case, zip_fields, Field, Seed};
use jukemir_datasets::archive::{open_zip, read_zip_member, unpack_tar_gz, unpack_zip};
use jukemir_datasets::process::meta_json::read_meta_json;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn shared() -> PathBuf {
    jukemir_test_support::test_data()
}

fn tmp() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

/// A fresh folder for this thread's case (tests of this binary run in parallel).
fn case_dir() -> PathBuf {
    let name = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "");
    let dir = tmp().path().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Members (name, bytes) for the seeds: the first files of the real GiantSteps annotation zip,
/// or a few made up when `../shared` is absent.
fn members() -> &'static [(String, Vec<u8>)] {
    static MEMBERS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let real = shared().join("data/annotations/giantsteps/key-annotations.zip");
        let mut out = Vec::new();
        match std::fs::File::open(&real) {
            Ok(f) => {
                let mut zip = zip::ZipArchive::new(f).unwrap();
                for i in 0..zip.len() {
                    let mut m = zip.by_index(i).unwrap();
                    if m.is_file() && m.size() < 4096 {
                        let mut bytes = Vec::new();
                        m.read_to_end(&mut bytes).unwrap();
                        out.push((m.name().unwrap().into_owned(), bytes));
                    }
                    if out.len() == 8 {
                        break;
                    }
                }
            }
            Err(_) => {
                eprintln!("note: {} is absent; made-up members are used", real.display());
                out.push(("dataset/README".into(), b"GiantSteps key dataset\n".repeat(20)));
                out.push(("dataset/annotations/key/1.key".into(), b"C major".to_vec()));
            }
        }
        out
    })
}

fn zip_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for (label, method) in
            [("stored", zip::CompressionMethod::Stored), ("deflated", zip::CompressionMethod::Deflated)]
        {
            let mut bytes = Vec::new();
            {
                let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
                let options = zip::write::SimpleFileOptions::default().compression_method(method);
                for (name, data) in members() {
                    zip.start_file(name.as_str(), options).unwrap();
                    zip.write_all(data).unwrap();
                }
                zip.finish().unwrap();
            }
            let fields = zip_fields(&bytes);
            seeds.push(Seed::new(format!("{label} zip of GiantSteps annotations"), bytes).with_fields(fields));
        }
        seeds
    })
}

/// The tar (uncompressed) of `members()`, and its header fields: per 512-byte header the name,
/// mode, size, checksum, type flag and ustar magic (all ASCII).
fn tar_seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in members() {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, data.as_slice()).unwrap();
        }
        let bytes = builder.into_inner().unwrap();
        let mut fields = Vec::new();
        let mut p = 0;
        while p + 512 <= bytes.len() && bytes[p] != 0 {
            fields.extend([0, 100, 124, 128, 136, 148, 152, 257].map(|o| Field::le(p + o, 4)));
            fields.extend([Field::le(p + 124, 8), Field::le(p + 156, 1)]);
            let size = std::str::from_utf8(&bytes[p + 124..p + 135])
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok())
                .unwrap_or(0);
            p += 512 + (size as usize).div_ceil(512) * 512;
        }
        Seed::new("tar of GiantSteps annotations", bytes).with_fields(fields)
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// gzip header fields (flags, mtime, extra flags, OS) and trailer (CRC, size).
fn gzip_fields(b: &[u8]) -> Vec<Field> {
    let n = b.len();
    vec![Field::le(3, 1), Field::le(4, 4), Field::le(8, 1), Field::le(9, 1), Field::le(n - 8, 4), Field::le(n - 4, 4)]
}

/// Every file under `dir` must be inside it (no member escaped through `..`, links or roots).
fn assert_contained(dest: &Path, root: &Path) -> Result<(), TestCaseError> {
    for entry in std::fs::read_dir(root).map_err(|e| TestCaseError::fail(e.to_string()))? {
        let path = entry.map_err(|e| TestCaseError::fail(e.to_string()))?.path();
        let inside =
            path.starts_with(dest) || path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("hostile"));
        prop_assert!(inside, "{} was written outside {}", path.display(), dest.display());
    }
    Ok(())
}

fn archive_error_names(err: &impl std::fmt::Display, archive: &Path, dest: &Path) -> Result<(), TestCaseError> {
    let msg = err.to_string();
    if msg.contains(&archive.display().to_string()) {
        return Ok(());
    }
    names(&dest.display().to_string(), &msg)
}

/// `cut`: where the two-part copy is split (clamped to the length).
fn check_zip(target: &str, bytes: &[u8], cut: usize) -> Result<(), TestCaseError> {
    let dir = case_dir();
    let path = dir.join("hostile.zip");
    std::fs::write(&path, bytes).unwrap();
    // The same bytes as two parts (`.001`, `.002`), as split archives are read.
    let at = cut.min(bytes.len());
    let parts = [dir.join("hostile.zip.001"), dir.join("hostile.zip.002")];
    std::fs::write(&parts[0], &bytes[..at]).unwrap();
    std::fs::write(&parts[1], &bytes[at..]).unwrap();
    let dest = dir.join("out");
    run_case(target, bytes, || -> Result<(), TestCaseError> {
        for archive in [vec![path.clone()], parts.to_vec()] {
            let label = &archive[0];
            let mut zip = match open_zip(&archive) {
                Ok(z) => z,
                Err(e) => {
                    names(&label.display().to_string(), &e.to_string())?;
                    continue;
                }
            };
            let member_names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
            for name in member_names.iter().take(16) {
                if let Err(e) = read_zip_member(&mut zip, label, name) {
                    names(&label.display().to_string(), &e.to_string())?;
                }
            }
            if let Err(e) = unpack_zip(&mut zip, label, &dest, |_| true) {
                archive_error_names(&e, label, &dest)?;
            }
        }
        assert_contained(&dest, &dir)
    })?
}

fn check_tar_gz(target: &str, gz: &[u8]) -> Result<(), TestCaseError> {
    let dir = case_dir();
    let path = dir.join("hostile.tar.gz");
    std::fs::write(&path, gz).unwrap();
    let dest = dir.join("out");
    run_case(target, gz, || -> Result<(), TestCaseError> {
        if let Err(e) = unpack_tar_gz(&path, &dest, |_| true) {
            archive_error_names(&e, &path, &dest)?;
        }
        assert_contained(&dest, &dir)
    })?
}

fn check_meta(target: &str, bytes: &[u8], ext: &str) -> Result<(), TestCaseError> {
    let path = case_dir().join(format!("meta.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let label = path.display().to_string();
    run_case(target, bytes, || match read_meta_json(&path) {
        Ok(_) => Ok(()),
        Err(e) => names(&label, &format!("{e:#}")),
    })?
}

fn meta_seed() -> &'static Option<(Seed, Seed)> {
    static SEED: OnceLock<Option<(Seed, Seed)>> = OnceLock::new();
    SEED.get_or_init(|| {
        let real = shared().join("reference/jukemir/metadata/gtzan_ff.json.gz");
        let gz = std::fs::read(&real).ok()?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_string(&mut text).unwrap();
        // The first entries, as the reference writes them (indent 2, sorted keys).
        let all: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        let some: serde_json::Map<String, serde_json::Value> = all.into_iter().take(24).collect();
        let json = serde_json::to_vec_pretty(&some).unwrap();
        Some((
            Seed::new("gtzan_ff.json.gz", gz.clone()).with_fields(gzip_fields(&gz)),
            Seed::new("gtzan_ff meta.json text", json),
        ))
    })
}

proptest! {
    #![proptest_config(config("proptest-regressions/hostile_archives.txt", 256))]

    #[test]
    fn zip_mutations_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations(), cut in any::<prop::sample::Index>()) {
        let seed = &zip_seeds()[seed.index(zip_seeds().len())];
        let bytes = apply(seed, &muts);
        check_zip(&format!("open_zip {}", seed.name), &bytes, cut.index(bytes.len() + 1))?;
    }

    /// The tar damaged before compression (lying sizes, checksums, types, names), or the gzip
    /// stream damaged after.
    #[test]
    fn tar_gz_mutations_fail_cleanly(muts in mutations(), after in any::<bool>()) {
        let gz = if after {
            let gz = gzip(&tar_seed().bytes);
            let fields = gzip_fields(&gz);
            apply(&Seed::new("tar.gz", gz).with_fields(fields), &muts)
        } else {
            gzip(&apply(tar_seed(), &muts))
        };
        check_tar_gz("unpack_tar_gz", &gz)?;
    }

    #[test]
    fn meta_json_mutations_fail_cleanly(muts in mutations(), which in 0u8..3) {
        let Some((gz, text)) = meta_seed() else { return Ok(()) };
        match which {
            0 => check_meta("read_meta_json (.json.gz damaged)", &apply(gz, &muts), "json.gz")?,
            1 => check_meta("read_meta_json (damaged JSON, gzipped)", &gzip(&apply(text, &muts)), "json.gz")?,
            _ => check_meta("read_meta_json (damaged .json)", &apply(text, &muts), "json")?,
        }
    }

    #[test]
    fn random_bytes_fail_cleanly(
        bytes in random_bytes(vec![b"PK\x03\x04".to_vec(), b"PK\x05\x06".to_vec(), vec![0x1f, 0x8b, 8, 0]], 2048),
        cut in any::<prop::sample::Index>(),
    ) {
        check_zip("open_zip random bytes", &bytes, cut.index(bytes.len() + 1))?;
        check_tar_gz("unpack_tar_gz random bytes", &bytes)?;
        check_meta("read_meta_json random bytes", &bytes, "json.gz")?;
    }
}

#[test]
fn regressions_stay_fixed() {
    let mut n = replay_fixtures("zip", |name, b| check_zip(name, b, b.len() / 2));
    n += replay_fixtures("tar_gz", check_tar_gz);
    n += replay_fixtures("meta_json", |name, b| {
        check_meta(name, b, "json.gz")?;
        check_meta(name, b, "json")
    });
    eprintln!("{n} regression inputs replayed");
}

#[test]
fn seeds_read_unmutated() {
    for seed in zip_seeds() {
        let path = case_dir().join("seed.zip");
        std::fs::write(&path, &seed.bytes).unwrap();
        let mut zip = open_zip(std::slice::from_ref(&path)).unwrap();
        assert_eq!(zip.len(), members().len());
        let (name, data) = &members()[0];
        assert_eq!(&read_zip_member(&mut zip, &path, name).unwrap(), data);
        assert!(!seed.fields.is_empty());
    }
    let dir = case_dir();
    let path = dir.join("seed.tar.gz");
    std::fs::write(&path, gzip(&tar_seed().bytes)).unwrap();
    assert_eq!(unpack_tar_gz(&path, &dir.join("out"), |_| true).unwrap().len(), members().len());
    assert!(tar_seed().fields.len() >= 10);
}
