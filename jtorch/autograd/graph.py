"""torch.autograd.graph: the tape's nodes, named as PyTorch names them, each backed by a jitted
jax.vjp; and the public helpers of that module (Node, saved_tensors_hooks, ...).

NOTE [The tape]
Every differentiable op run with grad enabled on an input that requires grad records a Node
(`record`). The node keeps the op's compiled entry, the input values the op ran on (JAX values
are immutable, so these are snapshots) and `next_functions` edges to its inputs' nodes, with one
AccumulateGrad per leaf. Its backward recomputes the op's forward inside one cached
`jax.jit(vjp)` per (op, static arguments, which inputs need grad): one XLA call per node, never
an eager pullback (_backward.py). With create_graph=True the same backward runs as a recorded
op, so its result has a history of its own and can be differentiated again. A backward graph
that repeats (a training loop) is compiled whole, once (NOTE [Fused backward] in _fused.py).

Order. Nodes are numbered when recorded, after their inputs' nodes, so every edge points at a
lower number: the engine runs ready nodes highest number first, torch's order, and descending
numbers are a topological order. AccumulateGrad runs as soon as it is ready.

Saved tensors and version counters. Because the node holds snapshots, its gradient is right
even if an input is later written in place; torch instead raises, for the tensors its formula
saved. To raise exactly where torch raises, a node remembers (version box, version) of each
candidate tensor, and at backward time checks only the ones its backward reads:
  * an op may declare `saves=` (names of tensor parameters, "result" for its output): those;
  * otherwise the jaxpr of the jitted backward is dead-code-eliminated once per (op entry,
    which inputs need grad) and the inputs it still reads are the saved ones. That gives
    torch's conditional saving for free: `x * c` saves c (needed for x's gradient) but not x.
A node that saved something refuses a second backward once freed (no retain_graph); a node that
saved nothing (a chain of adds) may run again, as in torch. saved_tensors_hooks pack exactly
these tensors (_saved_hooks.py).

Edges follow torch's next_functions: one per differentiable tensor argument, (None, 0) for a
floating tensor that does not require grad, nothing for integer index/mask tensors, and a
(None, 0) for the Python number of add/sub/mul/div (torch wraps it in a tensor).

In-place ops (_inplace.py) compute out of place, then rebase the tensor's history onto the op's
node before the write (so a refused write leaves the tensor untouched); a write through a view
becomes CopySlices on the base, wrapping the op as torch does, and the views' histories are
regenerated from it when next used (Tensor._refresh_grad_fn, NOTE in _storage.py).
"""
import itertools
import re
import weakref

import jax

from . import anomaly_mode
from . import grad_mode

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


# the rest of torch.autograd.graph, and the tape's pieces kept in their own files
from ._backward import (_set_slot, _make_backward, _analyse_needs, _differentiable_backward,  # noqa: E402,F401
                        _saved_input)
from ._inplace import rebase_inplace, register_tensor_hook, retain  # noqa: E402,F401
from ._saved_hooks import (saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks,  # noqa: E402,F401
                           register_multi_grad_hook, increment_version, _hook_state, _pack_saved,
                           _unpacked_arrays)
