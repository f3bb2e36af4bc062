"""Reading checkpoints: torch's global names resolved to jtorch's objects, the tensor rebuild
functions of torch._utils, checkpoint storages (read on first use, placed by map_location), and
views over them (NOTE [Checkpoint files] in serialization.py)."""
import functools
import importlib
import io
import math
import re
import sys
import threading

import jax
import numpy as np

from . import _device as dev
from . import _dtype as D
from . import _storage as S
from . import _weights_only_unpickler
from ._size import Size
from ._tensor import Tensor


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


def fits(shape, stride, offset, numel):
    """Whether a strided window (non-negative strides) lies inside a storage of `numel` elements."""
    if math.prod(shape) == 0:
        return 0 <= offset <= numel
    if any(st < 0 for st in stride):
        return False
    return offset >= 0 and offset + sum((s - 1) * st for s, st in zip(shape, stride)) < numel


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
        if len(size) != len(stride) or not fits(size, stride, offset, self._numel):
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
        if self._loader.source.mapped is not None and self._device.type == "cpu":
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


class _ZipSource:
    """Storage bytes from the `data/<key>` records of a zip checkpoint (memory-mapped or read)."""

    def __init__(self, reader, mapped):
        self.reader, self.mapped = reader, mapped
        byteorder = "little"  # torch's default for checkpoints without a byte order record
        if reader.has_record("byteorder"):
            byteorder = bytes(reader.read("byteorder")).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise ValueError("Unknown endianness type: " + byteorder)
        self.swap = byteorder != sys.byteorder

    def pickle_file(self):
        return io.BytesIO(bytes(self.reader.read("data.pkl")))

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
        return values.byteswap() if self.swap else values


class _LegacySource:
    """Storage bytes of a legacy (PyTorch < 1.6) checkpoint: `offsets` maps each storage key to
    where its data starts and its element count, as the file records them."""

    mapped = None

    def __init__(self, fh, pickled, offsets, swap, display_name):
        self.fh, self.pickled, self.offsets, self.swap = fh, pickled, offsets, swap
        self.name = display_name

    def pickle_file(self):
        return io.BytesIO(self.pickled)  # storages are read from fh while this is unpickled

    def read(self, key, dtype, numel):
        where = " of '%s'" % self.name if self.name else ""
        if key not in self.offsets or self.offsets[key][1] != numel:
            raise RuntimeError("storage %s%s is missing or has the wrong size: the legacy checkpoint "
                               "is corrupted" % (key, where))
        values = np.empty(numel, dtype.np)
        self.fh.seek(self.offsets[key][0])
        if self.fh.readinto(values.view(np.uint8)) != values.nbytes:
            raise RuntimeError("unexpected end of file in storage %s%s: the legacy checkpoint is "
                               "truncated" % (key, where))
        return values.byteswap() if self.swap else values


class _Loader:
    def __init__(self, source, map_location):
        self.source = source
        self.restore = _restore_location(map_location)
        self.storages = {}

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
        if typename == "module":  # legacy files name nn.Module classes so, with their source
            return saved_id[1]
        if typename != "storage":
            raise AssertionError("Unknown typename for persistent_load, expected 'storage' but got "
                                 "'%s'" % typename)
        storage_type, key, location, numel = saved_id[1:5]
        if len(saved_id) > 5 and saved_id[5] is not None:
            raise RuntimeError("this legacy checkpoint holds storage views (PyTorch < 0.4), which "
                               "jtorch cannot load")
        if not isinstance(storage_type, StorageType):
            raise RuntimeError("unknown storage type %r in checkpoint" % (storage_type,))
        return self.storage(key, storage_type.dtype, numel,
                            location=_weights_only_unpickler._decode_ascii(location))

    def read(self, key, dtype, numel):
        return self.source.read(key, dtype, numel)

    def load(self, unpickler_class, pickle_load_args):
        unpickler = unpickler_class(self.source.pickle_file(), **pickle_load_args)
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


