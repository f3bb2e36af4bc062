"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD)."""
from .._tensor import Tensor
from . import _rules as K
from ._checks import check_fused
from .optimizer import Optimizer

__all__ = ["SGD"]


def _sgd(cfg, h, p, g, s):
    """torch's _single_tensor_sgd for one parameter."""
    has_momentum, has_wd, nesterov, maximize = cfg
    if maximize:
        g = -g
    if has_wd:
        g = K.add(g, p, alpha=h["weight_decay"])
    new = {}
    if has_momentum:
        buf = s.get("momentum_buffer")
        if buf is None:
            buf = g
        else:
            buf = K.add(K.mul(buf, h["momentum"]), g, alpha=1 - h["dampening"])
        new["momentum_buffer"] = buf
        g = K.add(g, buf, alpha=h["momentum"]) if nesterov else buf
    return K.add(p, g, alpha=-h["lr"]), new


class SGD(Optimizer):
    _rule = staticmethod(_sgd)
    _group_flags = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                    "fused": False}
    _hyper_keys = ("lr", "momentum", "dampening", "weight_decay")

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        # SGD alone tests `value < 0.0`, which lets a NaN through where the others reject it
        for name, value in (("learning rate", lr), ("momentum value", momentum),
                            ("weight_decay value", weight_decay)):
            if value < 0.0:
                raise ValueError(f"Invalid {name}: {value}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, differentiable, foreach)

    def _uses_state(self, group):
        return group["momentum"] != 0

    def _config(self, group):
        return (group["momentum"] != 0, group["weight_decay"] != 0, bool(group["nesterov"]),
                bool(group["maximize"]))
