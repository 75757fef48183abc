//! Our resampler against librosa 0.8.1 / resampy 0.2.2 on identical input (the fixture's native-rate
//! mono signal), so only resampling is compared. Fixtures: tools/reference/gen_load_fixtures.py.

use jukemir_audio::{librosa_resample, ResampleFilter};
use ndarray::Array1;
use ndarray_npy::read_npy;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/load").join(name);
    let a: Array1<f32> = read_npy(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    a.to_vec()
}

fn check(case: &str, sr_native: u32) {
    let native = fixture(&format!("{case}.native.npy"));
    let expected = fixture(&format!("{case}.npy"));
    let ours = librosa_resample(&native, sr_native, 22050, ResampleFilter::KaiserBest, false).unwrap();
    assert_eq!(ours.len(), expected.len());
    let peak = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_err = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    eprintln!("{case}: max |ours - resampy| = {max_err:.3e} (peak {peak:.3})");
    // Same filter and taps; resampy rounds its sum to f32 after every tap, we once at the end.
    assert!(max_err <= 1e-6 * peak, "{case}: max abs error {max_err} (peak {peak})");
}

#[test]
fn downsampling_44k1_matches_resampy() {
    check("sad_o3_d6", 44100);
}

#[test]
fn upsampling_16k_matches_resampy() {
    check("joram_d6", 16000);
}
