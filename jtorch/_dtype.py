"""torch's dtypes, their numpy/JAX equivalents, and PyTorch's type-promotion rules."""
import builtins

import jax.numpy as jnp
import ml_dtypes
import numpy as np


class dtype:
    """A torch dtype: `torch.float32` and friends. Compared by identity, as in torch."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_legacy")

    def __init__(self, name, np_dtype, legacy):
        self.name = name
        self.np = np.dtype(np_dtype)
        kind = self.np.kind
        self.is_floating_point = kind == "f" or np_dtype is ml_dtypes.bfloat16
        self.is_complex = kind == "c"
        self.is_signed = kind in "fci" or np_dtype is ml_dtypes.bfloat16
        self.itemsize = self.np.itemsize
        self._legacy = legacy

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        # pickles as the module attribute, as torch does
        return self.name

    def to_real(self):
        return {"complex32": float16, "complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128, "float16": complex32}.get(self.name, complex64) \
            if not self.is_complex else self


float16 = dtype("float16", np.float16, "Half")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, "BFloat16")
float32 = dtype("float32", np.float32, "Float")
float64 = dtype("float64", np.float64, "Double")
complex64 = dtype("complex64", np.complex64, "ComplexFloat")
complex128 = dtype("complex128", np.complex128, "ComplexDouble")
uint8 = dtype("uint8", np.uint8, "Byte")
int8 = dtype("int8", np.int8, "Char")
int16 = dtype("int16", np.int16, "Short")
int32 = dtype("int32", np.int32, "Int")
int64 = dtype("int64", np.int64, "Long")
bool = dtype("bool", np.bool_, "Bool")  # noqa: A001 - torch's name

# torch's experimental ComplexHalf. XLA has no complex32, so jtorch knows the dtype (promotion
# yields it: a float16 tensor plus 1j is complex32 in torch) but refuses to make a tensor of it,
# rather than quietly computing in complex64. The numpy stand-in is never used for data.
complex32 = dtype("complex32", np.complex64, "ComplexHalf")
complex32.itemsize = 4


def unsupported(d):
    """The error for a tensor of a dtype jtorch cannot hold."""
    return NotImplementedError("jtorch cannot make a tensor of dtype %s (torch's experimental ComplexHalf): "
                               "XLA has no such type; cast to torch.complex64 first" % d)

ALL = (float16, bfloat16, float32, float64, complex64, complex128,
       uint8, int8, int16, int32, int64, bool)
ALIASES = {"half": float16, "float": float32, "double": float64, "cfloat": complex64,
           "cdouble": complex128, "chalf": complex32, "short": int16, "int": int32, "long": int64}

_BY_NP = {d.np: d for d in ALL}


def from_numpy_dtype(np_dtype):
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError("can't convert np.ndarray of type %s. The only supported types are: float64, "
                        "float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
                        "and bool." % np.dtype(np_dtype)) from None


_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def default_complex():
    return complex128 if _default_float is float64 else complex64


def _category(d):
    if d is bool:
        return 0
    if d.is_complex:
        return 3
    if d.is_floating_point:
        return 2
    return 1


def promote_types(a, b):
    """torch.promote_types: JAX's lattice, with x64 on and no weak types, is PyTorch's for these dtypes."""
    if a is b:
        return a
    if a is complex32 or b is complex32:
        # complex of the promoted real parts, as c10 does (complex32 with float32 is complex64)
        return promote_types(a.to_real(), b.to_real()).to_complex()
    return _BY_NP[np.dtype(jnp.promote_types(a.np, b.np))]


def scalar_dtype(value):
    """The dtype a Python number takes when it stands alone as a tensor."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float
    if isinstance(value, complex):
        return default_complex()
    raise TypeError("not a number: %r" % (value,))


def _combine(higher, lower):
    # c10's combine_categories: a lower-priority operand only changes the result
    # when it is of a higher category (an int tensor plus a float number is float)
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type_of(dims, zero_dims, numbers):
    """PyTorch's three-tier promotion: tensors with dimensions beat 0-d tensors beat numbers,
    except that a higher category (bool < int < float < complex) always wins."""
    def fold(ds):
        out = None
        for d in ds:
            out = d if out is None else promote_types(out, d)
        return out
    wrapped = None
    for v in numbers:
        d = scalar_dtype(v)
        if d.is_floating_point:
            d = _default_float
        wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(fold(dims), _combine(fold(zero_dims), wrapped))


def can_cast(from_, to):
    """torch.can_cast: casting may not lower the category (float to int, complex to float, to bool)."""
    return _category(from_) <= _category(to)
