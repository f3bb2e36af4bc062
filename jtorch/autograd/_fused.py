"""The fused backward: one XLA program per repeated backward graph (NOTE below)."""
import collections

import jax

from .graph import AccumulateGrad, Node

# NOTE [Fused backward]
# A training loop runs the same backward graph step after step: same ops, same static arguments,
# same wiring. After a graph structure (per node: op entry, which inputs need grad, edges) has
# been seen FUSE_AFTER times, its whole backward -- every node's VJP, the fan-in sums and the
# accumulation into .grad -- is traced into one jitted function and later backwards of that
# structure are one XLA call. XLA then fuses across nodes (a transpose into the matmul before it,
# elementwise chains into one loop) and the Python cost per node drops to building the key.
# Anything the per-node walk does that is not a pure function of the values keeps the per-node
# walk: hooks, retain_grad, custom Functions and other nodes with their own _apply, autograd.grad,
# create_graph, anomaly mode, tracing under jtorch.compile. Results equal the per-node walk's up
# to float rounding (XLA may reassociate inside one program).

FUSE_AFTER = 5
_MAX_STRUCTURES = 64
_structures = collections.OrderedDict()   # structure key -> [times seen, jitted function or None]
_plain_apply = {}                          # node class -> whether it uses Node._apply


def _fusable(cls):
    ok = _plain_apply[cls] = cls._apply is Node._apply
    return ok


def fused_backward(roots, buffers, retain_graph):
    """Run this backward as one compiled program if its structure is hot. True if it did."""
    nodes, leaves, leaf_index = [], [], {}
    stack = list(roots)
    seen = set(roots)
    plain = _plain_apply
    pop, push, mark = stack.pop, stack.append, seen.add
    while stack:
        n = pop()
        if n._x is not None:
            return False
        cls = n.__class__
        if cls is AccumulateGrad:
            leaf_index[n] = len(leaves)
            leaves.append(n)
            continue
        if n._arrays is None or not (plain.get(cls) or _fusable(cls)):
            return False
        nodes.append(n)
        for nxt, _ in n.next_functions:
            if nxt is not None and nxt not in seen:
                mark(nxt)
                push(nxt)
    if not nodes:
        return False
    nodes.sort(key=_seq_key)
    index = {n: i for i, n in enumerate(nodes)}
    for acc, j in leaf_index.items():
        index[acc] = ~j
    parts = []
    for n in nodes:
        nexts = n.next_functions
        diff = n._diff
        if len(diff) == 1:
            (pos, ei), = diff
            nxt, nr = nexts[ei]
            parts.append((n._entry, (pos,), n._nout, ((index[nxt], nr),)))
        else:
            edges, dkey = [], []
            for pos, ei in diff:
                nxt, nr = nexts[ei]
                edges.append((index[nxt], nr))
                dkey.append(pos)
            parts.append((n._entry, tuple(dkey), n._nout, tuple(edges)))
    root_spec = []
    root_cts = []
    for r in roots:
        for nr, g in enumerate(buffers[r]):
            if g is not None:
                root_spec.append((index[r], nr))
                root_cts.append(g)
    leaf_spec = tuple((acc.variable.dtype.np, acc.variable._grad is not None) for acc in leaves)
    key = (tuple(parts), tuple(root_spec), leaf_spec)
    try:
        slot = _structures.get(key)
    except TypeError:
        return False
    if slot is None:
        slot = _structures[key] = [0, None]
        if len(_structures) > _MAX_STRUCTURES:
            _structures.popitem(last=False)
    else:
        _structures.move_to_end(key)
    slot[0] += 1
    if slot[1] is None:
        if slot[0] < FUSE_AFTER:
            return False
        slot[1] = jax.jit(_make_fused(key))
    for n in nodes:
        n._check_saved()
    old = [acc.variable._grad._value() if acc.variable._grad is not None else None for acc in leaves]
    new = slot[1]([n._arrays for n in nodes], root_cts, old)
    if not retain_graph:
        for n in nodes:
            n._free()
    for acc, g in zip(leaves, new):
        if g is None:
            continue
        leaf = acc.variable
        if leaf._grad is None:
            leaf._grad = _wrap_leaf_grad(g, leaf)
        else:
            leaf._grad._write(g)
        if leaf._hooks:
            for hook in list(leaf._hooks):
                hook(leaf)
    return True


def _seq_key(n):
    return -n._seq


def _make_fused(key):
    from ._backward import _make_backward
    parts, root_spec, leaf_spec = key
    backwards = [_make_backward(entry.fn, dkey) for entry, dkey, _, _ in parts]

    def fused(arrays, root_cts, old_grads):
        bufs = [[None] * nout for _, _, nout, _ in parts]
        acc = [None] * len(leaf_spec)

        def add(target, nr, g):
            if target >= 0:
                b = bufs[target]
                b[nr] = g if b[nr] is None else b[nr] + g
            else:
                j = ~target
                g = g.astype(leaf_spec[j][0]) if g.dtype != leaf_spec[j][0] else g
                acc[j] = g if acc[j] is None else acc[j] + g
        for (target, nr), g in zip(root_spec, root_cts):
            add(target, nr, g)
        for i, (_, _, _, edges) in enumerate(parts):
            cts = bufs[i]
            if all(c is None for c in cts):
                continue
            grads = backwards[i](arrays[i], tuple(cts))
            for (target, nr), g in zip(edges, grads):
                if g is not None:
                    add(target, nr, g)
        out = []
        for g, old in zip(acc, old_grads):
            if g is None:
                out.append(None)
            else:
                out.append(g if old is None else old + g.astype(old.dtype))
        return out
    return fused


def _wrap_leaf_grad(value, leaf):
    from .._tensor import Tensor
    return Tensor._from_value(value, dtype=leaf.dtype, device=leaf._device)
