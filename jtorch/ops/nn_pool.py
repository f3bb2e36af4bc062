"""Pooling: max (with indices), average, adaptive average and adaptive max, 1-D to 3-D.

NOTE [Pooling as a gather]
Every pooling kernel here is one gather: for each output position, the flat positions of its
window in the input plane are computed in numpy from the static sizes (torch's output-size
formula, padding, dilation, ceil_mode), positions that fall in padding point at one extra
sentinel column (-inf for max, 0 for sums). The window axis is then reduced. Max pooling takes
the first maximal element with argmax and gathers it, so the gradient goes to exactly the
element torch's kernel picks (the first maximum), and the indices it returns are torch's
(flat positions in the input plane). 1-D pooling records torch's SqueezeBackward1, because
torch runs it as 2-D pooling on an unsqueezed input.
"""
import functools
import math

import jax.numpy as jnp
import numpy as np

from .nn_common import functional, ntuple
from ._registry import op


def _out_size(size, k, s, p, d, ceil_mode):
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


@functools.lru_cache(maxsize=256)
def _window_index(sizes, kernel, stride, padding, dilation, ceil_mode):
    """(flat index of shape out + (K,), out sizes); invalid positions hold prod(sizes)."""
    outs = tuple(_out_size(*a, ceil_mode) for a in zip(sizes, kernel, stride, padding, dilation))
    n = len(sizes)
    flat = np.zeros(outs + (1,) * n, np.int64)
    valid = np.ones(outs + (1,) * n, bool)
    mult = 1
    for d in reversed(range(n)):
        pos = (np.arange(outs[d]) * stride[d] - padding[d])[:, None] + np.arange(kernel[d]) * dilation[d]
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = outs[d], kernel[d]
        pos = pos.reshape(shape)
        valid = valid & (pos >= 0) & (pos < sizes[d])
        flat = flat + pos * mult
        mult *= sizes[d]
    flat = np.where(valid, flat, mult).reshape(outs + (-1,))
    return flat, outs


@functools.lru_cache(maxsize=256)
def _adaptive_index(sizes, outs):
    """Adaptive windows: start = floor(o * L / O), end = ceil((o + 1) * L / O)."""
    n = len(sizes)
    kmax = tuple(max((-(-(o + 1) * L // O) - (o * L // O) for o in range(O)), default=0)
                 for L, O in zip(sizes, outs))
    flat = np.zeros(outs + (1,) * n, np.int64)
    valid = np.ones(outs + (1,) * n, bool)
    count = np.ones(outs, np.int64)
    mult = 1
    for d in reversed(range(n)):
        L, O = sizes[d], outs[d]
        start = np.array([o * L // O for o in range(O)])
        end = np.array([-(-(o + 1) * L // O) for o in range(O)])
        pos = start[:, None] + np.arange(kmax[d])
        ok = pos < end[:, None]
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = O, kmax[d]
        valid = valid & ok.reshape(shape)
        flat = flat + pos.reshape(shape) * mult
        cshape = [1] * n
        cshape[d] = O
        count = count * (end - start).reshape(cshape)
        mult *= L
    flat = np.where(valid, flat, mult).reshape(outs + (-1,))
    return flat, count


def _gather_windows(x, n, flat, fill):
    """x (..., *sizes) -> (..., *outs, K) with `fill` where a window leaves the input."""
    lead = x.shape[:x.ndim - n]
    plane = x.reshape(lead + (math.prod(x.shape[x.ndim - n:]),))   # not -1: lead may hold a 0
    plane = jnp.concatenate([plane, jnp.full(lead + (1,), fill, x.dtype)], axis=-1)
    return plane[..., flat]


def _lowest(dtype):
    return -jnp.inf if jnp.issubdtype(dtype, jnp.floating) else jnp.iinfo(dtype).min


def _max_windows(x, n, flat):
    patches = _gather_windows(x, n, flat, _lowest(x.dtype))
    am = jnp.argmax(patches, axis=-1)
    values = jnp.take_along_axis(patches, am[..., None], axis=-1)[..., 0]
    index = jnp.take_along_axis(jnp.broadcast_to(jnp.asarray(flat), patches.shape), am[..., None], axis=-1)[..., 0]
    return values, index.astype(jnp.int64)


def _check_input(x, n, name):
    non_batch = x.shape if x.ndim == n + 1 else x.shape[1:]
    if n == 3 and x.ndim in (4, 5) and 0 in non_batch:
        raise RuntimeError("%s(): Expected input's non-batch dimensions to have positive length, but input has a "
                           "shape of %s and non-batch dimension %d has length zero!"
                           % (name, list(x.shape), non_batch.index(0)))
    if x.ndim not in (n + 1, n + 2) or 0 in non_batch:
        raise RuntimeError("%s: Expected %dD or %dD (batch mode) tensor with optional 0 dim batch size for input, "
                           "but got: [%s]" % (name, n + 1, n + 2, ", ".join(map(str, x.shape))))


def _check_window_args(kernel, stride, padding, dilation):
    """torch's pooling_output_shape checks, made before the input's shape is checked."""
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0:
            raise RuntimeError("pad must be non-negative, but got pad: %d" % p)
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError("pad should be at most half of effective kernel size, but got pad=%d, kernel_size=%d "
                               "and dilation=%d" % (p, k, d))


def _check_pool(x, n, kernel, stride, padding, dilation, outs, name):
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero, but got %s"
                           % " ".join("k%s: %d" % (a, k) for a, k in zip("DHW"[3 - n:], kernel)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should be greater than zero, but got %s"
                           % " ".join("d%s: %d" % (a, s) for a, s in zip("DHW"[3 - n:], stride)))
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got %s"
                           % " ".join("dilation%s: %d" % (a, d) for a, d in zip("DHW"[3 - n:], dilation)))
    for k, p, d in zip(kernel, padding, dilation):
        if p > k // 2:
            raise RuntimeError("pad should be at most half of effective kernel size, but got pad=%d, kernel_size=%d "
                               "and dilation=%d" % (p, k, d))
    if any(o < 1 for o in outs):
        sizes = x.shape[x.ndim - n - 1:]
        raise RuntimeError("Given input size: (%s). Calculated output size: (%s). Output size is too small"
                           % ("x".join(map(str, sizes)), "x".join(map(str, (sizes[0],) + tuple(outs)))))


# -- max pooling ------------------------------------------------------------------------------

def _max_pool_impl(n):
    def impl(input, kernel_size, stride, padding, dilation, ceil_mode):
        _check_window_args(kernel_size, stride, padding, dilation)
        _check_input(input, n, "max_pool%dd" % n)
        sizes = input.shape[input.ndim - n:]
        outs = tuple(_out_size(*a, ceil_mode) for a in zip(sizes, kernel_size, stride, padding, dilation))
        _check_pool(input, n, kernel_size, stride, padding, dilation, outs, "max_pool%dd" % n)
        flat, _ = _window_index(sizes, kernel_size, stride, padding, dilation, ceil_mode)
        return _max_windows(input, n, flat)
    impl.__name__ = "_max_pool%dd" % n
    return impl


_max_pool = {
    1: op(node="SqueezeBackward1", function=False, method=False)(_max_pool_impl(1)),
    2: op(node="MaxPool2DWithIndicesBackward0", function=False, method=False)(_max_pool_impl(2)),
    3: op(node="MaxPool3DWithIndicesBackward0", function=False, method=False)(_max_pool_impl(3)),
}


def _max_pool_fn(n):
    def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        k = ntuple(kernel_size, n)
        s = k if (stride is None or (not isinstance(stride, int) and len(stride) == 0)) else ntuple(stride, n)
        out, idx = _max_pool[n](input, k, s, ntuple(padding, n), ntuple(dilation, n), bool(ceil_mode))
        return (out, idx) if return_indices else out
    max_pool.__name__ = "max_pool%dd" % n
    return max_pool


max_pool1d = functional(_max_pool_fn(1), torch=True)
max_pool2d = functional(_max_pool_fn(2), torch=True)
max_pool3d = functional(_max_pool_fn(3), torch=True)
for _n in (1, 2, 3):
    functional(globals()["max_pool%dd" % _n], name="max_pool%dd_with_indices" % _n)


# -- average pooling --------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _avg_divisor(sizes, kernel, stride, padding, ceil_mode, count_include_pad):
    outs = tuple(_out_size(*a, 1, ceil_mode) for a in zip(sizes, kernel, stride, padding))
    div = np.ones(outs, np.int64)
    for d, (L, k, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, outs)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, L + p)
        size = end - start
        start, end = np.maximum(start, 0), np.minimum(end, L)
        shape = [1] * len(sizes)
        shape[d] = o
        div = div * (size if count_include_pad else end - start).reshape(shape)
    return div


def _avg_pool_impl(n):
    def impl(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        _check_window_args(kernel_size, stride, padding, (1,) * n)
        _check_input(input, n, "avg_pool%dd" % n)
        sizes = input.shape[input.ndim - n:]
        ones = (1,) * n
        outs = tuple(_out_size(*a, 1, ceil_mode) for a in zip(sizes, kernel_size, stride, padding))
        _check_pool(input, n, kernel_size, stride, padding, ones, outs, "avg_pool%dd" % n)
        flat, _ = _window_index(sizes, kernel_size, stride, padding, ones, ceil_mode)
        total = jnp.sum(_gather_windows(input, n, flat, 0), axis=-1)
        if divisor_override is not None:
            return (total / divisor_override).astype(input.dtype)
        div = _avg_divisor(sizes, kernel_size, stride, padding, ceil_mode, count_include_pad)
        return (total / jnp.asarray(div, input.dtype)).astype(input.dtype)
    impl.__name__ = "_avg_pool%dd" % n
    return impl


_avg_pool = {
    1: op(node="SqueezeBackward1", function=False, method=False, saves=())(_avg_pool_impl(1)),
    2: op(node="AvgPool2DBackward0", function=False, method=False, saves=())(_avg_pool_impl(2)),
    3: op(node="AvgPool3DBackward0", function=False, method=False, saves=())(_avg_pool_impl(3)),
}


def _avg_pool_fn(n):
    if n == 1:
        def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
            return _avg(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)
    else:
        def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
            return _avg(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    avg_pool.__name__ = "avg_pool%dd" % n
    return avg_pool


def _avg(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k = ntuple(kernel_size, n)
    s = k if (stride is None or (not isinstance(stride, int) and len(stride) == 0)) else ntuple(stride, n)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return _avg_pool[n](input, k, s, ntuple(padding, n), bool(ceil_mode), bool(count_include_pad), divisor_override)


avg_pool1d = functional(_avg_pool_fn(1), torch=True)
avg_pool2d = functional(_avg_pool_fn(2))
avg_pool3d = functional(_avg_pool_fn(3))


# -- adaptive pooling -------------------------------------------------------------------------

def _adaptive_sizes(input, n, output_size, name):
    if n > 1 and not isinstance(output_size, int) and input.dim() <= len(output_size):
        # torch's Python wrapper (_list_with_default) checks a sequence output_size first
        raise ValueError("Input dimension should be at least %d" % (len(output_size) + 1))
    if input.dim() not in (n + 1, n + 2):
        if n == 1:
            raise RuntimeError("Expected 2 to 3 dimensions, but got %d-dimensional tensor for argument #1 'self' "
                               "(while checking arguments for %s)" % (input.dim(), name))
        raise RuntimeError("%s(): Expected %dD or %dD tensor, but got%s %s"
                           % (name, n + 1, n + 2, ":" if "max" in name else "", list(input.shape)))
    if isinstance(output_size, int):
        output_size = (output_size,) * n
    output_size = tuple(output_size)
    if len(output_size) != n:
        raise RuntimeError("%s: internal error: output_size.size() must be %d" % (name, n))
    sizes = tuple(input.shape[input.dim() - n:])
    out = tuple(s if o is None else int(o) for s, o in zip(sizes, output_size))
    if any(o < 0 for o in out):
        if "max" in name:
            shape = list(input.shape[:input.dim() - n]) + list(out)
            raise RuntimeError("Trying to create tensor with negative dimension %d: %s"
                               % (next(o for o in out if o < 0), shape))
        raise RuntimeError("adaptive_avg_pool%dd: elements of output_size must be greater than or equal to 0 but "
                           "received {%s}" % (max(n, 2), ", ".join(map(str, out))))
    return out


def _adaptive_avg_impl(n):
    def impl(input, output_size):
        sizes = input.shape[input.ndim - n:]
        if 0 in output_size:
            return jnp.zeros(input.shape[:input.ndim - n] + output_size, input.dtype)
        flat, count = _adaptive_index(sizes, output_size)
        total = jnp.sum(_gather_windows(input, n, flat, 0), axis=-1)
        return (total / jnp.asarray(count, input.dtype)).astype(input.dtype)
    impl.__name__ = "_adaptive_avg_pool%dd" % n
    return impl


def _adaptive_max_impl(n):
    def impl(input, output_size):
        sizes = input.shape[input.ndim - n:]
        if 0 in output_size:
            shape = input.shape[:input.ndim - n] + output_size
            return jnp.zeros(shape, input.dtype), jnp.zeros(shape, jnp.int64)
        flat, _ = _adaptive_index(sizes, output_size)
        return _max_windows(input, n, flat)
    impl.__name__ = "_adaptive_max_pool%dd" % n
    return impl


_adaptive_avg = {
    1: op(node="SqueezeBackward1", function=False, method=False, saves=())(_adaptive_avg_impl(1)),
    2: op(node="AdaptiveAvgPool2DBackward0", function=False, method=False, saves=())(_adaptive_avg_impl(2)),
    3: op(node="AdaptiveAvgPool3DBackward0", function=False, method=False, saves=())(_adaptive_avg_impl(3)),
}
_adaptive_max = {
    1: op(node="SqueezeBackward1", function=False, method=False)(_adaptive_max_impl(1)),
    2: op(node="AdaptiveMaxPool2DBackward0", function=False, method=False)(_adaptive_max_impl(2)),
    3: op(node="AdaptiveMaxPool3DBackward0", function=False, method=False)(_adaptive_max_impl(3)),
}


@op(node="MeanBackward1", function=False, method=False, saves=())
def _plane_mean(input, n):
    return jnp.mean(input, axis=tuple(range(input.ndim - n, input.ndim)), keepdims=True)


def _adaptive_avg_fn(n):
    def adaptive_avg_pool(input, output_size):
        out = _adaptive_sizes(input, n, output_size, "adaptive_avg_pool%dd" % n)
        if n > 1 and all(o == 1 for o in out):
            # torch takes the mean over the plane for a 1x1 (1x1x1) output
            return _plane_mean(input, n)
        return _adaptive_avg[n](input, out)
    adaptive_avg_pool.__name__ = "adaptive_avg_pool%dd" % n
    return adaptive_avg_pool


def _adaptive_max_fn(n):
    def adaptive_max_pool(input, output_size, return_indices=False):
        out = _adaptive_sizes(input, n, output_size, "adaptive_max_pool%dd" % n)
        values, indices = _adaptive_max[n](input, out)
        return (values, indices) if return_indices else values
    adaptive_max_pool.__name__ = "adaptive_max_pool%dd" % n
    return adaptive_max_pool


adaptive_avg_pool1d = functional(_adaptive_avg_fn(1), torch=True)
adaptive_avg_pool2d = functional(_adaptive_avg_fn(2))
adaptive_avg_pool3d = functional(_adaptive_avg_fn(3))
adaptive_max_pool1d = functional(_adaptive_max_fn(1), torch=True)
adaptive_max_pool2d = functional(_adaptive_max_fn(2))
adaptive_max_pool3d = functional(_adaptive_max_fn(3))
for _n in (1, 2, 3):
    functional(globals()["adaptive_max_pool%dd" % _n], name="adaptive_max_pool%dd_with_indices" % _n)


@functional
def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp(1, input, norm_type, kernel_size, stride, ceil_mode)


@functional
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp(2, input, norm_type, kernel_size, stride, ceil_mode)


def _lp(n, input, norm_type, kernel_size, stride, ceil_mode):
    # torch: (avg_pool(x^p) * kernel elements)^(1/p), with sign(out) * relu(|out|)
    k = ntuple(kernel_size, n)
    out = _avg(n, input.pow(norm_type), k, stride, 0, ceil_mode, True, None)
    from .. import _tensor  # noqa: F401
    kw = math.prod(k)
    return (out.sign() * out.abs().relu()).mul(kw).pow(1.0 / norm_type)
