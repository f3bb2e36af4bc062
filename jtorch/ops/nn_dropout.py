"""Dropout kernels. Masks are drawn from jtorch's generator exactly as torch's CPU kernels draw
them (`bernoulli_(1 - p)` with one 53-bit uniform per element, then divided by 1 - p), so
`manual_seed` gives torch's masks; the output is `input * mask` (torch's MulBackward0). Inside
jtorch.compile the generator is the traced one (jax.random), as for every random op."""
import warnings

import jax.numpy as jnp
import numpy as np

from .creation import _place
from .nn_common import apply_inplace, functional
from .random import _core


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError("dropout probability has to be between 0 and 1, but got %s" % p)


def _mask(shape, p, dtype, device):
    core = _core(None)
    dt = dtype.np
    if hasattr(core, "dropout_mask"):
        values = core.dropout_mask(shape, p, dt)
    else:  # the traced generator inside jtorch.compile
        values = (core.bernoulli(1.0 - p, shape, dt) / jnp.asarray(1.0 - p, dt)).astype(dt)
    return _place(jnp.asarray(values), dtype, device)


def _feature_shape(input):
    return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)


def _dropout_impl(input, p, training, inplace, shape):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        noise = _place(jnp.zeros((), input.dtype.np), input.dtype, input.device)
    else:
        noise = _mask(shape, p, input.dtype, input.device)
    return input.mul_(noise) if inplace else input * noise


@functional(torch=True)
def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout_impl(input, p, training, inplace, tuple(input.shape))


@functional
def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError("dropout1d: Expected 2D or 3D input, but received a %dD input. Note that dropout1d exists "
                           "to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, "
                           "and an optional batch dimension (i.e. 2D or 3D inputs)." % input.dim())
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    out = _dropout_impl(x, p, training, inplace, _feature_shape(x))
    return out if batched else out.squeeze(0)


@functional
def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    d = input.dim()
    if d not in (3, 4):
        warnings.warn("dropout2d: Received a %d-D input to dropout2d, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      "instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs)." % d,
                      stacklevel=2)
    if d == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, _feature_shape(input))


@functional
def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    d = input.dim()
    if d not in (4, 5):
        warnings.warn("dropout3d: Received a %d-D input to dropout3d, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      "instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs)." % d,
                      stacklevel=2)
    batched = d == 5
    x = input if batched else input.unsqueeze(0)
    out = _dropout_impl(x, p, training, inplace, _feature_shape(x))
    return out if batched else out.squeeze(0)


_ALPHA = 1.7580993408473766


def _alpha_impl(input, p, training, inplace, shape):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        noise = _place(jnp.zeros((), input.dtype.np), input.dtype, input.device)
        return input.mul_(noise) if inplace else input * noise
    dt = input.dtype.np
    core = _core(None)
    keep = jnp.asarray(core.bernoulli(1.0 - p, shape, dt))
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = (keep - 1) * jnp.asarray(_ALPHA * a, dt) + jnp.asarray(_ALPHA * a * p, dt)
    noise = keep * jnp.asarray(a, dt)
    noise_t = _place(noise.astype(dt), input.dtype, input.device)
    b_t = _place(b.astype(dt), input.dtype, input.device)
    if inplace:
        return input.mul_(noise_t).add_(b_t)
    return input * noise_t + b_t


@functional(torch=True)
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_impl(input, p, training, inplace, tuple(input.shape))


@functional(torch=True)
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_impl(input, p, training, inplace, _feature_shape(input))


_ = apply_inplace
