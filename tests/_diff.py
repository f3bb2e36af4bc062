"""The differential helper: run the same call on jtorch and on torch, compare everything.

    compare(lambda t, x, y: t.add(x, y, alpha=2), A(3, 4), A(4))

`A(...)`/`I(...)`/`B(...)` make numpy inputs; each side turns them into its own tensors (floats
with requires_grad when gradients are compared). Values (tolerance by dtype), dtypes, shapes,
gradients of every float input, and the exception class when torch raises, are all compared.
"""
import numpy as np
import torch

import jtorch

_rng = np.random.default_rng(0)


class Arr:
    """A numpy array that becomes a tensor on each side."""

    def __init__(self, array, requires_grad=None):
        self.array = array
        kind = array.dtype.kind
        self.requires_grad = (kind in "fc") if requires_grad is None else requires_grad

    def make(self, lib, grad):
        t = lib.from_numpy(self.array.copy()) if self.array.dtype != np.dtype("bfloat16") else None
        if grad and self.requires_grad:
            t.requires_grad_(True)
        return t


def A(*shape, dtype=np.float32, low=-2.0, high=2.0, grad=None):
    return Arr(_rng.uniform(low, high, size=shape).astype(dtype), grad)


def P(*shape, dtype=np.float32, grad=None):
    """Positive floats, for log/sqrt/pow."""
    return Arr(_rng.uniform(0.5, 2.0, size=shape).astype(dtype), grad)


def I(*shape, low=0, high=5, dtype=np.int64):
    return Arr(_rng.integers(low, high, size=shape).astype(dtype), False)


def B(*shape):
    return Arr(_rng.integers(0, 2, size=shape).astype(bool), False)


_TOL = {"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-4),
        "float64": (1e-10, 1e-8), "complex64": (1e-5, 1e-4), "complex128": (1e-10, 1e-8)}


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    if isinstance(x, jtorch.Tensor):
        x = x.detach()
        if x.dtype is jtorch.bfloat16:
            x = x.float()
        return x.numpy()
    return x


def _flatten(x):
    if isinstance(x, (tuple, list)):
        out = []
        for v in x:
            out.extend(_flatten(v))
        return out
    return [x]


def assert_same(j, t, atol=None, rtol=None, what="value"):
    """One jtorch result against one torch result: type, dtype, shape, values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(j, jtorch.Tensor), "%s: torch gave a Tensor, jtorch gave %r" % (what, type(j))
        assert str(j.dtype) == str(t.dtype), "%s: dtype %s != torch's %s" % (what, j.dtype, t.dtype)
        assert tuple(j.shape) == tuple(t.shape), "%s: shape %s != torch's %s" % (what, tuple(j.shape),
                                                                                 tuple(t.shape))
        a, b = _to_numpy(j), _to_numpy(t)
        dt = str(t.dtype).replace("torch.", "")
        default_atol, default_rtol = _TOL.get(dt, (0, 0))
        np.testing.assert_allclose(a, b, atol=atol if atol is not None else default_atol,
                                   rtol=rtol if rtol is not None else default_rtol, equal_nan=True,
                                   err_msg=what)
    elif isinstance(t, (tuple, list)):
        assert isinstance(j, (tuple, list)), "%s: torch gave a sequence, jtorch gave %r" % (what, type(j))
        assert len(j) == len(t), "%s: %d results != torch's %d" % (what, len(j), len(t))
        for k, (a, b) in enumerate(zip(j, t)):
            assert_same(a, b, atol, rtol, "%s[%d]" % (what, k))
    elif isinstance(t, float):
        assert abs(j - t) <= (atol or 1e-6) + (rtol or 1e-5) * abs(t), "%s: %r != %r" % (what, j, t)
    else:
        assert j == t, "%s: %r != torch's %r" % (what, j, t)


def compare(fn, *args, grad=True, atol=None, rtol=None, grad_atol=None, grad_rtol=None):
    """Run fn(lib, *tensors) for lib in (jtorch, torch) and compare results, gradients, errors."""
    t_args = [a.make(torch, grad) if isinstance(a, Arr) else a for a in args]
    try:
        t_out = fn(torch, *t_args)
    except Exception as e:  # torch rejects the input: jtorch must reject it with the same class
        j_args = [a.make(jtorch, grad) if isinstance(a, Arr) else a for a in args]
        try:
            fn(jtorch, *j_args)
        except Exception as je:
            assert isinstance(je, type(e)) or type(e).__name__ == type(je).__name__, (
                "torch raised %s(%s), jtorch raised %s(%s)" % (type(e).__name__, e, type(je).__name__, je))
            return None
        raise AssertionError("torch raised %s(%s), jtorch did not" % (type(e).__name__, e))
    j_args = [a.make(jtorch, grad) if isinstance(a, Arr) else a for a in args]
    j_out = fn(jtorch, *j_args)
    assert_same(j_out, t_out, atol, rtol)
    if not grad:
        return j_out
    t_leaves = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
    j_leaves = [a for a in j_args if isinstance(a, jtorch.Tensor) and a.requires_grad]
    t_outs = [o for o in _flatten(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    if not t_leaves or not t_outs:
        return j_out
    j_outs = [o for o in _flatten(j_out) if isinstance(o, jtorch.Tensor) and o.requires_grad]
    assert len(j_outs) == len(t_outs), "jtorch outputs requiring grad: %d, torch: %d" % (len(j_outs), len(t_outs))
    cots = [_rng.uniform(-1, 1, size=tuple(o.shape)).astype(_to_numpy(o).dtype) for o in t_outs]
    t_grads = torch.autograd.grad(t_outs, t_leaves, [torch.from_numpy(c) for c in cots], allow_unused=True)
    j_grads = jtorch.autograd.grad(j_outs, j_leaves, [jtorch.from_numpy(c.copy()) for c in cots],
                                   allow_unused=True)
    # a gradient is no more precise than the outputs it flows back from: a float64 input
    # used in a float32 result gets float32-rounded sums, so its tolerance is float32's
    out_tol = max(_TOL.get(str(o.dtype)[6:], (0, 0)) for o in t_outs)
    for k, (jg, tg) in enumerate(zip(j_grads, t_grads)):
        if tg is None:
            continue
        assert jg is not None, "gradient %d: torch has one, jtorch has None" % k
        floor = max(_TOL.get(str(tg.dtype)[6:], (0, 0)), out_tol)
        assert_same(jg, tg, grad_atol if grad_atol is not None else atol if atol is not None else floor[0],
                    grad_rtol if grad_rtol is not None else rtol if rtol is not None else floor[1],
                    "gradient %d" % k)
    return j_out


def jax_values(out):
    """A jtorch result (tensors, nested in tuples/lists) as jax values, for returning from jax.jit."""
    if isinstance(out, jtorch.Tensor):
        return out._value()
    if isinstance(out, (tuple, list)):
        return [jax_values(o) for o in out]
    return out


def assert_jit_matches_eager(fn, arrays, rtol, atol, name):
    """fn over jtorch tensors gives the same values traced under jax.jit as run eagerly."""
    import jax

    def traced(*values):
        return jax_values(fn(*[jtorch.Tensor._from_value(v) for v in values]))
    compiled = jax.jit(traced)(*[jax.numpy.asarray(a) for a in arrays])
    eager = jax_values(fn(*[jtorch.from_numpy(a.copy()) for a in arrays]))
    for c, e in zip(jax.tree_util.tree_leaves(compiled), jax.tree_util.tree_leaves(eager)):
        np.testing.assert_allclose(np.asarray(c), np.asarray(e), rtol=rtol, atol=atol, err_msg=name)
