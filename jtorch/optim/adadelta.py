"""Adadelta and its pure per-parameter rule."""
from . import _rules as K
from ._checks import check_ranges
from .optimizer import Optimizer

__all__ = ["Adadelta"]


def _adadelta(cfg, h, p, g, s):
    """torch's _single_tensor_adadelta for one parameter."""
    has_wd, maximize = cfg
    rho, eps = h["rho"], h["eps"]
    if maximize:
        g = -g
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    square_avg = K.addcmul(K.mul(s["square_avg"], rho), g, g, value=1 - rho)
    std = K.sqrt(K.add(square_avg, eps))
    delta = K.mul(K.div(K.sqrt(K.add(s["acc_delta"], eps)), std), g)
    acc_delta = K.addcmul(K.mul(s["acc_delta"], rho), delta, delta, value=1 - rho)
    return K.add(p, delta, alpha=-h["lr"]), {"step": s["step"] + 1, "square_avg": square_avg,
                                             "acc_delta": acc_delta}


class Adadelta(Optimizer):
    _rule = staticmethod(_adadelta)
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _counts_steps = True
    _zero_buffers = ("square_avg", "acc_delta")
    _hyper_keys = ("lr", "rho", "eps", "weight_decay")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_ranges(lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))
