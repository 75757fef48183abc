"""librosa 0.8.1 MFCC outputs for the jukemir-features MFCC parity tests.

Run from the repository root with the pinned environment (tools/reference/requirements.txt):
    /work/pyref/bin/python tools/reference/gen_mfcc_fixtures.py
For every case in fixtures/load/cases.json this mirrors p-lambda/jukemir's handcrafted container
(representations/handcrafted/main.py): peak-normalise the float32 signal, take
librosa.feature.mfcc(y, sr=22050, hop_length=512) and the 120-dim moment vector. Writes to
fixtures/features/mfcc/:
  <case>.mfcc.npy      float32 (20, T)
  <case>.vector.npy    float32 (120,)  [mean, std] of diff orders 0, 1, 2
  mel_basis_22050_2048.npy        librosa.filters.mel(22050, 2048), float32 (128, 1025)
  <SHORT>.1s.melpower.npy / .1s.meldb.npy   melspectrogram and its power_to_db, first second of SHORT
  power_to_db.in.npy / .out.npy   power_to_db on hand-picked values (zeros, amin, top_db clipping)
  tiny.in.npy / tiny.mfcc.npy     a 300-sample signal, shorter than one FFT frame
  manifest.json        versions and shapes
"""
import json
import pathlib

import librosa
import numpy as np
import scipy

LOAD = pathlib.Path("fixtures/load")
OUT = pathlib.Path("fixtures/features/mfcc")
SR = 22050
SHORT = "sad_o3_d6"


def normalise(y):
    # As the container: `y /= np.abs(y).max()` stays float32.
    y = y.copy()
    y /= np.abs(y).max()
    return y


def moments(F):
    out = []
    for i in range(3):
        f = np.diff(F, n=i, axis=1)
        out += [f.mean(axis=1), f.std(axis=1)]
    return np.concatenate(out)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = json.loads((LOAD / "cases.json").read_text())["cases"]
    manifest = {"generated_by": "tools/reference/gen_mfcc_fixtures.py", "cases": {}}
    for case in cases:
        name = case["name"]
        y = normalise(np.load(LOAD / f"{name}.npy"))
        assert y.dtype == np.float32
        F = librosa.feature.mfcc(y, sr=SR, hop_length=512)
        assert F.dtype == np.float32 and F.shape[0] == 20
        vector = moments(F)
        assert vector.dtype == np.float32 and vector.shape == (120,)
        np.save(OUT / f"{name}.mfcc.npy", F)
        np.save(OUT / f"{name}.vector.npy", vector)
        manifest["cases"][name] = {"mfcc_shape": list(F.shape)}

    basis = librosa.filters.mel(SR, 2048)
    assert basis.dtype == np.float32
    np.save(OUT / "mel_basis_22050_2048.npy", basis)

    y = normalise(np.load(LOAD / f"{SHORT}.npy"))[:SR]
    S = librosa.feature.melspectrogram(y, sr=SR, hop_length=512)
    np.save(OUT / f"{SHORT}.1s.melpower.npy", S)
    np.save(OUT / f"{SHORT}.1s.meldb.npy", librosa.power_to_db(S))

    # Values straddling amin, a range wider than top_db, and exact zeros.
    p = np.array([0.0, 1e-12, 1e-10, 3e-10, 1e-9, 1e-5, 0.123, 1.0, 7.5, 1234.5, 1e6], dtype=np.float32)
    np.save(OUT / "power_to_db.in.npy", p)
    np.save(OUT / "power_to_db.out.npy", librosa.power_to_db(p))

    tiny = np.sin(np.arange(300, dtype=np.float32) * np.float32(0.05)).astype(np.float32)
    np.save(OUT / "tiny.in.npy", tiny)
    np.save(OUT / "tiny.mfcc.npy", librosa.feature.mfcc(tiny, sr=SR, hop_length=512))

    manifest["versions"] = {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__}
    with open(OUT / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
