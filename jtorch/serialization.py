"""torch.save / torch.load in PyTorch's own file format, both ways (DESIGN 11).

NOTE [Checkpoint files]
A checkpoint is a zip archive (see _zip.py) holding `data.pkl`, a pickle of the saved object, and one
record `data/<key>` of raw bytes per storage. The pickle never names jtorch: a tensor is written as
torch writes it, `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
requires_grad, OrderedDict())`, the storage as the persistent id
`('storage', torch.FloatStorage, key, location, numel)`, a Parameter as
`torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict())`, dtypes as `torch.float32`,
and every other jtorch class or function under its torch name (`jtorch.nn.modules.linear.Linear`
is written `torch.nn.modules.linear.Linear`). jtorch never imports torch, so those names are
written by a pickler that emits them directly (`_Global`).

Storages are jtorch's roots (NOTE [Views and version counters]): a tensor's storage is its root's
value, flattened; a view is saved as a window (offset, size, stride) into it, so views that share a
root are saved once and load as views of one root again. On load, the first tensor of a storage that
covers it exactly and contiguously becomes the root; any other tensor of that storage becomes a
strided view of the root (a hidden flat root when no tensor covers the whole storage).

Loading by name maps every `torch.*` global to jtorch's object of the same name; with
`weights_only=True` (the default, as in torch >= 2.6) only the allow-list in
_weights_only_unpickler.py is accepted.
"""
import collections
import contextlib
import functools
import hashlib
import io
import math
import os
import pickle
import re
import stat
import sys
import threading
import types
import warnings

import jax
import numpy as np

from . import _device as dev
from . import _dtype as D
from . import _storage as S
from . import _weights_only_unpickler
from ._size import Size
from ._tensor import Tensor, _concrete
from ._zip import ZipReader, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "get_unsafe_globals_in_checkpoint", "DEFAULT_PROTOCOL", "StorageType"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
    "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
    "trusted source.")

_FILE_FORMAT_VERSION = b"3\n"      # the `version` record torch 2.x writes for torch.save
_STORAGE_ALIGNMENT = b"64"

# -- safe globals (torch.serialization's public names) -----------------------------------------


def clear_safe_globals():
    """Clears the list of globals that are safe for ``weights_only`` load."""
    _weights_only_unpickler._clear_safe_globals()


def get_safe_globals():
    """Returns the list of user-added globals that are safe for ``weights_only`` load."""
    return _weights_only_unpickler._get_safe_globals()


def add_safe_globals(safe_globals):
    """Marks the given globals (or `(global, "module.name")` pairs) as safe for weights_only load."""
    _weights_only_unpickler._add_safe_globals(safe_globals)


class safe_globals(_weights_only_unpickler._safe_globals):
    """Context manager that adds globals as safe for ``weights_only`` load."""


def get_unsafe_globals_in_checkpoint(f):
    """The `module.name` globals in a checkpoint that weights_only load would refuse."""
    with _open_reader(f) as (fh, name):
        reader = ZipReader(fh, name)
        found = _weights_only_unpickler.get_globals_in_pkl(io.BytesIO(bytes(reader.read("data.pkl"))))
    safe = set(_weights_only_unpickler._get_allowed_globals()) | set(
        _weights_only_unpickler._get_user_allowed_globals())
    return list(found - safe)


# -- torch's names for jtorch's objects ---------------------------------------------------------


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


class StorageType:
    """What `torch.FloatStorage` and kin load as: the dtype of a checkpoint storage."""

    def __init__(self, name):
        self._dtype = _STORAGE_DTYPES[name]

    @property
    def dtype(self):
        return self._dtype

    def __str__(self):
        return "StorageType(dtype=%r)" % self.dtype


_STORAGE_DTYPES = {d._legacy + "Storage": d for d in D.ALL}
_STORAGE_DTYPES["UntypedStorage"] = D.uint8
_STORAGE_TYPES = {name: StorageType(name) for name in _STORAGE_DTYPES}


def _parameter_class():
    try:
        from .nn.parameter import Parameter
    except ImportError:
        return None
    return Parameter


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


_UNSUPPORTED = {}


def _unsupported(what, full_name):
    def rebuild(*args, **kwargs):
        raise RuntimeError("jtorch cannot load %s (%s in this checkpoint)" % (what, full_name))
    rebuild.__name__ = full_name.rpartition(".")[2]
    return rebuild


@functools.lru_cache(maxsize=1)
def _torch_globals():
    """torch's global names a checkpoint may use, mapped to jtorch's objects (the names torch's
    weights_only unpickler allows; load(weights_only=False) also resolves any other torch.* name
    to jtorch's object of the same name)."""
    g = {"torch.Size": Size, "torch.Tensor": Tensor, "torch.device": dev.device,
         "torch.serialization._get_layout": _get_layout,
         "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2}
    for d in D.ALL:
        g["torch." + d.name] = d
        for prefix in ("torch.", "torch.cuda."):
            if not d.is_complex:  # torch has no ComplexFloatTensor-style classes
                g[prefix + d._legacy + "Tensor"] = Tensor
            g[prefix + d._legacy + "Storage"] = _STORAGE_TYPES[d._legacy + "Storage"]
    g["torch.storage.UntypedStorage"] = _STORAGE_TYPES["UntypedStorage"]
    g["torch.storage.TypedStorage"] = _STORAGE_TYPES["UntypedStorage"]
    for fn in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state, _rebuild_device_tensor_from_cpu_tensor,
               _rebuild_device_tensor_from_numpy):
        g["torch._utils." + fn.__name__] = fn
    for name, what in (("_rebuild_qtensor", "quantized tensors"),
                       ("_rebuild_sparse_tensor", "sparse tensors"),
                       ("_rebuild_meta_tensor_no_storage", "meta tensors"),
                       ("_rebuild_nested_tensor", "nested tensors"),
                       ("_rebuild_wrapper_subclass", "tensor subclasses without storage")):
        g["torch._utils." + name] = _unsupported(what, "torch._utils." + name)
    param = _parameter_class()
    if param is not None:
        g["torch.nn.parameter.Parameter"] = param
    return g


# torch names that torch's weights_only unpickler allows and jtorch has no object for
_UNSUPPORTED_PATTERNS = (
    (re.compile(r"torch\.(u?int[1-7]|uint(16|32|64)|float8_\w+|float4_\w+|complex32|bits\w+|"
                r"q(u?int\w+))$"), "this dtype"),
    (re.compile(r"torch\.(cuda\.)?Q\w+Storage$"), "quantized storages"),
    (re.compile(r"torch\.per_(tensor|channel)_\w+$"), "quantization schemes"),
    (re.compile(r"torch\.(cuda\.)?sparse\.\w+Tensor$"), "sparse tensors"),
)


def _unsupported_torch_global(full_path):
    """Raise a clear error for a torch global that torch would accept and jtorch cannot provide."""
    for pattern, what in _UNSUPPORTED_PATTERNS:
        if pattern.match(full_path):
            raise RuntimeError("jtorch has no %s: %s, which this checkpoint uses, is not supported"
                               % (what, full_path))


def _find_torch_global(module, name):
    """jtorch's object for torch's `module.name` (load with weights_only=False), or None when
    the name is not torch's."""
    if module == "torch.tensor":
        module = "torch._tensor"
    obj = _torch_globals().get(module + "." + name)
    if obj is not None:
        return obj
    if module != "torch" and not module.startswith("torch."):
        return None
    _unsupported_torch_global(module + "." + name)
    import importlib
    candidates = ["j" + module]
    # jtorch may keep a class in another file of the same package than torch does
    for pkg in ("torch.nn", "torch.optim", "torch.utils.data"):
        if module.startswith(pkg + "."):
            candidates.append("j" + pkg)
    for mod_name in candidates:
        try:
            obj = importlib.import_module(mod_name)
            for part in name.split("."):
                obj = getattr(obj, part)
            return obj
        except (ImportError, AttributeError):
            continue
    raise AttributeError("Can't get attribute '%s' on jtorch: this checkpoint needs torch's %s.%s, "
                         "which jtorch does not have. Save and load a state_dict instead of the whole "
                         "object." % (name, module, name))


# -- saving ---------------------------------------------------------------------------------------


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
    """The storages a pickle refers to, in order of first reference: key -> root tensor."""

    def __init__(self):
        self.keys = {}
        self.roots = {}

    def _window(self, t):
        """(root, storage offset, size, stride) of a tensor in its root's flat storage."""
        root = t if t._base is None else t._base
        if root is not t and not (root.dtype is t.dtype and _fits(t._shape, t._stride, t._offset,
                                                                   root.numel())):
            # a view that is no strided window of its root (another dtype): saved as its own copy
            root = Tensor._from_value(t._value(), t.dtype, t._device)
            return root, 0, root._shape, root._stride
        return root, t._offset, t._shape, t._stride

    def tensor_args(self, t, requires_grad):
        root, offset, size, stride = self._window(t)
        key = self.keys.get(id(root))
        if key is None:
            key = self.keys[id(root)] = str(len(self.keys))
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


def _fits(shape, stride, offset, numel):
    if math.prod(shape) == 0:
        return 0 <= offset <= numel
    if any(st < 0 for st in stride):
        return False
    return offset >= 0 and offset + sum((s - 1) * st for s, st in zip(shape, stride)) < numel


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
                return ("storage", _storage_global(obj.dtype), obj.key, obj.location, obj.numel)
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
    try:
        public = _public_torch_name(obj)
    except TypeError:  # unhashable objects compared by identity above never raise; be safe
        public = None
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
    import importlib
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
    """The root's storage as little bytes: its flat value in memory order."""
    a = root._host if root._host is not None else _concrete(root, "torch.save")
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _archive_name(path):
    """The folder inside the zip: torch uses the file's base name without extension (ASCII only)."""
    try:
        path.encode("ascii")
    except UnicodeEncodeError:
        return "archive"
    base = re.split(r"[\\/]", path)[-1]
    return base.rpartition(".")[0] if "." in base else base


def _write_archive(fh, archive_name, pickled, saver, byteorder_record):
    writer = ZipWriter(fh, archive_name)
    writer.write_record("data.pkl", pickled)
    writer.write_record(".format_version", b"1")
    writer.write_record(".storage_alignment", _STORAGE_ALIGNMENT)
    if byteorder_record:
        writer.write_record("byteorder", sys.byteorder.encode())
    for key, root in saver.roots.items():
        writer.write_record("data/" + key, _root_bytes(root))
    writer.write_record("version", _FILE_FORMAT_VERSION)
    if not byteorder_record:
        # torch's C++ writer adds the record at the end of the file when save() left it out
        writer.write_record("byteorder", sys.byteorder.encode())
    # 40 digits as torch's: a hash of the record names, then a random number
    names = hashlib.blake2b(("\n".join(saver.roots)).encode(), digest_size=8).digest()
    writer.write_record(".data/serialization_id", b"%020d%020d" % (
        int.from_bytes(names, "little"), int.from_bytes(os.urandom(8), "little")))
    writer.close()


def _atomic_write(path, write):
    """Write through a temporary file in the target's folder, fsync it, then rename it over the
    target: a crash leaves either the old file or the new one, never a truncated checkpoint."""
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise RuntimeError("Parent directory %s does not exist." % os.path.dirname(target))
    if os.path.isdir(target):
        raise RuntimeError("File %s cannot be opened: it is a directory." % path)
    base = os.path.basename(target)
    for attempt in range(100):
        tmp = os.path.join(folder, ".%s.%s.tmp" % (base, os.urandom(4).hex()))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise RuntimeError("File %s cannot be opened: %s" % (path, e.strerror)) from None
    else:
        raise RuntimeError("File %s cannot be opened: no free temporary name" % path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Saves an object to a disk file in PyTorch's format (PyTorch's torch.load reads it).

    Differs from torch: saving to a path is atomic (temporary file, fsync, rename), so an existing
    file is never left half-overwritten; the legacy (pre-1.6) format is not written."""
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' "
                             "attribute")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("jtorch.save writes only the zip format of PyTorch >= 1.6 "
                                  "(_use_new_zipfile_serialization=False is not supported)")
    saver = _Saver()
    buf = io.BytesIO()
    base = getattr(pickle_module, "_Pickler", None)
    if base is None or not hasattr(base, "dispatch"):
        base = pickle_module.Pickler if hasattr(pickle_module.Pickler, "dispatch") else pickle._Pickler
    _pickler_class(base)(buf, pickle_protocol, saver).dump(obj)
    pickled = buf.getbuffer()
    byteorder = not _disable_byteorder_record
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        _atomic_write(path, lambda fh: _write_archive(fh, _archive_name(path), pickled, saver, byteorder))
    else:
        if not callable(getattr(f, "write", None)):
            raise TypeError("Buffer of %s has no callable attribute 'write'" % str(type(f)).strip("<>"))
        _write_archive(f, "archive", pickled, saver, byteorder)
        if hasattr(f, "flush"):
            f.flush()


# -- loading --------------------------------------------------------------------------------------

_tls = threading.local()


class _Storage:
    """One storage of a checkpoint, read on first use: what persistent_load returns, and what a
    callable map_location receives (a CPU storage, as in torch) and may move with .cuda()/.to()."""

    def __init__(self, loader, key, dtype, numel, device=dev.CPU):
        self._loader, self._key, self._dtype, self._numel, self._device = loader, key, dtype, numel, device
        self._root = None

    @property
    def device(self):
        return self._device

    @property
    def dtype(self):
        return self._dtype

    def size(self):
        return self._numel

    __len__ = size

    def element_size(self):
        return self._dtype.itemsize

    def nbytes(self):
        return self._numel * self._dtype.itemsize

    def _moved(self, device):
        return _Storage(self._loader, self._key, self._dtype, self._numel, device)

    def cpu(self):
        return self._moved(dev.CPU)

    def cuda(self, device=None, non_blocking=False):
        if device is None:
            location = "cuda"
        elif isinstance(device, int):
            location = "cuda:%d" % device
        else:
            location = str(device)
        return self._moved(_location_device(location))

    def to(self, device=None, non_blocking=False, copy=False):
        return self._moved(self._device if device is None else _location_device(str(device)))

    def _retyped(self, dtype):
        if dtype is self._dtype:
            return self
        nbytes = self.nbytes()
        if nbytes % dtype.itemsize:
            raise RuntimeError("Storage of %d bytes cannot be viewed as %s" % (nbytes, dtype))
        return self._loader.storage(self._key, dtype, nbytes // dtype.itemsize, self)

    def __repr__(self):
        return "<checkpoint storage %s: %d x %s on %s>" % (self._key, self._numel, self._dtype,
                                                           self._device)

    def _tensor(self, offset, size, stride):
        size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
        if len(size) != len(stride) or not _fits(size, stride, offset, self._numel):
            raise RuntimeError("setStorage: sizes %s, strides %s, storage offset %d requiring a "
                               "storage of more elements are out of bounds for storage of size %d"
                               % (list(size), list(stride), offset, self._numel))
        if self._root is None:
            values = self._loader.read(self._key, self._dtype, self._numel)
            whole = offset == 0 and math.prod(size) == self._numel and S.is_contiguous(size, stride)
            self._root = self._make_root(values.reshape(size) if whole else values)
            if whole:
                self._root._stride = stride
                return self._root
        return _strided_view(self._root, size, stride, offset)

    def _make_root(self, values):
        if self._loader.mapped is not None and self._device.type == "cpu":
            return Tensor._from_host(values, self._dtype)
        value = jax.device_put(values, dev.jax_device(self._device))
        return Tensor._from_value(value, self._dtype, self._device)


@functools.lru_cache(maxsize=4096)
def _strided_reader(shape, stride, offset):
    n = math.prod(shape)
    if S.is_contiguous(shape, stride):
        return lambda v: v.reshape(-1)[offset:offset + n].reshape(shape)
    positions = S.flat_positions(shape, stride, offset)
    return lambda v: v.reshape(-1)[positions]


def _strided_view(root, shape, stride, offset):
    """A view of `root` at (shape, stride, offset) in its flat storage, as torch's as_strided."""
    t = Tensor.__new__(Tensor)
    t._base = root
    t._read = _strided_reader(shape, stride, offset)
    t._vbox = root._vbox
    t._cver = -1
    t._data = None
    t._shape, t._stride, t._offset = shape, stride, offset
    t.dtype = root.dtype
    t._device = root._device
    return t


def _as_storage(storage):
    if not isinstance(storage, _Storage):
        raise TypeError("expected a checkpoint storage, got %s" % type(storage).__name__)
    return storage


def _set_requires_grad(t, requires_grad):
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _as_storage(storage)._tensor(storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _set_requires_grad(_rebuild_tensor(storage, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    if not isinstance(dtype, D.dtype):
        raise RuntimeError("jtorch cannot load tensors of dtype %s" % (dtype,))
    t = _as_storage(storage)._retyped(dtype)._tensor(storage_offset, size, stride)
    return _set_requires_grad(t, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    param = _parameter_class()
    if param is None:
        raise RuntimeError("this checkpoint holds an nn.Parameter, and jtorch.nn is not available")
    return param(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _set_obj_state(obj, state):
    if isinstance(state, tuple):
        if len(state) != 2:
            raise RuntimeError("Invalid serialized state: %s" % (state,))
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part:
            for k, v in part.items():
                setattr(obj, k, v)
    return obj


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if type(ret) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise RuntimeError("cannot rebuild a tensor as %s" % (new_type,))
        ret.__class__ = new_type
    if getattr(type(ret), "__setstate__", None) is not None:
        ret.__setstate__(state)
    else:
        _set_obj_state(ret, state)
    return ret


def _map_device(device):
    loader = getattr(_tls, "loader", None)
    location = str(device)
    if loader is None:
        return _location_device(location)
    return loader.restore(_Storage(loader, None, D.uint8, 0), location)._device


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    return _set_requires_grad(data.to(dtype=dtype, device=_map_device(device)), requires_grad)


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    t = Tensor._from_value(jax.numpy.asarray(np.asarray(data)))
    return _set_requires_grad(t.to(dtype=dtype, device=_map_device(device)), requires_grad)


def _get_layout(name):
    return name  # jtorch has only strided tensors; layouts appear in sparse checkpoints only


_CUDA_MISSING = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                 "False. If you are running on a CPU-only machine, please use torch.load with "
                 "map_location=torch.device('cpu') to map your storages to the CPU.")


def _location_device(location):
    """The device a location tag ('cpu', 'cuda', 'cuda:1') restores to, with torch's errors."""
    if isinstance(location, bytes):
        location = location.decode("ascii")
    if location == "cpu":
        return dev.CPU
    m = re.fullmatch(r"cuda(?::(\d+))?", location)
    if m:
        count = len(dev.accelerators())
        if not count:
            raise RuntimeError(_CUDA_MISSING)
        index = int(m.group(1) or 0)
        if index >= count:
            raise RuntimeError("Attempting to deserialize object on CUDA device %d but "
                               "torch.cuda.device_count() is %d. Please use torch.load with "
                               "map_location to map your storages to an existing device."
                               % (index, count))
        return dev.device("cuda", index)
    raise RuntimeError("don't know how to restore data location of torch.storage.UntypedStorage "
                       "(tagged with %s); jtorch has cpu and cuda devices, use map_location"
                       % location)


def _restore_location(map_location):
    def default(storage, location):
        return storage._moved(_location_device(location))
    if map_location is None:
        return default
    if isinstance(map_location, dict):
        return lambda storage, location: default(storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes)):
        return lambda storage, location: default(storage, map_location)
    if isinstance(map_location, dev.device) or type(map_location).__name__ == "device":
        return lambda storage, location: default(storage, str(map_location))

    def call(storage, location):
        result = map_location(storage, location)
        if result is None:
            result = default(storage, location)
        if not isinstance(result, _Storage):
            raise TypeError("map_location must return None or the storage it was given (moved "
                            "with .cpu()/.cuda()/.to()), got %s" % type(result).__name__)
        return result
    return call


class _Loader:
    def __init__(self, reader, map_location, mapped):
        self.reader = reader
        self.restore = _restore_location(map_location)
        self.mapped = mapped
        self.storages = {}
        byteorder = sys.byteorder
        if reader.has_record("byteorder"):
            byteorder = bytes(reader.read("byteorder")).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise ValueError("Unknown endianness type: " + byteorder)
        elif reader.has_record("data.pkl"):
            byteorder = "little"  # torch's default for checkpoints without a byte order record
        self.swap = byteorder != sys.byteorder

    def storage(self, key, dtype, numel, like=None, location=None):
        st = self.storages.get((key, dtype))
        if st is None:
            st = _Storage(self, key, dtype, numel)
            st = st._moved(like._device) if like is not None else self.restore(st, location)
            self.storages[(key, dtype)] = st
        return st

    def persistent_load(self, saved_id):
        if not isinstance(saved_id, tuple):
            raise AssertionError("saved_id must be a tuple, got %s" % type(saved_id).__name__)
        typename = _weights_only_unpickler._decode_ascii(saved_id[0])
        if typename != "storage":
            raise AssertionError("Unknown typename for persistent_load, expected 'storage' but got "
                                 "'%s'" % typename)
        storage_type, key, location, numel = saved_id[1:]
        if not isinstance(storage_type, StorageType):
            raise RuntimeError("unknown storage type %r in checkpoint" % (storage_type,))
        return self.storage(key, storage_type.dtype, numel,
                            location=_weights_only_unpickler._decode_ascii(location))

    def read(self, key, dtype, numel):
        name = "data/%s" % key
        if self.mapped is not None:
            offset, size, _ = self.reader.locate(name)
            if size != numel * dtype.itemsize:
                raise self.reader._corrupt("file " + name, "size mismatch (expected %d bytes, file "
                                           "records %d)" % (numel * dtype.itemsize, size))
            values = self.mapped[offset:offset + size].view(dtype.np)
        else:
            values = np.empty(numel, dtype.np)
            self.reader.read(name, values.view(np.uint8))
        if self.swap:
            values = values.byteswap()
        return values

    def load(self, unpickler_class, pickle_load_args):
        data = io.BytesIO(bytes(self.reader.read("data.pkl")))
        unpickler = unpickler_class(data, **pickle_load_args)
        unpickler.persistent_load = self.persistent_load
        _tls.loader = self
        try:
            return unpickler.load()
        finally:
            _tls.loader = None


@functools.lru_cache(maxsize=None)
def _full_unpickler_class(base):
    class _Unpickler(base):
        """pickle's Unpickler with torch.* names resolved to jtorch's objects."""

        def find_class(self, mod_name, name):
            if type(name) is str and "Storage" in name and name in _STORAGE_TYPES:
                return _STORAGE_TYPES[name]
            found = _find_torch_global(mod_name, name)
            if found is not None:
                return found
            return super().find_class(mod_name, name)
    return _Unpickler


def _weights_only_message(message):
    docs = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default "
            "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        updated = ("Weights only load failed. This file can still be loaded, to do so you have two "
                   "options, \033[1mdo those steps only if you trust the source of the checkpoint"
                   "\033[0m. \n\t(1) %s\n\t(2) Alternatively, to load with `weights_only=True` please "
                   "check the recommended steps in the following error message.\n\tWeightsUnpickler "
                   "error: " % UNSAFE_MESSAGE + message)
    else:
        if re.search(r"(\S+) must be (\S+) to load", message):
            return "Weights only load failed. %s\n %s\n" % (message, UNSAFE_MESSAGE)
        updated = "Weights only load failed. %s\n" % UNSAFE_MESSAGE
        if not re.search(r"whose module (\S+) is blocked", message):
            updated += ("Please file an issue with the following so that we can make "
                        "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
        updated += "\n\n" + message
    return updated + docs


@contextlib.contextmanager
def _open_reader(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, os.fspath(f)
        return
    for attr in ("read", "seek", "tell"):
        if not callable(getattr(f, attr, None)):
            raise AttributeError("'%s' object has no attribute '%s'. You can only torch.load from a "
                                 "file that is seekable. Please pre-load the data into a buffer like "
                                 "io.BytesIO and try to load from it instead." % (type(f).__name__, attr))
    yield f, getattr(f, "name", None) if isinstance(getattr(f, "name", None), str) else None


def _is_zipfile(fh):
    start = fh.tell()
    magic = fh.read(4)
    fh.seek(start)
    return magic == b"PK\x03\x04"


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Loads an object saved with torch.save (by PyTorch or jtorch) from a file.

    Differs from torch: the data of every record is checked against the CRC-32 the file records
    (torch does not check it), so a corrupted checkpoint fails loudly; files in the legacy
    (pre-1.6, non-zip) format and TorchScript archives are not read. A whole object pickled by
    torch (weights_only=False) is rebuilt from jtorch's classes of the same torch names; that works
    when the jtorch class keeps torch's attribute layout (nn.Module does)."""
    weights_only_not_set = weights_only is None
    if weights_only_not_set:
        weights_only = pickle_module is None
    true_values = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force:
        weights_only = True
    elif force_no and weights_only_not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the"
                      "`weights_only` argument was not explicitly passed to `torch.load`, forcing "
                      "weights_only=False.", UserWarning, stacklevel=2)
        weights_only = False
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    elif pickle_module is None:
        pickle_module = pickle
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")

    with _open_reader(f) as (fh, name):
        if not _is_zipfile(fh):
            raise _not_a_checkpoint(fh, name, mmap)
        reader = ZipReader(fh, name)
        if reader.has_record("constants.pkl"):
            raise RuntimeError("%s is a TorchScript archive (torch.jit.save); jtorch cannot load "
                               "TorchScript" % (name or "this file"))
        mapped = None
        if mmap:
            mapped = np.memmap(os.fspath(f), dtype=np.uint8, mode="c")
        loader = _Loader(reader, map_location, mapped)
        if weights_only:
            try:
                return loader.load(_weights_only_unpickler.Unpickler,
                                   {"encoding": pickle_load_args["encoding"]})
            except pickle.UnpicklingError as e:
                raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        return loader.load(_full_unpickler_class(pickle_module.Unpickler), pickle_load_args)


def _not_a_checkpoint(fh, name, mmap):
    where = "'%s'" % name if name else "the given buffer"
    start = fh.tell()
    head = fh.read(64)
    fh.seek(start)
    if not head:
        return EOFError("Ran out of input: %s is empty" % where)
    if mmap:
        return RuntimeError("mmap can only be used with files saved with "
                            "`torch.save(%s_use_new_zipfile_serialization=True), please torch.save "
                            "your checkpoint with this option in order to use mmap."
                            % (name + ", " if name else ""))
    if head[:1] == b"\x80":
        return RuntimeError("%s is a legacy (PyTorch < 1.6, non-zip) checkpoint or a plain pickle; "
                            "jtorch reads only the zip format. Load it with PyTorch and save it again "
                            "with torch.save." % where)
    return RuntimeError("PytorchStreamReader failed reading zip archive %s: not a zip archive (it "
                        "does not start with a zip header), so not a file written by torch.save." % where)
