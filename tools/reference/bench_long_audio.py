"""The reference jukebox container's audio loading on one long file: peak memory and time.

Used by `jukemir bench long-audio`, which embeds this file; run by hand as
    python bench_long_audio.py FILE HEAD.npy
p-lambda/jukemir's representations/jukebox/main.py loads the whole file with
librosa.load(sr=44100), divides it by its absolute peak, and keeps the first 25 s.
Saves the 25 s to HEAD.npy and prints one JSON object:
{"versions": {...}, "peak": p, "samples": n, "head_sha256": h}.
Pinned versions: tools/reference/requirements.txt (librosa 0.8.1).
"""
import hashlib
import json
import sys

import librosa
import numpy as np


def main():
    path = sys.argv[1]
    audio, _ = librosa.load(path, sr=44100, mono=True)
    norm = np.abs(audio).max()
    samples = len(audio)
    if norm > 0:
        audio /= norm
    head = np.ascontiguousarray(audio[: 25 * 44100], dtype="<f4")
    np.save(sys.argv[2], head)
    print(json.dumps({
        "versions": {"librosa": librosa.__version__, "numpy": np.__version__},
        "peak": float(norm),
        "samples": samples,
        "head_sha256": hashlib.sha256(head.tobytes()).hexdigest(),
    }))


if __name__ == "__main__":
    main()
