//! `jukemir probe grid --slurm` writes configs and an array script that really trains them (run
//! here with bash, as Slurm would run each task), and `jukemir report` tabulates the result.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// A small separable gtzan_ff-shaped task: 10 classes, 8 dims, deterministic.
fn write_task(root: &Path) {
    common::write_gtzan_task(root, [100, 40, 40], |i, class| {
        (0..8)
            .map(|d| {
                let one_hot = if d == class % 8 { 3.0 } else { 0.0 };
                one_hot + ((i * 7 + d * 13) % 11) as f32 / 11.0 + if class >= 8 && d == 0 { 2.0 } else { 0.0 }
            })
            .collect()
    });
}

fn jukemir(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jukemir")).args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn slurm_array_tasks_train_the_grid_and_report_tabulates_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    write_task(&cache);
    let script = dir.path().join("grid.sbatch");
    let c = cache.to_str().unwrap();
    let out = jukemir(&[
        "probe",
        "grid",
        "gtzan_ff",
        "synth",
        "--cache-dir",
        c,
        "--limit",
        "3",
        "--slurm",
        script.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let grid_dir = cache.join("probes/gtzan_ff/synth");
    let cfgs: Vec<_> = std::fs::read_dir(&grid_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(cfgs.len(), 3, "{cfgs:?}");
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(body.contains("#SBATCH --array=0-2\n"), "{body}");

    let task = |id: &str| Command::new("bash").arg(&script).env("SLURM_ARRAY_TASK_ID", id).output().unwrap();
    for id in ["0", "1", "2"] {
        let out = task(id);
        assert!(out.status.success(), "task {id}: {}", text(&out));
    }
    let runs = std::fs::read_dir(&grid_dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("metrics.json").is_file())
        .count();
    assert_eq!(runs, 3);
    // A resubmitted task skips its finished config; an index outside the array fails clearly.
    let again = task("1");
    assert!(again.status.success() && text(&again).contains("already trained"), "{}", text(&again));
    let outside = task("3");
    assert_eq!(outside.status.code(), Some(2), "{}", text(&outside));
    assert!(text(&outside).contains("not a task of this array"));

    let report_dir = dir.path().join("report");
    let out = jukemir(&["report", "--cache-dir", c, "--out", report_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.lines().next().unwrap().contains("Genre Acc"), "{printed}");
    assert!(printed.lines().nth(1).unwrap().starts_with("synth"), "{printed}");
    for name in ["results.md", "results.csv", "results.svg"] {
        assert!(report_dir.join(name).is_file(), "{name}");
    }
    assert!(cache.join("evaluations/gtzan_ff/synth.json").is_file());
}

#[test]
fn report_without_probes_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = jukemir(&["report", "--cache-dir", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("jukemir probe grid"), "{}", text(&out));
}
