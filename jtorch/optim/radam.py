"""RAdam (rectified Adam) and its pure per-parameter rule."""
import jax.numpy as jnp

from . import _rules as K
from ._checks import check_ranges
from ._rules import _SCALAR
from .optimizer import Optimizer

__all__ = ["RAdam"]


def _radam(cfg, h, p, g, s):
    """torch's _single_tensor_radam (capturable=False) for one parameter; the Python branch on
    rho_t > 5 becomes a select, each side computed in torch's order."""
    has_wd, decoupled, maximize = cfg
    lr, (beta1, beta2), eps, wd = h["lr"], h["betas"], h["eps"], h["weight_decay"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    step = step_t.astype(_SCALAR)
    if has_wd:
        if decoupled:
            p = K.mul(p, 1 - lr * wd)
        else:
            g = K.add(g, p, alpha=wd)
    exp_avg = K.lerp(s["exp_avg"], g, 1 - beta1)
    exp_avg_sq = K.addcmul(K.mul(s["exp_avg_sq"], beta2), g, g, value=1 - beta2)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    bias_corrected_exp_avg = K.div(exp_avg, bias_correction1)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    rect = jnp.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    adaptive_lr = K.rdiv(jnp.sqrt(bias_correction2), K.add(K.sqrt(exp_avg_sq), eps))
    rectified = K.mul(K.mul(K.mul(bias_corrected_exp_avg, lr), adaptive_lr), rect)
    plain = K.mul(bias_corrected_exp_avg, lr)
    p = K.add(p, jnp.where(rho_t > 5.0, rectified, plain), alpha=-1.0)
    return p, {"step": step_t, "exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq}


class RAdam(Optimizer):
    _rule = staticmethod(_radam)
    _group_flags = {"foreach": None, "maximize": False, "differentiable": False,
                    "decoupled_weight_decay": False, "capturable": False}
    _counts_steps = True
    _zero_buffers = ("exp_avg", "exp_avg_sq")
    _hyper_keys = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_ranges(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["decoupled_weight_decay"]),
                bool(group["maximize"]))
