"""musicnn 0.1.0 reference outputs (the real package is the oracle) for the musicnn port.

Run from the repository root with the pinned environment (tools/reference/requirements-musicnn.txt):
    python3 -m venv /work/pyref-musicnn
    /work/pyref-musicnn/bin/pip install -r tools/reference/requirements-musicnn.txt
    /work/pyref-musicnn/bin/pip install --no-deps ../shared/weights/musicnn-0.1.0-py3-none-any.whl
    /work/pyref-musicnn/bin/python tools/reference/gen_musicnn_fixtures.py

For every clip in CLIPS and every model in MODELS this calls
`musicnn.extractor.extractor(path, model=M, extract_features=True)` with its defaults
(input_length=3 s, no overlap) and writes to fixtures/musicnn/:
  <stem>.<M>.representation.npy  float32 (2*D,)  musicnn models only: concat of the mean over patches
                                 of features['mean_pool'] and of features['max_pool'], exactly as
                                 p-lambda/jukemir's representations/musicnn/main.py does
  <stem>.<M>.taggram.npy         float32 (patches, 50)  sigmoid tag probabilities per patch
  <stem>.<M>.pool5.npy           float32 (2*patches, 128)  vgg models only, features['pool5'] as returned
For DEBUG_CLIP with MSD_musicnn also the intermediates of the FIRST patch only (size budget):
  <stem>.audio16k.npy            float32, the first 3 s of librosa.load(path, sr=16000) (the same
                                 call the extractor makes); full length and checksum in the manifest
  <stem>.input.npy               float32 (1, 187, 96), the log-mel patch fed to the placeholder
  <stem>.MSD_musicnn.<key>.npy   every features key for that patch; mean_pool, max_pool (and the
                                 taggram above) for all patches
  manifest.json                  versions, decoder, shapes, checkpoint variable lists, checks

librosa 0.7.0 imports `numba.decorators`, which numba >= 0.49 no longer has; the only name it takes
from there is `jit` (librosa's `optional_jit`), so the shim below maps it to `numba.jit`.
"""
import hashlib
import importlib.metadata as md
import json
import os
import pathlib
import platform
import sys
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numba  # noqa: E402

sys.modules.setdefault("numba.decorators", types.SimpleNamespace(jit=numba.jit))

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration as mconfig  # noqa: E402
from musicnn import extractor as mextractor  # noqa: E402

SHARED = pathlib.Path("../shared/data/music")
OUT = pathlib.Path("fixtures/musicnn")
CLIPS = [
    "musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3",  # MP3 16 kHz mono, 29.1 s
    "musicnn/TRWJAZW128F42760DD_test.mp3",  # MP3 22.05 kHz stereo, 29.9 s
    "wesnoth/defeat.ogg",  # Vorbis 44.1 kHz stereo, 8.5 s
    "wesnoth/sad.ogg",  # Vorbis 44.1 kHz stereo, 44.4 s
]
MODELS = ["MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"]
DEBUG_CLIP = CLIPS[0]
DEBUG_MODEL = "MSD_musicnn"
N_FRAMES = 187
DEBUG_PATCHES = 1
DEBUG_SAMPLES = 48000  # frames 0..186 (centred at t*256, +-256) only need samples < 47872

PKG_DIR = pathlib.Path(mextractor.__file__).parent

# The extractor swallows a failed Saver.restore and would then run with random weights: record it.
RESTORES = []
_orig_restore = tf.compat.v1.train.Saver.restore


def _checked_restore(self, sess, save_path):
    try:
        out = _orig_restore(self, sess, save_path)
    except Exception as exc:  # recorded, then re-raised into the extractor
        RESTORES.append({"model": pathlib.Path(save_path).name, "error": repr(exc)})
        raise
    # prove the values came from the checkpoint: every graph variable equals the stored tensor
    reader = tf.compat.v1.train.NewCheckpointReader(save_path)
    worst = 0.0
    gvars = tf.compat.v1.global_variables()
    for v, val in zip(gvars, sess.run(gvars)):
        worst = max(worst, float(np.max(np.abs(val - reader.get_tensor(v.op.name)))) if val.size else 0.0)
    RESTORES.append({"model": pathlib.Path(save_path).name, "error": None, "n_vars": len(gvars),
                     "max_abs_diff_vs_ckpt": worst})
    return out


tf.compat.v1.train.Saver.restore = _checked_restore


def save(name, arr, files, note=None):
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    assert np.all(np.isfinite(arr)), name
    np.save(OUT / name, arr)
    entry = {"shape": list(arr.shape), "dtype": "float32"}
    if note:
        entry["note"] = note
    files[name] = entry


def decoder_of(path):
    # librosa 0.7.0 load(): soundfile first, audioread only when soundfile raises RuntimeError.
    try:
        info = sf.info(str(path))
        return {"decoder": f"soundfile {sf.__version__} / libsndfile {sf.__libsndfile_version__}",
                "format": f"{info.format} {info.subtype}", "sr_native": info.samplerate,
                "channels": info.channels}
    except RuntimeError:
        return {"decoder": "audioread"}


def checkpoint_variables(model):
    reader = tf.compat.v1.train.NewCheckpointReader(str(PKG_DIR / model) + "/")
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    keep = [k for k in sorted(shapes) if "/Adam" not in k and k not in ("beta1_power", "beta2_power")]
    return {
        "excluded": "Adam slots (*/Adam, */Adam_1) and beta1_power, beta2_power",
        "n_total_in_checkpoint": len(shapes),
        "variables": [{"name": k, "shape": list(shapes[k]), "dtype": dtypes[k].name} for k in keep],
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    files, clips, checks, reps = {}, {}, {}, {}
    for rel in CLIPS:
        path = SHARED / rel
        stem = path.stem
        clips[stem] = {"path": rel, **decoder_of(path)}
        for model in MODELS:
            n_restores = len(RESTORES)
            taggram, tags, features = mextractor.extractor(str(path), model=model, extract_features=True)
            assert len(RESTORES) == n_restores + 1 and RESTORES[-1]["error"] is None, RESTORES[-1]
            assert RESTORES[-1]["max_abs_diff_vs_ckpt"] == 0.0
            n_patches = taggram.shape[0]
            clips[stem]["patches"] = n_patches
            save(f"{stem}.{model}.taggram.npy", taggram, files)
            if "vgg" in model:
                save(f"{stem}.{model}.pool5.npy", features["pool5"], files,
                     "features['pool5'] as returned: per patch squeeze([1,2,1,128]) -> [2,128], concatenated")
                continue
            rep = np.concatenate([features[k].mean(axis=0) for k in ("mean_pool", "max_pool")])
            save(f"{stem}.{model}.representation.npy", rep, files)
            reps[f"{stem}.{model}"] = int(rep.shape[0])
            if rel == DEBUG_CLIP and model == DEBUG_MODEL:
                debug(path, stem, features, n_patches, files, checks)
    checks["representation_dims"] = reps
    # one entry per model (every call restored the same way; the asserts above checked each one)
    checks["restores"] = {r["model"]: {k: v for k, v in r.items() if k != "model"} for r in RESTORES}
    manifest = {
        "generated_by": "tools/reference/gen_musicnn_fixtures.py",
        "oracle": "musicnn.extractor.extractor(path, model=M, extract_features=True), input_length=3, "
                  "input_overlap=False; representation = concat(mean_pool.mean(0), max_pool.mean(0))",
        "versions": versions(),
        "clips": clips,
        "debug": {"clip": DEBUG_CLIP, "model": DEBUG_MODEL, "patches_saved": DEBUG_PATCHES,
                  "audio16k_samples_saved": DEBUG_SAMPLES},
        "checks": checks,
        "files": dict(sorted(files.items())),
        "checkpoints": {m: checkpoint_variables(m) for m in MODELS},
    }
    with open(OUT / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(files)} arrays, {total} bytes in {OUT}")


def debug(path, stem, features, n_patches, files, checks):
    # The extractor's own load and batching, called again (deterministic) to keep what it fed the net.
    audio, sr = librosa.load(str(path), sr=mconfig.SR)
    batch, spec = mextractor.batch_data(str(path), N_FRAMES, N_FRAMES)
    assert batch.shape == (n_patches, N_FRAMES, mconfig.N_MELS)
    # Re-derive the log-mel from `audio` to pin the dtype path: f32 mel -> f16 -> f32 log10(1e4 x + 1).
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=mconfig.FFT_HOP,
                                         n_fft=mconfig.FFT_SIZE, n_mels=mconfig.N_MELS).T
    again = np.log10(10000 * mel.astype(np.float16) + 1)
    assert again.dtype == np.float32 and np.array_equal(again, spec)
    mel_f32 = np.log10(10000 * mel + 1)
    checks["debug_clip"] = {
        "audio16k_len": int(audio.shape[0]),
        "audio16k_sha256": hashlib.sha256(np.ascontiguousarray(audio, np.float32).tobytes()).hexdigest(),
        "audio16k_sum": float(audio.astype(np.float64).sum()),
        "audio16k_abs_max": float(np.abs(audio).max()),
        "spectrogram_frames": int(spec.shape[0]),
        "frames_dropped_at_end": int(spec.shape[0] - n_patches * N_FRAMES),
        "logmel_dtype": str(spec.dtype),
        "logmel_max_abs_change_from_f16_rounding": float(np.abs(mel_f32 - spec).max()),
        "mel_power_max": float(mel.max()),
    }
    P, T = DEBUG_PATCHES, N_FRAMES
    save(f"{stem}.audio16k.npy", audio[:DEBUG_SAMPLES], files,
         f"first {DEBUG_SAMPLES} of {audio.shape[0]} samples of librosa.load(path, sr=16000)")
    save(f"{stem}.input.npy", batch[:P], files, "log-mel patches fed to the network (first patch)")
    for key, val in features.items():
        if key in ("mean_pool", "max_pool"):  # [patches, 753], all patches
            save(f"{stem}.{DEBUG_MODEL}.{key}.npy", val, files, "all patches")
        elif key == "penultimate":  # [patches, 200]
            save(f"{stem}.{DEBUG_MODEL}.{key}.npy", val[:P], files, "first patch")
        else:  # returned as [patches*187, C]; saved as [P, 187, C]
            save(f"{stem}.{DEBUG_MODEL}.{key}.npy", val[: P * T].reshape(P, T, -1), files,
                 "first patch; the extractor returns [patches*187, C]")
    # The extractor's loop over patches >= 1 unpacks into midend1_/midend2_/midend3_/backend_ but
    # concatenates cnn1_/cnn2_/cnn3_/penultimate_ (patch 0's): record that those keys repeat patch 0.
    rep0 = {}
    for key in ("cnn1", "cnn2", "cnn3"):
        v = features[key].reshape(n_patches, T, -1)
        rep0[key] = bool(all(np.array_equal(v[i], v[0]) for i in range(n_patches)))
    pen = features["penultimate"]
    rep0["penultimate"] = bool(all(np.array_equal(pen[i], pen[0]) for i in range(n_patches)))
    v = features["timbral"].reshape(n_patches, T, -1)
    rep0["timbral (control)"] = bool(all(np.array_equal(v[i], v[0]) for i in range(n_patches)))
    checks["extractor_keys_that_repeat_patch0"] = rep0
    checks["features_shapes_as_returned"] = {k: list(v.shape) for k, v in features.items()}


def wheel_sha256():
    p = pathlib.Path("../shared/weights/musicnn-0.1.0-py3-none-any.whl")
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None


def versions():
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "musicnn": md.version("musicnn"),
        "scipy": md.version("scipy"),
        "resampy": md.version("resampy"),
        "numba": numba.__version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
        "audioread": md.version("audioread"),
        "librosa_numba_decorators_shim": True,
        "musicnn_wheel_sha256": wheel_sha256(),
    }


if __name__ == "__main__":
    main()
