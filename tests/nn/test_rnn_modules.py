"""nn.RNN / LSTM / GRU and their cells against torch, beyond the forward cases in test_layers.py:
unbatched input with a given state, proj_size with a given state, packed batches with a given
state, constructor and forward errors (class and message), the dropout warning, the attributes a
module keeps in its __dict__, and whole-module pickles crossing between the two libraries."""
import io
import warnings

import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A
from tests.nn._layers import check_layer


def _lib(x):
    return jtorch if type(x).__module__.startswith("jtorch") else torch


def _packed_call(lengths, batch_first=False):
    """Call a module on a packed batch (unsorted lengths) with an initial state."""
    def call(m, x, *state):
        pack = _lib(x).nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        if not state:
            return m(pack)
        return m(pack, tuple(state) if len(state) == 2 else state[0])
    return call


# (id, factory(lib) -> module, inputs, options), checked like test_layers: init, repr, outputs, grads
FORWARD = [
    ("rnn_unbatched_h0", lambda t: t.nn.RNN(3, 4, 2), [A(5, 3), A(2, 4)], {}),
    ("rnn_tanh_nobias_bf_bi", lambda t: t.nn.RNN(3, 4, bias=False, batch_first=True, bidirectional=True),
     [A(2, 5, 3)], {}),
    ("rnn_relu_positional", lambda t: t.nn.RNN(3, 4, 1, "relu"), [A(4, 2, 3)], {}),
    ("rnn_repr_all_options", lambda t: t.nn.RNN(3, 4, 2, bias=False, batch_first=True, dropout=0.25,
                                                bidirectional=True), [A(2, 3, 3)], {"train": False}),
    ("gru_unbatched_bf_h0", lambda t: t.nn.GRU(3, 4, num_layers=2, batch_first=True), [A(5, 3), A(2, 4)], {}),
    ("gru_double", lambda t: t.nn.GRU(3, 4, dtype=t.float64), [A(4, 2, 3, dtype=np.float64)], {}),
    ("lstm_proj_bi_bf_h0c0", lambda t: t.nn.LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True,
                                                 proj_size=2), [A(2, 4, 3), A(4, 2, 2), A(4, 2, 5)],
     {"call": lambda m, x, h, c: m(x, (h, c))}),
    ("lstm_proj_unbatched_h0c0", lambda t: t.nn.LSTM(3, 4, proj_size=2), [A(5, 3), A(1, 2), A(1, 4)],
     {"call": lambda m, x, h, c: m(x, (h, c))}),
    ("lstm_proj_nobias", lambda t: t.nn.LSTM(3, 4, bias=False, proj_size=3), [A(4, 2, 3)], {}),
    ("lstm_packed_h0c0", lambda t: t.nn.LSTM(3, 4, bidirectional=True), [A(5, 3, 3), A(2, 3, 4), A(2, 3, 4)],
     {"call": _packed_call([2, 5, 3])}),
    ("gru_packed_bf_h0", lambda t: t.nn.GRU(3, 4, num_layers=2, batch_first=True), [A(3, 4, 3), A(2, 3, 4)],
     {"call": _packed_call([4, 1, 3], batch_first=True)}),
    ("lstm_proj_packed", lambda t: t.nn.LSTM(2, 4, proj_size=3), [A(4, 3, 2)], {"call": _packed_call([3, 4, 2])}),
    ("rnncell_unbatched_relu_h", lambda t: t.nn.RNNCell(3, 4, nonlinearity="relu"), [A(3), A(4)], {}),
    ("rnncell_nobias_repr", lambda t: t.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), [A(2, 3)], {}),
    ("grucell_nobias_h", lambda t: t.nn.GRUCell(3, 4, bias=False), [A(2, 3), A(2, 4)], {}),
    ("lstmcell_unbatched_hc", lambda t: t.nn.LSTMCell(3, 4), [A(3), A(4), A(4)],
     {"call": lambda m, x, h, c: m(x, (h, c))}),
    ("lstmcell_no_state", lambda t: t.nn.LSTMCell(3, 4, bias=False), [A(2, 3)], {}),
]


@pytest.mark.parametrize("case", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward(case):
    _, factory, inputs, opts = case
    check_layer(factory, *inputs, **opts)


def _z(L, *shape, dtype=None):
    return L.zeros(*shape, dtype=dtype or L.float32)


def _pack(L, n, lengths):
    return L.nn.utils.rnn.pack_sequence([L.zeros(k, n) for k in lengths], enforce_sorted=False)


# (id, call(lib)) that torch rejects: jtorch must raise the same class with the same message
ERRORS = [
    ("dropout_range", lambda L: L.nn.RNN(3, 4, dropout=1.5)),
    ("dropout_bool", lambda L: L.nn.LSTM(3, 4, dropout=True)),
    ("dropout_str", lambda L: L.nn.GRU(3, 4, dropout="0.1")),
    ("bias_type", lambda L: L.nn.RNN(3, 4, bias=1)),
    ("batch_first_type", lambda L: L.nn.LSTM(3, 4, batch_first=0)),
    ("input_size_type", lambda L: L.nn.GRU(3.0, 4)),
    ("input_size_zero", lambda L: L.nn.RNN(0, 4)),
    ("hidden_size_type", lambda L: L.nn.LSTM(3, "4")),
    ("hidden_size_zero", lambda L: L.nn.GRU(3, 0)),
    ("num_layers_zero", lambda L: L.nn.RNN(3, 4, num_layers=0)),
    ("proj_negative", lambda L: L.nn.LSTM(3, 4, proj_size=-1)),
    ("proj_too_big", lambda L: L.nn.LSTM(3, 4, proj_size=4)),
    ("proj_on_rnn", lambda L: L.nn.RNN(3, 4, proj_size=1)),
    ("proj_on_gru", lambda L: L.nn.GRU(3, 4, proj_size=1)),
    ("bad_nonlinearity", lambda L: L.nn.RNN(3, 4, nonlinearity="sigmoid")),
    ("bad_nonlinearity_positional", lambda L: L.nn.RNN(3, 4, 1, "gelu")),
    ("bad_mode", lambda L: L.nn.RNNBase("FOO", 3, 4)),
    ("rnn_input_4d", lambda L: L.nn.RNN(3, 4)(_z(L, 1, 2, 3, 3))),
    ("gru_input_1d", lambda L: L.nn.GRU(3, 4)(_z(L, 3))),
    ("lstm_input_4d", lambda L: L.nn.LSTM(3, 4)(_z(L, 1, 2, 3, 3))),
    ("rnn_batched_h_2d", lambda L: L.nn.RNN(3, 4)(_z(L, 5, 2, 3), _z(L, 2, 4))),
    ("gru_unbatched_h_3d", lambda L: L.nn.GRU(3, 4)(_z(L, 5, 3), _z(L, 1, 1, 4))),
    ("lstm_batched_h_2d", lambda L: L.nn.LSTM(3, 4)(_z(L, 5, 2, 3), (_z(L, 2, 4), _z(L, 1, 2, 4)))),
    ("lstm_unbatched_h_3d", lambda L: L.nn.LSTM(3, 4)(_z(L, 5, 3), (_z(L, 1, 4), _z(L, 1, 1, 4)))),
    ("rnn_input_size", lambda L: L.nn.RNN(3, 4)(_z(L, 5, 2, 2))),
    ("rnn_h_shape", lambda L: L.nn.RNN(3, 4, bidirectional=True)(_z(L, 5, 2, 3), _z(L, 1, 2, 4))),
    ("gru_h_batch", lambda L: L.nn.GRU(3, 4, batch_first=True)(_z(L, 2, 5, 3), _z(L, 1, 5, 4))),
    ("lstm_h_shape", lambda L: L.nn.LSTM(3, 4)(_z(L, 5, 2, 3), (_z(L, 1, 2, 3), _z(L, 1, 2, 4)))),
    ("lstm_c_shape", lambda L: L.nn.LSTM(3, 4)(_z(L, 5, 2, 3), (_z(L, 1, 2, 4), _z(L, 1, 2, 3)))),
    ("lstm_proj_h_is_hidden", lambda L: L.nn.LSTM(3, 4, proj_size=2)(_z(L, 5, 2, 3),
                                                                       (_z(L, 1, 2, 4), _z(L, 1, 2, 4)))),
    ("rnn_dtype", lambda L: L.nn.RNN(3, 4)(_z(L, 5, 2, 3, dtype=L.float64))),
    ("lstm_dtype", lambda L: L.nn.LSTM(3, 4, dtype=L.float64)(_z(L, 5, 2, 3))),
    ("packed_input_size", lambda L: L.nn.GRU(3, 4)(_pack(L, 2, [2, 3]))),
    ("packed_h_shape", lambda L: L.nn.RNN(2, 4)(_pack(L, 2, [2, 3]), _z(L, 1, 2, 5))),
    ("packed_gru_h_layers", lambda L: L.nn.GRU(2, 4)(_pack(L, 2, [2, 3]), _z(L, 2, 2, 4))),
    ("rnncell_input_3d", lambda L: L.nn.RNNCell(3, 4)(_z(L, 1, 2, 3))),
    ("rnncell_hidden_3d", lambda L: L.nn.RNNCell(3, 4)(_z(L, 2, 3), _z(L, 1, 2, 4))),
    ("grucell_input_3d", lambda L: L.nn.GRUCell(3, 4)(_z(L, 1, 2, 3))),
    ("grucell_hidden_3d", lambda L: L.nn.GRUCell(3, 4)(_z(L, 2, 3), _z(L, 1, 2, 4))),
    ("lstmcell_input_3d", lambda L: L.nn.LSTMCell(3, 4)(_z(L, 1, 2, 3))),
    ("lstmcell_hx1_3d", lambda L: L.nn.LSTMCell(3, 4)(_z(L, 2, 3), (_z(L, 2, 4), _z(L, 1, 2, 4)))),
    ("rnncell_input_size", lambda L: L.nn.RNNCell(3, 4)(_z(L, 2, 5))),
    ("grucell_batch", lambda L: L.nn.GRUCell(3, 4)(_z(L, 2, 3), _z(L, 3, 4))),
    ("lstmcell_hidden_size", lambda L: L.nn.LSTMCell(3, 4)(_z(L, 2, 3), (_z(L, 2, 5), _z(L, 2, 4)))),
    ("rnncell_bad_nonlinearity", lambda L: L.nn.RNNCell(3, 4, nonlinearity="gelu")(_z(L, 2, 3))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error(case):
    _, call = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            call(torch)
        with pytest.raises(Exception) as je:
            call(jtorch)
    assert type(je.value) is type(te.value), (je.value, te.value)
    assert str(je.value) == str(te.value)


@pytest.mark.parametrize("make", [lambda L: L.nn.LSTM(3, 4, dropout=0.5), lambda L: L.nn.GRU(3, 4, 1, True, False,
                                                                                                0.25)])
def test_dropout_with_one_layer_warns(make):
    got = {}
    for L in (torch, jtorch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            make(L)
        got[L] = [(x.category, str(x.message)) for x in w]
    assert got[jtorch] == got[torch] and len(got[torch]) == 1


# torch keeps two runtime caches of the weights in __dict__; jtorch derives _flat_weights from the
# names on each access and has no weak references to keep
_TORCH_ONLY = {"_flat_weights", "_flat_weight_refs"}

MODULES = [
    lambda L: L.nn.RNN(3, 4, 2, nonlinearity="relu", bias=False, batch_first=True),
    lambda L: L.nn.GRU(3, 4, 2, dropout=0.5, bidirectional=True),
    lambda L: L.nn.LSTM(3, 5, proj_size=2, bidirectional=True),
    lambda L: L.nn.LSTM(3, 5, bias=False, proj_size=2),
    lambda L: L.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
    lambda L: L.nn.LSTMCell(3, 4),
    lambda L: L.nn.GRUCell(3, 4),
]


def _plain(m):
    return {k: v for k, v in vars(m).items() if k not in _TORCH_ONLY and not isinstance(v, dict)}


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_instance_attributes(i):
    t, j = MODULES[i](torch), MODULES[i](jtorch)
    assert set(vars(j)) == set(vars(t)) - _TORCH_ONLY
    assert _plain(j) == _plain(t)
    if hasattr(t, "_flat_weights"):
        assert [n for n, _ in j.named_parameters()] == t._flat_weights_names
        assert [w.shape for w in j._flat_weights] == [w.shape for w in t._flat_weights]
        assert [[tuple(w.shape) for w in ws] for ws in j.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in t.all_weights]


def _run(m, L):
    L.manual_seed(3)
    x = L.randn(4, 2, 3)
    if isinstance(m, (L.nn.RNNCellBase,)):
        x = x[0]
    out = m(x)
    return [o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,)) for o in
            (o if isinstance(o, tuple) else (o,))]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_whole_module_pickle_crosses(i):
    """torch.save(module) in one library, torch.load(..., weights_only=False) in the other: the
    loaded module is the loading library's class and computes what the saved one did."""
    for src, dst in ((torch, jtorch), (jtorch, torch), (jtorch, jtorch)):
        src.manual_seed(0)
        m = MODULES[i](src).eval()
        buf = io.BytesIO()
        src.save(m, buf)
        got = dst.load(io.BytesIO(buf.getvalue()), weights_only=False)
        assert type(got).__name__ == type(m).__name__ and type(got).__module__.split(".")[0] == dst.__name__
        assert list(got.state_dict()) == list(m.state_dict())
        for a, b in zip(_run(got, dst), _run(m, src)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
