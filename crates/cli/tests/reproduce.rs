//! `jukemir reproduce` end to end against a loopback server: GTZAN's metadata assets (the real
//! split lists, an archive in the original layout) and two generated precomputed archives in
//! different inner layouts, through download, metadata, unpacking, grids and the report; then
//! resumed, and written as Slurm jobs.

mod common;

use common::{gtzan_archive, jukemir, run, serve_registry, shared, tar_gz, GENRES};
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use std::path::Path;

/// One vector per uid of the reference's gtzan_ff meta.json: its genre's centre plus noise, so a
/// probe can learn the genres (and accuracy far above chance shows the labels and vectors met).
fn precomputed(dim: usize, layout: &str, extra_uid: bool) -> Vec<u8> {
    let meta =
        jukemir_datasets::process::meta_json::read_meta_json(&shared("reference/jukemir/metadata/gtzan_ff.json.gz"))
            .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(dim as u64);
    let mut members = Vec::new();
    let mut uids: Vec<&String> = meta.as_object().unwrap().keys().collect();
    let extra = "f".repeat(64);
    if extra_uid {
        uids.push(&extra);
    }
    for uid in uids {
        let genre = meta.get(uid).map_or(0, |m| GENRES.iter().position(|g| m["y"] == *g).unwrap());
        let vector: Vec<f32> =
            (0..dim).map(|j| if j % GENRES.len() == genre { 2.0 } else { 0.0 } + rng.random_range(-1.0..1.0)).collect();
        let mut bytes = Vec::new();
        ndarray::Array1::from(vector).write_npy(&mut bytes).unwrap();
        members.push((format!("{layout}{uid}.npy"), bytes));
    }
    tar_gz(members)
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn reproduce_downloads_unpacks_trains_and_reports_then_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut assets = vec![("GTZAN".to_string(), "datasets/gtzan/genres.tar.gz".to_string(), gtzan_archive(tmp.path()))];
    for split in ["train", "valid", "test"] {
        let bytes = std::fs::read(shared(&format!("data/annotations/gtzan/{split}_filtered.txt"))).unwrap();
        assets.push((format!("GTZAN_{}", split.to_uppercase()), format!("datasets/gtzan/{split}_filtered.txt"), bytes));
    }
    // The archives' real inner layout is unknown: one with a top folder, one flat with a stray uid.
    assets.push((
        "PRECOMPUTED-GTZAN_FF-CHROMA".into(),
        "representations/gtzan_ff-chroma.tar.gz".into(),
        precomputed(12, "gtzan_ff-chroma/", false),
    ));
    assets.push((
        "PRECOMPUTED-GTZAN_FF-MFCC".into(),
        "representations/gtzan_ff-mfcc.tar.gz".into(),
        precomputed(20, "", true),
    ));
    let (_server, registry) = serve_registry(tmp.path(), assets);
    let cache = tmp.path().join("cache");
    let reproduce = |extra: &[&str]| {
        let mut cmd = jukemir();
        cmd.args([
            "reproduce",
            "--datasets",
            "gtzan_ff",
            "--representations",
            "chroma,mfcc",
            "--spread",
            "4",
            "-j",
            "2",
        ])
        .args(extra)
        .env("JUKEMIR_REGISTRY", &registry)
        .env("JUKEMIR_CACHE_DIR", &cache);
        text(&run(&mut cmd))
    };

    let first = reproduce(&[]);
    for stage in ["1/5 precomputed archives", "2/5 metadata", "3/5 unpacking", "4/5 probe grids", "5/5 report"] {
        assert!(first.contains(stage), "{first}");
    }
    assert!(first.contains("2 downloaded"), "{first}");
    assert!(first.contains("gtzan_ff / chroma: 930 vectors of dim 12"), "{first}");
    assert!(first.contains("gtzan_ff / mfcc: 930 vectors of dim 20"), "{first}");
    assert!(first.contains("skipped 1 vectors whose uid is not in meta.json: ffff"), "{first}");
    assert_eq!(std::fs::read_dir(cache.join("representations/gtzan_ff/mfcc")).unwrap().count(), 930);
    // Both grids trained and evaluated; the table was written with test accuracies far above chance.
    for representation in ["chroma", "mfcc"] {
        let evaluation = cache.join(format!("evaluations/gtzan_ff/{representation}.json"));
        let evaluation: serde_json::Value = serde_json::from_slice(&std::fs::read(&evaluation).unwrap()).unwrap();
        let accuracy = evaluation["test"]["primary"].as_f64().unwrap_or_else(|| panic!("{evaluation}"));
        assert!(accuracy > 0.5, "{representation}: test accuracy {accuracy} ({evaluation})");
    }
    let table = std::fs::read_to_string(cache.join("report/results.md")).unwrap();
    assert!(table.contains("chroma") && table.contains("mfcc"), "{table}");

    // Resumed: everything is found in place, nothing downloaded, unpacked or trained again.
    let again = reproduce(&[]);
    assert!(again.contains("2 ok, 0 downloaded"), "{again}");
    assert!(again.contains("gtzan_ff / mfcc: already unpacked"), "{again}");
    assert_eq!(again.matches("(0 trained, 4 already saved)").count(), 2, "{again}");

    // The same work as Slurm job arrays.
    let slurm = tmp.path().join("slurm");
    let emitted = reproduce(&["--emit-slurm", slurm.to_str().unwrap()]);
    assert!(!emitted.contains("4/5"), "{emitted}");
    for representation in ["chroma", "mfcc"] {
        let script = std::fs::read_to_string(slurm.join(format!("grid-gtzan_ff-{representation}.sh"))).unwrap();
        assert!(script.contains("#SBATCH --array=0-3"), "{script}");
    }

    // `datasets unpack-precomputed` alone restores a lost unpacking.
    std::fs::remove_dir_all(cache.join("representations/gtzan_ff/mfcc")).unwrap();
    let mut cmd = jukemir();
    cmd.args(["datasets", "unpack-precomputed", "gtzan_ff", "--representations", "mfcc"])
        .env("JUKEMIR_REGISTRY", &registry)
        .env("JUKEMIR_CACHE_DIR", &cache);
    let unpacked = text(&run(&mut cmd));
    assert!(unpacked.contains("930 vectors of dim 20"), "{unpacked}");
    assert_eq!(leftovers(&cache.join("representations/gtzan_ff")), 0);
}

/// Hidden entries (staging folders) left in `dir`.
fn leftovers(dir: &Path) -> usize {
    common::hidden_entries(dir).len()
}
