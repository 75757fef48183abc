//! Unpacking the paper's precomputed representation archives: any inner layout, every uid of
//! meta.json exactly once, one finite dim, and nothing written unless all of that holds.

use jukemir_datasets::precomputed::{unpack_precomputed, Unpacked};
use ndarray_npy::WriteNpyExt;
use std::path::{Path, PathBuf};

fn npy(values: &[f32]) -> Vec<u8> {
    let mut bytes = Vec::new();
    ndarray::Array1::from(values.to_vec()).write_npy(&mut bytes).unwrap();
    bytes
}

fn tar_gz(path: &Path, members: &[(String, Vec<u8>)]) {
    std::fs::write(path, jukemir_test_support::tar_gz(members.iter().map(|(n, b)| (n, b)))).unwrap();
}

struct Case {
    _dir: tempfile::TempDir,
    meta: PathBuf,
    archive: PathBuf,
    out: PathBuf,
}

const UIDS: [&str; 4] = ["a1", "b2", "c3", "d4"];

fn case(members: impl Fn(usize, &str) -> Option<(String, Vec<u8>)>, extra: &[(String, Vec<u8>)]) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("meta.json");
    let object: serde_json::Map<String, serde_json::Value> =
        UIDS.iter().map(|u| (u.to_string(), serde_json::json!({"split": "train", "y": "x"}))).collect();
    std::fs::write(&meta, serde_json::Value::Object(object).to_string()).unwrap();
    let mut all: Vec<(String, Vec<u8>)> = UIDS.iter().enumerate().filter_map(|(i, uid)| members(i, uid)).collect();
    all.extend_from_slice(extra);
    let archive = dir.path().join("gtzan_ff-mfcc.tar.gz");
    tar_gz(&archive, &all);
    let out = dir.path().join("representations/gtzan_ff/mfcc");
    Case { _dir: dir, meta, archive, out }
}

fn vector(i: usize) -> Vec<f32> {
    vec![i as f32, 0.5, -1.0]
}

fn read(path: &Path) -> Vec<f32> {
    jukemir_representations::npy_io::read_vector(path).unwrap()
}

#[test]
fn a_top_folder_or_flat_files_unpack_to_one_npy_per_uid() {
    for prefix in ["", "gtzan_ff/mfcc/", "./mfcc/"] {
        let c = case(|i, uid| Some((format!("{prefix}{uid}.npy"), npy(&vector(i)))), &[]);
        let found = unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap();
        assert_eq!((found.written, found.dim), (4, Some(3)), "{prefix:?}");
        for (i, uid) in UIDS.iter().enumerate() {
            assert_eq!(read(&c.out.join(format!("{uid}.npy"))), vector(i));
        }
        // Nothing but the vectors is left, in the folder or beside it.
        assert_eq!(std::fs::read_dir(&c.out).unwrap().count(), 4);
        assert_eq!(std::fs::read_dir(c.out.parent().unwrap()).unwrap().count(), 1);
        // A second run finds the folder complete and reads nothing.
        let again = unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap();
        assert_eq!((again.written, again.dim), (0, None));
    }
}

#[test]
fn unknown_uids_and_other_files_are_reported_not_written() {
    let extra = [
        ("x/zz9.npy".to_string(), npy(&vector(9))),
        ("x/README".to_string(), b"hi".to_vec()),
        ("x/._a1.npy".into(), vec![0]),
    ];
    let c = case(|i, uid| Some((format!("x/{uid}.npy"), npy(&vector(i)))), &extra);
    let Unpacked { written, extra, ignored, .. } = unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap();
    assert_eq!(written, 4);
    assert_eq!(extra, ["zz9"]);
    assert_eq!(ignored, ["x/README", "x/._a1.npy"]);
    assert!(!c.out.join("zz9.npy").exists());
}

fn error(c: &Case) -> String {
    format!("{:#}", unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap_err())
}

#[test]
fn a_bad_archive_writes_nothing_and_says_why() {
    let missing = case(|i, uid| (i != 2).then(|| (format!("{uid}.npy"), npy(&vector(i)))), &[]);
    let e = error(&missing);
    assert!(e.contains("lacks 1 of the 4 uids") && e.contains("c3"), "{e}");

    let twice = case(|i, uid| Some((format!("{uid}.npy"), npy(&vector(i)))), &[("dup/a1.npy".into(), npy(&vector(0)))]);
    assert!(error(&twice).contains("holds uid a1 twice"), "{}", error(&twice));

    let nan = case(|i, uid| Some((format!("{uid}.npy"), npy(&[i as f32, f32::NAN]))), &[]);
    let e = error(&nan);
    assert!(e.contains("a1.npy") && e.contains("NaN"), "{e}");

    let dims = case(|i, uid| Some((format!("{uid}.npy"), npy(&vec![1.0; 3 + i]))), &[]);
    let e = error(&dims);
    assert!(e.contains("b2.npy") && e.contains("4 values where the earlier members have 3"), "{e}");

    let not_npy =
        case(|i, uid| Some((format!("{uid}.npy"), if i == 3 { b"junk".to_vec() } else { npy(&vector(i)) })), &[]);
    let e = error(&not_npy);
    assert!(e.contains("d4.npy"), "{e}");

    for c in [&missing, &twice, &nan, &dims, &not_npy] {
        assert!(!c.out.exists(), "{}", error(c));
        assert_eq!(std::fs::read_dir(c.out.parent().unwrap()).unwrap().count(), 0, "staging left behind");
    }

    let corrupt = case(|i, uid| Some((format!("{uid}.npy"), npy(&vector(i)))), &[]);
    let bytes = std::fs::read(&corrupt.archive).unwrap();
    std::fs::write(&corrupt.archive, &bytes[..bytes.len() / 2]).unwrap();
    let e = error(&corrupt);
    assert!(e.contains("corrupt or truncated") && e.contains("gtzan_ff-mfcc.tar.gz"), "{e}");
}

#[test]
fn a_bad_archive_leaves_an_earlier_good_unpacking_alone() {
    let c = case(|i, uid| Some((format!("{uid}.npy"), npy(&vector(i)))), &[]);
    unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap();
    // One file lost (deleted by hand), and the archive replaced by one with a bad member.
    std::fs::remove_file(c.out.join("a1.npy")).unwrap();
    let bad = case(|i, uid| Some((format!("{uid}.npy"), npy(&[f32::INFINITY; 3][..if i == 3 { 3 } else { 0 }]))), &[]);
    assert!(unpack_precomputed(&bad.archive, &c.meta, &c.out).is_err());
    for (i, uid) in UIDS.iter().enumerate().skip(1) {
        assert_eq!(read(&c.out.join(format!("{uid}.npy"))), vector(i));
    }
    // The good archive restores the lost file.
    assert_eq!(unpack_precomputed(&c.archive, &c.meta, &c.out).unwrap().written, 4);
    assert_eq!(read(&c.out.join("a1.npy")), vector(0));
}
