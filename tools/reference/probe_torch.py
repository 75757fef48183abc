"""PyTorch reference for jukemir's probe training: p-lambda/jukemir's `ProbeExperiment`, rewritten.

What it reproduces
------------------
p-lambda/jukemir (ISMIR 2021), `jukemir/probe/__init__.py`: `ProbeExperimentConfig` (fields,
defaults, the sha1 uid), `paper_grid_cfgs` (the 216-config grid of `reproduce/4_grid_config.py`, in
`itertools.product` order), `ProbeExperiment.load_data` / `train` / `eval` (data order, seeding,
StandardScaler, `SimpleMLP`, Adam with L2 `weight_decay`, early stopping and best-state restore,
`max_num_epochs`) and the task metrics. This is an independent re-implementation with the same
semantics, not the reference's code; it only differs where noted below. It always runs on the CPU
(the reference uses CUDA when available) and writes no probe directories (the reference's `save`).

Semantics kept from the reference (interpretations are marked *):
  * data: `meta.json` is read in file order; examples whose split is not train/valid/test are
    skipped; each split's uids are sorted, then, for train, valid and test in that order,
    `random.seed(seed)` is called (when seed is not None) and the split is `random.shuffle`d. X is
    the stack of `<uid>.npy` vectors as float32. y: multiclass -> label index in DATASET_TO_ATTRS'
    label list (int64); multilabel -> uint8 indicator matrix; regression -> float32 array.
  * seeding (train): `random.seed(seed)`, `torch.manual_seed(seed)`; numpy is never seeded (the
    reference draws nothing from numpy). The torch generator is consumed by the `nn.Linear`
    initialisations (hidden_0, hidden_1, ..., output, in that order) and then by dropout masks.
  * scaler: `sklearn.preprocessing.StandardScaler(with_mean=std, with_std=std)` fitted on train.
    *The reference transforms each raw minibatch; transforming the whole split once is elementwise
    identical (float32 in, float32 out), so it is done once here.
  * loop: at every step, epoch = step*batch_size/N_train; stop (keeping the *last* weights, not the
    best) when max_num_epochs is set and epoch > max_num_epochs. When early_stopping and
    step % early_stopping_eval_frequency == 0: if boredom >= early_stopping_boredom, restore the
    best state (if any) and stop; else evaluate valid (eval mode, no grad, logits in chunks of
    batch_size), score = metrics[early_stopping_metric] (a leading '-' negates), NaN -> error,
    score > best (strict, so the first best is kept on ties) -> snapshot, boredom = 0, else
    boredom += 1. Then a batch of `random.sample(range(N), min(batch_size, N))` indices, one Adam
    step on the mean loss (cross-entropy / BCE-with-logits / MSE), step += 1.
  * "steps" in the output is the number of optimizer steps taken (the reference's final `step`).
  * metrics (evaluated on the restored model, valid and test): gtzan_ff / test -> accuracy
    (float32 mean, primary); magnatagatune -> auc_roc (macro roc_auc_score of sigmoid(logits),
    primary; the reference names it `auc_roc`) and ap (macro average_precision_score); emomusic ->
    r2 (r2_score, uniform average, primary), arousal_r2, valence_r2; giantsteps_clips -> clip_accuracy
    / clip_score (mean of mir_eval.key.weighted_score over clips) plus, as the reference, the
    song-level ensembles (uid 'song-clip'; vote / max / gmean / mean) and primary `score` = the
    ensemble whose *valid* score is best (first of vote, max, gmean, mean on ties). If some uid does
    not split into exactly two parts at '-', song-level ensembling is skipped and primary `score` is
    the clip-level score (the reference would raise). `loss` is reported too.
    *The reference's `scipy.stats.mode(...).mode[0]` needs the old scipy's keepdims behaviour;
    here the vote is the smallest most frequent class, which is what that returned.
  * best_on_valid: the run with the highest valid primary; ties -> first in config order.
  * uid: sha1 hex of `json.dumps(cfg, indent=2, sort_keys=True).encode("utf-8")` over the full
    config (defaults filled in), as `ProbeExperimentConfig.uid` / `compute_checksum(..., "sha1")`.

Pinned versions (tools/reference/requirements-torch.txt): torch 2.1.2 (CPU), numpy 1.23.5,
scipy 1.11.4, scikit-learn 1.3.2, mir_eval 0.7. The reference itself used torch 1.x and
scikit-learn 0.24.1, which do not install on Python 3.11.

How the Rust side uses it
-------------------------
The Rust probe (crates/probe) draws the same `random.sample` batches and data order but uses its
own generator for initialisation and dropout, so results are compared statistically, not bitwise:
tools/reference/gen_probe_parity_fixtures.py imports this module to train a config subset over
several seeds on a seeded synthetic task and commits the results (fixtures/probe/parity/), and the
wall times of `--paper-grid` runs with different --jobs/--threads are the PyTorch baseline for
`jukemir bench`-style speed comparisons.

Usage
-----
    python tools/reference/probe_torch.py --cache-dir <cache> --dataset gtzan_ff \
        --representation synth (--paper-grid | --configs a.json b.json | --configs-json list.json) \
        [--jobs J] [--threads T] [--start-method fork|spawn] [--out results.json] [--list-configs]

<cache>/processed/<dataset>/meta.json and <cache>/representations/<dataset>/<representation>/<uid>.npy
are read (the reference's CACHE_DATASETS_DIR / CACHE_REPRESENTATIONS_DIR layout). A summary line is
printed as JSON on stdout; the full result goes to --out.
"""
import argparse
import hashlib
import itertools
import json
import math
import multiprocessing as mp
import pathlib
import random
import sys
import time
from collections import defaultdict

import numpy as np

# torch / sklearn / mir_eval are imported lazily (in _libs) so that `--help` and config building
# work without them, and so that a forking parent never initialises torch's thread pools.

DATASET_TO_ATTRS = {
    "test": {"num_outputs": 4, "output_type": "multiclass", "labels": ["0", "1", "2", "3"]},
    "gtzan_ff": {
        "num_outputs": 10,
        "output_type": "multiclass",
        "labels": "blues classical country disco hiphop jazz metal pop reggae rock".split(),
    },
    "giantsteps_clips": {
        "num_outputs": 24,
        "output_type": "multiclass",
        "labels": [f"{k} {m}" for m in ("major", "minor")
                   for k in "C Db D Eb E F Gb G Ab A Bb B".split()],
    },
    "magnatagatune": {
        "num_outputs": 50,
        "output_type": "multilabel",
        "labels": [
            "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock",
            "fast", "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian",
            "opera", "male", "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet",
            "flute", "woman", "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man",
            "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal", "beats",
            "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
        ],
    },
    "emomusic": {"num_outputs": 2, "output_type": "regression", "labels": None},
}
for _a in DATASET_TO_ATTRS.values():
    assert _a["labels"] is None or len(_a["labels"]) == _a["num_outputs"]

CONFIG_DEFAULTS = {
    "dataset": None,
    "representation": None,
    "data_standardization": True,
    "hidden_layer_sizes": [],
    "batch_size": 64,
    "learning_rate": 1e-3,
    "dropout_input": True,
    "dropout_p": 0.5,
    "l2_weight_decay": None,
    "max_num_epochs": None,
    "early_stopping_metric": "primary",
    "early_stopping": True,
    "early_stopping_eval_frequency": 8,
    "early_stopping_boredom": 256,
    "seed": 0,
}
REQUIRED_FIELDS = ("dataset", "representation")

# reproduce/4_grid_config.py -> jukemir.probe._PAPER_GRID; key order is the product order.
PAPER_GRID = [
    ("data_standardization", [False, True]),
    ("hidden_layer_sizes", [[], [512]]),
    ("batch_size", [64, 256]),
    ("learning_rate", [1e-5, 1e-4, 1e-3]),
    ("dropout_p", [0.25, 0.5, 0.75]),
    ("l2_weight_decay", [None, 1e-4, 1e-3]),
]


# ----------------------------------------------------------------------------------------------
# Configs


def make_config(obj):
    """Fill defaults and validate like ProbeExperimentConfig (order of keys = defaults' order)."""
    if not isinstance(obj, dict):
        raise ValueError(f"a config must be a JSON object, got {type(obj).__name__}")
    for f in REQUIRED_FIELDS:
        if f not in obj:
            raise ValueError(f"Required field {f} missing")
    for f in obj:
        if f not in CONFIG_DEFAULTS:
            raise ValueError(f"Unknown field {f} specified")
    cfg = {f: (obj[f] if f in obj else d) for f, d in CONFIG_DEFAULTS.items()}
    cfg = json.loads(json.dumps(cfg))  # JSON-serialisable, and no shared lists
    if cfg["dataset"] not in DATASET_TO_ATTRS:
        raise ValueError(f"unknown dataset {cfg['dataset']!r}")
    if not cfg["early_stopping"] and cfg["max_num_epochs"] is None:
        raise ValueError("No termination criteria specified")
    return cfg


def config_uid(cfg):
    return hashlib.sha1(json.dumps(cfg, indent=2, sort_keys=True).encode("utf-8")).hexdigest()


def paper_grid_configs(dataset, representation):
    keys = [k for k, _ in PAPER_GRID]
    return [
        make_config(dict(dataset=dataset, representation=representation, **dict(zip(keys, combo))))
        for combo in itertools.product(*[v for _, v in PAPER_GRID])
    ]


# ----------------------------------------------------------------------------------------------
# Data


def load_raw(cache_dir, dataset, representation):
    """meta.json + vectors, once. Returns (meta in file order, {uid: x}, {split: sorted uids})."""
    cache_dir = pathlib.Path(cache_dir)
    with open(cache_dir / "processed" / dataset / "meta.json") as f:
        meta = json.load(f)
    rep_dir = cache_dir / "representations" / dataset / representation
    vectors, split_uids = {}, {"train": [], "valid": [], "test": []}
    for uid, attrs in meta.items():
        if attrs["split"] not in split_uids:
            continue
        vectors[uid] = np.load(rep_dir / f"{uid}.npy")
        split_uids[attrs["split"]].append(uid)
    split_uids = {k: sorted(v) for k, v in split_uids.items()}
    for k, v in split_uids.items():
        if not v:
            raise ValueError(f"Empty split {k}")
    return {"meta": meta, "vectors": vectors, "split_uids": split_uids}


def labels_to_targets(dataset, y):
    attrs = DATASET_TO_ATTRS[dataset]
    kind = attrs["output_type"]
    if kind == "regression":
        return np.array(y, dtype=np.float32)
    index = {lab: i for i, lab in enumerate(attrs["labels"])}
    if kind == "multiclass":
        return np.array([index[v] for v in y], dtype=np.int64)
    if kind == "multilabel":
        t = np.zeros((len(y), attrs["num_outputs"]), dtype=np.uint8)
        for i, tags in enumerate(y):
            for tag in tags:
                t[i, index[tag]] = 1
        return t
    raise NotImplementedError(kind)


def split_data(raw, cfg):
    """The reference's per-experiment data order: sorted, then shuffled with random.seed(seed)."""
    out = {}
    for split in ("train", "valid", "test"):
        uids = list(raw["split_uids"][split])
        if cfg["seed"] is not None:
            random.seed(cfg["seed"])
        random.shuffle(uids)
        X = np.array([raw["vectors"][u] for u in uids], dtype=np.float32)
        y = [raw["meta"][u]["y"] for u in uids]
        out[split] = {"uids": uids, "X": X, "t": labels_to_targets(cfg["dataset"], y)}
    if len({v["X"].shape[1] for v in out.values()}) != 1:
        raise ValueError("splits have different feature dimensions")
    return out


# ----------------------------------------------------------------------------------------------
# Model, loss, metrics

_LIBS = {}


def _libs():
    if not _LIBS:
        import mir_eval
        import torch
        import torch.nn.functional as F
        from scipy.stats import mode as scipy_mode
        from sklearn.metrics import average_precision_score, r2_score, roc_auc_score
        from sklearn.preprocessing import StandardScaler

        _LIBS.update(torch=torch, F=F, mir_eval=mir_eval, scipy_mode=scipy_mode,
                     average_precision_score=average_precision_score, r2_score=r2_score,
                     roc_auc_score=roc_auc_score, StandardScaler=StandardScaler)
    return _LIBS


def build_mlp(num_features, hidden, num_outputs, dropout_p):
    """SimpleMLP: dropout on the input, then (Linear, ReLU, dropout) per hidden layer, then Linear.
    The parameters are created in the reference's order (hidden_0..., output), so the torch
    generator gives the same initial weights for the same seed; `dropout_input` is ignored, as in
    the reference."""
    torch = _libs()["torch"]
    nn = torch.nn

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            d = num_features
            self.hidden = nn.ModuleList()
            for h in hidden:
                self.hidden.append(nn.Linear(d, h))
                d = h
            self.output = nn.Linear(d, num_outputs)
            self.dropout = nn.Dropout(p=dropout_p)

        def forward(self, x):
            x = self.dropout(x)
            for layer in self.hidden:
                x = self.dropout(torch.relu(layer(x)))
            return self.output(x)

    return Mlp()


def compute_loss(kind, logits, t):
    F = _libs()["F"]
    if kind == "multiclass":
        return F.cross_entropy(logits, t, reduction="mean")
    if kind == "multilabel":
        return F.binary_cross_entropy_with_logits(logits, t.float(), reduction="mean")
    if kind == "regression":
        return F.mse_loss(logits, t, reduction="mean")
    raise NotImplementedError(kind)


def logits_of(model, Xs, batch_size):
    torch = _libs()["torch"]
    model.eval()
    with torch.no_grad():
        parts = [model(torch.from_numpy(np.ascontiguousarray(Xs[i:i + batch_size])))
                 for i in range(0, Xs.shape[0], batch_size)]
        return torch.cat(parts, dim=0)


def _giantsteps_metrics(uids, logits, t, valid_metrics):
    L = _libs()
    torch, mir_eval = L["torch"], L["mir_eval"]
    names = DATASET_TO_ATTRS["giantsteps_clips"]["labels"]

    def acc_and_score(preds, labels):
        preds, labels = np.asarray(preds), np.asarray(labels)
        acc = float((preds == labels).astype(np.float32).mean())
        score = float(np.mean([mir_eval.key.weighted_score(names[r], names[e])
                               for r, e in zip(labels, preds)]))
        return acc, score

    m = {}
    probs = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    m["clip_accuracy"], m["clip_score"] = acc_and_score(probs.argmax(axis=1), t)
    parts = [u.split("-") for u in uids]
    if any(len(p) != 2 for p in parts):
        m["accuracy"], m["score"] = m["clip_accuracy"], m["clip_score"]
        m["ensemble_strategy"] = None
        return m, "score"

    song_to_idx, song_to_label = defaultdict(list), {}
    for i, ((song, _), lab) in enumerate(zip(parts, t)):
        song_to_idx[song].append(i)
        assert song_to_label.setdefault(song, lab) == lab, "clips of a song disagree on the key"
    songs = sorted(song_to_idx)
    song_labels = np.array([song_to_label[s] for s in songs])
    clip_preds = logits.argmax(axis=1)
    preds = {"vote": [], "max": [], "gmean": [], "mean": []}
    for s in songs:
        idx = song_to_idx[s]
        counts = np.bincount(clip_preds[idx], minlength=logits.shape[1])
        preds["vote"].append(int(counts.argmax()))  # smallest most-frequent class (old scipy mode)
        preds["max"].append(int(logits[idx].max(axis=0).argmax()))
        preds["gmean"].append(int(logits[idx].mean(axis=0).argmax()))
        preds["mean"].append(int(probs[idx].mean(axis=0).argmax()))
    for name, p in preds.items():
        m[f"ensemble_{name}_accuracy"], m[f"ensemble_{name}_score"] = acc_and_score(p, song_labels)
    ref = m if valid_metrics is None else valid_metrics
    best, best_score = None, float("-inf")
    for name in preds:
        if ref[f"ensemble_{name}_score"] > best_score:
            best, best_score = name, ref[f"ensemble_{name}_score"]
    m["ensemble_strategy"] = best
    m["accuracy"] = m[f"ensemble_{best}_accuracy"]
    m["score"] = m[f"ensemble_{best}_score"]
    return m, "score"


def evaluate(model, dataset, batch_size, Xs, t, uids, valid_metrics=None):
    """The reference's `eval` on standardised features Xs. For giantsteps_clips on a split other
    than valid, `valid_metrics` (this model's valid metrics) chooses the ensemble strategy."""
    L = _libs()
    torch = L["torch"]
    kind = DATASET_TO_ATTRS[dataset]["output_type"]
    logits_t = logits_of(model, Xs, batch_size)
    with torch.no_grad():
        loss = float(compute_loss(kind, logits_t, torch.from_numpy(t)).item())
    logits = logits_t.numpy()
    m = {"loss": loss}
    if dataset in ("test", "gtzan_ff"):
        m["accuracy"] = float((logits.argmax(axis=1) == t).astype(np.float32).mean())
        primary = "accuracy"
    elif dataset == "giantsteps_clips":
        extra, primary = _giantsteps_metrics(uids, logits, t, valid_metrics)
        m.update(extra)
    elif dataset == "magnatagatune":
        probs = torch.sigmoid(torch.from_numpy(logits)).numpy()
        m["auc_roc"] = float(L["roc_auc_score"](t, probs, average="macro"))
        m["ap"] = float(L["average_precision_score"](t, probs, average="macro"))
        primary = "auc_roc"
    elif dataset == "emomusic":
        m["r2"] = float(L["r2_score"](t, logits))
        m["arousal_r2"] = float(L["r2_score"](t[:, 0], logits[:, 0]))
        m["valence_r2"] = float(L["r2_score"](t[:, 1], logits[:, 1]))
        primary = "r2"
    else:
        raise NotImplementedError(dataset)
    m["primary"] = m[primary]
    return m


# ----------------------------------------------------------------------------------------------
# Training


def train_and_evaluate(raw, cfg):
    """One config: the reference's load_data order, train, then valid/test metrics of the final
    (restored) model. Returns the run record."""
    L = _libs()
    torch = L["torch"]
    data = split_data(raw, cfg)
    t0 = time.perf_counter()
    attrs = DATASET_TO_ATTRS[cfg["dataset"]]
    kind = attrs["output_type"]
    if cfg["seed"] is not None:
        random.seed(cfg["seed"])
        torch.manual_seed(cfg["seed"])
    X_train = data["train"]["X"]
    model = build_mlp(X_train.shape[1], cfg["hidden_layer_sizes"], attrs["num_outputs"],
                      cfg["dropout_p"])
    model.train()
    wd = 0 if cfg["l2_weight_decay"] is None else cfg["l2_weight_decay"]
    opt = torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"], weight_decay=wd)

    std = cfg["data_standardization"]
    scaler = L["StandardScaler"](with_mean=std, with_std=std).fit(X_train)
    Xs = {s: scaler.transform(data[s]["X"]) for s in ("train", "valid", "test")}
    t_train = torch.from_numpy(data["train"]["t"])
    Xtr = torch.from_numpy(np.ascontiguousarray(Xs["train"]))
    n, bs = X_train.shape[0], cfg["batch_size"]
    population = list(range(n))

    metric = cfg["early_stopping_metric"]
    sign, metric = (-1.0, metric[1:]) if metric.startswith("-") else (1.0, metric)
    step, best_score, boredom, best_state = 0, float("-inf"), 0, None
    while True:
        epoch = step * bs / n
        if cfg["max_num_epochs"] is not None and epoch > cfg["max_num_epochs"]:
            break
        if cfg["early_stopping"] and step % cfg["early_stopping_eval_frequency"] == 0:
            if boredom >= cfg["early_stopping_boredom"]:
                if best_state is not None:
                    model.load_state_dict(best_state)
                break
            score = sign * evaluate(model, cfg["dataset"], bs, Xs["valid"], data["valid"]["t"],
                                    data["valid"]["uids"])[metric]
            model.train()
            if math.isnan(score):
                raise RuntimeError(f"NaN score at step {step}")
            if score > best_score:
                best_score, boredom = score, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                boredom += 1
        idxs = random.sample(population, min(bs, n))
        idx_t = torch.tensor(idxs)
        opt.zero_grad()
        loss = compute_loss(kind, model(Xtr[idx_t]), t_train[idx_t])
        loss.backward()
        opt.step()
        step += 1

    valid = evaluate(model, cfg["dataset"], bs, Xs["valid"], data["valid"]["t"],
                     data["valid"]["uids"])
    test = evaluate(model, cfg["dataset"], bs, Xs["test"], data["test"]["t"],
                    data["test"]["uids"], valid_metrics=valid)
    seconds = time.perf_counter() - t0
    return {"config": cfg, "uid": config_uid(cfg), "steps": step, "seconds": seconds,
            "valid": valid, "test": test}


# Worker state (one per process).
_W = {}


def _init_worker(threads, load_args):
    torch = _libs()["torch"]
    torch.set_num_threads(threads)
    if load_args is not None:  # spawn: load once per worker process
        t0 = time.perf_counter()
        _W["raw"] = load_raw(*load_args)
        _W["load_seconds"] = time.perf_counter() - t0


def _work(cfg):
    # The worker's own load time (spawn) is reported with its first result only.
    return train_and_evaluate(_W["raw"], cfg), _W.pop("load_seconds", None)


def run_configs(cache_dir, dataset, representation, cfgs, jobs=1, threads=1, start_method="fork",
                progress=None):
    """Train every config; returns the output object (see the module docstring)."""
    wall0 = time.perf_counter()
    load_args = (cache_dir, dataset, representation)
    load_seconds = 0.0
    if jobs <= 1 or start_method == "fork":
        t0 = time.perf_counter()
        _W["raw"] = load_raw(*load_args)
        load_seconds = time.perf_counter() - t0
    runs = []
    if jobs <= 1:
        _init_worker(threads, None)
        for i, cfg in enumerate(cfgs):
            runs.append(train_and_evaluate(_W["raw"], cfg))
            if progress:
                progress(i, runs[-1])
    else:
        ctx = mp.get_context(start_method)
        init_load = None if start_method == "fork" else load_args
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(threads, init_load)) as pool:
            for i, (r, worker_load) in enumerate(pool.imap(_work, cfgs, chunksize=1)):
                if worker_load is not None:  # spawn: workers load in parallel; report the slowest
                    load_seconds = max(load_seconds, worker_load)
                runs.append(r)
                if progress:
                    progress(i, r)
    wall = time.perf_counter() - wall0
    torch = _libs()["torch"]
    best = None
    for r in runs:
        if best is None or r["valid"]["primary"] > best["valid"]["primary"]:
            best = r
    return {
        "torch_version": torch.__version__,
        "versions": versions(),
        "dataset": dataset,
        "representation": representation,
        "jobs": jobs,
        "threads": threads,
        "start_method": start_method if jobs > 1 else None,
        "wall_seconds": wall,
        "load_seconds": load_seconds,
        "train_seconds_sum": sum(r["seconds"] for r in runs),
        "runs": runs,
        "best_on_valid": None if best is None else {
            "uid": best["uid"], "valid_primary": best["valid"]["primary"], "test": best["test"]},
    }


def versions():
    import platform

    import mir_eval
    import scipy
    import sklearn

    return {"python": platform.python_version(), "torch": _libs()["torch"].__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
            "mir_eval": mir_eval.__version__}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache-dir", required=True)
    ap.add_argument("--dataset", required=True, choices=sorted(DATASET_TO_ATTRS))
    ap.add_argument("--representation", required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--paper-grid", action="store_true")
    src.add_argument("--configs", nargs="+", metavar="CFG.json")
    src.add_argument("--configs-json", metavar="LIST.json")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--start-method", choices=["fork", "spawn"], default="fork")
    ap.add_argument("--out")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--list-configs", action="store_true",
                    help="print each config's uid and JSON, in order, and exit without training")
    a = ap.parse_args(argv)

    if a.paper_grid:
        cfgs = paper_grid_configs(a.dataset, a.representation)
    else:
        objs = []
        if a.configs:
            for p in a.configs:
                with open(p) as f:
                    objs.append(json.load(f))
        else:
            with open(a.configs_json) as f:
                objs = json.load(f)
            if not isinstance(objs, list):
                raise SystemExit("--configs-json must hold a JSON list of config objects")
        cfgs = [make_config(o) for o in objs]
    for c in cfgs:
        if (c["dataset"], c["representation"]) != (a.dataset, a.representation):
            raise SystemExit(f"config {config_uid(c)} is for {c['dataset']}/{c['representation']}, "
                             f"not {a.dataset}/{a.representation}")

    if a.list_configs:
        for c in cfgs:
            print(config_uid(c), json.dumps(c, sort_keys=True))
        return

    def progress(i, r):
        if not a.quiet:
            print(f"[{i + 1}/{len(cfgs)}] {r['uid'][:10]} steps={r['steps']} "
                  f"{r['seconds']:.2f}s valid={r['valid']['primary']:.4f} "
                  f"test={r['test']['primary']:.4f}", file=sys.stderr, flush=True)

    res = run_configs(a.cache_dir, a.dataset, a.representation, cfgs, a.jobs, a.threads,
                      a.start_method, progress)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    summary = {k: res[k] for k in ("torch_version", "jobs", "threads", "wall_seconds",
                                   "load_seconds", "train_seconds_sum")}
    summary["n_runs"] = len(res["runs"])
    summary["best_on_valid"] = res["best_on_valid"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
