"""Muon (momentum orthogonalized by Newton-Schulz iterations, for 2-D parameters)."""
import math

import jax.numpy as jnp

from .._tensor import Tensor
from . import _rules as K
from .optimizer import Optimizer

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """torch's _zeropower_via_newtonschulz: bfloat16 iterations X <- aX + (bA + cA^2) X, A = XX^T.
    Matrix products accumulate in float32 and round to bfloat16; the order of the sums inside a
    product is XLA's, so results agree with torch's to bfloat16 rounding, not bit for bit."""
    a, b, c = ns_coefficients
    x = grad.astype(jnp.bfloat16)
    transposed = grad.shape[0] > grad.shape[1]
    if transposed:
        x = x.T
    norm = jnp.sqrt(jnp.sum(jnp.square(x.astype(jnp.float32)))).astype(jnp.bfloat16)
    x = K.div(x, K.clamp(norm, eps, jnp.inf))

    def mm(u, v):
        return jnp.matmul(u, v, preferred_element_type=jnp.float32)

    for _ in range(ns_steps):
        gram = mm(x, x.T).astype(jnp.bfloat16)
        gram_update = (K.cast(b, gram) * gram.astype(jnp.float32) + K.cast(c, gram) * mm(gram, gram))
        gram_update = gram_update.astype(jnp.bfloat16)
        x = (K.cast(a, x) * x.astype(jnp.float32) + mm(gram_update, x)).astype(jnp.bfloat16)
    return x.T if transposed else x


def _adjust_ratio(adjust_lr_fn, shape):
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, A / B))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(A, B))
    return 1.0


def _muon(cfg, h, p, g, s):
    """torch's _single_tensor_muon for one parameter."""
    nesterov, ns_steps, adjust_lr_fn = cfg
    lr, momentum = h["lr"], h["momentum"]
    buf = K.lerp(s["momentum_buffer"], g, 1 - momentum)
    update = K.lerp(g, buf, momentum) if nesterov else buf
    update = _zeropower_via_newtonschulz(update, h["ns_coefficients"], ns_steps, h["eps"])
    adjusted_lr = lr * _adjust_ratio(adjust_lr_fn, p.shape)
    p = K.mul(p, 1 - lr * h["weight_decay"])
    return K.add(p, update, alpha=-adjusted_lr), {"momentum_buffer": buf}


class Muon(Optimizer):
    _rule = staticmethod(_muon)

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
                    "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter "
                                     f"with size: {p.size()}")

    def _init_state(self, p, group, state):
        if p.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        g = p.grad
        state["momentum_buffer"] = Tensor._from_value(jnp.zeros_like(g._value()), dtype=g.dtype,
                                                      device=p._device)

    def _config(self, group):
        if group["ns_steps"] >= 100:
            raise ValueError("Number of steps must be less than 100 for computational efficiency")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError("Coefficients must be a tuple of exactly 3 values")
        return (bool(group["nesterov"]), int(group["ns_steps"]), group["adjust_lr_fn"])

    def _hyper(self, group):
        return {"lr": group["lr"], "momentum": group["momentum"], "weight_decay": group["weight_decay"],
                "eps": group["eps"], "ns_coefficients": tuple(group["ns_coefficients"])}
