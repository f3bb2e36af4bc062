"""Pickling jtorch objects under torch's names, for torch.save (NOTE [Checkpoint files] in
serialization.py).

jtorch never imports torch, yet a checkpoint must name `torch._utils._rebuild_tensor_v2`,
`torch.FloatStorage`, `torch.float32`, `torch.nn.modules.linear.Linear`: pickle's own save_global
insists on importing a name and finding the same object there, so this pickler (on pickle's
pure-Python Pickler) writes those names itself. Tensors are reduced as torch reduces them, storages
become persistent ids, and the opcodes come out the same as torch's, byte for byte.
"""
import collections
import functools
import importlib
import io
import pickle
import types

import jax
import numpy as np

from . import _device as dev
from . import _dtype as D
from ._rebuild import _parameter_class, fits
from ._size import Size
from ._tensor import Tensor, _concrete


class _Global:
    """A torch global (`module.name`) to write into a pickle; jtorch never imports torch."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __reduce__(self):
        return self.name  # pickle saves it as a global; _Pickler.save_global writes our name

    def __call__(self, *args, **kwargs):
        raise TypeError("%s.%s is a name for pickling, not callable" % (self.module, self.name))


@functools.lru_cache(maxsize=None)
def _g(module, name):
    return _Global(module, name)


def _storage_global(dtype):
    return _g("torch", dtype._legacy + "Storage")


def _public_torch_name(obj):
    """torch's (module, qualname) for the jtorch objects whose torch name is not their own path."""
    if isinstance(obj, D.dtype):
        return "torch", obj.name
    if obj is Tensor:
        return "torch", "Tensor"
    if obj is dev.device:
        return "torch", "device"
    if obj is Size:
        return "torch", "Size"
    if obj is D.dtype:
        return "torch", "dtype"
    param = _parameter_class()
    if param is not None and obj is param:
        return "torch.nn.parameter", "Parameter"
    return None


class _StorageRef:
    __slots__ = ("dtype", "key", "location", "numel")

    def __init__(self, dtype, key, location, numel):
        self.dtype, self.key, self.location, self.numel = dtype, key, location, numel


class _PlainTensor:
    """A Parameter's data, pickled as a plain tensor that does not require grad (torch's `.data`)."""
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t


def _location_tag(device):
    # torch's tags: the interned literal "cpu", a new "cuda:N" string per storage (pickle memoizes
    # strings by identity, so this keeps the bytes of data.pkl identical to torch's)
    return "cpu" if device.type == "cpu" else "%s:%d" % (device.type, device.index or 0)


class _Saver:
    """The storages a pickle refers to, in order of first reference: key -> root tensor. Keys
    count up ("0", "1", ...) in the zip format; the legacy format keys storages by identity."""

    def __init__(self, legacy=False):
        self.legacy = legacy
        self.keys = {}
        self.roots = {}

    def _window(self, t):
        """(root, storage offset, size, stride) of a tensor in its root's flat storage."""
        root = t if t._base is None else t._base
        if root is not t and not (root.dtype is t.dtype and fits(t._shape, t._stride, t._offset,
                                                                   root.numel())):
            # a view that is no strided window of its root (another dtype): saved as its own copy
            root = Tensor._from_value(t._value(), t.dtype, t._device)
            return root, 0, root._shape, root._stride
        return root, t._offset, t._shape, t._stride

    def tensor_args(self, t, requires_grad):
        root, offset, size, stride = self._window(t)
        key = self.keys.get(id(root))
        if key is None:
            key = self.keys[id(root)] = str(id(root) if self.legacy else len(self.keys))
            self.roots[key] = root
        ref = _StorageRef(root.dtype, key, _location_tag(root._device), root.numel())
        return (ref, offset, tuple([*size]), tuple([*stride]), bool(requires_grad),
                collections.OrderedDict())

    def reduce_tensor(self, t):
        state = dict(t.__dict__)
        param = _parameter_class()
        if param is not None and isinstance(t, param):
            hooks = collections.OrderedDict()
            if state:
                return _g("torch._utils", "_rebuild_parameter_with_state"), (
                    _PlainTensor(t), t.requires_grad, hooks, state)
            return _g("torch._utils", "_rebuild_parameter"), (_PlainTensor(t), t.requires_grad, hooks)
        args = self.tensor_args(t, t.requires_grad)
        if type(t) is Tensor and not state:
            return _g("torch._utils", "_rebuild_tensor_v2"), args
        return _g("torch._tensor", "_rebuild_from_type_v2"), (
            _g("torch._utils", "_rebuild_tensor_v2"), type(t), args, state)


@functools.lru_cache(maxsize=None)
def _pickler_class(base):
    dispatch = getattr(base, "dispatch", None)

    class _Pickler(base):
        """A pickler that writes jtorch's tensors and objects under torch's names."""

        def __init__(self, file, protocol, saver):
            super().__init__(file, protocol)
            self._saver = saver

        def persistent_id(self, obj):
            if type(obj) is _StorageRef:
                pid = ("storage", _storage_global(obj.dtype), obj.key, obj.location, obj.numel)
                return pid + (None,) if self._saver.legacy else pid  # legacy: no storage view
            return None

        def reducer_override(self, obj):
            if isinstance(obj, Tensor):
                _check_concrete(obj)
                return self._saver.reduce_tensor(obj)
            if type(obj) is _PlainTensor:
                return _g("torch._utils", "_rebuild_tensor_v2"), self._saver.tensor_args(obj.t, False)
            if type(obj) is dev.device:
                kind = (obj.type + ".")[:-1]  # a new string, as torch's: not memoized with "cpu" tags
                return dev.device, (kind,) if obj.index is None else (kind, obj.index)
            return NotImplemented

        def save_global(self, obj, name=None):
            target = _global_name(obj, name)
            if target is None:
                try:
                    return super().save_global(obj, name)
                except pickle.PicklingError:
                    qualname = name or getattr(obj, "__qualname__", "")
                    if "<locals>" in qualname:  # raise what torch.save's C pickler raises
                        error = _c_pickler_local_error()
                        if error is not None and error[0] is not pickle.PicklingError:
                            raise error[0](error[1].replace("QUALNAME.<locals>.x", qualname)) from None
                    raise
            module, qualname = target
            if self.proto >= 4:
                self.save(module)
                self.save(qualname)
                self.write(pickle.STACK_GLOBAL)
            else:
                enc = "utf-8" if self.proto >= 3 else "ascii"
                self.write(pickle.GLOBAL + bytes(module, enc) + b"\n" + bytes(qualname, enc) + b"\n")
            self.memoize(obj)

    if dispatch is not None:
        _Pickler.dispatch = dict(dispatch)
        # the base table holds the base class's save_global for functions: route them to ours
        _Pickler.dispatch[types.FunctionType] = lambda self, obj: self.save_global(obj)
    return _Pickler


@functools.lru_cache(maxsize=1)
def _c_pickler_local_error():
    """(class, message) the C pickler raises for a local function (AttributeError before 3.14)."""
    def QUALNAME():
        pass
    QUALNAME.__qualname__ = "QUALNAME.<locals>.x"
    QUALNAME.__module__ = __name__
    try:
        pickle.Pickler(io.BytesIO(), 2).dump(QUALNAME)
    except Exception as e:
        return type(e), str(e)
    return None


def _global_name(obj, name):
    if type(obj) is _Global:
        return obj.module, obj.name
    public = _public_torch_name(obj)
    if public is not None:
        return public
    module = getattr(obj, "__module__", None)
    if module is None and (name or getattr(obj, "__qualname__", None)):
        module = pickle.whichmodule(obj, name or obj.__qualname__)  # as pickle finds it
    if isinstance(module, str) and (module == "jtorch" or module.startswith("jtorch.")):
        name = name or obj.__qualname__
        parts = module.split(".")[1:]
        if parts[:1] == ["ops"] or any(p.startswith("_") for p in parts):
            # defined in a file whose path is jtorch's own: name it where jtorch exposes it, which
            # is where torch has it (jtorch.nn.functional.relu -> torch.nn.functional.relu)
            public = _public_home(obj, name)
            if public is not None:
                return public, name
        return "torch" + module[len("jtorch"):], name
    return None


_PUBLIC_NAMESPACES = ("nn.functional", "", "nn", "nn.init", "linalg", "special", "fft", "optim",
                      "optim.lr_scheduler", "utils.data", "autograd")


def _public_home(obj, name):
    for ns in _PUBLIC_NAMESPACES:
        try:
            mod = importlib.import_module("jtorch." + ns if ns else "jtorch")
        except ImportError:
            continue
        if getattr(mod, name, None) is obj:
            return "torch." + ns if ns else "torch"
    return None


def _check_concrete(t):
    root = t if t._base is None else t._base
    if isinstance(root._data, jax.core.Tracer) or isinstance(getattr(t, "_data", None), jax.core.Tracer):
        raise RuntimeError("torch.save() needs concrete values, but this tensor is being traced by "
                           "jtorch.compile / jax.jit")


def _root_bytes(root):
    """The root's storage as raw bytes: its flat value in memory order."""
    a = root._host if root._host is not None else _concrete(root, "torch.save")
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


