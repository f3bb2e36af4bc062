"""nn.init against torch: with the same seed, the same values (bit for bit where torch's draws and
formulas are all there is; orthogonal_ goes through a QR and matches to rounding)."""
import math

import numpy as np
import pytest
import torch

import jtorch

CASES = [
    ("uniform_", lambda t, x: t.nn.init.uniform_(x, -0.3, 0.7), (5, 4), True),
    ("normal_", lambda t, x: t.nn.init.normal_(x, 0.5, 2.0), (5, 4), True),
    ("normal_small", lambda t, x: t.nn.init.normal_(x), (3,), True),
    ("constant_", lambda t, x: t.nn.init.constant_(x, 0.25), (3, 2), True),
    ("ones_", lambda t, x: t.nn.init.ones_(x), (3, 2), True),
    ("zeros_", lambda t, x: t.nn.init.zeros_(x), (3, 2), True),
    ("eye_", lambda t, x: t.nn.init.eye_(x), (3, 5), True),
    ("dirac_", lambda t, x: t.nn.init.dirac_(x, 2), (4, 2, 3, 3), True),
    ("xavier_uniform_", lambda t, x: t.nn.init.xavier_uniform_(x, gain=1.3), (6, 4, 3), True),
    ("xavier_normal_", lambda t, x: t.nn.init.xavier_normal_(x), (6, 4), True),
    ("kaiming_uniform_", lambda t, x: t.nn.init.kaiming_uniform_(x, a=math.sqrt(5)), (8, 3, 3, 3), True),
    ("kaiming_uniform_fan_out_relu", lambda t, x: t.nn.init.kaiming_uniform_(x, mode="fan_out",
                                                                            nonlinearity="relu"), (8, 5), True),
    ("kaiming_normal_", lambda t, x: t.nn.init.kaiming_normal_(x, nonlinearity="relu"), (8, 5), True),
    ("trunc_normal_", lambda t, x: t.nn.init.trunc_normal_(x, std=0.5), (20, 10), True),
    ("trunc_normal_narrow", lambda t, x: t.nn.init.trunc_normal_(x, mean=1.0, std=2.0, a=-0.5, b=0.5), (30,), False),
    ("orthogonal_", lambda t, x: t.nn.init.orthogonal_(x), (6, 4), False),
    ("orthogonal_wide_gain", lambda t, x: t.nn.init.orthogonal_(x, gain=2.0), (3, 2, 4), False),
    ("sparse_", lambda t, x: t.nn.init.sparse_(x, 0.4), (5, 3), True),
    ("uniform_double", lambda t, x: t.nn.init.uniform_(x.double()), (4, 4), True),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_init(case):
    name, fn, shape, exact = case
    torch.manual_seed(7)
    tx = torch.empty(shape)
    t_out = fn(torch, tx)
    jtorch.manual_seed(7)
    jx = jtorch.empty(shape)
    j_out = fn(jtorch, jx)
    assert str(j_out.dtype) == str(t_out.dtype)
    if exact:
        np.testing.assert_array_equal(j_out.numpy(), t_out.numpy())
    else:
        np.testing.assert_allclose(j_out.numpy(), t_out.numpy(), rtol=1e-4, atol=1e-5)
    # both generators are left in the same state
    assert jtorch.rand(4).tolist() == torch.rand(4).tolist()


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("tanh",), ("relu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("selu",), ("sigmoid",)])
def test_calculate_gain(args):
    assert jtorch.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_init_errors():
    for fn in (lambda t: t.nn.init.eye_(t.empty(2, 2, 2)), lambda t: t.nn.init.xavier_uniform_(t.empty(3)),
               lambda t: t.nn.init.calculate_gain("nope"), lambda t: t.nn.init.kaiming_uniform_(t.empty(3, 3),
                                                                                               mode="fan")):
        with pytest.raises(ValueError) as te:
            fn(torch)
        with pytest.raises(ValueError) as je:
            fn(jtorch)
        assert str(je.value) == str(te.value)


def test_init_on_parameter_keeps_leaf():
    p = jtorch.nn.Parameter(jtorch.empty(3, 4))
    jtorch.nn.init.kaiming_uniform_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


# every layer's reset_parameters draws what torch's draws, in torch's order
LAYERS = [
    lambda nn: nn.Linear(4, 3), lambda nn: nn.Conv2d(3, 6, 5), lambda nn: nn.Conv1d(2, 4, 3, bias=False),
    lambda nn: nn.ConvTranspose2d(4, 2, 3, groups=2), lambda nn: nn.Bilinear(3, 4, 2), lambda nn: nn.Embedding(20, 8),
    lambda nn: nn.Embedding(5, 3, padding_idx=1), lambda nn: nn.RNN(4, 6, 2, bidirectional=True),
    lambda nn: nn.LSTM(5, 7, proj_size=3), lambda nn: nn.GRU(3, 5, 2), lambda nn: nn.LSTMCell(3, 4),
    lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True), lambda nn: nn.MultiheadAttention(6, 3, kdim=4, vdim=5),
    lambda nn: nn.BatchNorm1d(5), lambda nn: nn.PReLU(4), lambda nn: nn.TransformerEncoderLayer(8, 2, 16),
    lambda nn: nn.Transformer(8, 2, 1, 1, 16),
]


@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_layer_initialisation_matches_torch(i):
    torch.manual_seed(0)
    t = LAYERS[i](torch.nn)
    jtorch.manual_seed(0)
    j = LAYERS[i](jtorch.nn)
    ts, js = t.state_dict(), j.state_dict()
    assert list(js) == list(ts)
    for k in ts:
        np.testing.assert_array_equal(js[k].numpy(), ts[k].numpy(), err_msg=k)
    assert jtorch.rand(3).tolist() == torch.rand(3).tolist()


def test_linear_weight_is_torchs():
    torch.manual_seed(0)
    jtorch.manual_seed(0)
    assert repr(jtorch.nn.Linear(4, 3).weight) == repr(torch.nn.Linear(4, 3).weight)
