"""torch.optim against torch, optax-style: one table of optimizer cases, each run by the same
tests. Both libraries start from the same numpy parameters, compute the same MLP loss with their
own ops and autograd, and step; parameters are compared after every step, state dicts (layout,
types and values) at the end, and state dicts cross-load both ways and continue identically."""

import numpy as np
import pytest
import torch

import jtorch
from tests.optim._common import assert_same_structure, convert, make_param, to_numpy

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, amsgrad=True, weight_decay=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.02, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=2.0, weight_decay=0.1, maximize=True)),
]
IDS = ["%s-%s" % (name, "-".join("%s=%s" % kv for kv in kw.items())) for name, kw in CASES]

_rng = np.random.default_rng(1)
X = _rng.uniform(-1, 1, (8, 3))
Y = _rng.uniform(-1, 1, (8, 2))
START = {"w1": _rng.uniform(-1, 1, (3, 4)), "b1": _rng.uniform(-0.5, 0.5, (4,)),
         "w2": _rng.uniform(-1, 1, (4, 2)), "b2": _rng.uniform(-0.5, 0.5, (2,)),
         "unused": _rng.uniform(-1, 1, (2, 2))}


class Run:
    """One library's model, optimizer and loss, from the shared start."""

    def __init__(self, lib, name, kwargs, dtype, start=START):
        self.lib = lib
        self.p = {k: make_param(lib, v.astype(dtype)) for k, v in start.items()}
        self.x = lib.from_numpy(X.astype(dtype))
        self.y = lib.from_numpy(Y.astype(dtype))
        # two groups, the first overriding lr; 'unused' never gets a gradient (torch skips it)
        groups = [{"params": [self.p["w1"], self.p["w2"]], "lr": kwargs["lr"] * 0.5},
                  {"params": [self.p["b1"], self.p["b2"], self.p["unused"]]}]
        self.opt = getattr(lib.optim, name)(groups, **kwargs)

    def loss(self):
        p = self.p
        h = self.lib.tanh(self.x @ p["w1"] + p["b1"])
        return ((h @ p["w2"] + p["b2"] - self.y) ** 2).mean()

    def step(self):
        self.opt.zero_grad()
        self.loss().backward()
        self.opt.step()

    def values(self):
        return {k: to_numpy(v) for k, v in self.p.items()}


def _compare_params(th, jt, rtol, atol, where):
    a, b = th.values(), jt.values()
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=rtol, atol=atol, err_msg="%s %s" % (where, k))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_float64(case):
    """Each library computes its own loss and gradients; in float64 the trajectories agree to
    rounding after 20 steps, which pins down every formula."""
    name, kwargs = case
    th, jt = Run(torch, name, kwargs, np.float64), Run(jtorch, name, kwargs, np.float64)
    assert_same_structure(th.opt.state_dict(), jt.opt.state_dict(), "fresh")
    ids = {k: id(v) for k, v in jt.p.items()}
    for i in range(20):
        th.step()
        jt.step()
        _compare_params(th, jt, 1e-10, 1e-12, "step %d" % (i + 1))
    assert {k: id(v) for k, v in jt.p.items()} == ids  # updated in place, identity kept
    assert_same_structure(th.opt.state_dict(), jt.opt.state_dict(), "state_dict", 1e-10, 1e-12)
    assert repr(jt.opt) == repr(th.opt)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_float32(case):
    """float32 end to end. This MLP amplifies rounding differences for the adaptive methods:
    torch's own foreach and for-loop implementations drift apart by up to 6e-6 here after 20
    steps, so the end-to-end comparison allows 1e-4; the same run fed torch's gradients checks
    the rules' float32 rounding (where torch casts its Python scalars) to a few ulps."""
    name, kwargs = case
    th, jt = Run(torch, name, kwargs, np.float32), Run(jtorch, name, kwargs, np.float32)
    fed = Run(jtorch, name, kwargs, np.float32)
    for i in range(20):
        th.step()
        jt.step()
        _compare_params(th, jt, 1e-4, 1e-4, "end to end, step %d" % (i + 1))
        for k, p in th.p.items():
            fed.p[k].grad = None if p.grad is None else jtorch.from_numpy(p.grad.numpy().copy())
        fed.opt.step()
        _compare_params(th, fed, 2e-6, 5e-7, "torch's gradients, step %d" % (i + 1))
    assert_same_structure(th.opt.state_dict(), fed.opt.state_dict(), "state_dict", 2e-6, 5e-7)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_cross_loads(case):
    """torch's state dict loads into jtorch (and jtorch's into torch) mid-run and both continue
    exactly as the uninterrupted run."""
    name, kwargs = case
    th, jt = Run(torch, name, kwargs, np.float64), Run(jtorch, name, kwargs, np.float64)
    for _ in range(8):
        th.step()
        jt.step()
    mid = th.values()
    sd_th, sd_jt = th.opt.state_dict(), jt.opt.state_dict()
    ref = Run(torch, name, kwargs, np.float64, start=mid)          # torch loading torch's state
    ref.opt.load_state_dict(convert(sd_th, torch))
    jt2 = Run(jtorch, name, kwargs, np.float64, start=mid)         # jtorch loading torch's state
    jt2.opt.load_state_dict(convert(sd_th, jtorch))
    th2 = Run(torch, name, kwargs, np.float64, start=jt.values())  # torch loading jtorch's state
    th2.opt.load_state_dict(convert(sd_jt, torch))
    assert_same_structure(ref.opt.state_dict(), jt2.opt.state_dict(), "loaded", 0, 0)
    for i in range(8):
        for r in (ref, jt2, th2):
            r.step()
        _compare_params(ref, jt2, 1e-10, 1e-12, "torch state in jtorch, step %d" % (i + 1))
        _compare_params(ref, th2, 1e-10, 1e-12, "jtorch state in torch, step %d" % (i + 1))
    assert_same_structure(ref.opt.state_dict(), jt2.opt.state_dict(), "continued", 1e-10, 1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_half_precision_bit_exact(case):
    """float16 / bfloat16 parameters: torch's vectorized CPU kernels compute each op in float32
    and round its result to the tensor's dtype (add's alpha rounded first); the rules do the
    same, so fed the same gradients the parameters and state are bit-identical to torch's. The
    size is a multiple of the vector width: torch's scalar loop for the leftover elements rounds
    add's alpha * other to the dtype before adding, unlike its vector body, and jtorch follows
    the vector body."""
    name, kwargs = case
    rng = np.random.default_rng(7)
    start = rng.standard_normal(64).astype(np.float32)
    grads = [rng.standard_normal(64).astype(np.float32) for _ in range(10)]
    for dt in ("bfloat16", "float16"):
        out = {}
        for lib in (torch, jtorch):
            p = make_param(lib, start)
            with lib.no_grad():
                p.data = p.data.to(getattr(lib, dt))
            opt = getattr(lib.optim, name)([p], **kwargs)
            for g in grads:
                p.grad = lib.from_numpy(g.copy()).to(getattr(lib, dt))
                opt.step()
            out[lib.__name__] = to_numpy(p.float()), opt.state_dict()
        np.testing.assert_array_equal(out["jtorch"][0], out["torch"][0], err_msg=dt)
        assert_same_structure(out["torch"][1], out["jtorch"][1], dt, 0, 0)
