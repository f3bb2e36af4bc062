"""NAdam (Adam with Nesterov momentum and momentum decay) and its pure per-parameter rule."""
from .._tensor import Tensor
from . import _rules as K
from ._checks import check_ranges
from ._rules import _SCALAR, _scalar_state, _zeros_state
from .optimizer import Optimizer

__all__ = ["NAdam"]


def _nadam(cfg, h, p, g, s):
    """torch's _single_tensor_nadam (capturable=False) for one parameter. `mu_product` is a
    float32 tensor in torch, multiplied in float32; the scalar factors are float64."""
    has_wd, decoupled, maximize = cfg
    lr, (beta1, beta2), eps, wd, md = h["lr"], h["betas"], h["eps"], h["weight_decay"], h["momentum_decay"]
    if maximize:
        g = -g
    step_t = s["step"] + 1
    step = step_t.astype(_SCALAR)
    bias_correction2 = 1 - beta2 ** step
    if has_wd:
        if decoupled:
            p = K.mul(p, 1 - lr * wd)
        else:
            g = K.add(g, p, alpha=wd)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
    mu_product_t = K.mul(s["mu_product"], mu)
    exp_avg = K.lerp(s["exp_avg"], g, 1 - beta1)
    exp_avg_sq = K.addcmul(K.mul(s["exp_avg_sq"], beta2), g, g, value=1 - beta2)
    denom = K.add(K.sqrt(K.div(exp_avg_sq, bias_correction2)), eps)
    mu_product = mu_product_t.astype(_SCALAR)
    mu_product_next = mu_product * mu_next
    p = K.addcdiv(p, g, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
    p = K.addcdiv(p, exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
    return p, {"step": step_t, "mu_product": mu_product_t, "exp_avg": exp_avg,
               "exp_avg_sq": exp_avg_sq}


class NAdam(Optimizer):
    _rule = staticmethod(_nadam)
    _group_flags = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                    "decoupled_weight_decay": False}
    _counts_steps = True
    _hyper_keys = ("lr", "betas", "eps", "weight_decay", "momentum_decay")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_ranges(lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        # like "step", an old state dict holds the running momentum product as a number
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and not isinstance(p_state.get("mu_product"), Tensor):
                    p_state["mu_product"] = _scalar_state(float(p_state["mu_product"]), p)

    def _init_state(self, p, group, state):
        state["step"] = _scalar_state(0.0, p)
        state["mu_product"] = _scalar_state(1.0, p)
        state["exp_avg"] = _zeros_state(p)
        state["exp_avg_sq"] = _zeros_state(p)

    def _config(self, group):
        return (group["weight_decay"] != 0, bool(group["decoupled_weight_decay"]),
                bool(group["maximize"]))
