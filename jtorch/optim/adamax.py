"""Adamax (Adam with the infinity norm) and its pure per-parameter rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._rules import _SCALAR, _scalar_state, _zeros_state
from .optimizer import Optimizer

__all__ = ["Adamax"]


def _adamax(cfg, h, p, g, s):
    """torch's _single_tensor_adamax (capturable=False) for one parameter."""
    has_wd, maximize = cfg
    beta1, beta2 = h["betas"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    exp_avg = K.lerp(s["exp_avg"], g, 1 - beta1)
    exp_inf = K.maximum(K.mul(s["exp_inf"], beta2), K.add(jnp.abs(g), h["eps"]))
    clr = h["lr"] / (1 - beta1 ** step_t.astype(_SCALAR))
    return K.addcdiv(p, exp_avg, exp_inf, value=-clr), {"step": step_t, "exp_avg": exp_avg,
                                                         "exp_inf": exp_inf}


class Adamax(Optimizer):
    _rule = staticmethod(_adamax)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                 *, maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._step_tensors_from_numbers()

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["exp_avg"] = _zeros_state(p)
        state["exp_inf"] = _zeros_state(p)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))

    def _hyper(self, group):
        return {k: group[k] for k in ("lr", "betas", "eps", "weight_decay")}
