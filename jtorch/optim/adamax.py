"""Adamax (Adam with the infinity norm) and its pure per-parameter rule."""
import jax.numpy as jnp

from . import _rules as K
from ._checks import check_ranges
from ._rules import _SCALAR
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
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _counts_steps = True
    _zero_buffers = ("exp_avg", "exp_inf")
    _hyper_keys = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                 *, maximize=False, differentiable=False, capturable=False):
        check_ranges(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))
