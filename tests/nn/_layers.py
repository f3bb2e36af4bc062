"""Differential helper for layers: build the same module in torch and jtorch from one seed,
compare their initial state (bit for bit), outputs, and the gradients of inputs and parameters."""
import numpy as np
import torch

import jtorch
from tests._diff import Arr, _rng, assert_same


def build(factory, seed=0):
    torch.manual_seed(seed)
    t = factory(torch)
    jtorch.manual_seed(seed)
    j = factory(jtorch)
    return j, t


def assert_same_state(j, t, exact=True):
    ts, js = t.state_dict(), j.state_dict()
    assert list(js.keys()) == list(ts.keys()), (list(js.keys()), list(ts.keys()))
    for k in ts:
        a, b = js[k], ts[k]
        assert str(a.dtype) == str(b.dtype), (k, a.dtype, b.dtype)
        assert tuple(a.shape) == tuple(b.shape), (k, a.shape, b.shape)
        an, bn = a.detach().numpy(), b.detach().numpy()
        if exact:
            assert np.array_equal(an, bn), "%s differs from torch's (max abs diff %g)" % (
                k, np.max(np.abs(an.astype(np.float64) - bn.astype(np.float64))) if an.size else 0)
        else:
            np.testing.assert_allclose(an, bn, rtol=1e-5, atol=1e-6, err_msg=k)


def _outputs(x):
    if isinstance(x, (tuple, list)):
        out = []
        for v in x:
            out.extend(_outputs(v))
        return out
    if hasattr(x, "data") and hasattr(x, "batch_sizes"):  # PackedSequence
        return [x.data]
    return [x]


def check_layer(factory, *inputs, train=True, seed=0, call=None, exact_init=True, atol=None, rtol=None,
                grad=True, forward_seed=1, steps=1):
    """Compare a layer built by factory(lib) on both libraries: init, forward (steps times), grads."""
    j, t = build(factory, seed)
    assert_same_state(j, t, exact_init)
    assert [n for n, _ in j.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert repr(j) == repr(t)
    j.train(train)
    t.train(train)
    call = call or (lambda m, *xs: m(*xs))
    for _ in range(steps):
        t_in = [a.make(torch, grad) if isinstance(a, Arr) else a for a in inputs]
        j_in = [a.make(jtorch, grad) if isinstance(a, Arr) else a for a in inputs]
        torch.manual_seed(forward_seed)
        t_out = call(t, *t_in)
        jtorch.manual_seed(forward_seed)
        j_out = call(j, *j_in)
        assert_same(j_out, t_out, atol, rtol, "output")
    assert_same_state(j, t, exact=False)  # running statistics and other buffers after forward
    if not grad:
        return j, t
    t_outs = [o for o in _outputs(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    j_outs = [o for o in _outputs(j_out) if isinstance(o, jtorch.Tensor) and o.requires_grad]
    assert len(j_outs) == len(t_outs)
    if not t_outs:
        return j, t
    cots = [_rng.uniform(-1, 1, size=tuple(o.shape)).astype(o.detach().numpy().dtype) for o in t_outs]
    t_leaves = [a for a in t_in if isinstance(a, torch.Tensor) and a.requires_grad] + list(t.parameters())
    j_leaves = [a for a in j_in if isinstance(a, jtorch.Tensor) and a.requires_grad] + list(j.parameters())
    t_grads = torch.autograd.grad(t_outs, t_leaves, [torch.from_numpy(c) for c in cots], allow_unused=True)
    j_grads = jtorch.autograd.grad(j_outs, j_leaves, [jtorch.from_numpy(c.copy()) for c in cots], allow_unused=True)
    names = ["input %d" % i for i in range(len(t_leaves) - len(list(t.parameters())))] + \
        [n for n, _ in t.named_parameters()]
    for name, jg, tg in zip(names, j_grads, t_grads):
        if tg is None:
            assert jg is None or not np.any(jg.numpy()), "gradient of %s: torch has none" % name
            continue
        assert jg is not None, "gradient of %s: torch has one, jtorch has None" % name
        assert_same(jg, tg, atol if atol is not None else 2e-5, rtol if rtol is not None else 2e-4,
                    "gradient of " + name)
    return j, t
