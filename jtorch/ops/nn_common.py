"""Shared pieces of the nn op files (nn_*.py): argument normalisation as torch does it, the
registration of plain Python functions into torch.nn.functional, and in-place application.

The nn.functional surface is partly table ops (differentiable kernels declared with
`@op(namespace="nn.functional")` or private `_name` ops) and partly plain functions that
normalise arguments (ints to tuples, strings to enums) before calling those ops; static
arguments of ops must be hashable, so lists become tuples here.
"""
import collections.abc
import warnings

from .. import _dtype as D
from .._tensor import Tensor
from ._registry import NAMESPACES, TORCH
from .pointwise import refuse_bool_subtraction

F = NAMESPACES.setdefault("nn.functional", {})


def functional(fn=None, *, name=None, torch=False):
    """Register a plain function in torch.nn.functional (and, with torch=True, in torch too)."""
    def register(f):
        n = name or f.__name__
        if n in F:
            raise RuntimeError("nn.functional.%s is registered twice" % n)
        F[n] = f
        if torch:
            if n in TORCH:
                raise RuntimeError("function %r is registered twice" % n)
            TORCH[n] = f
        return f
    return register(fn) if fn is not None else register


def ntuple(x, n, name="kernel_size"):
    """torch's _ntuple: an int repeated n times, or a sequence of n ints, as a tuple."""
    if isinstance(x, Tensor):
        x = x.tolist()
    if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
        t = tuple(int(v) for v in x)
        if len(t) == 1 and n > 1:
            return t * n
        return t
    return (int(x),) * n


def check_bool_sub(*operands):
    """torch's refusal of `a - b` with a bool operand (tensors or dtypes), for functions torch
    composes of a subtraction that jtorch computes in one op on float-promoted operands."""
    refuse_bool_subtraction([(t.dtype if isinstance(t, Tensor) else t) is D.bool for t in operands])


def reduction_name(size_average=None, reduce=None, reduction="mean"):
    """The legacy size_average/reduce pair as a reduction string (torch's legacy_get_string)."""
    if size_average is None and reduce is None:
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError("%s is not a valid value for reduction" % reduction)
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='%s' instead."
                  % ("mean" if (size_average is None or size_average) and (reduce is None or reduce)
                     else "sum" if reduce is None or reduce else "none"), stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    if reduce:
        return "sum"
    return "none"


def apply_inplace(input, result):
    """Write an out-of-place result into `input` the way Tensor.op_() does, and return input."""
    if result._shape != input._shape:
        raise RuntimeError("output with shape %s doesn't match the broadcast shape %s"
                           % (list(input._shape), list(result._shape)))
    input._inplace_update(result)
    return input


def is_tracer(value):
    import jax
    return isinstance(value, jax.core.Tracer)


def concrete(t, cpu_only=True):
    """The numpy value of a tensor for a value check, or None: inside jtorch.compile (a tracer), and
    for accelerator tensors unless cpu_only=False, where torch itself checks asynchronously (a
    device-side assert) and reading the value here would stall every step on a device sync."""
    import numpy as np
    if cpu_only and t._device.type != "cpu":
        return None
    v = t._value()
    if is_tracer(v):
        return None
    return np.asarray(v)


def dtype_name(d):
    """torch's ScalarType name in messages: Float, Double, Long..."""
    return d._legacy
