"""librosa 0.8.1 chroma_cqt outputs and intermediates, for the chroma parity tests.

Run from the repository root with the pinned environment (tools/reference/requirements.txt):
    /work/pyref/bin/python tools/reference/gen_chroma_fixtures.py
Reads fixtures/load/<case>.npy (written by gen_load_fixtures.py) and writes fixtures/features/chroma/:
  <case>.chroma.npy   librosa.feature.chroma_cqt(y, sr=22050, hop_length=512) of the peak-normalised
                      signal, float32 (12, T), exactly as p-lambda/jukemir's handcrafted container
  <case>.vector.npy   that container's 72 difference moments, float32
  sad_o3_d6.cqt_abs.npy   |cqt(y, tuning=estimated)| of one case, float32 (252, T)
  basis_c7.npy        the top-octave sparse FFT filter basis at tuning 0, densified: complex64
                      values as float32 (36, 513, 2) (real, imag)
  short_<n>.chroma.npy    chroma of the first n samples of the normalised sad_o3_d6 (short inputs)
  variant_<name>.cqt_abs.npy  |librosa.cqt| under other parameters (see VARIANTS), float32
  cases.json          per-case tuning (as exact decimal strings), shapes and piptrack statistics, the short-input outcomes,
                      the basis metadata and the library versions
"""
import json
import pathlib
import warnings

import librosa
import numpy as np
import resampy
import scipy

LOAD = pathlib.Path("fixtures/load")
OUT = pathlib.Path("fixtures/features/chroma")
SR = 22050
HOP = 512
CQT_CASE = "sad_o3_d6"
SHORT_CASE = "sad_o3_d6"
# 32 samples is one too few for 7 octaves (librosa raises); 33 is the shortest that works.
SHORT_LENGTHS = [32, 33, 64, 1000, 5000]
# librosa.cqt configurations that exercise the other branches of vqt, on the first 3 s of
# VARIANT_CASE: early downsampling (a low top octave), scale=False, the kaiser_best top octave
# (sr 9000), a partial lowest octave, an estimated tuning with a custom fmin and hop.
VARIANT_CASE = "sad_o3_d6"
VARIANT_LEN = 66150
VARIANTS = {
    "bins84": dict(sr=22050, n_bins=84, bins_per_octave=12, tuning=0.0),
    "early": dict(sr=22050, n_bins=24, bins_per_octave=12, tuning=0.0),
    "early_noscale": dict(sr=22050, n_bins=24, bins_per_octave=12, tuning=0.0, scale=False),
    "best9000": dict(sr=9000, n_bins=84, bins_per_octave=12, tuning=0.0),
    "hop256_tuned": dict(sr=22050, n_bins=60, bins_per_octave=12, tuning=None, hop_length=256, fmin=65.0),
    "partial": dict(sr=22050, n_bins=40, bins_per_octave=12, tuning=0.1),
}


def normalised(name):
    y = np.load(LOAD / f"{name}.npy")
    assert y.dtype == np.float32
    norm = np.abs(y).max()
    y /= norm
    return y


def exact(value):
    """A float as its shortest round-trip string: JSON readers need not parse numbers exactly
    (serde_json's default parser can be an ulp off), and tunings are compared for equality."""
    return repr(float(value))


def moments_vector(features):
    moments = []
    for i in range(3):
        f = np.diff(features, n=i, axis=1)
        moments += [f.mean(axis=1), f.std(axis=1)]
    return np.concatenate(moments)


def piptrack_stats(y):
    """What estimate_tuning sees: how many peaks and the median magnitude it thresholds at."""
    pitch, mag = librosa.piptrack(y=y, sr=SR, n_fft=2048)
    mask = pitch > 0
    threshold = float(np.median(mag[mask])) if mask.any() else 0.0
    kept = int(((mag >= threshold) & mask).sum())
    return {"n_peaks": int(mask.sum()), "median_mag": threshold, "n_kept": kept}


def top_octave_basis():
    """The filter basis vqt builds for the top octave (C7..B7) at tuning 0 and 22050 Hz."""
    build = getattr(librosa.core.constantq, "__cqt_filter_fft")
    fmin = librosa.note_to_hz("C1") * 2.0**6
    fft_basis, n_fft, lengths = build(SR, fmin, 36, 36, 1, 1, 0.01, window="hann", gamma=0, dtype=np.complex64)
    # (real, imag) pairs in float32, so the tests can read it without complex npy support.
    dense = fft_basis.toarray().astype(np.complex64).view(np.float32).reshape(36, -1, 2)
    meta = {
        "sr": SR,
        "fmin": float(fmin),
        "n_fft": int(n_fft),
        "lengths": [float(v) for v in lengths],
        "nnz_per_row": [int(v) for v in np.diff(fft_basis.indptr)],
    }
    return dense, meta


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    cases = json.loads((LOAD / "cases.json").read_text())["cases"]
    manifest = {}
    for case in cases:
        name = case["name"]
        y = normalised(name)
        tuning = librosa.estimate_tuning(y=y, sr=SR, bins_per_octave=36)
        chroma = librosa.feature.chroma_cqt(y, sr=SR, hop_length=HOP)
        assert chroma.dtype == np.float32
        vector = moments_vector(chroma)
        np.save(OUT / f"{name}.chroma.npy", chroma)
        np.save(OUT / f"{name}.vector.npy", vector)
        manifest[name] = {"len": len(y), "tuning": exact(tuning), "n_frames": chroma.shape[1], **piptrack_stats(y)}
        if name == CQT_CASE:
            cqt = librosa.cqt(y, sr=SR, hop_length=HOP, n_bins=252, bins_per_octave=36, tuning=tuning)
            assert cqt.dtype == np.complex64
            np.save(OUT / f"{name}.cqt_abs.npy", np.abs(cqt))

    short = {}
    y = normalised(SHORT_CASE)
    for n in SHORT_LENGTHS:
        try:
            chroma = librosa.feature.chroma_cqt(y[:n], sr=SR, hop_length=HOP)
        except librosa.ParameterError as e:
            short[str(n)] = {"error": str(e)}
            continue
        np.save(OUT / f"short_{n}.chroma.npy", chroma)
        tuning = librosa.estimate_tuning(y=y[:n], sr=SR, bins_per_octave=36)
        short[str(n)] = {"tuning": exact(tuning), "n_frames": chroma.shape[1]}

    silence = np.zeros(SR, dtype=np.float32)
    silent_chroma = librosa.feature.chroma_cqt(silence, sr=SR, hop_length=HOP)
    silence_info = {
        "len": len(silence),
        "tuning": exact(librosa.estimate_tuning(y=silence, sr=SR, bins_per_octave=36)),
        "n_frames": silent_chroma.shape[1],
        "max": float(silent_chroma.max()),
        "any_nan": bool(np.isnan(silent_chroma).any()),
    }

    variants = {}
    y = normalised(VARIANT_CASE)[:VARIANT_LEN]
    for name, params in VARIANTS.items():
        params = dict(params)
        sr = params.pop("sr")
        cqt = librosa.cqt(y, sr=sr, **params)
        assert cqt.dtype == np.complex64
        np.save(OUT / f"variant_{name}.cqt_abs.npy", np.abs(cqt))
        variants[name] = {"sr": sr, **params}

    dense, basis_meta = top_octave_basis()
    np.save(OUT / "basis_c7.npy", dense)

    versions = {
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "resampy": resampy.__version__,
    }
    doc = {
        "generated_by": "tools/reference/gen_chroma_fixtures.py",
        "versions": versions,
        "sr": SR,
        "hop_length": HOP,
        "cases": manifest,
        "cqt_case": CQT_CASE,
        "short_case": SHORT_CASE,
        "short": short,
        "silence": silence_info,
        "variant_case": VARIANT_CASE,
        "variant_len": VARIANT_LEN,
        "variants": variants,
        "basis_c7": basis_meta,
    }
    (OUT / "cases.json").write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
