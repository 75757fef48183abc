"""Times the reference's handcrafted extraction (librosa 0.8.1) on the given files, one core.

Used by `jukemir bench features`, which embeds this file; run by hand as
    python bench_librosa.py --duration 30 FILE...
Prints one JSON object: {"versions": {...}, "seconds": {"chroma": s, "mfcc": s}, "files": n}.
Each file is processed exactly as p-lambda/jukemir representations/handcrafted/main.py does.
"""
import argparse
import json
import os
import time

# One core, as the comparison states; must be set before numpy loads its BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import librosa  # noqa: E402
import numpy as np  # noqa: E402


def extract(path, feature, duration):
    audio, sr = librosa.core.load(path, sr=22050, mono=True, duration=duration)
    norm = np.abs(audio).max()
    if norm > 0:
        audio /= norm
    if feature == "chroma":
        features = librosa.feature.chroma_cqt(audio, sr=sr, hop_length=512)
    else:
        features = librosa.feature.mfcc(audio, sr=sr, hop_length=512)
    moments = []
    for i in range(3):
        f = np.diff(features, n=i, axis=1)
        moments.append(f.mean(axis=1))
        moments.append(f.std(axis=1))
    return np.concatenate(moments)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--features", default="chroma,mfcc")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    seconds = {}
    for feature in args.features.split(","):
        extract(args.files[0], feature, 1.0)  # JIT warm-up (numba in resampy), not timed
        start = time.perf_counter()
        for path in args.files:
            extract(path, feature, args.duration)
        seconds[feature] = time.perf_counter() - start
    versions = {"librosa": librosa.__version__, "numpy": np.__version__}
    print(json.dumps({"versions": versions, "seconds": seconds, "files": len(args.files)}))


if __name__ == "__main__":
    main()
