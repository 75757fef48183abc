//! chroma_cqt parity with librosa 0.8.1, against fixtures from tools/reference/gen_chroma_fixtures.py.
//!
//! Tolerances:
//! - tuning: equal to librosa's (it is a histogram edge, quantised to 0.01 of a bin);
//! - chroma: per frame, `max |ours - ref| <= 1e-3 · max |ref frame|` (frames are ∞-normalised, so
//!   the scale is 1 except for silent frames, where both must be 0);
//! - |CQT|: per frame, `max |ours - ref| <= 1e-4 · max |ref frame|`;
//! - the 72-value moment vector: `|ours - ref| <= 1e-3` (chroma values lie in [0, 1]);
//! - the top-octave FFT filter basis: same sparsity pattern, values within `1e-6 · max |ref|`.
//!
//! Measured errors are printed (run with `--nocapture`).

use jukemir_features::cqt::{cqt, cqt_filter_fft, CqtError, CqtParams};
use jukemir_features::filters_cq::c1_hz;
use jukemir_features::{chroma_cqt, estimate_tuning, ChromaCqtParams, ChromaError};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use ndarray_npy::read_npy;
use serde_json::Value;
use std::path::PathBuf;

const SR: u32 = 22050;
const CHROMA_TOL: f32 = 1e-3;
const CQT_TOL: f32 = 1e-4;
const VECTOR_TOL: f32 = 1e-3;
const BASIS_TOL: f32 = 1e-6;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn chroma_fixture<T: ndarray_npy::ReadNpyExt>(name: &str) -> T {
    read_npy(fixtures().join("features/chroma").join(name)).unwrap()
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(fixtures().join("features/chroma/cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Tunings are stored as strings: Rust's `str::parse` is exact, serde_json's default is not.
fn tuning_of(entry: &Value) -> f64 {
    entry["tuning"].as_str().unwrap().parse().unwrap()
}

fn cases() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("load/cases.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
}

/// The reference container's `y /= np.abs(y).max()`, a `float32` division.
fn load_normalised(case: &str) -> Vec<f32> {
    let y: Array1<f32> = read_npy(fixtures().join(format!("load/{case}.npy"))).unwrap();
    let peak = y.iter().fold(0f32, |m, v| m.max(v.abs()));
    y.iter().map(|v| v / peak).collect()
}

/// Worst per-frame `max |diff| / max |ref|` (absolute difference where the frame is all zero).
fn worst_frame_error(ours: ArrayView2<f32>, reference: ArrayView2<f32>) -> f32 {
    assert_eq!(ours.dim(), reference.dim());
    assert!(ours.iter().all(|v| v.is_finite()));
    ours.axis_iter(Axis(1))
        .zip(reference.axis_iter(Axis(1)))
        .map(|(a, b)| {
            let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
            let diff = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            if scale > 0.0 {
                diff / scale
            } else {
                diff
            }
        })
        .fold(0.0, f32::max)
}

/// The reference container's moments: mean and std of the 0th, 1st and 2nd time differences.
fn moments(f: &Array2<f32>) -> Vec<f32> {
    let mut out = Vec::new();
    let mut d = f.mapv(|v| v as f64);
    for order in 0..3 {
        if order > 0 {
            let n = d.ncols();
            d = &d.slice(ndarray::s![.., 1..]) - &d.slice(ndarray::s![.., ..n - 1]);
        }
        let mean = d.mean_axis(Axis(1)).unwrap();
        let std = d.std_axis(Axis(1), 0.0);
        out.extend(mean.iter().map(|&v| v as f32));
        out.extend(std.iter().map(|&v| v as f32));
    }
    out
}

#[test]
fn top_octave_filter_basis_matches_librosa() {
    let reference: Array3<f32> = chroma_fixture("basis_c7.npy");
    let meta = &manifest()["basis_c7"];
    let basis = cqt_filter_fft(SR as f64, c1_hz() * 64.0, 36, 36, 1.0, 0.01).unwrap();
    assert_eq!(basis.n_fft, meta["n_fft"].as_u64().unwrap() as usize);
    let nnz: Vec<u64> = meta["nnz_per_row"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let ours_nnz: Vec<u64> = (0..36).map(|i| basis.sparse.row(i).0.len() as u64).collect();
    assert_eq!(ours_nnz, nnz, "sparsity pattern");
    let dense = basis.sparse.to_dense();
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut worst = 0f32;
    let mut exact = 0usize;
    for ((i, j), v) in dense.indexed_iter() {
        let (re, im) = (reference[[i, j, 0]], reference[[i, j, 1]]);
        worst = worst.max((v.re - re).abs()).max((v.im - im).abs());
        exact += usize::from(v.re == re && v.im == im);
    }
    eprintln!("basis: max |diff| / max |ref| = {:.3e}, {exact}/{} entries bit-identical", worst / scale, dense.len());
    assert!(worst <= BASIS_TOL * scale);
}

#[test]
fn tuning_equals_librosas() {
    let manifest = manifest();
    for case in cases() {
        let y = load_normalised(&case);
        let expected = tuning_of(&manifest["cases"][&case]);
        let ours = estimate_tuning(&y, SR, 36);
        eprintln!("{case}: tuning ours {ours} librosa {expected}");
        assert_eq!(ours, expected, "{case}");
    }
}

#[test]
fn cqt_magnitude_matches() {
    let manifest = manifest();
    let case = manifest["cqt_case"].as_str().unwrap();
    let tuning = tuning_of(&manifest["cases"][case]);
    let reference: Array2<f32> = chroma_fixture(&format!("{case}.cqt_abs.npy"));
    let y = load_normalised(case);
    let params = CqtParams { n_bins: 252, bins_per_octave: 36, tuning: Some(tuning), ..CqtParams::default() };
    let ours = cqt(&y, SR, &params).unwrap().mapv(|c| c.norm());
    let frame_err = worst_frame_error(ours.view(), reference.view());
    let scale = reference.iter().fold(0f32, |m, v| m.max(*v));
    let mut worst_rel = 0f32;
    for (a, b) in ours.iter().zip(&reference) {
        if *b >= 1e-3 * scale {
            worst_rel = worst_rel.max((a - b).abs() / b);
        }
    }
    eprintln!(
        "{case}: |CQT| worst frame error {frame_err:.3e}, worst relative error (|ref| >= 1e-3 max) {worst_rel:.3e}"
    );
    assert!(frame_err <= CQT_TOL, "{frame_err}");
}

/// Other `librosa.cqt` configurations, to cover vqt's branches: early downsampling, scale=False,
/// a kaiser_best top octave, a partial lowest octave, estimated tuning with another hop.
#[test]
fn cqt_variants_match() {
    let manifest = manifest();
    let case = manifest["variant_case"].as_str().unwrap();
    let y = &load_normalised(case)[..manifest["variant_len"].as_u64().unwrap() as usize];
    for (name, v) in manifest["variants"].as_object().unwrap() {
        let get = |key: &str| v.get(key).filter(|x| !x.is_null());
        let params = CqtParams {
            n_bins: v["n_bins"].as_u64().unwrap() as usize,
            bins_per_octave: v["bins_per_octave"].as_u64().unwrap() as usize,
            tuning: get("tuning").map(|t| t.as_f64().unwrap()),
            hop_length: get("hop_length").map_or(512, |h| h.as_u64().unwrap() as usize),
            fmin: get("fmin").map(|f| f.as_f64().unwrap()),
            scale: get("scale").is_none_or(|s| s.as_bool().unwrap()),
            ..CqtParams::default()
        };
        let sr = v["sr"].as_u64().unwrap() as u32;
        let reference: Array2<f32> = chroma_fixture(&format!("variant_{name}.cqt_abs.npy"));
        let ours = cqt(y, sr, &params).unwrap().mapv(|c| c.norm());
        let frame_err = worst_frame_error(ours.view(), reference.view());
        eprintln!("variant {name}: |CQT| worst frame error {frame_err:.3e}");
        assert!(frame_err <= CQT_TOL, "{name}: {frame_err}");
    }
}

#[test]
fn chroma_matches_for_every_case() {
    for case in cases() {
        let reference: Array2<f32> = chroma_fixture(&format!("{case}.chroma.npy"));
        let vector: Array1<f32> = chroma_fixture(&format!("{case}.vector.npy"));
        let y = load_normalised(&case);
        let ours = chroma_cqt(&y, SR, &ChromaCqtParams::default()).unwrap();
        let frame_err = worst_frame_error(ours.view(), reference.view());
        let ours_vector = moments(&ours);
        let vector_err = ours_vector.iter().zip(&vector).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{case}: chroma worst frame error {frame_err:.3e}, moment vector max |diff| {vector_err:.3e}");
        assert!(frame_err <= CHROMA_TOL, "{case}: {frame_err}");
        assert!(vector_err <= VECTOR_TOL, "{case}: {vector_err}");
    }
}

#[test]
fn short_signals_match_or_fail_like_librosa() {
    let manifest = manifest();
    let y = load_normalised(manifest["short_case"].as_str().unwrap());
    for (n, info) in manifest["short"].as_object().unwrap() {
        let n: usize = n.parse().unwrap();
        let result = chroma_cqt(&y[..n], SR, &ChromaCqtParams::default());
        if info.get("error").is_some() {
            assert_eq!(result, Err(ChromaError::Cqt(CqtError::TooShort { len: n, n_octaves: 7 })), "n={n}");
            continue;
        }
        let reference: Array2<f32> = chroma_fixture(&format!("short_{n}.chroma.npy"));
        let ours = result.unwrap();
        let frame_err = worst_frame_error(ours.view(), reference.view());
        let tuning = estimate_tuning(&y[..n], SR, 36);
        eprintln!("short n={n}: chroma worst frame error {frame_err:.3e}, tuning {tuning}");
        assert_eq!(tuning, tuning_of(info), "n={n}");
        assert!(frame_err <= CHROMA_TOL, "n={n}: {frame_err}");
    }
    assert!(matches!(
        chroma_cqt(&[], SR, &ChromaCqtParams::default()),
        Err(ChromaError::Cqt(CqtError::TooShort { .. }))
    ));
}

#[test]
fn silence_gives_zero_tuning_and_zero_chroma() {
    let info = &manifest()["silence"];
    let y = vec![0f32; info["len"].as_u64().unwrap() as usize];
    assert_eq!(estimate_tuning(&y, SR, 36), tuning_of(info));
    let chroma = chroma_cqt(&y, SR, &ChromaCqtParams::default()).unwrap();
    assert_eq!(chroma.ncols() as u64, info["n_frames"].as_u64().unwrap());
    assert!(!info["any_nan"].as_bool().unwrap());
    assert!(chroma.iter().all(|&v| v == 0.0));
}
