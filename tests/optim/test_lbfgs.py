"""LBFGS against torch, one table of cases: the same losses step by step, the same number of
closure evaluations, the same parameters and the same state (keys, types, tensors, counters), with
and without the strong-Wolfe line search, histories shorter than the run, each early exit
(tolerance_grad, tolerance_change, max_eval, max_iter), float32, a tensor lr, a parameter without a
gradient, and a state_dict that round-trips (within a library and from torch to jtorch)."""
import copy

import numpy as np
import pytest
import torch

import jtorch
from tests.optim._common import assert_same_structure, convert, make_param, to_numpy
from tests.optim.test_optimizers import START, X, Y


def _mlp(lib, dtype, unused=False):
    names = [k for k in START if unused or k != "unused"]
    p = {k: make_param(lib, START[k].astype(dtype)) for k in names}
    x, y = lib.from_numpy(X.astype(dtype)), lib.from_numpy(Y.astype(dtype))

    def loss():
        return ((lib.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"] - y) ** 2).mean()
    return list(p.values()), loss


def _rosenbrock(lib, dtype):
    """The classic curved valley: the line search has to bracket and zoom on it."""
    x = make_param(lib, np.array([-1.5, 2.0, -0.5, 1.2], dtype))

    def loss():
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    return [x], loss


OBJECTIVES = {"mlp": _mlp, "mlp-unused": lambda lib, dtype: _mlp(lib, dtype, unused=True), "rosenbrock": _rosenbrock}

# (id, objective, dtype, LBFGS kwargs, steps)
CASES = [
    ("plain", "mlp", np.float64, dict(lr=1, max_iter=5), 4),
    ("plain-short-history", "mlp", np.float64, dict(lr=0.5, max_iter=7, history_size=3), 4),
    ("plain-rosenbrock", "rosenbrock", np.float64, dict(lr=1e-3, max_iter=20, history_size=4), 3),
    ("plain-unused-param", "mlp-unused", np.float64, dict(lr=0.5, max_iter=4, history_size=2), 3),
    ("wolfe", "mlp", np.float64, dict(lr=0.5, max_iter=6, line_search_fn="strong_wolfe"), 4),
    ("wolfe-short-history", "rosenbrock", np.float64, dict(max_iter=10, history_size=2, line_search_fn="strong_wolfe"), 2),
    ("wolfe-defaults", "rosenbrock", np.float64, dict(line_search_fn="strong_wolfe"), 1),
    ("wolfe-big-lr", "rosenbrock", np.float64, dict(lr=20, max_iter=8, history_size=3, line_search_fn="strong_wolfe"), 3),
    ("tolerance-grad-at-start", "rosenbrock", np.float64, dict(tolerance_grad=1e4), 2),
    ("tolerance-grad-midway", "mlp", np.float64, dict(lr=0.5, tolerance_grad=0.05), 3),
    ("tolerance-grad-wolfe", "rosenbrock", np.float64, dict(tolerance_grad=1.0, line_search_fn="strong_wolfe"), 3),
    ("tolerance-change", "rosenbrock", np.float64, dict(lr=1e-3, tolerance_change=1e-2), 3),
    ("tolerance-change-wolfe", "mlp", np.float64, dict(tolerance_change=1e-3, line_search_fn="strong_wolfe"), 3),
    ("max-eval-plain", "mlp", np.float64, dict(lr=0.5, max_iter=10, max_eval=3), 3),
    ("max-eval-wolfe", "rosenbrock", np.float64, dict(max_iter=20, max_eval=7, line_search_fn="strong_wolfe"), 3),
    ("max-eval-1-wolfe", "rosenbrock", np.float64, dict(max_iter=5, max_eval=1, line_search_fn="strong_wolfe"), 3),
    ("max-iter-1", "mlp", np.float64, dict(lr=0.5, max_iter=1), 4),
    ("float32-plain", "mlp", np.float32, dict(lr=0.5, max_iter=5, history_size=3), 2),
    ("float32-wolfe", "mlp", np.float32, dict(max_iter=5, history_size=3, line_search_fn="strong_wolfe"), 2),
]


class _Closure:
    """The closure L-BFGS re-evaluates (zero_grad, loss, backward), counting its calls; `opt` is
    set once the optimizer exists."""

    def __init__(self, loss_fn):
        self.loss_fn, self.opt, self.calls = loss_fn, None, 0

    def __call__(self):
        self.calls += 1
        self.opt.zero_grad()
        loss = self.loss_fn()
        loss.backward()
        return loss


def _run(lib, objective, dtype, kwargs, steps, resume_after=None):
    """Losses returned by each step, closure calls per step, parameters and the state dict. With
    `resume_after=k`, a new optimizer takes over after k steps from a copy of the state dict."""
    params, loss_fn = OBJECTIVES[objective](lib, dtype)
    kwargs = dict(kwargs)
    if "lr" in kwargs and isinstance(kwargs["lr"], np.ndarray):
        kwargs["lr"] = lib.tensor(kwargs["lr"])
    opt = lib.optim.LBFGS(params, **kwargs)
    closure = _Closure(loss_fn)
    losses, evals = [], []
    for i in range(steps):
        if i == resume_after:
            sd = copy.deepcopy(opt.state_dict())
            opt = lib.optim.LBFGS(params, **kwargs)
            opt.load_state_dict(sd)
        closure.opt, closure.calls = opt, 0
        losses.append(float(opt.step(closure).detach()))
        evals.append(closure.calls)
    return losses, evals, [to_numpy(p) for p in params], opt.state_dict()


def _compare(t_run, j_run, dtype):
    (tl, te, tp, ts), (jl, je, jp, js) = t_run, j_run
    assert je == te, "closure evaluations per step: torch %s, jtorch %s" % (te, je)
    # Reductions (dot, sum) round differently in XLA and in torch's kernels, and L-BFGS feeds
    # those last bits back into every later step: values agree to these tolerances, not bitwise.
    rtol, atol = (1e-7, 1e-9) if dtype == np.float64 else (1e-4, 1e-6)
    np.testing.assert_allclose(jl, tl, rtol=rtol)
    for a, b in zip(tp, jp):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)
    assert_same_structure(ts, js, "", rtol, atol)


@pytest.mark.parametrize("name,objective,dtype,kwargs,steps", CASES, ids=[c[0] for c in CASES])
def test_lbfgs_trajectory(name, objective, dtype, kwargs, steps):
    _compare(_run(torch, objective, dtype, kwargs, steps), _run(jtorch, objective, dtype, kwargs, steps), dtype)


@pytest.mark.parametrize("lr", [0.5, 1.0], ids=["lr-0.5", "lr-1"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_tensor_lr(lr, line_search_fn):
    """A 0-d tensor lr stays a tensor in the step (torch keeps it so), so the saved 't' is one."""
    kwargs = dict(lr=np.array(lr), max_iter=6, history_size=3, line_search_fn=line_search_fn)
    _compare(_run(torch, "mlp", np.float64, kwargs, 3), _run(jtorch, "mlp", np.float64, kwargs, 3), np.float64)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip(line_search_fn):
    """Stopping after two steps and resuming from the state dict changes nothing, in each library;
    and jtorch resumes from torch's state dict (converted, as a checkpoint would be)."""
    kwargs = dict(lr=0.5, max_iter=5, history_size=3, line_search_fn=line_search_fn)
    straight = _run(torch, "mlp", np.float64, kwargs, 4)
    resumed = _run(torch, "mlp", np.float64, kwargs, 4, resume_after=2)
    assert resumed[:2] == straight[:2]
    _compare(straight, _run(jtorch, "mlp", np.float64, kwargs, 4, resume_after=2), np.float64)

    t_params, t_loss = _mlp(torch, np.float64)
    t_opt = torch.optim.LBFGS(t_params, **kwargs)
    j_params, j_loss = _mlp(jtorch, np.float64)
    j_opt = jtorch.optim.LBFGS(j_params, **kwargs)

    def closure(opt, fn):
        def run():
            opt.zero_grad()
            loss = fn()
            loss.backward()
            return loss
        return run
    for _ in range(2):
        t_opt.step(closure(t_opt, t_loss))
    for tp, jp in zip(t_params, j_params):
        with jtorch.no_grad():
            jp.copy_(jtorch.from_numpy(to_numpy(tp)))
    j_opt.load_state_dict(convert(t_opt.state_dict(), jtorch))
    t_losses = [float(t_opt.step(closure(t_opt, t_loss)).detach()) for _ in range(2)]
    j_losses = [float(j_opt.step(closure(j_opt, j_loss)).detach()) for _ in range(2)]
    np.testing.assert_allclose(j_losses, t_losses, rtol=1e-10)
    assert_same_structure(t_opt.state_dict(), j_opt.state_dict(), "", 1e-10, 1e-12)


ERRORS = [
    ("unknown-line-search", dict(line_search_fn="backtracking")),
    ("negative-lr", dict(lr=-1.0)),
    ("tensor-lr-2-elements", dict(lr="two-element")),
    ("max-eval-0-wolfe", dict(max_eval=0, line_search_fn="strong_wolfe")),
]


@pytest.mark.parametrize("name,kwargs", ERRORS, ids=[e[0] for e in ERRORS])
def test_lbfgs_errors(name, kwargs):
    """The same exception class and message, raised at the same point (construction or step)."""
    out = {}
    for lib in (torch, jtorch):
        params, loss_fn = _rosenbrock(lib, np.float64)
        kw = dict(kwargs)
        if kw.get("lr") == "two-element":
            kw["lr"] = lib.tensor([0.1, 0.2])
        closure = _Closure(loss_fn)
        stage = "init"
        try:
            closure.opt = lib.optim.LBFGS(params, **kw)
            stage = "step"
            closure.opt.step(closure)
            out[lib.__name__] = ("ok", closure.calls)
        except Exception as e:  # noqa: BLE001
            # torch's UnboundLocalError names one of its local variables; only the class is API
            message = "" if isinstance(e, UnboundLocalError) else str(e)
            out[lib.__name__] = (stage, type(e).__name__, closure.calls, message)
    assert out["jtorch"] == out["torch"]
