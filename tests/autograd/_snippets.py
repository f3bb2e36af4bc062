"""Run one snippet of torch code on torch and on jtorch and compare what it leaves in `out`.

A snippet is Python source with `torch` bound to the library under test. Whatever it assigns to
`out` (tensors, numbers, strings, nested tuples/lists) is compared with tests._diff.assert_same;
when torch raises, jtorch must raise the same exception class (and, with `match`, a message
containing that text).
"""
import warnings

import numpy as np
import torch

import jtorch
from tests._diff import assert_same


def run(lib, src):
    ns = {"torch": lib, "np": np, "lib_is_torch": lib is torch, "names": names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(src, ns)
    return ns.get("out")


def check(src, match=None, atol=None, rtol=None):
    try:
        expected = run(torch, src)
    except Exception as e:
        try:
            run(jtorch, src)
        except Exception as je:
            assert type(je).__name__ == type(e).__name__, (
                "torch raised %s(%s), jtorch raised %s(%s)" % (type(e).__name__, e, type(je).__name__, je))
            if match is not None:
                assert match in str(e), "torch's message changed: %s" % e
                assert match in str(je), "jtorch's message lacks %r: %s" % (match, je)
            return
        raise AssertionError("torch raised %s(%s), jtorch did not" % (type(e).__name__, e))
    got = run(jtorch, src)
    assert_same(got, expected, atol, rtol)


def names(fn, depth=6, seen=None):
    """A grad_fn's graph as nested (name, [children]) with leaves named by their `.name`
    attribute when the snippet gave them one; comparable across the two libraries."""
    if fn is None:
        return None
    if depth == 0:
        return type(fn).__name__
    if type(fn).__name__ == "AccumulateGrad":
        return ("AccumulateGrad", getattr(fn.variable, "_test_name", "?"))
    return (type(fn).__name__, tuple((names(n, depth - 1), nr) for n, nr in fn.next_functions))
