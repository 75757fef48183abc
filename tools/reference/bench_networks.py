"""Times a reference network representation on the given files, for `jukemir bench network`.

    python bench_networks.py musicnn --threads 2 --model MSD_musicnn FILE...    # musicnn 0.1.0 + TensorFlow
    python bench_networks.py clmr --threads 2 --checkpoint CKPT FILE...          # SampleCNN in PyTorch
    python bench_networks.py make-clmr-checkpoint --out CKPT                      # random full-size encoder

musicnn runs the `musicnn` package's own extractor (tensorflow-cpu 2.15.1, librosa 0.7.0: see
requirements-musicnn.txt) and takes the representation as p-lambda/jukemir's container does. clmr
runs the container's code path (librosa 0.8.1 load at 22050 Hz, 59409-sample frames, last piece
dropped, mean over frames) on a SampleCNN restated here with CLMR's layer layout and state-dict
names, so no CLMR checkout is needed for timing (its equality with CLMR's module is what
gen_clmr_fixtures.py and the Rust parity tests establish). Prints one JSON object with the wall time
of all files (model loading included) and this process's peak RSS.
"""
import argparse
import json
import os
import resource
import sys
import time


def limit_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(n)


def sample_cnn(torch, widths):
    nn = torch.nn
    layers = [nn.Sequential(nn.Conv1d(1, widths[0][1], 3, stride=3), nn.BatchNorm1d(widths[0][1]), nn.ReLU())]
    for i, (cin, cout) in enumerate(widths[1:], start=1):
        block = [nn.Conv1d(cin, cout, 3, stride=1, padding=1), nn.BatchNorm1d(cout), nn.ReLU()]
        if i < len(widths) - 1:
            block.append(nn.MaxPool1d(3, stride=3))
        layers.append(nn.Sequential(*block))
    model = nn.Module()
    model.sequential = nn.Sequential(*layers)
    return model


FULL_WIDTHS = [(1, 128), (128, 128), (128, 128), (128, 256)] + [(256, 256)] * 5 + [(256, 512), (512, 512)]


def run_clmr(args):
    import librosa
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    state = torch.load(args.checkpoint, map_location="cpu")
    state = state.get("state_dict", state)
    marker = "model.encoder." if any("model.encoder." in k for k in state) else "encoder."
    encoder = {k.replace(marker, ""): v for k, v in state.items() if marker in k}
    widths = [tuple(encoder[f"sequential.{i}.0.weight"].shape[1::-1]) for i in range(11)]
    model = sample_cnn(torch, widths)
    model.load_state_dict(encoder)
    model.eval()
    with torch.no_grad():
        for path in args.files:
            audio, _ = librosa.core.load(path, sr=22050)
            audio = torch.tensor(audio[np.newaxis], dtype=torch.float32)
            frames = torch.split(audio, 59409, dim=1)
            if len(frames) <= 1:
                raise Exception("Audio too short")
            x = torch.cat(frames[:-1], dim=0).unsqueeze(1)
            model.sequential(x).reshape(x.shape[0], -1).mean(dim=0).numpy()
    return time.perf_counter() - start, {"torch": torch.__version__, "librosa": librosa.__version__}


def run_musicnn(args):
    import numba
    if not hasattr(numba, "decorators"):  # librosa 0.7.0 imports numba.decorators.jit
        import types
        numba.decorators = types.SimpleNamespace(jit=numba.jit)
        sys.modules["numba.decorators"] = numba.decorators
    import librosa
    import numpy as np
    import tensorflow as tf
    from musicnn.extractor import extractor
    start = time.perf_counter()
    for path in args.files:
        _, _, features = extractor(path, model=args.model, extract_features=True)
        np.concatenate([features[k].mean(axis=0) for k in ("mean_pool", "max_pool")])
    return time.perf_counter() - start, {"tensorflow": tf.__version__, "librosa": librosa.__version__}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["musicnn", "clmr", "make-clmr-checkpoint"])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default="MSD_musicnn")
    parser.add_argument("--checkpoint")
    parser.add_argument("--out")
    args = parser.parse_intermixed_args()
    limit_threads(args.threads)
    if args.what == "make-clmr-checkpoint":
        import torch
        torch.manual_seed(0)
        model = sample_cnn(torch, FULL_WIDTHS)
        torch.save({f"encoder.{k}": v for k, v in model.state_dict().items()}, args.out)
        return
    seconds, versions = (run_musicnn if args.what == "musicnn" else run_clmr)(args)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "files": len(args.files), "peak_rss_mib": peak_kib / 1024,
                      "threads": args.threads, "versions": versions}))


if __name__ == "__main__":
    main()
