//! Our `load` against `librosa.load` (librosa 0.8.1, soundfile 0.14 / libsndfile 1.2.2) on real
//! clips from ../shared/data/music. Fixtures: tools/reference/gen_load_fixtures.py.
//!
//! librosa decoded these through libsndfile 1.2.2, i.e. Ogg Vorbis with libvorbis and MP3 with
//! mpg123 (gapless); we decode with symphonia's own Vorbis and MP3 decoders, so the comparison is
//! by SNR (different decoders agree to float rounding, not bit for bit), after a small lag search
//! in case the decoders' delay handling differs.

use std::path::{Path, PathBuf};

use jukemir_audio::{load, LoadOptions};
use ndarray::Array1;
use ndarray_npy::read_npy;

const MAX_LAG: i64 = 2000;
/// The goal is 60 dB; we measure 125–130 dB, so require 100 dB to catch regressions early.
const MIN_SNR_DB: f64 = 100.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// SNR (dB) of `ours` against `reference` with `ours` shifted by `lag` samples (`ours[i + lag]`
/// compared with `reference[i]`), over the overlapping part.
fn snr_at(ours: &[f32], reference: &[f32], lag: i64) -> f64 {
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (i, &r) in reference.iter().enumerate() {
        let j = i as i64 + lag;
        if j < 0 || j >= ours.len() as i64 {
            continue;
        }
        let d = ours[j as usize] as f64 - r as f64;
        sig += r as f64 * r as f64;
        err += d * d;
    }
    if err == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / err).log10()
    }
}

fn best_lag(ours: &[f32], reference: &[f32]) -> (i64, f64) {
    let at_zero = snr_at(ours, reference, 0);
    if at_zero >= MIN_SNR_DB {
        return (0, at_zero);
    }
    (-MAX_LAG..=MAX_LAG).map(|lag| (lag, snr_at(ours, reference, lag))).fold((0, at_zero), |best, cur| {
        if cur.1 > best.1 {
            cur
        } else {
            best
        }
    })
}

#[test]
fn load_matches_librosa_on_real_clips() {
    let cases_path = repo().join("fixtures/load/cases.json");
    let text = std::fs::read_to_string(&cases_path).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let audio_path = jukemir_test_support::test_file("data/music").join(case["path"].as_str().unwrap());
        let opts = LoadOptions {
            sample_rate: Some(case["sr"].as_u64().unwrap() as u32),
            mono: true,
            offset: case["offset"].as_f64().unwrap(),
            duration: case["duration"].as_f64(),
        };
        let expected: Array1<f32> = read_npy(repo().join(format!("fixtures/load/{name}.npy"))).unwrap();
        let expected = expected.to_vec();
        let t = std::time::Instant::now();
        let ours = load(&audio_path, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let elapsed = t.elapsed();
        assert_eq!(ours.channels, 1);
        assert_eq!(ours.sample_rate, 22050);
        let (lag, snr) = best_lag(&ours.samples, &expected);
        eprintln!(
            "{name}: SNR {snr:.1} dB at lag {lag} (len ours {} / librosa {}, {:.0} ms)",
            ours.samples.len(),
            expected.len(),
            elapsed.as_secs_f64() * 1e3
        );
        if ours.samples.len() != expected.len() {
            failures.push(format!("{name}: length {} != librosa's {}", ours.samples.len(), expected.len()));
        }
        if snr < MIN_SNR_DB {
            failures.push(format!("{name}: SNR {snr:.1} dB < {MIN_SNR_DB} dB"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The decoders alone: native-rate mono against librosa's `sr=None` load of the same span.
#[test]
fn native_rate_decoding_matches_libsndfile() {
    let cases_path = repo().join("fixtures/load/cases.json");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cases_path).unwrap()).unwrap();
    for case in manifest["cases"].as_array().unwrap() {
        let Some(sr_native) = case["sr_native"].as_u64() else { continue };
        let name = case["name"].as_str().unwrap();
        let audio_path = jukemir_test_support::test_file("data/music").join(case["path"].as_str().unwrap());
        let opts = LoadOptions::native().span(case["offset"].as_f64().unwrap(), case["duration"].as_f64());
        let ours = load(&audio_path, &opts).unwrap();
        assert_eq!(ours.sample_rate as u64, sr_native);
        let expected: Array1<f32> = read_npy(repo().join(format!("fixtures/load/{name}.native.npy"))).unwrap();
        assert_eq!(ours.samples.len(), expected.len(), "{name}");
        let snr = snr_at(&ours.samples, expected.as_slice().unwrap(), 0);
        let max_diff = ours.samples.iter().zip(expected.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!("{name} (native {sr_native} Hz): SNR {snr:.1} dB, max |diff| {max_diff:.2e}");
        assert!(snr >= MIN_SNR_DB, "{name}: SNR {snr:.1} dB");
    }
}
