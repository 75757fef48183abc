#!/usr/bin/env python3
"""Writes fixtures/choi/py2_shuffle_seed0.json: the permutation that Python 2.7's
`random.seed(0); random.shuffle(x)` applies to lists of several lengths.

The choi reference (jukemir representations/choi/main.py, Python 2) shuffles its sorted input
paths this way before cutting them into batch-norm batches, so the Rust port must reproduce it.
Python 3's `shuffle` draws differently (`_randbelow`), but its Mersenne Twister state after
`seed(0)` and its `random()` are the same as Python 2's (checked on a real Python 2.7.18, see
fixtures/choi/order.json), so Python 2's loop is re-stated here on Python 3's generator.
Standard library only; any Python 3 gives the same output.
"""
import json
import pathlib
import random

LENGTHS = [0, 1, 2, 5, 7, 256, 930, 1000]


def py2_shuffle(items, seed=0):
    x = list(items)
    rng = random.Random(seed)
    for i in reversed(range(1, len(x))):
        j = int(rng.random() * (i + 1))
        x[i], x[j] = x[j], x[i]
    return x


def main():
    out = {
        "generated_by": "tools/reference/gen_py2_shuffle.py",
        "rule": "Python 2.7 random.seed(0); random.shuffle(list(range(n)))",
        "permutations": {str(n): py2_shuffle(range(n)) for n in LENGTHS},
    }
    path = pathlib.Path(__file__).resolve().parents[2] / "fixtures/choi/py2_shuffle_seed0.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
