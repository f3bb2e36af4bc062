"""Adafactor (torch.optim.Adafactor): factored second moments for matrices, and its pure rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._rules import _SCALAR, _scalar_state
from .optimizer import Optimizer

__all__ = ["Adafactor"]


def _norm(x, axis=None):
    """torch.norm(x, 2, dim=axis, keepdim=True) (the whole tensor for axis=None)."""
    o = K._opmath(x)
    r = jnp.sqrt(jnp.sum(jnp.square(x.astype(o)), axis=axis, keepdims=axis is not None))
    return r.astype(x.dtype)


def _adafactor(cfg, h, p, g, s):
    """torch's _single_tensor_adafactor for one parameter; its .item() reads (the step, the norms
    of the parameter and of the update) become float64 scalars."""
    has_wd, maximize, eps1 = cfg
    lr, beta2_decay, eps2, d = h["lr"], h["beta2_decay"], h["eps2"], h["d"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    step_float = step_t.astype(_SCALAR)
    one_minus_beta2_t = step_float ** beta2_decay
    rho_t = jnp.minimum(lr, 1 / (step_float ** 0.5))
    alpha = jnp.maximum(eps2, _norm(p).astype(_SCALAR) / (p.size ** 0.5)) * rho_t
    if has_wd:
        p = K.mul(p, 1 - lr * h["weight_decay"])
    new = {"step": step_t}
    if g.ndim > 1:
        row_mean = K.div(jnp.square(_norm(g, -1)), g.shape[-1])
        row_var = K.lerp(s["row_var"], row_mean, one_minus_beta2_t)
        col_mean = K.div(jnp.square(_norm(g, -2)), g.shape[-2])
        col_var = K.lerp(s["col_var"], col_mean, one_minus_beta2_t)
        new["row_var"], new["col_var"] = row_var, col_var
        var_estimate = jnp.matmul(row_var, col_var)
        row_var_mean = jnp.mean(row_var, axis=-2, keepdims=True)
        var_estimate = K.div(var_estimate, K.clamp(row_var_mean, eps1, jnp.inf))
    else:
        variance = K.lerp(s["variance"], K.mul(g, g), one_minus_beta2_t)
        new["variance"] = variance
        var_estimate = variance
    update = K._out(1 / jnp.sqrt(K._op(var_estimate, K.clamp(var_estimate, eps1 * eps1, jnp.inf))), var_estimate)
    update = K.mul(update, g)
    denom = jnp.maximum(1.0, _norm(update).astype(_SCALAR) / ((update.size ** 0.5) * d))
    return K.add(p, update, alpha=-alpha / denom), new


class Adafactor(Optimizer):
    _rule = staticmethod(_adafactor)
    _group_flags = {"foreach": None, "maximize": False}
    _counts_steps = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                 *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        g = p.grad
        state["step"] = _scalar_state(0.0, p)
        zeros = lambda shape: Tensor._from_value(jnp.zeros(shape, g.dtype.np), dtype=g.dtype,  # noqa: E731
                                                 device=p._device)
        if g.dim() > 1:
            state["row_var"] = zeros(g.shape[:-1] + (1,))
            state["col_var"] = zeros(g.shape[:-2] + (1, g.shape[-1]))
        else:
            state["variance"] = zeros(g.shape)

    def _config(self, group):
        # eps1 defaults to the parameter dtype's epsilon: the groups' dtypes decide it
        eps1 = group["eps"][0]
        if eps1 is None:
            dtypes = {p.dtype for p in group["params"]}
            if len(dtypes) != 1:
                raise NotImplementedError("jtorch's Adafactor needs eps[0] given when a group mixes "
                                          "parameter dtypes")
            eps1 = float(jnp.finfo(next(iter(dtypes)).np).eps)
        return (group["weight_decay"] != 0, bool(group["maximize"]), eps1)

    def _hyper(self, group):
        return {"lr": group["lr"], "beta2_decay": group["beta2_decay"], "eps2": group["eps"][1],
                "d": group["d"], "weight_decay": group["weight_decay"]}
