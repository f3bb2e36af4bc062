"""ASGD (averaged SGD) and its pure per-parameter rule."""
import jax.numpy as jnp

from .. import _dtype as D
from .._tensor import Tensor
from . import _rules as K
from ._checks import check_ranges
from ._rules import _SCALAR, _scalar_state, _zeros_state
from .optimizer import Optimizer

__all__ = ["ASGD"]


def _asgd(cfg, h, p, g, s):
    """torch's _single_tensor_asgd (capturable=False) for one parameter: `eta` and `mu` are 0-d
    tensors read as Python floats; the new ones are computed in float64 and pass through
    torch.as_tensor, i.e. the default dtype, before they are stored."""
    has_wd, maximize, default_dtype = cfg
    lambd, lr, t0, alpha = h["lambd"], h["lr"], h["t0"], h["alpha"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    eta = s["eta"].astype(_SCALAR)
    p = K.mul(p, 1 - lambd * eta)
    p = K.add(p, g, alpha=-eta)
    mu = s["mu"]
    ax = jnp.where(mu != 1, K.add(s["ax"], K.mul(K.add(p, s["ax"], alpha=-1), mu)), p)
    step = step_t.astype(_SCALAR)
    new_eta = lr / ((1 + lambd * lr * step) ** alpha)
    new_mu = 1 / jnp.maximum(1, step - t0)
    return p, {"step": step_t, "eta": new_eta.astype(default_dtype).astype(s["eta"].dtype),
               "mu": new_mu.astype(default_dtype).astype(mu.dtype), "ax": ax}


class ASGD(Optimizer):
    _rule = staticmethod(_asgd)
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _counts_steps = True
    _hyper_keys = ("lr", "lambd", "alpha", "t0", "weight_decay")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_ranges(lr, weight_decay=weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        lr = group["lr"]
        state["step"] = _scalar_state(0.0, p)
        state["eta"] = _scalar_state(lr.item() if isinstance(lr, Tensor) else lr, p)
        state["mu"] = _scalar_state(1.0, p)
        state["ax"] = _zeros_state(p)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]), D.get_default_dtype().np)
