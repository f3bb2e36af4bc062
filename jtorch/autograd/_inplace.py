"""In-place ops under autograd (NOTE [The tape] in graph.py): rebasing a tensor's history onto
the in-place op's node, CopySlices for writes through views, and the per-tensor hooks
(register_hook, retain_grad) that live on nodes."""
import weakref

import jax.numpy as jnp

from .graph import _FREED, _Handle, accumulator, edge, node_class, _new_node

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


