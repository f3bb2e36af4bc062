"""RMSprop (centered, momentum, weight decay, maximize) and its pure per-parameter rule."""
from . import _rules as K
from ._checks import check_ranges
from ._rules import _zeros_state
from .optimizer import Optimizer

__all__ = ["RMSprop"]


def _rmsprop(cfg, h, p, g, s):
    """torch's _single_tensor_rmsprop for one parameter."""
    has_momentum, centered, has_wd, maximize = cfg
    lr, alpha, eps = h["lr"], h["alpha"], h["eps"]
    if maximize:
        g = -g
    new = {"step": s["step"] + 1}
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    square_avg = K.addcmul(K.mul(s["square_avg"], alpha), g, g, value=1 - alpha)
    new["square_avg"] = square_avg
    if centered:
        grad_avg = K.lerp(s["grad_avg"], g, 1 - alpha)
        new["grad_avg"] = grad_avg
        avg = K.sqrt(K.addcmul(square_avg, grad_avg, grad_avg, value=-1))
    else:
        avg = K.sqrt(square_avg)
    avg = K.add(avg, eps)
    if has_momentum:
        buf = K.addcdiv(K.mul(s["momentum_buffer"], h["momentum"]), g, avg)
        new["momentum_buffer"] = buf
        return K.add(p, buf, alpha=-lr), new
    return K.addcdiv(p, g, avg, value=-lr), new


class RMSprop(Optimizer):
    _rule = staticmethod(_rmsprop)
    _group_flags = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                    "differentiable": False, "capturable": False}
    _counts_steps = True
    _zero_buffers = ("square_avg",)
    _hyper_keys = ("lr", "alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_ranges(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        super()._init_state(p, group, state)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(p)

    def _config(self, group):
        return (group["momentum"] > 0, bool(group["centered"]), group["weight_decay"] != 0,
                bool(group["maximize"]))
