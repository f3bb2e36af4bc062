"""Creation ops: tensor, as_tensor, from_numpy, zeros/ones/full/empty (and _like, new_), arange,
linspace, logspace, eye, scalar_tensor. They take no tensor inputs, so they are plain functions
registered into the torch namespace rather than dispatched through the op table."""
import builtins
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import _device as dev
from .. import _dtype as D
from .._tensor import Tensor
from . import _ranges
from ._registry import TORCH, METHODS


def function(fn=None, *, method=False, name=None):
    """Register a plain function in the torch namespace (and as a Tensor method)."""
    def register(f):
        n = name or f.__name__
        if n in TORCH:
            raise RuntimeError("function %r is registered twice" % n)
        TORCH[n] = f
        if method:
            METHODS[n] = f
        return f
    return register(fn) if fn is not None else register


def _size(size, name="zeros"):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError("%s(): argument 'size' failed to unpack the object at pos %d with error \"type must "
                            "be tuple of ints,but got %s\"" % (name, len(out) + 1, type(s).__name__))
        out.append(int(s))
    for s in out:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError("Trying to create tensor with negative dimension %d: %s" % (s, list(out)))
    return tuple(out)


def _place(value, dtype, device, requires_grad=False, out=None):
    device = dev.canonical(device)
    if device.type != "cpu":
        value = jax.device_put(value, dev.jax_device(device))
    t = Tensor._from_value(value, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad = True
    if out is not None:
        out._assign(t)
        return out
    return t


def _dtype_or_default(dtype):
    return D.get_default_dtype() if dtype is None else dtype


def _filled(size, fill, dtype, device, requires_grad, out=None, name="zeros"):
    if dtype is None and out is not None:
        dtype = out.dtype
    dtype = _dtype_or_default(dtype)
    if isinstance(fill, Tensor):
        fill = fill.item()
    return _place(jnp.full(_size(size, name), fill, dtype=dtype.np), dtype, device, requires_grad, out)


@function
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(size, 0, dtype, device, requires_grad, out)


@function
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(size, 1, dtype, device, requires_grad, out, name="ones")


@function
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """Unlike torch, the memory is zero-filled (XLA has no uninitialised buffers)."""
    return _filled(size, 0, dtype, device, requires_grad, out, name="empty")


@function
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    return _filled((size,), fill_value, dtype, device, requires_grad, out, name="full")


def _like(name, fill):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        return _filled(input._shape, fill, dtype or input.dtype,
                       device if device is not None else input._device, requires_grad)
    like.__name__ = name
    return function(like)


zeros_like = _like("zeros_like", 0)
ones_like = _like("ones_like", 1)
empty_like = _like("empty_like", 0)


@function
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return _filled(input._shape, fill_value, dtype or input.dtype,
                   device if device is not None else input._device, requires_grad)


def _new(name, fill):
    def new(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _filled(size, fill, dtype or self.dtype, device if device is not None else self._device,
                       requires_grad)
    new.__name__ = name
    METHODS[name] = new
    return new


new_zeros = _new("new_zeros", 0)
new_ones = _new("new_ones", 1)
new_empty = _new("new_empty", 0)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    return _filled((size,), fill_value, dtype or self.dtype,
                   device if device is not None else self._device, requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    return tensor(data, dtype=dtype or self.dtype, device=device if device is not None else self._device,
                  requires_grad=requires_grad)


METHODS["new_full"] = new_full
METHODS["new_tensor"] = new_tensor


def _infer_numpy(data):
    """numpy array and torch dtype for Python data, with torch's inference rules: a sequence's
    dtype is the promotion of its items' (Python numbers, numpy scalars and arrays, tensors)."""
    if isinstance(data, Tensor):
        return np.asarray(data._value()), data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data), D.from_numpy_dtype(data.dtype)
    dtype = _infer_dtype(data)
    if isinstance(data, (list, tuple)):
        data = _tensors_to_lists(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError("expected sequence of equal-length lists: %s" % e) from None
    if arr.dtype == object:
        raise ValueError("expected sequence of equal-length lists (got a ragged sequence)")
    if not arr.size and dtype is None:
        dtype = D.get_default_dtype()
    return arr, dtype


def _infer_dtype(x):
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return D.from_numpy_dtype(x.dtype)
    if isinstance(x, builtins.bool):
        return D.bool
    if isinstance(x, int):
        return D.int64
    if isinstance(x, float):
        return D.get_default_dtype()
    if isinstance(x, builtins.complex):
        return D.default_complex()
    if isinstance(x, (list, tuple)):
        out = None
        for item in x:
            d = _infer_dtype(item)
            out = d if out is None else D.promote_types(out, d)
        return out if out is not None else D.get_default_dtype()
    raise TypeError("new(): invalid data type '%s'" % type(x).__name__)


def _tensors_to_lists(seq):
    out = []
    for x in seq:
        if isinstance(x, Tensor):
            if x.numel() != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            out.append(x.item())
        elif isinstance(x, (list, tuple)):
            out.append(_tensors_to_lists(x))
        else:
            out.append(x)
    return out


@function
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    arr, inferred = _infer_numpy(data)
    dtype = dtype or inferred
    if isinstance(data, Tensor) and device is None:
        device = data._device
    return _place(jnp.asarray(np.asarray(arr).astype(dtype.np)), dtype, device, requires_grad)


@function
def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        if (dtype is None or dtype is data.dtype) and (device is None or dev.canonical(device) == data._device):
            return data
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and dtype in (None, D.from_numpy_dtype(data.dtype)) \
            and dev.canonical(device).type == "cpu":
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


@function
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    if requires_grad:
        t.requires_grad_(True)
    return t


@function
def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError("expected np.ndarray (got %s)" % type(ndarray).__name__)
    return Tensor._from_host(ndarray)


@function
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=None):
    dtype = _dtype_or_default(dtype)
    return _place(jnp.asarray(s, dtype=dtype.np), dtype, device, requires_grad)


def _number(x):
    return x.item() if isinstance(x, Tensor) else x


@function
def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if dtype is None and out is not None:
        dtype = out.dtype
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = D.get_default_dtype() if is_float else D.int64
    values = _ranges.arange_values(start, end, step, dtype)
    return _place(jnp.asarray(values), dtype, device, requires_grad, out)


def _check_steps(name, start, end, steps):
    if isinstance(steps, Tensor) and not steps.is_floating_point():
        return
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, builtins.bool):
        raise TypeError("%s() received an invalid combination of arguments - got (%s), but expected one of:"
                        % (name, ", ".join(type(x).__name__ for x in (start, end, steps))))


@function
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_steps("linspace", start, end, steps)
    dtype = _dtype_or_default(dtype if dtype is not None or out is None else out.dtype)
    values = _ranges.linspace_values(_number(start), _number(end), int(steps), dtype)
    return _place(jnp.asarray(values), dtype, device, requires_grad, out)


@function
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    _check_steps("logspace", start, end, steps)
    dtype = _dtype_or_default(dtype if dtype is not None or out is None else out.dtype)
    values = _ranges.logspace_values(_number(start), _number(end), int(steps), base, dtype)
    return _place(jnp.asarray(values), dtype, device, requires_grad, out)


@function
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _dtype_or_default(dtype)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError("%s must be greater or equal to 0, got %d" % (name, v))
    return _place(jnp.eye(n, n if m is None else m, dtype=dtype.np), dtype, device, requires_grad, out)


@function
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    return zeros(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


# -- legacy constructors: torch.Tensor(2, 3), torch.FloatTensor([1, 2]) ----------------------------

def legacy_new(dtype, args, device=None):
    """torch.Tensor(*args) (dtype None: the default dtype) and torch.<Type>Tensor(*args)."""
    from .._size import Size
    name = "new" if dtype is None else "new"
    target = dtype or D.get_default_dtype()
    if not args:
        return empty(0, dtype=target, device=device)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if dtype is not None and a.dtype is not dtype:
                raise TypeError("expected %s (got %s)" % (dtype._legacy, a.dtype._legacy))
            return a.detach()
        if isinstance(a, Size) or (isinstance(a, (int, np.integer)) and not isinstance(a, builtins.bool)):
            return empty(*((a,) if not isinstance(a, Size) else a), dtype=target, device=device)
        if isinstance(a, (list, tuple, np.ndarray)):
            return tensor(a, dtype=target, device=device)
        raise TypeError("%s(): data must be a sequence (got %s)" % (name, type(a).__name__))
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, builtins.bool):
            raise TypeError("%s() received an invalid combination of arguments - got (%s)"
                            % (name, ", ".join(type(x).__name__ for x in args)))
    return empty(*args, dtype=target, device=device)


class _LegacyType(type):
    """torch.FloatTensor and kin: calling one builds a tensor of its dtype; isinstance checks the dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        return legacy_new(cls.dtype, args, device)


def _legacy_type(name, dtype):
    return _LegacyType(name, (), {"dtype": dtype, "__module__": "torch"})


FloatTensor = _legacy_type("FloatTensor", D.float32)
DoubleTensor = _legacy_type("DoubleTensor", D.float64)
HalfTensor = _legacy_type("HalfTensor", D.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", D.bfloat16)
LongTensor = _legacy_type("LongTensor", D.int64)
IntTensor = _legacy_type("IntTensor", D.int32)
ShortTensor = _legacy_type("ShortTensor", D.int16)
CharTensor = _legacy_type("CharTensor", D.int8)
ByteTensor = _legacy_type("ByteTensor", D.uint8)
BoolTensor = _legacy_type("BoolTensor", D.bool)
LEGACY_TYPES = (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor,
                CharTensor, ByteTensor, BoolTensor)


# -- complex numbers from parts ----------------------------------------------------------------------

def _check_parts(real, imag, second="second"):
    names = {np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)}
    a, b = real.dtype, imag.dtype
    if a.np not in names or b.np not in names:
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got %s and %s"
                           % (a._legacy, b._legacy))
    if a is not b:
        raise RuntimeError("Expected object of scalar type %s but got scalar type %s for %s argument"
                           % (a._legacy, b._legacy, second))


def _complex_of(re, im):
    return jax.lax.complex(re, im) if re.dtype != jnp.float16 else jax.lax.complex(re.astype(jnp.float32),
                                                                                    im.astype(jnp.float32))


from ._registry import op as _op  # noqa: E402


@_op(tensors="real imag", node="ComplexBackward0", method=False, check=_check_parts)
def complex(real, imag):
    re, im = jnp.broadcast_arrays(real, imag)
    return _complex_of(re, im)


@_op(tensors="abs angle", node="PolarBackward0", method=False,
     check=lambda abs, angle: _check_parts(abs, angle))
def polar(abs, angle):
    r, th = jnp.broadcast_arrays(abs, angle)
    return _complex_of(r * jnp.cos(th), r * jnp.sin(th))


def new(self, *args, device=None):
    """Tensor.new(...): the legacy constructor with this tensor's dtype and device."""
    return legacy_new(self.dtype, args, device if device is not None else self._device)


METHODS["new"] = new
