//! Helpers shared by the probe integration tests.
#![allow(dead_code)] // each test file uses a different subset

use ndarray::Array1;
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::Path;

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
