"""Reductions: sum, mean, prod, max/min (with indices), amax/amin, argmax/argmin, std/var, norm,
cumsum/cumprod, all/any, logsumexp, softmax/log_softmax."""
import builtins
import collections

import jax
import jax.numpy as jnp

from .. import _dtype as D
from . import _promotion as P
from ._registry import op


def _return_type(name, fields):
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    cls.__repr__ = lambda self: "torch.return_types.%s(\n%s)" % (
        name, ",\n".join("%s=%r" % (f, getattr(self, f)) for f in fields))
    return cls


values_indices = {n: _return_type(n, ("values", "indices")) for n in
                  ("max", "min", "median", "mode", "kthvalue", "sort", "topk", "cummax", "cummin")}


def _dims(dim, ndim):
    """torch's dim argument as a tuple of non-negative axes (None: all)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    out = []
    n = builtins.max(ndim, 1)
    for d in dims:
        if not -n <= d < n:
            raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got %d)"
                             % (-n, n - 1, d))
        out.append(d % n if ndim else None)
    return tuple(d for d in out if d is not None) or (None if not ndim else ())


def _sum_node(arrays, inputs):
    return "SumBackward0"


def _with_dtype(input, dtype):
    return input if dtype is None else input.astype(dtype.np)


@op(promote=P.integer_to_int64, node=lambda a, i: "SumBackward0")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.sum(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=P.integer_to_int64, node="NansumBackward0")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.nansum(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


def _mean_rule(dims, zero_dims, numbers):
    d = P.promote(dims, zero_dims, numbers)
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                           "point or complex dtype. Got: %s" % d._legacy)
    return d


@op(promote=_mean_rule, node="MeanBackward0")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.mean(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=_mean_rule, node="NanmeanBackward0")
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.nanmean(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=P.integer_to_int64, node="ProdBackward0")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.prod(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


def _max_min(name, reduce, arg):
    def impl(input, dim=None, keepdim=False):
        if dim is None:
            if input.size == 0:
                raise RuntimeError("%s(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument." % name)
            return reduce(input)
        if isinstance(dim, (tuple, list)):
            raise TypeError("%s(): argument 'dim' must be int, not %s" % (name, type(dim).__name__))
        (axis,) = _dims(dim, input.ndim) or (0,)
        if input.ndim == 0:
            return input, jnp.zeros((), jnp.int64)
        values = reduce(input, axis=axis, keepdims=keepdim)
        indices = arg(input, axis=axis, keepdims=keepdim).astype(jnp.int64)
        return values, indices
    impl.__name__ = name
    return impl


def _returns_values_indices(name):
    cls = values_indices[name]

    def make(*outputs):
        return cls(*outputs) if len(outputs) == 2 else outputs[0]
    return make


max = op(node="MaxBackward1", returns=_returns_values_indices("max"))(
    _max_min("max", jnp.max, jnp.argmax))
min = op(node="MinBackward1", returns=_returns_values_indices("min"))(
    _max_min("min", jnp.min, jnp.argmin))


@op(node="AmaxBackward0")
def amax(input, dim=(), keepdim=False):
    return jnp.max(input, axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(node="AminBackward0")
def amin(input, dim=(), keepdim=False):
    return jnp.min(input, axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(differentiable=False)
def argmax(input, dim=None, keepdim=False):
    if dim is None:
        return jnp.argmax(input.reshape(-1)).astype(jnp.int64).reshape((1,) * input.ndim if keepdim else ())
    return jnp.argmax(input, axis=_dims(dim, input.ndim)[0] if input.ndim else None,
                      keepdims=keepdim).astype(jnp.int64)


@op(differentiable=False)
def argmin(input, dim=None, keepdim=False):
    if dim is None:
        return jnp.argmin(input.reshape(-1)).astype(jnp.int64).reshape((1,) * input.ndim if keepdim else ())
    return jnp.argmin(input, axis=_dims(dim, input.ndim)[0] if input.ndim else None,
                      keepdims=keepdim).astype(jnp.int64)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


@op(promote=P.to_float, node="StdBackward0")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):   # std(input, unbiased) overload
        dim, unbiased = None, dim
    return jnp.std(input, axis=_dims(dim, input.ndim), ddof=_correction(unbiased, correction),
                   keepdims=keepdim)


@op(promote=P.to_float, node="VarBackward0")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return jnp.var(input, axis=_dims(dim, input.ndim), ddof=_correction(unbiased, correction),
                   keepdims=keepdim)


@op(promote=P.to_float, node="LogsumexpBackward0")
def logsumexp(input, dim, keepdim=False):
    return jax.nn.logsumexp(input, axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(differentiable=False)
def all(input, dim=None, keepdim=False):
    return jnp.all(input, axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(differentiable=False)
def any(input, dim=None, keepdim=False):
    return jnp.any(input, axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=P.integer_to_int64, node="CumsumBackward0", inplace=True)
def cumsum(input, dim, *, dtype=None):
    x = _with_dtype(input, dtype)
    return jnp.cumsum(x, axis=_dims(dim, x.ndim)[0]) if x.ndim else x


@op(promote=P.integer_to_int64, node="CumprodBackward0", inplace=True)
def cumprod(input, dim, *, dtype=None):
    x = _with_dtype(input, dtype)
    return jnp.cumprod(x, axis=_dims(dim, x.ndim)[0]) if x.ndim else x


def _softmax_rule(dims, zero_dims, numbers):
    return P.to_float(dims, zero_dims, numbers)


@op(promote=_softmax_rule, node="SoftmaxBackward0", aliases=(), saves=("result",))
def softmax(input, dim, dtype=None):
    x = _with_dtype(input, dtype)
    return jax.nn.softmax(x, axis=_dims(dim, x.ndim)[0]) if x.ndim else jnp.ones_like(x)


@op(promote=_softmax_rule, node="LogSoftmaxBackward0", saves=("result",))
def log_softmax(input, dim, dtype=None):
    x = _with_dtype(input, dtype)
    return jax.nn.log_softmax(x, axis=_dims(dim, x.ndim)[0]) if x.ndim else jnp.zeros_like(x)


@op(promote=P.to_float, node="NormBackward1")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    x = _with_dtype(input, dtype)
    axis = _dims(dim, x.ndim)
    if p == "fro" or p == 2:
        return jnp.sqrt(jnp.sum(jnp.abs(x) ** 2, axis=axis, keepdims=keepdim))
    if p == "nuc":
        return jnp.linalg.norm(x, ord="nuc", axis=axis, keepdims=keepdim)
    if p == float("inf"):
        return jnp.max(jnp.abs(x), axis=axis, keepdims=keepdim)
    if p == float("-inf"):
        return jnp.min(jnp.abs(x), axis=axis, keepdims=keepdim)
    if p == 0:
        return jnp.sum(x != 0, axis=axis, keepdims=keepdim).astype(x.dtype)
    return jnp.sum(jnp.abs(x) ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)


@op(promote=P.integer_to_int64, differentiable=False)
def count_nonzero(input, dim=None):
    return jnp.count_nonzero(input, axis=_dims(dim, input.ndim)).astype(jnp.int64)
