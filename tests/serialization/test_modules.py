"""Checkpoints of real modules and optimizers across libraries: state dicts, optimizer state dicts,
and whole-model pickles (weights_only=False)."""
import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

import jtorch

from ._check import describe


def _model(L):
    L.manual_seed(0)
    nn = L.nn
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


class JNet(jtorch.nn.Module):
    """A user's model class, as a tutorial defines it in its script."""

    def __init__(self):
        super().__init__()
        self.fc = jtorch.nn.Linear(3, 2)
        self.register_buffer("scale", jtorch.full((2,), 0.5))

    def forward(self, x):
        return self.fc(x) * self.scale


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.register_buffer("scale", torch.full((2,), 0.5))

    def forward(self, x):
        return self.fc(x) * self.scale


def _x(L):
    return L.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def _out(t):
    return np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy())


def _saved(lib, obj):
    buf = io.BytesIO()
    lib.save(obj, buf)
    return buf.getvalue()


def test_state_dict_cross_load():
    jm, tm = _model(jtorch), _model(torch)
    j_sd, t_sd = jm.state_dict(), tm.state_dict()
    assert describe(j_sd) == describe(t_sd)
    j_bytes, t_bytes = _saved(jtorch, j_sd), _saved(torch, t_sd)
    assert zipfile.ZipFile(io.BytesIO(j_bytes)).read("archive/data.pkl") == \
        zipfile.ZipFile(io.BytesIO(t_bytes)).read("archive/data.pkl")
    fresh_t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    fresh_t.load_state_dict(torch.load(io.BytesIO(j_bytes)))
    fresh_j = jtorch.nn.Sequential(jtorch.nn.Linear(3, 4), jtorch.nn.ReLU(), jtorch.nn.Linear(4, 2))
    fresh_j.load_state_dict(jtorch.load(io.BytesIO(t_bytes)))
    np.testing.assert_array_equal(_out(fresh_t(_x(torch))), _out(tm(_x(torch))))
    np.testing.assert_allclose(_out(fresh_j(_x(jtorch))), _out(tm(_x(torch))), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda L, p: L.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda L, p: L.optim.Adam(p, lr=0.01),
], ids=["sgd_momentum", "adam"])
def test_optimizer_state_dict_cross_load(make):
    states = {}
    for L in (jtorch, torch):
        model = _model(L)
        opt = make(L, model.parameters())
        for _ in range(2):
            opt.zero_grad()
            model(_x(L)).square().sum().backward()
            opt.step()
        states[L] = opt.state_dict()
    j_loaded_by_torch = torch.load(io.BytesIO(_saved(jtorch, states[jtorch])))
    t_loaded_by_jtorch = jtorch.load(io.BytesIO(_saved(torch, states[torch])))
    # same structure, keys, dtypes, shapes; values equal up to float32 rounding of the two libraries
    for a, b in ((j_loaded_by_torch, states[torch]), (t_loaded_by_jtorch, states[jtorch])):
        assert a["param_groups"] == b["param_groups"]
        assert list(a["state"]) == list(b["state"])
        for k in a["state"]:
            assert list(a["state"][k]) == list(b["state"][k])
            for name, v in a["state"][k].items():
                w = b["state"][k][name]
                assert str(v.dtype) == str(w.dtype) and tuple(v.shape) == tuple(w.shape)
                np.testing.assert_allclose(np.asarray(v.detach().numpy()), np.asarray(w.detach().numpy()),
                                           rtol=1e-5, atol=1e-6)
    opt = make(torch, _model(torch).parameters())
    opt.load_state_dict(j_loaded_by_torch)
    jopt = make(jtorch, _model(jtorch).parameters())
    jopt.load_state_dict(t_loaded_by_jtorch)


@pytest.mark.parametrize("kind", ["sequential", "user_class"])
def test_whole_model_pickles(kind):
    """torch.save(model) / torch.load(..., weights_only=False) across libraries: jtorch names its
    classes with torch's names, so the pickles are the same bytes and each library rebuilds its own
    module classes."""
    if kind == "sequential":
        jm, tm = _model(jtorch), _model(torch)
    else:
        jtorch.manual_seed(0)
        torch.manual_seed(0)
        jm, tm = JNet(), TNet()
    j_bytes, t_bytes = _saved(jtorch, jm), _saved(torch, tm)
    if kind == "sequential":
        assert zipfile.ZipFile(io.BytesIO(j_bytes)).read("archive/data.pkl") == \
            zipfile.ZipFile(io.BytesIO(t_bytes)).read("archive/data.pkl")
    want = _out(tm(_x(torch)))
    got = jtorch.load(io.BytesIO(j_bytes), weights_only=False)
    assert type(got) is type(jm)
    np.testing.assert_allclose(_out(got(_x(jtorch))), want, rtol=1e-6, atol=1e-6)
    if kind == "sequential":
        got_t = torch.load(io.BytesIO(j_bytes), weights_only=False)
        assert type(got_t) is torch.nn.Sequential
        np.testing.assert_array_equal(_out(got_t(_x(torch))), want)
        got_j = jtorch.load(io.BytesIO(t_bytes), weights_only=False)
        assert type(got_j) is jtorch.nn.Sequential
        assert describe(got_j.state_dict()) == describe(tm.state_dict())
        np.testing.assert_allclose(_out(got_j(_x(jtorch))), want, rtol=1e-6, atol=1e-6)
    # the default weights_only=True refuses a whole model, in both libraries, with the same message
    errors = set()
    for lib in (jtorch, torch):
        for data in (j_bytes, t_bytes) if kind == "sequential" else (j_bytes,):
            with pytest.raises(pickle.UnpicklingError) as e:
                lib.load(io.BytesIO(data))
            errors.add(str(e.value))
    assert len(errors) == 1


def test_torch_only_class_fails_clearly():
    """A whole object of a torch class jtorch does not have: a clear error naming it."""
    class_name = "AdaptiveLogSoftmaxWithLoss"
    if hasattr(jtorch.nn, class_name):
        pytest.skip("jtorch has %s now" % class_name)
    data = _saved(torch, torch.nn.AdaptiveLogSoftmaxWithLoss(8, 4, cutoffs=[2]))
    with pytest.raises(AttributeError, match=class_name):
        jtorch.load(io.BytesIO(data), weights_only=False)


def test_whole_model_legacy_format():
    """A whole model in the legacy format: torch names nn.Module classes by persistent id there."""
    tm = _model(torch)
    buf = io.BytesIO()
    torch.save(tm, buf, _use_new_zipfile_serialization=False)
    got = jtorch.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert type(got) is jtorch.nn.Sequential
    np.testing.assert_allclose(_out(got(_x(jtorch))), _out(tm(_x(torch))), rtol=1e-6, atol=1e-6)
    jbuf = io.BytesIO()
    jtorch.save(_model(jtorch), jbuf, _use_new_zipfile_serialization=False)
    got_t = torch.load(io.BytesIO(jbuf.getvalue()), weights_only=False)
    np.testing.assert_array_equal(_out(got_t(_x(torch))), _out(tm(_x(torch))))
