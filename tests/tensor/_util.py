"""Helpers for tests/tensor: run the same program on torch and jtorch and compare everything it leaves."""
import numpy as np
import torch

import jtorch
from tests._diff import assert_same


def state(x):
    """What a tensor shows: values, dtype, size, strides, offset, contiguity and version."""
    return {"values": x, "stride": tuple(x.stride()), "offset": x.storage_offset(),
            "contiguous": x.is_contiguous(), "version": x._version}


def compare_env(program, *, versions=True):
    """Run program(lib) -> dict of tensors (or other results) on both libraries and compare each."""
    t_env = program(torch)
    j_env = program(jtorch)
    assert list(t_env) == list(j_env)
    for name, t in t_env.items():
        j = j_env[name]
        if isinstance(t, torch.Tensor):
            assert isinstance(j, jtorch.Tensor), name
            ts, js = state(t), state(j)
            assert_same(js.pop("values"), ts.pop("values"), what=name)
            if not versions:
                ts.pop("version"), js.pop("version")
            assert js == ts, "%s: %s != torch's %s" % (name, js, ts)
        elif isinstance(t, np.ndarray):
            np.testing.assert_array_equal(j, t, err_msg=name)
        else:
            assert_same(j, t, what=name)


def same_error(fn, match_message=True):
    """fn(lib) must raise on torch; jtorch must raise the same class (and message)."""
    try:
        fn(torch)
    except Exception as e:
        t_exc = e
    else:
        raise AssertionError("torch did not raise")
    try:
        fn(jtorch)
    except Exception as e:
        j_exc = e
    else:
        raise AssertionError("torch raised %s(%s), jtorch did not" % (type(t_exc).__name__, t_exc))
    assert type(j_exc).__name__ == type(t_exc).__name__, \
        "torch raised %s(%s), jtorch raised %s(%s)" % (type(t_exc).__name__, t_exc, type(j_exc).__name__, j_exc)
    if match_message:
        tm = str(t_exc).split("\n")[0].strip()
        jm = str(j_exc).split("\n")[0].strip()
        assert jm == tm, "message %r != torch's %r" % (jm, tm)
