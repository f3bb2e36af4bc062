"""Helpers shared by the optim tests: the same parameters in both libraries, state converted
between them, and a structural comparison of state dicts (keys, nesting, types, values)."""
import math

import numpy as np
import torch

import jtorch


def jt_param(array):
    """A jtorch parameter: nn.Parameter when jtorch.nn has it, else a leaf requiring grad."""
    try:
        from jtorch.nn.parameter import Parameter
    except ImportError:
        return jtorch.from_numpy(array.copy()).requires_grad_(True)
    return Parameter(jtorch.from_numpy(array.copy()))


def th_param(array):
    return torch.nn.Parameter(torch.from_numpy(array.copy()))


def make_param(lib, array):
    return th_param(array) if lib is torch else jt_param(array)


def to_numpy(t):
    """Values as numpy (bfloat16 as float32: numpy has no bfloat16, both sides convert alike)."""
    t = t.detach()
    if isinstance(t, torch.Tensor):
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy().copy()
    a = np.array(t._value())
    return a.astype(np.float32) if a.dtype.name == "bfloat16" else a


def convert(obj, lib):
    """Deep-copy a state dict into `lib`'s tensors (what torch.save + jtorch.load would give)."""
    if isinstance(obj, (torch.Tensor, jtorch.Tensor)):
        a = to_numpy(obj).copy()
        return torch.from_numpy(a) if lib is torch else jtorch.from_numpy(a)
    if isinstance(obj, dict):
        return type(obj)({k: convert(v, lib) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(convert(v, lib) for v in obj)
    return obj


def assert_same_structure(a, b, path="", rtol=1e-5, atol=1e-6):
    """`a` from torch, `b` from jtorch: same keys in the same order, same nesting, tensors for
    tensors with equal dtype, shape and values, other values of the same type and equal."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, jtorch.Tensor), "%s: torch has a tensor, jtorch a %s" % (path, type(b))
        assert str(a.dtype) == str(b.dtype), "%s: dtype %s vs %s" % (path, a.dtype, b.dtype)
        assert tuple(a.shape) == tuple(b.shape), "%s: shape %s vs %s" % (path, a.shape, b.shape)
        np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=rtol, atol=atol, err_msg=path)
        return
    assert type(a) is type(b), "%s: type %s vs %s" % (path, type(a).__name__, type(b).__name__)
    if isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), "%s: keys %s vs %s" % (path, list(a), list(b))
        for k in a:
            assert_same_structure(a[k], b[k], "%s[%r]" % (path, k), rtol, atol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), "%s: length %d vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_structure(x, y, "%s[%d]" % (path, i), rtol, atol)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=rtol, abs_tol=atol), "%s: %r vs %r" % (path, a, b)
    else:
        assert a == b, "%s: %r vs %r" % (path, a, b)
