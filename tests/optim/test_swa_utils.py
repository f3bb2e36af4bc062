"""optim.swa_utils against torch: AveragedModel (SWA running mean, EMA through multi_avg_fn and
through avg_fn, with and without buffers), update_bn, on the same model trained the same way in
both libraries. (SWALR is in the scheduler table.)"""
import numpy as np
import pytest
import torch

import jtorch
from tests.optim._common import to_numpy

_rng = np.random.default_rng(11)
X = [_rng.standard_normal((6, 3)).astype(np.float32) for _ in range(4)]


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))


# (id, make AveragedModel(lib, model))
CASES = [
    ("swa", lambda lib, m: lib.optim.swa_utils.AveragedModel(m)),
    ("ema-multi-buffers", lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9), use_buffers=True)),
    ("ema-avg_fn", lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8))),
    ("swa-avg_fn", lambda lib, m: lib.optim.swa_utils.AveragedModel(m, avg_fn=lib.optim.swa_utils.get_swa_avg_fn())),
]


def _train_and_average(lib, make):
    model = _model(lib)
    averaged = make(lib, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for x in X:
        opt.zero_grad()
        model(lib.from_numpy(x)).pow(2).mean().backward()
        opt.step()
        averaged.update_parameters(model)
    loader = [lib.from_numpy(x) for x in X]
    lib.optim.swa_utils.update_bn(loader, averaged)
    out = averaged(lib.from_numpy(X[0]))
    return averaged.state_dict(), to_numpy(out), averaged.n_averaged


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_averaged_model_matches_torch(case):
    _, make = case
    th_sd, th_out, th_n = _train_and_average(torch, make)
    jt_sd, jt_out, jt_n = _train_and_average(jtorch, make)
    assert list(jt_sd) == list(th_sd)
    for k in th_sd:
        assert str(jt_sd[k].dtype) == str(th_sd[k].dtype), k
        np.testing.assert_allclose(to_numpy(jt_sd[k]), to_numpy(th_sd[k]), rtol=1e-5, atol=1e-6, err_msg=k)
    np.testing.assert_allclose(jt_out, th_out, rtol=1e-5, atol=1e-6)
    assert int(jt_n) == int(th_n) == len(X)
