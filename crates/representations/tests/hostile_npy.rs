//! Hostile `.npy` files for `npy_io::read_vector` (and `is_valid_output`, which the extract
//! contract uses to decide what to recompute), tested like a fuzzer: mutations of real vectors
//! (truncations, bit flips, lying header lengths), headers written here with arbitrary shapes,
//! dtypes, versions and nesting, and random bytes behind the magic. Every call must return `Ok` or
//! an error naming the file, without panicking, without a single allocation above the harness's
//! 256 MiB cap, and quickly. Inputs that once broke the reader are kept in
//! `fixtures/hostile/npy/` and replayed by `regressions_stay_fixed`.

#[path = "../../audio/tests/hostile_harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harness::{apply, config, interesting, mutations, names, random_bytes, replay_fixtures, run_case, Field, Seed};
use jukemir_representations::npy_io::{is_valid_output, read_vector, write_vector_atomic};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `\x93NUMPY`, version, header length (2 bytes in 1.0, 4 in 2.0/3.0), header text.
fn npy(version: u8, header: &str, header_len: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    let len = header_len.unwrap_or(header.len() as u32);
    if version == 1 {
        out.extend((len as u16).to_le_bytes());
    } else {
        out.extend(len.to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

fn header_fields(bytes: &[u8]) -> Vec<Field> {
    let mut f = vec![Field::le(6, 1), Field::le(7, 1)];
    f.push(if bytes.get(6) == Some(&1) { Field::le(8, 2) } else { Field::le(8, 4) });
    // The digits of the shape: lying element counts.
    let text = String::from_utf8_lossy(bytes);
    if let Some(s) = text.find("'shape': (") {
        f.push(Field::le(s + 10, 1));
        f.push(Field::le(s + 10, 4));
    }
    f
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        for rel in ["clmr/sad.tiny.representation.npy", "choi/defeat.representation.npy", "jukebox/y.npy"] {
            let bytes = std::fs::read(fixtures().join(rel)).unwrap();
            out.push(Seed::new(rel, bytes.clone()).with_fields(header_fields(&bytes)));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.npy");
        write_vector_atomic(&path, &[1.0, -2.5, 3.25, 0.0, f32::MAX]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        out.push(Seed::new("written by write_vector_atomic", bytes.clone()).with_fields(header_fields(&bytes)));
        // The same vector as a version 2.0 file (4-byte header length).
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        let padded = format!("{header:<width$}\n", width = 128 - 12 - 1);
        let bytes = npy(2, &padded, None, &[0u8; 12]);
        out.push(Seed::new("version 2.0", bytes.clone()).with_fields(header_fields(&bytes)));
        out
    })
}

fn tmp() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
}

fn run_file(target: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let name = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "");
    let path = tmp().path().join(format!("case-{name}.npy"));
    std::fs::write(&path, bytes).unwrap();
    let label = path.display().to_string();
    run_case(target, bytes, || -> Result<(), TestCaseError> {
        match read_vector(&path) {
            Ok(v) => prop_assert!(v.len() <= bytes.len() / 4, "{} values from {} bytes", v.len(), bytes.len()),
            Err(e) => names(&label, &e.to_string())?,
        }
        let _ = is_valid_output(&path, Some(3));
        Ok(())
    })?
}

/// A header dict with arbitrary descr, order and shape (some of them nested or huge).
fn header_text() -> impl Strategy<Value = String> {
    let descr = prop::sample::select(vec![
        "'<f4'",
        "'>f4'",
        "'<f8'",
        "'|u1'",
        "'<i8'",
        "'|b1'",
        "'<c8'",
        "'O'",
        "42",
        "[('a', '<f4')]",
        "''",
    ]);
    let dim = prop_oneof![
        interesting().prop_map(|v| v.to_string()),
        Just("-1".to_string()),
        Just("1e9".into()),
        Just("None".into())
    ];
    let shape = prop_oneof![
        proptest::collection::vec(dim, 0..5).prop_map(|d| format!("({},)", d.join(", "))),
        (1usize..3000).prop_map(|n| format!("{}1{}", "(".repeat(n), ",)".repeat(n))),
        (1usize..3000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        Just("'x'".to_string()),
    ];
    (descr, prop::sample::select(vec!["False", "True", "0", "'no'"]), shape, any::<bool>()).prop_map(
        |(d, o, s, newline)| {
            let text = format!("{{'descr': {d}, 'fortran_order': {o}, 'shape': {s}, }}");
            if newline {
                text + "\n"
            } else {
                text
            }
        },
    )
}

proptest! {
    #![proptest_config(config("proptest-regressions/hostile_npy.txt", 256))]

    #[test]
    fn mutated_real_vectors_fail_cleanly(seed in any::<prop::sample::Index>(), muts in mutations()) {
        let seed = &seeds()[seed.index(seeds().len())];
        run_file(&format!("read_vector {}", seed.name), &apply(seed, &muts))?;
    }

    /// Headers written here: any shape (a billion elements, nested 3000 deep, negative), any
    /// dtype, versions 1–3, a header length that lies, and little data.
    #[test]
    fn arbitrary_headers_fail_cleanly(
        version in prop_oneof![1u8..=3, any::<u8>()],
        header in header_text(),
        header_len in prop_oneof![3 => Just(None), 1 => interesting().prop_map(|v| Some(v as u32))],
        data in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        run_file("read_vector of a hand-made header", &npy(version, &header, header_len, &data))?;
    }

    #[test]
    fn random_bytes_fail_cleanly(bytes in random_bytes(vec![b"\x93NUMPY\x01\x00".to_vec(), b"\x93NUMPY\x02\x00".to_vec()], 1024)) {
        run_file("read_vector of random bytes", &bytes)?;
    }
}

#[test]
fn regressions_stay_fixed() {
    let n = replay_fixtures("npy", |name, bytes| run_file(&format!("fixtures/hostile/npy/{name}"), bytes));
    eprintln!("{n} regression inputs replayed");
}

#[test]
fn seeds_read_unmutated() {
    for seed in seeds() {
        run_file(&seed.name, &seed.bytes).unwrap();
        assert!(!seed.fields.is_empty());
    }
    let path = tmp().path().join("seed.npy");
    std::fs::write(&path, &seeds()[3].bytes).unwrap();
    assert_eq!(read_vector(&path).unwrap(), vec![1.0, -2.5, 3.25, 0.0, f32::MAX]);
}
