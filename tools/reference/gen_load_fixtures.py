"""librosa.load outputs on real clips from ../shared/data/music, for the audio parity tests.

Run from the repository root with the pinned environment (tools/reference/requirements.txt):
    python tools/reference/gen_load_fixtures.py
Writes fixtures/load/<case>.npy (librosa.load(path, sr=22050, offset, duration), float32),
fixtures/load/<case>.native.npy (the same span, mono at the native rate, for resampler-only
tests) and fixtures/load/cases.json. These signals also feed the feature fixtures.
"""
import json
import pathlib

import librosa
import numpy as np

SHARED = pathlib.Path("../shared/data/music")
OUT = pathlib.Path("fixtures/load")
SR = 22050

CASES = [
    # name, path under ../shared/data/music, offset (s), duration (s or None), keep native mono
    ("sad_o3_d6", "wesnoth/sad.ogg", 3.0, 6.0, True),  # Vorbis 44.1 kHz stereo, seek, downsample
    ("joram_d6", "musicnn/joram-moments_of_clarity-08-solipsism-59-88.mp3", 0.0, 6.0, True),  # MP3 16 kHz mono, upsample
    ("trwjazw_o5_d6", "musicnn/TRWJAZW128F42760DD_test.mp3", 5.0, 6.0, False),  # MP3 22.05 kHz stereo, seek
    ("defeat_full", "wesnoth/defeat.ogg", 0.0, None, False),  # a whole 8.5 s track
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, rel, offset, duration, keep_native in CASES:
        path = SHARED / rel
        y, sr = librosa.load(path, sr=SR, mono=True, offset=offset, duration=duration)
        assert y.dtype == np.float32 and sr == SR
        np.save(OUT / f"{name}.npy", y)
        entry = {"name": name, "path": rel, "offset": offset, "duration": duration, "sr": SR, "len": len(y)}
        if keep_native:
            native, sr_native = librosa.load(path, sr=None, mono=True, offset=offset, duration=duration)
            np.save(OUT / f"{name}.native.npy", native)
            entry["sr_native"] = sr_native
        manifest.append(entry)
    versions = {"librosa": librosa.__version__, "numpy": np.__version__}
    with open(OUT / "cases.json", "w") as f:
        json.dump({"generated_by": "tools/reference/gen_load_fixtures.py", "versions": versions, "cases": manifest}, f, indent=2)


if __name__ == "__main__":
    main()
