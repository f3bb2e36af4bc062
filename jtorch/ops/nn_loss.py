"""Loss functions of torch.nn.functional, with torch's reductions, options and node names.

A loss whose grad_fn name depends on the reduction (`l1_loss`: MeanBackward0, SumBackward0,
AbsBackward0) is declared once per reduction from one implementation (`_variants`), because a
node name is fixed per op. cross_entropy is log_softmax (its own node, LogSoftmaxBackward0)
followed by one op for the rest, as torch's graph is.
"""
import math
import warnings

import jax
import jax.numpy as jnp

from .. import _dtype as D
from . import _promotion as P
from . import _torch_grads as T
from .nn_common import F, check_bool_sub, concrete, functional, reduction_name
from ._registry import TORCH, op


def _variants(impl, tensors, nodes, promote=P.promote, promote_args=None):
    """One op per reduction (nodes: reduction -> node name or node function)."""
    return {r: op(tensors=tensors, promote=promote, promote_args=promote_args, node=node, function=False,
                  method=False, name="%s_%s" % (impl.__name__, r))(impl)
            for r, node in nodes.items()}


def _no_grad_arg(t, fn, arg="weight"):
    """torch's kernels that do not differentiate an argument refuse one that requires grad."""
    from ..autograd.grad_mode import is_grad_enabled
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError("The function '%s' is not differentiable with respect to argument '%s'. This input cannot "
                           "have requires_grad True." % (fn, arg))


def _reduce(loss, reduction):
    if reduction == "mean":
        return jnp.mean(loss)
    if reduction == "sum":
        return jnp.sum(loss)
    return loss


def _size_warning(input, target):
    if target.size() != input.size():
        warnings.warn("Using a target size (%s) that is different to the input size (%s). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same size."
                      % (target.size(), input.size()), stacklevel=3)


def _check_broadcast(a, b):
    try:
        jnp.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        sa, sb = tuple(a.shape), tuple(b.shape)
        n = max(len(sa), len(sb))
        sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        dim = next(i for i in reversed(range(n)) if sa[i] != sb[i] and 1 not in (sa[i], sb[i]))
        raise RuntimeError("The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton "
                           "dimension %d" % (sa[dim], sb[dim], dim)) from None


def _nodes(name):
    return {r: name for r in ("mean", "sum", "none")}


def _weighted(errors_fn, name):
    """mse_loss / l1_loss / huber_loss with weight=: torch's Python path (sum / sum(weight) for mean)."""
    def impl(input, target, weight, reduction, extra):
        err = errors_fn(input, target, extra) * weight
        if reduction == "none":
            return err
        if reduction == "sum":
            return jnp.sum(err)
        return jnp.sum(err) / jnp.sum(weight) if name != "huber" else jnp.mean(err)
    impl.__name__ = "_%s_weighted" % name
    return impl


def _plain_loss(name, errors_fn, nodes):
    def impl(input, target, reduction, extra):
        return _reduce(errors_fn(input, target, extra), reduction)
    impl.__name__ = "_" + name
    return _variants(impl, "input target", nodes)


_mse_err = lambda x, t, _: (x - t) ** 2  # noqa: E731
_l1_err = lambda x, t, _: T.abs(x - t)  # noqa: E731


def _huber_err(x, t, delta):
    d = jnp.abs(x - t)
    return jnp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _smooth_l1_err(x, t, beta):
    d = jnp.abs(x - t)
    return jnp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


_MSE = _plain_loss("mse_loss", _mse_err, _nodes("MseLossBackward0"))
_L1 = _plain_loss("l1_loss", _l1_err, {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"})
_HUBER = _plain_loss("huber_loss", _huber_err, _nodes("HuberLossBackward0"))
_SMOOTH_L1 = _plain_loss("smooth_l1_loss", _smooth_l1_err, _nodes("SmoothL1LossBackward0"))
_WEIGHTED = {
    "mse": _variants(_weighted(_mse_err, "mse"), "input target weight",
                     {"mean": "DivBackward0", "sum": "SumBackward0", "none": "MulBackward0"}),
    "l1": _variants(_weighted(_l1_err, "l1"), "input target weight",
                    {"mean": "DivBackward0", "sum": "SumBackward0", "none": "MulBackward0"}),
    "huber": _variants(_weighted(_huber_err, "huber"), "input target weight",
                       {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "MulBackward0"}),
}


def _pointwise_loss(kind, table, input, target, reduction, extra, weight=None):
    _size_warning(input, target)
    _check_broadcast(input, target)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("%s is not a valid value for reduction" % reduction)
    if weight is not None:
        if weight.size() != input.size():
            raise ValueError("Weights and input must have the same size.")
        return _WEIGHTED[kind][reduction](input, target, weight, reduction, extra)
    return table[reduction](input, target, reduction, extra)


@functional
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = reduction_name(size_average, reduce, reduction)
    return _pointwise_loss("mse", _MSE, input, target, reduction, None, weight)


@functional
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = reduction_name(size_average, reduce, reduction)
    return _pointwise_loss("l1", _L1, input, target, reduction, None, weight)


@functional
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    reduction = reduction_name(reduction=reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _pointwise_loss("huber", _HUBER, input, target, reduction, float(delta), weight)


@functional
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = reduction_name(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _pointwise_loss("l1", _L1, input, target, reduction, None)
    return _pointwise_loss("smooth_l1", _SMOOTH_L1, input, target, reduction, float(beta))


# -- nll_loss and cross_entropy -----------------------------------------------------------------

def _nll_node(reduction):
    def node(arrays, inputs):
        nd = arrays[0].ndim
        if nd <= 2:
            return "NllLossBackward0"
        if nd != 4 and reduction == "none":
            return "ViewBackward0"
        return "NllLoss2DBackward0"
    return node


def _class_last(input):
    """(N, C, d...) -> (N, d..., C); (C,) -> (1, C)."""
    if input.ndim == 1:
        return input[None]
    return jnp.moveaxis(input, 1, -1)


def _nll(input, target, weight, reduction, ignore_index):
    x = _class_last(input)
    t = target[None] if input.ndim == 1 else target
    C = x.shape[-1]
    ignored = t == ignore_index
    safe = jnp.clip(jnp.where(ignored, 0, t), 0, C - 1).astype(jnp.int32)
    picked = jnp.take_along_axis(x, safe[..., None], axis=-1)[..., 0]
    w = jnp.ones((), x.dtype) if weight is None else weight.astype(x.dtype)[safe]
    w = jnp.where(ignored, jnp.zeros((), x.dtype), jnp.broadcast_to(w, picked.shape))
    loss = -picked * w
    if reduction == "none":
        return loss[0] if input.ndim == 1 else loss
    if reduction == "sum":
        return jnp.sum(loss)
    return jnp.sum(loss) / jnp.sum(w)


def _nll_impl(input, target, weight, reduction, ignore_index):
    return _nll(input, target, weight, reduction, ignore_index)


_NLL = {r: op(tensors="input target weight", promote=P.keep, node=_nll_node(r), function=False, method=False,
              name="_nll_loss_" + r, saves="input")(_nll_impl) for r in ("mean", "sum", "none")}


def _check_nll(input, target, weight, ignore_index):
    if input.dim() < 1:
        raise ValueError("Expected 1 or more dimensions (got %d)" % input.dim())
    if input.dim() == 1 and target.dim() != 0:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() >= 2 and input.size(0) != target.size(0):
        raise ValueError("Expected input batch_size (%d) to match target batch_size (%d)."
                         % (input.size(0), target.size(0)))
    if input.dim() == 2 and target.dim() != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.dim() > 2 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError("Expected target size %s, got %s"
                           % (list(input.shape[:1]) + list(input.shape[2:]), list(target.shape)))
    if target.dtype not in (D.int64, D.uint8):
        raise RuntimeError("expected scalar type Long but found %s" % target.dtype._legacy)
    C = input.size(1) if input.dim() >= 2 else input.size(0)
    _no_grad_arg(weight, "nll_loss_forward")
    if weight is not None and weight.numel() != C:
        raise RuntimeError("weight tensor should be defined either for all %d classes or no classes but got weight "
                           "tensor of shape: %s" % (C, list(weight.shape)))
    t = concrete(target)
    if t is not None and t.size:
        bad = (t != ignore_index) & ((t < 0) | (t >= C))
        if bad.any():
            raise IndexError("Target %d is out of bounds." % int(t[bad].flat[0]))


@functional
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    _check_nll(input, target, weight, ignore_index)
    return _NLL[reduction](input, target, weight, reduction, int(ignore_index))


def _smoothing_impl(logp, target, weight, reduction, ignore_index, label_smoothing):
    nll = _nll(logp, target, weight, reduction, ignore_index)
    x = _class_last(logp)
    t = target[None] if logp.ndim == 1 else target
    C = x.shape[-1]
    ignored = t == ignore_index
    if weight is None:
        smooth = -jnp.sum(x, axis=-1)
    else:
        smooth = -jnp.sum(x * weight.astype(x.dtype), axis=-1)
    smooth = jnp.where(ignored, jnp.zeros((), x.dtype), smooth)
    if reduction == "mean":
        if weight is None:
            ret = jnp.sum(smooth) / jnp.sum(~ignored)
        else:
            safe = jnp.clip(jnp.where(ignored, 0, t), 0, C - 1)
            ret = jnp.sum(smooth) / jnp.sum(jnp.where(ignored, 0, weight.astype(x.dtype)[safe]))
    elif reduction == "sum":
        ret = jnp.sum(smooth)
    else:
        ret = smooth[0] if logp.ndim == 1 else smooth
    return ((1 - label_smoothing) * nll + ret * (label_smoothing / C)).astype(x.dtype)


_SMOOTHING = _variants(_smoothing_impl, "logp target weight", _nodes("AddBackward0"), promote=P.keep)


def _prob_impl(logp, target, weight, reduction, label_smoothing):
    C = logp.shape[1] if logp.ndim >= 2 else logp.shape[0]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + (label_smoothing / C)
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((1, C) + (1,) * (logp.ndim - 2) if logp.ndim >= 2 else (C,))
    if reduction == "mean":
        return -jnp.sum(prod) / (logp.size // C) if logp.size else jnp.full((), jnp.nan, logp.dtype)
    if reduction == "sum":
        return -jnp.sum(prod)
    return -jnp.sum(prod, axis=1 if logp.ndim >= 2 else 0)


_PROB = _variants(_prob_impl, "logp target weight",
                  {"mean": "DivBackward1", "sum": "NegBackward0", "none": "NegBackward0"})


@functional
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = reduction_name(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError("label_smoothing must be between 0.0 and 1.0. Got: %s" % label_smoothing)
    if input.dim() == 0:
        raise RuntimeError("cross_entropy: input must have at least one dimension, got a scalar")
    class_dim = 0 if input.dim() == 1 else 1
    logp = TORCH["log_softmax"](input, class_dim)
    if tuple(input.shape) == tuple(target.shape):
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class probabilities, got %s"
                               % target.dtype._legacy)
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        C = input.size(class_dim)
        if weight is not None and weight.numel() != C:
            raise RuntimeError("cross_entropy: weight tensor should be defined either for all %d classes or no "
                               "classes but got weight tensor of shape: %s" % (C, list(weight.shape)))
        return _PROB[reduction](logp, target, weight, reduction, float(label_smoothing))
    _check_nll(input, target, weight, ignore_index)
    if label_smoothing > 0:
        return _SMOOTHING[reduction](logp, target, weight, reduction, int(ignore_index), float(label_smoothing))
    return _NLL[reduction](logp, target, weight, reduction, int(ignore_index))


# -- binary cross entropy -----------------------------------------------------------------------

def _bce_impl(input, target, weight, reduction):
    log_x = jnp.maximum(jnp.log(input), -100.0)
    log_1mx = jnp.maximum(jnp.log1p(-input), -100.0)
    loss = -((target * log_x) + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_BCE = _variants(_bce_impl, "input target weight", _nodes("BinaryCrossEntropyBackward0"))


@functional
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError("Using a target size (%s) that is different to the input size (%s) is deprecated. Please "
                         "ensure they have the same size." % (target.size(), input.size()))
    x = concrete(input)
    if x is not None and x.size and ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    _no_grad_arg(weight, "binary_cross_entropy")
    if weight is not None:
        weight = weight.expand(tuple(jnp.broadcast_shapes(tuple(target.shape), tuple(weight.shape))))
    return _BCE[reduction](input, target, weight, reduction)


def _bce_logits_impl(input, target, weight, pos_weight, reduction):
    log_sig = T.log_sigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_BCE_LOGITS = _variants(_bce_logits_impl, "input target weight pos_weight",
                        _nodes("BinaryCrossEntropyWithLogitsBackward0"))


@functional
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = reduction_name(size_average, reduce, reduction)
    if target.size() != input.size():
        raise ValueError("Target size (%s) must be the same as input size (%s)" % (target.size(), input.size()))
    _no_grad_arg(weight, "binary_cross_entropy_with_logits")
    _no_grad_arg(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    return _BCE_LOGITS[reduction](input, target, weight, pos_weight, reduction)


# -- divergences and margins --------------------------------------------------------------------

def _kl_impl(input, target, reduction, log_target):
    if log_target:
        loss = jnp.exp(target) * (target - input)
    else:
        loss = jax.scipy.special.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return jnp.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


_KL = {(r, lt): op(tensors="input target", promote=P.promote, node=n, function=False, method=False,
                   name="_kl_div_%s_%s" % (r, lt))(_kl_impl)
       for lt, none_node in ((False, "SubBackward0"), (True, "MulBackward0"))
       for r, n in (("mean", "MeanBackward0"), ("sum", "SumBackward0"), ("none", none_node),
                    ("batchmean", "DivBackward0"))}


@functional
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = reduction_name(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError("%s is not a valid value for reduction" % reduction)
    if reduction == "batchmean" and input.dim() == 0:
        reduction = "sum"
    return _KL[(reduction, bool(log_target))](input, target, reduction, bool(log_target))


def _three(name, impl, tensors, none_node, mean_node="MeanBackward0", sum_node="SumBackward0", promote=P.promote):
    impl.__name__ = "_" + name
    return _variants(impl, tensors, {"mean": mean_node, "sum": sum_node, "none": none_node}, promote=promote)


def _cosine_embedding_impl(input1, input2, target, margin, reduction):
    dim = input1.ndim - 1
    prod = jnp.sum(input1 * input2, axis=dim)
    m1 = jnp.sum(input1 * input1, axis=dim) + 1e-12
    m2 = jnp.sum(input2 * input2, axis=dim) + 1e-12
    cos = prod / jnp.sqrt(m1 * m2)
    zeros = jnp.zeros_like(cos)
    pos = jnp.where(target == 1, 1 - cos, zeros)
    neg = jnp.where(target == -1, T.clamp_min(cos - margin, 0), zeros)
    return _reduce(pos + neg, reduction)


_COSINE_EMB = _variants(_cosine_embedding_impl, "input1 input2 target",
                        {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AddBackward0"},
                        promote=P.to_float, promote_args="input1 input2")


@functional
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    if input1.dim() not in (1, 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes %s and %s."
                           % (list(input1.shape), list(input2.shape)))
    return _COSINE_EMB[reduction](input1, input2, target, float(margin), reduction)


def _margin_ranking_impl(input1, input2, target, margin, reduction):
    return _reduce(T.clamp_min(-target * (input1 - input2) + margin, 0), reduction)


_MARGIN_RANKING = _three("margin_ranking_loss", _margin_ranking_impl, "input1 input2 target", "ClampMinBackward0",
                         promote=P.to_float)


@functional
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           "input1: %s, input2: %s, target: %s " % (input1.size(), input2.size(), target.size()))
    check_bool_sub(input1, input2)
    if target.dtype is D.bool:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return _MARGIN_RANKING[reduction](input1, input2, target, float(margin), reduction)


def _hinge_impl(input, target, margin, reduction):
    zeros = jnp.zeros_like(input)
    out = jnp.where(target != 1, T.clamp_min(margin - input, 0), zeros) + jnp.where(target != -1, input, zeros)
    return _reduce(out, reduction)


_HINGE = _three("hinge_embedding_loss", _hinge_impl, "input target", "AddBackward0", promote=P.keep)


@functional
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    return _HINGE[reduction](input, target, float(margin), reduction)


def _pdist(a, b, p, eps):
    d = a - b + eps
    if p == 2:
        return jnp.sqrt(jnp.sum(d * d, axis=-1))
    if p == math.inf:
        return jnp.max(jnp.abs(d), axis=-1)
    return jnp.sum(jnp.abs(d) ** p, axis=-1) ** (1.0 / p)


def _triplet_impl(anchor, positive, negative, margin, p, eps, swap, reduction):
    dpos = _pdist(anchor, positive, p, eps)
    dneg = _pdist(anchor, negative, p, eps)
    if swap:
        dneg = jnp.minimum(dneg, _pdist(positive, negative, p, eps))
    return _reduce(T.clamp_min(margin + dpos - dneg, 0), reduction)


_TRIPLET = _three("triplet_margin_loss", _triplet_impl, "anchor positive negative", "ClampMinBackward0",
                  promote=P.to_float)


@functional
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError("margin must be greater than 0, got %s" % margin)
    a, pdim, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == pdim == n):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           "dimensions, but got: anchor %dD, positive %dD, and negative %dD inputs]" % (a, pdim, n))
    check_bool_sub(anchor, positive)
    check_bool_sub(anchor, negative)
    return _TRIPLET[reduction](anchor, positive, negative, float(margin), float(p), float(eps), bool(swap), reduction)


def _soft_margin_impl(input, target, reduction):
    return _reduce(jnp.log1p(jnp.exp(-input * target)), reduction)


_SOFT_MARGIN = _three("soft_margin_loss", _soft_margin_impl, "input target", "SoftMarginLossBackward0",
                      "SoftMarginLossBackward0", "SoftMarginLossBackward0")


@functional
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    return _SOFT_MARGIN[reduction](input, target, reduction)


def _margin_frames(input, kernel):
    """torch's shape check of multi_margin_loss and multilabel_margin_loss: (frames, classes) of a
    0-d, 1-d or 2-d input."""
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: %s"
                           % list(input.shape))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError('"%s" not implemented for \'%s\'' % (kernel, input.dtype._legacy))
    return (input.shape[0] if nd == 2 else 1), (input.shape[-1] if nd else 1)


def _long_target(target):
    if target.dtype is not D.int64:
        raise RuntimeError("expected scalar type Long but found %s" % target.dtype._legacy)


def _multi_margin_impl(input, target, weight, p, margin, reduction):
    C = input.shape[-1] if input.ndim else 1
    x = input.reshape(-1, C)
    t = target.reshape(-1).astype(jnp.int32)
    xy = jnp.take_along_axis(x, t[:, None], axis=1)
    z = margin - xy + x
    z = jnp.where(z > 0, z, 0)      # torch's kernel adds z only where z > 0: no gradient at 0
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t][:, None]
    z = jnp.where(jnp.arange(C)[None, :] == t[:, None], 0, z)
    loss = jnp.sum(z, axis=1) / C
    if input.ndim <= 1:
        loss = loss[0]
    return _reduce(loss, reduction)


_MULTI_MARGIN = _three("multi_margin_loss", _multi_margin_impl, "input target weight", "MultiMarginLossBackward0",
                       "MultiMarginLossBackward0", "MultiMarginLossBackward0", promote=P.keep)


@functional
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _margin_frames(input, "multi_margin_loss_cpu_kernel")
    if not (target.dim() <= 1 and target.numel() == nframe):
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           "samples (batch size). Expected target size [%d], but got %s. Input has shape %s."
                           % (nframe, list(target.shape), list(input.shape)))
    if weight is not None and weight.numel() != dim:
        raise RuntimeError("inconsistent weight size, expected %d but got %s" % (dim, list(weight.shape)))
    _long_target(target)
    _no_grad_arg(weight, "multi_margin_loss")
    return _MULTI_MARGIN[reduction](input, target, weight, int(p), float(margin), reduction)


def _multilabel_margin_impl(input, target, reduction):
    C = input.shape[-1] if input.ndim else 1
    x = input.reshape(-1, C)
    t = target.reshape(-1, C)
    valid = jnp.cumprod(t >= 0, axis=1).astype(bool)          # targets up to the first -1
    safe = jnp.where(valid, t, 0).astype(jnp.int32)
    is_target = jnp.zeros(x.shape, bool).at[jnp.arange(x.shape[0])[:, None], safe].max(valid)
    xt = jnp.take_along_axis(x, safe, axis=1)                  # (N, C) values at target slots
    hinge = 1 - (xt[:, :, None] - x[:, None, :])
    hinge = jnp.where(hinge > 0, hinge, 0)      # as multi_margin: only z > 0 counts
    mask = valid[:, :, None] & ~is_target[:, None, :]
    loss = jnp.sum(jnp.where(mask, hinge, 0), axis=(1, 2)) / C
    if input.ndim <= 1:
        loss = loss[0]
    return _reduce(loss, reduction)


_MULTILABEL_MARGIN = _three("multilabel_margin_loss", _multilabel_margin_impl, "input target",
                            "MultilabelMarginLossBackward0", "MultilabelMarginLossBackward0",
                            "MultilabelMarginLossBackward0", promote=P.keep)


@functional
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    nframe, dim = _margin_frames(input, "multilabel_margin_loss_forward_out_frame")
    if not (target.dim() <= 1 and target.numel() == dim if input.dim() <= 1 else
            target.dim() == 2 and tuple(target.shape) == (nframe, dim)):
        raise RuntimeError("inconsistent target size: %s for input of size: %s" % (list(target.shape), list(input.shape)))
    _long_target(target)
    return _MULTILABEL_MARGIN[reduction](input, target, reduction)


def _multilabel_soft_margin_impl(input, target, weight, reduction):
    loss = -(target * T.log_sigmoid(input) + (1 - target) * T.log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    C = input.shape[-1]
    loss = jnp.sum(loss, axis=input.ndim - 1) / C
    return _reduce(loss, reduction)


_MULTILABEL_SOFT = _three("multilabel_soft_margin_loss", _multilabel_soft_margin_impl, "input target weight",
                          "DivBackward0")


@functional
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    return _MULTILABEL_SOFT[reduction](input, target, weight, reduction)


def _poisson_impl(input, target, log_input, full, eps, reduction):
    if log_input:
        loss = jnp.exp(input) - target * input
    else:
        loss = input - target * jnp.log(input + eps)
    if full:
        safe = jnp.where(target > 1, target, 1)
        stirling = safe * jnp.log(safe) - safe + 0.5 * jnp.log(2 * math.pi * safe)
        loss = loss + jnp.where(target <= 1, 0, stirling)
    return _reduce(loss, reduction)


_POISSON = {full: _three("poisson_nll_loss_%s" % full, _poisson_impl, "input target",
                         "AddBackward0" if full else "SubBackward0", promote=P.to_float) for full in (False, True)}


@functional
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = reduction_name(size_average, reduce, reduction)
    # torch's composition subtracts a bool from a float when both are bool (log_input: exp(input) -
    # target * input) or when input is (input - target * log(input + eps))
    if input.dtype is D.bool and (target.dtype is D.bool or not log_input):
        check_bool_sub(input)
    return _POISSON[bool(full)][reduction](input, target, bool(log_input), bool(full), float(eps), reduction)


def _gaussian_impl(input, target, var, full, reduction):
    loss = 0.5 * (jnp.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


_GAUSSIAN = {full: _three("gaussian_nll_loss_%s" % full, _gaussian_impl, "input target var",
                          "AddBackward0" if full else "MulBackward0") for full in (False, True)}


@functional
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = TORCH["full_like"](input, float(var))
    else:
        v = concrete(var, cpu_only=False)
        if v is not None and (v < 0).any():
            raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # torch clamps a clone of var in place under no_grad: the gradient passes through the clamp
    clamped = var.clamp_min(eps).detach()
    var = var + (clamped - var).detach()
    return _GAUSSIAN[bool(full)][reduction](input, target, var, bool(full), reduction)


@functional
def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """torch's Python composition: max(d(a, p) - d(a, n) + margin, 0), reduced."""
    if margin <= 0:
        raise ValueError("margin must be greater than 0, got %s" % margin)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("%s is not a valid value for reduction" % reduction)
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           "dimensions, but got: anchor %dD, positive %dD, and negative %dD inputs]" % (a, p, n))
    dist = distance_function if distance_function is not None else F["pairwise_distance"]
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = TORCH["minimum"](dist_neg, dist(positive, negative))
    loss = TORCH["clamp_min"](margin + dist_pos - dist_neg, 0)
    if reduction == "sum":
        return TORCH["sum"](loss)
    if reduction == "mean":
        return TORCH["mean"](loss)
    return loss
