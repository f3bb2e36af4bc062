"""torch.autograd.Function: user-defined forward/backward pairs.

`MyFn.apply(*args)` runs `MyFn.forward(ctx, *args)` with grad disabled and, when an input
requires grad, records one node of class `MyFnBackward` (the ctx is that node, as in torch).
The engine calls `MyFn.backward(ctx, *grad_outputs)` with Tensors; with create_graph=True it
runs with grad enabled, so what backward computes is recorded and can be differentiated again.
Unlike the op table's nodes, this backward is Python code run eagerly (it is the user's).
"""
import functools
import weakref

from . import graph as G
from .grad_mode import is_grad_enabled, no_grad


class FunctionCtx:
    """The ctx methods (torch.autograd.function.FunctionCtx)."""

    def save_for_backward(self, *tensors):
        from .._tensor import Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument %d is not a "
                                "Variable" % tensors.index(t))
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._sv_for_forward = tensors

    def mark_dirty(self, *args):
        self._dirty = args

    def mark_non_differentiable(self, *args):
        self._non_differentiable = args

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if getattr(self, "_sv_freed", False):
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        packed = getattr(self, "_sv_packed", None)
        if packed is not None:
            unpack, objs = packed
            return tuple(None if o is None else unpack(o) for o in objs)
        saved = getattr(self, "_sv_versions", None)
        if saved is None:
            return tuple(getattr(self, "_to_save", ()) or ())
        for item in saved:
            if item is not None and item[1][0] != item[2]:
                raise G._modified_error(item, item[1][0], self)
        return tuple(self._to_save)

    saved_variables = saved_tensors


class BackwardCFunction(G.Node, FunctionCtx):
    """The node (and ctx) of a custom Function; subclasses are named <Function>Backward."""
    _forward_cls = None

    def apply(self, *grads):
        return self._forward_cls.backward(self, *grads)

    def _apply(self, cts, create_graph):
        from .._tensor import Tensor
        from ..ops import creation
        materialize = getattr(self, "_materialize_grads", True)
        grads = []
        for c, meta in zip(cts, self._out_meta):
            if c is None:
                if materialize and meta is not None:
                    shape, dtype, device = meta
                    c = creation.zeros(shape, dtype=dtype, device=device)
                grads.append(c)
            else:
                grads.append(c if create_graph else Tensor._from_value(c))
        cls = self._forward_cls
        result = cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = self._n_inputs
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError("function %s returned an incorrect number of gradients (expected %d, "
                                   "got %d)" % (type(self).__name__, n, len(result)))
        out = []
        for (pos, ei), (shape, dtype) in zip(self._diff, self._in_meta):
            g = result[pos[0]]
            if g is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                raise TypeError("expected Tensor or None for gradient %d of %s, got %s"
                                % (pos[0], type(self).__name__, type(g).__name__))
            if g._shape != shape:
                g = _reduce_to(g, shape, type(self).__name__, pos[0])
            if g.dtype is not dtype:
                g = g.to(dtype)
            out.append(g if create_graph else g._value())
        return out

    def _free(self):
        if getattr(self, "_to_save", None):
            self._sv_freed = True

    def _needs(self):
        return G._ALL


def _reduce_to(g, shape, name, index):
    """torch's validate_outputs: a gradient of a broadcast shape is summed down to the input's."""
    gs = tuple(g._shape)
    lead = len(gs) - len(shape)
    ok = lead >= 0 and all(s == 1 or s == gs[lead + i] for i, s in enumerate(shape))
    if not ok:
        raise RuntimeError("Function %s returned an invalid gradient at index %d - got [%s] but expected "
                           "shape compatible with [%s]" % (name, index, ", ".join(map(str, gs)),
                                                           ", ".join(map(str, shape))))
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1)
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    return g.reshape(shape)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """Base class for custom autograd operations (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to "
                                  "use it with forward mode AD.")

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the "
                                  "vmap staticmethod or set generate_vmap_rule=True.")

    generate_vmap_rule = False

    @classmethod
    def apply(cls, *args, **kwargs):
        return _apply(cls, args, kwargs)


def _apply(cls, args, kwargs):
    from .._tensor import Tensor
    node = cls._backward_cls.__new__(cls._backward_cls)
    node.next_functions = ()
    node._entry = node._arrays = None
    node._diff = ()
    node._saved = ()
    node._nout = 1
    node._seq = next(G._counter)
    node._x = None
    tensor_args = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
    executable = is_grad_enabled() and any(a._requires_grad for _, a in tensor_args)
    node.needs_input_grad = tuple(executable and isinstance(a, Tensor) and a._requires_grad for a in args)
    node._n_inputs = len(args)
    custom_setup = cls.setup_context is not Function.setup_context
    with no_grad():
        if custom_setup:
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, outputs)
        else:
            outputs = cls.forward(node, *args, **kwargs)
    if not executable:
        return outputs
    is_tuple = isinstance(outputs, tuple)
    outs = list(outputs) if is_tuple else [outputs]
    edges, diff, in_meta = [], [], []
    for i, a in tensor_args:
        if a._requires_grad:
            diff.append(((i, None), len(edges)))
            in_meta.append((a._shape, a.dtype))
        edges.append(G.edge(a))
    node.next_functions = tuple(edges)
    node._diff = tuple(diff)
    node._seq = next(G._counter)     # after its inputs' nodes (NOTE in graph.record)
    node._in_meta = tuple(in_meta)
    node._nout = len(outs)
    dirty = getattr(node, "_dirty", ())
    non_diff = getattr(node, "_non_differentiable", ())
    inputs_by_id = {id(a): a for _, a in tensor_args}
    meta = []
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            meta.append(None)
            continue
        meta.append((o._shape, o.dtype, o._device))
        is_dirty = any(o is d for d in dirty)
        if is_dirty:
            if o._grad_fn is None and o._requires_grad:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                                   "operation.")
        elif id(o) in inputs_by_id:
            o = outs[k] = o._alias()     # an input returned unchanged becomes a view of it
        if any(o is d for d in non_diff) or not (o.dtype.is_floating_point or o.dtype.is_complex):
            o._requires_grad = False
            o._grad_fn = None
            continue
        o._grad_fn = node
        o._output_nr = k
        o._requires_grad = True
    node._out_meta = tuple(meta)
    to_save = getattr(node, "_to_save", None)
    if to_save:
        items = []
        for t in to_save:
            k = next((k for k, o in enumerate(outs) if o is t), None) if t is not None else None
            if t is None:
                items.append(None)
            elif k is not None:   # a saved output: named after this node in torch's message
                items.append((("result", k), t._verbox, t._verbox[0], weakref.ref(t)))
            else:
                items.append(((None, None), t._verbox, t._verbox[0], t))
        node._sv_versions = tuple(items)
        if G._hook_state.depth:     # saved_tensors_hooks: keep packed objects instead
            pack, unpack = G._hook_state.stack[-1]
            node._sv_packed = (unpack, tuple(None if t is None else pack(t) for t in to_save))
            node._sv_versions = None
    from . import anomaly_mode
    if anomaly_mode._enabled:
        anomaly_mode.remember_forward(node)
    return tuple(outs) if is_tuple else outs[0]


def once_differentiable(fn):
    """The decorated backward runs with grad disabled: its result cannot be differentiated again."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    pass


__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable", "InplaceFunction"]
