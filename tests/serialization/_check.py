"""A library-neutral description of an object tree, so that a jtorch tree and a torch tree (or two
trees of the same library) compare with ==: structure, container types, tensor bits, dtypes,
shapes, strides, storage offsets, requires_grad, is_leaf, tensor attributes, and which tensors
share storage."""
import collections
import math

import numpy as np
import torch

import jtorch


def _bits(t):
    if isinstance(t, torch.Tensor):
        t = t.detach()
        a = t.contiguous().view(torch.int16).numpy() if t.dtype == torch.bfloat16 else t.numpy()
    else:
        a = np.asarray(t._value())
        if a.dtype.name == "bfloat16":
            a = a.view(np.int16)
    return np.ascontiguousarray(a).tobytes()


def _storage_key(t):
    if isinstance(t, torch.Tensor):
        s = t.untyped_storage()
        return s.data_ptr() if s.nbytes() else ("empty", id(t))
    return id(t._base if t._base is not None else t)


def describe(obj):
    """(tree, sharing): `tree` is a nested tuple description of `obj`; `sharing` the partition of its
    non-Parameter tensors (by order of appearance) into groups that share storage. jtorch's
    Parameter holds its own value (jtorch/nn/parameter.py), so parameters stay out of `sharing`."""
    tensors = []

    def d(x):
        if isinstance(x, (torch.Tensor, jtorch.Tensor)):
            if type(x).__name__ != "Parameter":
                tensors.append(x)
            attrs = {k: d(v) for k, v in sorted(x.__dict__.items())} if x.__dict__ else {}
            return ("tensor", type(x).__name__, str(x.device), str(x.dtype), tuple(x.shape), tuple(x.stride()),
                    x.storage_offset(), x.requires_grad, x.is_leaf, _bits(x), attrs)
        if isinstance(x, (torch.dtype, jtorch.dtype)):
            return ("dtype", str(x))
        if isinstance(x, (torch.device, jtorch.device)):
            return ("device", x.type, x.index)
        if isinstance(x, (torch.Size, jtorch.Size)):
            return ("Size", tuple(x))
        if isinstance(x, dict):
            meta = d(x._metadata) if hasattr(x, "_metadata") else None
            return (type(x).__name__, [(d(k), d(v)) for k, v in x.items()], meta)
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, [d(v) for v in x])
        if isinstance(x, float) and math.isnan(x):
            return ("float", "nan")
        return (type(x).__name__, x)

    tree = d(obj)
    groups = collections.defaultdict(list)
    for i, t in enumerate(tensors):
        groups[_storage_key(t)].append(i)
    return tree, sorted(tuple(g) for g in groups.values())
