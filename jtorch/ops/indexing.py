"""Indexing: __getitem__/__setitem__ (basic indexing makes views, advanced indexing copies),
index_select, gather, scatter, scatter_add, masked_fill, masked_select, nonzero, take, index_add."""
import builtins

import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from . import _promotion as P
from . import _views as V
from ._registry import METHODS, op


# -- normalising an index ------------------------------------------------------------------------

def _is_basic(item):
    return item is None or item is Ellipsis or isinstance(item, slice) or \
        (isinstance(item, (int, np.integer)) and not isinstance(item, (builtins.bool, np.bool_)))


def _expand_ellipsis(index, ndim):
    consumed = builtins.sum(i.dim() if _is_bool_mask(i) else 1
                            for i in index if i is not None and i is not Ellipsis)
    if builtins.sum(1 for i in index if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    out = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(i)
    return out


def _is_bool_mask(i):
    from .._tensor import Tensor
    return isinstance(i, Tensor) and i.dtype is D.bool


def _normalise_basic(index, shape):
    """Ints and slices resolved against the shape: ints stay ints, slices become (start, stop, step)."""
    out, d = [], 0
    for item in _expand_ellipsis(index, len(shape)):
        if item is None:
            out.append(None)
            continue
        if d >= len(shape):
            raise IndexError("too many indices for tensor of dimension %d" % len(shape))
        n = shape[d]
        if isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, step = item.indices(n)
            stop = builtins.max(stop, start)
            out.append((start, stop, step))
        else:
            i = int(item)
            if not -n <= i < n:
                raise IndexError("index %d is out of bounds for dimension %d with size %d" % (i, d, n))
            out.append(i % n)
        d += 1
    return tuple(out)


def _basic_meta(shape, stride, offset, index):
    return V.basic_index(shape, stride, offset, index)


def _apply_basic(x, index):
    jidx = tuple(i if (i is None or isinstance(i, int)) else slice(*i) for i in index)
    return x[jidx]


def _basic_node_name(index):
    if builtins.any(isinstance(i, int) for i in index):
        return "SelectBackward0"
    if builtins.any(isinstance(i, tuple) for i in index):
        return "SliceBackward0"
    if builtins.any(i is None for i in index):
        return "UnsqueezeBackward0"
    return "AliasBackward0"


_BASIC_OPS = {}


def _basic_op(name):
    """One view op per grad_fn name, so printed grad_fns read as torch's."""
    if name not in _BASIC_OPS:
        def impl(input, index):
            return _apply_basic(input, index)
        impl.__name__ = "_index_" + name
        _BASIC_OPS[name] = op(view=_basic_meta, function=False, method=False, node=name, saves=())(impl)
    return _BASIC_OPS[name]


# -- advanced indexing -----------------------------------------------------------------------------

def _advanced_parts(self, index):
    """The index as a static template plus the index arrays (bool masks turned into int indices)."""
    from .._tensor import Tensor
    template, arrays = [], []
    index = _expand_ellipsis(index, self.dim())
    dim = 0
    for item in index:
        if item is None:
            template.append(None)
            continue
        if isinstance(item, slice):
            template.append(("slice", item.start, item.stop, item.step))
            dim += 1
            continue
        if isinstance(item, (builtins.bool, np.bool_)):
            item = Tensor._from_value(jnp.asarray(item))
        if isinstance(item, (list, tuple, np.ndarray)):
            from .creation import tensor
            item = tensor(item)
        if isinstance(item, Tensor):
            if item.dtype is D.bool or item.dtype is D.uint8:
                mask = np.asarray(item._value()).astype(builtins.bool)
                sub = self._shape[dim:dim + mask.ndim]
                if mask.shape != tuple(sub):
                    raise IndexError("The shape of the mask %s at index %d does not match the shape of the "
                                     "indexed tensor %s at index %d" % (list(mask.shape), 0, list(sub), dim))
                for nz in np.nonzero(mask):
                    template.append(("array", len(arrays)))
                    arrays.append(Tensor._from_value(jnp.asarray(nz, dtype=jnp.int64), device=self._device))
                dim += mask.ndim
                continue
            if item.dtype.is_floating_point or item.dtype.is_complex:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            value = item._value()
            n = self._shape[dim] if dim < len(self._shape) else 0
            concrete = _maybe_concrete(value)
            if concrete is not None and concrete.size:
                bad = concrete[(concrete >= n) | (concrete < -n)]
                if bad.size:
                    raise IndexError("index %d is out of bounds for dimension %d with size %d"
                                     % (int(bad.reshape(-1)[0]), dim, n))
            template.append(("array", len(arrays)))
            arrays.append(item)
            dim += 1
            continue
        if isinstance(item, (int, np.integer)):
            n = self._shape[dim]
            if not -n <= item < n:
                raise IndexError("index %d is out of bounds for dimension %d with size %d" % (item, dim, n))
            template.append(("int", int(item)))
            dim += 1
            continue
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                         "are valid indices (got %s)" % type(item).__name__)
    if dim > self.dim():
        raise IndexError("too many indices for tensor of dimension %d" % self.dim())
    return tuple(template), arrays


def _maybe_concrete(value):
    try:
        return np.asarray(value)
    except Exception:
        return None


def _jax_index(template, arrays):
    out = []
    for t in template:
        if t is None:
            out.append(None)
        elif t[0] == "slice":
            out.append(slice(t[1], t[2], t[3]))
        elif t[0] == "int":
            out.append(t[1])
        else:
            out.append(arrays[t[1]])
    return tuple(out)


@op(tensors="input", lists="indices", function=False, method=False, node="IndexBackward0", saves=())
def _index(input, indices, template):
    return input[_jax_index(template, indices)]


@op(tensors="input values", lists="indices", function=False, method=False, node="IndexPutBackward0",
    saves=())
def _index_put(input, values, indices, template, accumulate=False):
    idx = _jax_index(template, indices)
    v = jnp.asarray(values).astype(input.dtype)
    return input.at[idx].add(v) if accumulate else input.at[idx].set(v)


def getitem(self, index):
    if not isinstance(index, tuple):
        index = (index,)
    if builtins.all(_is_basic(i) for i in index):
        norm = _normalise_basic(index, self._shape)
        return _basic_op(_basic_node_name(norm))(self, norm)
    template, arrays = _advanced_parts(self, index)
    return _index(self, arrays, template)


def setitem(self, index, value):
    from .._tensor import Tensor
    if not isinstance(index, tuple):
        index = (index,)
    if isinstance(value, (list, tuple, np.ndarray)):
        from .creation import tensor
        value = tensor(value, dtype=self.dtype)
    if builtins.all(_is_basic(i) for i in index):
        norm = _normalise_basic(index, self._shape)
        template = tuple(None if i is None else ("int", i) if isinstance(i, int) else ("slice",) + i
                         for i in norm)
        arrays = []
    else:
        template, arrays = _advanced_parts(self, index)
    self._inplace_update(_index_put(self, value, arrays, template))


def index_put_(self, indices, values, accumulate=False):
    template, arrays = _advanced_parts(self, tuple(indices))
    self._inplace_update(_index_put(self, values, arrays, template, accumulate))
    return self


def index_put(self, indices, values, accumulate=False):
    template, arrays = _advanced_parts(self, tuple(indices))
    return _index_put(self, values, arrays, template, accumulate)


METHODS.update(__getitem__=getitem, __setitem__=setitem, index_put_=index_put_, index_put=index_put)


# -- named indexing ops ----------------------------------------------------------------------------

def _check_index_dtype(index, name):
    if index.dtype not in (jnp.int64, jnp.int32):
        raise RuntimeError("%s(): Expected dtype int64 for index" % name)


@op(tensors="input index", node="IndexSelectBackward0")
def index_select(input, dim, index):
    _check_index_dtype(index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return jnp.take(input, index.reshape(-1), axis=V.wrap(dim, input.ndim)) if input.ndim else input


@op(tensors="input index", node="GatherBackward0")
def gather(input, dim, index, *, sparse_grad=False):
    _check_index_dtype(index, "gather")
    d = V.wrap(dim, input.ndim)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return jnp.take_along_axis(input, index, axis=d)


def _scatter_indices(index, dim):
    grids = jnp.meshgrid(*[jnp.arange(s) for s in index.shape], indexing="ij")
    grids[dim] = index
    return tuple(grids)


@op(tensors="input index src", promote=P.keep, inplace=True, node="ScatterBackward0")
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    d = V.wrap(dim, input.ndim)
    idx = _scatter_indices(index, d)
    if src is None:
        src = value
    if hasattr(src, "shape") and src.ndim:
        src = src[tuple(slice(0, s) for s in index.shape)]
    src = jnp.asarray(src).astype(input.dtype)
    if reduce in ("add", "sum"):
        return input.at[idx].add(src)
    if reduce in ("multiply", "prod"):
        return input.at[idx].multiply(src)
    return input.at[idx].set(src)


@op(tensors="input index src", promote=P.keep, inplace=True, node="ScatterAddBackward0")
def scatter_add(input, dim, index, src):
    d = V.wrap(dim, input.ndim)
    src = src[tuple(slice(0, s) for s in index.shape)]
    return input.at[_scatter_indices(index, d)].add(src.astype(input.dtype))


@op(tensors="input index source", promote=P.keep, inplace=True, node="IndexAddBackward0")
def index_add(input, dim, index, source, *, alpha=1):
    d = V.wrap(dim, input.ndim)
    idx = (slice(None),) * d + (index,)
    return input.at[idx].add((alpha * source).astype(input.dtype))


@op(tensors="input index source", promote=P.keep, inplace=True, node="IndexCopyBackward0")
def index_copy(input, dim, index, source):
    d = V.wrap(dim, input.ndim)
    return input.at[(slice(None),) * d + (index,)].set(source.astype(input.dtype))


@op(tensors="input index", promote=P.keep, inplace=True, node="IndexFillBackward0")
def index_fill(input, dim, index, value):
    d = V.wrap(dim, input.ndim)
    return input.at[(slice(None),) * d + (index,)].set(jnp.asarray(value).astype(input.dtype))


@op(tensors="input mask value", promote=P.keep, inplace=True, node="MaskedFillBackward0")
def masked_fill(input, mask, value):
    if mask.dtype != jnp.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype %s" % mask.dtype)
    return jnp.where(mask, jnp.asarray(value).astype(input.dtype), input)


def masked_select(input, mask):
    """The result's size depends on the mask's values: computed from the concrete mask."""
    from .._tensor import Tensor
    if mask.dtype is not D.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(tuple(input._shape), tuple(mask._shape))
    m = np.broadcast_to(np.asarray(mask._value()), shape)
    x = input.expand(*shape) if tuple(input._shape) != shape else input
    return _index(x, [Tensor._from_value(jnp.asarray(a)) for a in np.nonzero(m)],
                  tuple(("array", i) for i in range(len(shape))))


def nonzero(input, *, out=None, as_tuple=False):
    from .._tensor import Tensor
    nz = np.nonzero(np.asarray(input._value()))
    if as_tuple:
        if not input._shape:
            return (Tensor._from_value(jnp.zeros(int(bool(np.asarray(input._value()))), jnp.int64)),)
        return tuple(Tensor._from_value(jnp.asarray(a, dtype=jnp.int64), device=input._device) for a in nz)
    stacked = np.stack(nz, axis=1) if nz else np.zeros((int(bool(np.asarray(input._value()))), 0))
    return Tensor._from_value(jnp.asarray(stacked, dtype=jnp.int64), device=input._device)


def argwhere(input):
    return nonzero(input)


@op(tensors="input index", node="TakeBackward0")
def take(input, index):
    return jnp.take(input.reshape(-1), index)


def _register():
    from ._registry import TORCH
    for fn in (masked_select, nonzero, argwhere):
        TORCH[fn.__name__] = fn
        METHODS[fn.__name__] = fn


_register()
