//! MFCC parity with librosa 0.8.1, against fixtures from tools/reference/gen_mfcc_fixtures.py.
//!
//! Tolerance: for each coefficient row, `max |ours - ref| <= 1e-4 * max |ref row|`. A per-row
//! scale is the meaningful one because each row is a DCT of the same dB spectrum: elements near
//! zero carry the absolute error of their row, not a relative one. The maximum elementwise
//! relative error over elements with `|ref| >= 1e-2 * max |ref row|` is printed alongside.

use jukemir_features::{
    mel_filters, melspectrogram, mfcc, power_to_db, DbParams, FftPrecision, MelParams, MelSpectrogramParams, MfccParams,
};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use ndarray_npy::read_npy;
use std::path::PathBuf;

const SR: u32 = 22050;
const ROW_TOL: f32 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn cases() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("load/cases.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
}

/// The reference container's `y /= np.abs(y).max()`, a `float32` division.
fn load_normalised(case: &str) -> Vec<f32> {
    let y: Array1<f32> = read_npy(fixtures().join(format!("load/{case}.npy"))).unwrap();
    let peak = y.iter().fold(0f32, |m, v| m.max(v.abs()));
    y.iter().map(|v| v / peak).collect()
}

fn mfcc_fixture<D: ndarray::Dimension>(name: &str) -> ndarray::Array<f32, D>
where
    ndarray::Array<f32, D>: ndarray_npy::ReadNpyExt,
{
    read_npy(fixtures().join("features/mfcc").join(name)).unwrap()
}

struct RowErrors {
    /// Worst `max |diff| / max |ref|` over rows.
    worst_row: f32,
    /// Worst elementwise relative error where `|ref|` is not tiny for its row.
    worst_elem: f32,
}

fn row_errors(ours: ArrayView2<f32>, reference: ArrayView2<f32>) -> RowErrors {
    assert_eq!(ours.dim(), reference.dim());
    let mut errs = RowErrors { worst_row: 0.0, worst_elem: 0.0 };
    for (a, b) in ours.outer_iter().zip(reference.outer_iter()) {
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(a.iter().all(|v| v.is_finite()));
        errs.worst_row = errs.worst_row.max(if scale > 0.0 { diff / scale } else { diff });
        for (x, y) in a.iter().zip(&b) {
            if y.abs() >= 1e-2 * scale && scale > 0.0 {
                errs.worst_elem = errs.worst_elem.max((x - y).abs() / y.abs());
            }
        }
    }
    errs
}

#[test]
fn mfcc_matches_librosa_on_every_case() {
    let params = MfccParams::default();
    for case in cases() {
        let ours = mfcc(&load_normalised(&case), SR, &params).unwrap();
        let reference: Array2<f32> = mfcc_fixture(&format!("{case}.mfcc.npy"));
        let e = row_errors(ours.view(), reference.view());
        eprintln!(
            "{case}: mfcc {:?} row-relative max err {:.2e}, elementwise rel max {:.2e}",
            ours.dim(),
            e.worst_row,
            e.worst_elem
        );
        assert!(e.worst_row <= ROW_TOL, "{case}: {:.3e} > {ROW_TOL:e}", e.worst_row);
    }
}

#[test]
fn f32_fft_mfcc_stays_within_tolerance() {
    // The opt-in single-precision FFT trades ~5x the error for speed; hold it to the same bound.
    let mut params = MfccParams::default();
    params.mel.precision = FftPrecision::F32;
    for case in cases() {
        let ours = mfcc(&load_normalised(&case), SR, &params).unwrap();
        let reference: Array2<f32> = mfcc_fixture(&format!("{case}.mfcc.npy"));
        let e = row_errors(ours.view(), reference.view());
        eprintln!(
            "{case} (f32 FFT): row-relative max err {:.2e}, elementwise rel max {:.2e}",
            e.worst_row, e.worst_elem
        );
        assert!(e.worst_row <= ROW_TOL, "{case}: {:.3e} > {ROW_TOL:e}", e.worst_row);
    }
}

/// The container's 120-dim summary, recomputed here (in `f64`) only to show how the MFCC error
/// propagates; the production moments live in jukemir-representations.
fn moments(f: &Array2<f32>) -> Vec<f64> {
    let mut m: Array2<f64> = f.mapv(|v| v as f64);
    let mut out = Vec::new();
    for order in 0..3 {
        if order > 0 {
            let n = m.ncols();
            m = &m.slice(ndarray::s![.., 1..]) - &m.slice(ndarray::s![.., ..n - 1]);
        }
        let mean = m.mean_axis(Axis(1)).unwrap();
        let std = m.std_axis(Axis(1), 0.0);
        out.extend(mean.iter().chain(std.iter()));
    }
    out
}

#[test]
fn moment_vector_stays_within_tolerance() {
    for case in cases() {
        let ours = moments(&mfcc(&load_normalised(&case), SR, &MfccParams::default()).unwrap());
        let reference: Array1<f32> = mfcc_fixture(&format!("{case}.vector.npy"));
        // Compare each block of 20 (a mean or std of one diff order) on its own scale.
        let mut worst = 0f64;
        for (a, b) in ours.chunks(20).zip(reference.as_slice().unwrap().chunks(20)) {
            let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
            let diff = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - *y as f64).abs()));
            worst = worst.max(diff / scale);
        }
        eprintln!("{case}: 120-dim vector block-relative max err {worst:.2e}");
        assert!(worst <= ROW_TOL as f64);
    }
}

#[test]
fn mel_filterbank_matches_librosa() {
    let ours = mel_filters(SR, 2048, &MelParams::default());
    let reference: Array2<f32> = mfcc_fixture("mel_basis_22050_2048.npy");
    assert_eq!(ours.dim(), reference.dim());
    let mismatched = ours.iter().zip(&reference).filter(|(a, b)| a != b).count();
    let max_diff = ours.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let peak = reference.iter().fold(0f32, |m, v| m.max(*v));
    eprintln!(
        "mel filterbank: {mismatched} of {} weights differ, max |diff| {max_diff:.2e} (peak {peak:.2e})",
        ours.len()
    );
    // Weights are built with librosa's own f64 formulas and float32 roundings: allow one ULP.
    assert!(max_diff <= peak * f32::EPSILON);
    // Same sparsity pattern, which the sparse projection relies on.
    assert!(ours.iter().zip(&reference).all(|(a, b)| (*a == 0.0) == (*b == 0.0)));
}

#[test]
fn power_to_db_matches_librosa() {
    let input: Array1<f32> = mfcc_fixture("power_to_db.in.npy");
    let reference: Array1<f32> = mfcc_fixture("power_to_db.out.npy");
    let ours = power_to_db(&input, &DbParams::default()).unwrap();
    let max_diff = ours.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("power_to_db: max |diff| {max_diff:.2e} dB");
    // float32 log10 may differ by an ULP between numpy's SIMD loop and libm.
    for (a, b) in ours.iter().zip(&reference) {
        assert!((a - b).abs() <= 4.0 * f32::EPSILON * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn melspectrogram_and_db_match_librosa_on_a_short_clip() {
    let y = &load_normalised("sad_o3_d6")[..SR as usize];
    let power = melspectrogram(y, SR, &MelSpectrogramParams::default()).unwrap();
    let reference: Array2<f32> = mfcc_fixture("sad_o3_d6.1s.melpower.npy");
    assert_eq!(power.dim(), reference.dim());
    // Elementwise relative: every mel band is a sum of non-negative terms, so only summation
    // order (float32 BLAS vs our f64) separates us.
    let rel = power.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs() / b.abs().max(1e-30)));
    eprintln!("melspectrogram (1 s): elementwise rel max err {rel:.2e}");
    assert!(rel <= 1e-5);

    let db = power_to_db(&power, &DbParams::default()).unwrap();
    let reference_db: Array2<f32> = mfcc_fixture("sad_o3_d6.1s.meldb.npy");
    let max_diff = db.iter().zip(&reference_db).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("mel dB (1 s): max |diff| {max_diff:.2e} dB");
    assert!(max_diff <= 1e-4);
}

#[test]
fn shorter_than_one_frame_matches_librosa() {
    // 300 samples: reflect padding wraps around the signal several times, as numpy's does.
    let y: Array1<f32> = mfcc_fixture("tiny.in.npy");
    let ours = mfcc(y.as_slice().unwrap(), SR, &MfccParams::default()).unwrap();
    let reference: Array2<f32> = mfcc_fixture("tiny.mfcc.npy");
    // One frame makes each row a single value, so scale by the frame's largest coefficient.
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_diff = ours.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("tiny (300 samples): mfcc {:?} max |diff| / max |ref| {:.2e}", ours.dim(), max_diff / scale);
    assert_eq!(ours.dim(), reference.dim());
    assert!(max_diff <= ROW_TOL * scale);
}

#[test]
fn degenerate_inputs_give_finite_output() {
    let params = MfccParams::default();
    for y in [vec![0.0f32; 1], vec![0.0; 3000], vec![1e-30; 3000], vec![1.0; 7]] {
        let m = mfcc(&y, SR, &params).unwrap();
        assert!(m.iter().all(|v| v.is_finite()), "len {}", y.len());
        assert_eq!(m.dim(), (20, 1 + y.len() / 512));
    }
    assert!(mfcc(&[], SR, &params).is_err());
}
