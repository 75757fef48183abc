"""Reference values for `jukemir example gtzan`'s SVM cross-validation, for
crates/probe/tests/svm_parity.rs, crates/cli/tests/example_gtzan.rs and the Python 3 shuffle
tests in crates/representations/src/py2_shuffle.rs.

Run from the repository root with the pinned environment (tools/reference/requirements-probe.txt:
numpy 1.23.5, scipy 1.11.4, scikit-learn 1.3.2; plus librosa 0.8.1 from requirements.txt, on
CPython 3.11):
    /work/pyref/bin/python tools/reference/gen_svm_fixtures.py

The original jukemir README's example (the pipeline reproduced here, on real features):

    npy_paths = sorted(glob.glob('features/*.npy'))
    random.seed(0); random.shuffle(npy_paths)
    X = np.array([np.load(p) for p in npy_paths])
    y = np.array([os.path.split(p)[1].split('.')[0] for p in npy_paths])
    clf = make_pipeline(StandardScaler(), SVC())
    scores = cross_val_score(clf, X, y, cv=10)
    print('{:.1f} +- {:.1f}'.format(np.mean(scores) * 100, np.std(scores) * 100))

Real-feature set: the Wesnoth soundtrack clips in ../shared/data/music/wesnoth that last at least
60 s, each cut into consecutive 3-s excerpts at 22050 Hz (at most 40 per clip, from the start),
each excerpt summarised by librosa 0.8.1's MFCC (20 coefficients, default settings): the mean and
the (population) std over frames, 40 float32 values. The label is the source clip. Excerpts are
named `<clip>.000NN.npy` as GTZAN's features are (`<genre>.000NN.npy`).

Writes fixtures/svm/:
  excerpts_mfcc.npy       float32 (n, 40), rows in sorted-name order
  cv_reference.json       names (sorted), the shuffle permutation, the labels, StratifiedKFold's test
                          fold per (shuffled) sample, per fold: gamma, test indices, predictions,
                          accuracy; the scores, mean, std and the printed line
  py3_shuffle_seed0.json  Python 3's random.seed(0); random.shuffle(list(range(n))) for several n
  tiny.json               small SVC problems: support, dual coefficients, intercepts, decision values
"""
import glob
import json
import os
import pathlib
import random
import sys
import tempfile

import librosa
import numpy as np
import scipy
import sklearn
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

ROOT = pathlib.Path(__file__).resolve().parents[2]
MUSIC = ROOT.parent / "shared/data/music/wesnoth"
OUT = ROOT / "fixtures/svm"
SR = 22050
EXCERPT = 3 * SR
MIN_SECONDS = 60
MAX_PER_CLIP = 40
SHUFFLE_LENGTHS = [0, 1, 2, 3, 5, 7, 10, 256, 930, 1000]


def versions():
    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "librosa": librosa.__version__,
    }


def excerpt_features():
    features = {}
    for path in sorted(MUSIC.glob("*.ogg")):
        audio, _ = librosa.load(str(path), sr=SR, mono=True)
        if len(audio) < MIN_SECONDS * SR:
            continue
        count = min(len(audio) // EXCERPT, MAX_PER_CLIP)
        for k in range(count):
            piece = audio[k * EXCERPT : (k + 1) * EXCERPT]
            mfcc = librosa.feature.mfcc(y=piece, sr=SR, n_mfcc=20)
            vec = np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]).astype(np.float32)
            features[f"{path.stem}.{k:05d}.npy"] = vec
    return features


def readme_example(folder):
    """The README's script, verbatim but for the folder, returning what it prints and more."""
    npy_paths = sorted(glob.glob(os.path.join(folder, "*.npy")))
    sorted_names = [os.path.split(p)[1] for p in npy_paths]
    random.seed(0)
    random.shuffle(npy_paths)
    X = np.array([np.load(p) for p in npy_paths])
    y = np.array([os.path.split(p)[1].split(".")[0] for p in npy_paths])
    clf = make_pipeline(StandardScaler(), SVC())
    scores = cross_val_score(clf, X, y, cv=10)
    line = "{:.1f} +- {:.1f}".format(np.mean(scores) * 100, np.std(scores) * 100)
    permutation = [sorted_names.index(os.path.split(p)[1]) for p in npy_paths]
    return X, y, scores, line, permutation, sorted_names


def folds_by_hand(X, y):
    """What cross_val_score does inside, fold by fold, to record the details."""
    cv = StratifiedKFold(n_splits=10)
    test_fold = np.full(len(y), -1)
    folds = []
    for k, (train, test) in enumerate(cv.split(X, y)):
        test_fold[test] = k
        clf = make_pipeline(StandardScaler(), SVC()).fit(X[train], y[train])
        svc = clf[-1]
        pred = clf.predict(X[test])
        folds.append(
            {
                "gamma": float(svc._gamma),
                "test": test.tolist(),
                "predictions": pred.tolist(),
                "accuracy": float(np.mean(pred == y[test])),
                "n_support": svc.n_support_.tolist(),
                "intercept": svc._intercept_.tolist(),
            }
        )
    return test_fold.tolist(), folds


def tiny_problem(name, X, y, X_test, **svc_args):
    X = np.asarray(X, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    clf = SVC(decision_function_shape="ovo", **svc_args).fit(X, y)
    return {
        "name": name,
        "svc": svc_args,
        "x": X.tolist(),
        "y": list(map(int, y)),
        "x_test": X_test.tolist(),
        "gamma": float(clf._gamma),
        "classes": clf.classes_.tolist(),
        "support": clf.support_.tolist(),
        "n_support": clf.n_support_.tolist(),
        # libsvm's own sign convention (sklearn flips the public attributes for two classes).
        "dual_coef": clf._dual_coef_.tolist(),
        "rho": (-clf._intercept_).tolist(),
        "decision_ovo_libsvm": (
            -clf.decision_function(X_test)[:, None] if len(clf.classes_) == 2 else clf.decision_function(X_test)
        ).tolist(),
        "predict": clf.predict(X_test).tolist(),
    }


def tiny_problems():
    rng = np.random.default_rng(20240521)
    problems = []
    # Separable, two classes, 2-D.
    X = [[0, 0], [1, 0], [0, 1], [1, 1.2], [3, 3], [4, 3], [3, 4.5], [4, 4]]
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    grid = [[a, b] for a in (-1.0, 1.5, 2.0, 2.5, 5.0) for b in (-1.0, 2.0, 5.0)]
    problems.append(tiny_problem("separable", X, y, grid))
    problems.append(tiny_problem("separable_hard_margin", X, y, grid, C=100.0, gamma=0.1))
    # Overlapping Gaussians, two classes: bounded support vectors, free ones, both.
    a = rng.normal(0.0, 1.0, size=(30, 3))
    b = rng.normal(0.8, 1.0, size=(30, 3))
    X = np.vstack([a, b])
    y = np.array([0] * 30 + [1] * 30)
    order = rng.permutation(60)
    X, y = X[order], y[order]
    test = rng.normal(0.4, 1.2, size=(12, 3))
    problems.append(tiny_problem("overlap", X, y, test))
    problems.append(tiny_problem("overlap_c10", X, y, test, C=10.0))
    problems.append(tiny_problem("overlap_linear", X, y, test, kernel="linear"))
    # Three overlapping classes, labels 2, 0, 7 in mixed order, unequal sizes.
    centres = {2: [0, 0], 0: [2, 0.5], 7: [1, 2]}
    sizes = {2: 14, 0: 11, 7: 17}
    X, y = [], []
    for label, centre in centres.items():
        X.append(rng.normal(centre, 0.9, size=(sizes[label], 2)))
        y += [label] * sizes[label]
    X = np.vstack(X)
    y = np.array(y)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    test = rng.normal([1, 1], 1.5, size=(15, 2))
    problems.append(tiny_problem("three_classes", X, y, test))
    problems.append(tiny_problem("three_classes_no_shrinking", X, y, test, shrinking=False, gamma=0.7))
    return problems


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    features = excerpt_features()
    names = sorted(features)
    with tempfile.TemporaryDirectory() as tmp:
        for name, vec in features.items():
            np.save(os.path.join(tmp, name), vec)
        X, y, scores, line, permutation, sorted_names = readme_example(tmp)
    assert sorted_names == names
    test_fold, folds = folds_by_hand(X, y)
    assert np.array_equal([f["accuracy"] for f in folds], scores), (folds, scores)
    np.save(OUT / "excerpts_mfcc.npy", np.stack([features[n] for n in names]))
    labels, counts = np.unique(y, return_counts=True)
    reference = {
        "generated_by": "tools/reference/gen_svm_fixtures.py",
        "versions": versions(),
        "features": "librosa 0.8.1 mfcc (n_mfcc=20) of 3-s excerpts at 22050 Hz: mean then std over frames",
        "names": names,
        "class_counts": dict(zip(labels.tolist(), counts.tolist())),
        "permutation": permutation,
        "labels": y.tolist(),
        "test_fold": test_fold,
        "folds": folds,
        "scores": scores.tolist(),
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "printed": line,
    }
    (OUT / "cv_reference.json").write_text(json.dumps(reference, separators=(",", ":")) + "\n")
    shuffles = {}
    for n in SHUFFLE_LENGTHS + [len(names)]:
        items = list(range(n))
        random.seed(0)
        random.shuffle(items)
        shuffles[str(n)] = items
    (OUT / "py3_shuffle_seed0.json").write_text(
        json.dumps(
            {
                "generated_by": "tools/reference/gen_svm_fixtures.py",
                "rule": "Python 3 random.seed(0); random.shuffle(list(range(n)))",
                "python": sys.version.split()[0],
                "permutations": shuffles,
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    tiny = {"generated_by": "tools/reference/gen_svm_fixtures.py", "versions": versions(), "problems": tiny_problems()}
    (OUT / "tiny.json").write_text(json.dumps(tiny, separators=(",", ":")) + "\n")
    print(f"{len(names)} excerpts, classes {dict(zip(labels.tolist(), counts.tolist()))}")
    print("scores", scores.tolist())
    print(line)


if __name__ == "__main__":
    main()
