"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, histc, and the concrete-only unique, unique_consecutive and bincount.

NaN sorts above every number, as in torch. unique/bincount have data-dependent result sizes, so
they read concrete values (like nonzero) and raise a clear error under jtorch.compile / jax.jit.
"""
import builtins

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from . import _nodes as N
from . import _promotion as P
from . import _torch_grads as T
from ._registry import METHODS, TORCH, op
from .reduction import _dims, values_indices


def _axis(dim, ndim):
    return _dims(dim, ndim)[0] if ndim else 0


def _order(x, axis, descending, stable=True):
    """Indices that sort x along axis; NaN counts as the largest value (torch's order)."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        nan = jnp.isnan(x)
        if descending:
            # sort by (not nan, -x): NaN first, then largest
            key = jnp.where(nan, -jnp.inf, -x)
            idx = jnp.lexsort((key, ~nan), axis=axis)
            return idx
        return jnp.argsort(x, axis=axis, stable=True)
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.int8)
    return jnp.argsort(x, axis=axis, stable=True, descending=descending)


def _vi(name):
    cls = values_indices[name]
    return lambda *o: cls(*o)


@op(node=N.by_static(2, "SortBackward1", "SortBackward0", (None,)), returns=_vi("sort"))
def sort(input, dim=-1, descending=False, *, stable=None):
    if input.ndim == 0:
        return input, jnp.zeros((), jnp.int64)
    axis = _axis(dim, input.ndim)
    idx = _order(input, axis, descending)
    return jnp.take_along_axis(input, idx, axis=axis), idx.astype(jnp.int64)


@op(differentiable=False)
def argsort(input, dim=-1, descending=False, *, stable=False):
    if input.ndim == 0:
        return jnp.zeros((), jnp.int64)
    return _order(input, _axis(dim, input.ndim), descending).astype(jnp.int64)


@op(node="SortBackward0")
def msort(input):
    if input.ndim == 0:
        return input
    return jnp.take_along_axis(input, _order(input, 0, False), axis=0)


@op(node="TopkBackward0", returns=_vi("topk"))
def topk(input, k, dim=-1, largest=True, sorted=True):
    n = input.shape[_axis(dim, input.ndim)] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return input, jnp.zeros((), jnp.int64)
    axis = _axis(dim, input.ndim)
    idx = jax.lax.slice_in_dim(_order(input, axis, largest), 0, k, axis=axis)
    return jnp.take_along_axis(input, idx, axis=axis), idx.astype(jnp.int64)


def _pick(input, dim, keepdim, position):
    """The element at sorted `position` along dim (an int, or an array per row), with its index."""
    if input.ndim == 0:
        return input, jnp.zeros((), jnp.int64)
    axis = _axis(dim, input.ndim)
    idx = _order(input, axis, False)
    if isinstance(position, int):
        at = jax.lax.slice_in_dim(idx, position, position + 1, axis=axis)
    else:
        at = jnp.take_along_axis(idx, jnp.expand_dims(position, axis), axis=axis)
    values = jnp.take_along_axis(input, at, axis=axis)
    if not keepdim:
        values, at = jnp.squeeze(values, axis), jnp.squeeze(at, axis)
    return values, at.astype(jnp.int64)


@op(node="KthvalueBackward0", returns=_vi("kthvalue"))
def kthvalue(input, k, dim=-1, keepdim=False):
    n = input.shape[_axis(dim, input.ndim)] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError("kthvalue(): selected number k out of range for dimension %d" % (dim,))
    return _pick(input, dim, keepdim, k - 1)


def _median_returns(*outputs):
    return values_indices["median"](*outputs) if len(outputs) == 2 else outputs[0]


def _median(input, dim, keepdim, ignore_nan):
    if dim is None:
        flat = input.reshape(-1)
        if flat.size == 0:
            return jnp.full((), jnp.nan, input.dtype)
        # torch shares the gradient of a whole-tensor median among the elements equal to it
        return (_MEDIAN_ALL_IGNORING_NAN if ignore_nan else _MEDIAN_ALL)(flat)
    axis = _axis(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError("median(): Expected reduction dim %d to have non-zero size." % dim)
    n = input.shape[axis] if input.ndim else 1
    if jnp.issubdtype(input.dtype, jnp.floating) and input.ndim:
        nans = jnp.sum(jnp.isnan(input), axis=axis)
        if ignore_nan:
            position = jnp.maximum((n - nans - 1) // 2, 0)
        else:
            # any NaN: the median is NaN, which sorts last
            position = jnp.where(nans > 0, n - 1, (n - 1) // 2)
        return _pick(input, dim, keepdim, position)
    return _pick(input, dim, keepdim, (n - 1) // 2)


_MEDIAN_ALL = T.spread_reduce(lambda flat: _median(flat, 0, False, False)[0])
_MEDIAN_ALL_IGNORING_NAN = T.spread_reduce(lambda flat: _median(flat, 0, False, True)[0])


@op(node=N.by_static(0, "MedianBackward1", "MedianBackward0", (None,)), returns=_median_returns)
def median(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, False)


@op(node=N.by_static(0, "NanmedianBackward1", "NanmedianBackward0", (None,)), returns=_median_returns)
def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, True)


@op(node="ModeBackward0", returns=_vi("mode"))
def mode(input, dim=-1, keepdim=False):
    if input.ndim == 0:
        return input, jnp.zeros((), jnp.int64)
    axis = _axis(dim, input.ndim)
    x = jnp.moveaxis(input, axis, -1)
    n = x.shape[-1]
    order = _order(x, -1, False)
    s = jnp.take_along_axis(x, order, axis=-1)
    pos = jnp.arange(n)
    new_run = jnp.concatenate([jnp.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], axis=-1)
    start = jax.lax.cummax(jnp.where(new_run, pos, 0), axis=s.ndim - 1)
    run = pos - start + 1
    # the first position reaching the longest run lies in the smallest most frequent value
    at = jnp.argmax(run, axis=-1)
    value = jnp.take_along_axis(s, at[..., None], axis=-1)
    # torch reports the last index holding that value
    index = jnp.max(jnp.where(x == value, pos, -1), axis=-1)
    value = value[..., 0]
    if keepdim:
        value, index = jnp.expand_dims(value, axis), jnp.expand_dims(index, axis)
    return value, index.astype(jnp.int64)


def _quantile_rule(name):
    def rule(dims, zero_dims, numbers):
        ds = dims + zero_dims
        if not ds[0].is_floating_point:
            raise RuntimeError("%s() input tensor must be either float or double dtype" % name)
        if len(ds) > 1 and ds[1] is not ds[0]:
            raise RuntimeError("%s() q tensor must be same dtype as the input tensor" % name)
        return None
    return rule


def _quantile(name, jfn):
    def impl(input, q, dim=None, keepdim=False, *, interpolation="linear"):
        if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
            raise RuntimeError("%s() interpolation must be one of linear, lower, higher, midpoint or "
                               "nearest. Got %s" % (name, interpolation))
        qa = jnp.asarray(q, dtype=input.dtype)
        if qa.ndim > 1:
            raise RuntimeError("%s() q must be a scalar or 1D tensor" % name)
        axis = None if dim is None else _axis(dim, input.ndim)
        x = input.reshape(-1) if axis is None else input
        out = jfn(x, qa, axis=0 if axis is None else axis, method=interpolation,
                  keepdims=keepdim and axis is not None)
        if keepdim and axis is None:
            out = out.reshape(out.shape + (1,) * input.ndim)
        return out.astype(input.dtype)
    impl.__name__ = name
    return op(tensors="input q", promote=_quantile_rule(name), node="SqueezeBackward4")(impl)


quantile = _quantile("quantile", jnp.quantile)
nanquantile = _quantile("nanquantile", jnp.nanquantile)


def _histc_rule(dims, zero_dims, numbers):
    d = (dims + zero_dims)[0]
    if not d.is_floating_point:
        raise RuntimeError("\"histogram_cpu\" not implemented for '%s'" % d._legacy)
    return None


@op(promote=_histc_rule, differentiable=False)
def histc(input, bins=100, min=0, max=0):
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0, but got %d for dimension 0" % bins)
    x = input.reshape(-1)
    lo, hi = jnp.asarray(min, x.dtype), jnp.asarray(max, x.dtype)
    if min == max and x.size:
        lo, hi = jnp.min(x), jnp.max(x)
    same = lo == hi
    lo, hi = jnp.where(same, lo - 1, lo), jnp.where(same, hi + 1, hi)
    inside = (x >= lo) & (x <= hi)
    idx = jnp.floor((x - lo) * bins / (hi - lo)).astype(jnp.int64)
    idx = jnp.clip(idx, 0, bins - 1)
    return jnp.zeros(bins, x.dtype).at[idx].add(inside.astype(x.dtype))


# -- concrete-only: results whose size depends on the values ------------------------------------

def _concrete(t, name):
    try:
        return np.asarray(t._value())
    except Exception:
        raise RuntimeError("%s() needs a concrete value: its result's size depends on the values, which "
                           "are being traced by jtorch.compile / jax.jit" % name) from None


def _tensor(array, like, dtype=None):
    from .._tensor import Tensor
    a = np.asarray(array)
    return Tensor._from_value(jax.device_put(a.astype(dtype.np) if dtype else a), device=like._device)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    v = _concrete(input, "unique")
    if dim is None:
        values, inverse, counts = np.unique(v.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(v.shape)
    else:
        axis = _axis(dim, v.ndim)
        values, inverse, counts = np.unique(v, return_inverse=True, return_counts=True, axis=axis)
        inverse = inverse.reshape(-1)
    out = [_tensor(values, input, input.dtype)]
    if return_inverse:
        out.append(_tensor(inverse, input, D.int64))
    if return_counts:
        out.append(_tensor(counts, input, D.int64))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    v = _concrete(input, "unique_consecutive")
    axis = None if dim is None else _axis(dim, v.ndim)
    x = v.reshape(-1) if axis is None else np.moveaxis(v, axis, 0)
    if len(x):
        change = np.ones(len(x), bool)
        change[1:] = np.any((x[1:] != x[:-1]).reshape(len(x) - 1, int(np.prod(x.shape[1:]))), axis=1)
    else:
        change = np.zeros(0, bool)
    values = x[change]
    if axis is not None:
        values = np.moveaxis(values, 0, axis)
    inverse = np.cumsum(change) - 1
    counts = np.diff(np.append(np.nonzero(change)[0], len(x)))
    out = [_tensor(values, input, input.dtype)]
    if return_inverse:
        out.append(_tensor(inverse.reshape(v.shape) if axis is None else inverse, input, D.int64))
    if return_counts:
        out.append(_tensor(counts, input, D.int64))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is D.bool:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    v = _concrete(input, "bincount")
    if v.size and v.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    n = builtins.max(int(v.max()) + 1 if v.size else 0, minlength)
    if weights is None:
        return _tensor(np.bincount(v, minlength=n), input, D.int64)
    w = _concrete(weights, "bincount")
    dtype = weights.dtype if weights.dtype.is_floating_point else D.float64
    return _tensor(np.bincount(v, weights=w.astype(np.float64), minlength=n), input, dtype)


for _fn in (unique, unique_consecutive, bincount):
    TORCH[_fn.__name__] = _fn
    METHODS[_fn.__name__] = _fn
