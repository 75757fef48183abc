"""CLMR reference fixtures (fixtures/clmr/), with the real CLMR source as the oracle.

Run from the repository root with the pinned environment (tools/reference/requirements-clmr.txt):
    /work/pyref/bin/python tools/reference/gen_clmr_fixtures.py --clmr-src DIR [--write-audio]

DIR is a copy of Spijkervet/CLMR at commit 8939105bf2aea51f2267db99ef66e94db676dbe7, the commit
p-lambda/jukemir's clmr container installs (its tag 2.1, the release that ships the weights, has the
same sample_cnn.py and checkpoint.py). CLMR is not on PyPI, and its setup.py packages nothing (the
`clmr/` folder has no __init__.py, so find_packages() returns []); the container therefore uses
`pip install -e`, i.e. the source folder on sys.path. This script does the same: DIR goes on
sys.path and `clmr.models.SampleCNN` / `clmr.utils.load_encoder_checkpoint` are imported from it.
The git blob ids of the files that matter are checked against that commit.

The real weights (GitHub release 2.1, clmr_magnatagatune_mlp.zip) are not available here, so the
fixtures use seeded random weights:

* tiny_random.ckpt: SampleCNN(strides=[3]*9, supervised=0, out_dim=50) built by CLMR's own
  constructor with every channel count divided by 8 (CLMR's constructor hard-codes the widths, so
  the `nn` that clmr/models/sample_cnn.py sees is swapped for a shim while it runs; module names,
  order and hence state-dict keys are the real ones). Widths: first conv 1->16, blocks
  16->16, 16->16, 16->32, 32->32 x5, 32->64, last conv 64->64, fc 64->50 (fc is dropped anyway).
  Conv weights: PyTorch's default init under torch.manual_seed(SEED). BatchNorm: weight
  U(0.5, 1.5), bias 0.1*N(0,1), running stats calibrated by one train-mode pass on seeded noise and
  then perturbed (mean + 0.1*std*N(0,1), var * U(0.5, 2)), num_batches_tracked set, so eval-mode
  BN is a real affine map per channel.
* The checkpoint is laid out like the Lightning checkpoint that CLMR's main.py writes: the
  LightningModule is clmr.modules.ContrastiveLearning, whose children are `encoder` (the
  SampleCNN) and `model` (simclr.SimCLR, holding the same encoder as `model.encoder` and
  `model.projector`); SimCLR replaces encoder.fc by Identity, so no fc keys exist. The stand-in
  module below has the same children in the same order (pytorch_lightning itself is not needed;
  a LightningModule adds no state). Top-level keys follow pytorch-lightning 1.2.4's
  dump_checkpoint (the release 2.1 tag is dated 2021-03-19): epoch, global_step,
  pytorch-lightning_version, state_dict, callbacks ({ModelCheckpoint class: state}),
  optimizer_states ([Adam state_dict, torch-1.x style: int step]), lr_schedulers ([]),
  hparams_name (None), hyper_parameters (CLMR's config.yaml + accelerator "dp"). Saved like
  pytorch_lightning.utilities.cloud_io.atomic_save does: torch.save into a BytesIO (so the zip
  records are under "archive/"), then written out. tiny_random_legacy.ckpt holds the same object
  with _use_new_zipfile_serialization=False. When pytorch_lightning is not installed, a stand-in
  module pytorch_lightning.callbacks.model_checkpoint is put in sys.modules so that the class key
  pickles (and unpickles) under its real name.
* full_size_keys.json: the full-size checkpoint's keys, shapes and dtypes (the file itself, ~10 MB
  per copy, is only written to a temporary folder, loaded back through load_encoder_checkpoint and
  run once).

Oracle: exactly the container's code path (p-lambda/jukemir representations/clmr/main.py):
librosa.core.load(path, sr=22050) -> [1, n] float32 -> mean over channels -> torch.split(59409)
-> drop the last piece always, "Audio too short" if <= 1 piece -> encoder(frames[n, 1, 59409]) with
fc = Identity, eval, no_grad -> mean over frames. The encoder's state comes from the saved
checkpoint through CLMR's load_encoder_checkpoint (which appends fc.weight zeros(50, 512) and
fc.bias zeros(50); for the tiny model those two are replaced by zeros of the tiny fc's shape, since
fc is set to Identity right after).

Writes fixtures/clmr/:
  tiny_random.ckpt, tiny_random_legacy.ckpt   the tiny checkpoint (zip / legacy serialization)
  full_size_keys.json                         full-size key names, shapes, dtypes
  <stem>.tiny.representation.npy              (64,) float32, per clip
  defeat.tiny.frames.npy                      (3, 64) float32, per-frame encoder outputs
  defeat.audio22k.npy                         only with --write-audio, or when
                                              fixtures/load/defeat_full.npy is missing or differs
                                              (it is the same librosa.load call, checked here)
  synthetic_2frames.tiny.representation.npy   exactly 2*59409 samples of a closed-form signal (one
                                              frame used; 1.5 frames gives the same, <= 59409
                                              samples raises "Audio too short")
  manifest.json                               versions, decoder, widths, seed, layout, shapes, times
"""
import argparse
import copy
import hashlib
import importlib
import importlib.metadata
import io
import json
import pathlib
import re
import sys
import tempfile
import time
import types
import warnings
import zipfile
from collections import OrderedDict

import librosa
import numpy as np
import torch
import torch.nn as nn

SHARED = pathlib.Path("../shared/data/music")
OUT = pathlib.Path("fixtures/clmr")
LOAD_FIXTURE = pathlib.Path("fixtures/load/defeat_full.npy")

CLMR_COMMIT = "8939105bf2aea51f2267db99ef66e94db676dbe7"
CLMR_BLOBS = {  # git blob ids at CLMR_COMMIT (identical at tag 2.1)
    "clmr/models/sample_cnn.py": "a84831a0632d6efa2439b52465ae5ffa2ac75f46",
    "clmr/models/model.py": "d6730560f6dca6d5ca3f991d51eeb7f7b76cc56f",
    "clmr/utils/checkpoint.py": "b60208beb7a5d148bb4d68cb91ce8d900e3a2cc4",
}

SAMPLE_RATE = 22050
FRAME_LENGTH = 59409
STRIDES = [3, 3, 3, 3, 3, 3, 3, 3, 3]
OUT_DIM = 50
PROJECTION_DIM = 64  # CLMR config.yaml
WIDTH_DIVISOR = 8
SEED = 20210319
NUM_BATCHES_TRACKED = 3890000
PL_VERSION = "1.2.4"
EPOCH = 10000

CLIPS = [
    ("TRWJAZW128F42760DD_test", "musicnn/TRWJAZW128F42760DD_test.mp3"),
    ("joram-moments_of_clarity-08-solipsism-59-88", "musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3"),
    ("defeat", "wesnoth/defeat.ogg"),
    ("sad", "wesnoth/sad.ogg"),
]
FRAMES_CLIP = "defeat"


def git_blob_id(path):
    data = pathlib.Path(path).read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def import_clmr(src):
    src = pathlib.Path(src).resolve()
    found = {rel: git_blob_id(src / rel) for rel in CLMR_BLOBS}
    if found != CLMR_BLOBS:
        raise SystemExit(f"{src} is not CLMR at {CLMR_COMMIT}: {found}")
    sys.path.insert(0, str(src))
    sample_cnn = importlib.import_module("clmr.models.sample_cnn")
    checkpoint = importlib.import_module("clmr.utils.checkpoint")
    return sample_cnn, checkpoint, found


class _ScaledNN:
    """What `nn` looks like to clmr/models/sample_cnn.py while a tiny model is built."""

    def __init__(self, divisor):
        self.divisor = divisor

    def _c(self, n):
        return n if n == 1 else n // self.divisor

    def __getattr__(self, name):
        return getattr(nn, name)

    def Conv1d(self, c_in, c_out, *args, **kwargs):
        return nn.Conv1d(self._c(c_in), self._c(c_out), *args, **kwargs)

    def BatchNorm1d(self, n, *args, **kwargs):
        return nn.BatchNorm1d(self._c(n), *args, **kwargs)

    def Linear(self, f_in, f_out, *args, **kwargs):  # fc: in_features scales, out_dim does not
        return nn.Linear(self._c(f_in), f_out, *args, **kwargs)


def build_sample_cnn(sample_cnn_mod, divisor):
    if divisor == 1:
        return sample_cnn_mod.SampleCNN(strides=STRIDES, supervised=0, out_dim=OUT_DIM)
    real_nn = sample_cnn_mod.nn
    sample_cnn_mod.nn = _ScaledNN(divisor)
    try:
        return sample_cnn_mod.SampleCNN(strides=STRIDES, supervised=0, out_dim=OUT_DIM)
    finally:
        sample_cnn_mod.nn = real_nn


def widths(encoder):
    convs = [m for m in encoder.sequential.modules() if isinstance(m, nn.Conv1d)]
    return [[c.in_channels, c.out_channels] for c in convs]


def randomize_batchnorm(encoder, gen):
    bns = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(0.1 * torch.randn(c, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration pass
        encoder.train()
        encoder.sequential(0.1 * torch.randn(8, 1, FRAME_LENGTH, generator=gen))
        for bn in bns:
            bn.momentum = 0.1
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.1 * std * torch.randn(bn.num_features, generator=gen))
            bn.running_var.mul_(0.5 + 1.5 * torch.rand(bn.num_features, generator=gen))
            bn.num_batches_tracked.fill_(NUM_BATCHES_TRACKED)
    encoder.eval()


class _ContrastiveLearningState(nn.Module):
    """Same children, same order, as clmr.modules.ContrastiveLearning (a LightningModule)."""

    def __init__(self, encoder):
        super().__init__()
        from simclr import SimCLR
        from simclr.modules import NT_Xent

        self.encoder = encoder
        self.n_features = self.encoder.fc.in_features
        self.model = SimCLR(self.encoder, PROJECTION_DIM, self.n_features)
        self.criterion = NT_Xent(48, 0.5, world_size=1)


def model_checkpoint_class():
    try:
        from pytorch_lightning.callbacks.model_checkpoint import ModelCheckpoint

        return ModelCheckpoint, "pytorch_lightning (installed)"
    except ImportError:
        pass
    names = ["pytorch_lightning", "pytorch_lightning.callbacks", "pytorch_lightning.callbacks.model_checkpoint"]
    for name in names:
        sys.modules.setdefault(name, types.ModuleType(name))
    mod = sys.modules[names[-1]]
    if not hasattr(mod, "ModelCheckpoint"):
        cls = type("ModelCheckpoint", (), {"__module__": names[-1]})
        mod.ModelCheckpoint = cls
    return mod.ModelCheckpoint, "stand-in module (pytorch_lightning not installed)"


def lightning_checkpoint(module, clmr_src, gen):
    """The dict pytorch-lightning 1.2.4's dump_checkpoint builds for CLMR's ContrastiveLearning."""
    import yaml

    hparams = yaml.safe_load((pathlib.Path(clmr_src) / "config/config.yaml").read_text())
    hparams.update({"accelerator": "dp", "max_epochs": EPOCH, "gpus": 1, "workers": 8})
    params = list(module.model.parameters())  # configure_optimizers: Adam(self.model.parameters())
    state = {}
    for i, p in enumerate(params):
        state[i] = {
            "step": NUM_BATCHES_TRACKED,
            "exp_avg": 1e-4 * torch.randn(p.shape, generator=gen),
            "exp_avg_sq": 1e-8 * torch.rand(p.shape, generator=gen),
        }
    adam = {
        "state": state,
        "param_groups": [
            {"lr": 0.0003, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0, "amsgrad": False,
             "params": list(range(len(params)))}
        ],
    }
    mc_class, mc_origin = model_checkpoint_class()
    ckpt = {
        "epoch": EPOCH,
        "global_step": NUM_BATCHES_TRACKED,
        "pytorch-lightning_version": PL_VERSION,
        "state_dict": module.state_dict(),
        "callbacks": {
            mc_class: {"monitor": None, "best_model_score": None, "best_model_path": "",
                       "current_score": None, "dirpath": "runs/CLMRv2-magnatagatune/version_0/checkpoints"}
        },
        "optimizer_states": [adam],
        "lr_schedulers": [],
        "hparams_name": None,
        "hyper_parameters": hparams,
    }
    return ckpt, mc_origin


def save_checkpoint(ckpt, path, legacy):
    buf = io.BytesIO()  # as pytorch_lightning.utilities.cloud_io.atomic_save
    if legacy:
        torch.save(ckpt, buf, _use_new_zipfile_serialization=False)
    else:
        torch.save(ckpt, buf)
    pathlib.Path(path).write_bytes(buf.getvalue())


def key_table(state_dict):
    return [{"key": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")}
            for k, v in state_dict.items()]


def load_encoder(sample_cnn_mod, checkpoint_mod, path, divisor):
    """The container's encoder setup, from a checkpoint file."""
    from simclr.modules.identity import Identity

    encoder = build_sample_cnn(sample_cnn_mod, divisor)
    state_dict = checkpoint_mod.load_encoder_checkpoint(str(path))
    if divisor != 1:  # load_encoder_checkpoint's fc zeros are hard-coded (50, 512)
        state_dict["fc.weight"] = torch.zeros_like(encoder.fc.weight)
        state_dict["fc.bias"] = torch.zeros_like(encoder.fc.bias)
    encoder.load_state_dict(state_dict)
    encoder.fc = Identity()
    encoder.eval()
    return encoder, state_dict


def container_frames(audio):
    """main.py after librosa.core.load: [n] or [c, n] float32 -> frames [k, 1, 59409]."""
    if audio.ndim == 1:
        audio = audio[np.newaxis]
    audio = torch.tensor(audio, dtype=torch.float32)
    audio = torch.mean(audio, axis=0, keepdim=True)
    frames = torch.split(audio, FRAME_LENGTH, dim=1)
    if len(frames) <= 1:
        raise Exception("Audio too short")
    n_pieces = len(frames)
    frames = torch.cat(frames[:-1], dim=0)
    return frames.unsqueeze(dim=1), n_pieces


def represent(encoder, audio):
    frames, n_pieces = container_frames(audio)
    with torch.no_grad():
        per_frame = encoder(frames)
        representation = per_frame.mean(dim=0)
    return representation.numpy(), per_frame.numpy(), frames, n_pieces


def librosa_load_tracked(path):
    """librosa.core.load(path, sr=22050), recording whether it fell back to audioread."""
    audio_mod = sys.modules["librosa.core.audio"]
    real = getattr(audio_mod, "__audioread_load")
    used = []

    def wrapper(*args, **kwargs):
        used.append(True)
        return real(*args, **kwargs)

    setattr(audio_mod, "__audioread_load", wrapper)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            audio, sr = librosa.core.load(path, sr=SAMPLE_RATE)
    finally:
        setattr(audio_mod, "__audioread_load", real)
    return audio, sr, ("audioread" if used else "soundfile"), [str(w.message) for w in caught]


def synthetic_signal(n):
    """Closed form, reproducible anywhere: evaluated in float64, then cast to float32."""
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    x = (0.4 * np.sin(2 * np.pi * 220.0 * t)
         + 0.2 * np.sin(2 * np.pi * 1330.0 * t + 0.5)
         + 0.1 * np.sin(2 * np.pi * 3.0 * t) * np.sin(2 * np.pi * 5100.0 * t))
    return x.astype(np.float32)


SYNTHETIC_FORMULA = ("x[i] = float32(0.4*sin(2*pi*220*t) + 0.2*sin(2*pi*1330*t + 0.5) "
                     "+ 0.1*sin(2*pi*3*t)*sin(2*pi*5100*t)), t = i/22050, evaluated in float64")


def layer_stats(encoder, frame):
    stats = []
    x = frame
    with torch.no_grad():
        for i, block in enumerate(encoder.sequential):
            x = block(x)
            stats.append({"block": i, "shape": list(x.shape), "mean": float(x.mean()), "std": float(x.std()),
                          "max": float(x.max()), "zero_fraction": float((x == 0).float().mean())})
    return stats


def write_json(obj, path):
    """indent=1, with short innermost lists/objects on one line (only whitespace is changed)."""
    text = json.dumps(obj, indent=1)
    flat = lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)) if len(m.group(0)) < 240 else m.group(0)
    text = re.sub(r"[\[{][^\[\]{}]*[\]}]", flat, text)
    text = re.sub(r"\{(?:[^{}\[\]]|\[[^\[\]\n]*\])*\}", flat, text)
    with open(path, "w") as f:
        f.write(text + "\n")


def zip_records(path):
    with zipfile.ZipFile(path) as z:
        return [i.filename for i in z.infolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clmr-src", required=True, help="CLMR source at commit " + CLMR_COMMIT)
    ap.add_argument("--write-audio", action="store_true",
                    help="write defeat.audio22k.npy even when fixtures/load/defeat_full.npy holds it")
    args = ap.parse_args()
    sample_cnn_mod, checkpoint_mod, blobs = import_clmr(args.clmr_src)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}

    # --- tiny checkpoint -------------------------------------------------------------------
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    tiny = build_sample_cnn(sample_cnn_mod, WIDTH_DIVISOR)
    tiny_widths = widths(tiny)
    tiny_fc = [tiny.fc.in_features, tiny.fc.out_features]
    randomize_batchnorm(tiny, gen)
    module = _ContrastiveLearningState(tiny)
    ckpt, mc_origin = lightning_checkpoint(module, args.clmr_src, gen)
    zip_path, legacy_path = OUT / "tiny_random.ckpt", OUT / "tiny_random_legacy.ckpt"
    save_checkpoint(ckpt, zip_path, legacy=False)
    save_checkpoint(ckpt, legacy_path, legacy=True)
    assert zipfile.is_zipfile(zip_path) and not zipfile.is_zipfile(legacy_path)
    tiny_ckpt_keys = key_table(ckpt["state_dict"])
    expected_state = OrderedDict((k[len("model.encoder."):], v) for k, v in ckpt["state_dict"].items()
                                 if k.startswith("model.encoder."))

    # --- oracle encoders from both files, through CLMR's loader ------------------------------
    encoders = {}
    for name, path in (("zip", zip_path), ("legacy", legacy_path)):
        enc, sd = load_encoder(sample_cnn_mod, checkpoint_mod, path, WIDTH_DIVISOR)
        for k, v in expected_state.items():
            assert torch.equal(sd[k], v), (name, k)
        assert set(sd) == set(expected_state) | {"fc.weight", "fc.bias"}, name
        encoders[name] = enc
    encoder = encoders["zip"]
    encoder_keys = key_table(OrderedDict((k, v) for k, v in expected_state.items()))

    # --- real clips ----------------------------------------------------------------------------
    clips = []
    decoders = set()
    t_all = time.perf_counter()
    for stem, rel in CLIPS:
        t0 = time.perf_counter()
        audio, sr, decoder, warns = librosa_load_tracked(SHARED / rel)
        t_load = time.perf_counter() - t0
        t1 = time.perf_counter()
        rep, per_frame, frames, n_pieces = represent(encoder, audio)
        t_enc = time.perf_counter() - t1
        rep_legacy, _, _, _ = represent(encoders["legacy"], audio)
        assert np.array_equal(rep, rep_legacy), stem
        enc64 = copy.deepcopy(encoder).double()
        with torch.no_grad():
            rep64 = enc64(frames.double()).mean(dim=0).numpy()
        assert rep.dtype == np.float32 and rep.shape == (tiny_widths[-1][1],)
        np.save(OUT / f"{stem}.tiny.representation.npy", rep)
        files[f"{stem}.tiny.representation.npy"] = {"shape": list(rep.shape), "dtype": "float32"}
        decoders.add(decoder)
        entry = {
            "stem": stem, "path": rel, "decoder": decoder, "warnings": warns, "sr": sr,
            "samples_22k": int(audio.shape[-1]), "pieces": n_pieces, "frames_used": int(frames.shape[0]),
            "samples_used": int(frames.shape[0] * FRAME_LENGTH),
            "representation": f"{stem}.tiny.representation.npy",
            "f32_vs_f64_max_abs": float(np.abs(rep.astype(np.float64) - rep64).max()),
            "f32_vs_f64_max_rel": float((np.abs(rep.astype(np.float64) - rep64) / np.maximum(np.abs(rep64), 1e-6)).max()),
            "representation_zero_fraction": float((rep == 0).mean()),
            "seconds_load": round(t_load, 3), "seconds_encode": round(t_enc, 3),
        }
        if stem == FRAMES_CLIP:
            np.save(OUT / f"{stem}.tiny.frames.npy", per_frame)
            files[f"{stem}.tiny.frames.npy"] = {"shape": list(per_frame.shape), "dtype": "float32"}
            entry["frames"] = f"{stem}.tiny.frames.npy"
            assert np.allclose(per_frame.mean(axis=0), rep, rtol=1e-5, atol=1e-7)
            entry["layer_stats_frame0"] = layer_stats(encoder, frames[:1])
            audio32 = np.asarray(audio, dtype=np.float32)
            same = LOAD_FIXTURE.exists() and np.array_equal(np.load(LOAD_FIXTURE), audio32)
            if same and not args.write_audio:
                entry["audio22k"] = {"file": str(LOAD_FIXTURE), "note": "identical array (checked), not duplicated",
                                     "shape": list(audio32.shape)}
            else:
                name = f"{stem}.audio22k.npy"
                np.save(OUT / name, audio32)
                files[name] = {"shape": list(audio32.shape), "dtype": "float32"}
                entry["audio22k"] = {"file": str(OUT / name), "shape": list(audio32.shape)}
        clips.append(entry)
    oracle_seconds = time.perf_counter() - t_all

    # --- synthetic cases ---------------------------------------------------------------------
    synthetic = []
    x2 = synthetic_signal(2 * FRAME_LENGTH)
    rep2, per2, frames2, pieces2 = represent(encoder, x2)
    assert frames2.shape[0] == 1 and pieces2 == 2
    np.save(OUT / "synthetic_2frames.tiny.representation.npy", rep2)
    files["synthetic_2frames.tiny.representation.npy"] = {"shape": list(rep2.shape), "dtype": "float32"}
    rep2_first, _, _, _ = represent(encoder, x2[:FRAME_LENGTH + 1])
    assert np.array_equal(rep2, rep2_first)
    synthetic.append({
        "name": "synthetic_2frames", "samples": 2 * FRAME_LENGTH, "formula": SYNTHETIC_FORMULA,
        "pieces": 2, "frames_used": 1, "representation": "synthetic_2frames.tiny.representation.npy",
        "note": "an exact multiple of 59409: the last piece is a full frame and is dropped all the same; "
                "equals the result for the first 59410 samples (checked)",
    })
    n15 = FRAME_LENGTH * 3 // 2
    rep15, _, frames15, pieces15 = represent(encoder, synthetic_signal(n15))
    assert pieces15 == 2 and frames15.shape[0] == 1 and np.array_equal(rep15, rep2)
    synthetic.append({
        "name": "synthetic_1.5frames", "samples": n15, "formula": SYNTHETIC_FORMULA, "pieces": 2,
        "frames_used": 1, "representation": "synthetic_2frames.tiny.representation.npy",
        "note": "does NOT raise: split gives a full piece and a half piece, the half is dropped and one "
                "frame remains; identical to synthetic_2frames (checked)",
    })
    for name, n in (("synthetic_1frame", FRAME_LENGTH), ("synthetic_0.5frame", FRAME_LENGTH // 2),
                    ("empty", 0)):
        try:
            represent(encoder, synthetic_signal(n))
            raise AssertionError(f"{name} did not raise")
        except Exception as exc:  # the container raises a bare Exception
            if isinstance(exc, AssertionError):
                raise
            synthetic.append({"name": name, "samples": n, "formula": SYNTHETIC_FORMULA, "pieces": 1,
                              "expected": {"error": type(exc).__name__, "message": str(exc)}})

    # --- full size: keys, and one pass through the real loader --------------------------------
    torch.manual_seed(SEED)
    gen_full = torch.Generator().manual_seed(SEED + 1)
    full = build_sample_cnn(sample_cnn_mod, 1)
    full_widths = widths(full)
    randomize_batchnorm(full, gen_full)
    full_module = _ContrastiveLearningState(full)
    full_ckpt, _ = lightning_checkpoint(full_module, args.clmr_src, gen_full)
    with tempfile.TemporaryDirectory() as tmp:
        full_path = pathlib.Path(tmp) / "clmr_epoch=10000.ckpt"
        save_checkpoint(full_ckpt, full_path, legacy=False)
        full_size_bytes = full_path.stat().st_size
        full_records = zip_records(full_path)
        full_encoder, full_sd = load_encoder(sample_cnn_mod, checkpoint_mod, full_path, 1)
        with torch.no_grad():
            out = full_encoder(torch.tensor(synthetic_signal(2 * FRAME_LENGTH)).reshape(2, 1, FRAME_LENGTH))
        assert out.shape == (2, 512)
    full_keys = {
        "generated_by": "tools/reference/gen_clmr_fixtures.py",
        "note": "SampleCNN(strides=[3]*9, supervised=0, out_dim=50) inside CLMR's ContrastiveLearning; "
                "values are random, only names/shapes/dtypes matter",
        "checkpoint_bytes_zip": full_size_bytes,
        "zip_records_first": full_records[:4],
        "checkpoint_state_dict": key_table(full_ckpt["state_dict"]),
        "encoder_state_dict_after_load_encoder_checkpoint": key_table(full_sd),
        "conv_widths": full_widths,
        "optimizer_state_params": len(full_ckpt["optimizer_states"][0]["state"]),
    }
    write_json(full_keys, OUT / "full_size_keys.json")

    # --- manifest ------------------------------------------------------------------------------
    import soundfile

    for p in (zip_path, legacy_path):
        files[p.name] = {"bytes": p.stat().st_size}
    files["full_size_keys.json"] = {}
    manifest = {
        "generated_by": "tools/reference/gen_clmr_fixtures.py",
        "versions": {
            "python": sys.version.split()[0], "torch": torch.__version__, "librosa": librosa.__version__,
            "numpy": np.__version__, "soundfile": soundfile.__version__,
            "libsndfile": soundfile.__libsndfile_version__,
            "resampy": importlib.import_module("resampy").__version__,
            "simclr": importlib.metadata.version("simclr"),
            "torchvision": importlib.metadata.version("torchvision"),
            "pyyaml": importlib.metadata.version("pyyaml"),
            "clmr": {"commit": CLMR_COMMIT, "setup_py_version": "0.1.0", "blobs_checked": blobs},
            "pytorch_lightning_emulated": PL_VERSION,
        },
        "decoder": {
            "used": sorted(decoders),
            "note": "librosa 0.8.1 tries soundfile first and falls back to audioread on RuntimeError; "
                    f"libsndfile {soundfile.__libsndfile_version__} decodes MP3 and Ogg Vorbis itself. "
                    "(p-lambda/jukemir converts every input to mono 16-bit WAV with ffmpeg first.)",
        },
        "frame": {"sample_rate": SAMPLE_RATE, "frame_length": FRAME_LENGTH, "drop_last_piece": "always",
                  "too_short": "pieces <= 1 -> Exception('Audio too short')"},
        "model": {
            "strides": STRIDES, "out_dim": OUT_DIM, "width_divisor": WIDTH_DIVISOR,
            "tiny_conv_widths": tiny_widths, "tiny_fc": tiny_fc,
            "full_conv_widths": full_widths, "representation_dim": tiny_widths[-1][1],
            "batchnorm_eps": 1e-5,
        },
        "seed": {"torch_manual_seed": SEED, "generator_seed": SEED + 1,
                 "batchnorm": "weight U(0.5,1.5), bias 0.1*N(0,1), running stats from one train-mode pass "
                              "on 0.1*N(0,1) noise [8,1,59409] then mean += 0.1*std*N(0,1), var *= U(0.5,2)",
                 "num_batches_tracked": NUM_BATCHES_TRACKED},
        "checkpoint": {
            "format": "pytorch-lightning dump_checkpoint dict, saved via torch.save into BytesIO",
            "top_level_keys": list(ckpt.keys()),
            "state_dict_prefix_used_by_loader": "model.encoder.",
            "state_dict_other_prefixes": ["encoder. (same tensors, same storages)", "model.projector."],
            "loader": "keep keys containing 'model.encoder.', strip it; add fc.weight zeros(50,512), "
                      "fc.bias zeros(50); fc is then replaced by Identity",
            "callbacks_key_class": "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint (" + mc_origin + ")",
            "zip_records": zip_records(zip_path),
            "pickle": "protocol 2; GLOBALs: collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
                      "torch.FloatStorage, torch.LongStorage, pytorch_lightning.callbacks.model_checkpoint."
                      "ModelCheckpoint (a dict key in 'callbacks'); state_dict carries _metadata via BUILD",
            "legacy_bytes_reproducible": False,
            "legacy_note": "the legacy format names storages by memory address (str(storage._cdata)), so "
                           "tiny_random_legacy.ckpt differs byte-wise between runs; its content does not",
            "tiny_state_dict": tiny_ckpt_keys,
            "tiny_encoder_state_dict": encoder_keys,
        },
        "clips": clips,
        "synthetic": synthetic,
        "files": files,
        "oracle_seconds": round(oracle_seconds, 3),
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
    }
    write_json(manifest, OUT / "manifest.json")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({total / 1e6:.3f} MB); decoders {sorted(decoders)}; oracle {oracle_seconds:.2f} s")


if __name__ == "__main__":
    main()
