//! The musicnn representation end to end with the real MSD_musicnn and MTT_musicnn weights (the
//! PyPI wheel in ../shared) against the `musicnn` package's extractor run by the reference
//! container's code (`tools/reference/gen_musicnn_fixtures.py`: TensorFlow 2.15, librosa 0.7.0).

use jukemir_representations::musicnn::{log_mel, mel_spectrogram, N_MELS};
use jukemir_representations::plugin::load;
use jukemir_representations::LoadContext;
use ndarray::{Array1, Array3};
use ndarray_npy::ReadNpyExt;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn npy<T: ReadNpyExt>(name: &str) -> T {
    T::read_npy(std::fs::File::open(repo(&format!("fixtures/musicnn/{name}"))).unwrap()).unwrap()
}

fn relative_error(ours: &[f32], theirs: &[f32]) -> f32 {
    assert_eq!(ours.len(), theirs.len());
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max) / scale
}

#[test]
fn log_mel_input_matches_the_extractors() {
    let audio: Array1<f32> = npy("joram-moments_of_clarity-08-solipsism-59-88.audio16k.npy");
    let theirs: Array3<f32> = npy("joram-moments_of_clarity-08-solipsism-59-88.input.npy");
    let ours = log_mel(&mel_spectrogram(), audio.as_slice().unwrap()).unwrap();
    let patch = &ours.values[..187 * N_MELS];
    let err = relative_error(patch, theirs.as_slice().unwrap());
    // float16 rounding can flip one step (~5e-4 relative) where the mel differs by 1e-7.
    eprintln!("log-mel: {err:.2e}");
    assert!(err < 1e-3, "{err}");
}

#[test]
fn representations_of_real_clips_match_the_reference_container() {
    let shared = jukemir_test_support::test_data();
    let wheel = shared.join("weights/musicnn-0.1.0-py3-none-any.whl");
    if !wheel.is_file() {
        eprintln!("skipping: {} is missing", wheel.display());
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    for model in ["MSD_musicnn", "MTT_musicnn"] {
        let context = LoadContext { weights: Some(wheel.clone()), cache_root: cache.path().to_path_buf() };
        let repr = load("musicnn", &["--model", model], &context).unwrap();
        assert_eq!(repr.dim(), 1506);
        for (file, stem) in [
            ("musicnn/TRWJAZW128F42760DD_test.mp3", "TRWJAZW128F42760DD_test"),
            ("musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3", "joram-moments_of_clarity-08-solipsism-59-88"),
            ("wesnoth/defeat.ogg", "defeat"),
            ("wesnoth/sad.ogg", "sad"),
        ] {
            let ours = repr.extract_file(&shared.join("data/music").join(file)).unwrap();
            let theirs: Array1<f32> = npy(&format!("{stem}.{model}.representation.npy"));
            let err = relative_error(&ours, theirs.as_slice().unwrap());
            eprintln!("{model} {stem}: {err:.2e}");
            assert!(err < 1e-4, "{model} {stem}: {err}");
        }
    }
    // The wheel was unpacked once into the cache and is reused from there.
    assert!(cache.path().join("weights/musicnn/MSD_musicnn/.index").is_file());
}

#[test]
fn missing_weights_and_short_audio_say_what_to_do() {
    let cache = tempfile::tempdir().unwrap();
    let context = LoadContext { cache_root: cache.path().to_path_buf(), ..Default::default() };
    let err = format!("{:#}", load("musicnn", &[], &context).err().unwrap());
    assert!(err.contains("jukemir weights fetch musicnn_big") && err.contains("--model MSD_musicnn"), "{err}");
    let err = format!("{:#}", load("musicnn", &["--model", "MSD_big"], &context).err().unwrap());
    assert!(err.contains("MSD_big") && err.contains("MSD_musicnn_big, MSD_musicnn, MTT_musicnn"), "{err}");

    let wheel = jukemir_test_support::test_file("weights/musicnn-0.1.0-py3-none-any.whl");
    if wheel.is_file() {
        let context = LoadContext { weights: Some(wheel), cache_root: cache.path().to_path_buf() };
        let repr = load("musicnn", &["--model", "MSD_musicnn"], &context).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&short, spec).unwrap();
        for i in 0..40000 {
            w.write_sample(((i as f32 * 0.05).sin() * 8000.0) as i16).unwrap();
        }
        w.finalize().unwrap();
        let err = repr.extract_file(&short).unwrap_err().to_string();
        assert!(err.contains("too short"), "{err}");
    }
}
