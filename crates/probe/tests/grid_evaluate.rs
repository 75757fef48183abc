//! The grid (resumable, parallel) and best-on-valid evaluation, on the seeded synthetic task of
//! `train_probe.rs`: four Gaussian clusters (dataset `test`, labels "0".."3").

use jukemir_probe::config::ProbeConfig;
use jukemir_probe::{evaluate, grid};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
mod common;
use common::write_clusters;

/// Three short configs: a good standardised one, an MLP, and one that barely moves (tiny
/// learning rate, no standardisation on features offset by 100), so the best is clear.
fn configs() -> Vec<ProbeConfig> {
    let base = ProbeConfig::new("test", "synth")
        .with("early_stopping_boredom", json!(4))
        .unwrap()
        .with("batch_size", json!(32))
        .unwrap()
        .with("max_num_epochs", json!(15))
        .unwrap();
    vec![
        base.with("learning_rate", json!(1e-2)).unwrap(),
        base.with("learning_rate", json!(1e-2)).unwrap().with("hidden_layer_sizes", json!([8])).unwrap(),
        base.with("learning_rate", json!(1e-7))
            .unwrap()
            .with("data_standardization", json!(false))
            .unwrap()
            .with("max_num_epochs", json!(1))
            .unwrap(),
    ]
}

#[test]
fn grid_resumes_and_evaluate_picks_the_best_on_valid() {
    let dir = tempfile::tempdir().unwrap();
    write_clusters(dir.path(), [200, 60, 60]);
    let cfgs = configs();

    let calls = AtomicUsize::new(0);
    let first = grid::run_configs(&cfgs, dir.path(), 2, &|_| {
        calls.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 3);
    assert_eq!(first.len(), 3);
    for (o, c) in first.iter().zip(&cfgs) {
        assert!(o.trained);
        assert_eq!(o.uid, c.uid());
        assert!(o.dir.join("metrics.json").is_file());
    }
    assert!(first[0].valid_primary > 0.9, "{:?}", first[0]);
    assert!(first[2].valid_primary < first[0].valid_primary, "{first:?}");

    // Resumed: nothing is trained, and the recorded primaries come back.
    let second = grid::run_configs(&cfgs, dir.path(), 2, &|_| {}).unwrap();
    assert!(second.iter().all(|o| !o.trained));
    // serde_json parses with `float_roundtrip`, so the recorded values come back bit for bit.
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.valid_primary, b.valid_primary, "{a:?} vs {b:?}");
    }

    // A partial grid: only the removed config is trained again.
    std::fs::remove_dir_all(&first[1].dir).unwrap();
    let third = grid::run_configs(&cfgs, dir.path(), 1, &|_| {}).unwrap();
    assert_eq!(third.iter().map(|o| o.trained).collect::<Vec<_>>(), [false, true, false]);

    let best = evaluate::best_on_valid("test", "synth", dir.path()).unwrap();
    assert_eq!(best.num_runs, 3);
    let top = third.iter().map(|o| o.valid_primary).fold(f64::NEG_INFINITY, f64::max);
    let want = third.iter().filter(|o| o.valid_primary == top).map(|o| o.uid.clone()).min().unwrap();
    assert_eq!(best.uid, want);
    assert_eq!(best.valid["primary"], top);
    assert!(best.test["accuracy"] > 0.9, "{:?}", best.test);
    assert_eq!(best.test["primary"], best.test["accuracy"]);
    // Reloading the saved probe reproduces its validation metrics.
    let valid = evaluate::evaluate_saved(&best.dir, dir.path(), "valid").unwrap();
    assert!((valid["primary"] - best.valid["primary"]).abs() < 1e-12);
    assert!((valid["loss"] - best.valid["loss"]).abs() < 1e-5);
}

#[test]
fn evaluate_without_runs_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(evaluate::best_on_valid("test", "synth", dir.path()).is_err());
    assert!(grid::run_configs(&[], dir.path(), 2, &|_| {}).unwrap().is_empty());
}
