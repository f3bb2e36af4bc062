"""Small helpers shared by the layer modules (torch.nn.modules.utils)."""
import collections.abc
from itertools import repeat

from ... import _dtype as D


def _ntuple(n, name="parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    return tuple(x for x in reversed(t) for _ in range(n))


def empty(shape, device=None, dtype=None):
    """torch.empty(shape, device=, dtype=) for parameters: zeros (jtorch has no uninitialised memory)."""
    from ...ops import creation
    if isinstance(shape, int):
        shape = (shape,)
    return creation.empty(tuple(shape), dtype=dtype or D.get_default_dtype(), device=device)


def factory(device=None, dtype=None):
    return {"device": device, "dtype": dtype}
