//! Killed runs and concurrent workers lose nothing: `jukemir extract` and `jukemir probe grid` are
//! SIGKILLed at several points and restarted, or run twice at once on the same folders, and must
//! end as an uninterrupted run ends, with no temporary files left behind.

mod common;

use common::{hidden_entries, jukemir, kill_after, run};

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

/// `n` synthetic clips of 3 s, as WAVs in `dir`.
fn clips(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let set = jukemir_datasets::synthetic::SyntheticKeys { variants_per_key: 2, seconds: 3.0, ..Default::default() };
    for i in 0..n {
        let (_, samples) = set.render(i);
        jukemir_audio::write_wav_pcm16(dir.join(format!("{i:02}.wav")), &jukemir_audio::Audio::mono(samples, 22050))
            .unwrap();
    }
}

/// Every output of `reference` exists in `other` with the same bytes, and nothing else does.
fn same_outputs(reference: &Path, other: &Path) {
    let names = |dir: &Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(reference), names(other));
    for name in names(reference) {
        assert_eq!(std::fs::read(reference.join(&name)).unwrap(), std::fs::read(other.join(&name)).unwrap(), "{name}");
    }
}

#[test]
fn killed_extract_runs_resume_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    clips(&input, 24);
    let reference = tmp.path().join("reference");
    let extract = |out: &Path| {
        let mut cmd = jukemir();
        cmd.args(["extract", "mfcc", input.to_str().unwrap(), out.to_str().unwrap(), "-j", "1"]);
        cmd
    };
    run(&mut extract(&reference));
    for (k, millis) in [40u64, 250, 600].into_iter().enumerate() {
        let out = tmp.path().join(format!("killed{k}"));
        kill_after(extract(&out).spawn().unwrap(), Duration::from_millis(millis));
        let out_text = run(&mut extract(&out));
        let written = String::from_utf8_lossy(&out_text.stderr).into_owned();
        assert!(written.contains("0 failed"), "{written}");
        same_outputs(&reference, &out);
        assert!(hidden_entries(&out).is_empty(), "left behind: {:?}", hidden_entries(&out));
    }
}

#[test]
fn overlapping_extract_workers_end_with_every_output_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    clips(&input, 24);
    let reference = tmp.path().join("reference");
    let i = input.to_str().unwrap();
    run(jukemir().args(["extract", "chroma", i, reference.to_str().unwrap()]));
    // A resubmitted array: batches 0 of 16 and 1 of 8 overlap on files 8–15; and a full run.
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let workers: Vec<Child> = [
        vec!["--batch-size", "16", "--batch-idx", "0"],
        vec!["--batch-size", "8", "--batch-idx", "1"],
        vec!["--batch-size", "24", "--batch-idx", "0"],
    ]
    .into_iter()
    .map(|batch| jukemir().args(["extract", "chroma", i, o, "-j", "1"]).args(batch).spawn().unwrap())
    .collect();
    for mut worker in workers {
        assert!(worker.wait().unwrap().success());
    }
    same_outputs(&reference, &out);
    assert!(hidden_entries(&out).is_empty());
}

/// A small gtzan_ff-shaped task: 10 classes, 16 dims.
fn write_task(root: &Path) {
    common::write_gtzan_task(root, [200, 60, 60], |i, class| {
        (0..16).map(|d| if d == class { 2.0 } else { 0.0 } + ((i * 7 + d * 13) % 11) as f32 / 5.0).collect()
    });
}

fn grid(cache: &Path, limit: usize) -> Command {
    let mut cmd = jukemir();
    cmd.args(["probe", "grid", "gtzan_ff", "synth", "--cache-dir", cache.to_str().unwrap(), "-j", "1"])
        .args(["--limit", &limit.to_string()]);
    cmd
}

/// `(trained, saved)` from `probe grid`'s summary line.
fn grid_counts(out: &Output) -> (usize, usize) {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.contains(" trained, ")).unwrap_or_else(|| panic!("{text}"));
    let numbers: Vec<usize> =
        line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    (numbers[1], numbers[2])
}

fn finished_probes(cache: &Path) -> Vec<String> {
    let dir = cache.join("probes/gtzan_ff/synth");
    let mut uids: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("metrics.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    uids.sort();
    uids
}

#[test]
fn killed_probe_grids_resume_and_concurrent_workers_share_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let limit = 6;

    let reference = tmp.path().join("reference");
    write_task(&reference);
    run(&mut grid(&reference, limit));
    let expected = finished_probes(&reference);
    assert_eq!(expected.len(), limit);

    for (k, millis) in [150u64, 800].into_iter().enumerate() {
        let cache = tmp.path().join(format!("killed{k}"));
        write_task(&cache);
        kill_after(grid(&cache, limit).spawn().unwrap(), Duration::from_millis(millis));
        let out = run(&mut grid(&cache, limit));
        let (trained, saved) = grid_counts(&out);
        assert_eq!(trained + saved, limit);
        assert_eq!(finished_probes(&cache), expected);
        let left = hidden_entries(&cache.join("probes/gtzan_ff/synth"));
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    // Two workers at once: every config is trained by exactly one of them.
    let cache = tmp.path().join("shared");
    write_task(&cache);
    let a = grid(&cache, limit).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let b = grid(&cache, limit).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let ((trained_a, _), (trained_b, _)) = (grid_counts(&a), grid_counts(&b));
    assert_eq!(trained_a + trained_b, limit, "trained {trained_a} + {trained_b}");
    assert_eq!(finished_probes(&cache), expected);
    assert!(hidden_entries(&cache.join("probes/gtzan_ff/synth")).is_empty());
}
