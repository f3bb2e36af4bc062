"""Adagrad (lr_decay, initial_accumulator_value, weight decay, maximize); dense gradients only."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._checks import check_fused, check_ranges
from ._rules import _SCALAR, _scalar_state
from .optimizer import Optimizer

__all__ = ["Adagrad"]


def _adagrad(cfg, h, p, g, s):
    """torch's _single_tensor_adagrad (dense) for one parameter."""
    has_wd, maximize = cfg
    step_t = s["step"] + 1
    step = step_t.astype(_SCALAR)
    if maximize:
        g = -g
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    clr = h["lr"] / (1 + (step - 1) * h["lr_decay"])
    state_sum = K.addcmul(s["sum"], g, g, value=1)
    std = K.add(K.sqrt(state_sum), h["eps"])
    return K.addcdiv(p, g, std, value=-clr), {"step": step_t, "sum": state_sum}


def _full_state(p, value):
    v = complex(value, value) if p.is_complex() else value
    return Tensor._from_value(jnp.full_like(p._value(), v), dtype=p.dtype, device=p._device)


class Adagrad(Optimizer):
    _rule = staticmethod(_adagrad)
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}
    _counts_steps = True
    _hyper_keys = ("lr", "lr_decay", "eps", "weight_decay")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_ranges(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                     initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)
        # torch creates Adagrad's state eagerly, for every parameter
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state[p])

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["sum"] = _full_state(p, self.defaults["initial_accumulator_value"])

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))
