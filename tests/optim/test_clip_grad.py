"""nn.utils.clip_grad_norm_ / clip_grad_value_ / get_total_norm / clip_grads_with_norm_ and
parameters_to_vector / vector_to_parameters against torch: the clipped gradients, the returned
norm (value, dtype, shape), the error for non-finite norms, and grads kept in place."""
import warnings

import numpy as np
import pytest
import torch

import jtorch
import jtorch.nn.utils as jutils
from tests.optim._common import make_param, to_numpy

_rng = np.random.default_rng(5)
G32 = [_rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,), (2, 2)]]
G64 = [g.astype(np.float64) for g in G32]
GINF = [G32[0].copy(), G32[1]]
GINF[0][1, 2] = np.inf


def _utils(lib):
    return torch.nn.utils if lib is torch else jutils


def _setup(lib, grads, none_at=()):
    ps = []
    for i, g in enumerate(grads):
        p = make_param(lib, np.zeros_like(g))
        if i not in none_at:
            p.grad = lib.from_numpy(g.copy())
        ps.append(p)
    return ps


# (id, grads, parameters without grad, fn(utils, params) -> result)
CASES = [
    ("norm2", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 1.0)),
    ("norm2-no-clip", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 100.0)),
    ("norm1", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 0.5, norm_type=1)),
    ("norm-inf", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 0.5, norm_type=float("inf"))),
    ("norm-inf-string", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 0.5, norm_type="inf")),
    ("norm3.5", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 0.5, norm_type=3.5)),
    ("norm0", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 5, norm_type=0)),
    ("float64", G64, (), lambda U, ps: U.clip_grad_norm_(ps, 1.0)),
    ("one-without-grad", G32, (1,), lambda U, ps: U.clip_grad_norm_(ps, 1.0)),
    ("single-tensor", G32[:1], (), lambda U, ps: U.clip_grad_norm_(ps[0], 1.0)),
    ("generator", G32, (), lambda U, ps: U.clip_grad_norm_((p for p in ps), 1.0)),
    ("no-grads", G32, (0, 1, 2), lambda U, ps: U.clip_grad_norm_(ps, 1.0)),
    ("inf-grad", GINF, (), lambda U, ps: U.clip_grad_norm_(ps, 1.0)),
    ("inf-grad-error", GINF, (), lambda U, ps: U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)),
    ("foreach-false", G32, (), lambda U, ps: U.clip_grad_norm_(ps, 1.0, foreach=False)),
    ("deprecated-clip_grad_norm", G32, (), lambda U, ps: U.clip_grad_norm(ps, 1.0)),
    ("get_total_norm", G32, (), lambda U, ps: U.get_total_norm([p.grad for p in ps], 3.0)),
    ("clip_grads_with_norm_", G32, (), lambda U, ps: U.clip_grads_with_norm_(
        ps, 0.7, U.get_total_norm([p.grad for p in ps]))),
    ("value", G32, (), lambda U, ps: U.clip_grad_value_(ps, 0.3)),
    ("value-int", G64, (2,), lambda U, ps: U.clip_grad_value_(ps, 1)),
    ("value-single", G32, (), lambda U, ps: U.clip_grad_value_(ps[0], 0.1)),
]


def _run(lib, case):
    _, grads, none_at, fn = case
    ps = _setup(lib, grads, none_at)
    before = [p.grad for p in ps]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(_utils(lib), ps)
        except Exception as e:  # compared by class and message
            return ("raised", type(e), str(e)), None
    assert all(a is b for a, b in zip(before, [p.grad for p in ps]))  # clipped in place
    return out, [None if p.grad is None else to_numpy(p.grad) for p in ps]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_clip_matches_torch(case):
    th_out, th_grads = _run(torch, case)
    jt_out, jt_grads = _run(jtorch, case)
    if isinstance(th_out, tuple) and th_out[0] == "raised":
        assert jt_out == th_out
        return
    if th_out is None:
        assert jt_out is None
    else:
        assert isinstance(jt_out, jtorch.Tensor)
        assert str(jt_out.dtype) == str(th_out.dtype) and tuple(jt_out.shape) == tuple(th_out.shape)
        np.testing.assert_allclose(to_numpy(jt_out), to_numpy(th_out), rtol=1e-6)
    for a, b in zip(th_grads, jt_grads):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_parameters_vector_round_trip():
    out = {}
    for lib in (torch, jtorch):
        ps = [make_param(lib, g) for g in G32]
        vec = _utils(lib).parameters_to_vector(ps)
        name = type(vec.grad_fn).__name__
        _utils(lib).vector_to_parameters(vec * 2, ps)
        out[lib.__name__] = to_numpy(vec), name, [to_numpy(p) for p in ps], [tuple(p.shape) for p in ps]
        with pytest.raises(TypeError) as e:
            _utils(lib).vector_to_parameters([1.0], ps)
        out[lib.__name__] += (str(e.value),)
    th, jt = out["torch"], out["jtorch"]
    np.testing.assert_array_equal(jt[0], th[0])
    assert jt[1] == th[1] and jt[3] == th[3] and jt[4] == th[4]
    for a, b in zip(th[2], jt[2]):
        np.testing.assert_array_equal(b, a)
