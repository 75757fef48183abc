//! End-to-end probe training on a seeded synthetic task: four Gaussian clusters (dataset `test`,
//! labels "0".."3") written as `meta.json` + one `.npy` per clip.

use jukemir_probe::config::ProbeConfig;
use jukemir_probe::data::{self, DataRoots};
use jukemir_probe::train;
use serde_json::json;
mod common;
use common::{write_clusters, DIM};
use ndarray_npy::WriteNpyExt;

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
