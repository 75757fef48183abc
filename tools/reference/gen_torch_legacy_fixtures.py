"""Fixtures for the legacy (pre-1.6, non-zip) torch.save reader (crates/models/src/torch_legacy.rs).

Run from the repository root with the pinned environment (tools/reference/requirements-torch.txt):
    /work/pyref/bin/python tools/reference/gen_torch_legacy_fixtures.py

Pinned: Python 3.11.7, torch==2.1.2 (+cu121 wheel, CPU only), numpy==1.23.5.

torch 2.1.2 still writes the legacy format with torch.save(obj, f, _use_new_zipfile_serialization=False)
(torch/serialization.py `_legacy_save`): pickles of the magic number 0x1950a86a20f9469cfc6c, of the
protocol version 1001 and of a sys_info dict; the object pickle (protocol 2) whose storages are
persistent ids ('storage', torch.<T>Storage, key, location, numel, view_metadata); a pickle of the
storage keys; then per key an int64 element count and the raw storage bytes. This is byte-for-byte
the layout torch 1.4 (the version OpenAI's Jukebox checkpoints were written with) produces: its
`_legacy_save` emits the same tuples (view_metadata is None there too, "kept for backwards
compatibility") and the same `_write_file` records. Storage keys are memory addresses
(str(storage._cdata)), so the files differ byte-wise between runs; their content does not.

Writes fixtures/torch_legacy/:
  openai_style.pth.tar   {'hps': {...}, 'model': OrderedDict (with _metadata), 'opt': {...}, 'step': 7}
                         like Jukebox's utils/checkpoint.py save_checkpoint: f32, f16, bf16, f64
                         and int64 tensors, 'module.' prefixes on some keys, a transposed (non-
                         contiguous) f32 and f16 tensor, two tensors sharing one storage at different
                         offsets, 0-d tensors, an empty tensor, an expanded (stride 0) tensor, an
                         nn.Parameter (_rebuild_parameter), a non-tensor entry, and optimizer
                         state whose storages are not in the model.
  plain_state_dict.pt    nn.Sequential(Conv1d, BatchNorm1d, ReLU, Linear).state_dict() under
                         torch.manual_seed(0), saved directly (top-level OrderedDict).
  storage_views.pt       a hand-written file in the style of torch <= 0.3 under Python 2: strings
                         as SHORT_BINSTRING, the 4-argument torch._utils._rebuild_tensor, storage
                         views (view_metadata = (view_key, offset, size)) and a storage-key list
                         in another order than first use. torch 2.1.2's torch.load reads it; the
                         values below come from that load.
  expected.json          per file: top-level keys and, per state-dict tensor (names with a leading
                         'module.' removed, as Jukebox's restore_model does), dtype, shape, strides,
                         storage offset (in elements of the root storage), flattened values.
"""
import collections
import io
import json
import pathlib
import pickle
import struct
import sys

import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "torch_legacy"
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def save_legacy(obj, path):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    path.write_bytes(buf.getvalue())


def openai_style():
    g = torch.Generator().manual_seed(1234)

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g).to(dtype)

    shared = randn(20)
    half_base = randn(4, 6, dtype=torch.float16)
    model = collections.OrderedDict()
    model["module.encoder.weight"] = randn(4, 3, 5)
    model["module.encoder.bias"] = randn(4)
    model["decoder.weight_t"] = randn(3, 6).t()  # (6, 3), strides (1, 6)
    model["module.half.weight"] = randn(5, 7, dtype=torch.float16)
    model["half_t"] = half_base[:, 1:5].t()  # (4, 4), strides (1, 6), offset 1
    model["shared.a"] = shared[:8].view(2, 4)
    model["shared.b"] = shared[8:].view(3, 4)  # same storage, offset 8
    model["module.scalar"] = torch.tensor(3.5)
    model["module.counts"] = torch.tensor([[2**40 + 1, -3, 0], [7, -(2**35), 123456789]], dtype=torch.int64)
    model["bn.num_batches_tracked"] = torch.tensor(42, dtype=torch.int64)
    model["double"] = randn(3, dtype=torch.float64)
    model["brain"] = randn(2, 3, dtype=torch.bfloat16)
    model["empty"] = torch.zeros(0, 4)
    model["expanded"] = randn(3, 1).expand(3, 4)  # strides (1, 0)
    model["module.param"] = torch.nn.Parameter(randn(2, 2))
    model["module.extra_int"] = 5  # not a tensor: skipped by the reader
    model._metadata = collections.OrderedDict([("", {"version": 1}), ("encoder", {"version": 2})])
    hps = {
        "name": "vqvae", "sr": 44100, "levels": 3, "l_bins": 2048, "strides_t": (2, 2, 2),
        "lr": 0.0003, "restore_vqvae": "https://example.invalid/vqvae.pth.tar", "fp16": True,
        "prior": None, "nested": {"a": [1, 2.5, "x"], "b": (b"bytes", 2**70)},
    }
    opt = {
        "state": {0: {"step": 3, "exp_avg": randn(4), "exp_avg_sq": randn(4, dtype=torch.float16)}},
        "param_groups": [{"lr": 0.0003, "betas": (0.9, 0.925), "params": [0, 1]}],
    }
    return {"hps": hps, "model": model, "opt": opt, "step": 7}


def plain_state_dict():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv1d(2, 3, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
        net[1].num_batches_tracked.fill_(11)
    return net.state_dict()


class _StorageRef:
    """Stands for a storage: pickled as the persistent id `pid`."""

    def __init__(self, pid):
        self.pid = pid


class _Rebuild:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _Py2Pickler(pickle._Pickler):
    """Protocol 2 the way Python 2 writes it: str as SHORT_BINSTRING / BINSTRING."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        b = obj.encode("utf-8")
        if len(b) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(b)]) + b)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(b)) + b)
        self.memoize(obj)

    dispatch[str] = _save_py2_str

    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _StorageRef) else None


def storage_views_bytes():
    root = torch.arange(12, dtype=torch.float32) * 0.5 - 1.0
    longs = torch.tensor([5, -6, 2**33], dtype=torch.int64)

    def view(key, offset, size):
        return _StorageRef(("storage", torch.FloatStorage, "root", "cpu", 12, (key, offset, size)))

    root_ref = _StorageRef(("storage", torch.FloatStorage, "root", "cpu", 12, None))
    long_ref = _StorageRef(("storage", torch.LongStorage, "longs", "cpu", 3, None))
    old = torch._utils._rebuild_tensor
    v2 = torch._utils._rebuild_tensor_v2
    obj = {
        # view of root[2:8]; tensor at view offset 1: root[3, 4, 5, 6]
        "a": _Rebuild(old, (view("view_a", 2, 6), 1, (2, 2), (2, 1))),
        # view of root[8:12]
        "b": _Rebuild(old, (view("view_b", 8, 4), 0, (4,), (1,))),
        # same view again (memoised by key in torch): root[9, 11]
        "b2": _Rebuild(old, (view("view_b", 8, 4), 1, (2,), (2,))),
        # root itself, strided: root[0, 4, 8]
        "c": _Rebuild(v2, (root_ref, 0, (3,), (4,), False, collections.OrderedDict())),
        "d": _Rebuild(old, (long_ref, 0, (3,), (1,))),
    }
    buf = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION,
                   {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                    "type_sizes": {"short": 2, "int": 4, "long": 8}}):
        _Py2Pickler(buf, protocol=2).dump(header)
    _Py2Pickler(buf, protocol=2).dump(obj)
    _Py2Pickler(buf, protocol=2).dump(["longs", "root"])  # not the order of first use
    for t in (longs, root):
        buf.write(struct.pack("<q", t.numel()))
        buf.write(t.numpy().tobytes())
    # root-relative storage offsets, for expected.json
    offsets = {"a": 3, "b": 8, "b2": 9, "c": 0, "d": 0}
    return buf.getvalue(), offsets


def describe(top, root_offsets=None):
    if isinstance(top, dict) and isinstance(top.get("model"), dict):
        sd = top["model"]
    elif isinstance(top, dict) and isinstance(top.get("state_dict"), dict):
        sd = top["state_dict"]
    else:
        sd = top
    tensors = []
    for name, t in sd.items():
        if not isinstance(t, torch.Tensor):
            continue
        name = name[7:] if name.startswith("module.") else name
        flat = t.detach().reshape(-1)
        values = [int(v) for v in flat.tolist()] if t.dtype == torch.int64 else \
            [float(v) for v in flat.to(torch.float64).tolist()]
        tensors.append({
            "name": name,
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "strides": list(t.stride()),
            "storage_offset": root_offsets[name] if root_offsets else t.storage_offset(),
            "values": values,
        })
    return {"top_level_keys": [str(k) for k in top.keys()], "tensors": tensors}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {"generator": {"python": sys.version.split()[0], "torch": torch.__version__}}

    a = openai_style()
    save_legacy(a, OUT / "openai_style.pth.tar")
    b = plain_state_dict()
    save_legacy(b, OUT / "plain_state_dict.pt")
    c_bytes, c_offsets = storage_views_bytes()
    (OUT / "storage_views.pt").write_bytes(c_bytes)

    for name, root_offsets in (("openai_style.pth.tar", None), ("plain_state_dict.pt", None),
                               ("storage_views.pt", c_offsets)):
        path = OUT / name
        head = path.read_bytes()[:4]
        assert head[:1] == b"\x80" and head[:2] != b"PK", name  # legacy, not zip
        loaded = torch.load(path, map_location="cpu")
        expected[name] = describe(loaded, root_offsets)
        expected[name]["bytes"] = path.stat().st_size

    # The load gives back what was saved.
    loaded = torch.load(OUT / "openai_style.pth.tar")
    assert loaded["step"] == 7 and loaded["hps"] == a["hps"]
    for k, v in a["model"].items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(loaded["model"][k], v), k
    loaded_a, loaded_b = loaded["model"]["shared.a"], loaded["model"]["shared.b"]
    assert loaded_a.untyped_storage().data_ptr() == loaded_b.untyped_storage().data_ptr()
    views = torch.load(OUT / "storage_views.pt")
    root = torch.arange(12, dtype=torch.float32) * 0.5 - 1.0
    assert torch.equal(views["a"].reshape(-1), root[3:7])
    assert torch.equal(views["b"], root[8:12]) and torch.equal(views["b2"], root[[9, 11]])
    assert torch.equal(views["c"], root[[0, 4, 8]])

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({total} bytes)")
    assert total < 200_000


if __name__ == "__main__":
    main()
