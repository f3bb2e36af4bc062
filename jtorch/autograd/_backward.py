"""Backward functions of the tape's nodes (NOTE [The tape] in graph.py): the jitted VJP of an op,
the dead-code analysis that tells which saved inputs a backward reads, and the recorded backward
that create_graph=True runs so that gradients can be differentiated again."""
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import graph as G

def _set_slot(args, key, x):
    i, j = key
    if j is None:
        args[i] = x
    else:
        lst = list(args[i])
        lst[j] = x
        args[i] = tuple(lst)


def _make_backward(fn, diff):
    def backward(arrays, cts):
        def partial_fn(*d):
            args = list(arrays)
            for key, x in zip(diff, d):
                _set_slot(args, key, x)
            return fn(*args)
        primals = [arrays[i] if j is None else arrays[i][j] for i, j in diff]
        out, pull = jax.vjp(partial_fn, *primals)
        multi = isinstance(out, (tuple, list))
        outs = out if multi else (out,)
        full = []
        for ct, o in zip(cts, outs):
            if ct is not None:
                full.append(ct.astype(o.dtype) if ct.dtype != o.dtype else ct)
            elif jnp.issubdtype(o.dtype, jnp.inexact):
                full.append(jnp.zeros(o.shape, o.dtype))
            else:
                full.append(np.zeros(o.shape, jax.dtypes.float0))
        return pull(type(out)(full) if multi else full[0])
    return backward


def _abstract(x):
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(_abstract(v) for v in x)
    return jax.ShapeDtypeStruct(np.shape(x), x.dtype)


def _analyse_needs(fn, diff, arrays, nout):
    """Which (slot, j) of `arrays` the backward for `diff` reads, after dead-code elimination."""
    try:
        from jax._src.interpreters import partial_eval as pe
        abstract = tuple(_abstract(a) for a in arrays)
        out = jax.eval_shape(fn, *abstract)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        cts = tuple(jax.ShapeDtypeStruct(o.shape, o.dtype) if jnp.issubdtype(o.dtype, jnp.inexact)
                    else None for o in outs)
        closed = jax.make_jaxpr(_make_backward(fn, diff))(abstract, cts)
        jaxpr = closed.jaxpr
        _, used = pe.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars))
    except Exception:  # an exotic function: assume it reads everything
        return G._ALL
    needs, k = set(), 0
    for i, a in enumerate(arrays):
        if isinstance(a, tuple):
            for j in range(len(a)):
                if used[k]:
                    needs.add((i, j))
                k += 1
        elif a is not None:
            if used[k]:
                needs.add((i, None))
            k += 1
    return frozenset(needs)


# torch names the first node of a derivative formula; for higher-order graphs we name the
# recorded backward after the formula's last op where that is well known.
_DOUBLE_BACKWARD_NAMES = {
    "TanhBackward0": "TanhBackwardBackward0", "SigmoidBackward0": "SigmoidBackwardBackward0",
    "SumBackward0": "ExpandBackward0", "SumBackward1": "ExpandBackward0",
    "MeanBackward0": "DivBackward0", "MeanBackward1": "DivBackward0", "MmBackward0": "MmBackward0",
    "ReluBackward0": "ThresholdBackwardBackward0", "NegBackward0": "NegBackward0",
    "DivBackward0": "DivBackward0", "LogBackward0": "DivBackward0",
}


def _differentiable_backward(node, cts, arrays):
    """Backward as a recorded op (create_graph=True): its result can be differentiated again."""
    from .._tensor import Tensor
    from ..ops._registry import _Entry
    diff = node._diff_key()
    present = tuple(c is not None for c in cts)
    leaves, treedef = jax.tree_util.tree_flatten(arrays)
    index = _leaf_index(arrays)
    key = ("create_graph", diff, present, treedef)
    entry = node._entry.bwd.get(key)
    if entry is None:
        bwd = _make_backward(node._entry.fn, diff)
        n = len(leaves)

        def fn(*values):
            args = jax.tree_util.tree_unflatten(treedef, values[:n])
            it = iter(values[n:])
            full = tuple(next(it) if p else None for p in present)
            return tuple(bwd(args, full))
        entry = node._entry.bwd[key] = _Entry(fn)
    tensors = {}
    for k, (pos, _) in enumerate(node._diff):
        tensors[index[pos]] = _saved_input(node, k)
    values = list(leaves)
    inputs = [(i, t) for i, t in sorted(tensors.items())]
    for c in cts:
        if c is not None:
            inputs.append((len(values), c))
            values.append(c._value())
    values = tuple(values)
    result = entry.fwd(*values)
    device = cts[0]._device if cts and cts[0] is not None else None
    outs = [Tensor._from_value(r, device=device) for r in result]
    if G.should_record(None, inputs):
        name = _DOUBLE_BACKWARD_NAMES.get(type(node).__name__, "MulBackward0")
        G.record(None, entry, values, inputs, outs, name=name)
    return outs


def _leaf_index(arrays):
    """(slot, j) -> position among the flattened leaves of `arrays`."""
    index, k = {}, 0
    for i, a in enumerate(arrays):
        if isinstance(a, tuple):
            for j in range(len(a)):
                index[(i, j)] = k
                k += 1
        elif a is not None:
            index[(i, None)] = k
            k += 1
    return index


def _saved_input(node, k):
    """The k-th differentiable input of a node: its snapshot value, with the input's history."""
    from .._tensor import Tensor
    fn, nr = node.next_functions[node._diff[k][1]]
    (i, j), _ = node._diff[k]
    value = node._arrays[i] if j is None else node._arrays[i][j]
    t = Tensor._from_value(value)
    t._requires_grad = True
    if isinstance(fn, G.AccumulateGrad):
        # a stand-in for the leaf: gradients reach the leaf's own AccumulateGrad
        t._accumulator = weakref.ref(fn)
    else:
        t._grad_fn, t._output_nr = fn, nr
    return t


