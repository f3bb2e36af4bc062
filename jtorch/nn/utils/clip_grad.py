"""clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_ (torch.nn.utils).

Each runs as one cached jitted call over all gradients and writes them back in place with
Tensor._write (grads keep their identity, as torch's in-place mul_/clamp_ do); nothing is recorded.
"""
import functools
import types
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _vector_norm(x, p):
    """torch.linalg.vector_norm of a whole tensor (for float dtypes)."""
    a = jnp.abs(x)
    if p == float("inf"):
        return jnp.max(a) if a.size else jnp.zeros((), a.dtype)
    if p == float("-inf"):
        return jnp.min(a)
    if p == 0:
        return jnp.sum(a != 0).astype(a.dtype)
    if p == 1:
        return jnp.sum(a)
    if p == 2:
        return jnp.sqrt(jnp.sum(a * a))
    return jnp.sum(a ** p) ** (1.0 / p)


@functools.partial(jax.jit, static_argnums=(1,))
def _total_norm(grads, norm_type):
    norms = [_vector_norm(g, norm_type) for g in grads]
    dtype = functools.reduce(jnp.promote_types, [n.dtype for n in norms])
    return _vector_norm(jnp.stack([n.astype(dtype) for n in norms]), norm_type)


@jax.jit
def _scale(grads, max_norm, total_norm):
    clip_coef = max_norm.astype(total_norm.dtype) / (total_norm + jnp.asarray(1e-6, total_norm.dtype))
    clip_coef_clamped = jnp.minimum(clip_coef, 1.0)
    return [g * clip_coef_clamped.astype(g.dtype) for g in grads]


@jax.jit
def _clamp(grads, clip_value):
    return [jnp.clip(g, -clip_value.astype(g.dtype), clip_value.astype(g.dtype)) for g in grads]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors`, as torch computes it; `foreach` is accepted and ignored
    (there is one jitted implementation)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        dtype = D.get_default_dtype()
        return Tensor._from_value(jnp.zeros((), dtype.np), dtype=dtype)
    first = tensors[0]
    total = _total_norm([t._value() for t in tensors], norm_type)
    total_norm = Tensor._from_value(total, device=first._device)
    if error_if_nonfinite and not bool(np.isfinite(np.asarray(total))):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`")
    return total_norm


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of `parameters` by max_norm / (total_norm + 1e-6), clamped to 1."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    new = _scale([g._value() for g in grads], np.float64(max_norm), total_norm._value())
    for g, v in zip(grads, new):
        g._write(v)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradient norm of an iterable of parameters; returns the total norm (a tensor)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value] in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    new = _clamp([g._value() for g in grads], np.float64(clip_value))
    for g, v in zip(grads, new):
        g._write(v)
