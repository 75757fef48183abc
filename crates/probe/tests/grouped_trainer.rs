//! The grid's grouped trainer against the single-config trainers, on the seeded synthetic
//! GTZAN-ff-shaped task of the PyTorch parity test (930 clips, 64 features, 10 genres).
//!
//! - Without dropout nothing is random but the shared batches, so the grouped trainer's hand-written
//!   products, loss gradients and Adam must follow candle's autograd path (`train_graph`) step for
//!   step: equal parameters after three epochs, up to float rounding.
//! - With dropout, a group draws one input mask for all its configs, so a config trained in a group
//!   is a different random variable than the same config trained alone; its distribution over seeds
//!   must be the same: each config's mean test accuracy, and the best-on-valid config's, within four
//!   standard errors of the difference (plus a 0.5-point floor) over eight seeds.

mod common;

use common::{bound, mean_std, write_parity_cache};
use jukemir_probe::config::ProbeConfig;
use jukemir_probe::data::{load, DataRoots, ProbeData};
use jukemir_probe::train::{self, eval, group, TrainedProbe};
use serde_json::{json, Value};

fn config(fields: Value) -> ProbeConfig {
    let mut all = json!({"dataset": "gtzan_ff", "representation": "synth"});
    all.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    ProbeConfig::from_json_str(&all.to_string(), "test config").unwrap()
}

fn data(root: &std::path::Path, seed: i64) -> ProbeData {
    load(&DataRoots::from_cache(root), "gtzan_ff", "synth", Some(seed)).unwrap()
}

fn train_grouped(cfgs: &[ProbeConfig], data: &ProbeData) -> Vec<TrainedProbe> {
    let mut out: Vec<Option<TrainedProbe>> = (0..cfgs.len()).map(|_| None).collect();
    group::train_group(cfgs, data, &|| 1, &mut |_, _| {}, &mut |i, t| {
        out[i] = Some(t);
        Ok(())
    })
    .unwrap();
    out.into_iter().map(|t| t.expect("every config finished")).collect()
}

fn test_accuracy(t: &TrainedProbe, data: &ProbeData) -> f64 {
    let mut x = data.test.x.clone();
    t.scaler.transform(&mut x);
    let m = eval::evaluate(&t.model, &data.attrs, "gtzan_ff", &data.test, &x, data.dim).unwrap();
    m["accuracy"]
}

#[test]
fn without_dropout_the_group_follows_autograd_step_for_step() {
    let dir = tempfile::tempdir().unwrap();
    write_parity_cache(dir.path());
    let data = data(dir.path(), 3);
    let cfgs: Vec<ProbeConfig> = [json!([]), json!([32])]
        .into_iter()
        .flat_map(|hidden| {
            [(1e-3, Value::Null), (1e-4, json!(1e-3))].map(|(lr, l2)| {
                config(json!({"hidden_layer_sizes": hidden, "learning_rate": lr, "l2_weight_decay": l2,
                    "dropout_p": 0.0, "early_stopping": false, "max_num_epochs": 3, "seed": 3}))
            })
        })
        .collect();
    let grouped = train_grouped(&cfgs, &data);
    for (cfg, g) in cfgs.iter().zip(&grouped) {
        let alone = train::train_graph(cfg, &data, &mut |_| {}).unwrap();
        assert_eq!(g.steps, alone.steps);
        let (ours, theirs) = (g.model.flat_params().unwrap(), alone.model.flat_params().unwrap());
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = ours.iter().zip(&theirs).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst <= 1e-4 * scale, "{}: parameters differ by {worst} (scale {scale})", cfg.to_json());
        assert_eq!(g.valid_metrics["accuracy"], alone.valid_metrics["accuracy"], "{}", cfg.to_json());
    }
}

#[test]
fn with_dropout_the_group_agrees_in_distribution_with_single_training() {
    let dir = tempfile::tempdir().unwrap();
    write_parity_cache(dir.path());
    // One group of the paper's grid (standardised, batch 64, dropout 0.5): 3 learning rates × 3
    // L2 × [] / [512]; patience 16 instead of 256 to keep the test short.
    let seeds: Vec<i64> = (0..8).collect();
    let mut template = Vec::new();
    for hidden in [json!([]), json!([512])] {
        for lr in [1e-5, 1e-4, 1e-3] {
            for l2 in [Value::Null, json!(1e-4), json!(1e-3)] {
                template.push(json!({"hidden_layer_sizes": hidden, "learning_rate": lr, "l2_weight_decay": l2,
                    "batch_size": 64, "dropout_p": 0.5, "early_stopping_boredom": 16}));
            }
        }
    }
    let mut grouped = vec![Vec::new(); template.len()];
    let mut alone = vec![Vec::new(); template.len()];
    let (mut best_grouped, mut best_alone) = (Vec::new(), Vec::new());
    for &seed in &seeds {
        let data = data(dir.path(), seed);
        let cfgs: Vec<ProbeConfig> = template
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t["seed"] = seed.into();
                config(t)
            })
            .collect();
        let keys: Vec<_> = cfgs.iter().map(group::group_key).collect();
        assert!(keys.iter().all(|k| k.is_some() && *k == keys[0]), "one group");
        let in_group = train_grouped(&cfgs, &data);
        let single: Vec<TrainedProbe> = cfgs.iter().map(|c| train::train(c, &data, &mut |_| {}).unwrap()).collect();
        for (runs, out, best) in [(&in_group, &mut grouped, &mut best_grouped), (&single, &mut alone, &mut best_alone)]
        {
            let mut top: Option<(f64, f64)> = None;
            for (i, t) in runs.iter().enumerate() {
                let test = test_accuracy(t, &data);
                out[i].push(test);
                // Ties: the first config, as the reference's loop keeps it.
                if top.is_none_or(|(valid, _)| t.valid_metrics["primary"] > valid) {
                    top = Some((t.valid_metrics["primary"], test));
                }
            }
            best.push(top.unwrap().1);
        }
    }
    let (g, g_std) = mean_std(&best_grouped);
    let (a, a_std) = mean_std(&best_alone);
    let limit = bound(g_std, a_std, seeds.len());
    eprintln!("best-on-valid test accuracy: grouped {g:.4} ± {g_std:.4}, alone {a:.4} ± {a_std:.4}");
    assert!((g - a).abs() <= limit, "grouped {g:.4} vs alone {a:.4}: more than {limit:.4} apart");
    let mut failures = Vec::new();
    for (i, (g, a)) in grouped.iter().zip(&alone).enumerate() {
        let ((g, g_std), (a, a_std)) = (mean_std(g), mean_std(a));
        let limit = bound(g_std, a_std, seeds.len());
        eprintln!("config {i:2}: grouped {g:.4} ± {g_std:.4}, alone {a:.4} ± {a_std:.4} (bound {limit:.4})");
        if (g - a).abs() > limit {
            failures.push(format!("config {i}: {} ({g:.4} vs {a:.4})", template[i]));
        }
    }
    assert!(failures.is_empty(), "outside noise:\n{}", failures.join("\n"));
}
