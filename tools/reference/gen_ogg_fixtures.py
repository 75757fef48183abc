"""What libsndfile decodes the Wesnoth Ogg Vorbis tracks in ../shared/data/music/wesnoth to.

Run from the repository root with the pinned environment (tools/reference/requirements.txt;
soundfile==0.14.0, which bundles libsndfile 1.2.2 with libvorbis, the decoder behind librosa.load):
    python tools/reference/gen_ogg_fixtures.py
Writes fixtures/audio/sad_0.8s_1.1s.npy (sad.ogg frames int(0.8 * 44100) to int(1.1 * 44100),
mono as librosa 0.8.1's to_mono makes it, float32): the span where symphonia 0.6.1 decoded the
first audio page 128 frames late. And fixtures/audio/wesnoth_ogg.json: for every track the number of
frames soundfile.read returns (libsndfile stops at the first end-of-stream page) and the count
sf.info reports (last page's granule position).
"""
import json
import pathlib

import numpy as np
import soundfile as sf

SHARED = pathlib.Path("../shared/data/music")
OUT = pathlib.Path("fixtures/audio")
SPAN = ("wesnoth/sad.ogg", 0.8, 1.1, "sad_0.8s_1.1s.npy")


def to_mono(y):
    """librosa 0.8.1's to_mono on soundfile's (frames, channels) float32 array."""
    return np.mean(np.asfortranarray(y.T), axis=0)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    files = []
    for path in sorted((SHARED / "wesnoth").glob("*.ogg")):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        info = sf.info(path)
        files.append(
            {
                "path": str(path.relative_to(SHARED)),
                "sample_rate": sr,
                "channels": y.shape[1],
                "frames": int(y.shape[0]),
                "info_frames": int(info.frames),
            }
        )

    rel, t0, t1, npy = SPAN
    y, sr = sf.read(SHARED / rel, dtype="float32", always_2d=True)
    start, stop = int(t0 * sr), int(t1 * sr)
    mono = to_mono(y[start:stop])
    assert mono.dtype == np.float32 and len(mono) == stop - start
    np.save(OUT / npy, mono)
    span = {"path": rel, "npy": npy, "start": start, "frames": stop - start, "total_frames": int(y.shape[0])}

    meta = {
        "generated_by": "tools/reference/gen_ogg_fixtures.py",
        "versions": {"soundfile": sf.__version__, "libsndfile": sf.__libsndfile_version__, "numpy": np.__version__},
        "span": span,
        "files": files,
    }
    with open(OUT / "wesnoth_ogg.json", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
