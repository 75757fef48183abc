//! End-to-end probe training on a seeded synthetic task: four Gaussian clusters (dataset `test`,
//! labels "0".."3") written as `meta.json` + one `.npy` per clip.

use jukemir_probe::config::ProbeConfig;
use jukemir_probe::data::{self, DataRoots};
use jukemir_probe::train;
use ndarray::Array1;
use ndarray_npy::WriteNpyExt;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::path::Path;

const DIM: usize = 16;

fn write_clusters(root: &Path, per_split: [usize; 3]) {
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

fn cfg() -> ProbeConfig {
    let c = ProbeConfig::new("test", "synth");
    let c = c.with("early_stopping_boredom", json!(8)).unwrap();
    let c = c.with("batch_size", json!(32)).unwrap();
    c.with("learning_rate", json!(1e-2)).unwrap()
}

#[test]
fn linear_probe_learns_clusters_and_saves() {
    let dir = tempfile::tempdir().unwrap();
    write_clusters(dir.path(), [200, 60, 60]);
    let cfg = cfg();
    let mut evals = 0;
    let (trained, out) = train::execute(&cfg, dir.path(), &mut |_| evals += 1).unwrap();
    assert!(evals > 8);
    let acc = trained.valid_metrics["accuracy"];
    assert!(acc > 0.95, "valid accuracy {acc}");
    assert_eq!(trained.valid_metrics["primary"], acc);
    assert_eq!(out, dir.path().join("probes/test/synth").join(cfg.uid()));
    for f in ["cfg.json", "scaler.json", "probe.safetensors", "metrics.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert_eq!(std::fs::read_to_string(out.join("cfg.json")).unwrap(), cfg.to_json());
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["accuracy"].as_f64().unwrap(), acc);
    // Reloaded weights are the trained ones.
    let loaded = jukemir_probe::model::SimpleMlp::load_safetensors(&out.join("probe.safetensors"), 0, 0.5).unwrap();
    assert_eq!(loaded.flat_params().unwrap(), trained.model.flat_params().unwrap());
    // Saving again replaces the directory and leaves no temporaries.
    train::save(&trained, &dir.path().join("probes")).unwrap();
    assert_eq!(std::fs::read_dir(dir.path().join("probes/test/synth")).unwrap().count(), 1);
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    write_clusters(dir.path(), [80, 20, 20]);
    let roots = DataRoots::from_cache(dir.path());
    let cfg = cfg().with("hidden_layer_sizes", json!([8])).unwrap().with("max_num_epochs", json!(3)).unwrap();
    let run = |cfg: &ProbeConfig| {
        let data = data::load(&roots, "test", "synth", cfg.seed).unwrap();
        train::train(cfg, &data, &mut |_| {}).unwrap().model.flat_params().unwrap()
    };
    let a = run(&cfg);
    assert_eq!(a, run(&cfg));
    assert_ne!(a, run(&cfg.with("seed", json!(1)).unwrap()));
}

#[test]
fn splits_are_sorted_then_shuffled_like_cpython() {
    let dir = tempfile::tempdir().unwrap();
    write_clusters(dir.path(), [10, 4, 4]);
    let data = data::load(&DataRoots::from_cache(dir.path()), "test", "synth", Some(0)).unwrap();
    // CPython: random.seed(0); random.shuffle(list(range(10))) → [7, 8, 1, 5, 3, 4, 2, 0, 9, 6].
    let want: Vec<String> = [7, 8, 1, 5, 3, 4, 2, 0, 9, 6].iter().map(|i| format!("train{i:04}")).collect();
    assert_eq!(data.train.uids, want);
    assert_eq!(data.dim, DIM);
    assert_eq!(data.valid.len(), 4);
}

#[test]
fn data_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_clusters(dir.path(), [8, 4, 4]);
    let roots = DataRoots::from_cache(dir.path());
    let bad = dir.path().join("representations/test/synth/train0003.npy");
    ndarray::Array2::<f32>::zeros((2, 2)).write_npy(std::fs::File::create(&bad).unwrap()).unwrap();
    let err = format!("{:#}", data::load(&roots, "test", "synth", Some(0)).unwrap_err());
    assert!(err.contains("train0003.npy") && err.contains("[2, 2]"), "{err}");
    std::fs::remove_file(&bad).unwrap();
    let err = format!("{:#}", data::load(&roots, "test", "synth", Some(0)).unwrap_err());
    assert!(err.contains("train0003.npy"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    write_clusters(empty.path(), [8, 0, 4]);
    let err = format!("{:#}", data::load(&DataRoots::from_cache(empty.path()), "test", "synth", Some(0)).unwrap_err());
    assert!(err.contains("valid") && err.contains("meta.json"), "{err}");
}
