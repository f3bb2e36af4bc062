"""Adagrad (lr_decay, initial_accumulator_value, weight decay, maximize); dense gradients only."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
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

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # torch creates Adagrad's state eagerly, for every parameter
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0, p)
                state["sum"] = _full_state(p, initial_accumulator_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        self._step_tensors_from_numbers()

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["sum"] = _full_state(p, self.defaults["initial_accumulator_value"])

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["maximize"]))

    def _hyper(self, group):
        return {k: group[k] for k in ("lr", "lr_decay", "eps", "weight_decay")}
