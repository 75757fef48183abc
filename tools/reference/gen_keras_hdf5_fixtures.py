"""Fixtures for the Keras HDF5 weight reader (crates/models/src/keras_hdf5.rs).

Pinned: h5py==3.16.0 (bundling HDF5 2.0.0), numpy==1.23.5, Python 3.11, run from /work/pyref:
    /work/pyref/bin/python -m pip install h5py==3.16.0
    /work/pyref/bin/python tools/reference/gen_keras_hdf5_fixtures.py

Writes under fixtures/choi/hdf5/:
- choi_weights.json: for each of the five real choi files (../shared/weights/choi, Keras 1.2.2,
  Theano backend), the layer names and, per weight, its shape, float64 sum and first 8 values; one
  full small tensor; and whether the files hold identical values for the layers they share.
- synthetic_keras2.h5 (+ .json with every expected value): a small Keras-2-like file exercising
  what the real files do not: a 512-byte user block, deep group B-trees (symbol-table K = 1),
  nested weight paths (`dense_1/kernel:0`), float64 / big-endian float32 / float16 datasets, a
  compact dataset, a scalar dataset, an empty (never allocated) dataset, variable-length string
  attributes (h5py 3 writes `str` that way), scalar `keras_version`/`backend`, and
  `weight_names` split into `weight_names0`, `weight_names1` as Keras 2 does above 64 KiB.
- synthetic_model_save.h5 (+ .json): the `model.save` layout, weights under /model_weights.
- unsupported_*.h5 (+ unsupported.json): files the reader must refuse with a clear error.
"""

import ctypes
import glob
import json
import os
import sys

import h5py
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHOI = os.path.join(ROOT, "..", "shared", "weights", "choi")
OUT = os.path.join(ROOT, "fixtures", "choi", "hdf5")


def f32_list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def real_files():
    files = {}
    tensors = {}
    for i in range(5):
        name = f"weights_layer{i}_theano.hdf5"
        path = os.path.join(CHOI, name)
        with h5py.File(path, "r") as f:
            layers = []
            for layer in f.attrs["layer_names"]:
                layer = layer.decode()
                weights = []
                for w in f[layer].attrs["weight_names"]:
                    w = w.decode()
                    x = f[layer][w][()]
                    assert x.dtype == np.float32, (name, layer, w, x.dtype)
                    tensors[(i, layer, w)] = x
                    weights.append({
                        "name": w,
                        "shape": list(x.shape),
                        "sum": float(np.sum(x.astype(np.float64))),
                        "first": f32_list(x.ravel()[:8]),
                    })
                layers.append({"name": layer, "weights": weights})
            files[name] = {"size": os.path.getsize(path), "layers": layers}
    # Do the files agree on the layers they share?
    differing = []
    for (i, layer, w), x in tensors.items():
        for j in range(5):
            y = tensors.get((j, layer, w))
            if y is not None and j > i and not np.array_equal(x, y):
                differing.append(f"{layer}/{w}: layer{i} vs layer{j}")
    full = tensors[(4, "ConvBNEluDr", "batchnormalization_1_beta")]
    return {
        "generator": "tools/reference/gen_keras_hdf5_fixtures.py (h5py 3.16.0, HDF5 2.0.0)",
        "files": files,
        "full_tensor": {
            "file": "weights_layer4_theano.hdf5",
            "layer": "ConvBNEluDr",
            "weight": "batchnormalization_1_beta",
            "values": f32_list(full),
        },
        "shared_values_identical": not differing,
        "differing": differing,
    }


def create_file(path, sym_k=None, userblock=0):
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    if userblock:
        fcpl.set_userblock(userblock)
    if sym_k:
        # h5py does not wrap H5Pset_sym_k: call the HDF5 library h5py bundles (already loaded).
        libs = os.path.join(os.path.dirname(h5py.__file__), os.pardir, "h5py.libs")
        lib = ctypes.CDLL(glob.glob(os.path.join(libs, "libhdf5-*.so*"))[0])
        lib.H5Pset_sym_k.argtypes = [ctypes.c_int64, ctypes.c_uint, ctypes.c_uint]
        assert lib.H5Pset_sym_k(fcpl.id, *sym_k) >= 0
    # h5py.File's default bounds (HDF5 2.0's own default low bound is 1.8: OHDR headers, superblock 2).
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_EARLIEST, h5py.h5f.LIBVER_LATEST)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    return h5py.File(fid)


def synthetic():
    path = os.path.join(OUT, "synthetic_keras2.h5")
    expected = {"keras_version": "2.2.4", "backend": "tensorflow", "layers": []}
    f = create_file(path, sym_k=(1, 1), userblock=512)
    f.attrs["keras_version"] = np.bytes_(b"2.2.4")  # scalar fixed-length string
    f.attrs["backend"] = "tensorflow"  # scalar variable-length UTF-8 string
    layer_names = [b"dense_1", b"bn", b"flatten", b"many", b"zero"]
    f.attrs["layer_names"] = np.array(layer_names, dtype="S")

    def record(layer, weights):
        expected["layers"].append({
            "name": layer,
            "weights": [{"name": n, "shape": list(np.shape(x)), "values": f32_list(x)} for n, x in weights],
        })

    g = f.create_group("dense_1")
    g.attrs["weight_names"] = np.array([b"dense_1/kernel:0", b"dense_1/bias:0"], dtype="S")
    kernel = np.array([[0.1, -2.5], [1e-3, 3.0e38], [-7.25, 1.0 / 3.0]], dtype=np.float64)
    bias = np.array([1.5, -0.2], dtype=">f4")
    g.create_dataset("dense_1/kernel:0", data=kernel)
    g.create_dataset("dense_1/bias:0", data=bias)
    record("dense_1", [("dense_1/kernel:0", kernel), ("dense_1/bias:0", bias)])

    g = f.create_group("bn")
    g.attrs["weight_names"] = ["gamma", "beta", "mean"]  # variable-length strings
    gamma = np.array([1.0, -0.0, 2.0 ** -24, 65504.0, -1.5, 0.333], dtype=np.float16)
    g.create_dataset("gamma", data=gamma)
    beta = np.array([0.5, -0.25, 4.0, 8.0], dtype=np.float32)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    dsid = h5py.h5d.create(g.id, b"beta", h5py.h5t.IEEE_F32LE, h5py.h5s.create_simple((4,)), dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, beta)
    mean = np.float32(-3.75)
    g.create_dataset("mean", data=mean)
    record("bn", [("gamma", gamma), ("beta", beta), ("mean", mean)])

    g = f.create_group("flatten")
    g.attrs["weight_names"] = np.array([])  # what Keras 1 writes for weightless layers: float64, shape (0,)
    record("flatten", [])

    g = f.create_group("many")
    names = [f"w{i:02d}".encode() for i in range(12)]
    g.attrs["weight_names0"] = np.array(names[:7], dtype="S")
    g.attrs["weight_names1"] = np.array(names[7:], dtype="S")
    many = []
    for i, n in enumerate(names):
        x = np.full((1, 2), i + 0.5, dtype=np.float32)
        g.create_dataset(n.decode(), data=x)
        many.append((n.decode(), x))
    record("many", many)

    g = f.create_group("zero")
    g.attrs["weight_names"] = np.array([b"z"], dtype="S")
    g.create_dataset("z", shape=(0, 3), dtype=np.float32)
    record("zero", [("z", np.zeros((0, 3), dtype=np.float32))])
    f.close()
    with open(os.path.join(OUT, "synthetic_keras2.json"), "w") as fh:
        json.dump(expected, fh, indent=1)
        fh.write("\n")


def model_save():
    """The layout of Keras 2's `model.save`: weights under /model_weights, config at the root."""
    path = os.path.join(OUT, "synthetic_model_save.h5")
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2) / 8
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.3.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = b'{"class_name": "Sequential"}'
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([b"dense"], dtype="S")
        g.attrs["keras_version"] = b"2.3.1"
        d = g.create_group("dense")
        d.attrs["weight_names"] = np.array([b"dense/kernel:0"], dtype="S")
        d.create_dataset("dense/kernel:0", data=kernel)
        f.create_group("optimizer_weights")
    return {"file": "synthetic_model_save.h5", "layer": "dense", "weight": "dense/kernel:0",
            "shape": list(kernel.shape), "values": f32_list(kernel)}


def unsupported():
    cases = {}

    def minimal(path, make_weight, **kw):
        with h5py.File(path, "w", **kw) as f:
            f.attrs["layer_names"] = np.array([b"dense"], dtype="S")
            g = f.create_group("dense")
            g.attrs["weight_names"] = np.array([b"w"], dtype="S")
            make_weight(g)

    def plain(g):
        g.create_dataset("w", data=np.arange(6, dtype=np.float32).reshape(2, 3))

    minimal(os.path.join(OUT, "unsupported_chunked.h5"),
            lambda g: g.create_dataset("w", data=np.arange(64, dtype=np.float32), chunks=(16,), compression="gzip"))
    cases["unsupported_chunked.h5"] = "chunked"
    minimal(os.path.join(OUT, "unsupported_latest.h5"), plain, libver="latest")
    cases["unsupported_latest.h5"] = "superblock version"
    minimal(os.path.join(OUT, "unsupported_int.h5"), lambda g: g.create_dataset("w", data=np.arange(4, dtype=np.int32)))
    cases["unsupported_int.h5"] = "integer"
    minimal(os.path.join(OUT, "unsupported_track_order.h5"), plain, track_order=True)
    cases["unsupported_track_order.h5"] = "version 2 object header"
    with open(os.path.join(OUT, "unsupported.json"), "w") as fh:
        json.dump(cases, fh, indent=1)
        fh.write("\n")


def main():
    print("h5py", h5py.__version__, "HDF5", h5py.version.hdf5_version, "numpy", np.__version__, file=sys.stderr)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "choi_weights.json"), "w") as fh:
        json.dump(real_files(), fh, indent=1)
        fh.write("\n")
    synthetic()
    with open(os.path.join(OUT, "synthetic_model_save.json"), "w") as fh:
        json.dump(model_save(), fh, indent=1)
        fh.write("\n")
    unsupported()


if __name__ == "__main__":
    main()
