//! What several CLI tests build: a GTZAN-ff-shaped probe task in a cache folder.

#![allow(dead_code)] // each test binary uses its own part

use ndarray_npy::WriteNpyExt;
use std::path::Path;

pub const GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

/// `processed/gtzan_ff/meta.json` with `train`/`valid`/`test` examples (`train000`, …) labelled
/// round-robin with the ten genres, and `representations/gtzan_ff/synth/<uid>.npy` holding
/// `features(i, class)` for example `i` of its split.
pub fn write_gtzan_task(root: &Path, counts: [usize; 3], features: impl Fn(usize, usize) -> Vec<f32>) {
    let rep = root.join("representations/gtzan_ff/synth");
    std::fs::create_dir_all(&rep).unwrap();
    std::fs::create_dir_all(root.join("processed/gtzan_ff")).unwrap();
    let mut meta = serde_json::Map::new();
    for (split, count) in ["train", "valid", "test"].into_iter().zip(counts) {
        for i in 0..count {
            let class = i % 10;
            let uid = format!("{split}{i:03}");
            let file = std::fs::File::create(rep.join(format!("{uid}.npy"))).unwrap();
            ndarray::Array1::from(features(i, class)).write_npy(file).unwrap();
            meta.insert(uid, serde_json::json!({"split": split, "y": GENRES[class]}));
        }
    }
    std::fs::write(root.join("processed/gtzan_ff/meta.json"), serde_json::to_string(&meta).unwrap()).unwrap();
}
