"""RMSprop (centered, momentum, weight decay, maximize) and its pure per-parameter rule."""
from .._tensor import Tensor
from . import _rules as K
from ._rules import _scalar_state, _zeros_state
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

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._step_tensors_from_numbers()

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["square_avg"] = _zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_state(p)

    def _config(self, group):
        return (group["momentum"] > 0, bool(group["centered"]), group["weight_decay"] != 0,
                bool(group["maximize"]))

    def _hyper(self, group):
        return {k: group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum")}
