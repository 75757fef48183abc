"""Jukebox reference fixtures (fixtures/jukebox/), with OpenAI's own jukebox code as the oracle.

What the fixtures prove. The Rust port (docs/jukebox.md) has to reproduce p-lambda/jukemir's
jukebox container: librosa load + resampy to 44.1 kHz, peak normalisation, the 25 s crop, the
level-2 VQ-VAE encoder and its bottleneck argmin, the "unknown" artist/genre label conditioning,
and the top prior's transformer run with only_encode=True and cut to fewer layers than its
checkpoint holds (72 -> 36 in the container), with every Conv1D weight rounded to fp16 on load.
The real 5b checkpoints cannot be fetched here, so this script runs OpenAI's code unchanged (plus
jukemir's one-line strict=False patch and CPU shims) on tiny seeded random models. The models
are built with the real code paths, written in the legacy (pre-1.6, non-zip) torch.save format
the 2020 checkpoints use, laid out like jukebox's save_checkpoint ({'hps', 'model', 'opt',
'step'}), and restored from those files by jukebox's own make_vqvae / make_prior, so every tensor
the reference computes with came out of the committed files. Matching the dumps therefore tests
the port's checkpoint reader (legacy pickle stream, OrderedDict state dicts, Half/Float/Long
storages, unused keys of layers beyond the built depth), its fp16 rounding of the Conv1D weights
(stored here as float32 values that fp16 cannot represent), the resampler, the encoder, the
bottleneck, the conditioning, all three attention types (block, transpose-block and
previous-block, each twice, with block_ctx = n_ctx/blocks = 16) and the pooling.

Regenerate (from the repository root; pins in tools/reference/requirements-jukebox.txt):
    python3 -m venv /work/pyref-jukebox
    /work/pyref-jukebox/bin/pip install -r tools/reference/requirements-jukebox.txt
    mkdir -p /tmp/jb && git --git-dir=/work/.mirror/openai+jukebox/repo archive \
        08efbbc1d4ed1a3cef96e08a931944c8b4d63bb3 | tar x -C /tmp/jb
    /work/pyref-jukebox/bin/python tools/reference/gen_jukebox_fixtures.py --jukebox-src /tmp/jb --check

The defaults are the committed configuration (--out fixtures/jukebox, --n-ctx 256 --blocks 16
--width 64 --heads 2 --ckpt-depth 8 --depth 6 --vq-width 8 --vq-emb 16 --vq-bins 64
--y-bins 8,16 --seed 0). The input WAVs are cut from /work/shared/data/music with
/usr/bin/ffmpeg (`ffmpeg -ss S -i SRC -ac 1 -bitexact -t D DST.wav`: mono s16 at the source's
native rate, what jukemir's cache_dataset hands its containers); the committed WAVs are what the
reference read, so later ffmpeg builds cannot change the expected values (the manifest records
their sha256 and the ffmpeg version). Everything else regenerates bit for bit except the bytes of
the two .pth.tar files: the legacy format names each storage by its memory address (str of
_cdata, as torch <= 1.5 did, so the real checkpoints have such keys too), which changes from run
to run; the tensors, their order and the hps are identical.

DIR (--jukebox-src) is a snapshot of openai/jukebox at 08efbbc1d4ed1a3cef96e08a931944c8b4d63bb3
(the commit the container installs; its package folder DIR/jukebox). jukebox is not on PyPI. The
script copies DIR/jukebox to a temporary folder, checks the git blob id of every file it relies
on, applies jukemir's make_models.py.patch (strict=False in restore_model) and puts that folder
on sys.path. The jukebox sources are not edited beyond that patch; the CPU is made acceptable
with run-time shims only (see install_cpu_shims):
  * torch.Tensor.cuda -> identity (BottleneckBlock.reset_k builds its codebook with .cuda());
  * torch.cuda.LongTensor -> torch.LongTensor (isinstance asserts in the prior);
  * torch.arange(..., device='cuda') -> CPU (RangeEmbedding.forward);
  * a 1-process gloo group (dist_adapter.get_rank / barrier need an initialised group).
The container's main.py flow (load_audio_from_file, get_z, get_cond, get_final_activations,
get_acts_from_file) is restated below with T = n_ctx instead of 8192; each step notes the
main.py line it mirrors.

Writes fixtures/jukebox/ (float32 unless stated; T = n_ctx, W = prior width, E = vq emb width):
  input.wav                 1.0 s of TRWJAZW128F42760DD_test.mp3 (22050 Hz, mono s16)
  too_short.wav             0.7 s of joram-...-59-88.mp3 (16000 Hz): fewer than T codes, the
                            reference raises ValueError("Audio file is not long enough")
  vqvae_tiny.pth.tar        VQ-VAE checkpoint (all 3 levels, encoders and decoders; legacy format)
  prior_tiny.pth.tar        top-prior checkpoint with ckpt-depth layers (legacy format)
  audio_44k.npy             [n44] resampled, peak-normalised, cropped audio fed to the encoder
  enc_level2.npy            [E, T2] level-2 encoder output (before the bottleneck)
  codes_level2.npy          [T2] int64 level-2 codes
  too_short_codes_level2.npy [T2'] int64 codes of too_short.wav (computed before the error)
  y.npy                     [9] int64 label row after get_y
  y_cond.npy [W], x_cond.npy [T, W], h_in.npy [T, W] (transformer input)
  layer{i}.npy              [T, W] output of layer i, i = 0 .. depth-1
  representation.npy        [W] the container's output: torch mean over T after the last layer
  pool_mean.npy, pool_max.npy [depth, W] row i: mean / max over T of layer{i} (numpy, see manifest)
  manifest.json             hparams, attention types, versions, key lists, checks, near-ties
--check runs numpy_restatement, a float64 numpy restatement of docs/jukebox.md (encoder,
bottleneck, conditioning, every layer), against the dump and records its max differences.
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile

import numpy as np

JUKEBOX_COMMIT = "08efbbc1d4ed1a3cef96e08a931944c8b4d63bb3"
# git blob ids at JUKEBOX_COMMIT of the files whose behaviour the port reproduces
EXPECTED_BLOBS = {
    "hparams.py": "eb74584aa1f30a5520bd3329044edf0739f1e983",
    "make_models.py": "9b51296f0aa137ee48f6a2ddbe6ac90a13108264",
    "vqvae/vqvae.py": "3244b2b4535b5fe4ae35a7f83eb94a43104efd16",
    "vqvae/encdec.py": "ec6dd4ae8ade9c7eedf8d8a75aec29b155b183de",
    "vqvae/resnet.py": "137369e91bc2e3de5034d165dd092bb428470267",
    "vqvae/bottleneck.py": "18720ec528067d3efbd808ec91a272c4c28be8a4",
    "prior/prior.py": "3490d73413dac5cb8dbb92bcd9ac90de88ff9e78",
    "prior/autoregressive.py": "b26862b2819e5bc710a081ca1398599b6f8832f1",
    "prior/conditioners.py": "782c0b4b4c59d744b92421932f3f6f23b659e837",
    "transformer/transformer.py": "b78cbb4d141729b3046e10554febea04405436d2",
    "transformer/factored_attention.py": "5f9b62940fa06fa1c2b36261c440f5d7839ccecf",
    "transformer/ops.py": "7e12a3bc6711b0f849dd6c795e0df20f2cd2edb0",
    "data/labels.py": "00bb4059d17cb3a917dcaaaea74b1f3706bcf4b9",
    "data/artist_genre_processor.py": "be82ef9aad926f4a44776a6784d60babd02f9551",
    "data/ids/v2_artist_ids.txt": "67db1b0772560abd5fd01e0f6eb87ce14e184cd2",
    "data/ids/v2_genre_ids.txt": "39adb96a85bc3b08ce68f33fb9ead3d76b7e2aef",
}
# p-lambda/jukemir representations/jukebox/make_models.py.patch (blob 646fdb14...): the only change
JUKEMIR_PATCH = (
    "        model.load_state_dict(checkpoint['model'])\n",
    "        model.load_state_dict(checkpoint['model'], strict=False)\n",
)
JUKEBOX_SAMPLE_RATE = 44100  # main.py:5
CROP_SECONDS = 25  # main.py:25
FFMPEG = "/usr/bin/ffmpeg"
REPO = pathlib.Path(__file__).resolve().parents[2]
MUSIC = pathlib.Path("/work/shared/data/music")
ATTN_NAMES = {0: "dense", 1: "block", 2: "transpose_block", 3: "prev_block"}
# The two inputs: (file name, source under MUSIC, ffmpeg -ss seconds, -t seconds)
MAIN_CLIP = ("input.wav", "musicnn/TRWJAZW128F42760DD_test.mp3", 11.0, 1.0)
SHORT_CLIP = ("too_short.wav", "musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3", 5.0, 0.7)
NEAR_TIE_REL = 1e-4  # near-tie threshold: (second best - best distance) < NEAR_TIE_REL * |x|^2
CKPT_STEP = {"vqvae": 123456, "prior": 654321}  # 'step' written into the checkpoints


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def prepare_source(src, workdir):
    pkg = os.path.join(src, "jukebox")
    if not os.path.isdir(pkg):
        sys.exit(f"{src} has no jukebox/ package folder")
    dst = os.path.join(workdir, "jukebox")
    shutil.copytree(pkg, dst)
    for rel, blob in EXPECTED_BLOBS.items():
        with open(os.path.join(dst, rel), "rb") as f:
            got = git_blob_id(f.read())
        if got != blob:
            sys.exit(f"jukebox/{rel}: blob {got}, expected {blob} (commit {JUKEBOX_COMMIT})")
    mm = os.path.join(dst, "make_models.py")
    text = open(mm).read()
    assert text.count(JUKEMIR_PATCH[0]) == 1
    open(mm, "w").write(text.replace(*JUKEMIR_PATCH))
    sys.path.insert(0, workdir)


def install_cpu_shims(workdir):
    import torch

    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.cuda.LongTensor = torch.LongTensor
    _arange = torch.arange

    def arange(*a, device=None, **k):
        if device is not None and str(device).startswith("cuda"):
            device = None
        return _arange(*a, device=device, **k)

    torch.arange = arange
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{workdir}/dist_init", rank=0, world_size=1)


def ffmpeg_excerpt(src, dst, ss, dur):
    """jukemir's `ffmpeg -ac 1 -bitexact` conversion, applied to an excerpt (mono s16 WAV, native rate)."""
    cmd = [FFMPEG, "-v", "error", "-y", "-ss", f"{ss:g}", "-i", str(src), "-ac", "1", "-bitexact",
           "-t", f"{dur:g}", str(dst)]
    subprocess.run(cmd, check=True)
    return f"ffmpeg -ss {ss:g} -i {src.name} -ac 1 -bitexact -t {dur:g} {dst.name}"


def load_audio_from_file(fpath):  # main.py:9-20, verbatim logic
    import librosa as lr

    audio, _ = lr.load(fpath, sr=JUKEBOX_SAMPLE_RATE)
    if audio.ndim == 1:
        audio = audio[np.newaxis]
    audio = audio.mean(axis=0)
    norm_factor = np.abs(audio).max()
    if norm_factor > 0:
        audio /= norm_factor
    return audio.flatten(), float(norm_factor)


def randomise_vqvae(vqvae, torch, seed, x):
    """Seeded weights: N(0, 1/fan_in) for every tensor, then each level's codebook drawn around
    that level's encoder outputs for x (so that many codes are used and near-ties occur)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in vqvae.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(1, p[0].numel()) ** 0.5))
        x_in = vqvae.preprocess(x)
        for level, (enc, bn) in enumerate(zip(vqvae.encoders, vqvae.bottleneck.level_blocks)):
            h = enc(x_in)[-1]  # N, C, T
            flat = h.permute(0, 2, 1).reshape(-1, h.shape[1])
            idx = torch.randint(0, flat.shape[0], (bn.k_bins,), generator=g)
            bn.k.copy_(flat[idx] + 0.1 * flat.std() * torch.randn(bn.k.shape, generator=g))


def randomise_prior(prior, torch, seed):
    """Seeded weights with O(1) activations (the real init scales, 0.02*0.1, would make the
    transformer nearly the identity). Returns the float32 Conv1D weights: the model holds them as
    fp16 (fp16_params=True converted them at construction), the checkpoint gets these float32
    values, every one of which is nudged off the fp16 grid so that the rounding on load matters."""
    g = torch.Generator().manual_seed(seed)
    w32 = {}
    with torch.no_grad():
        for name, p in prior.named_parameters():
            if name.endswith("ln_0.weight") or name.endswith("ln_1.weight"):
                v = 0.5 + torch.rand(p.shape, generator=g)
            elif name.endswith("ln_0.bias") or name.endswith("ln_1.bias") or name.endswith(".b"):
                v = 0.1 * torch.randn(p.shape, generator=g)
            elif name.endswith(".w"):
                v = torch.randn(p.shape, generator=g) / p.shape[0] ** 0.5
                exact = v.half().float() == v
                v = torch.where(exact, torch.nextafter(v, torch.full_like(v, np.inf)), v)
                assert not bool((v.half().float() == v).any())
                w32[name] = v.clone()
            else:  # embeddings, pos_emb, x_out
                v = 0.5 * torch.randn(p.shape, generator=g)
            p.copy_(v.to(p.dtype))
    return w32


def save_legacy(path, state_dict, hps, step, torch):
    """jukebox utils/checkpoint.py save_checkpoint with opt=None and no metrics, written in the
    legacy stream format of torch <= 1.5."""
    save_hps = {k: v for k, v in hps.items()
                if k not in ["metadata_v2", "metadata_v3", "alignments", "lyric_processor", "midi_processor"]}
    obj = {"hps": save_hps, "model": state_dict, "opt": None, "step": step}
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    return list(obj.keys())


def key_table(sd):
    return {k: [list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()}


def near_ties(enc, k):
    """float64 best/second-best distance gaps of the level-2 bottleneck. enc [E, T2], k [bins, E]."""
    x = enc.T.astype(np.float64); kk = k.astype(np.float64)
    xx = (x ** 2).sum(1)
    dist = xx[:, None] - 2 * x @ kk.T + (kk ** 2).sum(1)[None]
    part = np.sort(dist, 1)[:, :2]
    rel = (part[:, 1] - part[:, 0]) / xx
    return dist.argmin(1), rel


def numpy_restatement(d):
    """float64 numpy restatement of docs/jukebox.md (encoder, bottleneck, conditioning, layers),
    compared with the dump in d. Prints and returns the max abs difference of each stage."""
    import torch

    m = json.load(open(f"{d}/manifest.json"))
    pm = m["prior_hparams"]; vm = m["vqvae_hparams"]
    T, H, BL, depth = pm["n_ctx"], pm["heads"], pm["blocks"], pm["depth_built"]
    vq = {k: v.double().numpy() for k, v in torch.load(f"{d}/vqvae_tiny.pth.tar", map_location="cpu")["model"].items()}
    pr_file = torch.load(f"{d}/prior_tiny.pth.tar", map_location="cpu")["model"]
    # docs §5: every Conv1D .w is rounded to fp16 on load (the file holds float32)
    pr = {k: (v.numpy().astype(np.float16) if k.endswith(".w") else v.numpy()).astype(np.float64)
          for k, v in pr_file.items()}
    pr_unrounded = {k: v.double().numpy() for k, v in pr_file.items()}
    x = np.load(f"{d}/audio_44k.npy").astype(np.float64)[None, :]  # [C=1, n]
    res = {}

    def report(name, got, ref, **extra):
        diff = float(np.abs(got - ref).max())
        res[name] = dict(max_abs=diff, scale=float(np.abs(ref).max()), **extra)
        print(f"{name}: max abs {diff:.3g} (scale {res[name]['scale']:.3g})", extra or "")

    def conv1d(x, w, b, stride=1, pad=0, dil=1):
        C, n = x.shape; O, Ci, K = w.shape
        xp = np.pad(x, ((0, 0), (pad, pad)))
        nout = (n + 2 * pad - dil * (K - 1) - 1) // stride + 1
        out = np.tile(b[:, None], (1, nout))
        for k in range(K):
            cols = xp[:, k * dil: k * dil + stride * (nout - 1) + 1: stride]  # [Ci, nout]
            out += w[:, :, k] @ cols
        return out

    p = "encoders.2.level_blocks"
    dils = [vm["dilation_growth_rate"] ** j for j in range(vm["depth"] * vm["multipliers"][2])]
    h = x
    for L, down in enumerate(vm["downs_t"]):
        for i in range(down):
            h = conv1d(h, vq[f"{p}.{L}.model.{i}.0.weight"], vq[f"{p}.{L}.model.{i}.0.bias"], 2, 1)
            for j, dil in enumerate(dils):
                q = f"{p}.{L}.model.{i}.1.model.{j}.model"
                r = conv1d(np.maximum(h, 0), vq[f"{q}.1.weight"], vq[f"{q}.1.bias"], 1, dil, dil)
                r = conv1d(np.maximum(r, 0), vq[f"{q}.3.weight"], vq[f"{q}.3.bias"])
                h = h + r
        h = conv1d(h, vq[f"{p}.{L}.model.{down}.weight"], vq[f"{p}.{L}.model.{down}.bias"], 1, 1)
    report("enc_level2", h, np.load(f"{d}/enc_level2.npy"))
    k = vq["bottleneck.level_blocks.2.k"]; xt = h.T
    dist = (xt ** 2).sum(1, keepdims=True) - 2 * xt @ k.T + (k ** 2).sum(1)[None]
    codes = dist.argmin(1); codes_ref = np.load(f"{d}/codes_level2.npy")
    res["codes_mismatches"] = int((codes != codes_ref).sum())
    print("codes", codes.shape, "mismatches", res["codes_mismatches"])

    z = codes_ref[:T]
    TL = pm["total_length"]; r2t = pm["raw_to_tokens"]; tb = pm["t_bins"]
    pos_max = int(pm["max_duration"] * pm["sr"]); tl_min = int(pm["min_duration"] * pm["sr"])
    ystart = pr["y_emb.bow_genre_emb.emb.weight"][0] + pr["y_emb.artist_emb.emb.weight"][0]
    i = np.arange(T)
    # docs §4.4 integer formulas: position_i = sample_length * i / T = raw_to_tokens * i
    abs_bin = (tb * r2t * i) // pos_max; rel_bin = (tb * r2t * i) // TL
    tl_bin = (tb * (TL - tl_min)) // (pos_max - tl_min)
    xc = (pr["y_emb.total_length_emb.emb.weight"][tl_bin] + pr["y_emb.absolute_pos_emb.emb.weight"][abs_bin]) \
        + pr["y_emb.relative_pos_emb.emb.weight"][rel_bin]
    report("y_cond", ystart, np.load(f"{d}/y_cond.npy"))
    report("x_cond", xc, np.load(f"{d}/x_cond.npy"), abs_bins=sorted(set(abs_bin.tolist())),
           rel_bins=sorted(set(rel_bin.tolist())), total_length_bin=int(tl_bin))
    e = pr["prior.x_emb.weight"][z]; e = np.concatenate([ystart[None], e[:-1]], 0)
    h0 = e + pr["prior.pos_emb.pos_emb"] + xc
    report("h_in", h0, np.load(f"{d}/h_in.npy"))

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True); var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * g + b

    def softmax(w):
        w = w - w.max(-1, keepdims=True); e = np.exp(w); return e / e.sum(-1, keepdims=True)

    def attend(q, k, v, causal):  # q,k,v [G, L, S]; per head
        S = q.shape[-1]; hd = S // H; out = np.zeros_like(q)
        for hh in range(H):
            sl = slice(hh * hd, (hh + 1) * hd)
            w = q[..., sl] @ k[..., sl].transpose(0, 2, 1) / np.sqrt(hd)
            if causal:
                Lq, Lk = w.shape[-2:]; w = np.where(np.tril(np.ones((Lq, Lk), bool)), w, -1e9)
            out[..., sl] = softmax(w) @ v[..., sl]
        return out

    def layer(hcur, layer_i, P):
        q_ = f"prior.transformer._attn_mods.{layer_i}."
        f = m["attn_funcs_built"][layer_i]
        u = ln(hcur, P[q_ + "ln_0.weight"], P[q_ + "ln_0.bias"])
        qkv = u @ P[q_ + "attn.c_attn.w"] + P[q_ + "attn.c_attn.b"]
        S = qkv.shape[1] // 3; q, kk, v = qkv[:, :S], qkv[:, S:2 * S], qkv[:, 2 * S:]
        bc = T // BL
        if f == 1:  # block: causal inside each block of bc
            o = attend(q.reshape(BL, bc, S), kk.reshape(BL, bc, S), v.reshape(BL, bc, S), True).reshape(T, S)
        elif f == 2:  # transpose block: same position within block, causal over blocks
            tr = lambda t: t.reshape(BL, bc, S).transpose(1, 0, 2)
            o = attend(tr(q), tr(kk), tr(v), True).transpose(1, 0, 2).reshape(T, S)
        elif f == 3:  # previous block, unmasked; block 0 sees zero keys/values
            kb = np.concatenate([np.zeros((1, bc, S)), kk.reshape(BL, bc, S)[:-1]], 0)
            vb = np.concatenate([np.zeros((1, bc, S)), v.reshape(BL, bc, S)[:-1]], 0)
            o = attend(q.reshape(BL, bc, S), kb, vb, False).reshape(T, S)
        else:
            raise ValueError(f"attn_func {f}")
        a_ = o @ P[q_ + "attn.c_proj.w"] + P[q_ + "attn.c_proj.b"]
        u2 = ln(hcur + a_, P[q_ + "ln_1.weight"], P[q_ + "ln_1.bias"])
        g = u2 @ P[q_ + "mlp.c_fc.w"] + P[q_ + "mlp.c_fc.b"]; g = g / (1 + np.exp(-1.702 * g))
        mm = g @ P[q_ + "mlp.c_proj.w"] + P[q_ + "mlp.c_proj.b"]
        return (hcur + a_) + mm

    hcur = h0; hun = h0
    for li in range(depth):
        ref = np.load(f"{d}/layer{li}.npy")
        hcur = layer(hcur, li, pr)
        hun = layer(hun, li, pr_unrounded)  # what a port that skipped the fp16 rounding would get
        report(f"layer{li}", hcur, ref, attn=ATTN_NAMES[m["attn_funcs_built"][li]],
               max_abs_without_fp16_rounding=float(np.abs(hun - ref).max()))
    report("representation", hcur.mean(0), np.load(f"{d}/representation.npy"))
    report("pool_mean", np.stack([np.load(f"{d}/layer{li}.npy").astype(np.float64).mean(0) for li in range(depth)]),
           np.load(f"{d}/pool_mean.npy"))
    return res


def versions(torch):
    import soundfile

    out = {"python": platform.python_version()}
    for pkg in ("torch", "numpy", "scipy", "librosa", "resampy", "numba", "llvmlite", "soundfile", "audioread"):
        out[pkg] = importlib.metadata.version(pkg)
    out["libsndfile"] = soundfile.__libsndfile_version__
    out["ffmpeg"] = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    out["torch_num_threads"] = torch.get_num_threads()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jukebox-src", required=True)
    ap.add_argument("--out", default=str(REPO / "fixtures" / "jukebox"))
    ap.add_argument("--n-ctx", type=int, default=256)
    ap.add_argument("--blocks", type=int, default=16)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--ckpt-depth", type=int, default=8, help="layers stored in the prior checkpoint (72 real)")
    ap.add_argument("--depth", type=int, default=6, help="layers built, like prior_depth=36 in main.py:170")
    ap.add_argument("--vq-width", type=int, default=8)
    ap.add_argument("--vq-emb", type=int, default=16)
    ap.add_argument("--vq-bins", type=int, default=64)
    ap.add_argument("--y-bins", default="8,16", help="(genre, artist) bins; real (120, 4111), only id 0 is used")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="run numpy_restatement on the dump, record it in the manifest")
    args = ap.parse_args()
    y_bins = tuple(int(v) for v in args.y_bins.split(","))
    assert len(y_bins) == 2

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = tempfile.mkdtemp(prefix="jukebox_src_")
    prepare_source(args.jukebox_src, work)
    install_cpu_shims(work)
    import torch

    torch.manual_seed(args.seed)
    from jukebox.hparams import setup_hparams
    from jukebox.make_models import make_prior, make_vqvae

    T = args.n_ctx
    assert T % args.blocks == 0 and T // args.blocks > 1
    sample_length = T * 128  # main.py:165 passes 1048576 = 8192*128
    vq_over = dict(sample_length=sample_length, width=args.vq_width, emb_width=args.vq_emb, l_bins=args.vq_bins)
    pr_over = dict(n_ctx=T, prior_width=args.width, heads=args.heads, blocks=args.blocks,
                   prior_depth=args.ckpt_depth, y_bins=y_bins)

    # --- input WAVs: real music excerpts, jukemir's ffmpeg conversion ---
    clips = {}
    for name, src, ss, dur in (MAIN_CLIP, SHORT_CLIP):
        cmd = ffmpeg_excerpt(MUSIC / src, out / name, ss, dur)
        clips[name] = dict(source=src, ffmpeg=cmd)

    def load_case(name):  # main.py:83 load_audio_from_file, main.py:25 crop
        import soundfile as sf

        info = sf.info(str(out / name))
        audio, norm = load_audio_from_file(str(out / name))
        audio_c = audio[: JUKEBOX_SAMPLE_RATE * CROP_SECONDS]
        clips[name].update(sha256=sha256(out / name), sr_native=info.samplerate, channels=info.channels,
                           subtype=info.subtype, n_native=info.frames,
                           n_44k=int(len(audio)), n_44k_expected=-(-info.frames * JUKEBOX_SAMPLE_RATE // info.samplerate),
                           n_44k_mod_128=int(len(audio) % 128), n_encoded=int(len(audio_c)),
                           peak_before_normalisation=norm)
        assert clips[name]["n_44k"] == clips[name]["n_44k_expected"]
        return audio_c, torch.FloatTensor(audio_c[np.newaxis, :, np.newaxis])  # main.py:27 (cuda there)

    audio_c, x = load_case(MAIN_CLIP[0])
    assert clips[MAIN_CLIP[0]]["sr_native"] != JUKEBOX_SAMPLE_RATE and clips[MAIN_CLIP[0]]["n_44k_mod_128"] != 0

    # --- VQ-VAE: random weights -> legacy checkpoint -> make_vqvae restores it (main.py:164) ---
    vq_hps = setup_hparams("vqvae", vq_over)
    vq_rand = make_vqvae(setup_hparams("vqvae", dict(vq_over, restore_vqvae="")), "cpu")
    randomise_vqvae(vq_rand, torch, args.seed + 1, x)
    vq_path = out / "vqvae_tiny.pth.tar"
    vq_top = save_legacy(vq_path, vq_rand.state_dict(), vq_hps, CKPT_STEP["vqvae"], torch)
    vqvae = make_vqvae(setup_hparams("vqvae", dict(vq_over, restore_vqvae=str(vq_path))), "cpu")
    assert vqvae.step == CKPT_STEP["vqvae"]

    enc2 = {}
    vqvae.encoders[2].register_forward_hook(lambda m, i, o: enc2.__setitem__("x", o[-1].detach().clone()))

    def get_z(xin):  # main.py:22-34 (the crop is already applied)
        with torch.no_grad():
            zs = vqvae.encode(xin)  # main.py:27
        z = zs[-1].flatten()[np.newaxis, :]  # main.py:29
        return z, zs

    z, zs = get_z(x)
    enc_level2 = enc2["x"][0].numpy()
    if z.shape[-1] < T:  # main.py:31
        raise ValueError("Audio file is not long enough")

    # the too-short case: same path, the error main.py:31-32 raises after encoding
    _, xs = load_case(SHORT_CLIP[0])
    zs_short, _ = get_z(xs)
    clips[SHORT_CLIP[0]]["n_codes"] = int(zs_short.shape[-1])
    try:
        if zs_short.shape[-1] < T:  # main.py:31
            raise ValueError("Audio file is not long enough")
        sys.exit("too_short.wav is long enough")
    except ValueError as e:
        clips[SHORT_CLIP[0]]["error"] = dict(type=type(e).__name__, message=str(e))

    # --- prior: random ckpt with ckpt_depth layers, model built with depth layers (main.py:169-171) ---
    pr_hps = setup_hparams("prior_5b", pr_over)
    pr_rand = make_prior(setup_hparams("prior_5b", dict(pr_over, restore_prior="")), vqvae, "cpu")
    w32 = randomise_prior(pr_rand, torch, args.seed + 2)
    sd_rand = pr_rand.state_dict()
    for name, v in w32.items():
        assert sd_rand[name].dtype == torch.float16
        sd_rand[name] = v  # the file holds float32 Conv1D weights
    pr_path = out / "prior_tiny.pth.tar"
    pr_top = save_legacy(pr_path, sd_rand, pr_hps, CKPT_STEP["prior"], torch)
    hparams = setup_hparams("prior_5b", dict(pr_over, restore_prior=str(pr_path)))
    hparams["prior_depth"] = args.depth  # main.py:170
    top_prior = make_prior(hparams, vqvae, "cpu")
    assert top_prior.step == CKPT_STEP["prior"]
    tr = top_prior.prior.transformer
    # the fp16 rounding on load (docs §5): the model's weights are the file's float32 rounded to fp16
    conv_w = dict(n=0, n_not_fp16_representable=0, max_abs_rounding=0.0)
    for name, p in top_prior.named_parameters():
        if name.endswith(".w"):
            assert p.dtype == torch.float16 and torch.equal(p, w32[name].half()), name
            conv_w["n"] += p.numel()
            conv_w["n_not_fp16_representable"] += int((w32[name].half().float() != w32[name]).sum())
            conv_w["max_abs_rounding"] = max(conv_w["max_abs_rounding"], float((w32[name].half().float() - w32[name]).abs().max()))

    # --- conditioning (main.py:37-64 get_cond) ---
    hps_sr = 44100  # main.py:156 hps.sr
    total_length = (int(62 * hps_sr) // top_prior.raw_to_tokens) * top_prior.raw_to_tokens  # main.py:40-42
    metas = [dict(artist="unknown", genre="unknown", total_length=total_length, offset=0,
                  lyrics="lyrics go here!!!")] * 8  # main.py:47-55, hps.n_samples = 8
    with torch.no_grad():
        labels = top_prior.labeller.get_batch_labels(metas, "cpu")  # "cuda" in main.py:57
        y = top_prior.get_y(labels, 0)
        x_cond, y_cond, prime = top_prior.get_cond(None, y)  # main.py:59
    x_cond = x_cond[0, :T][np.newaxis, ...]  # main.py:61
    y_cond = y_cond[0][np.newaxis, ...]  # main.py:62
    artist_id, genre_ids = int(y[0, 3]), [int(v) for v in y[0, 4:]]
    assert artist_id == 0 and genre_ids[0] == 0 and all(v == -1 for v in genre_ids[1:])
    assert artist_id < y_bins[1] and max(genre_ids) < y_bins[0]

    # --- activations (main.py:67-79, 86-98) ---
    captured = {}
    tr.register_forward_pre_hook(lambda m, inp: captured.__setitem__("h_in", inp[0].detach().clone()))
    for i, blk in enumerate(tr._attn_mods):
        blk.register_forward_hook(lambda m, inp, o, i=i: captured.__setitem__(f"layer{i}", o.detach().clone()))
    xz = z[:, :T]
    top_prior.prior.only_encode = True
    with torch.no_grad():
        acts = top_prior.prior.forward(xz, x_cond=x_cond, y_cond=y_cond, encoder_kv=None, fp16=False)
    acts = acts.squeeze().type(torch.float32)
    rep = acts.mean(dim=0)
    assert torch.equal(acts, captured[f"layer{args.depth - 1}"][0])

    # --- dump ---
    files = {}

    def save(name, arr, what):
        arr = np.asarray(arr)
        np.save(out / name, arr)
        files[name] = dict(shape=list(arr.shape), dtype=str(arr.dtype), what=what)

    save("audio_44k.npy", audio_c.astype(np.float32), "lr.load(sr=44100) of input.wav, peak-normalised, [:44100*25]")
    save("enc_level2.npy", enc_level2, "encoders[2] output [emb_width, T2], before the bottleneck")
    save("codes_level2.npy", zs[-1][0].numpy(), "zs[-1][0], level-2 codes of input.wav")
    save("too_short_codes_level2.npy", zs_short[0].numpy(), "level-2 codes of too_short.wav (before the ValueError)")
    save("y.npy", y[0].numpy(), "label row 0 after get_y")
    save("y_cond.npy", y_cond[0, 0].numpy(), "y_cond[0,0]: start embedding")
    save("x_cond.npy", x_cond[0].numpy(), "x_cond[0, :T]")
    save("h_in.npy", captured["h_in"][0].numpy(), "transformer input: (roll(x_emb[z]) + pos_emb) + x_cond")
    layers = []
    for i in range(args.depth):
        layers.append(captured[f"layer{i}"][0].numpy())
        save(f"layer{i}.npy", layers[-1], f"output of _attn_mods.{i} ({ATTN_NAMES[tr._attn_mods[i].attn_func]})")
    save("representation.npy", rep.numpy(), "main.py output: acts.mean(dim=0) in torch, after the last built layer")
    save("pool_mean.npy", np.stack([l.astype(np.float64).mean(0) for l in layers]).astype(np.float32),
         "row i: numpy float64 mean over T of layer{i}, rounded to float32")
    save("pool_max.npy", np.stack([l.max(0) for l in layers]), "row i: numpy max over T of layer{i} (exact)")

    codes = zs[-1][0].numpy()
    codes64, rel_gap = near_ties(enc_level2, vqvae.bottleneck.level_blocks[2].k.numpy())
    sd_vq = torch.load(vq_path, map_location="cpu")
    sd_pr = torch.load(pr_path, map_location="cpu")
    ckpt_attn = [blk.attn_func for blk in pr_rand.prior.transformer._attn_mods]
    built_attn = [blk.attn_func for blk in tr._attn_mods]
    assert ckpt_attn[: args.depth] == built_attn
    main_clip = clips[MAIN_CLIP[0]]
    main_clip.update(n_codes=int(codes.shape[0]), codes_used=int(len(np.unique(codes))),
                     audio_44k_sum=float(audio_c.astype(np.float64).sum()),
                     audio_44k_peak=float(np.abs(audio_c).max()))
    manifest = dict(
        generated_by="tools/reference/gen_jukebox_fixtures.py",
        oracle=("openai/jukebox@" + JUKEBOX_COMMIT + " with jukemir's strict=False patch, CPU shims; "
                "p-lambda/jukemir representations/jukebox/main.py flow with T = n_ctx"),
        jukebox_commit=JUKEBOX_COMMIT,
        versions=versions(torch),
        args={k: v for k, v in vars(args).items() if k not in ("jukebox_src", "out")},
        clips=clips,
        vqvae_hparams=dict(
            levels=vq_hps.levels, downs_t=list(vq_hps.downs_t), strides_t=list(vq_hps.strides_t),
            width=vq_hps.width, depth=vq_hps.depth, m_conv=vq_hps.m_conv,
            dilation_growth_rate=vq_hps.dilation_growth_rate, dilation_cycle=vq_hps.dilation_cycle,
            emb_width=vq_hps.emb_width, l_bins=vq_hps.l_bins, multipliers=list(vq_hps.hvqvae_multipliers),
            zero_out=False, res_scale=1.0, use_bottleneck=vq_hps.use_bottleneck,
            sample_length=vq_hps.sample_length, hop_level2=int(np.prod([s ** d for s, d in zip(vq_hps.strides_t, vq_hps.downs_t)])),
            note="zero_out/res_scale: EncoderConvBlock defaults (make_vqvae passes neither); "
                 "level-2 encoder width = width*multipliers[2], depth = depth*multipliers[2]"),
        prior_hparams=dict(
            level=hparams.level, n_ctx=T, width=args.width, heads=args.heads, depth_built=args.depth,
            depth_in_ckpt=args.ckpt_depth, blocks=args.blocks, block_ctx=T // args.blocks,
            spread=hparams.spread, attn_order=hparams.attn_order, m_attn=hparams.m_attn, m_mlp=hparams.m_mlp,
            n_state=int(hparams.m_attn * args.width), head_dim=int(hparams.m_attn * args.width) // args.heads,
            mlp_width=int(hparams.m_mlp * args.width),
            y_bins=list(y_bins), t_bins=hparams.t_bins, max_bow_genre_size=hparams.max_bow_genre_size,
            min_duration=hparams.min_duration, max_duration=hparams.max_duration, sr=hparams.sr,
            raw_to_tokens=int(top_prior.raw_to_tokens), sample_length=int(top_prior.sample_length),
            total_length=int(total_length), y=[int(v) for v in y[0]], bins=int(vqvae.l_bins),
            merged_decoder=hparams.merged_decoder, fp16_params=hparams.fp16_params,
            zero_out=hparams.zero_out, res_scale=hparams.res_scale, init_scale=hparams.init_scale),
        attn_funcs_built=built_attn,
        attn_types_built=[ATTN_NAMES[f] for f in built_attn],
        attn_types_in_ckpt=[ATTN_NAMES[f] for f in ckpt_attn],
        checkpoints={
            "vqvae_tiny.pth.tar": dict(format="legacy torch.save (_use_new_zipfile_serialization=False)",
                                      top_level_keys=vq_top, step=sd_vq["step"], n_tensors=len(sd_vq["model"]),
                                      used_prefixes=["encoders.2.", "bottleneck.level_blocks.2.k"],
                                      keys=key_table(sd_vq["model"])),
            "prior_tiny.pth.tar": dict(format="legacy torch.save (_use_new_zipfile_serialization=False)",
                                      top_level_keys=pr_top, step=sd_pr["step"], n_tensors=len(sd_pr["model"]),
                                      layers_in_file=sorted({int(k.split("_attn_mods.")[1].split(".")[0])
                                                             for k in sd_pr["model"] if "_attn_mods." in k}),
                                      keys_missing_from_model=sorted(set(sd_pr["model"]) - set(top_prior.state_dict())),
                                      keys_missing_from_file=sorted(set(top_prior.state_dict()) - set(sd_pr["model"])),
                                      keys=key_table(sd_pr["model"])),
        },
        conv1d_w=dict(dtype_in_file="float32", dtype_in_model=str(tr._attn_mods[0].attn.c_attn.w.dtype).replace("torch.", ""),
                      **conv_w, note="model .w == fp16(file .w) checked for every Conv1D; forward casts to float32 (type_as)"),
        pooling=("representation.npy is torch acts.mean(dim=0) (main.py:95-98). pool_mean/pool_max are numpy: "
                 "float64 mean over T rounded to float32 / exact max over T, of each captured layer output"),
        near_ties=dict(threshold_rel=NEAR_TIE_REL,
                       count=int((rel_gap < NEAR_TIE_REL).sum()), count_in_first_T=int((rel_gap[:T] < NEAR_TIE_REL).sum()),
                       n_codes=int(len(rel_gap)), min_rel_gap=float(rel_gap.min()),
                       float64_vs_torch_mismatches=int((codes64 != codes).sum()),
                       note="gap = (second-best - best) distance / |x|^2 in float64, over all level-2 frames"),
        files=files,
        check=None,
    )

    def write_manifest():
        with open(out / "manifest.json", "w") as f:
            json.dump(manifest, f, indent=1)

    write_manifest()
    print(json.dumps(dict(attn=manifest["attn_types_built"], clips={k: {kk: v[kk] for kk in ("n_44k", "n_codes")} for k, v in clips.items()},
                          y=manifest["prior_hparams"]["y"], near_ties=manifest["near_ties"], conv1d_w=conv_w)))
    if args.check:
        manifest["check"] = numpy_restatement(str(out))
        write_manifest()
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out}: {len(list(out.iterdir()))} files, {total} bytes")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
