"""Adadelta and its pure per-parameter rule."""
from .._tensor import Tensor
from . import _rules as K
from ._rules import _scalar_state, _zeros_state
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

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
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
        state["square_avg"] = _zeros_state(p)
        state["acc_delta"] = _zeros_state(p)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))

    def _hyper(self, group):
        return {k: group[k] for k in ("lr", "rho", "eps", "weight_decay")}
