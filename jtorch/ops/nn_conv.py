"""Convolutions (F.conv1d/2d/3d, F.conv_transpose1d/2d/3d) and F.pad.

One private op `_convolution` serves every rank, plain and transposed, like ATen's
`convolution` (its node is torch's ConvolutionBackward0). It runs `lax.conv_general_dilated` at
HIGHEST precision: float32 on an accelerator must stay float32, as torch's CPU results are.
"""
import jax.numpy as jnp
import numpy as np
from jax import lax

from .nn_common import functional, ntuple
from ._registry import op

_SPATIAL = {1: "H", 2: "HW", 3: "DHW"}


def _conv_dtype_rule(dims, zero_dims, numbers):
    ds = dims + zero_dims
    if len(ds) > 1 and any(d is not ds[0] for d in ds):
        other = next(d for d in ds if d is not ds[0])
        raise RuntimeError("Input type (%s) and weight type (%s) should be the same or input should be a "
                           "MKLDNN tensor and weight is a dense tensor" % (ds[0].np.name, other.np.name))
    return None


def _shape(s):
    return ", ".join(map(str, s))


def _check_conv(input, weight, bias, n, stride, padding, dilation, transposed, groups):
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError("Expected %dD (unbatched) or %dD (batched) input to conv%s%dd, but got input of "
                           "size: [%s]" % (n + 1, n + 2, "_transpose" if transposed else "", n,
                                           _shape(input.shape)))
    batched_shape = input.shape if input.ndim == n + 2 else (1,) + input.shape
    if weight.ndim != n + 2:
        raise RuntimeError("weight should have at least three dimensions" if weight.ndim < 3 else
                           "Expected %dD (unbatched) or %dD (batched) input to conv%dd, but got input of size: "
                           "[%s]" % (weight.ndim - 1, weight.ndim, weight.ndim - 2, _shape(input.shape)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    cin = batched_shape[1]
    if not transposed:
        if weight.shape[0] % groups:
            raise RuntimeError("Given groups=%d, expected weight to be divisible by %d at dimension 0, but got "
                               "weight of size [%s] instead" % (groups, groups, _shape(weight.shape)))
        if cin != weight.shape[1] * groups:
            raise RuntimeError("Given groups=%d, weight of size [%s], expected input[%s] to have %d channels, "
                               "but got %d channels instead" % (groups, _shape(weight.shape),
                                                                _shape(batched_shape), weight.shape[1] * groups, cin))
        out_channels = weight.shape[0]
        padded = [batched_shape[2 + i] + 2 * padding[i] for i in range(n)]
        kernel = [dilation[i] * (weight.shape[2 + i] - 1) + 1 for i in range(n)]
        if any(k > p for k, p in zip(kernel, padded)):
            raise RuntimeError("Calculated padded input size per channel: (%s). Kernel size: (%s). Kernel size "
                               "can't be greater than actual input size"
                               % (" x ".join(map(str, padded)), " x ".join(map(str, kernel))))
    else:
        if cin != weight.shape[0]:
            raise RuntimeError("Given transposed=1, weight of size [%s], expected input[%s] to have %d channels, "
                               "but got %d channels instead" % (_shape(weight.shape), _shape(batched_shape),
                                                                weight.shape[0], cin))
        out_channels = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError("Given weight of size [%s], expected bias to be 1-dimensional with %d elements, but "
                           "got bias of size [%s] instead" % (_shape(weight.shape), out_channels, _shape(bias.shape)))


@op(tensors="input weight bias", promote=_conv_dtype_rule, node="ConvolutionBackward0", function=False,
    method=False, name="_convolution")
def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    n = weight.ndim - 2
    _check_conv(input, weight, bias, n, stride, padding, dilation, transposed, groups)
    unbatched = input.ndim == n + 1
    x = input[None] if unbatched else input
    spatial = _SPATIAL[n]
    dn = lax.conv_dimension_numbers(x.shape, weight.shape, ("NC" + spatial, "OI" + spatial, "NC" + spatial))
    if not transposed:
        out = lax.conv_general_dilated(x, weight, window_strides=stride, padding=[(p, p) for p in padding],
                                       rhs_dilation=dilation, dimension_numbers=dn, feature_group_count=groups,
                                       precision=lax.Precision.HIGHEST)
    else:
        # the gradient of a convolution: dilate the input by the stride, pad by the dilated kernel
        # extent minus padding, and convolve with the spatially flipped, in/out-swapped kernel
        cin, cout_g = weight.shape[0], weight.shape[1]
        k = weight.shape[2:]
        w = weight.reshape((groups, cin // groups, cout_g) + k)
        w = jnp.swapaxes(w, 1, 2).reshape((groups * cout_g, cin // groups) + k)
        w = jnp.flip(w, axis=tuple(range(2, 2 + n)))
        pads = [(dilation[i] * (k[i] - 1) - padding[i], dilation[i] * (k[i] - 1) - padding[i] + output_padding[i])
                for i in range(n)]
        dn = lax.conv_dimension_numbers(x.shape, w.shape, ("NC" + spatial, "OI" + spatial, "NC" + spatial))
        out = lax.conv_general_dilated(x, w, window_strides=(1,) * n, padding=pads, lhs_dilation=stride,
                                       rhs_dilation=dilation, dimension_numbers=dn, feature_group_count=groups,
                                       precision=lax.Precision.HIGHEST)
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * n)
    return out[0] if unbatched else out


def _same_padding(input, weight, n, stride, dilation):
    """padding='same': torch pads each side by half the dilated kernel extent, the odd extra on the right."""
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    total = [dilation[i] * (weight.shape[2 + i] - 1) for i in range(n)]
    left = [t // 2 for t in total]
    return left, [t - l for t, l in zip(total, left)]


def _conv(n, input, weight, bias, stride, padding, dilation, groups):
    stride = ntuple(stride, n)
    dilation = ntuple(dilation, n)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * n
        elif padding == "same":
            if weight.ndim != n + 2 and weight.ndim != input.ndim:
                # torch's 'same' path checks the input against the weight before the padding
                raise RuntimeError("Expected %d-dimensional input for %d-dimensional weight[%s], but got "
                                   "%d-dimensional input of size [%s] instead"
                                   % (weight.ndim, weight.ndim, _shape(weight.shape), input.ndim,
                                      _shape(input.shape)))
            left, right = _same_padding(input, weight, n, stride, dilation)
            if left != right:
                # asymmetric: pad the extra element on the right first, as torch does
                extra = []
                for l, r in reversed(list(zip(left, right))):
                    extra += [0, r - l]
                input = pad(input, tuple(extra))
            padding = tuple(left)
        else:
            raise ValueError("Invalid padding string '%s', should be one of ['valid', 'same']" % padding)
    else:
        padding = ntuple(padding, n)
    return _convolution(input, weight, bias, stride, padding, dilation, False, (0,) * n, int(groups))


@functional(torch=True)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


@functional(torch=True)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


@functional(torch=True)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    stride, padding = ntuple(stride, n), ntuple(padding, n)
    output_padding, dilation = ntuple(output_padding, n), ntuple(dilation, n)
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               "output_padding: %s, stride: %s, dilation: %s" % (op_, s, d))
    return _convolution(input, weight, bias, stride, padding, dilation, True, output_padding, int(groups))


@functional(torch=True)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


@functional(torch=True)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


@functional(torch=True)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups, dilation)


# -- padding ----------------------------------------------------------------------------------

def _pad_node_for(mode, npairs):
    if mode == "constant":
        return "ConstantPadNdBackward0"
    if mode == "reflect":
        return "ReflectionPad%dDBackward0" % npairs
    if mode == "replicate":
        return "ReplicationPad%dDBackward0" % npairs
    return "CopySlices"


_PAD_OPS = {}


def _pad_op(mode, npairs):
    """One op per (mode, number of padded dims) so that each records torch's node name."""
    key = (mode, npairs)
    if key not in _PAD_OPS:
        def impl(input, pad, value):
            return _pad_impl(input, pad, mode, value)
        impl.__name__ = "_pad_%s_%d" % (mode, npairs)
        _PAD_OPS[key] = op(node=_pad_node_for(mode, npairs), function=False, method=False,
                           saves=())(impl)
    return _PAD_OPS[key]


def _pad_impl(x, pad, mode, value):
    n = len(pad) // 2
    cfg = [(0, 0)] * (x.ndim - n) + [(pad[2 * (n - 1 - i)], pad[2 * (n - 1 - i) + 1]) for i in range(n)]
    if mode == "constant":
        v = jnp.asarray(0 if value is None else value, x.dtype)
        return lax.pad(x, v, [(lo, hi, 0) for lo, hi in cfg])
    if mode == "replicate":
        # torch reads input[clamp(o - lo, 0, L - 1)] for output position o, which also covers a
        # negative pad that crops a side away entirely ((-4, 5) on a length-4 axis: all input[3])
        for d, (lo, hi) in enumerate(cfg):
            if lo or hi:
                L = x.shape[d]
                x = jnp.take(x, np.clip(np.arange(L + lo + hi) - lo, 0, L - 1), axis=d)
        return x
    np_mode = {"reflect": "reflect", "circular": "wrap"}[mode]
    # negative pads crop; jnp.pad does not take them, so crop first
    crop = tuple(slice(max(-lo, 0), x.shape[d] - max(-hi, 0)) for d, (lo, hi) in enumerate(cfg))
    x = x[crop]
    return jnp.pad(x, [(max(lo, 0), max(hi, 0)) for lo, hi in cfg], mode=np_mode)


@functional(torch=False)
def pad(input, pad, mode="constant", value=None):
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(pad) // 2
    if n > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           "padding length %d and input of dimension %d" % (len(pad), input.dim()))
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError("Unrecognised padding mode %s" % mode)
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError("Padding mode \"%s\" doesn't take in value argument" % mode)
        if not (n <= 3 and input.dim() in (n + 1, n + 2)):
            raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now")
        for i in range(n):
            size = input.shape[input.dim() - 1 - i]
            lo, hi = pad[2 * i], pad[2 * i + 1]
            if mode == "reflect" and (lo >= size or hi >= size):
                raise RuntimeError("Argument #4: Padding size should be less than the corresponding input "
                                   "dimension, but got: padding (%d, %d) at dimension %d of input %s"
                                   % (lo, hi, input.dim() - 1 - i, list(input.shape)))
            if mode == "circular" and (lo > size or hi > size):
                raise RuntimeError("Padding value causes wrapping around more than once.")
    return _pad_op(mode, n)(input, pad, value)
