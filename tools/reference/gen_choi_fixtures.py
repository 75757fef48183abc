"""choi (Choi et al. 2017) reference oracle and fixtures for the Rust port.

Run from the repository root (numpy oracle only needs numpy, scipy, h5py; see
tools/reference/requirements-choi.txt):

    /work/pyref/bin/python tools/reference/gen_choi_fixtures.py
    # optional cross-check against the REAL reference stack (Python 2.7.18 + Theano 0.9 + Keras
    # 1.2.2 + kapre a3bde3e + librosa 0.4.0 + scipy 1.2.3; set-up in requirements-choi.txt):
    /work/pyref/bin/python tools/reference/gen_choi_fixtures.py --py2 /tmp/py2env.sh

The committed fixtures were made WITH --py2: jukemir's own main.py on the real stack agrees with
this oracle to 1.1e-6 (max abs over all 160-dim representations, both batch compositions); the
network inputs agree to 6e-8, the log-mel to 4.5e-4 dB. See manifest.json "checks".

What the reference computes (p-lambda/jukemir representations/choi/main.py + choi.dockerfile,
keunwoochoi/transfer_learning_music@e1f83c3 models_transfer.py, kapre@a3bde3e, Keras 1.2.2 with the
Theano backend and image_dim_ordering "th", Theano 0.9 floatX=float32, librosa 0.4.0 without
scikits.samplerate, so scipy.signal.resample) -- restated here in numpy, float64 throughout unless
`--dtype float32` (used only to measure the float32 sensitivity; the reference ran in float32):

  0. jukemir feeds the container /input = processed/<dataset>/wav, written by
     `ffmpeg -y -i SRC -ac 1 -bitexact DST.wav` (jukemir/datasets/__init__.py cache_dataset): mono
     s16 WAV at the source's native rate. The choi image has no ffmpeg; audioread's first backend
     (rawread, Python's `wave`) reads the WAV as int16.
  1. input_paths = sorted(glob('/input/*')); Python 2 random.seed(0); random.shuffle(input_paths);
     batches of 256 (one batch here). Python 2's shuffle draws j = int(random() * (i+1)).
  2. librosa 0.4.0 load(path, sr=12000, duration=29.0): buf_to_float = int16 * (1/32768) in float32;
     crop to int(round(sr_native*29.0)) samples (before resampling); (mono already);
     scipy.signal.resample(y, ceil(n*12000/sr_native)) (scipy 1.2.3 algorithm, FFT, with the
     Nyquist-bin split), fix_length, cast to float32.
  3. main._load_audio: first 348000 samples, or np.tile(src, ceil(348000/n))[:348000] if shorter.
  4. kapre Melspectrogram(n_dft=512, n_hop=256, power_melgram=2.0, return_decibel_melgram=True,
     sr=12000, n_mels=96, fmin=0, fmax=6000): x -> K.conv2d(dim_ordering='tf', border_mode='same')
     with the stored kernels melgram/param_0 (real) and param_1 (imag), [512,1,1,257] (TF layout:
     rows, cols, in, out). Theano conv2d flips the kernel (true convolution); 'same' -> Theano
     'half' = 256 zeros on each side, stride 256 -> 1360 frames. power = re^2 + im^2; mel = power
     @ param_2 [257,96]; 10*log10(max(mel,1e-10)); minus K.max over the WHOLE batch tensor;
     max(., -80). Output [B,1,96,1360].
  5. Five blocks: Convolution2D(32,3,3,'same') (true convolution, Theano 'half' = pad 1) + bias ->
     BatchNormalization(axis=1, mode=2): batch statistics ALWAYS (mean and biased variance over
     batch, rows, cols per channel, eps 1e-3) then gamma/beta -> ELU(alpha=1) -> MaxPooling2D
     (2,4),(3,4),(2,5),(2,4),(4,4) ('valid', floor).
  6. Model i = blocks 0..i, then GlobalAveragePooling2D (Flatten for i=4: its map is 32x1x1, the
     same thing). weights_layer{i} hold identical values for shared layers (checked), so one pass
     with weights_layer4 gives all five: representation = concat(GAP(block0..block4)) = 160.

Outputs (fixtures/choi/, total < 1.5 MB; hdf5/ belongs to another generator):
  order.json                         sorted and shuffled input order for both batches
  <stem>.representation.npy          float64 [160], the oracle, batch = all five clips
  <stem>.batch2.representation.npy   float64 [160], batch = the two MP3s only
  batch_input_head.npy               float32 [5, 24000]: first 2 s of each 12 kHz network input row,
                                     rows in the shuffled batch order (sha256 of full rows in manifest)
  <DEBUG>.logmel.npy                 float32 [96, 1360], the melgram layer output for DEBUG_STEM
  <DEBUG>.pooled_block{1,2,3,4}.npy  float32 [32, h, w], block outputs (after max-pool) of DEBUG_STEM
  bn_batch_stats.npy                 float64 [5, 2, 32]: per block, batch mean and biased variance
                                     of the conv output (what BN mode 2 normalises with), batch 1
  reference_stack/*.npy              (with --py2) the real stack's outputs, float32
  manifest.json                      versions, conventions, shapes, checksums, checks
"""
import argparse
import hashlib
import json
import math
import pathlib
import platform
import random
import shutil
import subprocess
import tempfile
import wave

import h5py
import numpy as np
import scipy

SHARED = pathlib.Path("../shared")
OUT = pathlib.Path("fixtures/choi")
WEIGHTS_DIR = SHARED / "weights/choi"
FFMPEG = "/usr/bin/ffmpeg"
MIRROR_JUKEMIR = pathlib.Path("/work/.mirror/p-lambda+jukemir/repo")
MIRROR_TLM = pathlib.Path("/work/.mirror/keunwoochoi+transfer_learning_music/repo")
MIRROR_KAPRE = pathlib.Path("/work/.mirror/keunwoochoi+kapre/repo")

CLIPS = [
    "music/musicnn/TRWJAZW128F42760DD_test.mp3",  # MP3 22.05 kHz stereo, ~29.9 s
    "music/musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3",  # MP3 16 kHz mono, ~29.1 s
    "music/wesnoth/defeat.ogg",  # Vorbis 44.1 kHz stereo, 8.5 s -> tiled
    "music/wesnoth/sad.ogg",  # Vorbis 44.1 kHz stereo, 44.4 s
    "music/wesnoth/frantic-old.ogg",  # Vorbis 44.1 kHz stereo, 84.7 s
]
BATCH2 = CLIPS[:2]  # the two MP3s alone: shows the batch dependence
DEBUG_STEM = "defeat"  # tiled clip; its log-mel and block maps are stored

SR = 12000
LEN_SRC = 29.0
REF_N_SRC = 12000 * 29  # 348000
N_DFT = 512
N_HOP = 256
N_MELS = 96
POOLS = [(2, 4), (3, 4), (2, 5), (2, 4), (4, 4)]
BN_EPS = 1e-3  # Keras 1.2.2 BatchNormalization default
AMIN = 1e-10  # kapre amplitude_to_decibel
DYNAMIC_RANGE = 80.0
BATCH_SIZE = 256
HEAD = 24000  # first 2 s at 12 kHz


# ----------------------------------------------------------------------------------------------
# Batching: Python 2 random.shuffle


def py2_shuffle(items, seed=0):
    """Python 2.7's random.seed(seed); random.shuffle(items) (returns a new list).

    Py2.7 Lib/random.py shuffle:  for i in reversed(xrange(1, len(x))):
                                      j = int(random() * (i+1)); x[i], x[j] = x[j], x[i]
    Py3's shuffle uses _randbelow (getrandbits rejection sampling) instead, so it differs.
    The generator state after seed(int) is identical in Py2 and Py3 (both C random_seed split
    abs(n) into 32-bit words, n=0 -> key [0], then init_by_array), and random() is genrand_res53 in
    both; checked here with a real Python 2.7.18 (see manifest "shuffle").
    """
    x = list(items)
    rng = random.Random(seed)
    for i in reversed(range(1, len(x))):
        j = int(rng.random() * (i + 1))
        x[i], x[j] = x[j], x[i]
    return x


def batches_in_reference_order(stems):
    """Paths as the container sees them (/input/<stem>.wav), sorted, shuffled, split in 256s."""
    paths = sorted("/input/%s.wav" % s for s in stems)
    shuffled = py2_shuffle(paths, 0)
    batches = [shuffled[s : s + BATCH_SIZE] for s in range(0, len(shuffled), BATCH_SIZE)]
    return paths, shuffled, batches


# ----------------------------------------------------------------------------------------------
# Decoding and librosa 0.4.0 load


def stem_of(clip):
    return pathlib.Path(clip).stem


def ffmpeg_wav(src, dst):
    """jukemir cache_dataset: `ffmpeg -y -i SRC -ac 1 -bitexact DST.wav` (no clip args)."""
    subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(src), "-ac", "1", "-bitexact", str(dst)], check=True)


def read_wav_int16(path):
    """audioread rawread (Python `wave`) -> int16 frames."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2, "expected s16 WAV"
        ch, sr, n = w.getnchannels(), w.getframerate(), w.getnframes()
        pcm = np.frombuffer(w.readframes(n), dtype="<i2")
    return pcm, sr, ch


def resample_scipy123(y, orig_sr, target_sr):
    """librosa 0.4.0 resample (no scikits.samplerate) -> scipy.signal.resample as in scipy 1.2.3.

    n_out = int(ceil(len * float(target) / orig)). scipy 1.2.3: X = fft(x); Y[:(N+1)//2] = X[...];
    Y[-(N-1)//2:] = X[...]; N even and downsampling: Y[N/2] += X[N/2]; upsampling: the -N/2 bin
    is halved and mirrored to +N/2; y = real(ifft(Y)) * num/Nx. (The reference's forward FFT ran
    in single precision because the input is float32; here it is float64.) Output cast to float32
    as librosa does (np.ascontiguousarray(y_hat, dtype=y.dtype)).
    """
    if orig_sr == target_sr:
        return y
    Nx = y.shape[-1]
    num = int(np.ceil(Nx * float(target_sr) / orig_sr))
    X = np.fft.fft(y.astype(np.float64))
    N = min(num, Nx)
    Y = np.zeros(num, np.complex128)
    Y[: (N + 1) // 2] = X[: (N + 1) // 2]
    Y[-(N - 1) // 2 :] = X[-(N - 1) // 2 :]
    if N % 2 == 0:
        if N < Nx:  # downsampling
            Y[N // 2] += X[N // 2]
        elif N < num:  # upsampling
            Y[num - N // 2] /= 2
            Y[N // 2] = Y[num - N // 2]
    out = np.fft.ifft(Y).real * (float(num) / float(Nx))
    assert out.shape[0] == num  # librosa fix_length is then a no-op
    return out.astype(np.float32)


def librosa040_load(pcm, sr_native, channels):
    """librosa.load(path, sr=12000, duration=29.0) on an int16 buffer (librosa 0.4.0)."""
    assert channels == 1  # jukemir's WAVs are mono (-ac 1); librosa 0.4.0 would np.mean L/R else
    y = pcm.astype(np.float32) * np.float32(1.0 / 32768.0)  # util.buf_to_float, exact
    s_end = int(np.round(sr_native * LEN_SRC)) * channels
    y = y[:s_end]
    return resample_scipy123(y, sr_native, SR)


def tile_or_crop(src):
    """main._load_audio(zero_pad=False)."""
    if len(src) >= REF_N_SRC:
        return src[:REF_N_SRC]
    n_tile = int(np.ceil(float(REF_N_SRC) / len(src)))
    return np.tile(src, n_tile)[:REF_N_SRC]


# ----------------------------------------------------------------------------------------------
# Weights


def load_weights(path):
    f = h5py.File(path, "r")
    W = {
        "dft_real": f["melgram/param_0"][...],  # [512,1,1,257] TF layout (rows, cols, in, out)
        "dft_imag": f["melgram/param_1"][...],
        "mel": f["melgram/param_2"][...],  # [257, 96]
        "blocks": [],
    }
    for b in range(1, 6):
        g = f["ConvBNEluDr"]
        W["blocks"].append(
            {
                "W": g["convolution2d_%d_W" % b][...],  # [32, C, 3, 3] Theano layout (out, in, rows, cols)
                "b": g["convolution2d_%d_b" % b][...],
                "gamma": g["batchnormalization_%d_gamma" % b][...],
                "beta": g["batchnormalization_%d_beta" % b][...],
            }
        )
    f.close()
    return W


def weight_table():
    """Every dataset in every weights file: name -> shape, dtype, sha256 (documentation)."""
    out = {}
    for i in range(5):
        p = WEIGHTS_DIR / ("weights_layer%d_theano.hdf5" % i)
        with h5py.File(p, "r") as f:
            entry = {
                "file_sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "layer_names": [n.decode() for n in f.attrs["layer_names"]],
                "layers": {},
            }
            for ln in entry["layer_names"]:
                names = [n.decode() for n in f[ln].attrs["weight_names"]]
                entry["layers"][ln] = [[n, list(f[ln][n].shape), str(f[ln][n].dtype)] for n in names]
            out[p.name] = entry
    return out


def check_weight_files():
    """Shared layers hold identical values in weights_layer0..4 (so one pass suffices)."""
    ref = h5py.File(WEIGHTS_DIR / "weights_layer4_theano.hdf5", "r")
    res = {}
    for i in range(4):
        with h5py.File(WEIGHTS_DIR / ("weights_layer%d_theano.hdf5" % i), "r") as f:
            same = True
            n = 0
            for ln in ["melgram", "ConvBNEluDr", "dense_1"]:
                for wn in f[ln].attrs["weight_names"]:
                    wn = wn.decode()
                    same &= bool(np.array_equal(f[ln][wn][...], ref[ln][wn][...]))
                    n += 1
            res["weights_layer%d" % i] = {"datasets_compared": n, "identical_to_layer4": same}
    ref.close()
    return res


def check_kernels(W):
    """param_0/1 = periodic Hann x cos/sin; param_2 = kapre's (librosa-copied Slaney) mel, 0..6 kHz."""
    n = np.arange(N_DFT)[:, None]
    k = np.arange(N_DFT // 2 + 1)[None, :]
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_DFT) / N_DFT)  # periodic (scipy hann sym=False)
    re = hann[:, None] * np.cos(2 * np.pi * k * n / N_DFT)
    im = hann[:, None] * np.sin(2 * np.pi * k * n / N_DFT)

    def hz_to_mel(f):
        f = np.atleast_1d(np.asarray(f, float))
        m = f / (200.0 / 3)
        lt = f >= 1000.0
        m[lt] = 15.0 + np.log(f[lt] / 1000.0) / (np.log(6.4) / 27.0)
        return m

    def mel_to_hz(m):
        m = np.atleast_1d(np.asarray(m, float))
        fr = (200.0 / 3) * m
        lt = m >= 15.0
        fr[lt] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (m[lt] - 15.0))
        return fr

    dft = np.linspace(0, SR / 2, N_DFT // 2 + 1).astype(np.float32)
    fr = mel_to_hz(np.linspace(hz_to_mel(0.0)[0], hz_to_mel(6000.0)[0], N_MELS + 2)).astype(np.float32)
    enorm = 2.0 / (fr[2:] - fr[:-2])
    mel = np.zeros((N_MELS, N_DFT // 2 + 1))
    for i in range(N_MELS):
        lo = (dft - fr[i]) / (fr[i + 1] - fr[i])
        up = (fr[i + 2] - dft) / (fr[i + 2] - fr[i + 1])
        mel[i] = np.maximum(0, np.minimum(lo, up)) * enorm[i]
    return {
        "param_0_minus_hann_cos_maxabs": float(np.abs(W["dft_real"][:, 0, 0, :] - re).max()),
        "param_1_minus_hann_sin_maxabs": float(np.abs(W["dft_imag"][:, 0, 0, :] - im).max()),
        "param_2_minus_kapre_mel_maxabs": float(np.abs(W["mel"] - mel.T.astype(np.float32)).max()),
        "param_2_max": float(W["mel"].max()),
    }


# ----------------------------------------------------------------------------------------------
# Network


def melgram(x, W, dt):
    """kapre Melspectrogram (decibel) on a [B, N] batch -> [B, 1, 96, T], plus the global max."""
    B, N = x.shape
    pad = N_DFT // 2  # Theano 'half': filter_rows // 2 on each side
    xp = np.pad(x.astype(dt), ((0, 0), (pad, pad)))
    n_theano = (N + 2 * pad - N_DFT) // N_HOP + 1
    n_keras = (N + N_HOP - 1) // N_HOP  # Keras 1.2.2 crop for even kernels
    T = min(n_theano, n_keras)
    frames = np.lib.stride_tricks.as_strided(
        xp, shape=(B, T, N_DFT), strides=(xp.strides[0], N_HOP * xp.strides[1], xp.strides[1])
    )
    # Theano conv2d (filter_flip=True): out[t] = sum_k xp[256 t + k] * w[511 - k]
    kr = W["dft_real"][::-1, 0, 0, :].astype(dt)
    ki = W["dft_imag"][::-1, 0, 0, :].astype(dt)
    re = frames @ kr
    im = frames @ ki
    power = re * re + im * im  # [B, T, 257]
    mel = power @ W["mel"].astype(dt)  # [B, T, 96]
    mel = np.transpose(mel, (0, 2, 1))[:, None]  # [B, 1, 96, T]
    log_spec = dt(10.0) * np.log10(np.maximum(mel, dt(AMIN)))
    gmax = log_spec.max()  # K.max with no axis: the whole batch
    log_spec = np.maximum(log_spec - gmax, dt(-DYNAMIC_RANGE))
    return log_spec, float(gmax)


def conv3x3_same(x, Wt, bias, dt):
    """Keras 1 Convolution2D 'same' on Theano: 'half' padding (1) and a TRUE convolution."""
    B, C, H, Wd = x.shape
    O = Wt.shape[0]
    wf = Wt[:, :, ::-1, ::-1].astype(dt)  # flip -> cross-correlation below
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((B, H, Wd, C, 3, 3), dt)
    for i in range(3):
        for j in range(3):
            cols[..., i, j] = np.transpose(xp[:, :, i : i + H, j : j + Wd], (0, 2, 3, 1))
    out = cols.reshape(B * H * Wd, C * 9) @ wf.reshape(O, C * 9).T
    out = out.reshape(B, H, Wd, O).transpose(0, 3, 1, 2)
    return out + bias.astype(dt)[None, :, None, None]


def bn_mode2(x, gamma, beta, dt):
    """Keras 1.2.2 BatchNormalization(mode=2, axis=1) -> Theano batch_normalization_train."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)  # biased
    invstd = dt(1.0) / np.sqrt(var + dt(BN_EPS))
    y = (x - mean) * gamma.astype(dt)[None, :, None, None] * invstd + beta.astype(dt)[None, :, None, None]
    return y, mean.ravel(), var.ravel()


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # alpha = 1


def maxpool(x, ph, pw):
    B, C, H, Wd = x.shape
    Ho, Wo = H // ph, Wd // pw
    return x[:, :, : Ho * ph, : Wo * pw].reshape(B, C, Ho, ph, Wo, pw).max(axis=(3, 5))


def forward(batch, W, dt=np.float64):
    """batch: [B, 348000] float32 network input rows. Returns dict of intermediates."""
    logmel, gmax = melgram(batch, W, dt)
    h = logmel
    pooled, gaps, stats = [], [], []
    for blk, (ph, pw) in zip(W["blocks"], POOLS):
        h = conv3x3_same(h, blk["W"], blk["b"], dt)
        h, m, v = bn_mode2(h, blk["gamma"], blk["beta"], dt)
        stats.append((m, v))
        h = maxpool(elu(h), ph, pw)
        pooled.append(h)
        gaps.append(h.mean(axis=(2, 3)))  # GlobalAveragePooling2D (th): mean over rows, cols
    rep = np.concatenate(gaps, axis=1)  # [B, 160], block-major
    return {"logmel": logmel, "global_max_db": gmax, "pooled": pooled, "representation": rep, "bn_stats": stats}


# ----------------------------------------------------------------------------------------------
# Python 2 cross-check against the real stack (optional)

PY2_INTERMEDIATES = r'''
import json, os, sys, numpy as np
sys.path.insert(0, ".")
import main as M  # jukemir representations/choi/main.py (paths patched)
M.np, M.os = np, os  # main.py imports these only under __main__
from keras import backend as K
order = json.load(open(sys.argv[1]))
srcs = np.array([M._load_audio(p) for p in order])
np.save("py2_inputs.npy", srcs)
x = srcs[:, np.newaxis, :]
model = M.load_model_for_mid(4)
mel, inner = model.layers[0], model.layers[1]
f_mel = K.function([model.inputs[0]], [mel.get_output_at(0)])
logmel = f_mel([x])[0]
np.save("py2_logmel.npy", logmel)
pools = [l for l in inner.layers if l.__class__.__name__ == "MaxPooling2D"]
f_in = K.function([inner.layers[0].get_input_at(0)], [l.get_output_at(0) for l in pools])
outs = f_in([logmel])
for i, o in enumerate(outs):
    np.save("py2_pool%d.npy" % i, o)
'''


def run_py2(env_script, wav_dir, stems_batches, workroot):
    """Run jukemir's main.py (only /input and /output patched) on the real Python 2 stack.

    env_script: a shell file exporting PYENV_VERSION/PYTHONPATH for a Python 2.7 with numpy 1.16.6,
    scipy 1.2.3, theano 0.9.0, keras 1.2.2, librosa 0.4.0, audioread 2.1.9, h5py, pandas 0.19.2 and
    kapre@a3bde3e on its path.
    """
    res = {}
    env_prefix = ". %s; " % env_script
    for name, stems in stems_batches.items():
        work = pathlib.Path(workroot, name)
        inp, out = work / "input", work / "output"
        for d in [inp, out, work / "data_csv", work / "data_feats", work / "weights_transfer", work / "home/.keras"]:
            d.mkdir(parents=True, exist_ok=True)
        for s in stems:
            shutil.copy(wav_dir / (s + ".wav"), inp / (s + ".wav"))
        for i in range(5):
            (work / "weights_transfer" / ("weights_layer%d_theano.hdf5" % i)).symlink_to(
                (WEIGHTS_DIR / ("weights_layer%d_theano.hdf5" % i)).resolve()
            )
        (work / "home/.keras/keras.json").write_text(
            '{"image_dim_ordering": "th", "epsilon": 1e-07, "floatx": "float32", "backend": "theano"}'
        )
        main_src = subprocess.run(
            ["git", "-C", str(MIRROR_JUKEMIR), "show", "HEAD:representations/choi/main.py"],
            check=True, capture_output=True, text=True,
        ).stdout
        patched = main_src.replace('"/input/*"', '"%s/*"' % inp).replace('output_dir = "/output"', 'output_dir = "%s"' % out)
        assert patched.count(str(inp)) == 1 and patched.count(str(out)) == 1
        (work / "main.py").write_text(patched)
        (work / "models_transfer.py").write_text(
            subprocess.run(
                ["git", "-C", str(MIRROR_TLM), "show", "e1f83c3:models_transfer.py"],
                check=True, capture_output=True, text=True,
            ).stdout
        )
        (work / "py2_intermediates.py").write_text(PY2_INTERMEDIATES)
        envs = (
            "export HOME=%s; export THEANO_FLAGS=floatX=float32,device=cpu,openmp=False,base_compiledir=%s; "
            % (work / "home", pathlib.Path(workroot, "theano"))
        )
        subprocess.run(["bash", "-c", env_prefix + envs + "cd %s && python2 main.py > main.log 2>&1" % work], check=True)
        rep = {p.stem: np.load(p) for p in out.glob("*.npy")}
        csv = (work / "data_csv/dummy.csv").read_text().strip().splitlines()[1:]
        order = [line.split(",")[2] for line in csv]
        item = {"representation": rep, "order": [pathlib.Path(o).stem for o in order]}
        if name == "batch1":
            (work / "order.json").write_text(json.dumps(order))
            subprocess.run(
                ["bash", "-c", env_prefix + envs + "cd %s && python2 py2_intermediates.py order.json > inter.log 2>&1" % work],
                check=True,
            )
            item["inputs"] = np.load(work / "py2_inputs.npy")
            item["logmel"] = np.load(work / "py2_logmel.npy")
            item["pooled"] = [np.load(work / ("py2_pool%d.npy" % i)) for i in range(5)]
        versions = subprocess.run(
            ["bash", "-c", env_prefix + "python2 -c \"import sys,json,numpy,scipy,theano,keras,librosa,audioread,h5py,pandas,random;"
             "random.seed(0);print(' '.join([sys.version.split()[0],numpy.__version__,scipy.__version__,theano.__version__,"
             "keras.__version__,librosa.__version__,audioread.__version__,h5py.__version__,pandas.__version__]));"
             "print(json.dumps(list(random.getstate()[1])))\" 2>/dev/null"],
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()
        item["versions"] = dict(zip(
            ["python", "numpy", "scipy", "theano", "keras", "librosa", "audioread", "h5py", "pandas"],
            versions[0].split(),
        ))
        item["py2_random_state_after_seed0"] = versions[1]
        res[name] = item
    return res


# ----------------------------------------------------------------------------------------------


def sha256_arr(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def rel_maxabs(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.abs(a - b).max()), float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def save(name, arr):
    np.save(OUT / name, arr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--py2", help="shell file setting up the Python 2 reference stack (optional)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    W = load_weights(WEIGHTS_DIR / "weights_layer4_theano.hdf5")
    manifest = {
        "generated_by": "tools/reference/gen_choi_fixtures.py",
        "oracle": "numpy float64 re-statement of jukemir choi (Keras 1.2.2/Theano 0.9/kapre a3bde3e/librosa 0.4.0)",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "h5py": h5py.__version__,
            "ffmpeg": subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.splitlines()[0],
        },
    }

    # ---- shuffle evidence
    stems = [stem_of(c) for c in CLIPS]
    sorted_paths, shuffled, batches = batches_in_reference_order(stems)
    assert len(batches) == 1
    stems2 = [stem_of(c) for c in BATCH2]
    sorted2, shuffled2, batches2 = batches_in_reference_order(stems2)
    py3_state = random.Random(0).getstate()[1]
    p3 = list(sorted_paths)
    random.Random(0).shuffle(p3)
    order = {
        "batch1": {
            "sorted": [pathlib.Path(p).stem for p in sorted_paths],
            "shuffled": [pathlib.Path(p).stem for p in shuffled],
        },
        "batch2": {
            "sorted": [pathlib.Path(p).stem for p in sorted2],
            "shuffled": [pathlib.Path(p).stem for p in shuffled2],
        },
        "note": "container paths /input/<stem>.wav sorted (byte order), then Python 2 random.seed(0); "
        "random.shuffle (j = int(random()*(i+1))), batches of 256; rows of the network batch follow 'shuffled'",
        "python3_shuffle_would_give": [pathlib.Path(p).stem for p in p3],
    }

    # ---- decode
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="choi_"))
    wav_dir = tmp / "wav"
    wav_dir.mkdir()
    clips_info = {}
    inputs = {}
    for c in CLIPS:
        s = stem_of(c)
        ffmpeg_wav(SHARED / "data" / c, wav_dir / (s + ".wav"))
        pcm, sr, ch = read_wav_int16(wav_dir / (s + ".wav"))
        y = librosa040_load(pcm, sr, ch)
        x = tile_or_crop(y)
        inputs[s] = x
        clips_info[s] = {
            "source": str(pathlib.Path("data") / c),
            "source_sha256": hashlib.sha256((SHARED / "data" / c).read_bytes()).hexdigest(),
            "wav_int16": {
                "sample_rate": sr,
                "channels": ch,
                "n_samples": int(pcm.shape[0]),
                "sha256_pcm_le": sha256_arr(pcm.astype("<i2")),
                "n_used": int(min(pcm.shape[0], int(round(sr * LEN_SRC)))),
            },
            "resampled_len": int(y.shape[0]),
            "tiled": bool(y.shape[0] < REF_N_SRC),
            "n_tile": int(math.ceil(REF_N_SRC / y.shape[0])) if y.shape[0] < REF_N_SRC else 1,
            "input_row_sha256_f32le": sha256_arr(x.astype("<f4")),
            "input_row_stats": {
                "sum": float(x.astype(np.float64).sum()),
                "sum_sq": float((x.astype(np.float64) ** 2).sum()),
                "max_abs": float(np.abs(x).max()),
            },
        }

    # ---- batch 1 (all five) and batch 2 (MP3s only)
    b1 = [pathlib.Path(p).stem for p in batches[0]]
    b2 = [pathlib.Path(p).stem for p in batches2[0]]
    X1 = np.stack([inputs[s] for s in b1])
    X2 = np.stack([inputs[s] for s in b2])
    out1 = forward(X1, W, np.float64)
    out2 = forward(X2, W, np.float64)
    out1_f32 = forward(X1, W, np.float32)

    # sensitivity to a +-1 LSB change of the int16 decode (what a different decoder may do)
    rng = np.random.default_rng(0)
    Xn = []
    for s in b1:
        pcm, sr, ch = read_wav_int16(wav_dir / (s + ".wav"))
        pert = np.clip(pcm.astype(np.int32) + rng.integers(-1, 2, size=pcm.shape), -32768, 32767).astype(np.int16)
        Xn.append(tile_or_crop(librosa040_load(pert, sr, ch)))
    outn = forward(np.stack(Xn), W, np.float64)

    rep1 = {s: out1["representation"][i] for i, s in enumerate(b1)}
    rep2 = {s: out2["representation"][i] for i, s in enumerate(b2)}
    di = b1.index(DEBUG_STEM)

    checks = {
        "weights_identical_across_files": check_weight_files(),
        "kernels": check_kernels(W),
        "float32_vs_float64_oracle": {
            "representation_maxabs": float(np.abs(out1_f32["representation"] - out1["representation"]).max()),
            "logmel_maxabs_db": float(np.abs(out1_f32["logmel"] - out1["logmel"]).max()),
        },
        "int16_plus_minus_1_lsb_noise": {
            "representation_maxabs": float(np.abs(outn["representation"] - out1["representation"]).max()),
            "note": "each decoded int16 sample independently +-1 or 0 (uniform), same network",
        },
        "batch_dependence": {},
    }
    for s in b2:
        d = rep2[s] - rep1[s]
        checks["batch_dependence"][s] = {
            "maxabs": float(np.abs(d).max()),
            "rel_l2": float(np.linalg.norm(d) / np.linalg.norm(rep1[s])),
            "per_block_maxabs": [float(np.abs(d[32 * k : 32 * (k + 1)]).max()) for k in range(5)],
        }
    checks["batch_dependence"]["global_max_db"] = {"batch1": out1["global_max_db"], "batch2": out2["global_max_db"]}

    # ---- optional: real Python 2 stack
    py2 = None
    if args.py2:
        py2 = run_py2(args.py2, wav_dir, {"batch1": stems, "batch2": stems2}, tmp / "py2")
        r1, r2 = py2["batch1"], py2["batch2"]
        c = {
            "versions": r1["versions"],
            "order_batch1": r1["order"],
            "order_batch1_matches": r1["order"] == b1,
            "order_batch2_matches": r2["order"] == b2,
            "random_state_after_seed0_equals_python3": json.loads(r1["py2_random_state_after_seed0"])
            == list(py3_state),
        }
        xin = r1["inputs"]
        c["inputs_maxabs"] = float(np.abs(xin.astype(np.float64) - X1).max())
        c["inputs_bitexact_rows"] = int(sum(np.array_equal(xin[i], X1[i]) for i in range(len(b1))))
        c["logmel_maxabs_db"] = float(np.abs(r1["logmel"] - out1["logmel"]).max())
        c["logmel_maxabs_db_excluding_clip_floor"] = float(
            np.abs(r1["logmel"] - out1["logmel"])[(out1["logmel"] > -79.9) | (r1["logmel"] > -79.9)].max()
        )
        c["pooled_maxabs"] = [rel_maxabs(r1["pooled"][k], out1["pooled"][k]) for k in range(5)]
        c["representation_batch1_maxabs"] = max(float(np.abs(r1["representation"][s] - rep1[s]).max()) for s in b1)
        c["representation_batch2_maxabs"] = max(float(np.abs(r2["representation"][s] - rep2[s]).max()) for s in b2)
        # oracle fed the real stack's own inputs: isolates the network part
        out1_on_py2_inputs = forward(xin, W, np.float64)
        c["network_only_representation_maxabs"] = float(
            np.abs(out1_on_py2_inputs["representation"] - np.stack([r1["representation"][s] for s in b1])).max()
        )
        c["network_only_logmel_maxabs_db"] = float(np.abs(out1_on_py2_inputs["logmel"] - r1["logmel"]).max())
        checks["python2_reference_stack"] = c
        order["python2_evidence"] = {
            "python2_version": r1["versions"]["python"],
            "same_mt_state_after_seed0": c["random_state_after_seed0_equals_python3"],
            "same_order": c["order_batch1_matches"] and c["order_batch2_matches"],
        }

    manifest["checks"] = checks
    manifest["clips"] = clips_info
    manifest["debug_stem"] = DEBUG_STEM
    manifest["batch1"] = {
        "rows": b1,
        "logmel_global_max_db": out1["global_max_db"],
        "input_shape": list(X1.shape),
        "input_dtype": "float32",
    }
    manifest["batch2"] = {"rows": b2, "logmel_global_max_db": out2["global_max_db"]}
    manifest["representation_ranges"] = {
        s: {
            "min": float(rep1[s].min()),
            "max": float(rep1[s].max()),
            "per_block_mean": [float(rep1[s][32 * k : 32 * (k + 1)].mean()) for k in range(5)],
        }
        for s in b1
    }
    manifest["conventions"] = {
        "decode": "ffmpeg -y -i SRC -ac 1 -bitexact DST.wav (jukemir cache_dataset), read as int16 (audioread rawread)",
        "int16_to_float": "float32(x) * (1/32768) (librosa 0.4.0 util.buf_to_float), exact",
        "crop_before_resample": "first int(round(sr_native*29.0)) samples",
        "resample": "scipy 1.2.3 signal.resample to ceil(n*12000/sr_native), computed in float64, cast to float32",
        "tile": "np.tile(src, ceil(348000/n))[:348000] if n < 348000 (zero_pad=False)",
        "stft": "frame t = xpad[256t : 256t+512] with 256 zeros each side; re = frame @ param_0[::-1,0,0,:], "
        "im = frame @ param_1[::-1,0,0,:] (kernel time-flipped: Theano true convolution); power = re^2+im^2; 1360 frames",
        "mel": "power [T,257] @ param_2 [257,96], transposed to [96, T]",
        "decibel": "10*log10(max(mel,1e-10)) - max over the whole batch, then max(.,-80)",
        "conv": "3x3, pad 1, kernel flipped in both spatial axes (true convolution), + bias; W [out,in,3,3]",
        "bn": "mode 2: batch mean / biased var over (batch, rows, cols) per channel, eps 1e-3, "
        "(x-mean)*gamma/sqrt(var+eps)+beta; running_mean/std in the file (0/1) are unused",
        "elu": "alpha 1.0",
        "pool": "max, 'valid' (floor): " + ", ".join("%dx%d" % p for p in POOLS) + " (rows = mel, cols = time)",
        "block_shapes": "[1,96,1360] -> [32,48,340] -> [32,16,85] -> [32,8,17] -> [32,4,4] -> [32,1,1]",
        "representation": "concat over blocks 0..4 of mean over (rows, cols) of the pooled block output: 5x32=160",
        "dtype": "oracle float64 throughout (weights float32 in the file); reference ran float32",
    }
    manifest["reference_stack_setup"] = (
        "optional --py2 check: Python 2.7.18 (pyenv) with numpy 1.16.6, scipy 1.2.3, theano 0.9.0, keras 1.2.2, "
        "librosa 0.4.0, audioread 2.1.9, h5py 2.10.0, pandas 0.19.2, kapre@a3bde3e; runs jukemir "
        "representations/choi/main.py (only /input, /output patched) and transfer_learning_music@e1f83c3 "
        "models_transfer.py with THEANO_FLAGS=floatX=float32,device=cpu,openmp=False and keras.json "
        "image_dim_ordering=th; files under reference_stack/ are its float32 outputs"
    )
    manifest["weights"] = weight_table()
    manifest["files"] = {}

    if not args.no_write:
        (OUT / "order.json").write_text(json.dumps(order, indent=2) + "\n")
        for s in b1:
            save("%s.representation.npy" % s, rep1[s])
        for s in b2:
            save("%s.batch2.representation.npy" % s, rep2[s])
        save("batch_input_head.npy", X1[:, :HEAD].astype(np.float32))
        save("%s.logmel.npy" % DEBUG_STEM, out1["logmel"][di, 0].astype(np.float32))
        for k in range(1, 5):
            save("%s.pooled_block%d.npy" % (DEBUG_STEM, k), out1["pooled"][k][di].astype(np.float32))
        save("bn_batch_stats.npy", np.array([[m, v] for m, v in out1["bn_stats"]], np.float64))
        if py2 is not None:
            (OUT / "reference_stack").mkdir(exist_ok=True)
            for s in b1:
                np.save(OUT / "reference_stack" / ("%s.representation.npy" % s), py2["batch1"]["representation"][s])
            for s in b2:
                np.save(OUT / "reference_stack" / ("%s.batch2.representation.npy" % s), py2["batch2"]["representation"][s])
        for p in sorted(OUT.rglob("*")):
            if p.is_file() and "hdf5" not in p.relative_to(OUT).parts and p.name != "manifest.json":
                a = np.load(p) if p.suffix == ".npy" else None
                manifest["files"][str(p.relative_to(OUT))] = {
                    "bytes": p.stat().st_size,
                    **({"shape": list(a.shape), "dtype": str(a.dtype)} if a is not None else {}),
                }
        (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(checks, indent=2))
    print("batch1 rows", b1, "global max dB", out1["global_max_db"])
    for s in b1:
        print(s, "range", rep1[s].min(), rep1[s].max())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
