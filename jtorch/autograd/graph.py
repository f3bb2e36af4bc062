"""The autograd tape: nodes named as PyTorch names them, each backed by a jitted jax.vjp.

NOTE [The tape]
Every differentiable op run with grad enabled on an input that requires grad records a Node.
The node keeps the op's compiled entry and the input values the op ran on (JAX values are
immutable, so these are snapshots) and `next_functions` edges to its inputs' nodes, with one
AccumulateGrad per leaf. Its backward recomputes the op's forward inside one cached
`jax.jit(vjp)` per (op, static arguments, which inputs need grad): one XLA call per node,
never an eager pullback. With create_graph=True the same backward runs as a recorded op, so
its result has a history of its own and can be differentiated again.

Saved tensors and version counters. Because the node holds snapshots, its gradient is right
even if an input is later written in place; torch instead raises, for the tensors its formula
saved. To raise exactly where torch raises, a node remembers (version box, version) of each
candidate tensor, and at backward time checks only the ones its backward reads:
  * an op may declare `saves=` (names of tensor parameters, "result" for its output): those;
  * otherwise the jaxpr of the jitted backward is dead-code-eliminated once per (op entry,
    which inputs need grad) and the inputs it still reads are the saved ones. That gives
    torch's conditional saving for free: `x * c` saves c (needed for x's gradient) but not x.
A node that saved something refuses a second backward once freed (no retain_graph); a node that
saved nothing (a chain of adds) may run again, as in torch.

Edges follow torch's next_functions: one per differentiable tensor argument, (None, 0) for a
floating tensor that does not require grad, nothing for integer index/mask tensors, and a
(None, 0) for the Python number of add/sub/mul/div (torch wraps it in a tensor).
"""
import itertools
import re
import threading
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import anomaly_mode
from . import grad_mode
from .grad_mode import is_grad_enabled

_node_classes = {}
_counter = itertools.count()
_ACC_SEQ = 1 << 62      # AccumulateGrad runs as soon as it is ready (torch: sequence_nr UINT64_MAX)
_FREED = ("freed",)     # Node._saved after a backward without retain_graph
_ALL = "all"            # "every saved candidate is read" (analysis failed)
_NUMBER_EDGE_OPS = frozenset(("add", "sub", "mul", "div"))


class _Extra:
    """Rarely used per-node state, allocated on first use so plain nodes stay small."""
    __slots__ = ("tensor_pre_hooks", "pre_hooks", "hooks", "retained", "metadata", "trace", "op",
                 "packed")

    def __init__(self):
        self.tensor_pre_hooks = []   # (output_nr, fn): Tensor.register_hook on a non-leaf/leaf
        self.pre_hooks = []          # fn(grad_outputs): Node.register_prehook
        self.hooks = []              # fn(grad_inputs, grad_outputs): Node.register_hook
        self.retained = []           # (output_nr, weakref to the tensor): Tensor.retain_grad
        self.metadata = {}
        self.trace = None            # forward stack, under anomaly detection
        self.op = None               # the Op, for _saved_<name> attributes
        self.packed = None           # (unpack, [(key, packed)]) under saved_tensors_hooks


class Node:
    """torch.autograd.graph.Node: the base class of every grad_fn."""
    __slots__ = ("next_functions", "_entry", "_arrays", "_diff", "_saved", "_nout", "_seq", "_x",
                 "__weakref__")

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return "<%s object at 0x%x>" % (type(self).__name__, id(self))

    def _extra(self):
        x = self._x
        if x is None:
            x = self._x = _Extra()
        return x

    @property
    def metadata(self):
        return self._extra().metadata

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) after the node ran; may return new grad_inputs."""
        hooks = self._extra().hooks
        hooks.append(fn)
        return _Handle(hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) before the node runs; may return new grad_outputs."""
        hooks = self._extra().pre_hooks
        hooks.append(fn)
        return _Handle(hooks, fn)

    def __call__(self, *grads):
        """grad_fn(*grad_outputs) runs this node's backward alone (one result per input edge)."""
        from .._tensor import Tensor
        cts = [g._value() if isinstance(g, Tensor) else g for g in grads]
        out = self._apply(cts, False)
        full = [None] * len(self.next_functions)
        for (_, ei), g in zip(self._diff, out):
            full[ei] = None if g is None else Tensor._from_value(g)
        return tuple(full) if len(full) != 1 else full[0]

    def __getattr__(self, name):
        # grad_fn._saved_self / _saved_other / _saved_result, as torch exposes them
        if name.startswith("_saved_"):
            return _saved_attribute(self, name[len("_saved_"):])
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    # -- backward ---------------------------------------------------------------------------

    def _apply(self, cts, create_graph):
        """Gradients for each entry of _diff, from one cotangent (or None) per output."""
        self._check_saved()
        arrays = self._arrays
        x = self._x
        if x is not None and x.packed is not None:
            arrays = _unpacked_arrays(self, x)
        if create_graph:
            return _differentiable_backward(self, cts, arrays)
        return self._backward_fn()(arrays, tuple(cts))

    def _backward_fn(self):
        entry, diff = self._entry, self._diff_key()
        bwd = entry.bwd.get(diff)
        if bwd is None:
            bwd = entry.bwd[diff] = jax.jit(_make_backward(entry.fn, diff))
        return bwd

    def _diff_key(self):
        return tuple(pos for pos, _ in self._diff)

    def _check_saved(self):
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        if not saved:
            return
        needs = None
        for item in saved:
            box, version = item[1], item[2]
            if box[0] == version:
                continue
            if not item[4]:
                if needs is None:
                    needs = self._needs()
                if needs is not _ALL and item[0] not in needs:
                    continue
            raise _modified_error(item, box[0], self)

    def _needs(self):
        """The saved keys this node's backward reads (declared, or found by jaxpr DCE)."""
        entry = self._entry
        diff = self._diff_key()
        key = ("needs", diff)
        needs = entry.bwd.get(key)
        if needs is None:
            needs = entry.bwd[key] = _analyse_needs(entry.fn, diff, self._arrays, self._nout)
        return needs

    def _free(self):
        """After a backward without retain_graph: drop what the node saved."""
        saved = self._saved
        if not saved or saved is _FREED:
            return
        for item in saved:
            if item[4]:     # declared (or a saved result): freed without asking the analysis
                self._saved = _FREED
                self._arrays = None
                return
        needs = None
        for item in saved:
            if not item[4]:
                if needs is None:
                    needs = self._needs()
                if needs is not _ALL and item[0] not in needs:
                    continue
            break
        else:
            return
        self._saved = _FREED
        self._arrays = None


class AccumulateGrad(Node):
    __slots__ = ("variable",)

    def _apply(self, cts, create_graph):
        return ()


def _type_name(dtype):
    return "torch.%sTensor" % dtype._legacy


def _modified_error(item, now, node=None):
    """torch's message: a saved output names the node that made it, a saved input its tensor's
    current history."""
    key, box, version, ref = item[:4]
    t = ref() if isinstance(ref, weakref.ref) else ref
    where = ""
    shape = ""
    if t is not None:
        shape = "[%s [%s]]" % (_type_name(t.dtype), ", ".join(map(str, t._shape)))
        if key[0] == "result" and node is not None:
            fn, nr = node, key[1]
        else:
            fn, nr = t._grad_fn, t._output_nr
        if fn is not None:
            name = re.sub(r"Backward\d*$", "", type(fn).__name__)
            where = ", which is output %d of %s," % (nr, name)
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: %s%s is at version %d; expected version %d instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)." % (shape, where, now, version))


class _Handle:
    """What register_hook returns: .remove() takes the hook off again."""

    def __init__(self, hooks, item):
        self._hooks, self._item = hooks, item

    def remove(self):
        hooks = self._hooks
        for i, h in enumerate(hooks):
            if h is self._item:
                del hooks[i]
                return

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
    n._nout = 1
    n._seq = next(_counter)
    n._x = None
    return n


def accumulator(leaf):
    """The leaf's AccumulateGrad node, one per leaf for as long as it lives (torch caches it too)."""
    acc = leaf._accumulator() if leaf._accumulator is not None else None
    if acc is None:
        acc = _new_node(AccumulateGrad)
        acc._seq = _ACC_SEQ + acc._seq
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
    if (o is not None and not o.differentiable) or not _grad_state_enabled():
        return False
    for _, t in inputs:
        if t._requires_grad:
            return True
    return False


def _grad_state_enabled(state=grad_mode._state):
    return getattr(state, "enabled", True)


_SLOT_KEYS = tuple((i, None) for i in range(32))
_SAVE_SLOTS = {}      # op -> slots its `saves=` names (and whether it saves its result)


def _save_slots(o):
    spec = _SAVE_SLOTS.get(o)
    if spec is None:
        names = o.tensor_params + o.list_params
        spec = _SAVE_SLOTS[o] = (frozenset(i for i, n in enumerate(names) if n in o.saves),
                                 "result" in o.saves)
    return spec


def record(o, entry, arrays, inputs, outputs, name=None):
    """Attach a node for op `o` (None for apply_function) to its floating outputs."""
    if o is not None:
        if name is None:
            name = o.node if o.node.__class__ is str else o.node(arrays, inputs)
        saves = o.saves
        keep_int = o.name in _NUMBER_EDGE_OPS
    else:
        saves = None
        keep_int = False
    cls = _node_classes.get(name)
    if cls is None:
        cls = node_class(name)
    node = cls.__new__(cls)
    node._entry = entry
    node._arrays = arrays if arrays.__class__ is tuple else tuple(arrays)
    node._nout = len(outputs)
    node._x = None
    save_slots, save_result = _save_slots(o) if saves else (None, False)
    edges, diff, saved = [], [], []
    counts = None
    for slot, t in inputs:
        if arrays[slot].__class__ is tuple:
            counts = counts or {}
            j = counts[slot] = counts.get(slot, -1) + 1
            key = (slot, j)
        else:
            key = _SLOT_KEYS[slot] if slot < 32 else (slot, None)
        if t._gver is not None:
            t._refresh_grad_fn()
        if t._requires_grad:
            diff.append((key, len(edges)))
            fn = t._grad_fn
            edges.append((fn, t._output_nr) if fn is not None else (accumulator(t), 0))
        elif keep_int or t.dtype.is_floating_point or t.dtype.is_complex:
            edges.append(_NO_EDGE)
        if saves is None:
            box = t._verbox
            saved.append((key, box, box[0], t, False))     # checked if the backward reads it
        elif save_slots and slot in save_slots:
            box = t._verbox
            saved.append((key, box, box[0], t, True))      # declared: always checked
    if keep_int and len(edges) < 2:
        edges.append(_NO_EDGE)      # the wrapped Python number of `x * 2`
        if o.name in ("mul", "div"):
            # torch saves that number for the gradient: a second backward through it raises
            saved.append(_NUMBER_SAVED)
    node.next_functions = tuple(edges)
    node._diff = tuple(diff)
    # numbered after its inputs' nodes (a stale view's history is regenerated above): every edge
    # points at a lower number, so descending numbers are a topological order (engine.py)
    node._seq = next(_counter)
    i = 0
    for out in outputs:
        dt = out.dtype
        if dt.is_floating_point or dt.is_complex:
            out._requires_grad = True
            out._grad_fn = node
            out._output_nr = i
            if save_result:
                box = out._verbox
                saved.append((("result", i), box, box[0], weakref.ref(out), True))
        i += 1
    node._saved = tuple(saved) if saved else ()
    if _hook_state.depth:
        _pack_saved(node, outputs)
    if anomaly_mode._enabled:
        anomaly_mode.remember_forward(node)
    return node


_NO_EDGE = (None, 0)
_NUMBER_SAVED = (("number", None), [0], 0, None, True)


# -- backward functions ------------------------------------------------------------------------

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
        return _ALL
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
    if should_record(None, inputs):
        name = _DOUBLE_BACKWARD_NAMES.get(type(node).__name__, "MulBackward0")
        record(None, entry, values, inputs, outs, name=name)
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
    if isinstance(fn, AccumulateGrad):
        # a stand-in for the leaf: gradients reach the leaf's own AccumulateGrad
        t._accumulator = weakref.ref(fn)
    else:
        t._grad_fn, t._output_nr = fn, nr
    return t


def _op_of(node):
    from ..ops._registry import OPS
    for o in OPS.values():
        for e in o.cache.values():
            if e is node._entry:
                return o
    return None


def _saved_attribute(node, pname):
    """grad_fn._saved_<name>: the tensor the backward reads for parameter `name` (or result)."""
    from .._tensor import Tensor
    saved = node._saved
    if saved is _FREED:
        node._check_saved()
    o = _op_of(node)
    if pname == "result":
        for item in saved:
            if item[0][0] == "result":
                t = item[3]()
                if t is not None:
                    return t
    names = (o.tensor_params + o.list_params) if o is not None else ()
    if pname == "self" and names:
        pname = names[0]     # torch calls the first argument self
    for item in saved:
        slot = item[0][0]
        if isinstance(slot, int) and slot < len(names) and names[slot] == pname:
            return item[3]
    if node._arrays is not None and pname in names:
        slot = names.index(pname)
        v = node._arrays[slot]
        if v is not None and not isinstance(v, tuple):
            return Tensor._from_value(v)
    raise AttributeError("'%s' object has no attribute '_saved_%s'" % (type(node).__name__, pname))


# -- in-place rebasing and hooks ---------------------------------------------------------------

def rebase_inplace(t, result):
    """After `t.op_(...)` computed `result` out of place, t's history becomes the op's node
    (torch's rebase_history); a write through a view records CopySlices on the base. Called
    before the write, so a refused in-place op leaves the tensor untouched."""
    node = result._grad_fn
    if node is None:
        return
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    # a differentiable view (made by a view op); .detach()/.data aliases share memory only
    base = t._base if t._gver is not None else None
    if base is not None and base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    multi = t.__dict__.get("_multi_output") if base is not None else None
    if multi is not None:   # an output of split/unbind/chunk (set in Tensor._make_view_of)
        raise RuntimeError(("Output %d of %s is a view and is being modified inplace. " % multi[:2] if multi[2] else
                            "A view was created in no_grad mode and is being modified inplace with grad mode "
                            "enabled. ") + "This view is the output of a function that returns multiple views. "
                           "Such functions do not allow the output views to be modified inplace. You should "
                           "replace the inplace operation by an out-of-place one.")
    own = _ran_on(node, t)
    _rebase_saved(node, t, result, own)
    if t._retains_grad and t._grad_fn is not None:
        _move_retained(t, t._grad_fn, node, result._output_nr)
    if base is not None and base is not t:
        if own:
            _copy_slices_from(node, base, t)
        else:
            _copy_slices(base, t, result)
    t._grad_fn = node
    t._output_nr = result._output_nr
    t._requires_grad = True


def _ran_on(node, t):
    """Whether the in-place op's node took t itself as its first argument."""
    saved = node._saved
    if saved and saved is not _FREED:
        for item in saved:
            if item[0] == (0, None) and item[3] is t:
                return True
    arrays = node._arrays
    if not arrays:
        return False
    if t._base is None:
        current = t._data if t._host is None else None
    else:
        current = t._data if t._cver == t._vbox[0] else None   # storage version: cache is fresh
    return current is not None and arrays[0] is current


def _rebase_saved(node, t, result, own):
    """The in-place op's own snapshot of t is safe; its saved result is t after the write."""
    saved = node._saved
    if not saved or saved is _FREED:
        return
    box, after = t._verbox, t._verbox[0] + 1
    rbox = result._verbox
    out = []
    for item in saved:
        if own and item[0] == (0, None) and item[1] is box:
            continue
        if item[1] is rbox:
            item = (item[0], box, after, weakref.ref(t), item[4])
        out.append(item)
    node._saved = tuple(out)


def _move_retained(t, old, new, nr):
    x = old._x
    if x is None:
        return
    keep = []
    for item in x.retained:
        if item[1]() is t:
            new._extra().retained.append((nr, item[1]))
        else:
            keep.append(item)
    x.retained[:] = keep


def _copy_slices_from(node, base, view):
    """torch's CopySlices: the base's new value is base.at[view].set(op(base[view], *others)),
    with the op's other edges; its first edge is the base's previous history."""
    from .. import _storage as S
    from ..ops._registry import _Entry
    root_value = base._value()
    geometry = (tuple(root_value.shape), view._shape, view._stride, view._offset, view.dtype.np)
    entry = node._entry
    key = ("copy_slices",) + geometry
    cs = entry.bwd.get(key)
    if cs is None:
        read = S.strided_reader(*geometry)
        same = jnp.issubdtype(root_value.dtype, jnp.complexfloating) == \
            jnp.issubdtype(view.dtype.np, jnp.complexfloating)
        write = S._writer(geometry[0], geometry[1], geometry[2], geometry[3], same)
        op_fn = entry.fn

        def copy_slices(root, *rest):
            new = op_fn(read(root), *rest)
            return write(root, new)
        cs = entry.bwd[key] = _Entry(copy_slices)
    out = _new_node(node_class("CopySlices"))
    out._entry = cs
    out._arrays = (root_value,) + tuple(node._arrays[1:])
    base_edge = edge(base)
    out.next_functions = (base_edge,) + tuple(node.next_functions[1:])
    diff = [((0, None), 0)] if base_edge[0] is not None else []
    diff.extend(d for d in node._diff if d[0][0] != 0)
    out._diff = tuple(diff)
    # what the op saved of its other arguments (and its result, already moved to the view)
    out._saved = tuple(item for item in node._saved if item[0][0] != 0)
    base._grad_fn = out
    base._output_nr = 0
    base._requires_grad = True


def _copy_slices(base, view, result):
    """CopySlices for a write whose value came from elsewhere (not an op on the view itself)."""
    from .. import _storage as S
    from ..ops._registry import _Entry
    root_value = base._value()
    geometry = (tuple(root_value.shape), view._shape, view._stride, view._offset)
    key = ("copy_slices_value",) + geometry
    entry = _GENERIC_CS.get(key)
    if entry is None:
        same = jnp.issubdtype(root_value.dtype, jnp.complexfloating) == \
            jnp.issubdtype(view.dtype.np, jnp.complexfloating)
        entry = _GENERIC_CS[key] = _Entry(S._writer(*geometry, same))
    out = _new_node(node_class("CopySlices"))
    out._entry = entry
    out._arrays = (root_value, result._value())
    be, re_ = edge(base), edge(result)
    out.next_functions = (be, re_)
    out._diff = tuple(d for d in ((((0, None), 0) if be[0] is not None else None),
                                  (((1, None), 1) if re_[0] is not None else None)) if d is not None)
    base._grad_fn = out
    base._output_nr = 0
    base._requires_grad = True


_GENERIC_CS = {}


def register_tensor_hook(t, hook):
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._gver is not None:
        t._refresh_grad_fn()
    if t._grad_fn is None:
        node, nr = accumulator(t), 0
    else:
        node, nr = t._grad_fn, t._output_nr
    hooks = node._extra().tensor_pre_hooks
    item = (nr, hook)
    hooks.append(item)
    return _Handle(hooks, item)


def retain(t):
    """Tensor.retain_grad on a non-leaf: its gradient is stored in .grad during backward."""
    if t._gver is not None:
        t._refresh_grad_fn()
    node = t._grad_fn
    retained = node._extra().retained
    for _, ref in retained:
        if ref() is t:
            return
    retained.append((t._output_nr, weakref.ref(t)))


# -- saved tensor hooks, multi-grad hooks (torch.autograd.graph's public helpers) ---------------

class _HookState(threading.local):
    depth = 0           # how many saved_tensors_hooks are active in this thread
    stack = ()
    disabled = None     # the message of an active disable_saved_tensors_hooks


_hook_state = _HookState()


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) is called for every tensor a node saves for backward
    and unpack_hook(packed) when the backward uses it. Differs from torch: jtorch's backward
    recomputes from a node's inputs, so the unpacked value of a saved *input* is what the backward
    uses, while an unpacked saved *result* (exp, tanh, sigmoid ...) is unpacked but not used; and
    a node packs its inputs in argument order (torch's order follows the derivative formula)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hook_state.disabled is not None:
            raise RuntimeError(_hook_state.disabled)
        _hook_state.stack = _hook_state.stack + ((self.pack_hook, self.unpack_hook),)
        _hook_state.depth += 1
        return self

    def __exit__(self, *exc):
        _hook_state.stack = _hook_state.stack[:-1]
        _hook_state.depth -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device for backward."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return (t.device, t.detach().cpu() if t.device.type != "cpu" else t)

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside, registering saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.prev = _hook_state.disabled
        _hook_state.disabled = self.error_message

    def __exit__(self, *exc):
        _hook_state.disabled = self.prev


_PACKED_MARK = (("packed", None), [0], 0, None, True)   # frees the node after a backward


def _pack_saved(node, outputs):
    """Call the active pack hook on what the node saves; the packed objects replace the saved
    tensors (and their version checks, as in torch)."""
    pack, unpack = _hook_state.stack[-1]
    saved = node._saved
    needs = None
    packed, keep = [], []
    for item in saved:
        key, ref = item[0], item[3]
        if ref is None:
            keep.append(item)
            continue
        if not item[4]:
            if needs is None:
                needs = node._needs()
            if needs is not _ALL and key not in needs:
                keep.append(item)
                continue
        t = ref() if isinstance(ref, weakref.ref) else ref
        if t is not None:
            packed.append((key, pack(t)))
    if not packed:
        return
    node._extra().packed = (unpack, packed)
    keep.append(_PACKED_MARK)
    node._saved = tuple(keep)


def _unpacked_arrays(node, x):
    from .._tensor import Tensor
    unpack, packed = x.packed
    arrays = list(node._arrays)
    for key, obj in packed:
        t = unpack(obj)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result "
                            "of type %s" % type(t).__name__)
        if key[0] != "result":
            _set_slot(arrays, key, t._value())
    return tuple(arrays)


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """mode="all": fn(grads) once per backward that reaches any of tensors, with None for those it
    did not reach (called when that backward finishes); mode="any": fn(grad) on the first."""
    from . import engine
    if mode not in ("all", "any"):
        raise ValueError("Expects mode to be one of ('all', 'any') but got %s" % mode)
    tensors = tuple(tensors)
    state = {}

    def make(i):
        def hook(g):
            run = engine.current_run()
            if state.get("run") is not run:
                state["run"], state["grads"], state["fired"] = run, [None] * len(tensors), False
                if mode == "all":
                    grads = state["grads"]
                    engine.queue_callback(lambda: fn(grads))
            if mode == "all":
                state["grads"][i] = g
            elif not state["fired"]:
                state["fired"] = True
                fn(g)
            return None
        return hook
    handles = [t.register_hook(make(i)) for i, t in enumerate(tensors) if t.requires_grad]
    return _MultiHandle(handles)


class _MultiHandle:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def increment_version(tensor):
    """Mark tensor as modified in place (its saved copies then fail torch's version check)."""
    for t in (tensor if isinstance(tensor, (list, tuple)) else (tensor,)):
        t._verbox[0] += 1
