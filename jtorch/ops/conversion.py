"""dtype and device conversions: to, type, float/double/long/..., cpu, cuda, clone, contiguous."""
import builtins

import jax

from .. import _device as dev
from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ._registry import METHODS, op


@op(function=False, method=False, node="ToCopyBackward0", saves=())
def _cast(input, dtype):
    return input.astype(dtype.np)


@op(node="CloneBackward0", saves=())
def clone(input, *, memory_format=None):
    # jax values are immutable: the clone is a new root tensor, sharing the buffer is harmless
    return input


def _to_dtype(t, dtype, copy=False):
    if dtype is t.dtype and not copy:
        return t
    if not isinstance(dtype, D.dtype):
        raise TypeError("to() received an invalid combination of arguments - got dtype=%r" % (dtype,))
    if dtype is D.complex32:
        raise D.unsupported(dtype)
    return _cast(t, dtype)


def _to_device(t, device, copy=False):
    device = dev.canonical(device)
    if device is t._device and not copy:
        return t
    return _ToCopy.apply(t, device)


class _ToCopy(Function):
    """A move between devices: an eager jax.device_put each way (a jitted one cannot take a value
    committed to one device to another), recorded as torch's ToCopyBackward0."""

    @staticmethod
    def forward(ctx, input, device):
        ctx.source = input._device
        value = jax.device_put(input._value(), dev.jax_device(device))
        return Tensor._from_value(value, dtype=input.dtype, device=device)

    @staticmethod
    def backward(ctx, grad):
        return _ToCopy.apply(grad, ctx.source), None


_ToCopy._backward_cls.__name__ = _ToCopy._backward_cls.__qualname__ = "ToCopyBackward0"


def _parse_to(args, kwargs):
    """Tensor.to's overloads: to(dtype), to(device, dtype), to(tensor), and keywords."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    flags = []      # to(device, dtype, non_blocking, copy): trailing booleans
    for a in args:
        if isinstance(a, bool):
            flags.append(a)
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, dev.device, int)):
            if device is not None:   # to("cpu", "float"): the second must be a dtype
                raise TypeError("to() received an invalid combination of arguments - got (%s), but expected "
                                "one of:" % ", ".join(builtins.type(x).__name__ for x in args))
            device = a
        elif isinstance(a, Tensor):
            device, dtype = a._device, a.dtype
        elif a is None:
            continue
        else:
            raise TypeError("to() received an invalid combination of arguments - got (%s)"
                            % type(a).__name__)
    copy = kwargs.pop("copy", len(flags) > 1 and flags[1])
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError("to() got an unexpected keyword argument '%s'" % next(iter(kwargs)))
    return device, dtype, copy


def to(self, *args, **kwargs):
    device, dtype, copy = _parse_to(args, kwargs)
    out = self
    if dtype is not None:
        out = _to_dtype(out, dtype, copy)
        copy = False
    if device is not None:
        out = _to_device(out, device, copy)
        copy = False
    if copy:
        out = clone(out)
    return out


def type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return "torch.%sTensor" % self.dtype._legacy if self._device.type == "cpu" else \
            "torch.cuda.%sTensor" % self.dtype._legacy
    device = None
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1].replace("Tensor", "")
        device = "cuda" if dtype.startswith("torch.cuda.") else "cpu"
        found = [d for d in D.ALL if d._legacy == name]
        if not found:
            raise ValueError("invalid type: '%s'" % dtype)
        dtype = found[0]
    elif isinstance(getattr(dtype, "dtype", None), D.dtype):   # torch.LongTensor and kin
        dtype = dtype.dtype
    out = _to_dtype(self, dtype)
    return out if device is None else _to_device(out, device)


def cpu(self, memory_format=None):
    return _to_device(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    return _to_device(self, "cuda" if device is None else device)


def get_device(self):
    return -1 if self._device.type == "cpu" else self._device.index


def contiguous(self, memory_format=None):
    return self if self.is_contiguous() else clone(self)


METHODS.update(to=to, type=type, cpu=cpu, cuda=cuda, contiguous=contiguous, get_device=get_device)

_CASTS = {"float": D.float32, "double": D.float64, "half": D.float16, "bfloat16": D.bfloat16,
          "long": D.int64, "int": D.int32, "short": D.int16, "char": D.int8, "byte": D.uint8,
          "bool": D.bool, "cfloat": D.complex64, "cdouble": D.complex128, "chalf": D.complex32}


def _cast_method(dtype):
    def cast(self, memory_format=None):
        return _to_dtype(self, dtype)
    return cast


for _name, _dt in _CASTS.items():
    METHODS[_name] = _cast_method(_dt)


# -- in-place fills and copies -------------------------------------------------------------------

def _check_copy(input, src):
    if tuple(src.shape) != tuple(input.shape):
        from . import _views as V
        V.expand(tuple(src.shape), (0,) * src.dim(), 0, tuple(input.shape))


@op(tensors="input src", function=False, method=False, node="CopyBackwards", saves=(), out=False,
    check=_check_copy)
def _copy(input, src):
    return jax.numpy.broadcast_to(_astype(src, input.dtype), input.shape)


def _astype(x, dtype):
    # torch's copy_ from complex to real keeps the real part (numpy would warn about it)
    if jax.numpy.issubdtype(x.dtype, jax.numpy.complexfloating) and \
            not jax.numpy.issubdtype(dtype, jax.numpy.complexfloating):
        x = jax.numpy.real(x)
    return x.astype(dtype)


def copy_(self, src, non_blocking=False):
    if isinstance(src, (int, float, complex, bool)):
        return fill_(self, src)
    if not isinstance(src, Tensor):
        raise TypeError("copy_(): argument 'other' (position 1) must be Tensor, not %s" % builtins.type(src).__name__)
    if src._device != self._device:
        src = _to_device(src, self._device)
    self._inplace_update(_copy(self, src))
    return self


def _fill_scalar_impl(input, value):
    return jax.numpy.full(input.shape, _astype(jax.numpy.asarray(value), input.dtype))


def _check_fill_scalar(input, value):
    from .indexing import check_real_value
    check_real_value(input, value)


def _check_fill(input, value):
    if value.dim():
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with %d dimensions."
                           % value.dim())
    _check_fill_scalar(input, value)


def _fill_tensor_impl(input, value):
    return jax.numpy.broadcast_to(_astype(value, input.dtype), input.shape)


# torch's node names: torch.fill 0 (number) / 1 (tensor), Tensor.fill_ 2 / 3
_fill_scalar = op(tensors="input", function=False, method=False, inplace=True, node="FillBackward2", saves=(),
                  check=_check_fill_scalar, name="_fill_scalar")(_fill_scalar_impl)
_fill_tensor = op(tensors="input value", function=False, method=False, inplace=True, node="FillBackward3",
                  saves=(), check=_check_fill, name="_fill_tensor")(_fill_tensor_impl)
_fill_scalar_out = op(tensors="input", function=False, method=False, node="FillBackward0", saves=(),
                      check=_check_fill_scalar, name="_fill_scalar_out")(_fill_scalar_impl)
_fill_tensor_out = op(tensors="input value", function=False, method=False, node="FillBackward1", saves=(),
                      check=_check_fill, name="_fill_tensor_out")(_fill_tensor_impl)


def fill(input, value):
    return (_fill_tensor_out if isinstance(value, Tensor) else _fill_scalar_out)(input, value)


def fill_(self, value):
    if isinstance(value, Tensor):
        return METHODS["_fill_tensor_"](self, value)
    return METHODS["_fill_scalar_"](self, value)


@op(function=False, method=False, inplace=True, node="ZeroBackward0", saves=())
def _zero(input):
    return jax.numpy.zeros_like(input)


def zero_(self):
    return METHODS["_zero_"](self)


def detach(input):
    return input.detach()


def _register_fills():
    from ._registry import TORCH
    METHODS.update(copy_=copy_, fill_=fill_, zero_=zero_)
    TORCH.update(fill=fill, fill_=fill_, zero_=zero_, detach=detach)


_register_fills()
