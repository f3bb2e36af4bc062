"""Embedding lookups (F.embedding, F.embedding_bag) and F.one_hot."""
import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from . import _promotion as P
from .creation import _place
from .nn_common import concrete, functional
from ._registry import TORCH, op


@op(tensors="weight indices", promote=P.keep, node="EmbeddingBackward0", function=False, method=False,
    name="_embedding", saves="indices")
def _embedding(weight, indices, padding_idx, scale_grad_by_freq):
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    out = jnp.take(weight, indices, axis=0, mode="clip")
    if scale_grad_by_freq:
        # the forward value is unchanged; the gradient of each row is divided by its count in the batch
        counts = jnp.zeros((weight.shape[0],), weight.dtype).at[indices.reshape(-1)].add(1)
        scale = (1.0 / counts[indices])[..., None]
        out = jax.lax.stop_gradient(out) + (out - jax.lax.stop_gradient(out)) * scale
    if padding_idx >= 0:
        # torch's backward skips the padding row
        pad = (indices == padding_idx)[..., None]
        out = jnp.where(pad, jax.lax.stop_gradient(out), out)
    return out


def _check_indices(input, num):
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                           "Int; but got torch.%sTensor instead (while checking arguments for embedding)"
                           % input.dtype._legacy)
    v = concrete(input)
    if v is not None and v.size and ((v < 0) | (v >= num)).any():
        raise IndexError("index out of range in self")


def _renorm_(weight, input, max_norm, norm_type):
    """torch.embedding_renorm_: rows looked up whose norm exceeds max_norm are scaled down in place."""
    w = weight._value()
    idx = input._value().reshape(-1)
    used = jnp.zeros((w.shape[0],), bool).at[idx].set(True)
    norms = jnp.sum(jnp.abs(w) ** norm_type, axis=1) ** (1.0 / norm_type)
    scale = max_norm / (norms + 1e-7)
    new = jnp.where((used & (norms > max_norm))[:, None], w * scale[:, None].astype(w.dtype), w)
    weight._write(new.astype(w.dtype))


@functional
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(input, weight.size(0))
    if max_norm is not None:
        _renorm_(weight, input, float(max_norm), float(norm_type))
    return _embedding(weight, input, int(padding_idx), bool(scale_grad_by_freq))


TORCH["embedding"] = lambda weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False: \
    _embedding(weight, indices, int(padding_idx), bool(scale_grad_by_freq))


def _bag_node(mode):
    return "EmbeddingBagBackward0"


def _embedding_bag_impl(weight, indices, offsets, per_sample_weights, mode, padding_idx, include_last_offset):
    n = indices.shape[0]
    nbags = offsets.shape[0] - (1 if include_last_offset else 0)
    # bag id of every index: the number of offsets <= its position, minus one
    bag = jnp.searchsorted(offsets[:nbags], jnp.arange(n), side="right") - 1
    rows = jnp.take(weight, indices, axis=0, mode="clip")
    keep = (indices != padding_idx) if padding_idx >= 0 else jnp.ones((n,), bool)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[:, None]
    if mode == "max":
        neg = jnp.full_like(rows, -jnp.inf)
        vals = jnp.where(keep[:, None], rows, neg)
        out = jax.ops.segment_max(vals, bag, num_segments=nbags)
        return jnp.where(jnp.isneginf(out), 0, out)
    rows = jnp.where(keep[:, None], rows, 0)
    out = jax.ops.segment_sum(rows, bag, num_segments=nbags)
    if mode == "mean":
        count = jax.ops.segment_sum(keep.astype(weight.dtype), bag, num_segments=nbags)
        out = out / jnp.maximum(count, 1)[:, None]
    return out


_BAG = op(tensors="weight indices offsets per_sample_weights", promote=P.keep, node="EmbeddingBagBackward0",
          function=False, method=False, name="_embedding_bag")(_embedding_bag_impl)


@functional
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  "supported for mode='sum' (got mode='%s'). Please open a feature request on Github."
                                  % mode)
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type %s" % type(offsets).__name__)
        b, length = input.shape
        offsets = TORCH["arange"](0, b * length, length, dtype=input.dtype, device=input.device)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError("input has to be 1D or 2D Tensor, but got Tensor of dimension %d" % input.dim())
    if padding_idx is None:
        padding_idx = -1
    elif padding_idx < 0:
        padding_idx = weight.size(0) + padding_idx
    _check_indices(input, weight.size(0))
    if max_norm is not None:
        _renorm_(weight, input, float(max_norm), float(norm_type))
    return _BAG(weight, input, offsets, per_sample_weights, mode, int(padding_idx), bool(include_last_offset))


@functional
def one_hot(tensor, num_classes=-1):
    if tensor.dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    v = concrete(tensor, cpu_only=num_classes != -1)
    if num_classes == -1:
        if v is None:
            raise RuntimeError("one_hot: num_classes must be given inside jtorch.compile (it depends on values)")
        if v.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(v.max()) + 1
    if v is not None and v.size:
        if (v < 0).any():
            raise RuntimeError("Class values must be non-negative.")
        if (v >= num_classes).any():
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = jax.nn.one_hot(tensor._value(), int(num_classes), dtype=np.int64)
    return _place(out, D.int64, tensor.device)
