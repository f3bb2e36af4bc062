"""Adam (with amsgrad, L2 or decoupled weight decay, maximize) and its pure per-parameter rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._rules import _SCALAR, _scalar_state, _zeros_state
from .optimizer import Optimizer

__all__ = ["Adam"]


def _adam(cfg, h, p, g, s):
    """torch's _single_tensor_adam (capturable=False) for one parameter: bias corrections in
    float64 from the float32 step, as torch computes them from `step.item()` in Python."""
    amsgrad, maximize, has_wd, decoupled = cfg
    lr, beta1, beta2, eps, wd = h["lr"], h["betas"][0], h["betas"][1], h["eps"], h["weight_decay"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    if has_wd:
        if decoupled:
            p = K.mul(p, 1 - lr * wd)
        else:
            g = K.add(g, p, alpha=wd)
    m = K.lerp(s["exp_avg"], g, 1 - beta1)
    v = K.addcmul(K.mul(s["exp_avg_sq"], beta2), g, g, value=1 - beta2)
    step = step_t.astype(_SCALAR)
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = jnp.sqrt(1 - beta2 ** step)
    new = {"step": step_t, "exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        v = K.maximum(s["max_exp_avg_sq"], v)
        new["max_exp_avg_sq"] = v
    denom = K.add(K.div(K.sqrt(v), bias_correction2_sqrt), eps)
    return K.addcdiv(p, m, denom, value=-step_size), new


class Adam(Optimizer):
    _rule = staticmethod(_adam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
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
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
        self._step_tensors_from_numbers()

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def _config(self, group):
        return (bool(group["amsgrad"]), bool(group["maximize"]), group["weight_decay"] != 0,
                bool(group["decoupled_weight_decay"]))

    def _hyper(self, group):
        return {k: group[k] for k in ("lr", "betas", "eps", "weight_decay")}
