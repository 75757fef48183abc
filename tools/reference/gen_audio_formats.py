"""Tiny audio files in every format jukemir-audio decodes, with what libsndfile decodes them to.

Run from the repository root with the pinned environment (tools/reference/requirements.txt):
    python tools/reference/gen_audio_formats.py
Writes fixtures/audio/<name>.<ext> (0.1 s each; 0.2 s for the lossy codecs, whose first frames
are mostly encoder delay), fixtures/audio/<name>.npy (soundfile.read(...,
dtype='float32', always_2d=True): frames x channels, i.e. interleaved), <name>.mono.npy for
some multichannel files (librosa 0.8.1's to_mono: np.mean over a Fortran-ordered float32 array) and
fixtures/audio/formats.json. soundfile 0.14 bundles libsndfile 1.2.2 (libvorbis, libFLAC, mpg123,
LAME), the decoder behind librosa.load in the reference environment.
"""
import json
import pathlib

import numpy as np
import soundfile as sf

OUT = pathlib.Path("fixtures/audio")
PCM_SECONDS = 0.1
LOSSY_SECONDS = 0.2

# name, extension, soundfile format, subtype, endian, sample rate, channels, lossy
CASES = [
    ("wav_pcm_u8", "wav", "WAV", "PCM_U8", "FILE", 8000, 1, False),
    ("wav_pcm_16", "wav", "WAV", "PCM_16", "FILE", 8000, 1, False),
    ("wav_pcm_16_stereo", "wav", "WAV", "PCM_16", "FILE", 8000, 2, False),
    ("wav_pcm_16_3ch", "wav", "WAV", "PCM_16", "FILE", 8000, 3, False),
    ("wav_pcm_24", "wav", "WAV", "PCM_24", "FILE", 8000, 1, False),
    ("wav_pcm_32", "wav", "WAV", "PCM_32", "FILE", 8000, 1, False),
    ("wav_float", "wav", "WAV", "FLOAT", "FILE", 8000, 1, False),
    ("wav_double_stereo", "wav", "WAV", "DOUBLE", "FILE", 8000, 2, False),
    ("wavex_pcm_16_stereo", "wav", "WAVEX", "PCM_16", "FILE", 8000, 2, False),
    ("wavex_pcm_24", "wav", "WAVEX", "PCM_24", "FILE", 8000, 1, False),
    ("flac_16_stereo", "flac", "FLAC", "PCM_16", "FILE", 8000, 2, False),
    ("flac_24", "flac", "FLAC", "PCM_24", "FILE", 8000, 1, False),
    ("ogg_vorbis_stereo", "ogg", "OGG", "VORBIS", "FILE", 22050, 2, True),
    ("mp3_mono", "mp3", "MP3", "MPEG_LAYER_III", "FILE", 22050, 1, True),
    # GTZAN's layout: 16-bit big-endian PCM, 22050 Hz, mono.
    ("au_pcm_16", "au", "AU", "PCM_16", "FILE", 22050, 1, False),
    ("au_pcm_16_stereo", "au", "AU", "PCM_16", "FILE", 8000, 2, False),
    ("au_pcm_16_le", "au", "AU", "PCM_16", "LITTLE", 8000, 1, False),
    ("au_pcm_s8", "au", "AU", "PCM_S8", "FILE", 8000, 1, False),
    ("au_pcm_24", "au", "AU", "PCM_24", "FILE", 8000, 1, False),
    ("au_pcm_32", "au", "AU", "PCM_32", "FILE", 8000, 1, False),
    ("au_float", "au", "AU", "FLOAT", "FILE", 8000, 1, False),
    ("au_double", "au", "AU", "DOUBLE", "FILE", 8000, 1, False),
    ("au_ulaw", "au", "AU", "ULAW", "FILE", 8000, 1, False),
    ("au_alaw", "au", "AU", "ALAW", "FILE", 8000, 1, False),
]

# Files whose librosa-style mono downmix is also stored (2 channels: (a+b)/2; 3: numpy's order).
MONO_EXPECTED = {"wav_pcm_16_stereo", "wav_pcm_16_3ch", "ogg_vorbis_stereo"}


def signal(sr, channels, seconds):
    """A chord with a different tone per channel, light noise, and both full-scale extremes."""
    rng = np.random.default_rng(sr * 10 + channels)
    t = np.arange(int(seconds * sr)) / sr
    cols = []
    for c in range(channels):
        f = 220.0 * (c + 1)
        x = 0.5 * np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 3.3 * f * t + c)
        x += 0.01 * rng.standard_normal(len(t))
        x[100] = -1.0
        x[101] = 0.999
        cols.append(x)
    return np.stack(cols, axis=1)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, ext, fmt, subtype, endian, sr, channels, lossy in CASES:
        path = OUT / f"{name}.{ext}"
        sf.write(path, signal(sr, channels, LOSSY_SECONDS if lossy else PCM_SECONDS), sr, format=fmt, subtype=subtype, endian=endian)
        y, sr_read = sf.read(path, dtype="float32", always_2d=True)
        assert sr_read == sr and y.shape[1] == channels, (name, y.shape)
        np.save(OUT / f"{name}.npy", y)
        if channels > 1 and name in MONO_EXPECTED:
            mono = np.mean(np.asfortranarray(y.T), axis=0)
            assert mono.dtype == np.float32
            np.save(OUT / f"{name}.mono.npy", mono)
        info = sf.info(path)
        manifest.append(
            {
                "name": name,
                "file": path.name,
                "format": info.format,
                "subtype": info.subtype,
                "sample_rate": sr,
                "channels": channels,
                "frames": int(y.shape[0]),
                "lossy": lossy,
            }
        )
    meta = {
        "generated_by": "tools/reference/gen_audio_formats.py",
        "versions": {"soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__, "numpy": np.__version__},
        "cases": manifest,
    }
    with open(OUT / "formats.json", "w") as f:
        json.dump(meta, f, indent=2)


if __name__ == "__main__":
    main()
