//! `jukemir example gtzan`, without the internet:
//!
//! - `--features` on real vectors (fixtures/svm: 323 MFCC vectors of 3-s excerpts of nine clips,
//!   named `<clip>.000NN.npy` as GTZAN's are) prints scikit-learn 1.3.2's fold accuracies and the
//!   README script's `mean +- std` line exactly (tools/reference/gen_svm_fixtures.py);
//! - the whole path — download from a loopback server standing in for the Internet Archive,
//!   sha256 check, unpacking, mfcc extraction into one folder, cross-validation — on a stand-in
//!   archive of tiny synthetic `.au` clips in GTZAN's layout, twice (the second run reuses everything);
//! - Python 3's `random.seed(0); random.shuffle` against Python's permutations;
//! - the help, and the advice when no representation can be chosen.

mod common;

use jukemir_probe::cross_validation::cross_val_score_svc;
use jukemir_probe::svm::SvcParams;
use jukemir_representations::pyrandom::python3_shuffle;
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::GENRES;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/svm")
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn jukemir(args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jukemir"));
    cmd.args(args);
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "JUKEMIR_REGISTRY"]
    {
        cmd.env_remove(var);
    }
    for (key, value) in envs {
        cmd.env(key, value);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn features_folder_gives_sklearns_numbers() {
    let reference = json("cv_reference.json");
    let x: Array2<f32> = read_npy(fixtures().join("excerpts_mfcc.npy")).unwrap();
    let names: Vec<&str> = reference["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let tmp = tempfile::tempdir().unwrap();
    for (name, row) in names.iter().zip(x.rows()) {
        write_npy(tmp.path().join(name), &row.to_owned()).unwrap();
    }
    // Hidden files and other extensions are not vectors (glob's '*.npy' skips them too).
    std::fs::write(tmp.path().join(".hidden.00000.npy"), b"not a vector").unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"").unwrap();

    let out = jukemir(&["example", "gtzan", "--features", tmp.path().to_str().unwrap(), "-j", "2"], &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let printed = reference["printed"].as_str().unwrap();
    assert_eq!(stdout.lines().last(), Some(printed), "{stdout}");
    assert!(stdout.contains("traditional GTZAN split"), "{stdout}");
    assert!(stdout.contains("not the fault-filtered"), "{stdout}");
    assert!(stdout.contains(&format!("{} clips, 40 dimensions, 9 labels", names.len())), "{stdout}");
    for (k, fold) in reference["folds"].as_array().unwrap().iter().enumerate() {
        let line = format!("fold {:>2}: {:5.1}%", k + 1, fold["accuracy"].as_f64().unwrap() * 100.0);
        assert!(stdout.contains(&line), "missing {line:?} in\n{stdout}");
    }
}

#[test]
fn python3_shuffle_matches_python() {
    let fixture = json("py3_shuffle_seed0.json");
    let permutations = fixture["permutations"].as_object().unwrap();
    assert!(permutations.contains_key("1000"));
    for (n, expected) in permutations {
        let mut items: Vec<usize> = (0..n.parse().unwrap()).collect();
        python3_shuffle(&mut items, 0);
        let expected: Vec<usize> = expected.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(items, expected, "n = {n}");
    }
    // And the excerpts' permutation, which the CV fixture was computed with.
    let reference = json("cv_reference.json");
    let mut names: Vec<&str> = reference["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let sorted = names.clone();
    python3_shuffle(&mut names, 0);
    let expected: Vec<&str> =
        reference["permutation"].as_array().unwrap().iter().map(|p| sorted[p.as_u64().unwrap() as usize]).collect();
    assert_eq!(names, expected);
}

#[test]
fn help_explains_the_example() {
    let out = jukemir(&["example", "gtzan", "--help"], &[]);
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    for needle in [
        "web.archive.org/web/20211207012050/http://opihi.cs.uvic.ca/sound/genres.tar.gz",
        "TRADITIONAL GTZAN split",
        "fault-filtered",
        "random.seed(0); random.shuffle",
        "StratifiedKFold",
        "gamma='scale'",
        "--features",
        "92.5 +- 2.9",
    ] {
        assert!(stdout.contains(needle), "--help lacks {needle:?}:\n{stdout}");
    }
}

#[test]
fn without_weights_it_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = jukemir(&["example", "gtzan", "--cache-dir", tmp.path().to_str().unwrap()], &[]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("--representation mfcc"), "{stderr}");
    assert!(stderr.contains("jukemir weights fetch musicnn_big"), "{stderr}");
    // Nothing was downloaded.
    assert!(!tmp.path().join("datasets").exists());
}

/// A 1-s Sun `.au` clip (16-bit linear PCM, 22050 Hz): a tone whose pitch depends on the genre, with
/// a clip-dependent second partial and noise.
fn au_clip(genre: usize, clip: usize) -> Vec<u8> {
    let rate = 22050u32;
    let mut seed = (genre * 1000 + clip) as u64 * 6364136223846793005 + 1442695040888963407;
    let mut bytes = Vec::new();
    for word in [0x2e73_6e64u32, 24, rate * 2, 3, rate, 1] {
        bytes.extend_from_slice(&word.to_be_bytes());
    }
    let f0 = 110.0 * (1.0 + genre as f32 * 0.37);
    let f1 = f0 * (2.0 + (clip % 7) as f32 * 0.11);
    for i in 0..rate {
        let t = i as f32 / rate as f32;
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let noise = ((seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.1;
        let v = 0.4 * (std::f32::consts::TAU * f0 * t).sin() + 0.2 * (std::f32::consts::TAU * f1 * t).sin() + noise;
        bytes.extend_from_slice(&((v * 32767.0) as i16).to_be_bytes());
    }
    bytes
}

/// genres.tar.gz in GTZAN's layout with `per_genre` clips a genre, plus a non-audio member.
fn stand_in_archive(per_genre: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        let mut append = |name: String, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, data).unwrap();
        };
        append("genres/input.mf".into(), b"not audio\n");
        for (g, genre) in GENRES.iter().enumerate() {
            for i in 0..per_genre {
                append(format!("genres/{genre}/{genre}.{i:05}.au"), &au_clip(g, i));
            }
        }
        tar.finish().unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn downloads_unpacks_extracts_and_scores_a_stand_in_gtzan() {
    const PER_GENRE: usize = 12;
    let tmp = tempfile::tempdir().unwrap();
    let archive = stand_in_archive(PER_GENRE);
    let checksum = common::sha256_hex(&archive);
    let server = common::http::FileServer::start([("/genres.tar.gz".to_string(), archive)].into(), None);
    let registry = tmp.path().join("registry.json");
    let entry = serde_json::json!({"GTZAN": {
        "path_rel": "datasets/gtzan/genres.tar.gz",
        "url": server.url("/genres.tar.gz"),
        "checksum": checksum,
    }});
    std::fs::write(&registry, entry.to_string()).unwrap();
    let cache = tmp.path().join("cache");
    let args = ["example", "gtzan", "--representation", "mfcc", "--cache-dir", cache.to_str().unwrap(), "-j", "2"];

    let first = jukemir(&args, &[("JUKEMIR_REGISTRY", &registry)]);
    let (stdout, stderr) = text(&first);
    assert!(first.status.success(), "{stdout}\n{stderr}");
    assert!(cache.join("datasets/gtzan/genres.tar.gz").is_file());
    assert!(cache.join("examples/gtzan/genres/blues/blues.00000.au").is_file());
    assert!(!cache.join("examples/gtzan/genres/input.mf").exists());
    let features = cache.join("examples/gtzan/features/mfcc");
    let npys: Vec<_> = std::fs::read_dir(&features).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(npys.len(), GENRES.len() * PER_GENRE, "one folder with every clip's vector: {npys:?}");
    assert!(features.join("rock.00011.npy").is_file());
    assert!(stdout.contains("features: mfcc vectors (120 values per clip)"), "{stdout}");

    // The printed line is the library's result on those vectors in the script's order.
    let mut names: Vec<String> = npys.iter().map(|n| n.to_string_lossy().into_owned()).collect();
    names.sort();
    python3_shuffle(&mut names, 0);
    let mut x = Vec::new();
    let mut ids = Vec::new();
    for name in &names {
        let v: Array1<f32> = read_npy(features.join(name)).unwrap();
        x.extend(v.iter().copied());
        ids.push(GENRES.iter().position(|g| name.starts_with(&format!("{g}."))).unwrap());
    }
    let scores = cross_val_score_svc(&x, 120, &ids, 10, &SvcParams::default(), 1).unwrap();
    let last = stdout.lines().last().unwrap();
    assert_eq!(last, scores.summary(), "{stdout}");
    assert_eq!(scores.folds.len(), 10);
    assert!(scores.mean > 0.5, "the stand-in genres are easy to tell apart: {}", scores.summary());

    // Again: the archive is verified, not downloaded; nothing is unpacked or extracted again.
    let second = jukemir(&args, &[("JUKEMIR_REGISTRY", &registry)]);
    let (stdout2, stderr2) = text(&second);
    assert!(second.status.success(), "{stdout2}\n{stderr2}");
    assert!(!stderr2.contains("unpacking"), "{stderr2}");
    assert!(stderr2.contains(&format!("0 written, {} skipped", GENRES.len() * PER_GENRE)), "{stderr2}");
    assert_eq!(stdout2, stdout);
}
