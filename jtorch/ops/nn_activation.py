"""Activation functions of torch.nn.functional, with torch's node names and gradients.

Gradients follow torch's at the kinks: written with jnp.where so that the derivative at a
boundary is the one torch's backward formula gives (hardtanh: 0 at min/max; threshold: the
value branch...), never the half-and-half split that jnp.maximum/minimum's VJP makes on ties.
"""
import math

import jax
import jax.numpy as jnp
from jax import lax

from . import _torch_grads as T
from .nn_common import F, apply_inplace, check_bool_sub, functional
from ._registry import TORCH, op
from ._promotion import to_float
from .. import _dtype as D


def _float_rule(name):
    def rule(dims, zero_dims, numbers):
        ds = dims + zero_dims
        for d in ds:
            if not (d.is_floating_point or d.is_complex):
                raise NotImplementedError('"%s" not implemented for \'%s\'' % (name, d._legacy))
        return None
    return rule


def _integral_rule(error, message):
    """Ops torch also runs on integers, in their own dtype (hardtanh, threshold); bool is refused
    with torch's exception."""
    def rule(dims, zero_dims, numbers):
        if any(d is D.bool for d in dims + zero_dims):
            raise error(message)
        return None
    return rule


def _to_float_rule(error, message):
    """Ops torch composes of float pointwise ops (softsign, tanhshrink): integers compute in the
    default float dtype; bool fails in torch's first composed op, with its exception."""
    def rule(dims, zero_dims, numbers):
        if any(d is D.bool for d in dims + zero_dims):
            raise error(message)
        return to_float(dims, zero_dims, numbers)
    return rule


def _private(name, node, saves=None, promote=None):
    return op(promote=promote or _float_rule(name), node=node, function=False, method=False, name=name,
              saves=saves)


def _maybe_inplace(fn, input, inplace, *args):
    out = fn(input, *args)
    return apply_inplace(input, out) if inplace else out


# -- the ReLU family ----------------------------------------------------------------------------

@functional
def relu(input, inplace=False):
    return input.relu_() if inplace else TORCH["relu"](input)


@functional
def relu_(input):
    return input.relu_()


@_private("_hardtanh", "HardtanhBackward0",
          promote=_integral_rule(RuntimeError, "Bool inputs not supported for hardtanh"))
def _hardtanh(input, min_val, max_val):
    lo = jnp.asarray(min_val, input.dtype)
    hi = jnp.asarray(max_val, input.dtype)
    # torch's values are clamp's (so -0.0 at a 0.0 bound stays -0.0); its gradient is 0 on the
    # bounds themselves and passes through NaN
    clipped = jnp.where(input < lo, lo, jnp.where(input > hi, hi, input))
    return jnp.where((input <= lo) | (input >= hi), lax.stop_gradient(clipped), input)


@functional
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(_hardtanh, input, inplace, float(min_val), float(max_val))


@functional
def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


@functional
def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


@_private("_leaky_relu", "LeakyReluBackward0")
def _leaky_relu(input, negative_slope):
    return jnp.where(input > 0, input, input * jnp.asarray(negative_slope, input.dtype))


@functional
def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(_leaky_relu, input, inplace, float(negative_slope))


@functional
def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


@_private("_elu", "EluBackward0")
def _elu(input, alpha, scale, input_scale):
    # torch's elu kernel: x > 0 ? x * scale : expm1(x * input_scale) * alpha * scale
    neg = jnp.asarray(alpha * scale, input.dtype)
    pos = jnp.asarray(scale, input.dtype)
    xs = input * jnp.asarray(input_scale, input.dtype) if input_scale != 1.0 else input
    return jnp.where(input > 0, input * pos if scale != 1.0 else input, jnp.expm1(xs) * neg)


@_private("_celu", "CeluBackward0")
def _celu(input, alpha):
    return jnp.where(input > 0, input,
                     jnp.expm1(input * jnp.asarray(1.0 / alpha, input.dtype)) * jnp.asarray(alpha, input.dtype))


@functional
def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_elu, input, inplace, float(alpha), 1.0, 1.0)


@functional
def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@functional
def selu(input, inplace=False):
    return _maybe_inplace(_elu, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


@functional
def selu_(input):
    return selu(input, True)


@functional
def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(_celu, input, inplace, float(alpha))


@functional
def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


@_private("_threshold", "ThresholdBackward0",
          promote=_integral_rule(NotImplementedError, '"threshold_cpu" not implemented for \'Bool\''))
def _threshold(input, threshold, value):
    return jnp.where(input > jnp.asarray(threshold, input.dtype), input, jnp.asarray(value, input.dtype))


@functional
def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(_threshold, input, inplace, float(threshold), float(value))


@functional
def threshold_(input, threshold, value):
    return _maybe_inplace(_threshold, input, True, float(threshold), float(value))


@op(tensors="input weight", promote=_float_rule("prelu"), node="PreluKernelBackward0", function=False,
    method=False, name="_prelu")
def _prelu(input, weight):
    return jnp.where(input > 0, input, input * weight)


@functional(torch=True)
def prelu(input, weight):
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = %d" % weight.dim())
    n = weight.numel()
    if input.dim() == 0 or n == 1:
        w = weight.reshape(())
    else:
        channels = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = %d "
                               "and channel size = %d." % (n, channels))
        w = weight.reshape((channels,) + (1,) * (input.dim() - 2)) if input.dim() >= 2 else weight
    return _prelu(input, w)


@op(tensors="input noise", promote=_float_rule("rrelu_with_noise_out_cpu"), node="RreluWithNoiseBackward0",
    function=False, method=False, name="_rrelu_with_noise")
def _rrelu_with_noise(input, noise):
    return input * noise


@_private("_rrelu_eval", "RreluWithNoiseBackward0", promote=_float_rule("rrelu_with_noise_out_cpu"))
def _rrelu_eval(input, slope):
    # torch's eval rrelu is leaky_relu with the mean slope, recorded as rrelu_with_noise
    return jnp.where(input > 0, input, input * jnp.asarray(slope, input.dtype))


@functional
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """rrelu. In training, the slopes of non-positive elements are drawn from jtorch's generator
    in element order, one 53-bit uniform each, as torch's CPU kernel draws them."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return _maybe_inplace(_rrelu_eval, input, inplace, float((lower + upper) / 2))
    import numpy as np
    from .random import _core
    from .._tensor import Tensor
    x = np.asarray(input.detach()._value())
    neg = x <= 0
    u = _core(None)._unit_double(int(neg.sum()))
    r = np.ones(x.shape, np.float64)
    r[neg] = u * (upper - lower) + lower
    noise = Tensor._from_value(jnp.asarray(r.astype(x.dtype)), device=input.device)
    out = _rrelu_with_noise(input, noise)
    return apply_inplace(input, out) if inplace else out


@functional
def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


@op(promote=_float_rule("GeluKernelImpl"), node="GeluBackward0", namespace="nn.functional", method=False)
def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if approximate == "tanh":
        c = jnp.asarray(math.sqrt(2.0 / math.pi), input.dtype)
        return 0.5 * input * (1.0 + jnp.tanh(c * (input + jnp.asarray(0.044715, input.dtype) * input ** 3)))
    return input * 0.5 * (1.0 + lax.erf(input * jnp.asarray(1.0 / math.sqrt(2.0), input.dtype)))


@_private("_silu", "SiluBackward0")
def _silu(input):
    return input / (1.0 + jnp.exp(-input))


@functional
def silu(input, inplace=False):
    return _maybe_inplace(_silu, input, inplace)


@_private("_mish", "MishBackward0")
def _mish(input):
    return input * jnp.tanh(jax.nn.softplus(input))


@functional
def mish(input, inplace=False):
    return _maybe_inplace(_mish, input, inplace)


@_private("_hardsigmoid", "HardsigmoidBackward0")
def _hardsigmoid(input):
    return jnp.where(input <= -3, jnp.zeros_like(input),
                     jnp.where(input >= 3, jnp.ones_like(input), (input + 3) / 6))


@functional
def hardsigmoid(input, inplace=False):
    return _maybe_inplace(_hardsigmoid, input, inplace)


@_private("_hardswish", "HardswishBackward0")
def _hardswish(input):
    return jnp.where(input < -3, jnp.zeros_like(input),
                     jnp.where(input <= 3, input * (input + 3) / 6, input * 6 / 6))


@functional
def hardswish(input, inplace=False):
    return _maybe_inplace(_hardswish, input, inplace)


@op(promote=_float_rule("softplus"), node="SoftplusBackward0", namespace="nn.functional", method=False)
def softplus(input, beta=1.0, threshold=20.0):
    b = jnp.asarray(beta, input.dtype)
    xb = input * b
    safe = jnp.where(xb > threshold, jnp.zeros_like(xb), xb)
    return jnp.where(xb > threshold, input, jnp.log1p(jnp.exp(safe)) / b)


@op(promote=_to_float_rule(NotImplementedError, '"abs_cpu" not implemented for \'Bool\''), node="DivBackward0",
    namespace="nn.functional", method=False)
def softsign(input):
    return input / (jnp.abs(input) + 1)


@op(promote=_float_rule("log_sigmoid_forward"), node="LogSigmoidBackward0", namespace="nn.functional",
    method=False)
def logsigmoid(input):
    return T.log_sigmoid(input)


@op(promote=_to_float_rule(RuntimeError,
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
    "use the `~` or `logical_not()` operator instead."), node="SubBackward0", namespace="nn.functional", method=False)
def tanhshrink(input):
    return input - jnp.tanh(input)


@op(promote=_float_rule("softshrink"), node="SoftshrinkBackward0", namespace="nn.functional", method=False)
def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError("lambda must be greater or equal to 0, but found to be %s." % lambd)
    lam = jnp.asarray(lambd, input.dtype)
    return jnp.where(input > lam, input - lam, jnp.where(input < -lam, input + lam, jnp.zeros_like(input)))


@op(promote=_float_rule("hardshrink"), node="HardshrinkBackward0", namespace="nn.functional", method=False)
def hardshrink(input, lambd=0.5):
    lam = jnp.asarray(lambd, input.dtype)
    return jnp.where((input >= -lam) & (input <= lam), jnp.zeros_like(input), input)


@op(promote=_float_rule("glu"), node="GluBackward0", namespace="nn.functional", method=False)
def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim
    if input.shape[d] % 2:
        raise RuntimeError("Halving dimension must be even, but dimension %d is size %d" % (d, input.shape[d]))
    a, b = jnp.split(input, 2, axis=d)
    return a * jax.nn.sigmoid(b)


# -- softmax family and friends -------------------------------------------------------------

def _softmax_dim(name, ndim):
    import warnings
    warnings.warn("Implicit dimension choice for %s has been deprecated. Change the call to include dim=X as "
                  "an argument." % name, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


@functional
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    return TORCH["softmax"](input, dim, dtype=dtype)


@functional
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    return TORCH["softmax"](-input, dim, dtype=dtype)


@functional
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    return TORCH["log_softmax"](input, dim, dtype=dtype)


@functional
def sigmoid(input):
    return TORCH["sigmoid"](input)


@functional
def tanh(input):
    return TORCH["tanh"](input)


@functional
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return TORCH["div"](input, denom, out=out)


@op(tensors="x1 x2", promote=_float_rule("cosine_similarity"), node="SumBackward1", namespace="nn.functional",
    method=False, function=True)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    x1, x2 = jnp.broadcast_arrays(x1, x2)
    n1 = jnp.sqrt(jnp.maximum(jnp.sum(x1 * x1, axis=dim, keepdims=True), eps * eps))
    n2 = jnp.sqrt(jnp.maximum(jnp.sum(x2 * x2, axis=dim, keepdims=True), eps * eps))
    return jnp.sum((x1 / n1) * (x2 / n2), axis=dim)


TORCH["cosine_similarity"] = F["cosine_similarity"]


def _pairwise_rule(dims, zero_dims, numbers):
    # torch computes x1 - x2 + eps: integers give the default float dtype, bools are refused
    check_bool_sub(*dims, *zero_dims)
    return to_float(dims, zero_dims, numbers)


@op(tensors="x1 x2", promote=_pairwise_rule, node="NormBackward1", namespace="nn.functional", method=False)
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = x1 - x2 + eps
    axis = -1 if d.ndim else None
    if p == 2.0:
        return jnp.sqrt(jnp.sum(d * d, axis=axis, keepdims=keepdim))
    if p == math.inf:
        return jnp.max(jnp.abs(d), axis=axis, keepdims=keepdim)
    if p == 0:
        return jnp.sum(d != 0, axis=axis, keepdims=keepdim).astype(d.dtype)
    return jnp.sum(jnp.abs(d) ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)


TORCH["pairwise_distance"] = F["pairwise_distance"]
