"""Rprop (resilient backpropagation) and its pure per-parameter rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._checks import check_ranges
from ._rules import _scalar_state, _zeros_state
from .optimizer import Optimizer

__all__ = ["Rprop"]


def _rprop(cfg, h, p, g, s):
    """torch's _single_tensor_rprop for one parameter."""
    (maximize,) = cfg
    etaminus, etaplus = h["etas"]
    step_size_min, step_size_max = h["step_sizes"]
    if maximize:
        g = -g
    sign = jnp.sign(K.mul(g, s["prev"]))
    # torch writes etaplus / etaminus / 1 into the sign tensor: they take the gradient's dtype
    stored = lambda v: jnp.asarray(v).astype(g.dtype)  # noqa: E731
    factor = jnp.where(sign > 0, stored(etaplus), jnp.where(sign < 0, stored(etaminus), stored(1)))
    step_size = K.clamp(K.mul(s["step_size"], factor), step_size_min, step_size_max)
    g = jnp.where(sign < 0, jnp.zeros_like(g), g)
    p = K.addcmul(p, jnp.sign(g), step_size, value=-1)
    return p, {"step": s["step"] + 1, "prev": g, "step_size": step_size}


class Rprop(Optimizer):
    _rule = staticmethod(_rprop)
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _counts_steps = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_ranges(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["prev"] = _zeros_state(p)
        lr = group["lr"]
        lr = lr.item() if isinstance(lr, Tensor) else lr
        value = complex(lr, lr) if p.is_complex() else lr
        state["step_size"] = Tensor._from_value(jnp.full_like(p.grad._value(), value), dtype=p.grad.dtype,
                                                device=p._device)

    def _config(self, group):
        return (bool(group["maximize"]),)

    def _hyper(self, group):
        return {"etas": tuple(group["etas"]), "step_sizes": tuple(group["step_sizes"])}
