"""The autograd tape: nodes named as PyTorch names them, each backed by a jitted jax.vjp.

NOTE [The tape]
Every differentiable op run with grad enabled on an input that requires grad records a Node.
The node keeps the op's compiled entry and the input values the op ran on (JAX values are
immutable, so these are snapshots), the tensors torch would save (to detect in-place changes
through version counters) and `next_functions` edges to its inputs' nodes, with one
AccumulateGrad per leaf. Its backward recomputes the op's forward inside one cached
`jax.jit(vjp)` per (op, static arguments, which inputs need grad): one XLA call per node,
never an eager pullback. With create_graph=True the same backward runs as a recorded jtorch
op, so its result has a history of its own and can be differentiated again.
"""
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from .grad_mode import is_grad_enabled

_node_classes = {}


class Node:
    __slots__ = ("next_functions", "_entry", "_arrays", "_diff", "_saved", "_freed", "_pre_hooks",
                 "_hooks", "_retained", "_nout", "metadata", "__weakref__")

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return "<%s object at 0x%x>" % (type(self).__name__, id(self))

    def register_hook(self, fn):
        self._hooks = (self._hooks or []) + [fn]
        return _Handle(self, "_hooks", fn)

    def register_prehook(self, fn):
        self._pre_hooks = (self._pre_hooks or []) + [fn]
        return _Handle(self, "_pre_hooks", fn)

    def _apply(self, cts, create_graph):
        """Gradients for each edge of next_functions, from one cotangent per output."""
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        for t, version in self._saved:
            if t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    "inplace operation: [%s [%s]], which is output %d of %s, is at version %d; "
                    "expected version %d instead. Hint: enable anomaly detection to find the "
                    "operation that failed to compute its gradient, with "
                    "torch.autograd.set_detect_anomaly(True)."
                    % (_type_name(t), ", ".join(map(str, t._shape)), t._output_nr,
                       type(t._grad_fn).__name__ if t._grad_fn is not None else "AccumulateGrad",
                       t._version, version))
        if create_graph:
            return _differentiable_backward(self, cts)
        return self._entry_backward()(self._arrays, tuple(cts))

    def _entry_backward(self):
        entry, diff = self._entry, self._diff_key()
        bwd = entry.bwd.get(diff)
        if bwd is None:
            bwd = entry.bwd[diff] = jax.jit(_make_backward(entry.fn, diff))
        return bwd

    def _diff_key(self):
        return tuple(pos for pos, _ in self._diff)

    def _free(self):
        if self._saved or self._arrays is not None:
            self._freed = bool(self._saved)


class AccumulateGrad(Node):
    __slots__ = ("variable",)


def _type_name(t):
    return "torch.%sTensor" % t.dtype._legacy


class _Handle:
    def __init__(self, owner, attr, fn):
        self._owner, self._attr, self._fn = weakref.ref(owner), attr, fn

    def remove(self):
        owner = self._owner()
        if owner is not None:
            hooks = getattr(owner, self._attr) or []
            setattr(owner, self._attr, [h for h in hooks if h is not self._fn])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def node_class(name):
    cls = _node_classes.get(name)
    if cls is None:
        cls = _node_classes[name] = type(name, (Node,), {"__slots__": ()})
    return cls


def _new_node(cls):
    n = cls.__new__(cls)
    n.next_functions = ()
    n._entry = n._arrays = None
    n._diff = ()
    n._saved = ()
    n._freed = False
    n._pre_hooks = n._hooks = n._retained = None
    n._nout = 1
    n.metadata = {}
    return n


def accumulator(leaf):
    """The leaf's AccumulateGrad node, one per leaf for as long as it is used (torch caches it too)."""
    acc = leaf._accumulator() if leaf._accumulator is not None else None
    if acc is None:
        acc = _new_node(AccumulateGrad)
        acc.variable = leaf
        leaf._accumulator = weakref.ref(acc)
        leaf.__dict__["_acc_strong"] = acc   # lives as long as the leaf
    return acc


def edge(t):
    if t._gver is not None:
        t._refresh_grad_fn()   # a view whose base was written in place (NOTE in _storage.py)
    if not t._requires_grad:
        return (None, 0)
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (accumulator(t), 0)


def should_record(o, inputs):
    if (o is not None and not o.differentiable) or not is_grad_enabled():
        return False
    for _, t in inputs:
        if t._requires_grad:
            return True
    return False


def record(o, entry, arrays, inputs, outputs, name=None):
    """Attach a node for op `o` to its float outputs."""
    if name is None:
        name = o.node if isinstance(o.node, str) else o.node(arrays, inputs)
    node = _new_node(node_class(name))
    node._entry = entry
    node._arrays = tuple(arrays)
    diff, edges, saved = [], [], []
    counts = {}
    saves = o.saves if o is not None else ()
    for slot, t in inputs:
        j = counts.get(slot, -1) + 1 if isinstance(arrays[slot], tuple) else None
        counts[slot] = j if j is not None else 0
        e = edge(t)
        edges.append(e)
        if t._requires_grad:
            diff.append(((slot, j), len(edges) - 1))
            pname = _slot_name(o, slot)
            if saves is None or (pname is not None and pname in saves):
                saved.append((t, t._version))
    node.next_functions = tuple(edges)
    node._diff = tuple(diff)
    node._saved = tuple(saved)
    node._nout = len(outputs)
    for i, out in enumerate(outputs):
        if out.dtype.is_floating_point or out.dtype.is_complex:
            out._requires_grad = True
            out._grad_fn = node
            out._output_nr = i
    return node


def _slot_name(o, slot):
    if o is None:
        return None
    names = o.tensor_params + o.list_params
    return names[slot] if slot < len(names) else None


def _make_backward(fn, diff):
    def backward(arrays, cts):
        def partial_fn(*d):
            args = list(arrays)
            for (i, j), x in zip(diff, d):
                if j is None:
                    args[i] = x
                else:
                    lst = list(args[i])
                    lst[j] = x
                    args[i] = tuple(lst)
            return fn(*args)
        primals = [arrays[i] if j is None else arrays[i][j] for i, j in diff]
        out, pull = jax.vjp(partial_fn, *primals)
        multi = isinstance(out, (tuple, list))
        outs = out if multi else (out,)
        full = []
        for ct, o in zip(cts, outs):
            if ct is not None:
                full.append(ct.astype(o.dtype))
            elif jnp.issubdtype(o.dtype, jnp.inexact):
                full.append(jnp.zeros(o.shape, o.dtype))
            else:
                full.append(np.zeros(o.shape, jax.dtypes.float0))
        return pull(type(out)(full) if multi else full[0])
    return backward


def _differentiable_backward(node, cts):
    """Backward as a recorded op (create_graph=True): its result can be differentiated again."""
    from ..ops import _registry
    diff_tensors = [_saved_input(node, k) for k in range(len(node._diff))]
    bwd = _make_backward(node._entry.fn, node._diff_key())
    arrays = node._arrays
    present = tuple(c is not None for c in cts)

    def fn(*values):
        d, c = values[:len(diff_tensors)], values[len(diff_tensors):]
        it = iter(c)
        full_cts = tuple(next(it) if p else None for p in present)
        args = list(arrays)
        for ((i, j), _), x in zip(node._diff, d):
            if j is None:
                args[i] = x
            else:
                lst = list(args[i])
                lst[j] = x
                args[i] = tuple(lst)
        return tuple(bwd(tuple(args), full_cts))
    tensors = diff_tensors + [c for c in cts if c is not None]
    # torch names the node of a first derivative after the last op of its formula, most often a Mul
    return _registry.apply_function(fn, tensors, node="MulBackward0")


def _saved_input(node, k):
    """The k-th differentiable input of a node as a tensor with its own history."""
    fn, nr = node.next_functions[node._diff[k][1]]
    values = node._arrays
    (i, j), _ = node._diff[k]
    value = values[i] if j is None else values[i][j]
    from .._tensor import Tensor
    t = Tensor._from_value(value)
    t._requires_grad = True
    if isinstance(fn, AccumulateGrad):
        return fn.variable
    t._grad_fn, t._output_nr = fn, nr
    return t


# -- in-place rebasing and hooks ---------------------------------------------------------------

def rebase_inplace(t, result):
    """After `t.op_(...)`, t's history is the op's node (torch's rebase_history)."""
    if result._grad_fn is None:
        if t._base is not None and t._base._requires_grad and is_grad_enabled():
            pass
        return
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if t._base is not None and t._base._requires_grad and t._base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    t._grad_fn = result._grad_fn
    t._output_nr = result._output_nr
    t._requires_grad = True
    base = t._base
    if base is not None and base is not t:
        # the base now depends on the new view values: record the write as CopySlices
        _record_copy_slices(base, t, result)


def _record_copy_slices(base, view, result):
    from ..ops import _registry
    key = (base._shape, view._shape, view._stride, view._offset)
    out, = _registry.apply_function(_write_fn(*key), [base, result], node="CopySlices",
                                    key=("copy_slices",) + key)
    base._grad_fn = out._grad_fn
    base._output_nr = 0
    base._requires_grad = True


def _write_fn(root_shape, shape, stride, offset):
    from .. import _storage as S
    positions = S.flat_positions(shape, stride, offset).reshape(-1)

    def write(root, new):
        return root.reshape(-1).at[positions].set(new.reshape(-1).astype(root.dtype)).reshape(root_shape)
    return write


def register_tensor_hook(t, hook):
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is None:
        node = accumulator(t)
        node._pre_hooks = (node._pre_hooks or []) + [(0, hook)]
        return _Handle(node, "_pre_hooks", (0, hook))
    node = t._grad_fn
    entry = (t._output_nr, hook)
    node._pre_hooks = (node._pre_hooks or []) + [entry]
    return _Handle(node, "_pre_hooks", entry)
