//! Helpers shared by the probe integration tests.
#![allow(dead_code)] // each test file uses a different subset

use ndarray::{Array1, Array2};
use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const DIM: usize = 16;

/// The seeded synthetic task: four Gaussian clusters (dataset `test`, labels "0".."3", representation
/// `synth`) written under `root` as `processed/test/meta.json` + one `.npy` per clip.
pub fn write_clusters(root: &Path, per_split: [usize; 3]) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let centers: Vec<Vec<f32>> = (0..4).map(|_| (0..DIM).map(|_| rng.random_range(-2.0..2.0)).collect()).collect();
    let rep = root.join("representations/test/synth");
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::create_dir_all(root.join("processed/test")).unwrap();
    let mut meta = serde_json::Map::new();
    for (split, count) in ["train", "valid", "test"].into_iter().zip(per_split) {
        for i in 0..count {
            let class = i % 4;
            let uid = format!("{split}{i:04}");
            // Offset and scale the features so standardisation matters.
            let x: Vec<f32> =
                centers[class].iter().map(|c| 100.0 + 10.0 * (c + rng.random_range(-1.0f32..1.0))).collect();
            Array1::from(x).write_npy(std::fs::File::create(rep.join(format!("{uid}.npy"))).unwrap()).unwrap();
            meta.insert(uid, json!({"split": split, "y": class.to_string(), "extra": 1}));
        }
    }
    meta.insert("unused".into(), json!({"split": "none", "y": "0"}));
    std::fs::write(root.join("processed/test/meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}

/// A seeded synthetic task for any dataset name: `classes` Gaussian clusters in `dim` dimensions,
/// written as `write_clusters` does, with `label(class, features)` as each clip's `y`.
pub fn write_task(
    root: &Path,
    dataset: &str,
    representation: &str,
    per_split: [usize; 3],
    classes: usize,
    label: &dyn Fn(usize, &[f32]) -> serde_json::Value,
) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let centers: Vec<Vec<f32>> =
        (0..classes).map(|_| (0..DIM).map(|_| rng.random_range(-2.0..2.0)).collect()).collect();
    let rep = root.join("representations").join(dataset).join(representation);
    std::fs::create_dir_all(&rep).unwrap();
    let processed = root.join("processed").join(dataset);
    std::fs::create_dir_all(&processed).unwrap();
    let mut meta = serde_json::Map::new();
    for (split, count) in ["train", "valid", "test"].into_iter().zip(per_split) {
        for i in 0..count {
            let class = i % classes;
            let uid = format!("{split}{i:04}");
            let x: Vec<f32> = centers[class].iter().map(|c| c + rng.random_range(-1.0f32..1.0)).collect();
            meta.insert(uid.clone(), json!({"split": split, "y": label(class, &x)}));
            Array1::from(x).write_npy(std::fs::File::create(rep.join(format!("{uid}.npy"))).unwrap()).unwrap();
        }
    }
    std::fs::write(processed.join("meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/probe/parity").join(name)
}

/// The fixture as a cache: processed/gtzan_ff/meta.json and one .npy per clip (row i is `clip{i:04}`).
pub fn write_parity_cache(root: &Path) {
    let features = Array2::<f32>::read_npy(std::fs::File::open(fixture("features.npy")).unwrap()).unwrap();
    let meta: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("meta.json")).unwrap()).unwrap();
    assert_eq!(meta.len(), features.nrows());
    let rep = root.join("representations/gtzan_ff/synth");
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::create_dir_all(root.join("processed/gtzan_ff")).unwrap();
    for (i, row) in features.outer_iter().enumerate() {
        let uid = format!("clip{i:04}");
        assert!(meta.contains_key(&uid), "{uid}");
        row.to_owned().write_npy(std::fs::File::create(rep.join(format!("{uid}.npy"))).unwrap()).unwrap();
    }
    std::fs::copy(fixture("meta.json"), root.join("processed/gtzan_ff/meta.json")).unwrap();
}

pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Four standard errors of the difference of two means over `n` seeds each, at least 0.005.
pub fn bound(std_a: f64, std_b: f64, n: usize) -> f64 {
    (4.0 * ((std_a.powi(2) + std_b.powi(2)) / n as f64).sqrt()).max(0.005)
}
