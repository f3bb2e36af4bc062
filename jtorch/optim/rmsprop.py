"""RMSprop (centered, momentum, weight decay, maximize) and its pure per-parameter rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from ._rules import _scalar_state, _zeros_state, cast, lerp
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
        g = g + cast(h["weight_decay"], p) * p
    square_avg = s["square_avg"] * cast(alpha, p) + cast(1 - alpha, p) * g * g
    new["square_avg"] = square_avg
    if centered:
        grad_avg = lerp(s["grad_avg"], g, 1 - alpha)
        new["grad_avg"] = grad_avg
        avg = jnp.sqrt(square_avg + cast(-1, p) * grad_avg * grad_avg)
    else:
        avg = jnp.sqrt(square_avg)
    avg = avg + cast(eps, p)
    if has_momentum:
        buf = s["momentum_buffer"] * cast(h["momentum"], p) + g / avg
        new["momentum_buffer"] = buf
        return p + cast(-lr, p) * buf, new
    return p + cast(-lr, p) * (g / avg), new


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
