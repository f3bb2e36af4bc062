"""lr_scheduler against torch: one table of schedules, each stepped 60 times beside an optimizer
in both libraries; the lrs (and cycled momenta / betas) must be equal as Python floats, since the
schedules are the same float64 arithmetic; state dicts must match and load across."""
import math
import warnings

import numpy as np
import pytest
import torch

import jtorch
from tests.optim._common import assert_same_structure, convert, make_param


class Halve:
    """A callable object: its __dict__ goes into LambdaLR's state dict."""

    def __init__(self):
        self.every = 7

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


def _seq(L, opt):
    return L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=10),
                                L.CosineAnnealingLR(opt, T_max=30, eta_min=1e-4)], milestones=[10])


def _seq3(L, opt):
    return L.SequentialLR(opt, [L.ConstantLR(opt, factor=0.5, total_iters=5),
                                L.ExponentialLR(opt, gamma=0.9),
                                L.StepLR(opt, step_size=4, gamma=0.5)], milestones=[8, 20])


def _chain(L, opt):
    return L.ChainedScheduler([L.ConstantLR(opt, factor=0.2, total_iters=6),
                               L.ExponentialLR(opt, gamma=0.95)])


def _swa(L):
    return torch.optim.swa_utils if L is torch.optim.lr_scheduler else jtorch.optim.swa_utils


# (id, optimizer, make(lr_scheduler module, optimizer), how to step: "plain" | "epoch" | "metric")
CASES = [
    ("StepLR", "SGD", lambda L, o: L.StepLR(o, step_size=7, gamma=0.3), "plain"),
    ("StepLR-epoch", "SGD", lambda L, o: L.StepLR(o, step_size=7, gamma=0.3), "epoch"),
    ("MultiStepLR", "SGD", lambda L, o: L.MultiStepLR(o, milestones=[5, 12, 12, 40], gamma=0.5), "plain"),
    ("MultiStepLR-epoch", "SGD", lambda L, o: L.MultiStepLR(o, milestones=[5, 12, 12, 40]), "epoch"),
    ("ExponentialLR", "SGD", lambda L, o: L.ExponentialLR(o, gamma=0.93), "plain"),
    ("ExponentialLR-epoch", "SGD", lambda L, o: L.ExponentialLR(o, gamma=0.93), "epoch"),
    ("CosineAnnealingLR", "SGD", lambda L, o: L.CosineAnnealingLR(o, T_max=13, eta_min=0.001), "plain"),
    ("CosineAnnealingLR-epoch", "SGD", lambda L, o: L.CosineAnnealingLR(o, T_max=13), "epoch"),
    ("LambdaLR", "SGD", lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + 0.1 * e)), "plain"),
    ("LambdaLR-per-group", "SGD", lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, Halve()]), "plain"),
    ("MultiplicativeLR", "SGD", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97), "plain"),
    ("LinearLR", "SGD", lambda L, o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=17), "plain"),
    ("LinearLR-epoch", "SGD", lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=17), "epoch"),
    ("ConstantLR", "SGD", lambda L, o: L.ConstantLR(o, factor=0.4, total_iters=9), "plain"),
    ("ConstantLR-epoch", "SGD", lambda L, o: L.ConstantLR(o, factor=0.4, total_iters=9), "epoch"),
    ("PolynomialLR", "SGD", lambda L, o: L.PolynomialLR(o, total_iters=40, power=2.0), "plain"),
    ("OneCycleLR-sgd", "SGD", lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=61), "plain"),
    ("OneCycleLR-adam-linear-3phase", "Adam", lambda L, o: L.OneCycleLR(
        o, max_lr=0.01, epochs=6, steps_per_epoch=11, anneal_strategy="linear", three_phase=True), "plain"),
    ("CyclicLR-triangular", "SGD", lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=7), "plain"),
    ("CyclicLR-triangular2", "SGD", lambda L, o: L.CyclicLR(
        o, [0.01, 0.02], 0.1, step_size_up=5, step_size_down=9, mode="triangular2"), "plain"),
    ("CyclicLR-exp_range-adam", "Adam", lambda L, o: L.CyclicLR(
        o, 0.001, 0.01, step_size_up=6, mode="exp_range", gamma=0.97), "plain"),
    ("CosineAnnealingWarmRestarts", "SGD", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-3), "plain"),
    ("CosineAnnealingWarmRestarts-epoch", "SGD", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=3), "epoch"),
    ("SequentialLR", "SGD", _seq, "plain"),
    ("SequentialLR-three", "SGD", _seq3, "plain"),
    ("ChainedScheduler", "SGD", _chain, "plain"),
    ("SWALR-cos", "SGD", lambda L, o: _swa(L).SWALR(o, swa_lr=0.05, anneal_epochs=7), "plain"),
    ("SWALR-linear-per-group", "Adam", lambda L, o: _swa(L).SWALR(o, swa_lr=[0.001, 0.02], anneal_epochs=3,
                                                                  anneal_strategy="linear"), "plain"),
    ("ReduceLROnPlateau", "SGD", lambda L, o: L.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1, min_lr=[0.0, 0.01]), "metric"),
    ("ReduceLROnPlateau-max-abs", "Adam", lambda L, o: L.ReduceLROnPlateau(
        o, mode="max", threshold_mode="abs", threshold=0.05, patience=1), "metric"),
]
STEPS = 60
# a metric that improves, plateaus and oscillates, for ReduceLROnPlateau
METRIC = [1.0 / (1 + i) if i < 10 else 0.1 + 0.01 * math.sin(i) for i in range(STEPS)]


def _setup(lib, opt_name, make):
    w = make_param(lib, np.ones((2, 2), np.float32))
    b = make_param(lib, np.ones((2,), np.float32))
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.01)}[opt_name]
    opt = getattr(lib.optim, opt_name)([{"params": [w]}, {"params": [b], "lr": kwargs["lr"] * 3}], **kwargs)
    sched = make(lib.optim.lr_scheduler, opt)
    return w, b, opt, sched


def _record(opt, sched):
    groups = [{k: g[k] for k in ("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr")
               if k in g} for g in opt.param_groups]
    return groups, list(sched.get_last_lr())


def _run(lib, opt_name, make, how, steps=STEPS, sched_state=None, opt_state=None):
    w, b, opt, sched = _setup(lib, opt_name, make)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    if sched_state is not None:
        sched.load_state_dict(sched_state)
    out = [_record(opt, sched)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in torch
        for i in range(steps):
            w.grad = lib.ones_like(w)
            b.grad = lib.ones_like(b)
            opt.step()
            if how == "plain":
                sched.step()
            elif how == "epoch":
                sched.step(i + 1)
            else:
                sched.step(METRIC[i])
            out.append(_record(opt, sched))
    return out, opt, sched


def _comparable(state):
    """A scheduler state dict without what cannot compare across libraries (bound methods)."""
    return {k: v for k, v in state.items() if not callable(v) or isinstance(v, type)}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_schedule_matches_torch(case):
    _, opt_name, make, how = case
    th, th_opt, th_sched = _run(torch, opt_name, make, how)
    jt, jt_opt, jt_sched = _run(jtorch, opt_name, make, how)
    for i, (a, b) in enumerate(zip(th, jt)):
        assert a == b, "step %d: torch %r, jtorch %r" % (i, a, b)
    assert_same_structure(_comparable(th_sched.state_dict()), _comparable(jt_sched.state_dict()), "sched")
    assert_same_structure(th_opt.state_dict()["param_groups"], jt_opt.state_dict()["param_groups"], "groups")


PLAIN = [c for c in CASES if c[3] == "plain"]


@pytest.mark.parametrize("case", PLAIN, ids=[c[0] for c in PLAIN])
def test_schedule_state_dict_resumes(case):
    """Stop after 25 steps, load torch's scheduler and optimizer state into a fresh jtorch pair,
    and continue: the lrs equal torch's uninterrupted run."""
    _, opt_name, make, how = case
    full, _, _ = _run(torch, opt_name, make, how)
    _, th_opt, th_sched = _run(torch, opt_name, make, how, steps=25)
    sched_state = convert(th_sched.state_dict(), jtorch)
    opt_state = convert(th_opt.state_dict(), jtorch)
    w, b, opt, sched = _setup(jtorch, opt_name, make)
    opt.load_state_dict(opt_state)
    sched.load_state_dict(sched_state)
    for i in range(25, STEPS):
        w.grad, b.grad = jtorch.ones_like(w), jtorch.ones_like(b)
        opt.step()
        sched.step()
        assert _record(opt, sched) == full[i + 1], "step %d" % (i + 1)
