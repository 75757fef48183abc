//! The clmr representation end to end (decode → 22050 Hz → frames → SampleCNN → mean) against the
//! reference container's code path run with CLMR's PyTorch encoder on a tiny random model
//! (`tools/reference/gen_clmr_fixtures.py`), on real clips and a synthetic exact-multiple signal.

use jukemir_models::sample_cnn::SampleCnn;
use jukemir_representations::clmr::{ClmrRepresentation, FRAME_LENGTH};
use jukemir_representations::Representation;
use ndarray::Array1;
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn tiny() -> ClmrRepresentation {
    ClmrRepresentation::new(SampleCnn::from_checkpoint(&repo("fixtures/clmr/tiny_random.ckpt")).unwrap())
}

fn expected(stem: &str) -> Array1<f32> {
    let path = repo(&format!("fixtures/clmr/{stem}.tiny.representation.npy"));
    Array1::<f32>::read_npy(std::fs::File::open(path).unwrap()).unwrap()
}

/// Largest difference relative to the largest reference value.
fn relative_error(ours: &[f32], theirs: &Array1<f32>) -> f32 {
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max) / scale
}

#[test]
fn real_clips_match_the_reference_container() {
    let shared = jukemir_test_support::test_file("data/music");
    if !shared.is_dir() {
        eprintln!("skipping: {} is missing", shared.display());
        return;
    }
    let repr = tiny();
    for (file, stem) in [
        ("musicnn/TRWJAZW128F42760DD_test.mp3", "TRWJAZW128F42760DD_test"),
        ("musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3", "joram-moments_of_clarity-08-solipsism-59-88"),
        ("wesnoth/defeat.ogg", "defeat"),
        ("wesnoth/sad.ogg", "sad"),
    ] {
        let ours = repr.extract_file(&shared.join(file)).unwrap();
        assert_eq!(ours.len(), repr.dim());
        let err = relative_error(&ours, &expected(stem));
        eprintln!("{stem}: max error {err:.2e} of the largest value");
        // The decoders differ (symphonia/lewton here, libsndfile there) by < 1e-6 of full scale.
        assert!(err < 1e-4, "{stem}: {err}");
    }
}

#[test]
fn exact_multiple_drops_its_last_full_frame_and_short_audio_fails() {
    let signal: Vec<f32> = (0..2 * FRAME_LENGTH)
        .map(|i| {
            let t = i as f64 / 22050.0;
            let tau = 2.0 * std::f64::consts::PI;
            (0.4 * (tau * 220.0 * t).sin()
                + 0.2 * (tau * 1330.0 * t + 0.5).sin()
                + 0.1 * (tau * 3.0 * t).sin() * (tau * 5100.0 * t).sin()) as f32
        })
        .collect();
    let repr = tiny();
    let ours = repr.from_signal(&signal).unwrap();
    let err = relative_error(&ours, &expected("synthetic_2frames"));
    assert!(err < 1e-4, "{err}");
    // 1.5 frames: two pieces, one used — the same frame.
    assert_eq!(repr.from_signal(&signal[..FRAME_LENGTH * 3 / 2]).unwrap(), ours);
    for short in [0, 1000, FRAME_LENGTH] {
        let err = repr.from_signal(&signal[..short]).unwrap_err().to_string();
        assert!(err.contains("too short"), "{short}: {err}");
    }
}
