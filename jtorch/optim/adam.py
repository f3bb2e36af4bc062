"""Adam (with amsgrad, L2 or decoupled weight decay, maximize) and its pure per-parameter rule."""
import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from ._checks import check_fused, check_ranges
from ._rules import _SCALAR, _zeros_state
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
    _group_flags = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                    "differentiable": False, "decoupled_weight_decay": False, "fused": None}
    _counts_steps = True
    _zero_buffers = ("exp_avg", "exp_avg_sq")
    _hyper_keys = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_ranges(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)

    def _init_state(self, p, group, state):
        super()._init_state(p, group, state)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_state(p)

    def _config(self, group):
        return (bool(group["amsgrad"]), bool(group["maximize"]), group["weight_decay"] != 0,
                bool(group["decoupled_weight_decay"]))
