//! The SVC and the README example's cross-validation against scikit-learn 1.3.2, with fixtures
//! from tools/reference/gen_svm_fixtures.py:
//!
//! - tiny problems (separable, overlapping, linear, three classes, with and without shrinking):
//!   support vectors, their counts and order exactly; dual coefficients, rho and decision values
//!   within 1e-6; predictions exactly;
//! - 323 real 3-s excerpts (40-d librosa MFCC statistics of nine Wesnoth clips), in the README's
//!   shuffled order: StratifiedKFold's test folds exactly, gamma per fold within 1e-12 (relative),
//!   every prediction equal to scikit-learn's, so every fold's accuracy and the printed
//!   `mean +- std` too.
//!
//! Measured differences are printed (run with `--nocapture`).

use jukemir_probe::cross_validation::{cross_val_score_svc, stratified_kfold, stratified_test_folds};
use jukemir_probe::svm::{Gamma, Kernel, Svc, SvcParams};
use ndarray::Array2;
use ndarray_npy::read_npy;
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/svm")
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn rows(v: &Value) -> (Vec<f64>, usize) {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    let dim = rows[0].len();
    (rows.concat(), dim)
}

fn params(svc: &Value) -> SvcParams {
    let mut params = SvcParams::default();
    if let Some(c) = svc.get("C") {
        params.c = c.as_f64().unwrap();
    }
    if let Some(g) = svc.get("gamma") {
        params.gamma = Gamma::Value(g.as_f64().unwrap());
    }
    if let Some(k) = svc.get("kernel") {
        params.kernel = match k.as_str().unwrap() {
            "linear" => Kernel::Linear,
            "rbf" => Kernel::Rbf,
            other => panic!("kernel {other}"),
        };
    }
    if let Some(s) = svc.get("shrinking") {
        params.shrinking = s.as_bool().unwrap();
    }
    params
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn tiny_problems_match_sklearn() {
    let fixture = json("tiny.json");
    let problems = fixture["problems"].as_array().unwrap();
    assert!(problems.len() >= 6);
    for problem in problems {
        let name = problem["name"].as_str().unwrap();
        let (x, dim) = rows(&problem["x"]);
        let y = usizes(&problem["y"]);
        let svc = Svc::fit(&x, dim, &y, &params(&problem["svc"])).unwrap();
        assert_eq!(svc.classes, usizes(&problem["classes"]), "{name}: classes");
        let gamma = problem["gamma"].as_f64().unwrap();
        if svc.kernel == Kernel::Rbf {
            assert!((svc.gamma - gamma).abs() <= 1e-14 * gamma, "{name}: gamma {} vs {gamma}", svc.gamma);
        }
        assert_eq!(svc.support, usizes(&problem["support"]), "{name}: support");
        assert_eq!(svc.n_support, usizes(&problem["n_support"]), "{name}: n_support");
        let dual: Vec<Vec<f64>> = problem["dual_coef"].as_array().unwrap().iter().map(floats).collect();
        let dual_diff = svc.dual_coef.iter().zip(&dual).map(|(a, b)| max_abs_diff(a, b)).fold(0.0, f64::max);
        let rho_diff = max_abs_diff(&svc.rho, &floats(&problem["rho"]));
        let (x_test, _) = rows(&problem["x_test"]);
        let expected: Vec<Vec<f64>> = problem["decision_ovo_libsvm"].as_array().unwrap().iter().map(floats).collect();
        let mut decision_diff = 0.0f64;
        for (row, want) in x_test.chunks_exact(dim).zip(&expected) {
            decision_diff = decision_diff.max(max_abs_diff(&svc.decision_values(row), want));
        }
        println!(
            "{name}: n_support {:?}, iterations {:?}; max |Δ| dual {dual_diff:.1e}, rho {rho_diff:.1e}, decision {decision_diff:.1e}",
            svc.n_support, svc.iterations
        );
        assert!(dual_diff < 1e-6, "{name}: dual coefficients differ by {dual_diff}");
        assert!(rho_diff < 1e-6, "{name}: rho differs by {rho_diff}");
        assert!(decision_diff < 1e-6, "{name}: decision values differ by {decision_diff}");
        assert_eq!(svc.predict(&x_test), usizes(&problem["predict"]), "{name}: predictions");
        assert!(!svc.hit_max_iter);
    }
}

/// The fixture's rows in the README's shuffled order, their labels as strings and as sorted ids.
fn shuffled_excerpts() -> (Vec<f32>, usize, Vec<String>, Vec<usize>, Value) {
    let reference = json("cv_reference.json");
    let x: Array2<f32> = read_npy(dir().join("excerpts_mfcc.npy")).unwrap();
    let names: Vec<String> =
        reference["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
    assert_eq!(x.nrows(), names.len());
    let dim = x.ncols();
    let permutation = usizes(&reference["permutation"]);
    let mut rows = Vec::with_capacity(x.len());
    let mut labels = Vec::new();
    for &p in &permutation {
        rows.extend(x.row(p).iter().copied());
        labels.push(names[p].split('.').next().unwrap().to_string());
    }
    let expected_labels: Vec<&str> =
        reference["labels"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(labels, expected_labels);
    let mut classes = labels.clone();
    classes.sort();
    classes.dedup();
    let ids = labels.iter().map(|l| classes.binary_search(l).unwrap()).collect();
    (rows, dim, labels, ids, reference)
}

#[test]
fn stratified_folds_match_sklearn() {
    let (_, _, labels, ids, reference) = shuffled_excerpts();
    let expected = usizes(&reference["test_fold"]);
    let (by_string, warning) = stratified_test_folds(&labels, 10).unwrap();
    assert!(warning.is_none());
    assert_eq!(by_string, expected);
    // The numeric ids give the same folds (encoding is by order of appearance, not by value).
    assert_eq!(stratified_test_folds(&ids, 10).unwrap().0, expected);
    let (folds, _) = stratified_kfold(&labels, 10).unwrap();
    for (fold, want) in folds.iter().zip(reference["folds"].as_array().unwrap()) {
        assert_eq!(fold.test, usizes(&want["test"]));
        assert_eq!(fold.train.len() + fold.test.len(), labels.len());
    }
}

#[test]
fn readme_example_cross_validation_matches_sklearn() {
    let (x, dim, labels, ids, reference) = shuffled_excerpts();
    let mut classes = labels.clone();
    classes.sort();
    classes.dedup();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scores = cross_val_score_svc(&x, dim, &ids, 10, &SvcParams::default(), jobs).unwrap();
    let folds = reference["folds"].as_array().unwrap();
    let (mut same, mut total) = (0usize, 0usize);
    for (k, (fold, want)) in scores.folds.iter().zip(folds).enumerate() {
        let gamma = want["gamma"].as_f64().unwrap();
        let expected: Vec<&str> = want["predictions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let got: Vec<&str> = fold.predictions.iter().map(|&c| classes[c].as_str()).collect();
        let agree = got.iter().zip(&expected).filter(|(a, b)| a == b).count();
        same += agree;
        total += expected.len();
        println!(
            "fold {k}: accuracy {:.4} (sklearn {:.4}), gamma rel. diff {:.1e}, {agree}/{} predictions equal",
            fold.accuracy,
            want["accuracy"].as_f64().unwrap(),
            (fold.gamma - gamma).abs() / gamma,
            expected.len()
        );
        assert!((fold.gamma - gamma).abs() <= 1e-12 * gamma, "fold {k}: gamma {} vs {gamma}", fold.gamma);
        assert!((fold.accuracy - want["accuracy"].as_f64().unwrap()).abs() <= 0.01, "fold {k}: accuracy");
    }
    println!("{same}/{total} predictions equal; {} (sklearn {})", scores.summary(), reference["printed"]);
    assert!(same as f64 >= 0.99 * total as f64, "only {same}/{total} predictions equal sklearn's");
    assert_eq!(same, total, "some predictions differ from sklearn's");
    assert_eq!(scores.scores(), floats(&reference["scores"]));
    assert_eq!(scores.mean, reference["mean"].as_f64().unwrap());
    assert_eq!(scores.std, reference["std"].as_f64().unwrap());
    assert_eq!(scores.summary(), reference["printed"].as_str().unwrap());
}
