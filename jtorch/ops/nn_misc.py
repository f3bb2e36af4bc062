"""Resampling and rearranging kernels: F.interpolate (nearest, nearest-exact, linear, bilinear,
trilinear, bicubic, area), pixel_shuffle/unshuffle, channel_shuffle, unfold/fold (im2col/col2im)."""
import functools
import math
import warnings

import jax
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


# -- max_unpool ---------------------------------------------------------------------------------

def _unpool_scatter(plane):
    """Scatter each value to its index in the plane; the gradient gathers at the indices, so a
    position written twice (overlapping pooling windows) passes its gradient to both, as torch's
    max_unpool backward does (jax's scatter-set VJP would give it to one)."""
    @jax.custom_vjp
    def scatter(flat_in, idx):
        rows = jnp.indices(idx.shape)[:-1]
        out = jnp.zeros(flat_in.shape[:-1] + (plane,), flat_in.dtype)
        return out.at[tuple(rows) + (idx,)].set(flat_in)

    def fwd(flat_in, idx):
        return scatter(flat_in, idx), idx

    def bwd(idx, ct):
        return jnp.take_along_axis(ct, idx, axis=-1), None
    scatter.defvjp(fwd, bwd)
    return scatter


def _unpool_impl(n):
    def impl(input, indices, output_size):
        lead = input.shape[:input.ndim - n]
        plane = 1
        for s in output_size:
            plane *= s
        flat_in = input.reshape(lead + (-1,))
        idx = indices.reshape(lead + (-1,))
        out = _unpool_scatter(plane)(flat_in, idx)
        return out.reshape(lead + tuple(output_size))
    impl.__name__ = "_max_unpool%dd" % n
    return impl


_UNPOOL = {n: op(tensors="input indices", promote=P.keep, node="MaxUnpool%dDBackward0" % max(n, 2) if n > 1
                 else "SqueezeBackward1", function=False, method=False, saves=())(_unpool_impl(n))
           for n in (1, 2, 3)}


def _unpool_fn(n):
    def max_unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        k = ntuple(kernel_size, n)
        s = k if stride is None else ntuple(stride, n)
        p = ntuple(padding, n)
        spatial = tuple(input.shape[input.dim() - n:])
        default = tuple((spatial[d] - 1) * s[d] - 2 * p[d] + k[d] for d in range(n))
        if output_size is None:
            size = default
        else:
            size = tuple(int(v) for v in output_size)[-n:]
            for d in range(n):
                lo, hi = default[d] - s[d], default[d] + s[d]
                if not lo < size[d] < hi:
                    raise ValueError("invalid output_size \"%s\" (dim %d must be between %d and %d)"
                                     % (list(output_size), d, lo, hi))
        return _UNPOOL[n](input, indices, size)
    max_unpool.__name__ = "max_unpool%dd" % n
    return max_unpool


max_unpool1d = functional(_unpool_fn(1))
max_unpool2d = functional(_unpool_fn(2))
max_unpool3d = functional(_unpool_fn(3))


# -- affine_grid / grid_sample ------------------------------------------------------------------

def _base_coords(n, align_corners):
    if align_corners:
        return np.linspace(-1, 1, n) if n > 1 else np.zeros(1)
    return (np.arange(n) * 2 + 1) / n - 1


@op(tensors="theta", promote=P.keep, node="AffineGridGeneratorBackward0", function=False, method=False,
    name="_affine_grid", saves=())
def _affine_grid(theta, size, align_corners):
    if len(size) == 4:
        N, C, H, W = size
        xs = _base_coords(W, align_corners)
        ys = _base_coords(H, align_corners)
        base = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((1, 1))), axis=-1)  # (H, W, 3)
        base = jnp.asarray(base.reshape(1, H * W, 3), theta.dtype)
        grid = jnp.matmul(base, jnp.swapaxes(theta, 1, 2), precision=jax.lax.Precision.HIGHEST)
        return grid.reshape(N, H, W, 2)
    N, C, D, H, W = size
    xs, ys, zs = (_base_coords(W, align_corners), _base_coords(H, align_corners), _base_coords(D, align_corners))
    base = np.stack(np.broadcast_arrays(xs[None, None, :], ys[None, :, None], zs[:, None, None],
                                        np.ones((1, 1, 1))), axis=-1)
    base = jnp.asarray(base.reshape(1, D * H * W, 4), theta.dtype)
    grid = jnp.matmul(base, jnp.swapaxes(theta, 1, 2), precision=jax.lax.Precision.HIGHEST)
    return grid.reshape(N, D, H, W, 3)


@functional
def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError("Expected theta to have floating point type, but got %s" % theta.dtype)
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size %s. Got %s."
                             % (size, list(theta.shape)))
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size %s. Got %s."
                             % (size, list(theta.shape)))
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  "respectively. Got size %s." % (size,))
    return _affine_grid(theta, size, bool(align_corners))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, lo2, hi2):
    # torch's reflect_coordinates on [lo2/2, hi2/2] given twice the bounds
    if lo2 == hi2:
        return jnp.zeros_like(coord)
    mn = lo2 / 2
    span = (hi2 - lo2) / 2
    c = jnp.abs(coord - mn)
    extra = jnp.fmod(c, span)
    flips = jnp.floor(c / span)
    return jnp.where(jnp.fmod(flips, 2) == 0, extra + mn, span - extra + mn)


def _source_index(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        coord = jnp.clip(coord, 0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = jnp.clip(coord, 0, size - 1)
    return coord


@op(tensors="input grid", promote=P.keep, node="GridSampler2DBackward0", function=False, method=False,
    name="_grid_sample2d")
def _grid_sample2d(input, grid, mode, padding_mode, align_corners):
    N, C, H, W = input.shape
    x = _source_index(grid[..., 0], W, padding_mode, align_corners)
    y = _source_index(grid[..., 1], H, padding_mode, align_corners)
    batch = jnp.arange(N)[:, None, None]

    def gather(iy, ix):
        ok = (ix >= 0) & (ix <= W - 1) & (iy >= 0) & (iy <= H - 1)
        cx = jnp.clip(ix, 0, W - 1).astype(jnp.int32)
        cy = jnp.clip(iy, 0, H - 1).astype(jnp.int32)
        vals = input[batch, :, cy, cx]                      # (N, Ho, Wo, C)
        return jnp.where(ok[..., None], vals, 0)

    if mode == "nearest":
        out = gather(jnp.round(y), jnp.round(x))
    else:
        x0, y0 = jnp.floor(x), jnp.floor(y)
        x1, y1 = x0 + 1, y0 + 1
        wx1, wy1 = x - x0, y - y0
        wx0, wy0 = 1 - wx1, 1 - wy1
        out = (gather(y0, x0) * (wy0 * wx0)[..., None] + gather(y0, x1) * (wy0 * wx1)[..., None]
               + gather(y1, x0) * (wy1 * wx0)[..., None] + gather(y1, x1) * (wy1 * wx1)[..., None])
    return jnp.moveaxis(out, -1, 1)


@functional
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """grid_sample for 4-D input (bilinear, nearest; zeros, border, reflection). Differs from torch:
    5-D (volumetric) input and mode='bicubic' are not implemented."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         "got: '%s'" % mode)
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         "'reflection', but got: '%s'" % padding_mode)
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if input.dim() != 4 or mode == "bicubic":
        raise NotImplementedError("jtorch: grid_sample supports 4-D input with bilinear or nearest mode")
    if grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid to have size 2 in last dimension and the same batch size "
                           "as input, but got grid with sizes %s" % list(grid.shape))
    return _grid_sample2d(input, grid, mode, padding_mode, bool(align_corners))
