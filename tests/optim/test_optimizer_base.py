"""The Optimizer base against torch: argument errors (class and message), zero_grad, closures,
hooks, named parameters, add_param_group, load_state_dict checks, complex parameters, tensor lr,
and the cost model (a changed lr does not recompile)."""
import importlib
import warnings

import numpy as np
import pytest
import torch

import jtorch
from jtorch.optim import optimizer as jopt
from tests.optim._common import assert_same_structure, make_param, to_numpy


def _params(lib, n=2):
    return [make_param(lib, np.full((2,), i + 1.0, np.float32)) for i in range(n)]


def _nonleaf(lib):
    return [make_param(lib, np.ones(2, np.float32)) * 2]


def _bad_load(lib, groups_sd):
    a, b, c = _params(lib, 3)
    opt = lib.optim.SGD([a, b], lr=0.1)
    src = lib.optim.SGD(groups_sd(a, b, c), lr=0.1)
    opt.load_state_dict(src.state_dict())


ERRORS = [
    ("sgd-negative-lr", lambda t: t.optim.SGD(_params(t), lr=-0.1)),
    ("sgd-negative-momentum", lambda t: t.optim.SGD(_params(t), lr=0.1, momentum=-0.5)),
    ("sgd-negative-wd", lambda t: t.optim.SGD(_params(t), lr=0.1, weight_decay=-1)),
    ("sgd-nesterov-without-momentum", lambda t: t.optim.SGD(_params(t), lr=0.1, nesterov=True)),
    ("sgd-nesterov-dampening", lambda t: t.optim.SGD(_params(t), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("adam-beta1", lambda t: t.optim.Adam(_params(t), betas=(1.0, 0.999))),
    ("adam-beta2", lambda t: t.optim.Adam(_params(t), betas=(0.9, -0.1))),
    ("adam-eps", lambda t: t.optim.Adam(_params(t), eps=-1e-8)),
    ("adam-betas-mixed", lambda t: t.optim.Adam(_params(t), betas=(0.9, 1))),
    ("adamw-lr", lambda t: t.optim.AdamW(_params(t), lr=-1.0)),
    ("rmsprop-alpha", lambda t: t.optim.RMSprop(_params(t), alpha=-0.1)),
    ("rmsprop-momentum", lambda t: t.optim.RMSprop(_params(t), momentum=-0.1)),
    ("adagrad-lr-decay", lambda t: t.optim.Adagrad(_params(t), lr_decay=-0.1)),
    ("adagrad-initial-acc", lambda t: t.optim.Adagrad(_params(t), initial_accumulator_value=-1)),
    ("adadelta-rho", lambda t: t.optim.Adadelta(_params(t), rho=1.5)),
    ("nadam-momentum-decay", lambda t: t.optim.NAdam(_params(t), momentum_decay=-1)),
    ("radam-beta", lambda t: t.optim.RAdam(_params(t), betas=(0.9, 1.0))),
    ("adamax-beta", lambda t: t.optim.Adamax(_params(t), betas=(-0.1, 0.9))),
    ("sparse-adam-dense-grad", lambda t: (lambda p: (setattr(p[0], "grad", p[0].detach() * 0), t.optim.SparseAdam(p).step()))(_params(t))),
    ("sparse-adam-eps", lambda t: t.optim.SparseAdam(_params(t), eps=0.0)),
    ("adafactor-d", lambda t: t.optim.Adafactor(_params(t), d=0.5)),
    ("muon-adjust", lambda t: t.optim.Muon(_params(t), adjust_lr_fn="other")),
    ("lbfgs-groups", lambda t: (lambda p: t.optim.LBFGS([{"params": p[:1]}, {"params": p[1:]}]))(_params(t))),
    ("rprop-etas", lambda t: t.optim.Rprop(_params(t), etas=(1.2, 0.5))),
    ("empty", lambda t: t.optim.SGD([], lr=0.1)),
    ("tensor-not-iterable", lambda t: t.optim.SGD(_params(t)[0], lr=0.1)),
    ("non-leaf", lambda t: t.optim.SGD(_nonleaf(t), lr=0.1)),
    ("not-a-tensor", lambda t: t.optim.SGD([_params(t)[0], 3], lr=0.1)),
    ("set-of-params", lambda t: t.optim.SGD([{"params": set(_params(t))}], lr=0.1)),
    ("same-param-two-groups", lambda t: (lambda p: t.optim.SGD([{"params": p}, {"params": p[:1]}], lr=0.1))(_params(t))),
    ("group-not-dict", lambda t: t.optim.SGD(_params(t), lr=0.1).add_param_group([1])),
    ("names-mixed", lambda t: (lambda p: t.optim.SGD([("a", p[0]), p[1]], lr=0.1))(_params(t))),
    ("groups-names-mixed", lambda t: (lambda p: t.optim.SGD([{"params": [("a", p[0])]}, {"params": [p[1]]}], lr=0.1))(_params(t))),
    ("load-group-count", lambda t: _bad_load(t, lambda a, b, c: [{"params": [a]}, {"params": [b]}])),
    ("load-group-size", lambda t: _bad_load(t, lambda a, b, c: [a, b, c])),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, fn = case
    with pytest.raises(Exception) as th:
        fn(torch)
    with pytest.raises(Exception) as jt:
        fn(jtorch)
    assert type(jt.value) is type(th.value)
    assert str(jt.value) == str(th.value)


def test_duplicate_parameter_warns_like_torch():
    for lib in (torch, jtorch):
        p = _params(lib, 1)[0]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.optim.SGD([p, p], lr=0.1)
        assert [str(x.message) for x in w if x.category is UserWarning][0].startswith(
            "optimizer contains a parameter group with duplicate parameters")


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    for lib in (torch, jtorch):
        p = _params(lib, 1)[0]
        opt = lib.optim.SGD([p], lr=0.1)
        (p * p).sum().backward()
        g = p.grad
        opt.zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is g and not g.requires_grad
            assert to_numpy(g).tolist() == [0.0, 0.0]


def test_closure_hooks_and_named_parameters():
    seen = {}
    for lib in (torch, jtorch):
        a, b = _params(lib)
        opt = lib.optim.Adam([("a", a), ("b", b)], lr=0.1)
        calls = []
        h1 = opt.register_step_pre_hook(lambda o, args, kw: calls.append(("pre", type(o).__name__, len(args), kw)))
        opt.register_step_post_hook(lambda o, args, kw: calls.append(("post", len(args))))
        g = importlib.import_module(lib.__name__ + ".optim.optimizer").register_optimizer_step_pre_hook(lambda o, args, kw: calls.append("global"))

        def closure():
            opt.zero_grad()
            loss = (a * a + b).sum()
            assert lib.is_grad_enabled()
            loss.backward()
            return loss

        with lib.no_grad():
            loss = opt.step(closure)
        h1.remove()
        opt.step(closure)
        g.remove()
        sd = opt.state_dict()
        seen[lib.__name__] = (float(loss.detach()), calls, sd, to_numpy(a))
    th, jt = seen["torch"], seen["jtorch"]
    assert th[0] == pytest.approx(jt[0]) and th[1] == jt[1]
    assert_same_structure(th[2], jt[2])
    np.testing.assert_allclose(jt[3], th[3], rtol=1e-6)


def test_add_param_group_and_state_identity():
    out = {}
    for lib in (torch, jtorch):
        a, b = _params(lib)
        opt = lib.optim.SGD([a], lr=0.1, momentum=0.9)
        opt.add_param_group({"params": b, "lr": 0.01, "nesterov": True})
        for _ in range(3):
            opt.zero_grad()
            (a * a * b).sum().backward()
            opt.step()
            buf = opt.state[a]["momentum_buffer"]
            assert opt.state_dict()["state"][0]["momentum_buffer"] is buf  # the state tensor itself
        out[lib.__name__] = opt.state_dict(), to_numpy(a), to_numpy(b)
    assert_same_structure(out["torch"][0], out["jtorch"][0])
    for i in (1, 2):
        np.testing.assert_allclose(out["jtorch"][i], out["torch"][i], rtol=1e-6)


def test_loading_keeps_torch_semantics_for_old_and_cast_state():
    """A state dict whose 'step' is a Python number (torch 1.x) loads as a tensor step; state
    tensors of another dtype are cast to the parameter's dtype, 'step' is not."""
    res = {}
    for lib in (torch, jtorch):
        p = make_param(lib, np.ones(3, np.float64))
        opt = lib.optim.Adam([p], lr=0.1)
        sd = {"state": {0: {"step": 4, "exp_avg": lib.from_numpy(np.full(3, 0.1, np.float32)),
                            "exp_avg_sq": lib.from_numpy(np.full(3, 0.01, np.float32))}},
              "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
        opt.load_state_dict(sd)
        p.grad = lib.from_numpy(np.full(3, 0.5))
        opt.step()
        res[lib.__name__] = opt.state_dict(), to_numpy(p)
    assert_same_structure(res["torch"][0], res["jtorch"][0])
    np.testing.assert_allclose(res["jtorch"][1], res["torch"][1], rtol=1e-12)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1, amsgrad=True)),
                                         ("RMSprop", dict(lr=0.01, centered=True)), ("Adagrad", dict(lr=0.1))])
def test_complex_parameters(name, kwargs):
    """torch steps complex parameters on their view_as_real; fed the same gradients, so does jtorch."""
    rng = np.random.default_rng(3)
    start = (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
    grads = [(rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))).astype(np.complex64)
             for _ in range(5)]
    out = {}
    for lib in (torch, jtorch):
        p = make_param(lib, start)
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = lib.from_numpy(g.copy())
            opt.step()
        out[lib.__name__] = opt.state_dict(), to_numpy(p)
    assert_same_structure(out["torch"][0], out["jtorch"][0], "", 1e-5, 1e-6)
    np.testing.assert_allclose(out["jtorch"][1], out["torch"][1], rtol=1e-5, atol=1e-6)


def test_tensor_lr_and_state_dict():
    out = {}
    for lib in (torch, jtorch):
        p = make_param(lib, np.ones(3, np.float32))
        opt = lib.optim.Adam([p], lr=lib.tensor(0.05))
        for i in range(3):
            p.grad = lib.from_numpy(np.array([1.0, -2.0, 0.5], np.float32) * (i + 1))
            opt.step()
        out[lib.__name__] = opt.state_dict(), to_numpy(p)
    assert_same_structure(out["torch"][0], out["jtorch"][0])
    np.testing.assert_allclose(out["jtorch"][1], out["torch"][1], rtol=1e-6)


def test_changing_lr_does_not_recompile():
    p = make_param(jtorch, np.ones((4, 5), np.float32))
    opt = jtorch.optim.Adam([p], lr=0.1)
    sched = jtorch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    p.grad = jtorch.ones_like(p)
    opt.step()
    before = jopt._apply_jit._cache_size()
    for _ in range(5):
        opt.step()
        sched.step()
    opt.param_groups[0]["betas"] = (0.8, 0.99)
    opt.step()
    assert jopt._apply_jit._cache_size() == before


def test_params_without_grad_get_no_state_and_sgd_without_momentum_has_none():
    for lib in (torch, jtorch):
        a, b = _params(lib)
        adam, sgd = lib.optim.Adam([a, b]), lib.optim.SGD([a, b], lr=0.1)
        a.grad = lib.ones_like(a)
        adam.step()
        sgd.step()
        assert list(adam.state_dict()["state"]) == [0]
        assert sgd.state_dict()["state"] == {}
        assert b.grad is None


@pytest.mark.parametrize("kwargs", [dict(lr=1, max_iter=5), dict(lr=0.5, max_iter=7, history_size=3),
                                    dict(lr=0.5, max_iter=6, line_search_fn="strong_wolfe")],
                         ids=["plain", "short-history", "strong-wolfe"])
def test_lbfgs(kwargs):
    """LBFGS re-evaluates the closure and branches on values, as torch does: same losses, same
    parameters, same state (lists of tensors, floats, counters) after four steps."""
    from tests.optim.test_optimizers import START, X, Y
    res = {}
    for lib in (torch, jtorch):
        p = {k: make_param(lib, v.astype(np.float64)) for k, v in START.items() if k != "unused"}
        x, y = lib.from_numpy(X.copy()), lib.from_numpy(Y.copy())
        opt = lib.optim.LBFGS(list(p.values()), **kwargs)

        def closure():
            opt.zero_grad()
            loss = ((lib.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"] - y) ** 2).mean()
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(4)]
        res[lib.__name__] = losses, [to_numpy(v) for v in p.values()], opt.state_dict()
    (tl, tp, ts), (jl, jp, js) = res["torch"], res["jtorch"]
    np.testing.assert_allclose(jl, tl, rtol=1e-10)
    for a, b in zip(tp, jp):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)
    assert_same_structure(ts, js, "", 1e-8, 1e-10)


def test_custom_optimizer_subclass():
    """A user optimizer in torch's style: Optimizer(params, defaults) and its own step over the
    tensor API; the base step raises NotImplementedError in both libraries."""
    def make(lib):
        class Sign(lib.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, {"lr": lr})

            @lib.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is not None:
                            self.state[p]["n"] = self.state[p].get("n", 0) + 1
                            p.add_(p.grad.sign(), alpha=-group["lr"])

        class Bare(lib.optim.Optimizer):
            pass
        return Sign, Bare

    out = {}
    for lib in (torch, jtorch):
        Sign, Bare = make(lib)
        a, b = _params(lib)
        opt = Sign([a, b], lr=0.25)
        for _ in range(3):
            opt.zero_grad()
            (a * a - b).sum().backward()
            opt.step()
        with pytest.raises(NotImplementedError):
            Bare([a], {"lr": 1.0}).step()
        out[lib.__name__] = opt.state_dict(), to_numpy(a), to_numpy(b), repr(opt)
    assert_same_structure(out["torch"][0], out["jtorch"][0])
    np.testing.assert_array_equal(out["jtorch"][1], out["torch"][1])
    np.testing.assert_array_equal(out["jtorch"][2], out["torch"][2])
    assert out["jtorch"][3] == out["torch"][3]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                         ("NAdam", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                         ("Adagrad", dict(lr=0.1))])
def test_inside_compile(name, kwargs):
    """A whole training step (forward, backward, optimizer) under jtorch.compile: the optimizer's
    jitted update becomes part of the compiled program, state created on the first call included,
    and the trajectory equals the eager one."""
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)
    runs = []
    for compiled in (False, True):
        w, x = make_param(jtorch, w0), jtorch.tensor(x0)
        opt = getattr(jtorch.optim, name)([w], **kwargs)

        def step():
            opt.zero_grad()
            loss = (jtorch.tanh(x @ w) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        fn = jtorch.compile(step) if compiled else step
        losses = [float(fn().detach()) for _ in range(6)]
        runs.append((losses, to_numpy(w), opt.state_dict()))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-6)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-6, atol=1e-7)
    sd_eager, sd_compiled = runs[0][2], runs[1][2]
    assert list(sd_eager["state"][0]) == list(sd_compiled["state"][0])
    for k, v in sd_eager["state"][0].items():
        np.testing.assert_allclose(to_numpy(sd_compiled["state"][0][k]), to_numpy(v), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape,kwargs", [((6, 4), {}), ((4, 6), dict(nesterov=False, adjust_lr_fn="match_rms_adamw", lr=0.02)),
                                          ((5, 5), dict(weight_decay=0.0, momentum=0.9))], ids=["tall", "wide-rms", "square"])
def test_muon(shape, kwargs):
    """Muon orthogonalizes in bfloat16 with matrix products whose inner sums XLA orders its own
    way: parameters agree with torch's to well under one bfloat16 step of the update
    (lr * 2**-8 per step, over 10 steps: 1e-5 here), the state exactly in layout."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(10)]
    out = {}
    for lib in (torch, jtorch):
        p = make_param(lib, start)
        opt = lib.optim.Muon([p], **kwargs)
        for g in grads:
            p.grad = lib.from_numpy(g.copy())
            opt.step()
        out[lib.__name__] = to_numpy(p), opt.state_dict()
        with pytest.raises(ValueError) as e:
            lib.optim.Muon([make_param(lib, start[0])])
        out[lib.__name__] += (str(e.value),)
    np.testing.assert_allclose(out["jtorch"][0], out["torch"][0], rtol=0, atol=1e-5)
    assert_same_structure(out["torch"][1], out["jtorch"][1], "", 1e-6, 1e-7)
    assert out["jtorch"][2] == out["torch"][2]


@pytest.mark.parametrize("flags", [dict(fused=True), dict(capturable=True), {}], ids=["fused", "capturable", "plain"])
def test_loaded_step_dtype_follows_torch(flags):
    """load_state_dict casts 'step' to float32 for fused/capturable groups only, other state to
    the parameter's dtype."""
    out = {}
    for lib in (torch, jtorch):
        p = make_param(lib, np.ones(3, np.float64))
        opt = lib.optim.Adam([p], **flags)
        sd = {"state": {0: {"step": lib.tensor(3.0, dtype=lib.float64), "exp_avg": lib.zeros(3),
                            "exp_avg_sq": lib.zeros(3)}},
              "param_groups": opt.state_dict()["param_groups"]}
        opt.load_state_dict(sd)
        out[lib.__name__] = {k: str(v.dtype) for k, v in opt.state[p].items()}
    assert out["jtorch"] == out["torch"]
