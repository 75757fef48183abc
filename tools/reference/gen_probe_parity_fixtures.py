"""PyTorch reference results for the probe parity test (fixtures/probe/parity/).

Run from the repository root with the pinned environment (tools/reference/requirements-torch.txt):
    /work/pyref/bin/python tools/reference/gen_probe_parity_fixtures.py [--jobs 2]

The Rust probe reproduces the reference's data order and `random.sample` batches but not torch's
generator (initialisation, dropout), so parity is statistical: on a seeded synthetic task, the
test accuracy of the best-on-valid config should be within noise of PyTorch's, for the same configs
over the same seeds.

The task: a synthetic GTZAN-shaped multiclass problem (dataset `gtzan_ff`, its 10 labels), 930
clips `clip0000`..`clip0929` split train 443 / valid 197 / test 290 (assigned by a seeded
permutation), 64-dim float32 features. Labels are uniform over the 10 genres; each class has a mean
drawn from N(0, 1) in a random 6-dim subspace (scaled by SEPARATION), plus isotropic N(0, 1)
noise in all 64 dims; then every feature gets a large offset and its own scale (lognormal), so
that data_standardization matters. Everything comes from numpy's default_rng(DATA_SEED).

Configs (12; the paper grid's `data_standardization` True, dropout_p 0.5, other fields default
except `early_stopping_boredom` 16 instead of 256, to keep the Rust test fast):
  hidden_layer_sizes [] / [512] x batch_size 64 / 256 x learning_rate 1e-4 / 1e-3 with
  l2_weight_decay None (8 configs), plus l2_weight_decay 1e-3 with learning_rate 1e-3 for each
  hidden x batch (4 configs); the 4 left out are l2 1e-3 with learning_rate 1e-4. They are listed
  in paper-grid order (product of hidden, batch, lr, l2). Each is run for seeds 0..7 (the `seed`
  field: it changes the split shuffles, the batches, the initialisation and dropout).

Writes fixtures/probe/parity/:
  features.npy       (930, 64) float32, rows in uid order (clip0000 first)
  meta.json          uid -> {"split", "y"}, keys in the same order as the rows
  torch_results.json versions, the task's parameters, the 12 base configs (without seed), per
                     seed every run's uid / steps / valid and test accuracy and the best-on-valid
                     run (ties: first in config order), and the summary: per-seed best-valid test
                     accuracy with its mean and std (population, ddof=0; sample std also given),
                     and each config's test accuracy mean / std across seeds.
"""
import argparse
import json
import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import probe_torch  # noqa: E402

OUT = pathlib.Path("fixtures/probe/parity")
DATASET, REPRESENTATION = "gtzan_ff", "synth"
DATA_SEED = 20211107
N_SPLIT = {"train": 443, "valid": 197, "test": 290}
DIM, SUBSPACE, SEPARATION = 64, 6, 1.3
SEEDS = list(range(8))
BOREDOM = 16


def make_task():
    rng = np.random.default_rng(DATA_SEED)
    labels = probe_torch.DATASET_TO_ATTRS[DATASET]["labels"]
    n = sum(N_SPLIT.values())
    splits = np.array(sum([[s] * k for s, k in N_SPLIT.items()], []))[rng.permutation(n)]
    y = rng.integers(0, len(labels), size=n)
    means = rng.normal(size=(len(labels), SUBSPACE))
    basis, _ = np.linalg.qr(rng.normal(size=(DIM, SUBSPACE)))
    x = SEPARATION * means[y] @ basis.T + rng.normal(size=(n, DIM))
    scale = np.exp(rng.normal(0.0, 1.5, size=DIM))
    offset = rng.normal(0.0, 30.0, size=DIM) + 100.0
    x = (x * scale + offset).astype(np.float32)
    uids = [f"clip{i:04d}" for i in range(n)]
    meta = {u: {"split": str(s), "y": labels[k]} for u, s, k in zip(uids, splits, y)}
    params = {"data_seed": DATA_SEED, "n_split": N_SPLIT, "dim": DIM, "subspace_dim": SUBSPACE,
              "separation": SEPARATION, "noise_std": 1.0, "scale": "exp(N(0, 1.5^2)) per feature",
              "offset": "100 + N(0, 30^2) per feature", "generator": "numpy default_rng"}
    return uids, x, meta, params


def base_configs():
    cfgs = []
    for hidden in ([], [512]):
        for batch in (64, 256):
            for lr in (1e-4, 1e-3):
                for l2 in (None, 1e-3):
                    if l2 is not None and lr == 1e-4:
                        continue
                    cfgs.append({"dataset": DATASET, "representation": REPRESENTATION,
                                 "data_standardization": True, "hidden_layer_sizes": hidden,
                                 "batch_size": batch, "learning_rate": lr, "dropout_p": 0.5,
                                 "l2_weight_decay": l2, "early_stopping_boredom": BOREDOM})
    assert len(cfgs) == 12
    return cfgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    t_start = time.perf_counter()

    uids, x, meta, params = make_task()
    bases = base_configs()
    cfgs = [probe_torch.make_config(dict(b, seed=s)) for s in SEEDS for b in bases]

    with tempfile.TemporaryDirectory() as tmp:
        cache = pathlib.Path(tmp)
        (cache / "processed" / DATASET).mkdir(parents=True)
        rep = cache / "representations" / DATASET / REPRESENTATION
        rep.mkdir(parents=True)
        (cache / "processed" / DATASET / "meta.json").write_text(json.dumps(meta))
        for u, row in zip(uids, x):
            np.save(rep / f"{u}.npy", row)

        def progress(i, r):
            if (i + 1) % len(bases) == 0:
                print(f"  seed {r['config']['seed']} done ({i + 1}/{len(cfgs)} runs, "
                      f"{time.perf_counter() - t_start:.0f}s)", file=sys.stderr, flush=True)

        res = probe_torch.run_configs(cache, DATASET, REPRESENTATION, cfgs, jobs=a.jobs,
                                      threads=1, progress=progress)

    runs = res["runs"]
    per_seed, best_tests = [], []
    acc = np.zeros((len(SEEDS), len(bases)))
    for si, seed in enumerate(SEEDS):
        seed_runs = runs[si * len(bases):(si + 1) * len(bases)]
        assert all(r["config"]["seed"] == seed for r in seed_runs)
        best = 0
        for i, r in enumerate(seed_runs):
            acc[si, i] = r["test"]["accuracy"]
            if r["valid"]["accuracy"] > seed_runs[best]["valid"]["accuracy"]:
                best = i
        best_tests.append(seed_runs[best]["test"]["accuracy"])
        per_seed.append({
            "seed": seed,
            "best_config_index": best,
            "best_valid_accuracy": seed_runs[best]["valid"]["accuracy"],
            "best_test_accuracy": seed_runs[best]["test"]["accuracy"],
            "runs": [{"config_index": i, "uid": r["uid"], "steps": r["steps"],
                      "valid_accuracy": r["valid"]["accuracy"],
                      "test_accuracy": r["test"]["accuracy"]} for i, r in enumerate(seed_runs)],
        })
    bt = np.array(best_tests)
    summary = {
        "best_valid_test_accuracy_per_seed": best_tests,
        "best_valid_test_accuracy_mean": float(bt.mean()),
        "best_valid_test_accuracy_std": float(bt.std()),
        "best_valid_test_accuracy_std_ddof1": float(bt.std(ddof=1)),
        "config_test_accuracy_mean": acc.mean(axis=0).tolist(),
        "config_test_accuracy_std": acc.std(axis=0).tolist(),
    }
    results = {
        "description": "tools/reference/gen_probe_parity_fixtures.py: PyTorch reference probe "
                       "results on a seeded synthetic gtzan_ff-shaped task",
        "versions": res["versions"],
        "dataset": DATASET,
        "representation": REPRESENTATION,
        "task": params,
        "seeds": SEEDS,
        "configs": bases,
        "config_defaults": probe_torch.CONFIG_DEFAULTS,
        "tie_rule": "best on valid accuracy; ties -> first in config order",
        "summary": summary,
        "per_seed": per_seed,
        "train_wall_seconds": res["wall_seconds"],
        "jobs": a.jobs,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "features.npy", x)
    (OUT / "meta.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    (OUT / "torch_results.json").write_text(json.dumps(results, indent=1) + "\n")

    print("config test accuracy (mean +- std over seeds):")
    for i, b in enumerate(bases):
        print(f"  [{i:2d}] hidden={str(b['hidden_layer_sizes']):5s} batch={b['batch_size']:3d} "
              f"lr={b['learning_rate']:g} l2={b['l2_weight_decay']}: "
              f"{summary['config_test_accuracy_mean'][i]:.4f} +- "
              f"{summary['config_test_accuracy_std'][i]:.4f}")
    print("best-on-valid test accuracy per seed:", [round(v, 4) for v in best_tests])
    print(f"mean {bt.mean():.4f}  std {bt.std():.4f} (ddof=1: {bt.std(ddof=1):.4f})")
    sizes = {p.name: p.stat().st_size for p in sorted(OUT.iterdir())}
    print("files:", sizes, "total", sum(sizes.values()))
    print(f"wall {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
