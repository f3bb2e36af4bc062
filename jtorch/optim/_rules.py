"""The pure side of the optimizers (NOTE [Optimizer steps] in optimizer.py): the one jitted call
that runs a per-parameter rule over a whole group, and the helpers the rules share (`cast` for
torch's Python-scalar-in-a-tensor-op rounding, torch's two-sided `lerp`, state constructors)."""
import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from .. import _device as dev
from .._tensor import Tensor

_SCALAR = np.float64   # dtype of hyperparameters and bias corrections inside a rule (torch: Python floats)


def _get_scalar_dtype():
    return D.float64 if D.get_default_dtype() is D.float64 else D.float32


def _as_real(x):
    return jnp.stack([x.real, x.imag], axis=-1)


def _as_complex(x):
    return jax.lax.complex(x[..., 0], x[..., 1])


def _apply(rule, cfg, h, params, grads, states):
    new_params, new_states = [], []
    for p, g, s in zip(params, grads, states):
        cplx = jnp.iscomplexobj(p)
        if cplx:  # torch runs the rules on view_as_real of complex parameters and their state
            p, g = _as_real(p), _as_real(g)
            s = {k: _as_real(v) if jnp.iscomplexobj(v) else v for k, v in s.items()}
        p, s = rule(cfg, h, p, g, s)
        if cplx:
            s = {k: _as_complex(v) if v.shape == p.shape else v for k, v in s.items()}
            p = _as_complex(p)
        new_params.append(p)
        new_states.append(s)
    return new_params, new_states


_apply_jit = jax.jit(_apply, static_argnums=(0, 1))


def _scalar(x):
    """A hyperparameter as a float64 value for the traced `h` (Tensor hyperparameters included)."""
    if isinstance(x, Tensor):
        return x._value().reshape(()).astype(_SCALAR)
    return np.asarray(x, dtype=_SCALAR)


def cast(x, like):
    """A float64 scalar as the dtype of `like` (torch: a Python scalar in an op on a tensor)."""
    dt = like.dtype
    if jnp.issubdtype(dt, jnp.complexfloating):
        dt = jnp.finfo(dt).dtype
    return jnp.asarray(x).astype(dt)


def lerp(start, end, weight):
    """torch's lerp on CPU: a formula from each end, picked by |weight| < 0.5."""
    w = cast(weight, start)
    return jnp.where(jnp.abs(weight) < 0.5, start + w * (end - start), end - (end - start) * (1 - w))


def _zeros_state(p):
    return Tensor._from_value(jnp.zeros_like(p._value()), dtype=p.dtype, device=p._device)


def _scalar_state(value, p):
    dtype = _get_scalar_dtype()
    v = jnp.asarray(value, dtype=dtype.np)
    if p._device.type != "cpu":
        v = jax.device_put(v, dev.jax_device(p._device))
    return Tensor._from_value(v, dtype=dtype, device=p._device)
