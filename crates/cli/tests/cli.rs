//! The `jukemir` binary as a user runs it.

use ndarray::Array1;
use ndarray_npy::read_npy;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn jukemir(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jukemir"));
    cmd.args(args).env_remove("SLURM_ARRAY_TASK_ID").env_remove("JOB_COMPLETION_INDEX");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn shared_music(rel: &str) -> PathBuf {
    jukemir_test_support::music(rel)
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

/// A folder with `n` short synthetic clips named 0.wav, 1.wav, …
fn clips(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let set = jukemir_datasets::synthetic::SyntheticKeys { variants_per_key: 1, seconds: 1.5, ..Default::default() };
    for i in 0..n {
        let (_, samples) = set.render(i * 3);
        jukemir_audio::write_wav_pcm16(input.join(format!("{i}.wav")), &jukemir_audio::Audio::mono(samples, 22050))
            .unwrap();
    }
    (dir, input)
}

fn npy_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn extract_writes_vectors_and_reports_bad_files_by_name() {
    let (tmp, input) = clips(2);
    std::fs::write(input.join("broken.mp3"), b"this is not an mp3 file at all").unwrap();
    let out = tmp.path().join("out");
    let run = jukemir(&["extract", "mfcc", input.to_str().unwrap(), out.to_str().unwrap()], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stderr(&run).contains("broken.mp3"), "{}", stderr(&run));
    assert_eq!(npy_names(&out), ["0.npy", "1.npy"]);
    let v: Array1<f32> = read_npy(out.join("0.npy")).unwrap();
    assert_eq!(v.len(), 120);
}

#[test]
fn batch_index_comes_from_slurm_and_past_the_end_is_an_error() {
    let (tmp, input) = clips(3);
    let out = tmp.path().join("out");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let run = jukemir(&["extract", "chroma", i, o, "--batch-size", "2"], &[("SLURM_ARRAY_TASK_ID", "1")]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(npy_names(&out), ["2.npy"]);
    let run = jukemir(&["extract", "chroma", i, o, "--batch-size", "2", "--batch-idx", "2"], &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("past the end"), "{}", stderr(&run));
    let run = jukemir(&["extract", "chroma", i, o, "--batch-size", "2"], &[]);
    assert!(stderr(&run).contains("--batch-idx"), "{}", stderr(&run));
}

#[test]
fn unknown_and_future_representations_are_refused_clearly() {
    let run = jukemir(&["extract", "nope", ".", "out"], &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("chroma"), "{}", stderr(&run));
    let cache = tempfile::tempdir().unwrap();
    let run = jukemir(&["extract", "jukebox", ".", "out", "--cache-dir", cache.path().to_str().unwrap()], &[]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("openaipublic.azureedge.net/jukebox/models/5b/"), "{}", stderr(&run));
}

/// The whole path a user takes (our decoder and resampler, then the features) on a real track,
/// against the reference container's output computed by librosa 0.8.1 on the same file.
#[test]
fn extract_on_a_real_track_matches_the_reference_vectors() {
    let track = shared_music("wesnoth/defeat.ogg");
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(&track, input.join("defeat_full.ogg")).unwrap();
    for (name, tolerance) in [("mfcc", 1e-3), ("chroma", 5e-3)] {
        let out = tmp.path().join(name);
        let run = jukemir(&["extract", name, input.to_str().unwrap(), out.to_str().unwrap()], &[]);
        assert!(run.status.success(), "{}", stderr(&run));
        let ours: Array1<f32> = read_npy(out.join("defeat_full.npy")).unwrap();
        let reference: Array1<f32> = read_npy(fixture(&format!("features/{name}/defeat_full.vector.npy"))).unwrap();
        assert_eq!(ours.len(), reference.len());
        // Relative to the largest value of each of the six statistics blocks.
        let block = ours.len() / 6;
        let mut worst = 0f32;
        for b in 0..6 {
            let range = b * block..(b + 1) * block;
            let scale = reference.slice(ndarray::s![range.clone()]).iter().fold(0f32, |m, v| m.max(v.abs()));
            for k in range {
                worst = worst.max((ours[k] - reference[k]).abs() / scale);
            }
        }
        eprintln!("{name}: end-to-end max error {worst:.2e} of each statistic block's largest value");
        assert!(worst <= tolerance, "{name}: {worst}");
    }
}

/// The long-file memory benchmark runs end to end on a short recording: both of jukemir's reads
/// agree (it fails otherwise) and it prints their peak memory and the ratio.
#[test]
fn bench_long_audio_prints_peak_memory_of_both_reads() {
    let out = jukemir(&["bench", "long-audio", "--minutes", "0.6", "--rate", "48000", "--no-reference"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("jukemir, streamed (extract jukebox)") && text.contains("MiB"), "{text}");
    assert!(text.contains("x the whole-file load's peak memory"), "{text}");
}
