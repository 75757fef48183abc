//! scikit-learn's `cross_val_score(make_pipeline(StandardScaler(), SVC()), X, y, cv=10)` — the
//! original jukemir README's GTZAN example — fold for fold.
//!
//! - [`stratified_kfold`] is `StratifiedKFold(n_splits, shuffle=False)` as scikit-learn ≥ 0.22
//!   assigns test folds (`_make_test_folds`): classes encoded by order of first appearance, the
//!   per-fold allocation of each class taken round-robin over the sorted codes, and each class's
//!   fold ids handed out in blocks, in sample order;
//! - each fold fits [`StandardScaler`] on its training rows (population std; constant features
//!   scaled by 1) and transforms `float32` rows as NumPy does in place (`X -= mean_; X /= scale_`,
//!   each step computed in `f64` and rounded back to `f32`);
//! - then [`Svc`] with the given parameters (`SVC()`'s by default) is trained on the scaled training
//!   rows, widened to `f64` as `SVC.fit` does, and scored by accuracy on the test rows;
//! - the mean and the (population) std of the scores use NumPy's summation.

use crate::scaler::StandardScaler;
use crate::svm::{Svc, SvcParams, SvmError};
/// `np.mean` and `np.std` of a 1-D array, as the reference's summary line computes them.
pub use jukemir_pycompat::numpy::mean_std;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CvError {
    #[error("n_splits must be at least 2 (got {0})")]
    TooFewSplits(usize),
    #[error("cannot have n_splits={n_splits} greater than the number of samples ({samples})")]
    TooFewSamples { n_splits: usize, samples: usize },
    #[error("n_splits={0} cannot be greater than the number of members in each class")]
    ClassesTooSmall(usize),
    #[error("the data is not a whole number of {dim}-value rows ({len} values) for {labels} labels")]
    Shape { len: usize, dim: usize, labels: usize },
    #[error("fold {fold}: {source}")]
    Svm { fold: usize, source: SvmError },
}

/// One train/test split; both index lists are increasing, as scikit-learn's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// `StratifiedKFold(n_splits)`'s test fold of every sample, and scikit-learn's warning when the
/// smallest class has fewer members than folds.
pub fn stratified_test_folds<L: PartialEq>(y: &[L], n_splits: usize) -> Result<(Vec<usize>, Option<String>), CvError> {
    if n_splits < 2 {
        return Err(CvError::TooFewSplits(n_splits));
    }
    if n_splits > y.len() {
        return Err(CvError::TooFewSamples { n_splits, samples: y.len() });
    }
    // Classes encoded by order of first appearance.
    let mut firsts: Vec<&L> = Vec::new();
    let encoded: Vec<usize> = y
        .iter()
        .map(|label| match firsts.iter().position(|f| *f == label) {
            Some(code) => code,
            None => {
                firsts.push(label);
                firsts.len() - 1
            }
        })
        .collect();
    let n_classes = firsts.len();
    let mut counts = vec![0usize; n_classes];
    for &c in &encoded {
        counts[c] += 1;
    }
    if counts.iter().all(|&c| n_splits > c) {
        return Err(CvError::ClassesTooSmall(n_splits));
    }
    let min_groups = counts.iter().copied().min().unwrap_or(0);
    let warning = (n_splits > min_groups).then(|| {
        format!("The least populated class in y has only {min_groups} members, which is less than n_splits={n_splits}.")
    });
    // allocation[f][k]: members of class k in y_order[f::n_splits], y_order = sorted codes.
    let mut y_order = encoded.clone();
    y_order.sort_unstable();
    let mut allocation = vec![vec![0usize; n_classes]; n_splits];
    for (pos, &c) in y_order.iter().enumerate() {
        allocation[pos % n_splits][c] += 1;
    }
    // Per class, the fold ids `np.arange(n_splits).repeat(allocation[:, k])`, handed out in sample order.
    let mut folds_for_class = vec![Vec::new(); n_classes];
    for (f, per_class) in allocation.iter().enumerate() {
        for (list, &members) in folds_for_class.iter_mut().zip(per_class) {
            list.extend(std::iter::repeat_n(f, members));
        }
    }
    let mut handed = vec![0usize; n_classes];
    let test_fold = encoded
        .iter()
        .map(|&c| {
            handed[c] += 1;
            folds_for_class[c][handed[c] - 1]
        })
        .collect();
    Ok((test_fold, warning))
}

/// The folds of `StratifiedKFold(n_splits).split(X, y)`, in order.
pub fn stratified_kfold<L: PartialEq>(y: &[L], n_splits: usize) -> Result<(Vec<Fold>, Option<String>), CvError> {
    let (test_fold, warning) = stratified_test_folds(y, n_splits)?;
    let folds = (0..n_splits)
        .map(|f| {
            let (test, train): (Vec<usize>, Vec<usize>) = (0..y.len()).partition(|&i| test_fold[i] == f);
            Fold { train, test }
        })
        .collect();
    Ok((folds, warning))
}

/// Rows of `dim` values, standardised as scikit-learn's `StandardScaler.transform` does to a
/// `float32` array: `x -= mean` then `x /= scale`, each in `f64` and rounded back to `f32`.
pub fn standardize_f32(scaler: &StandardScaler, x: &mut [f32]) {
    for row in x.chunks_exact_mut(scaler.dim()) {
        for ((v, &m), &s) in row.iter_mut().zip(&scaler.mean).zip(&scaler.scale) {
            let centred = (f64::from(*v) - m) as f32;
            *v = (f64::from(centred) / s) as f32;
        }
    }
}

/// One fold's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldScore {
    pub test: Vec<usize>,
    /// Predicted label of each test row, in `test`'s order.
    pub predictions: Vec<usize>,
    /// Correct predictions / test rows.
    pub accuracy: f64,
    /// The SVC's gamma on this fold's training rows.
    pub gamma: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CvScores {
    pub folds: Vec<FoldScore>,
    /// `np.mean(scores)`.
    pub mean: f64,
    /// `np.std(scores)` (population).
    pub std: f64,
    /// scikit-learn's warning about small classes, if it would warn.
    pub warning: Option<String>,
}

impl CvScores {
    pub fn scores(&self) -> Vec<f64> {
        self.folds.iter().map(|f| f.accuracy).collect()
    }

    /// What the README's script prints: `'{:.1f} +- {:.1f}'.format(mean * 100, std * 100)`.
    pub fn summary(&self) -> String {
        format!("{:.1} +- {:.1}", self.mean * 100.0, self.std * 100.0)
    }
}

/// `cross_val_score(make_pipeline(StandardScaler(), SVC(**params)), X, y, cv=n_splits)`, with the
/// folds computed on up to `jobs` threads (the result does not depend on it). `x` holds `y.len()`
/// rows of `dim` float32 values, in the order the script passes them; `y` holds class labels as
/// numbers whose order is the labels' sorted order (the SVC breaks vote ties towards the smallest).
pub fn cross_val_score_svc(
    x: &[f32],
    dim: usize,
    y: &[usize],
    n_splits: usize,
    params: &SvcParams,
    jobs: usize,
) -> Result<CvScores, CvError> {
    if dim == 0 || x.len() != y.len() * dim {
        return Err(CvError::Shape { len: x.len(), dim, labels: y.len() });
    }
    let (folds, warning) = stratified_kfold(y, n_splits)?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<FoldScore, CvError>>>> = Mutex::new(vec![None; folds.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, folds.len()) {
            scope.spawn(|| loop {
                let f = next.fetch_add(1, Ordering::Relaxed);
                let Some(fold) = folds.get(f) else { break };
                let result = score_fold(x, dim, y, fold, params).map_err(|source| CvError::Svm { fold: f, source });
                results.lock().unwrap()[f] = Some(result);
            });
        }
    });
    let folds = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every fold is taken by one worker"))
        .collect::<Result<Vec<_>, _>>()?;
    let (mean, std) = mean_std(&folds.iter().map(|f| f.accuracy).collect::<Vec<_>>());
    Ok(CvScores { folds, mean, std, warning })
}

fn gather(x: &[f32], dim: usize, rows: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len() * dim);
    for &r in rows {
        out.extend_from_slice(&x[r * dim..(r + 1) * dim]);
    }
    out
}

fn score_fold(x: &[f32], dim: usize, y: &[usize], fold: &Fold, params: &SvcParams) -> Result<FoldScore, SvmError> {
    let mut train = gather(x, dim, &fold.train);
    let mut test = gather(x, dim, &fold.test);
    let scaler = StandardScaler::fit(&train, dim, true, true);
    standardize_f32(&scaler, &mut train);
    standardize_f32(&scaler, &mut test);
    let train: Vec<f64> = train.into_iter().map(f64::from).collect();
    let test: Vec<f64> = test.into_iter().map(f64::from).collect();
    let y_train: Vec<usize> = fold.train.iter().map(|&i| y[i]).collect();
    let svc = Svc::fit(&train, dim, &y_train, params)?;
    let predictions = svc.predict(&test);
    let correct = predictions.iter().zip(&fold.test).filter(|(p, &i)| **p == y[i]).count();
    Ok(FoldScore {
        test: fold.test.clone(),
        predictions,
        accuracy: correct as f64 / fold.test.len() as f64,
        gamma: svc.gamma,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_follow_order_of_appearance_and_blocks() {
        // Classes "b" (first seen) and "a": sklearn encodes b=0, a=1.
        let y = ["b", "a", "b", "b", "a", "a", "b", "a", "b"];
        let (test_fold, warning) = stratified_test_folds(&y, 2).unwrap();
        // y_order = [0,0,0,0,0,1,1,1,1]; fold 0 takes positions 0,2,4,6,8 → b:3, a:2; fold 1 → b:2, a:2.
        assert_eq!(test_fold, vec![0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert!(warning.is_none());
        let (folds, _) = stratified_kfold(&y, 2).unwrap();
        assert_eq!(folds[0].test, vec![0, 1, 2, 3, 4]);
        assert_eq!(folds[1].train, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn small_classes_warn_or_fail_as_sklearn() {
        let y = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
        let (_, warning) = stratified_test_folds(&y, 5).unwrap();
        assert!(warning.unwrap().contains("only 3 members"));
        assert_eq!(stratified_test_folds(&[0, 1, 0, 1], 3).unwrap_err(), CvError::ClassesTooSmall(3));
        assert!(matches!(stratified_test_folds(&[0, 1], 3), Err(CvError::TooFewSamples { .. })));
    }

    #[test]
    fn mean_and_std_are_population_statistics() {
        let (mean, std) = mean_std(&[0.5, 1.0]);
        assert_eq!((mean, std), (0.75, 0.25));
    }

    #[test]
    fn summary_rounds_like_python() {
        let scores = CvScores { folds: vec![], mean: 0.925, std: 0.02875, warning: None };
        assert_eq!(scores.summary(), format!("{:.1} +- {:.1}", 92.5, 0.02875 * 100.0));
        // Python: '{:.1f}'.format(0.25) == '0.2', '{:.1f}'.format(0.35) == '0.3' (0.35 is below 0.35 exactly).
        assert_eq!(format!("{:.1}", 0.25), "0.2");
        assert_eq!(format!("{:.1}", 0.35), "0.3");
        assert_eq!(format!("{:.1}", 0.75), "0.8");
    }
}
