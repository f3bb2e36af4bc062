"""torch.save/torch.load across libraries: every case is built the same way with jtorch and with
torch, saved by each, and loaded by each; all four loads must describe the same (values, dtypes,
shapes, strides, storage offsets, requires_grad, sharing), and jtorch's file must hold the same
records as torch's, byte for byte, except the random serialization id."""
import collections
import importlib
import io
import zipfile

import numpy as np
import pytest
import torch

import jtorch

from ._check import describe


def _param(L, *args, **kwargs):
    return importlib.import_module(L.__name__ + ".nn.parameter").Parameter(*args, **kwargs)


VALUES = {
    "float16": [[1.5, -2.0, 65504.0], [0.0, -0.0, 6e-8]],
    "bfloat16": [[1.5, -2.0, 3e38], [0.0, -0.0, 1e-39]],
    "float32": [[1.5, -2.0, float("inf")], [float("nan"), -0.0, 1e-40]],
    "float64": [[1.5, -2.0, 1e300], [float("-inf"), -0.0, 5e-324]],
    "complex64": [[1 + 2j, -3.5j], [0j, 1e30 - 1j]],
    "complex128": [[1 + 2j, -3.5j], [0j, 1e300 - 1j]],
    "uint8": [[0, 1, 255], [7, 128, 3]],
    "int8": [[-128, 127, 0], [1, -1, 5]],
    "int16": [[-32768, 32767, 0], [1, -1, 5]],
    "int32": [[-2**31, 2**31 - 1, 0], [1, -1, 5]],
    "int64": [[-2**63, 2**63 - 1, 0], [1, -1, 5]],
    "bool": [[True, False, True], [False, False, True]],
}


def _grid(L):
    return L.arange(24.0).reshape(2, 3, 4)


def _nonleaf(L):
    x = L.ones(3, requires_grad=True)
    return x * 2


def _tensor_with_attr(L):
    t = L.arange(4)
    t.note = "kept"
    t.scale = 2.5
    return t


def _linear_state_dict(L):
    L.manual_seed(0)
    sd = collections.OrderedDict([("0.weight", L.randn(4, 3)), ("0.bias", L.randn(4)),
                                  ("bn.running_mean", L.zeros(4)), ("bn.num_batches_tracked", L.tensor(0))])
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("0", {"version": 1}),
                                            ("bn", {"version": 2})])
    return sd


def _sgd_state_dict(L):
    L.manual_seed(1)
    return {"state": {0: {"momentum_buffer": L.randn(4, 3)}, 1: {"momentum_buffer": None}},
            "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                              "nesterov": False, "maximize": False, "foreach": None,
                              "differentiable": False, "fused": None, "params": [0, 1]}]}


def _adam_state_dict(L):
    L.manual_seed(2)
    state = {i: {"step": L.tensor(3.0), "exp_avg": L.randn(2, 2), "exp_avg_sq": L.rand(2, 2)}
             for i in range(2)}
    return {"state": state,
            "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                              "amsgrad": False, "maximize": False, "foreach": None,
                              "capturable": False, "differentiable": False, "fused": None,
                              "decoupled_weight_decay": False, "params": [0, 1]}]}


def _checkpoint(L):
    """A training checkpoint as tutorials write it: model and optimizer state, epoch, loss."""
    return {"epoch": 5, "loss": 0.125, "model_state_dict": _linear_state_dict(L),
            "optimizer_state_dict": _sgd_state_dict(L), "note": "tutorial", "best": None}


CASES = {
    **{"dtype_" + name: (lambda L, name=name: L.tensor(VALUES[name], dtype=getattr(L, name)))
       for name in VALUES},
    "scalar_0d": lambda L: L.tensor(3.5),
    "scalar_0d_int": lambda L: L.tensor(-7),
    "empty": lambda L: L.zeros(0),
    "empty_2d": lambda L: L.zeros(2, 0, 3, dtype=L.int32),
    "randn": lambda L: (L.manual_seed(0), L.randn(64, 33))[1],
    "transpose_alone": lambda L: L.arange(12.0).reshape(3, 4).t(),
    "slice_step_alone": lambda L: _grid(L)[:, ::2, 1:],
    "select_alone": lambda L: _grid(L)[1, 2],
    "expand_stride0": lambda L: L.arange(3.0).reshape(3, 1).expand(3, 4),
    "diagonal": lambda L: L.arange(16.0).reshape(4, 4).diagonal(),
    "views_with_base": lambda L: (lambda x: [x, x[1], x.transpose(0, 2), x[:, 1:3], x.reshape(24)[::5],
                                             x[0, :, 1]])(_grid(L)),
    "views_before_base": lambda L: (lambda x: [x[:, 1], x, x[1:]])(_grid(L)),
    "views_without_base": lambda L: (lambda x: {"row": x[1], "col": x[:, 2]})(_grid(L)),
    "empty_view": lambda L: (lambda x: [x, x[:, :0]])(_grid(L)),
    "numpy_backed_views": lambda L: (lambda x: [x, x[:, 1], x.t()])(
        L.from_numpy(np.arange(12.0).reshape(3, 4))),
    "complex_and_half_views": lambda L: [(lambda c: [c, c[:, 1]])(L.tensor(VALUES["complex64"],
                                                                          dtype=L.complex64)),
                                         (lambda h: [h[1], h])(L.tensor(VALUES["bfloat16"],
                                                                        dtype=L.bfloat16))],
    "same_tensor_twice": lambda L: (lambda x: [x, {"again": x}])(L.ones(2, 2)),
    "two_roots": lambda L: [L.ones(2), L.zeros(3, dtype=L.int64), L.ones(2)],
    "nested": lambda L: {"a": [1, 2.5, "s", None, True, -(2**70), (L.ones(2), {"k": L.zeros(1)})],
                         "b": collections.OrderedDict([("x", 1), ("y", [L.tensor([1, 2])])]),
                         "c": (), "d": [], "e": {}, "f": b"bytes", "g": {1, 2}, "h": 1 + 2j,
                         "i": float("nan"), 3: "int key", (1, 2): "tuple key"},
    "size_device_dtype": lambda L: {"size": L.Size([2, 3]), "empty_size": L.Size([]),
                                    "cpu": L.device("cpu"), "cuda1": L.device("cuda", 1),
                                    "cuda": L.device("cuda"),
                                    "dtypes": [getattr(L, n) for n in VALUES]},
    "requires_grad_leaf": lambda L: L.ones(2, 3, requires_grad=True),
    "non_leaf": _nonleaf,
    "tensor_attr": _tensor_with_attr,
    "parameter": lambda L: [_param(L, L.ones(2, 3)), _param(L, L.zeros(2), requires_grad=False)],
    "parameter_twice": lambda L: (lambda p: {"a": p, "b": [p]})(_param(L, L.ones(2))),
    "linear_state_dict": _linear_state_dict,
    "sgd_state_dict": _sgd_state_dict,
    "adam_state_dict": _adam_state_dict,
    "checkpoint": _checkpoint,
}


def _save(lib, obj, folder, name="ckpt.pt"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    lib.save(obj, path)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_cross_load(case, tmp_path):
    build = CASES[case]
    j_obj, t_obj = build(jtorch), build(torch)
    assert describe(j_obj) == describe(t_obj), "the case does not build the same thing in both"
    j_file, t_file = _save(jtorch, j_obj, tmp_path / "j"), _save(torch, t_obj, tmp_path / "t")
    expected = describe(torch.load(t_file))
    assert describe(torch.load(j_file)) == expected, "torch reads jtorch's file differently"
    assert describe(jtorch.load(t_file)) == expected, "jtorch reads torch's file differently"
    assert describe(jtorch.load(j_file)) == expected, "jtorch reads its own file differently"


def _random_views(seed):
    """Views of a 4x5x6 tensor by random basic indexing (ints, slices with steps), transposes and
    narrows, saved together with their base or alone."""
    rng = np.random.default_rng(seed)
    index = []
    for size in (4, 5, 6):
        kind = rng.integers(3)
        if kind == 0:
            index.append(int(rng.integers(size)))
        else:
            # non-empty: jtorch's indexing gives empty slices storage offset 0 where torch gives
            # start * stride (a core view-metadata difference, not a serialization one)
            start = int(rng.integers(size))
            index.append(slice(start, int(rng.integers(start + 1, size + 1)), int(rng.integers(1, 4))))
    perm = [int(p) for p in rng.permutation(3)]
    with_base = bool(rng.integers(2))

    def build(L):
        x = L.arange(120.0).reshape(4, 5, 6)
        v = x.permute(*perm)[tuple(index[p] for p in perm)]
        return [x, v] if with_base else [v]
    return build


@pytest.mark.parametrize("seed", range(8))
def test_random_views(seed, tmp_path):
    build = _random_views(seed)
    j_obj, t_obj = build(jtorch), build(torch)
    assert describe(j_obj) == describe(t_obj)
    j_file, t_file = _save(jtorch, j_obj, tmp_path / "j"), _save(torch, t_obj, tmp_path / "t")
    assert _records(j_file) == _records(t_file)
    expected = describe(torch.load(t_file))
    assert describe(torch.load(j_file)) == expected
    assert describe(jtorch.load(t_file)) == expected


LEGACY_CASES = {
    "all_dtypes": lambda L: [CASES["dtype_" + name](L) for name in VALUES] + [L.tensor(2.5), L.zeros(0)],
    **{name: CASES[name] for name in ("views_with_base", "views_before_base", "views_without_base",
                                      "empty_view", "nested", "size_device_dtype", "non_leaf",
                                      "tensor_attr", "parameter", "checkpoint", "adam_state_dict")},
}


@pytest.mark.parametrize("case", sorted(LEGACY_CASES))
def test_legacy_format(case, tmp_path):
    """The format of PyTorch < 1.6 (torch.save(..., _use_new_zipfile_serialization=False)), both
    ways: old checkpoints (model zoos) still come in it."""
    build = LEGACY_CASES[case]
    j_buf, t_buf = io.BytesIO(), io.BytesIO()
    jtorch.save(build(jtorch), j_buf, _use_new_zipfile_serialization=False)
    torch.save(build(torch), t_buf, _use_new_zipfile_serialization=False)
    expected = describe(torch.load(io.BytesIO(t_buf.getvalue())))
    assert describe(jtorch.load(io.BytesIO(t_buf.getvalue()))) == expected
    assert describe(torch.load(io.BytesIO(j_buf.getvalue()))) == expected
    assert describe(jtorch.load(io.BytesIO(j_buf.getvalue()))) == expected


def _records(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, i.header_offset, i.file_size, z.read(i.filename)) for i in z.infolist()
                if not i.filename.endswith(".data/serialization_id")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_bytes_as_torch(case, tmp_path):
    """Same archive name, same records at the same offsets, same bytes (data.pkl included)."""
    build = CASES[case]
    j_file = _save(jtorch, build(jtorch), tmp_path / "j")
    t_file = _save(torch, build(torch), tmp_path / "t")
    assert _records(j_file) == _records(t_file)
    assert j_file.stat().st_size == t_file.stat().st_size


def _load_or_error(lib, data, **kwargs):
    try:
        return describe(lib.load(io.BytesIO(data), **kwargs))
    except Exception as e:  # compared by class: torch's weights_only refuses protocol >= 4 (FRAME)
        return type(e)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_protocols(protocol):
    j_buf, t_buf = io.BytesIO(), io.BytesIO()
    jtorch.save(_checkpoint(jtorch), j_buf, pickle_protocol=protocol)
    torch.save(_checkpoint(torch), t_buf, pickle_protocol=protocol)
    for weights_only in (True, False):
        expected = _load_or_error(torch, t_buf.getvalue(), weights_only=weights_only)
        for lib in (jtorch, torch):
            for data in (j_buf.getvalue(), t_buf.getvalue()):
                assert _load_or_error(lib, data, weights_only=weights_only) == expected
    assert _records(j_buf) == _records(t_buf)


@pytest.mark.parametrize("lib", [jtorch, torch], ids=["jtorch", "torch"])
def test_buffers_and_file_objects(lib, tmp_path):
    """f may be a path, a str, a binary file object or a BytesIO, each way."""
    obj = _checkpoint(lib)
    expected = describe(_checkpoint(torch))
    buf = io.BytesIO()
    lib.save(obj, buf)
    with open(tmp_path / "f.pt", "wb") as fh:
        lib.save(obj, fh)
    lib.save(obj, str(tmp_path / "s.pt"))
    for reader in (jtorch, torch):
        buf.seek(0)
        assert describe(reader.load(buf)) == expected
        with open(tmp_path / "f.pt", "rb") as fh:
            assert describe(reader.load(fh)) == expected
        assert describe(reader.load(str(tmp_path / "s.pt"))) == expected


def test_no_byteorder_record(tmp_path):
    for lib in (jtorch, torch):
        (tmp_path / lib.__name__).mkdir()
        lib.save(_checkpoint(lib), tmp_path / lib.__name__ / "c.pt", _disable_byteorder_record=True)
    j_file, t_file = tmp_path / "jtorch" / "c.pt", tmp_path / "torch" / "c.pt"
    assert _records(j_file) == _records(t_file)
    # torch 2.13's writer still adds the record, at the end
    assert [r[0] for r in _records(j_file)][-2:] == ["c/version", "c/byteorder"]
    expected = describe(_checkpoint(torch))
    assert describe(torch.load(j_file)) == expected
    assert describe(jtorch.load(t_file)) == expected


def test_big_endian_checkpoint(tmp_path):
    """A checkpoint from a big-endian machine (byteorder record "big", byte-swapped storages)."""
    from jtorch._zip import ZipWriter
    obj = {"f": torch.tensor([1.5, -2.0]), "i": torch.tensor([1, 256], dtype=torch.int32),
           "c": torch.tensor([1 + 2j]), "b": torch.tensor([1.0], dtype=torch.bfloat16)}
    torch.save(obj, tmp_path / "little.pt")
    dtypes = {"0": "<f4", "1": "<i4", "2": "<c8", "3": "<u2"}
    out = io.BytesIO()
    writer = ZipWriter(out, "big")
    with zipfile.ZipFile(tmp_path / "little.pt") as z:
        for info in z.infolist():
            name = info.filename.split("/", 1)[1]
            data = z.read(info.filename)
            if name == "byteorder":
                data = b"big"
            elif name.startswith("data/"):
                import numpy as np
                data = np.frombuffer(data, dtypes[name[5:]]).byteswap().tobytes()
            writer.write_record(name, data)
    writer.close()
    (tmp_path / "big.pt").write_bytes(out.getvalue())
    expected = describe(obj)
    assert describe(torch.load(tmp_path / "big.pt")) == expected
    assert describe(jtorch.load(tmp_path / "big.pt")) == expected


def test_loaded_views_alias(tmp_path):
    """Views saved with their base load as views of one root: a write through one is seen by all."""
    for lib_save in (jtorch, torch):
        x = lib_save.arange(12.0).reshape(3, 4)
        lib_save.save({"x": x, "col": x[:, 1], "t": x.t()}, tmp_path / "v.pt")
        got = jtorch.load(tmp_path / "v.pt")
        got["col"].mul_(10)
        assert got["x"][:, 1].tolist() == [10.0, 50.0, 90.0]
        assert got["t"][1].tolist() == [10.0, 50.0, 90.0]
        got["x"].add_(1)
        assert got["col"].tolist() == [11.0, 51.0, 91.0]


def test_mmap(tmp_path):
    obj = _checkpoint(torch)
    torch.save(obj, tmp_path / "m.pt")
    before = (tmp_path / "m.pt").read_bytes()
    got = jtorch.load(tmp_path / "m.pt", mmap=True)
    assert describe(got) == describe(obj)
    got["model_state_dict"]["0.weight"].add_(1)  # copy-on-write: the file is not changed
    assert (tmp_path / "m.pt").read_bytes() == before
    with pytest.raises(ValueError):
        jtorch.load(io.BytesIO(before), mmap=True)
    with pytest.raises(ValueError):
        torch.load(io.BytesIO(before), mmap=True)
