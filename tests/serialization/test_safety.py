"""What torch.load refuses and how: the weights_only allow-list (same exception class and message as
torch), safe globals, the environment variables, map_location, corrupt and truncated files, and
atomic saving."""
import io
import os
import pickle
import stat
import struct
import warnings
import zipfile

import numpy as np
import pytest
import torch

import jtorch
import jtorch._pickler
import jtorch._rebuild
import jtorch.serialization as jser
from jtorch._zip import ZipWriter

from ._check import describe

LIBS = [jtorch, torch]


class Harmless:
    """A user class: refused by weights_only until allowlisted."""

    def __init__(self, v=1):
        self.v = v


class SystemGadget:
    """Unpickling calls os.system: weights_only must refuse it without running it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, ("touch " + self.path,)


class EvalGadget:
    def __reduce__(self):
        return eval, ("1 + 1",)


def _gadgets(tmp_path):
    return {
        "class_object": lambda L: Harmless,
        "instance": lambda L: {"w": L.ones(2), "obj": Harmless(3)},
        "builtin_function": lambda L: print,
        "os_system": lambda L: SystemGadget(str(tmp_path / "pwned")),
        "eval": lambda L: [L.zeros(1), EvalGadget()],
        "numpy_array": lambda L: np.arange(3),
        "module_class": lambda L: L.nn.Linear,
    }


@pytest.fixture(autouse=True)
def _clean_safe_globals():
    yield
    jser.clear_safe_globals()
    torch.serialization.clear_safe_globals()


def _error(fn):
    try:
        fn()
    except Exception as e:
        return type(e), str(e)
    return None


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", ["class_object", "instance", "builtin_function", "os_system", "eval",
                                  "numpy_array", "module_class"])
def test_weights_only_refuses(name, legacy, tmp_path):
    """Files written by either library are refused by both, with the same class and message."""
    build = _gadgets(tmp_path)[name]
    paths = []
    for lib in LIBS:
        folder = tmp_path / lib.__name__
        folder.mkdir()
        paths.append(folder / "g.pt")
        lib.save(build(lib), paths[-1], _use_new_zipfile_serialization=not legacy)
    for path in paths:
        expected = _error(lambda: torch.load(path))
        assert expected is not None and expected[0] is pickle.UnpicklingError
        assert _error(lambda: jtorch.load(path)) == expected
        assert _error(lambda: jtorch.load(path, weights_only=True)) == expected
    assert not (tmp_path / "pwned").exists()


def _raw_checkpoint(path, pickled):
    """A checkpoint whose data.pkl is `pickled`, as an attacker could write it."""
    with open(path, "wb") as fh:
        writer = ZipWriter(fh, "archive")
        writer.write_record("data.pkl", pickled)
        writer.write_record("version", b"3\n")
        writer.close()
    return path


RAW_PICKLES = {
    "build_on_dict": b"\x80\x02}q\x00}q\x01b.",
    "append_to_dict": b"\x80\x02}q\x00K\x01a.",
    "setitem_on_list": b"\x80\x02]q\x00K\x01K\x02s.",
    "persistent_id_not_storage": b"\x80\x02X\x06\x00\x00\x00moduleq\x00\x85q\x01Q.",
    "persistent_id_wrong_type": b"\x80\x02X\x01\x00\x00\x00xQ.",
    "blocked_module": b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
    "blocked_sys": b"\x80\x02csys\nexit\n.",
    "py2_builtin": b"\x80\x02c__builtin__\neval\n.",
    "unsupported_opcode": b"\x80\x02I42\n.",
}


@pytest.mark.parametrize("name", sorted(RAW_PICKLES))
def test_weights_only_refuses_crafted_pickles(name, tmp_path):
    path = _raw_checkpoint(tmp_path / "raw.pt", RAW_PICKLES[name])
    expected = _error(lambda: torch.load(path))
    assert expected is not None and expected[0] is pickle.UnpicklingError
    assert _error(lambda: jtorch.load(path)) == expected


def test_safe_globals(tmp_path):
    for lib in LIBS:
        lib.save({"obj": Harmless(5), "t": lib.ones(2)}, tmp_path / ("%s.pt" % lib.__name__))
    files = [tmp_path / "jtorch.pt", tmp_path / "torch.pt"]
    for lib in LIBS:
        ser = lib.serialization
        for f in files:
            with pytest.raises(pickle.UnpicklingError):
                lib.load(f)
        with ser.safe_globals([Harmless]):
            assert ser.get_safe_globals() == [Harmless]
            for f in files:
                assert lib.load(f)["obj"].v == 5
        assert ser.get_safe_globals() == []
        with pytest.raises(pickle.UnpicklingError):
            lib.load(files[0])
        ser.add_safe_globals([(Harmless, Harmless.__module__ + ".Harmless")])
        assert lib.load(files[1])["obj"].v == 5
        ser.clear_safe_globals()
        assert ser.get_safe_globals() == []


def test_blocked_modules_stay_blocked(tmp_path):
    path = _raw_checkpoint(tmp_path / "raw.pt", RAW_PICKLES["blocked_module"])
    for lib in LIBS:
        lib.serialization.add_safe_globals([os.system])
    expected = _error(lambda: torch.load(path))
    assert expected[0] is pickle.UnpicklingError and "is blocked" in expected[1]
    assert _error(lambda: jtorch.load(path)) == expected


def test_get_unsafe_globals_in_checkpoint(tmp_path):
    for lib in LIBS:
        lib.save({"obj": Harmless(1), "f": print, "t": lib.ones(1)}, tmp_path / "u.pt")
        expected = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(tmp_path / "u.pt"))
        assert sorted(jser.get_unsafe_globals_in_checkpoint(tmp_path / "u.pt")) == expected
        assert expected == sorted([Harmless.__module__ + ".Harmless", "builtins.print"])


def test_allow_list_covers_torchs():
    """Every global torch's weights_only unpickler allows is allowed by jtorch too, or refused with
    a clear error because jtorch has no such thing (quantized, sparse, sub-byte dtypes)."""
    from torch._weights_only_unpickler import _get_allowed_globals as torch_allowed
    from jtorch._weights_only_unpickler import _get_allowed_globals as jtorch_allowed
    missing = []
    for name in torch_allowed():
        if name in jtorch_allowed():
            continue
        try:
            jtorch._rebuild._unsupported_torch_global(name)
            missing.append(name)
        except RuntimeError as e:
            assert "jtorch has no" in str(e)
    assert not missing
    assert set(jtorch_allowed()) <= set(torch_allowed())


# -- weights_only switches ------------------------------------------------------------------------


def _outcome(lib, path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", lib.load(path, **kwargs)["obj"].v)
        except Exception as e:
            result = ("error", type(e), str(e))
    return result, sorted({str(w.category.__name__) for w in caught if "weights_only" in str(w.message)
                           or "TORCH_FORCE" in str(w.message)})


ENV_CASES = [
    ({}, {}),
    ({}, {"weights_only": False}),
    ({}, {"pickle_module": pickle}),
    ({}, {"pickle_module": pickle, "weights_only": True}),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1"}, {"weights_only": False}),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "true"}, {"pickle_module": pickle}),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "YES"}, {"weights_only": True}),
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "0"}, {}),
    ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
    ({}, {"weights_only": True, "encoding": "latin1"}),
]


@pytest.mark.parametrize("env,kwargs", ENV_CASES, ids=[str(i) for i in range(len(ENV_CASES))])
def test_weights_only_switches(env, kwargs, tmp_path, monkeypatch):
    torch.save({"obj": Harmless(7)}, tmp_path / "h.pt")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    expected = _outcome(torch, tmp_path / "h.pt", **kwargs)
    assert _outcome(jtorch, tmp_path / "h.pt", **kwargs) == expected


# -- map_location -----------------------------------------------------------------------------------


def _cuda_checkpoint(tmp_path, monkeypatch):
    """A jtorch checkpoint whose storages are tagged 'cuda:0' (as saved from a GPU)."""
    with monkeypatch.context() as m:
        m.setattr(jtorch._pickler, "_location_tag", lambda device: "cuda:0")
        jtorch.save({"w": jtorch.arange(6.0).reshape(2, 3), "b": jtorch.ones(2, dtype=jtorch.int64)},
                    tmp_path / "gpu.pt")
    return tmp_path / "gpu.pt"


def test_map_location(tmp_path, monkeypatch):
    path = _cuda_checkpoint(tmp_path, monkeypatch)
    with zipfile.ZipFile(path) as z:
        assert b"cuda:0" in z.read("gpu/data.pkl")
    assert not jtorch.cuda.is_available() or pytest.skip("needs a machine without accelerators")
    expected = _error(lambda: torch.load(path))
    assert expected[0] is RuntimeError and "CUDA" in expected[1]
    assert _error(lambda: jtorch.load(path)) == expected
    assert _error(lambda: jtorch.load(path, map_location="cuda")) == _error(
        lambda: torch.load(path, map_location="cuda"))
    want = describe({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2, dtype=torch.int64)})
    for lib in LIBS:
        seen = []

        def move(storage, location):
            seen.append(location)
            return storage
        for map_location in ("cpu", lib.device("cpu"), {"cuda:0": "cpu"}, move,
                             lambda storage, location: None if location == "cpu" else storage.cpu()):
            assert describe(lib.load(path, map_location=map_location)) == want
        assert seen == ["cuda:0", "cuda:0"]


def test_map_location_cpu_file(tmp_path):
    jtorch.save({"w": jtorch.ones(2)}, tmp_path / "c.pt")
    for lib in LIBS:
        for map_location in (None, "cpu", {"cpu": "cpu"}, lambda s, loc: s):
            assert describe(lib.load(tmp_path / "c.pt", map_location=map_location)) == describe(
                {"w": torch.ones(2)})


# -- corrupt and truncated files --------------------------------------------------------------------


def _good_file(tmp_path):
    torch.manual_seed(0)
    torch.save({"w": torch.randn(40, 40), "step": 3}, tmp_path / "good.pt")
    return (tmp_path / "good.pt").read_bytes()


@pytest.mark.parametrize("cut", [0.5, -10, -100, 100, 30])
def test_truncated(cut, tmp_path):
    data = _good_file(tmp_path)
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut > 0 else len(data) + cut)
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:n])
    assert _error(lambda: torch.load(path)) is not None  # RuntimeError, or OSError for some cuts
    j_err = _error(lambda: jtorch.load(path))
    assert j_err[0] is RuntimeError
    assert "PytorchStreamReader failed reading zip archive" in j_err[1] and str(path) in j_err[1]
    buf_err = _error(lambda: jtorch.load(io.BytesIO(data[:n])))
    assert buf_err[0] is RuntimeError and "PytorchStreamReader failed" in buf_err[1]


def test_corrupt_storage_data_is_detected(tmp_path):
    """torch does not check the CRC of storages (a flipped bit loads silently); jtorch does."""
    data = bytearray(_good_file(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("good/data/0")
    offset = info.header_offset + 30 + len(info.filename) + struct.unpack(
        "<H", data[info.header_offset + 28:info.header_offset + 30])[0]
    data[offset + 100] ^= 0x40
    path = tmp_path / "flip.pt"
    path.write_bytes(bytes(data))
    err = _error(lambda: jtorch.load(path))
    assert err[0] is RuntimeError and "data/0" in err[1] and str(path) in err[1]


def test_corrupt_local_header(tmp_path):
    data = bytearray(_good_file(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        offset = z.getinfo("good/data/0").header_offset
    data[offset:offset + 2] = b"XX"
    path = tmp_path / "hdr.pt"
    path.write_bytes(bytes(data))
    t_err, j_err = _error(lambda: torch.load(path)), _error(lambda: jtorch.load(path))
    assert t_err[0] is RuntimeError and j_err[0] is RuntimeError
    assert "data/0" in j_err[1] and "invalid header" in j_err[1]


def test_missing_storage_record(tmp_path):
    with zipfile.ZipFile(io.BytesIO(_good_file(tmp_path))) as z:
        pickled = z.read("good/data.pkl")
    path = _raw_checkpoint(tmp_path / "nodata.pt", pickled)
    t_err, j_err = _error(lambda: torch.load(path)), _error(lambda: jtorch.load(path))
    assert t_err[0] is RuntimeError and j_err[0] is RuntimeError
    assert "data/0" in j_err[1]


def test_empty_and_garbage_files(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    assert _error(lambda: jtorch.load(tmp_path / "empty.pt"))[0] is EOFError
    assert _error(lambda: torch.load(tmp_path / "empty.pt"))[0] is EOFError
    (tmp_path / "garbage.pt").write_bytes(b"hello world" * 10)
    err = _error(lambda: jtorch.load(tmp_path / "garbage.pt"))
    assert err[0] is RuntimeError and str(tmp_path / "garbage.pt") in err[1]
    legacy = io.BytesIO()
    torch.save({"w": torch.ones(300), "b": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    for cut in (len(legacy.getvalue()) - 10, 200, 60):
        err = _error(lambda: jtorch.load(io.BytesIO(legacy.getvalue()[:cut])))
        assert err[0] is RuntimeError and ("legacy" in err[1] or "magic" in err[1]), err
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("notes.txt", "not a checkpoint")
    assert _error(lambda: jtorch.load(io.BytesIO(zipped.getvalue())))[0] is RuntimeError
    assert _error(lambda: torch.load(io.BytesIO(zipped.getvalue())))[0] is RuntimeError


# -- atomic save ------------------------------------------------------------------------------------


class _Interrupt(BaseException):
    pass


def _crash_on(monkeypatch, target, attr, after=0):
    calls = []
    original = getattr(target, attr)

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise OSError("simulated crash")
        return original(*args, **kwargs)
    monkeypatch.setattr(target, attr, crash)


@pytest.mark.parametrize("where", ["mid_records", "first_record", "fsync", "replace", "interrupt"])
def test_atomic_save(where, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    jtorch.save({"old": jtorch.ones(3)}, path)
    old = path.read_bytes()
    with monkeypatch.context() as m:
        if where == "mid_records":
            _crash_on(m, ZipWriter, "write_record", after=4)
        elif where == "first_record":
            _crash_on(m, ZipWriter, "write_record")
        elif where == "fsync":
            _crash_on(m, os, "fsync")
        elif where == "replace":
            _crash_on(m, os, "replace")
        else:
            def interrupt(*args, **kwargs):
                raise _Interrupt  # a BaseException, as KeyboardInterrupt is
            m.setattr(ZipWriter, "close", interrupt)
        with pytest.raises((OSError, _Interrupt)):
            jtorch.save({"new": jtorch.zeros(1000)}, path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]
    assert describe(torch.load(path)) == describe({"old": torch.ones(3)})


def test_unpicklable_leaves_file_alone(tmp_path):
    path = tmp_path / "model.pt"
    jtorch.save({"old": jtorch.ones(3)}, path)
    old = path.read_bytes()
    t_err = _error(lambda: torch.save({"f": lambda x: x}, tmp_path / "t.pt"))
    j_err = _error(lambda: jtorch.save({"t": jtorch.ones(2), "f": lambda x: x}, path))
    assert j_err[0] is t_err[0]
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "t.pt") == ["model.pt"]


def test_save_keeps_mode_and_follows_symlinks(tmp_path):
    for lib in LIBS:
        lib.save(lib.ones(1), tmp_path / ("new_%s.pt" % lib.__name__))
    mode = stat.S_IMODE(os.stat(tmp_path / "new_torch.pt").st_mode)
    assert stat.S_IMODE(os.stat(tmp_path / "new_jtorch.pt").st_mode) == mode
    path = tmp_path / "private.pt"
    jtorch.save(jtorch.ones(1), path)
    os.chmod(path, 0o600)
    jtorch.save(jtorch.zeros(2), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert describe(torch.load(path)) == describe(torch.zeros(2))
    (tmp_path / "sub").mkdir()
    target = tmp_path / "sub" / "real.pt"
    jtorch.save(jtorch.ones(1), target)
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    jtorch.save(jtorch.full((2,), 3.0), link)
    assert link.is_symlink()
    assert describe(torch.load(target)) == describe(torch.full((2,), 3.0))
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["real.pt"]


def test_save_errors_match_torch(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "f.pt"
    assert _error(lambda: jtorch.save(jtorch.ones(1), missing)) == _error(
        lambda: torch.save(torch.ones(1), missing))
    assert _error(lambda: jtorch.save(jtorch.ones(1), tmp_path))[0] is _error(
        lambda: torch.save(torch.ones(1), tmp_path))[0]
    assert _error(lambda: jtorch.save(jtorch.ones(1), 42)) == _error(
        lambda: torch.save(torch.ones(1), 42))
