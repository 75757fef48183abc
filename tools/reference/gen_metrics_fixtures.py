"""Reference values of the probe's task metrics, for crates/probe/tests/metrics_parity.rs.

Run from the repository root with the pinned environment (tools/reference/requirements-probe.txt):
    /work/pyref/bin/python tools/reference/gen_metrics_fixtures.py

p-lambda/jukemir computed its metrics with scikit-learn 0.24.1 and mir_eval 0.7
(jukemir/probe/__init__.py, ProbeExperiment.eval). scikit-learn 0.24.1 does not install on
Python 3.11, so these values come from scikit-learn 1.3.2; roc_auc_score, average_precision_score
and r2_score have the same definitions in both for the inputs used here (every ROC/AP column holds
both classes; R² has n >= 2). The one difference that matters is documented in the Rust code:
average_precision_score of a column without positives is NaN in 0.24.1 and 0 (with a warning) in
1.3.2; the reference never reaches it because roc_auc_score raises first.

Writes fixtures/probe/metrics/:
  acc_<case>.scores.npy / .labels.npy       float32 (n, c) scores, int64 labels
  ml_<case>.scores.npy / .targets.npy       float32 (n, 50) probabilities, uint8 indicator targets
  r2_<case>.true.npy / .pred.npy            float32 (n, 2)
  gs_<split>.logits.npy                     float32 (n, 24) clip logits of a giantsteps-like split
  cases.json                                expected values, the clip uids, the key-score tables and
                                            the library versions
"""
import json
import pathlib
import warnings

import mir_eval
import numpy as np
import scipy
import sklearn
from scipy.stats import mode as scipy_mode
from sklearn.metrics import average_precision_score, r2_score, roc_auc_score

OUT = pathlib.Path("fixtures/probe/metrics")
# The reference's DATASET_TO_ATTRS["giantsteps_clips"]["labels"], in class-index order.
KEYS = """C major, Db major, D major, Eb major, E major, F major, Gb major, G major, Ab major, A major, Bb major, B major, C minor, Db minor, D minor, Eb minor, E minor, F minor, Gb minor, G minor, Ab minor, A minor, Bb minor, B minor""".split(
    ", "
)
# Spellings outside the dataset's 24 labels, to pin down mir_eval's parsing (enharmonics, case,
# whitespace, 'X', the 'other' mode, and strings it rejects).
EXTRA_KEYS = [
    "C# major", "c# minor", "DB major", "D# minor", "A# minor", "F# major", "G# minor", "bb minor",
    "  E \t major ", "X", "x", "C other", "G other", "F other",
    "C Major", "H major", "Fb major", "C", "X major", "C major extra", " x", "", "E# minor",
]


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def save(name, arr):
    np.save(OUT / f"{name}.npy", arr)


def accuracy_case(rng, name, n, c, decimals):
    scores = rng.normal(size=(n, c))
    if decimals is not None:
        scores = np.round(scores, decimals)
    scores = f32(scores)
    labels = rng.integers(0, c, size=n).astype(np.int64)
    save(f"acc_{name}.scores", scores)
    save(f"acc_{name}.labels", labels)
    # Exactly the reference's expression: a float32 mean.
    acc = (np.argmax(scores, axis=1) == labels).astype(np.float32).mean()
    return {"accuracy": float(acc)}


def multilabel_case(rng, name, n, c, kind):
    prevalence = rng.uniform(0.03, 0.5, size=c)
    targets = (rng.uniform(size=(n, c)) < prevalence).astype(np.uint8)
    # Every column needs both classes for roc_auc_score; the reference would raise otherwise.
    targets[0, :] = 1
    targets[1, :] = 0
    logits = rng.normal(size=(n, c)) + 1.5 * targets * rng.uniform(0.0, 1.5, size=c)
    if kind == "ties":
        probs = np.round(1.0 / (1.0 + np.exp(-logits)), 1)
    elif kind == "saturated":
        # float32 sigmoid of large logits: many scores round to exactly 1.0 (or tie near 0).
        probs = 1.0 / (1.0 + np.exp(-f32(logits * 12.0)))
    else:
        probs = 1.0 / (1.0 + np.exp(-logits))
    probs = f32(probs)
    save(f"ml_{name}.scores", probs)
    save(f"ml_{name}.targets", targets)
    return {
        "roc_auc_macro": float(roc_auc_score(targets, probs, average="macro")),
        "ap_macro": float(average_precision_score(targets, probs, average="macro")),
        "roc_auc_per_column": roc_auc_score(targets, probs, average=None).tolist(),
        "ap_per_column": average_precision_score(targets, probs, average=None).tolist(),
    }


def single_class_cases(rng):
    """A column with one class: what sklearn does (the Rust side returns an error for both)."""
    n, c = 20, 3
    probs = f32(np.round(rng.uniform(size=(n, c)), 1))
    targets = (rng.uniform(size=(n, c)) < 0.4).astype(np.uint8)
    targets[0, :], targets[1, :] = 1, 0
    out = {}
    for name, fill in [("all_negative", 0), ("all_positive", 1)]:
        t = targets.copy()
        t[:, 1] = fill
        save(f"ml_{name}.scores", probs)
        save(f"ml_{name}.targets", t)
        case = {}
        try:
            roc_auc_score(t, probs, average="macro")
            case["roc_auc_error"] = None
        except ValueError as e:
            case["roc_auc_error"] = str(e)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            case["ap_macro_sklearn_1_3_2"] = float(average_precision_score(t, probs, average="macro"))
            case["ap_warnings"] = [str(x.message) for x in w]
        case["ap_per_column_sklearn_1_3_2"] = average_precision_score(t, probs, average=None).tolist()
        out[name] = case
    return out


def r2_case(rng, name, n, constant_column):
    y = f32(rng.normal(size=(n, 2)) * 0.3)
    pred = f32(y + rng.normal(size=(n, 2)) * np.array([0.2, 0.5]))
    if constant_column == "both_zero":
        y[:, 1] = 0.25
        pred[:, 1] = 0.25
    elif constant_column == "den_zero":
        y[:, 1] = 0.25
    save(f"r2_{name}.true", y)
    save(f"r2_{name}.pred", pred)
    # As the reference: r2 on both outputs, then arousal (column 0) and valence (column 1) alone.
    return {
        "uniform": float(r2_score(y, pred)),
        "raw_values": r2_score(y, pred, multioutput="raw_values").tolist(),
        "arousal": float(r2_score(y[:, 0], pred[:, 0])),
        "valence": float(r2_score(y[:, 1], pred[:, 1])),
    }


def key_tables():
    def score_or_error(r, e):
        try:
            return mir_eval.key.weighted_score(r, e)
        except ValueError as err:
            return {"error": str(err)}

    dataset = [[mir_eval.key.weighted_score(r, e) for e in KEYS] for r in KEYS]
    probe = KEYS[::5] + EXTRA_KEYS
    extra = [[r, e, score_or_error(r, e)] for r in probe for e in probe]
    return {"labels": KEYS, "dataset_table": dataset, "extra_pairs": extra}


def softmax_f32(x):
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return f32(z / z.sum(axis=1, keepdims=True))


def giantsteps_split(rng, split, num_songs):
    """A giantsteps_clips-like split, evaluated exactly as the reference's eval() does."""
    uids, labels, logit_rows = [], [], []
    for s in range(num_songs):
        song = f"{rng.integers(0, 10**7):07d}"
        label = int(rng.integers(0, 24))
        # Few clips and a peaked prior, so that clip votes often tie (mode -> smallest index).
        for idx in range(int(rng.integers(1, 7))):
            uids.append(f"{song}-{idx}")
            labels.append(label)
            row = rng.normal(size=24)
            row[label] += rng.uniform(0, 2.5)
            row[(label + 7) % 24] += rng.uniform(0, 2.0)
            logit_rows.append(row)
    order = rng.permutation(len(uids))  # the reference evaluates a shuffled split
    uids = [uids[i] for i in order]
    y = np.array([labels[i] for i in order], dtype=np.int64)
    logits = f32(np.array(logit_rows)[order])
    save(f"gs_{split}.logits", logits)

    clip_preds = np.argmax(logits, axis=1)
    clip_probs = softmax_f32(logits)
    song_to_idxs, song_to_label = {}, {}
    for i, (uid, label) in enumerate(zip(uids, y)):
        song, _ = uid.split("-")
        song_to_idxs.setdefault(song, []).append(i)
        song_to_label[song] = label
    songs = sorted(song_to_idxs)
    song_labels = np.array([song_to_label[s] for s in songs])
    preds = {"vote": [], "max": [], "gmean": [], "mean": []}
    vote_ties = 0
    for s in songs:
        idxs = song_to_idxs[s]
        counts = np.bincount(clip_preds[idxs], minlength=24)
        vote_ties += int((counts == counts.max()).sum() > 1)
        # scipy >= 1.11 returns a scalar mode for 1-D input where the reference's scipy returned a
        # length-1 array; the value (the smallest of the most frequent) is the same.
        preds["vote"].append(int(np.atleast_1d(scipy_mode(clip_preds[idxs]).mode)[0]))
        preds["max"].append(int(logits[idxs].max(axis=0).argmax()))
        preds["gmean"].append(int(logits[idxs].mean(axis=0).argmax()))
        preds["mean"].append(int(clip_probs[idxs].mean(axis=0).argmax()))

    def acc_score(p, l):
        acc = (p == l).astype(np.float32).mean()
        score = np.mean([mir_eval.key.weighted_score(KEYS[a], KEYS[b]) for a, b in zip(l, p)])
        return float(acc), float(score)

    metrics = {}
    comparisons = [("clip", np.argmax(clip_probs, axis=1), y)]
    comparisons += [(f"ensemble_{k}", np.array(v), song_labels) for k, v in preds.items()]
    for prefix, p, l in comparisons:
        metrics[f"{prefix}_accuracy"], metrics[f"{prefix}_score"] = acc_score(p, l)
    return {
        "uids": uids,
        "labels": y.tolist(),
        "songs": songs,
        "song_labels": song_labels.tolist(),
        "song_preds": preds,
        "vote_ties": vote_ties,
        "metrics": metrics,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20211107)
    cases = {
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "mir_eval": mir_eval.__version__,
        },
        "accuracy": {
            "continuous": accuracy_case(rng, "continuous", 211, 10, None),
            "ties": accuracy_case(rng, "ties", 157, 4, 0),
        },
        "multilabel": {
            "continuous": multilabel_case(rng, "continuous", 160, 50, "continuous"),
            "ties": multilabel_case(rng, "ties", 160, 50, "ties"),
            "saturated": multilabel_case(rng, "saturated", 160, 50, "saturated"),
        },
        "single_class": single_class_cases(rng),
        "r2": {
            "plain": r2_case(rng, "plain", 73, None),
            "both_zero": r2_case(rng, "both_zero", 31, "both_zero"),
            "den_zero": r2_case(rng, "den_zero", 31, "den_zero"),
        },
        "key": key_tables(),
        "giantsteps": {split: giantsteps_split(rng, split, n) for split, n in [("valid", 40), ("test", 60)]},
    }
    # The reference picks the strategy with the best valid score (first in this order on ties).
    best, best_score = None, float("-inf")
    for k in ["vote", "max", "gmean", "mean"]:
        s = cases["giantsteps"]["valid"]["metrics"][f"ensemble_{k}_score"]
        if s > best_score:
            best, best_score = k, s
    cases["giantsteps"]["best_strategy"] = best
    with open(OUT / "cases.json", "w") as f:
        json.dump(cases, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
