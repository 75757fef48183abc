//! Seeded synthetic tasks shaped like the paper's datasets (split sizes, label kinds, uids), with
//! features of any width, for benchmarks and tests that need a real dataset's shape but not its
//! audio. Split sizes are those of the reference's metadata.

use crate::data::dataset_attrs;
use anyhow::{Context, Result};
use ndarray::Array1;
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::path::Path;

pub const GTZAN_FF_SPLITS: [(&str, usize); 3] = [("train", 443), ("valid", 197), ("test", 290)];
pub const GTZAN_GENRES: [&str; 10] =
    ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"];

/// The dataset a synthetic task imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// gtzan_ff: 443 / 197 / 290 clips, 10 genres.
    GtzanFf,
    /// giantsteps_clips: 923 / 236 / 604 songs cut into 3687 / 942 / 2406 clips (uid
    /// `<song>-<clip>`, scored per song), 24 keys.
    GiantstepsClips,
    /// magnatagatune: 18 706 / 1 825 / 5 329 clips, 50 tags (multi-label).
    Magnatagatune,
}

impl Shape {
    pub fn dataset(self) -> &'static str {
        match self {
            Shape::GtzanFf => "gtzan_ff",
            Shape::GiantstepsClips => "giantsteps_clips",
            Shape::Magnatagatune => "magnatagatune",
        }
    }

    /// Per split: (name, songs, clips). Clips are songs except for giantsteps_clips.
    pub fn splits(self) -> [(&'static str, usize, usize); 3] {
        match self {
            Shape::GtzanFf => GTZAN_FF_SPLITS.map(|(s, n)| (s, n, n)),
            Shape::GiantstepsClips => [("train", 923, 3687), ("valid", 236, 942), ("test", 604, 2406)],
            Shape::Magnatagatune => [("train", 18706, 18706), ("valid", 1825, 1825), ("test", 5329, 5329)],
        }
    }
}

fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller; 1 - u keeps the logarithm finite.
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// [`write_task`] for gtzan_ff.
pub fn write_gtzan_shaped(root: &Path, representation: &str, dim: usize, seed: u64) -> Result<()> {
    write_task(Shape::GtzanFf, root, representation, dim, seed)
}

/// Write `processed/<dataset>/meta.json` and `representations/<dataset>/<representation>/<uid>.npy`
/// under `root`. Each song has a latent point in an 8-dimensional subspace (its class mean, for
/// genres and keys; a random point whose projections decide its tags, for tags), buried in unit
/// noise over `dim` features with per-feature offsets and scales (so that standardisation
/// matters); clips of one song share its latent point. The classes overlap, so probes land well
/// below a perfect score.
pub fn write_task(shape: Shape, root: &Path, representation: &str, dim: usize, seed: u64) -> Result<()> {
    let dataset = shape.dataset();
    let labels = dataset_attrs(dataset)?.labels.context("a labelled dataset")?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // The basis vectors have norm ≈ √dim, so class means sit ~1.5 noise standard deviations
    // apart along each of the 8 directions, whatever the width.
    let separation = 1.5 / (dim as f64).sqrt();
    let basis: Vec<Vec<f64>> = (0..8).map(|_| (0..dim).map(|_| standard_normal(&mut rng)).collect()).collect();
    let latent = |rng: &mut ChaCha8Rng| -> Vec<f64> { (0..8).map(|_| separation * standard_normal(rng)).collect() };
    let class_means: Vec<Vec<f64>> = (0..labels.len()).map(|_| latent(&mut rng)).collect();
    // Tags: each is on when its random direction in the latent space points above a threshold
    // that makes it rare (as most of MagnaTagATune's are).
    let tag_directions: Vec<Vec<f64>> = match shape {
        Shape::Magnatagatune => (0..labels.len()).map(|_| latent(&mut rng)).collect(),
        _ => vec![],
    };
    let offsets: Vec<f64> = (0..dim).map(|_| 50.0 * standard_normal(&mut rng)).collect();
    let scales: Vec<f64> = (0..dim).map(|_| rng.random_range(0.1..10.0)).collect();

    let rep_dir = root.join("representations").join(dataset).join(representation);
    let meta_dir = root.join("processed").join(dataset);
    for dir in [&rep_dir, &meta_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut meta = serde_json::Map::new();
    let mut song_index = 0usize;
    for (split, songs, clips) in shape.splits() {
        for song in 0..songs {
            let (y, point): (Value, Vec<f64>) = match shape {
                Shape::Magnatagatune => {
                    let point = latent(&mut rng);
                    let norm = separation * 8f64.sqrt();
                    let tags: Vec<&str> = labels
                        .iter()
                        .zip(&tag_directions)
                        .filter(|(_, d)| {
                            let projection: f64 = d.iter().zip(&point).map(|(a, b)| a * b).sum();
                            projection / (norm * norm) + 0.3 * standard_normal(&mut rng) > 0.7
                        })
                        .map(|(t, _)| *t)
                        .collect();
                    (json!(tags), point)
                }
                _ => {
                    let class = rng.random_range(0..labels.len());
                    (json!(labels[class]), class_means[class].clone())
                }
            };
            let mean: Vec<f64> = (0..dim).map(|d| point.iter().zip(&basis).map(|(c, b)| c * b[d]).sum()).collect();
            // `clips` spread over `songs`: the first `clips % songs` songs get one more.
            let count = clips / songs + usize::from(song < clips % songs);
            for clip in 0..count {
                let x: Vec<f32> =
                    (0..dim).map(|d| (offsets[d] + scales[d] * (mean[d] + standard_normal(&mut rng))) as f32).collect();
                let uid = match shape {
                    Shape::GiantstepsClips => format!("song{song_index:04}-{clip}"),
                    Shape::GtzanFf => format!("clip{song_index:04}"),
                    Shape::Magnatagatune => format!("clip{song_index:05}"),
                };
                let path = rep_dir.join(format!("{uid}.npy"));
                let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
                Array1::from(x).write_npy(std::io::BufWriter::new(file))?;
                meta.insert(uid, json!({"split": split, "y": y}));
            }
            song_index += 1;
        }
    }
    let meta_path = meta_dir.join("meta.json");
    std::fs::write(&meta_path, serde_json::to_string(&meta)?)
        .with_context(|| format!("cannot write {}", meta_path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{load, DataRoots};

    #[test]
    fn every_shape_loads_with_its_split_sizes() {
        for shape in [Shape::GtzanFf, Shape::GiantstepsClips] {
            let dir = tempfile::tempdir().unwrap();
            write_task(shape, dir.path(), "synthetic", 6, 0).unwrap();
            let data = load(&DataRoots::from_cache(dir.path()), shape.dataset(), "synthetic", Some(0)).unwrap();
            let sizes = [data.train.len(), data.valid.len(), data.test.len()];
            assert_eq!(sizes, shape.splits().map(|(_, _, clips)| clips), "{shape:?}");
            assert_eq!(data.dim, 6);
        }
    }
}
