//! Config defaults, validation and uids. Expected uids were computed with the reference's rule
//! (`sha1(json.dumps(cfg, indent=2, sort_keys=True))`) by CPython 3.11.

use jukemir_probe::config::{paper_grid, ProbeConfig};
use serde_json::json;

#[test]
fn defaults_match_reference() {
    let c = ProbeConfig::new("gtzan_ff", "jukebox");
    assert!(c.data_standardization && c.dropout_input && c.early_stopping);
    assert_eq!((c.batch_size, c.learning_rate, c.dropout_p), (64, 1e-3, 0.5));
    assert_eq!((c.early_stopping_eval_frequency, c.early_stopping_boredom, c.seed), (8, 256, Some(0)));
    assert_eq!((c.l2_weight_decay, c.max_num_epochs), (None, None));
    assert!(c.hidden_layer_sizes.is_empty());
    assert_eq!(c.early_stopping_metric, "primary");
    assert_eq!(c.uid(), "8e316768ad21614fa6154cfa3d76c2a0c27934fb");
}

#[test]
fn paper_grid_uids_match_python() {
    let grid = paper_grid("gtzan_ff", "jukebox");
    assert_eq!(grid.len(), 216);
    assert_eq!(
        grid[0].to_json(),
        "{\n  \"batch_size\": 64,\n  \"data_standardization\": false,\n  \"dataset\": \"gtzan_ff\",\n  \"dropout_input\": true,\n  \"dropout_p\": 0.25,\n  \"early_stopping\": true,\n  \"early_stopping_boredom\": 256,\n  \"early_stopping_eval_frequency\": 8,\n  \"early_stopping_metric\": \"primary\",\n  \"hidden_layer_sizes\": [],\n  \"l2_weight_decay\": null,\n  \"learning_rate\": 1e-05,\n  \"max_num_epochs\": null,\n  \"representation\": \"jukebox\",\n  \"seed\": 0\n}"
    );
    for (i, uid) in [
        (0, "bef2cd43af61cc375ef1db7713285989a577735f"),
        (1, "61c96cff0e822ae3b485b7402b5dea3e9ea8cff7"),
        (100, "f31fb3cb6011955b4c83cb4ccb10f3733de7cb90"),
        (215, "ef3234401d0d9f7ea66236c4fc981016434fc072"),
    ] {
        assert_eq!(grid[i].uid(), uid, "grid config {i}");
    }
}

#[test]
fn values_are_hashed_as_given() {
    let text = r#"{"dataset": "emomusic", "representation": "mfcc", "seed": null, "max_num_epochs": 10,
        "learning_rate": 3e-5, "early_stopping_metric": "-loss", "hidden_layer_sizes": [512, 256],
        "l2_weight_decay": 0}"#;
    let c = ProbeConfig::from_json_str(text, "inline").unwrap();
    assert_eq!(c.uid(), "48fa502db460a36620eef6bc6bdba3a6f7f7a844");
    assert_eq!(c.seed, None);
    assert_eq!(c.max_num_epochs, Some(10.0));
    assert_eq!(c.hidden_layer_sizes, vec![512, 256]);
    // Round trip through the written text keeps the uid.
    assert_eq!(ProbeConfig::from_json_str(&c.to_json(), "again").unwrap().uid(), c.uid());
}

#[test]
fn unknown_missing_and_ill_typed_fields_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cfg.json");
    std::fs::write(&path, r#"{"dataset": "test", "representation": "x", "lr": 0.1}"#).unwrap();
    let err = format!("{:#}", ProbeConfig::from_file(&path).unwrap_err());
    assert!(err.contains("`lr`") && err.contains("cfg.json"), "{err}");
    let err = format!("{:#}", ProbeConfig::from_json_str(r#"{"dataset": "test"}"#, "x").unwrap_err());
    assert!(err.contains("representation"), "{err}");
    let c = ProbeConfig::new("test", "x");
    assert!(c.with("batch_size", json!(64.0)).is_err());
    assert!(c.with("dropout_p", json!("0.5")).is_err());
    assert!(c.with("hidden_layer_sizes", json!([0])).is_err());
}

#[test]
fn absurd_probe_sizes_are_refused_before_anything_is_allocated() {
    let c = ProbeConfig::new("test", "x");
    let wide = format!("{:#}", c.with("hidden_layer_sizes", json!([1u64 << 40])).unwrap_err());
    assert!(wide.contains("at most 65536"), "{wide}");
    let deep = format!("{:#}", c.with("hidden_layer_sizes", json!(vec![8; 100])).unwrap_err());
    assert!(deep.contains("100 layers"), "{deep}");
    assert!(c.with("hidden_layer_sizes", json!([65536, 512])).is_ok());
}
