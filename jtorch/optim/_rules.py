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


def _apply(rule, cfgs, hs, groups_params, groups_grads, groups_states):
    """The rule over every parameter of every group, as one program."""
    out_params, out_states = [], []
    for cfg, h, params, grads, states in zip(cfgs, hs, groups_params, groups_grads, groups_states):
        new_params, new_states = [], []
        for p, g, s in zip(params, grads, states):
            p, s = _apply_one(rule, cfg, h, p, g, s)
            new_params.append(p)
            new_states.append(s)
        out_params.append(new_params)
        out_states.append(new_states)
    return out_params, out_states


def _apply_one(rule, cfg, h, p, g, s):
    cplx = jnp.iscomplexobj(p)
    if cplx:  # torch runs the rules on view_as_real of complex parameters and their state
        p, g = _as_real(p), _as_real(g)
        s = {k: _as_real(v) if jnp.iscomplexobj(v) else v for k, v in s.items()}
    dtypes = {k: v.dtype for k, v in s.items()}
    p_dtype = p.dtype
    p, s = rule(cfg, h, p, g, s)
    # results are stored in their tensors' dtypes (new per-parameter state in the parameter's)
    p = p.astype(p_dtype)
    s = {k: v.astype(dtypes.get(k, p_dtype if v.shape == p.shape else v.dtype)) for k, v in s.items()}
    if cplx:
        s = {k: _as_complex(v) if v.shape == p.shape else v for k, v in s.items()}
        p = _as_complex(p)
    return p, s


_apply_jit = jax.jit(_apply, static_argnums=(0, 1))


def _scalar(x):
    """A hyperparameter as a float64 value for the traced `h` (Tensor hyperparameters included)."""
    if isinstance(x, Tensor):
        return x._value().reshape(()).astype(_SCALAR)
    if isinstance(x, jax.core.Tracer):      # a learning rate fed in by jtorch.compile
        return x.astype(_SCALAR)
    return np.asarray(x, dtype=_SCALAR)


# -- torch's CPU kernels, one function per tensor op the rules use ------------------------------
# Each computes in torch's "opmath" type (float32 for float16/bfloat16 tensors, the tensor's own
# dtype otherwise), with Python scalars (the float64 hyperparameters) converted to it unrounded,
# and rounds the result to the dtype of its first tensor operand, as each torch op stores its
# result. For float32/float64 the conversions are no-ops. A 0-d operand acts as a scalar, as a
# CPU scalar tensor does in torch.

def _opmath(x):
    dt = jnp.result_type(x)
    if dt in (jnp.float16, jnp.bfloat16):
        return jnp.float32
    if jnp.issubdtype(dt, jnp.complexfloating):
        return jnp.finfo(dt).dtype
    return dt


def cast(x, like):
    """A (float64) scalar in the opmath type of tensor `like`."""
    return jnp.asarray(x).astype(_opmath(like))


def _op(x, y):
    """`y` (tensor or scalar) as an operand of an op whose first tensor is x."""
    return cast(y, x) if jnp.ndim(y) == 0 else y.astype(_opmath(x))


def _out(r, x):
    return r.astype(jnp.result_type(x))


def _rounded(v, x):
    """A scalar rounded to x's dtype first: torch's add takes alpha (and a scalar `other`) as
    scalar_t, not opmath, for float16/bfloat16."""
    return jnp.asarray(v).astype(jnp.result_type(x)).astype(_opmath(x))


def add(x, y, alpha=1):
    """x.add(y, alpha=alpha): x + alpha * y."""
    y = _rounded(y, x) if jnp.ndim(y) == 0 else _op(x, y)
    return _out(_op(x, x) + _rounded(alpha, x) * y, x)


def mul(x, y):
    return _out(_op(x, x) * _op(x, y), x)


def div(x, y):
    return _out(_op(x, x) / _op(x, y), x)


def rdiv(scalar, x):
    """scalar / x: torch's Tensor.__rtruediv__ is x.reciprocal() * scalar."""
    return mul(_out(1 / _op(x, x), x), scalar)


def addcmul(x, t1, t2, value=1):
    """x.addcmul(t1, t2, value=value): x + value * t1 * t2."""
    return _out(_op(x, x) + cast(value, x) * _op(x, t1) * _op(x, t2), x)


def addcdiv(x, t1, t2, value=1):
    """x.addcdiv(t1, t2, value=value): x + value * t1 / t2, in C++'s left-to-right order."""
    return _out(_op(x, x) + cast(value, x) * _op(x, t1) / _op(x, t2), x)


def lerp(x, end, weight):
    """x.lerp(end, weight) on CPU: a formula from each end, picked by |weight| < 0.5."""
    a, b, w = _op(x, x), _op(x, end), cast(weight, x)
    return _out(jnp.where(jnp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w)), x)


def sqrt(x):
    return _out(jnp.sqrt(_op(x, x)), x)


def maximum(x, y):
    return _out(jnp.maximum(_op(x, x), _op(x, y)), x)


def clamp(x, lo, hi):
    return _out(jnp.clip(_op(x, x), cast(lo, x), cast(hi, x)), x)


def _zeros_state(p):
    return Tensor._from_value(jnp.zeros_like(p._value()), dtype=p.dtype, device=p._device)


def _scalar_state(value, p):
    dtype = _get_scalar_dtype()
    v = jnp.asarray(value, dtype=dtype.np)
    if p._device.type != "cpu":
        v = jax.device_put(v, dev.jax_device(p._device))
    return Tensor._from_value(v, dtype=dtype, device=p._device)
