"""Recurrent kernels: one op per (layer, direction) running the whole sequence in a jax.lax.scan
(the input projection of every step is one matmul up front), plus the single-step cells.

torch's gate orders: LSTM (i, f, g, o); GRU (r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h +
b_hn)) and h' = (h - n) * z + n; RNN tanh/relu. Between layers, training-mode dropout is
F.dropout with the generator, as torch's _rnn_impl does. Variable-length batches (packed
sequences) run as a padded batch with per-step masks: a sequence's state stops at its length
and the reverse direction reverses each sequence within its length.
"""
import jax
import jax.numpy as jnp
from jax import lax

from . import _promotion as P
from . import _torch_grads as T
from .nn_common import F
from ._registry import TORCH, op

_HI = lax.Precision.HIGHEST


def _mm(x, w):
    return jnp.matmul(x, w.T, precision=_HI)


def _cell(mode, x_proj, h, c, w_hh, b_hh, w_hr):
    hh = _mm(h, w_hh)
    if b_hh is not None:
        hh = hh + b_hh
    if mode == "LSTM":
        gates = x_proj + hh
        i, f, g, o = jnp.split(gates, 4, axis=-1)
        i, f, g, o = jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)
        c = f * c + i * g
        h = o * jnp.tanh(c)
        if w_hr is not None:
            h = _mm(h, w_hr)
        return h, c
    if mode == "GRU":
        ir, iz, in_ = jnp.split(x_proj, 3, axis=-1)
        hr, hz, hn = jnp.split(hh, 3, axis=-1)
        r = jax.nn.sigmoid(ir + hr)
        z = jax.nn.sigmoid(iz + hz)
        n = jnp.tanh(in_ + r * hn)
        return (h - n) * z + n, c
    pre = x_proj + hh
    return (jnp.tanh(pre) if mode == "RNN_TANH" else T.relu(pre)), c


def _reverse_within(x, lengths):
    """Reverse each batch column of x (T, B, ...) within its own length."""
    T = x.shape[0]
    t = jnp.arange(T)[:, None]
    idx = jnp.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    idx = idx.reshape(idx.shape + (1,) * (x.ndim - 2))
    return jnp.take_along_axis(x, jnp.broadcast_to(idx, x.shape), axis=0)


def _layer(mode):
    def impl(input, hx, cx, w_ih, w_hh, b_ih, b_hh, w_hr, lengths, reverse):
        x_proj = _mm(input, w_ih)
        if b_ih is not None:
            x_proj = x_proj + b_ih
        T = input.shape[0]
        valid = None
        if lengths is not None:
            valid = jnp.arange(T)[:, None] < lengths[None, :]
            if reverse:
                x_proj = _reverse_within(x_proj, lengths)
        elif reverse:
            x_proj = x_proj[::-1]
        c0 = cx if cx is not None else jnp.zeros((), input.dtype)

        def step(carry, inp):
            h, c = carry
            xp, ok = inp
            h2, c2 = _cell(mode, xp, h, c, w_hh, b_hh, w_hr)
            if ok is not None:
                h2 = jnp.where(ok[:, None], h2, h)
                if cx is not None:
                    c2 = jnp.where(ok[:, None], c2, c)
            return (h2, c2 if cx is not None else c), h2

        (h, c), ys = lax.scan(step, (hx, c0), (x_proj, valid))
        if lengths is not None:
            ys = jnp.where(valid[:, :, None], ys, 0)
            if reverse:
                ys = _reverse_within(ys, lengths)
        elif reverse:
            ys = ys[::-1]
        return (ys, h, c) if cx is not None else (ys, h)
    impl.__name__ = "_rnn_layer_" + mode.lower()
    return impl


_LAYER = {m: op(tensors="input hx cx w_ih w_hh b_ih b_hh w_hr lengths", promote=P.keep,
                node="MkldnnRnnLayerBackward0" if m == "LSTM" else "StackBackward0", function=False, method=False,
                name="_rnn_layer_" + m.lower(), saves="input hx cx w_ih w_hh b_ih b_hh w_hr")(_layer(m))
          for m in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")}


def rnn_forward(mode, input, hx, flat_weights, has_bias, num_layers, dropout, training, bidirectional,
                batch_first, has_proj=False, lengths=None):
    """torch._VF.rnn_tanh/rnn_relu/lstm/gru: returns (output, h_n) or (output, h_n, c_n)."""
    stack, cat = TORCH["stack"], TORCH["cat"]
    if batch_first:
        input = input.transpose(0, 1)
    lstm = mode == "LSTM"
    h0, c0 = (hx if lstm else (hx, None))
    dirs = 2 if bidirectional else 1
    per = 2 + (2 if has_bias else 0) + (1 if has_proj else 0)
    hs, cs = [], []
    layer_input = input
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            ws = flat_weights[k * per:(k + 1) * per]
            w_ih, w_hh = ws[0], ws[1]
            b_ih, b_hh = (ws[2], ws[3]) if has_bias else (None, None)
            w_hr = ws[-1] if has_proj else None
            if d == 1 and lengths is None:
                # the reverse direction runs the forward kernel on the flipped sequence: both
                # directions share one compiled scan
                res = _LAYER[mode](layer_input.flip(0), h0[k], c0[k] if lstm else None, w_ih, w_hh, b_ih, b_hh,
                                   w_hr, None, False)
                res = (res[0].flip(0),) + tuple(res[1:])
            else:
                res = _LAYER[mode](layer_input, h0[k], c0[k] if lstm else None, w_ih, w_hh, b_ih, b_hh, w_hr,
                                   lengths, d == 1)
            outs.append(res[0])
            hs.append(res[1])
            if lstm:
                cs.append(res[2])
        layer_output = outs[0] if dirs == 1 else cat(outs, -1)
        if dropout != 0 and training and layer < num_layers - 1:
            layer_output = F["dropout"](layer_output, dropout, True)
        layer_input = layer_output
    output = layer_input.transpose(0, 1) if batch_first else layer_input
    if lstm:
        return output, stack(hs, 0), stack(cs, 0)
    return output, stack(hs, 0)


# -- cells -----------------------------------------------------------------------------------

def _cell_proj(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = _mm(x, w_ih)
    gh = _mm(h, w_hh)
    if b_ih is not None:
        gi = gi + b_ih
        gh = gh + b_hh
    return gi, gh


@op(tensors="input hx w_ih w_hh b_ih b_hh", promote=P.keep, node="TanhBackward0", function=False, method=False,
    name="_rnn_tanh_cell")
def _rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    gi, gh = _cell_proj(input, hx, w_ih, w_hh, b_ih, b_hh)
    return jnp.tanh(gi + gh)


@op(tensors="input hx w_ih w_hh b_ih b_hh", promote=P.keep, node="ReluBackward0", function=False, method=False,
    name="_rnn_relu_cell")
def _rnn_relu_cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    gi, gh = _cell_proj(input, hx, w_ih, w_hh, b_ih, b_hh)
    return T.relu(gi + gh)


@op(tensors="input hx w_ih w_hh b_ih b_hh", promote=P.keep, node="AddBackward0", function=False, method=False,
    name="_gru_cell")
def _gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh):
    gi, gh = _cell_proj(input, hx, w_ih, w_hh, b_ih, b_hh)
    ir, iz, in_ = jnp.split(gi, 3, axis=-1)
    hr, hz, hn = jnp.split(gh, 3, axis=-1)
    r = jax.nn.sigmoid(ir + hr)
    z = jax.nn.sigmoid(iz + hz)
    n = jnp.tanh(in_ + r * hn)
    return (hx - n) * z + n


@op(tensors="input hx w_ih w_hh b_ih b_hh", promote=P.keep, node="SplitBackward0", function=False, method=False,
    name="_lstm_gates")
def _lstm_gates(input, hx, w_ih, w_hh, b_ih, b_hh):
    gi, gh = _cell_proj(input, hx, w_ih, w_hh, b_ih, b_hh)
    i, f, g, o = jnp.split(gi + gh, 4, axis=-1)
    return jax.nn.sigmoid(i), jax.nn.sigmoid(f), jnp.tanh(g), jax.nn.sigmoid(o)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch._VF.lstm_cell: the gates in one op, then c' = f * c + i * g (AddBackward0) and
    h' = o * tanh(c') (MulBackward0), the nodes torch's outputs carry."""
    i, f, g, o = _lstm_gates(input, hx[0], w_ih, w_hh, b_ih, b_hh)
    c = f * hx[1] + i * g
    return o * c.tanh(), c


rnn_tanh_cell = _rnn_tanh_cell
rnn_relu_cell = _rnn_relu_cell
gru_cell = _gru_cell
