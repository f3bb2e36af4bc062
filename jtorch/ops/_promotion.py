"""Type-promotion rules an op declares: each maps its operands' dtypes to the dtype it computes in.

A rule receives `dims`, `zero_dims` and `numbers` (dtypes of tensors with dimensions, dtypes of
0-d tensors, and the Python numbers) and returns the compute dtype, or None to leave operands as
they are. Operands are cast to that dtype before the op's JAX function sees them.
"""
from .. import _dtype as D


def promote(dims, zero_dims, numbers):
    """Arithmetic: PyTorch's result_type."""
    return D.result_type_of(dims, zero_dims, numbers)


def to_float(dims, zero_dims, numbers):
    """sqrt, exp, true division...: integers and bools compute in the default float dtype."""
    d = D.result_type_of(dims, zero_dims, numbers)
    return d if d.is_floating_point or d.is_complex else D.get_default_dtype()


def integer_to_int64(dims, zero_dims, numbers):
    """sum, prod, cumsum: integer and bool inputs accumulate in int64."""
    d = D.result_type_of(dims, zero_dims, numbers)
    return d if d.is_floating_point or d.is_complex else D.int64


def keep(dims, zero_dims, numbers):
    """Shape, indexing and other ops that never change dtype."""
    return None


def real_float(dims, zero_dims, numbers):
    """Float-only ops (atan2, hypot): like to_float, complex is not promoted further."""
    return to_float(dims, zero_dims, numbers)


class StaticRule:
    """A rule that also reads the op's static arguments: `rule(dims, zero_dims, numbers, static)`
    with `static` a dict of them (div's rounding_mode keeps integers integral)."""
    __slots__ = ("fn", "__name__")

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = fn.__name__

    def __call__(self, dims, zero_dims, numbers, static):
        return self.fn(dims, zero_dims, numbers, static)
