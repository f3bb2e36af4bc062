"""Reductions: sum, mean, prod, max/min (with indices), amax/amin, argmax/argmin, std/var, norm,
cumsum/cumprod, all/any, logsumexp, softmax/log_softmax."""
import builtins
import collections

import jax
import jax.numpy as jnp

from .. import _dtype as D
from .._tensor import Tensor
from . import _nodes as N
from . import _promotion as P
from . import _torch_grads as T
from ._registry import METHODS, TORCH, op


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
        if ndim and d % n in out:
            raise RuntimeError("dim %d appears multiple times in the list of dims" % (d % n))
        out.append(d % n if ndim else None)
    return tuple(d for d in out if d is not None) or (None if not ndim else ())


def _with_dtype(input, dtype):
    return input if dtype is None else input.astype(dtype.np)


def _as(result, dtype):
    # a bool dtype= accumulates as integers, then reads as "any nonzero" like torch's bool sum
    return result if dtype is None or result.dtype == dtype.np else result.astype(dtype.np)


def _accumulate(base):
    """sum/prod/cumsum: an explicit dtype= is the compute dtype, else `base`."""
    def rule(dims, zero_dims, numbers, static):
        return static["dtype"] if static.get("dtype") is not None else base(dims, zero_dims, numbers)
    rule.__name__ = base.__name__
    return P.StaticRule(rule)


_int64_unless_dtype = _accumulate(P.integer_to_int64)
_DIM_GIVEN = (None,)


@op(promote=_int64_unless_dtype, node=N.by_static(0, "SumBackward1", "SumBackward0", _DIM_GIVEN))
def sum(input, dim=None, keepdim=False, *, dtype=None):
    return _as(jnp.sum(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim), dtype)


@op(promote=_int64_unless_dtype, node="NansumBackward0")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return _as(jnp.nansum(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim), dtype)


@P.StaticRule
def _mean_rule(dims, zero_dims, numbers, static):
    if static["dtype"] is not None:
        d = static["dtype"]
        if not (d.is_floating_point or d.is_complex):
            raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either a "
                               "floating point or complex dtype. Got: %s" % d._legacy)
        return d
    d = P.promote(dims, zero_dims, numbers)
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                           "point or complex dtype. Got: %s" % d._legacy)
    return d


@op(promote=_mean_rule, node=N.by_static(0, "MeanBackward1", "MeanBackward0", _DIM_GIVEN))
def mean(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.mean(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=_mean_rule, node="DivBackward0")   # torch's nanmean is nansum / count
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    return jnp.nanmean(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim)


@op(promote=_int64_unless_dtype, node=N.by_static(0, "ProdBackward1", "ProdBackward0", _DIM_GIVEN))
def prod(input, dim=None, keepdim=False, *, dtype=None):
    return _as(jnp.prod(_with_dtype(input, dtype), axis=_dims(dim, input.ndim), keepdims=keepdim), dtype)


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
        # the values are read at the indices, so the gradient goes to that one element of a tie
        # (torch's rule), not shared among the ties as jnp.max's would be
        indices = arg(input, axis=axis, keepdims=True)
        values = jnp.take_along_axis(input, indices, axis=axis)
        if not keepdim:
            values, indices = jnp.squeeze(values, axis), jnp.squeeze(indices, axis)
        return values, indices.astype(jnp.int64)
    impl.__name__ = name
    return impl


def _returns_values_indices(name):
    cls = values_indices[name]

    def make(*outputs):
        return cls(*outputs) if len(outputs) == 2 else outputs[0]
    return make


max = op(node=N.by_static(0, "MaxBackward0", "MaxBackward1", _DIM_GIVEN), returns=_returns_values_indices("max"))(
    _max_min("max", T.max_all, jnp.argmax))
min = op(node=N.by_static(0, "MinBackward0", "MinBackward1", _DIM_GIVEN), returns=_returns_values_indices("min"))(
    _max_min("min", T.min_all, jnp.argmin))


def _with_binary_overload(reduce, binary_name):
    """torch.max(a, b) with a tensor b is the elementwise maximum (its own overload)."""
    def fn(input, dim=None, keepdim=False, *, other=None, out=None):
        if other is None and isinstance(dim, Tensor):
            other, dim = dim, None
        if other is not None:
            return TORCH[binary_name](input, other, out=out)
        return reduce(input, dim, keepdim, out=out)
    fn.__name__ = fn.__qualname__ = reduce.__name__
    fn.__doc__ = reduce.__doc__
    fn._op = reduce._op
    TORCH[fn.__name__] = METHODS[fn.__name__] = fn
    return fn


max = _with_binary_overload(max, "maximum")
min = _with_binary_overload(min, "minimum")


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


@op(promote=_int64_unless_dtype, node="CumsumBackward0", inplace=True)
def cumsum(input, dim, *, dtype=None):
    x = _with_dtype(input, dtype)
    return jnp.cumsum(x, axis=_dims(dim, x.ndim)[0]) if x.ndim else x


@op(promote=_int64_unless_dtype, node="CumprodBackward0", inplace=True)
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


def vector_norm(x, ord, axis, keepdim):
    """torch's vector norm, with its subgradient 0 where the norm is 0 (a plain sqrt would give NaN)."""
    a = jnp.abs(x)
    if jnp.issubdtype(a.dtype, jnp.integer) or a.dtype == jnp.bool_:
        a = a.astype(D.get_default_dtype().np)
    if ord == float("inf"):
        return jnp.max(a, axis=axis, keepdims=keepdim, initial=0 if a.size == 0 else None)
    if ord == float("-inf"):
        return jnp.min(a, axis=axis, keepdims=keepdim)
    if ord == 0:
        return jnp.sum(a != 0, axis=axis, keepdims=keepdim).astype(a.dtype)
    if ord == 1:
        return jnp.sum(a, axis=axis, keepdims=keepdim)
    s = jnp.sum(a * a if ord == 2 else a ** ord, axis=axis, keepdims=keepdim)
    zero = s == 0
    safe = jnp.where(zero, 1, s)
    return jnp.where(zero, 0, jnp.sqrt(safe) if ord == 2 else safe ** (1.0 / ord))


@op(promote=P.to_float, node=N.static(lambda arrays, inputs, sargs:
                                      "SumBackward1" if sargs[0] == "nuc" else "LinalgVectorNormBackward0"))
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    x = _with_dtype(input, dtype)
    axis = _dims(dim, x.ndim)
    if p == "nuc":
        return jnp.linalg.norm(x, ord="nuc", axis=axis, keepdims=keepdim)
    return vector_norm(x, 2 if p == "fro" else p, axis, keepdim)


@op(promote=P.integer_to_int64, differentiable=False)
def count_nonzero(input, dim=None):
    return jnp.count_nonzero(input, axis=_dims(dim, input.ndim)).astype(jnp.int64)


# -- paired reductions and scans -------------------------------------------------------------------

_MinMax = _return_type("aminmax", ("min", "max"))


@op(node="AminmaxBackward0", returns=lambda *o: _MinMax(*o))
def aminmax(input, *, dim=None, keepdim=False):
    if input.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation "
                           "has no identity.")
    axis = None if dim is None else _dims(dim, input.ndim)
    if input.ndim == 0:
        axis = None
    return (jnp.min(input, axis=axis, keepdims=keepdim if axis is not None else False),
            jnp.max(input, axis=axis, keepdims=keepdim if axis is not None else False))


def _float_or_complex(name):
    def rule(dims, zero_dims, numbers):
        d = P.promote(dims, zero_dims, numbers)
        if not (d.is_floating_point or d.is_complex):
            raise RuntimeError("%s only support floating point and complex dtypes" % name)
        return d
    rule.__name__ = name
    return rule


def _moments(input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):   # std_mean(input, unbiased) overload
        dim, unbiased = None, dim
    axis = _dims(dim, input.ndim)
    mean = jnp.mean(input, axis=axis, keepdims=keepdim)
    var = jnp.var(input, axis=axis, ddof=_correction(unbiased, correction), keepdims=keepdim)
    return var, mean


@op(promote=_float_or_complex("std_mean"), node="StdMeanBackward0", returns=lambda *o: o)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    var, mean = _moments(input, dim, unbiased, keepdim, correction)
    return jnp.sqrt(var), mean


@op(promote=_float_or_complex("var_mean"), node="VarMeanBackward0", returns=lambda *o: o)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moments(input, dim, unbiased, keepdim, correction)


def _cumulative_extreme(name, better):
    def impl(input, dim):
        if input.ndim == 0:
            return input, jnp.zeros((), jnp.int64)
        axis = _dims(dim, input.ndim)[0]
        n = input.shape[axis]
        pos = jnp.broadcast_to(jnp.arange(n).reshape((n,) + (1,) * (input.ndim - axis - 1)), input.shape)

        def combine(a, b):
            (va, ia), (vb, ib) = a, b
            # the later element wins ties (torch's index is the last one); NaN, once seen, stays
            take_b = better(vb, va) | (vb == va)
            if jnp.issubdtype(va.dtype, jnp.floating):
                take_b = (take_b & ~jnp.isnan(va)) | jnp.isnan(vb)
            return jnp.where(take_b, vb, va), jnp.where(take_b, ib, ia)
        values, indices = jax.lax.associative_scan(combine, (input, pos), axis=axis)
        return values, indices.astype(jnp.int64)
    impl.__name__ = name
    return op(node=name.capitalize() + "Backward0", returns=lambda *o: values_indices[name](*o))(impl)


cummax = _cumulative_extreme("cummax", jnp.greater)
cummin = _cumulative_extreme("cummin", jnp.less)


def _logcumsumexp_rule(dims, zero_dims, numbers):
    d = P.promote(dims, zero_dims, numbers)
    if not (d.is_floating_point or d.is_complex):
        raise NotImplementedError("\"logcumsumexp_out_cpu\" not implemented for '%s'" % d._legacy)
    return d


@op(promote=_logcumsumexp_rule, node="LogcumsumexpBackward0")
def logcumsumexp(input, dim):
    if input.ndim == 0:
        return input
    return jax.lax.cumlogsumexp(input, axis=_dims(dim, input.ndim)[0])


@op(tensors="input prepend append", promote=P.keep, node="SubBackward0")
def diff(input, n=1, dim=-1, prepend=None, append=None):
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError("order must be non-negative but got %d" % n)
    axis = _dims(dim, input.ndim)[0]
    parts = [p for p in (prepend, input, append) if p is not None]
    x = jnp.concatenate([jnp.broadcast_to(p, input.shape[:axis] + (1,) + input.shape[axis + 1:])
                         if p.ndim == 0 else p for p in parts], axis=axis) if len(parts) > 1 else input
    for _ in range(n):
        a = jax.lax.slice_in_dim(x, 1, x.shape[axis], axis=axis)
        b = jax.lax.slice_in_dim(x, 0, x.shape[axis] - 1, axis=axis)
        x = jnp.logical_xor(a, b) if x.dtype == jnp.bool_ else a - b
    return x


def _trapezoid_node(arrays, inputs):
    return "DivBackward1" if builtins.any(s == 1 for s, _ in inputs) else "MulBackward1"


@op(tensors="y x", promote=P.to_float, node=_trapezoid_node, aliases=("trapz",), method=False)
def trapezoid(y, x=None, *, dx=None, dim=-1):
    axis = _dims(dim, y.ndim)[0]
    n = y.shape[axis]
    left = jax.lax.slice_in_dim(y, 0, builtins.max(n - 1, 0), axis=axis)
    right = jax.lax.slice_in_dim(y, 1, n, axis=axis) if n else left
    if x is None:
        return jnp.sum(left + right, axis=axis) * ((1 if dx is None else dx) / 2)
    dxs = jnp.diff(x, axis=axis if x.ndim == y.ndim else -1)
    if x.ndim == 1 and y.ndim > 1:
        dxs = dxs.reshape((-1,) + (1,) * (y.ndim - axis - 1))
    return jnp.sum(dxs * (left + right), axis=axis) / 2


@op(tensors="y x", promote=P.to_float, node=N.by_tensor(1, "DivBackward1", "CumsumBackward0"), method=False)
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    axis = _dims(dim, y.ndim)[0]
    n = y.shape[axis]
    left = jax.lax.slice_in_dim(y, 0, builtins.max(n - 1, 0), axis=axis)
    right = jax.lax.slice_in_dim(y, 1, n, axis=axis) if n else left
    if x is None:
        return jnp.cumsum((left + right) * ((1 if dx is None else dx) / 2), axis=axis)
    dxs = jnp.diff(x, axis=axis if x.ndim == y.ndim else -1)
    if x.ndim == 1 and y.ndim > 1:
        dxs = dxs.reshape((-1,) + (1,) * (y.ndim - axis - 1))
    return jnp.cumsum(dxs * (left + right), axis=axis) / 2
