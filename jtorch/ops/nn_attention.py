"""Attention: F.scaled_dot_product_attention and F.multi_head_attention_forward (torch's Python
composition, over jtorch ops, so the graph and node names are torch's)."""
import math
import warnings

import jax
import jax.numpy as jnp

from .. import _dtype as D
from .._tensor import Tensor
from . import _promotion as P
from .nn_common import F, functional
from ._registry import TORCH, op


def _sdpa_bias(L, S, attn_mask, is_causal, dtype):
    bias = jnp.zeros((L, S), dtype)
    if is_causal:
        bias = jnp.where(jnp.tril(jnp.ones((L, S), bool)), bias, -jnp.inf)
    if attn_mask is not None:
        if attn_mask.dtype == jnp.bool_:
            bias = jnp.where(attn_mask, bias, -jnp.inf)
        else:
            bias = attn_mask.astype(dtype) + bias
    return bias


def _sdpa_node(arrays, inputs):
    # torch's CPU flash kernel takes 4-d (batch, heads, L, E) inputs; other ranks run the math
    # path, whose last op is a matmul (2-d) or the reshape of a batched matmul's result
    nd = arrays[0].ndim
    return "ScaledDotProductFlashAttentionForCpuBackward0" if nd == 4 else "MmBackward0" if nd == 2 else \
        "UnsafeViewBackward0"


@op(tensors="query key value attn_mask", promote=P.keep, node=_sdpa_node,
    function=False, method=False, name="_sdpa")
def _sdpa(query, key, value, attn_mask, is_causal, scale, enable_gqa):
    L, S = query.shape[-2], key.shape[-2]
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa:
        key = jnp.repeat(key, query.shape[-3] // key.shape[-3], axis=-3)
        value = jnp.repeat(value, query.shape[-3] // value.shape[-3], axis=-3)
    w = jnp.matmul(query, jnp.swapaxes(key, -2, -1), precision=jax.lax.Precision.HIGHEST) * factor
    w = w + _sdpa_bias(L, S, attn_mask, is_causal, w.dtype)
    w = jax.nn.softmax(w, axis=-1)
    return jnp.matmul(w, value, precision=jax.lax.Precision.HIGHEST)


@functional
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if dropout_p == 0.0:
        return _sdpa(query, key, value, attn_mask, bool(is_causal), scale, bool(enable_gqa))
    # with dropout, torch's math path: the weights are dropped out with the generator's mask
    L, S = query.size(-2), key.size(-2)
    factor = 1 / math.sqrt(query.size(-1)) if scale is None else scale
    if enable_gqa:
        key = key.repeat_interleave(query.size(-3) // key.size(-3), -3)
        value = value.repeat_interleave(query.size(-3) // value.size(-3), -3)
    w = query @ key.transpose(-2, -1) * factor
    bias = TORCH["zeros"](L, S, dtype=query.dtype, device=query.device)
    if is_causal:
        bias = bias.masked_fill(TORCH["ones"](L, S, dtype=D.bool).tril().logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype is D.bool:
            bias = bias.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            bias = attn_mask + bias
    w = TORCH["softmax"](w + bias, -1)
    w = F["dropout"](w, dropout_p, True)
    return w @ value


@functional
def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


@functional
def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    if mask is not None:
        _mask_dtype = mask.dtype
        _mask_is_float = mask.is_floating_point()
        if _mask_dtype is not D.bool and not _mask_is_float:
            raise AssertionError("only bool and floating types of %s are supported" % mask_name)
        if check_other and other_type is not None:
            if _mask_dtype is not other_type:
                warnings.warn("Support for mismatched %s and %s is deprecated. Use same type for both instead."
                              % (mask_name, other_name), stacklevel=2)
        if not _mask_is_float:
            mask = TORCH["zeros_like"](mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


@functional
def _in_projection_packed(q, k, v, w, b=None):
    linear = F["linear"]
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = linear(q, w, b)
            proj = proj.unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([E, E * 2])
        if b is None:
            b_q = b_kv = None
        else:
            b_q, b_kv = b.split([E, E * 2])
        q_proj = linear(q, w_q, b_q)
        kv_proj = linear(k, w_kv, b_kv)
        kv_proj = kv_proj.unflatten(-1, (2, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
        return q_proj, kv_proj[0], kv_proj[1]
    w_q, w_k, w_v = w.chunk(3)
    if b is None:
        b_q = b_k = b_v = None
    else:
        b_q, b_k, b_v = b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


@functional
def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    linear = F["linear"]
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    if tuple(w_q.shape) != (Eq, Eq):
        raise AssertionError("expecting query weights shape of %s, but got %s" % ((Eq, Eq), w_q.shape))
    if tuple(w_k.shape) != (Eq, Ek):
        raise AssertionError("expecting key weights shape of %s, but got %s" % ((Eq, Ek), w_k.shape))
    if tuple(w_v.shape) != (Eq, Ev):
        raise AssertionError("expecting value weights shape of %s, but got %s" % ((Eq, Ev), w_v.shape))
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found %d-D and "
                                 "%d-D tensors respectively" % (key.dim(), value.dim()))
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 "found %d-D tensor instead" % key_padding_mask.dim())
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 "%d-D tensor instead" % attn_mask.dim())
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found %d-D and "
                                 "%d-D tensors respectively" % (key.dim(), value.dim()))
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 "found %d-D tensor instead" % key_padding_mask.dim())
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                     "found %d-D tensor instead" % attn_mask.dim())
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError("Expected `attn_mask` shape to be %s but got %s" % (expected, attn_mask.shape))
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received %d-D query tensor"
                         % query.dim())


@functional
def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    cat, zeros, pad = TORCH["cat"], TORCH["zeros"], F["pad"]
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                           "`generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError("was expecting embedding dimension of %s, but got %s" % (embed_dim_to_check, embed_dim))
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError("embed_dim %s not divisible by num_heads %s" % (embed_dim, num_heads))
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError("key's sequence and batch dims %s do not match value's %s"
                                 % (key.shape[:2], value.shape[:2]))
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError("key shape %s does not match value shape %s" % (key.shape, value.shape))
    if not use_separate_proj_weight:
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError("The shape of the 2D attn_mask is %s, but should be %s."
                                   % (attn_mask.shape, (tgt_len, src_len)))
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError("The shape of the 3D attn_mask is %s, but should be %s."
                                   % (attn_mask.shape, (bsz * num_heads, tgt_len, src_len)))
        else:
            raise RuntimeError("attn_mask's dimension %d is not supported" % attn_mask.dim())
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)
    if add_zero_attn:
        shape = (bsz * num_heads, 1, head_dim)
        k = cat([k, zeros(shape, dtype=k.dtype, device=k.device)], dim=1)
        v = cat([v, zeros(shape, dtype=v.dtype, device=v.device)], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError("expecting key_padding_mask shape of %s, but got %s"
                                 % ((bsz, src_len), key_padding_mask.shape))
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1).reshape(
            bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        E = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(E))
        if attn_mask is not None:
            weights = TORCH["baddbmm"](attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = TORCH["bmm"](q_scaled, k.transpose(-2, -1))
        weights = TORCH["softmax"](weights, -1)
        if dropout_p > 0.0:
            weights = F["dropout"](weights, p=dropout_p)
        out = TORCH["bmm"](weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F["linear"](out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F["linear"](out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not is_batched:
        out = out.squeeze(1)
    return out, None
