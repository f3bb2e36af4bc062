"""Resampling and rearranging kernels: F.interpolate (nearest, nearest-exact, linear, bilinear,
trilinear, bicubic, area), pixel_shuffle/unshuffle, channel_shuffle, unfold/fold (im2col/col2im)."""
import functools
import math
import warnings

import jax.numpy as jnp
import numpy as np

from . import _promotion as P
from .nn_common import F, functional, ntuple
from ._registry import op


@functools.lru_cache(maxsize=256)
def _nearest_index(in_size, out_size, scale, exact):
    # torch: src = min(floor(dst * scale), in - 1); nearest-exact: floor((dst + 0.5) * scale)
    s = (in_size / out_size) if scale is None else 1.0 / scale
    dst = np.arange(out_size, dtype=np.float64)
    src = np.floor((dst + 0.5) * s) if exact else np.floor(dst * np.float32(s))
    return np.minimum(src.astype(np.int64), in_size - 1)


@functools.lru_cache(maxsize=256)
def _linear_weights(in_size, out_size, scale, align_corners):
    """(i0, i1, lambda1) of torch's linear interpolation along one dim (area_pixel_compute_source_index)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = dst * s
    else:
        s = (in_size / out_size) if scale is None else 1.0 / scale
        src = np.maximum((dst + 0.5) * s - 0.5, 0.0)
    src = src.astype(np.float32)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = (src - i0).astype(np.float32)
    return i0, i1, lam


@functools.lru_cache(maxsize=256)
def _cubic_weights(in_size, out_size, scale, align_corners):
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = dst * s
    else:
        s = (in_size / out_size) if scale is None else 1.0 / scale
        src = (dst + 0.5) * s - 0.5
    src = src.astype(np.float32)
    i = np.floor(src).astype(np.int64)
    t = (src - i).astype(np.float32)
    A = -0.75

    def c1(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def c2(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    w = np.stack([c2(t + 1), c1(t), c1(1 - t), c2(2 - t)], axis=-1).astype(np.float32)
    idx = np.clip(i[:, None] + np.arange(-1, 3), 0, in_size - 1)
    return idx, w


def _interp_impl(input, size, scales, mode, align_corners):
    x = input
    n = len(size)
    for d in range(n):
        axis = x.ndim - n + d
        L, O, sc = x.shape[axis], size[d], scales[d]
        if mode in ("nearest", "nearest-exact"):
            x = jnp.take(x, _nearest_index(L, O, sc, mode == "nearest-exact"), axis=axis)
        elif mode == "bicubic":
            idx, w = _cubic_weights(L, O, sc, align_corners)
            g = jnp.take(x, idx.reshape(-1), axis=axis)
            g = g.reshape(g.shape[:axis] + (O, 4) + g.shape[axis + 1:])
            shape = [1] * g.ndim
            shape[axis], shape[axis + 1] = O, 4
            x = jnp.sum(g * jnp.asarray(w, x.dtype).reshape(shape), axis=axis + 1)
        else:
            i0, i1, lam = _linear_weights(L, O, sc, align_corners)
            shape = [1] * x.ndim
            shape[axis] = O
            lam = jnp.asarray(lam, x.dtype).reshape(shape)
            x = jnp.take(x, i0, axis=axis) * (1 - lam) + jnp.take(x, i1, axis=axis) * lam
    return x


_INTERP_NODES = {"nearest": "UpsampleNearest%dDBackward0", "nearest-exact": "UpsampleNearestExact%dDBackward0",
                 "linear": "UpsampleLinear1DBackward0", "bilinear": "UpsampleBilinear2DBackward0",
                 "trilinear": "UpsampleTrilinear3DBackward0", "bicubic": "UpsampleBicubic2DBackward0"}
_INTERP_OPS = {}


def _interp_op(mode, n):
    key = (mode, n)
    if key not in _INTERP_OPS:
        node = _INTERP_NODES[mode]
        node = node % n if "%d" in node else node

        def impl(input, size, scales, align_corners):
            return _interp_impl(input, size, scales, mode, align_corners)
        impl.__name__ = "_interpolate_%s_%d" % (mode.replace("-", "_"), n)
        _INTERP_OPS[key] = op(promote=P.keep, node=node, function=False, method=False, saves=())(impl)
    return _INTERP_OPS[key]


@functional
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    n = input.dim() - 2
    if n < 1:
        raise ValueError("Input Error: Only 3D, 4D and 5D input Tensors supported (got %dD) for the modes: nearest | "
                         "linear | bilinear | bicubic | trilinear | area | nearest-exact (got %s)" % (input.dim(), mode))
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        size = ntuple(size, n)
        if len(size) != n:
            raise ValueError("Input and output must have the same number of spatial dimensions, but got input with "
                             "spatial dimensions of %s and output size of %s. Please provide input tensor in (N, C, "
                             "d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
                             % (list(input.shape[2:]), list(size)))
        scales = (None,) * n
    elif scale_factor is not None:
        sf = tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (tuple, list)) else \
            (float(scale_factor),) * n
        if len(sf) != n:
            raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got input "
                             "with spatial dimensions of %s and scale_factor of shape %s. Please provide input tensor "
                             "in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
                             % (list(input.shape[2:]), list(sf)))
        size = tuple(int(math.floor(float(input.shape[2 + i]) * sf[i])) for i in range(n))
        scales = (None,) * n if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("jtorch: interpolate(antialias=True) is not implemented")
    if mode == "area":
        return F["adaptive_avg_pool%dd" % n](input, size)
    expected = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
    if mode in expected and expected[mode] != n:
        raise NotImplementedError("Got %dD input, but %s mode needs %dD input" % (input.dim(), mode, expected[mode] + 2))
    if mode not in _INTERP_NODES:
        raise NotImplementedError("Input Error: Only 3D, 4D and 5D input Tensors supported (got %dD) for the modes: "
                                  "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got %s)"
                                  % (input.dim(), mode))
    return _interp_op(mode, n)(input, size, scales, bool(align_corners))


@functional
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


@functional
def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


@functional
def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


@op(promote=P.keep, node="PixelShuffleBackward0", namespace="nn.functional", method=False, saves=())
def pixel_shuffle(input, upscale_factor):
    r = upscale_factor
    if input.ndim < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got input with %d dimension(s)"
                           % input.ndim)
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           "upscale_factor, but input.size(-3)=%d is not divisible by %d" % (c, r * r))
    lead = input.shape[:-3]
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = jnp.transpose(x, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


@op(promote=P.keep, node="PixelUnshuffleBackward0", namespace="nn.functional", method=False, saves=())
def pixel_unshuffle(input, downscale_factor):
    r = downscale_factor
    c, h, w = input.shape[-3:]
    if h % r or w % r:
        raise RuntimeError("pixel_unshuffle expects height and width to be divisible by downscale_factor")
    lead = input.shape[:-3]
    k = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = jnp.transpose(x, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))


@op(promote=P.keep, node="ChannelShuffleBackward0", namespace="nn.functional", method=False, saves=())
def channel_shuffle(input, groups):
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError("Number of channels must be divisible by groups. Got %d channels and %d groups." % (c, groups))
    rest = input.shape[2:]
    x = input.reshape((n, groups, c // groups) + rest)
    return jnp.swapaxes(x, 1, 2).reshape(input.shape)


@functools.lru_cache(maxsize=256)
def _im2col_index(h, w, k, d, p, s):
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    r = (np.arange(oh) * s[0])[None, :, None, None] + (np.arange(k[0]) * d[0])[:, None, None, None]
    c = (np.arange(ow) * s[1])[None, None, None, :] + (np.arange(k[1]) * d[1])[None, None, :, None]
    rows = np.broadcast_to(r, (k[0], oh, k[1], ow)).transpose(0, 2, 1, 3).reshape(k[0] * k[1], oh * ow)
    cols = np.broadcast_to(c, (k[0], oh, k[1], ow)).transpose(0, 2, 1, 3).reshape(k[0] * k[1], oh * ow)
    return rows, cols, oh, ow


@op(promote=P.keep, node="Im2ColBackward0", function=False, method=False, name="_unfold", saves=())
def _unfold(input, kernel_size, dilation, padding, stride):
    unbatched = input.ndim == 3
    x = input[None] if unbatched else input
    n, c, h, w = x.shape
    rows, cols, oh, ow = _im2col_index(h, w, kernel_size, dilation, padding, stride)
    xp = jnp.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out = xp[:, :, rows, cols].reshape(n, c * rows.shape[0], oh * ow)
    return out[0] if unbatched else out


@functional
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    if input.dim() not in (3, 4):
        raise NotImplementedError("Input Error: Only 3D or 4D input Tensors are supported (got %dD)" % input.dim())
    return _unfold(input, ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2), ntuple(stride, 2))


@op(promote=P.keep, node="Col2ImBackward0", function=False, method=False, name="_fold", saves=())
def _fold(input, output_size, kernel_size, dilation, padding, stride):
    unbatched = input.ndim == 2
    x = input[None] if unbatched else input
    n, ck, L = x.shape
    kk = kernel_size[0] * kernel_size[1]
    c = ck // kk
    h, w = output_size
    rows, cols, oh, ow = _im2col_index(h, w, kernel_size, dilation, padding, stride)
    if oh * ow != L:
        raise RuntimeError("Given output_size=(%d, %d), kernel_size=(%d, %d), dilation=(%d, %d), padding=(%d, %d), "
                           "stride=(%d, %d), expected size of input's dimension 2 to match the calculated number of "
                           "sliding blocks %d * %d = %d, but got input.size(2)=%d."
                           % (h, w, *kernel_size, *dilation, *padding, *stride, oh, ow, oh * ow, L))
    out = jnp.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), x.dtype)
    out = out.at[:, :, rows, cols].add(x.reshape(n, c, kk, L))
    out = out[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
    return out[0] if unbatched else out


@functional
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    if input.dim() not in (2, 3):
        raise NotImplementedError("Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  "(got %dD)" % input.dim())
    return _fold(input, ntuple(output_size, 2), ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2),
                 ntuple(stride, 2))
