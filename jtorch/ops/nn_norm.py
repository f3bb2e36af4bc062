"""Normalisation kernels: batch_norm (with running statistics), instance_norm, layer_norm,
group_norm, rms_norm, local_response_norm.

batch_norm in training returns the batch statistics from the same op and the Python wrapper
writes the running averages into the buffers afterwards (`Tensor._write`, outside autograd), as
torch's kernel updates them in place; the buffers are not among the tensors the node saves, so
that update never trips the in-place check.
"""
import math

import jax.numpy as jnp

from .nn_common import F, functional
from ._registry import TORCH, op
from . import _promotion as P
from .. import _dtype as D


def _norm_dtype_rule(dims, zero_dims, numbers):
    return None


def _bn_stats(x, axes):
    mean = jnp.mean(x, axis=axes)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    centered = x - mean.reshape(shape)
    var = jnp.mean(centered * centered, axis=axes)
    return mean, var, centered


@op(tensors="input weight bias", promote=_norm_dtype_rule, node="NativeBatchNormBackward0", function=False,
    method=False, name="_batch_norm_train", saves="input weight")
def _batch_norm_train(input, weight, bias, eps):
    axes = (0,) + tuple(range(2, input.ndim))
    mean, var, centered = _bn_stats(input, axes)
    shape = [1] * input.ndim
    shape[1] = input.shape[1]
    out = centered * (1.0 / jnp.sqrt(var + eps)).reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    n = input.size // input.shape[1]
    unbiased = var * (n / max(n - 1, 1)) if n > 1 else jnp.full_like(var, jnp.nan)
    return out, mean, unbiased


@op(tensors="input weight bias running_mean running_var", promote=_norm_dtype_rule,
    node="NativeBatchNormBackward0", function=False, method=False, name="_batch_norm_eval",
    saves="input weight")
def _batch_norm_eval(input, weight, bias, running_mean, running_var, eps):
    shape = [1] * input.ndim
    shape[1] = input.shape[1]
    out = (input - running_mean.reshape(shape).astype(input.dtype)) * (
        1.0 / jnp.sqrt(running_var.astype(input.dtype) + eps)).reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size %s" % (size,))


def _check_channels(input, t, name):
    if t is not None and t.numel() != input.shape[1]:
        raise RuntimeError("%s should contain %d elements not %d" % (name, input.shape[1], t.numel()))


def _update_running(running, stat, momentum):
    # torch: momentum * stat + (1 - momentum) * running, in its double accumulation type
    new = stat._value().astype(jnp.float64) * momentum + running._value().astype(jnp.float64) * (1 - momentum)
    running._write(new.astype(running.dtype.np))


@functional
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training:
        _verify_batch_size(input.size())
    if input.dim() < 2:
        raise ValueError("Expected 2D or higher input (got %dD input)" % input.dim())
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"),
                    (bias, "bias")):
        _check_channels(input, t, name)
    if training:
        out, mean, var = _batch_norm_train(input, weight, bias, float(eps))
        if running_mean is not None:
            _update_running(running_mean, mean, momentum)
        if running_var is not None:
            _update_running(running_var, var, momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    return _batch_norm_eval(input, weight, bias, running_mean, running_var, float(eps))


TORCH["batch_norm"] = lambda input, weight, bias, running_mean, running_var, training, momentum, eps, \
    cudnn_enabled=True: batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


@op(tensors="input weight bias", promote=_norm_dtype_rule, node="ViewBackward0", function=False, method=False,
    name="_instance_norm", saves="input weight")
def _instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, eps):
    axes = tuple(range(2, input.ndim))
    shape = (input.shape[0], input.shape[1]) + (1,) * (input.ndim - 2)
    cshape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if use_input_stats:
        mean = jnp.mean(input, axis=axes, keepdims=True)
        centered = input - mean
        var = jnp.mean(centered * centered, axis=axes, keepdims=True)
        out = centered * (1.0 / jnp.sqrt(var + eps))
        n = math.prod(input.shape[2:])
        stats = (mean.reshape(shape[:2]), var.reshape(shape[:2]) * (n / max(n - 1, 1)))
    else:
        out = (input - running_mean.reshape(cshape)) * (1.0 / jnp.sqrt(running_var.reshape(cshape) + eps))
        stats = (jnp.zeros(shape[:2], input.dtype), jnp.zeros(shape[:2], input.dtype))
    if weight is not None:
        out = out * weight.reshape(cshape)
    if bias is not None:
        out = out + bias.reshape(cshape)
    return (out,) + stats


@functional
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if use_input_stats:
        size = input.size()
        prod = 1
        for s in size[2:]:
            prod *= s
        if prod == 1:
            raise ValueError("Expected more than 1 spatial element when training, got input size %s" % (size,))
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    out, mean, var = _instance_norm(input, weight, bias, running_mean if not use_input_stats else None,
                                    running_var if not use_input_stats else None, bool(use_input_stats), float(eps))
    if use_input_stats:
        # torch updates a per-(sample, channel) copy of the running stats and stores its batch mean
        if running_mean is not None:
            new = mean._value().mean(axis=0) * momentum + running_mean._value() * (1 - momentum)
            running_mean._write(new.astype(running_mean.dtype.np))
        if running_var is not None:
            new = var._value().mean(axis=0) * momentum + running_var._value() * (1 - momentum)
            running_var._write(new.astype(running_var.dtype.np))
    return out


def _normalized_dims(input, normalized_shape):
    normalized_shape = tuple(normalized_shape) if not isinstance(normalized_shape, int) else (normalized_shape,)
    n = len(normalized_shape)
    if n == 0 or tuple(input.shape[input.dim() - n:]) != normalized_shape or input.dim() < n:
        raise RuntimeError("Given normalized_shape=%s, expected input with shape [*, %s], but got input of size%s"
                           % (list(normalized_shape), ", ".join(map(str, normalized_shape)), input.shape))
    return normalized_shape


@op(tensors="input weight bias", promote=_norm_dtype_rule, node="NativeLayerNormBackward0", function=False,
    method=False, name="_layer_norm", saves="input weight")
def _layer_norm(input, weight, bias, n, eps):
    axes = tuple(range(input.ndim - n, input.ndim))
    mean = jnp.mean(input, axis=axes, keepdims=True)
    centered = input - mean
    var = jnp.mean(centered * centered, axis=axes, keepdims=True)
    out = centered * (1.0 / jnp.sqrt(var + eps))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@functional
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = _normalized_dims(input, normalized_shape)
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError("Expected %s to be of same shape as normalized_shape, but got %s of shape %s and "
                               "normalized_shape = %s" % (name, name, t.shape, list(shape)))
    return _layer_norm(input, weight, bias, len(shape), float(eps))


TORCH["layer_norm"] = lambda input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True: \
    layer_norm(input, normalized_shape, weight, bias, eps)


@op(tensors="input weight", promote=_norm_dtype_rule, node="MulBackward0", function=False, method=False,
    name="_rms_norm")
def _rms_norm(input, weight, n, eps):
    axes = tuple(range(input.ndim - n, input.ndim))
    out = input * (1.0 / jnp.sqrt(jnp.mean(input * input, axis=axes, keepdims=True) + eps))
    if weight is not None:
        out = out * weight
    return out


@functional
def rms_norm(input, normalized_shape, weight=None, eps=None):
    shape = _normalized_dims(input, normalized_shape)
    if eps is None:
        eps = float(jnp.finfo(input.dtype.np).eps)
    return _rms_norm(input, weight, len(shape), float(eps))


@op(tensors="input weight bias", promote=_norm_dtype_rule, node="NativeGroupNormBackward0", function=False,
    method=False, name="_group_norm", saves="input weight")
def _group_norm(input, weight, bias, num_groups, eps):
    N, C = input.shape[0], input.shape[1]
    x = input.reshape((N, num_groups, -1))
    mean = jnp.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    var = jnp.mean(centered * centered, axis=-1, keepdims=True)
    out = (centered * (1.0 / jnp.sqrt(var + eps))).reshape(input.shape)
    cshape = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(cshape)
    if bias is not None:
        out = out + bias.reshape(cshape)
    return out


@functional
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received %d" % input.dim())
    C = input.shape[1]
    if C % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input of "
                           "shape %s and num_groups=%d" % (list(input.shape), num_groups))
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError("Expected %s to be a vector of size equal to the number of channels in input, but got "
                               "%s of shape %s and input of shape %s" % (name, name, list(t.shape), list(input.shape)))
    return _group_norm(input, weight, bias, int(num_groups), float(eps))


TORCH["group_norm"] = lambda input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True: \
    group_norm(input, num_groups, weight, bias, eps)


@op(promote=P.to_float, node="DivBackward0", function=False, method=False, name="_local_response_norm")
def _local_response_norm(input, size, alpha, beta, k):
    sq = input * input
    C = input.shape[1]
    pad = [(0, 0)] * input.ndim
    pad[1] = (size // 2, (size - 1) // 2)
    padded = jnp.pad(sq, pad)
    window = sum(jnp.take(padded, jnp.arange(i, i + C), axis=1) for i in range(size))
    div = (window / size * alpha + k) ** beta
    return input / div


@functional
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    if input.dim() < 3:
        raise ValueError("Expected 3D or higher dimensionality input (got %d dimensions)" % input.dim())
    if input.dtype is D.bool:
        # torch averages the squares with avg_pool2d (3-d input) or avg_pool3d
        kernel = "avg_pool2d" if input.dim() == 3 else "avg_pool3d_out_frame"
        raise NotImplementedError('"%s" not implemented for \'Bool\'' % kernel)
    if input.numel() == 0:
        return input
    return _local_response_norm(input, int(size), float(alpha), float(beta), float(k))


_ = F
