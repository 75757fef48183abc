//! `jukemir demo`, the README's first command: synthesise, extract, probe, tabulate.

use std::process::Command;

#[test]
fn demo_runs_the_pipeline_and_reruns_reuse_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let no_weights = dir.path().join("cache");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_jukemir"))
            .args(["demo", "-o", out.to_str().unwrap(), "--probes", "3", "--cache-dir", no_weights.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{stderr}");
    assert!(stdout.contains("SYNTHETIC") && stderr.contains("SYNTHETIC"), "{stdout}\n{stderr}");
    assert!(stderr.contains("musicnn: skipped"), "{stderr}");

    // The CSV holds each representation's best-on-valid probe scored on test.
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), ["chroma", "mfcc"]);
    for row in &rows {
        assert_eq!(row[2], "3");
        let test: f64 = row[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&test));
        assert!(stdout.contains(&format!("{:.1}%", 100.0 * test)), "{stdout}");
    }
    // Chroma knows the key of a cadence far better than chance (1/24).
    assert!(rows[0][4].parse::<f64>().unwrap() > 0.5, "{csv}");
    let svg = std::fs::read_to_string(out.join("results.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("SYNTHETIC"));
    assert!(std::fs::read_to_string(out.join("results.md")).unwrap().contains("chroma"));
    assert_eq!(std::fs::read_dir(out.join("probes/synthetic_keys/chroma")).unwrap().count(), 3);

    // A second run reuses every clip, vector and probe, and prints the same table.
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("0 written, 120 skipped"));
    assert_eq!(std::fs::read_to_string(out.join("results.csv")).unwrap(), csv);
}
