"""Indexing: __getitem__/__setitem__ (basic indexing makes views, advanced indexing copies),
index_select, gather, scatter, scatter_add, scatter_reduce, index_add/copy/fill, masked_fill,
masked_select, masked_scatter, nonzero, take, take_along_dim, put, where(cond).

NOTE [Index bounds]: JAX clamps out-of-range gather indices and drops out-of-range scatters,
torch raises. Every op here checks concrete index values before calling JAX (the `check=` of
its declaration); only inside jtorch.compile, where index values are tracers, is there nothing
to check."""
import builtins
import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from . import _promotion as P
from . import _views as V
from ._registry import METHODS, TORCH, op
from .shape import plain


def _concrete(t):
    """A tensor's value as numpy, or None while it is being traced."""
    try:
        return np.asarray(t._value())
    except Exception:
        return None


def _as_index_tensor(item, device):
    from .._tensor import Tensor
    from .creation import tensor
    if isinstance(item, Tensor):
        return item
    if isinstance(item, np.ndarray):
        return tensor(item, device=device)
    return tensor(item, device=device)


# -- parsing an index as torch's applySlicing does -------------------------------------------------

def _sequence_as_tuple(seq):
    """torch's legacy rule: a list holding slices, None, Ellipsis, sequences or tensors is a tuple."""
    from .._tensor import Tensor
    if len(seq) >= 32:
        return False
    return builtins.any(x is None or x is Ellipsis or isinstance(x, (slice, list, tuple, Tensor, np.ndarray))
                        for x in seq)


def _parse(self, index):
    """Split an index into the basic part, applied first as a view, and the advanced part.

    Returns (basic, adv): `basic` a tuple of ints, (start, stop, step) and None for V.basic_index;
    `adv` a list with one entry per dimension of that view, None or an int64 index Tensor, or
    None when there are no index tensors (torch's applySlicing, then index())."""
    from .._tensor import Tensor
    if isinstance(index, list) and _sequence_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; use "
                      "x[tuple(seq)] instead of x[seq].", UserWarning, stacklevel=3)
        index = tuple(index)
    if not isinstance(index, tuple):
        index = (index,)
    items = []
    for item in index:
        if isinstance(item, (builtins.bool, np.bool_)):
            item = Tensor._from_value(jnp.asarray(builtins.bool(item)))
        elif isinstance(item, (list, tuple, np.ndarray)):
            item = _as_index_tensor(item, self._device)
        elif isinstance(item, Tensor) and item.dim() == 0 and not (item.dtype is D.bool or item.dtype is D.uint8) \
                and not (item.dtype.is_floating_point or item.dtype.is_complex):
            v = _concrete(item)
            if v is not None:
                item = int(v)
        elif not (item is None or item is Ellipsis or isinstance(item, (slice, Tensor, int, np.integer))):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got %s)" % type(item).__name__)
        if isinstance(item, Tensor) and (item.dtype.is_floating_point or item.dtype.is_complex):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        items.append(item)
    if builtins.sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = builtins.sum(_dims_used(i) for i in items)
    shape = self._shape
    if consumed > len(shape):
        raise IndexError("too many indices for tensor of dimension %d" % len(shape))
    basic, adv, d, any_adv, k_adv = [], [], 0, False, 0
    for item in items:
        if item is Ellipsis:
            for _ in range(len(shape) - consumed):
                basic.append((0, shape[d], 1))
                adv.append(None)
                d += 1
        elif item is None:
            basic.append(None)
            adv.append(None)
        elif isinstance(item, slice):
            n = shape[d]
            if item.step is not None and int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, step = slice(_int_or_none(item.start), _int_or_none(item.stop),
                                      _int_or_none(item.step)).indices(n)
            basic.append((start, builtins.max(stop, start), step))
            adv.append(None)
            d += 1
        elif isinstance(item, (int, np.integer)):
            n = shape[d]
            i = int(item)
            if not -n <= i < n:
                raise IndexError("index %d is out of bounds for dimension %d with size %d" % (i, d, n))
            basic.append(i % n)
            d += 1
        elif item.dtype is D.bool or item.dtype is D.uint8:
            any_adv = True
            if item.dim() == 0:                     # x[True]: a new dimension, kept or emptied
                basic.append(None)
                adv.append(_index_from_mask(item.reshape(1), self._device)[0])
                continue
            k = item.dim()
            sub = shape[d:d + k]
            if tuple(item._shape) != tuple(sub):
                for j, (a, b) in enumerate(zip(item._shape, sub)):
                    if a != b:
                        raise IndexError("The shape of the mask %s at index %d does not match the shape of the "
                                         "indexed tensor %s at index %d" % (list(item._shape), j, list(shape), d + j))
            for nz in _index_from_mask(item, self._device):
                basic.append((0, shape[d], 1))
                adv.append(nz)
                d += 1
                k_adv += 1
        else:
            any_adv = True
            n = shape[d]
            v = _concrete(item)
            if v is not None and v.size:
                bad = v[(v >= n) | (v < -n)]
                if bad.size:   # torch counts the dimension among the index tensors
                    raise IndexError("index %d is out of bounds for dimension %d with size %d"
                                     % (int(bad.reshape(-1)[0]), k_adv, n))
            basic.append((0, n, 1))
            adv.append(item)
            d += 1
            k_adv += 1
    if any_adv:
        shapes = [tuple(a._shape) for a in adv if a is not None]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes %s"
                             % ", ".join(str(list(sh)) for sh in shapes)) from None
    return tuple(basic), (adv if any_adv else None)


def _int_or_none(x):
    return None if x is None else x.__index__()


def _dims_used(item):
    from .._tensor import Tensor
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, Tensor) and (item.dtype is D.bool or item.dtype is D.uint8):
        return item.dim()
    return 1


def _index_from_mask(mask, device):
    from .._tensor import Tensor
    m = _concrete(mask)
    if m is None:
        raise RuntimeError("indexing with a boolean mask needs a concrete mask; inside jtorch.compile use "
                           "torch.where or masked_fill instead")
    return [Tensor._from_value(jnp.asarray(nz, dtype=jnp.int64), device=device) for nz in np.nonzero(m.astype(bool))]


def _trivial(basic, shape):
    return builtins.all(isinstance(b, tuple) and b == (0, n, 1) for b, n in zip(basic, shape)) \
        and len(basic) <= len(shape)


def _basic_node_name(basic, shape, bare):
    """The grad_fn torch shows: that of the last select/slice/unsqueeze applied (full slices are skipped,
    except for a bare `x[:]`)."""
    if bare is not None:
        return "SliceBackward0" if isinstance(bare, slice) else "AliasBackward0" if bare is Ellipsis else \
            "UnsqueezeBackward0" if bare is None else "SelectBackward0"
    name, d = "AliasBackward0", 0
    for b in basic:
        if b is None:
            name = "UnsqueezeBackward0"
            continue
        if isinstance(b, int):
            name = "SelectBackward0"
        elif b != (0, shape[d], 1):
            name = "SliceBackward0"
        d += 1
    return name


def _basic_meta(shape, stride, offset, index):
    return V.basic_index(shape, stride, offset, index)


def _apply_basic(x, index):
    return x[tuple(i if (i is None or isinstance(i, int)) else slice(*i) for i in index)]


_BASIC_OPS = {}


def _basic_op(name):
    """One view op per grad_fn name, so printed grad_fns read as torch's."""
    if name not in _BASIC_OPS:
        def impl(input, index):
            return _apply_basic(input, index)
        impl.__name__ = "_index_" + name
        _BASIC_OPS[name] = op(view=_basic_meta, function=False, method=False, node=name, saves=())(impl)
    return _BASIC_OPS[name]


def _basic_view(self, basic, bare=()):
    """bare: the index itself when it was not a tuple (x[:] is a SliceBackward0, x[:, :] an alias)."""
    bare = None if bare == () else bare
    return _basic_op(_basic_node_name(basic, self._shape, bare))(self, basic)


def _template(adv):
    return tuple(("slice",) if a is None else ("array", k) for k, a in enumerate(adv))


def _jax_index(template, arrays):
    it = iter(arrays)
    return tuple(slice(None) if t[0] == "slice" else next(it) for t in template)


@op(tensors="input", lists="indices", function=False, method=False, node="IndexBackward0", saves=())
def _index(input, indices, template):
    return input[_jax_index(template, indices)]


@op(tensors="input values", lists="indices", function=False, method=False, node="IndexPutBackward0", saves=())
def _index_put(input, values, indices, template, accumulate=False):
    idx = _jax_index(template, indices)
    target = input[idx].shape
    v = jnp.asarray(values)
    v = v.reshape(_strip_ones(v.shape, len(target)))
    try:
        jnp.broadcast_shapes(v.shape, target)
    except ValueError:
        raise RuntimeError("shape mismatch: value tensor of shape %s cannot be broadcast to indexing result of "
                           "shape %s" % (list(v.shape), list(target))) from None
    v = jnp.broadcast_to(v.astype(input.dtype), target)
    if accumulate:
        return input.at[idx].add(v)
    return set_at(input, v, tuple(indices), lambda arrays: _jax_index(template, arrays))


def set_at(x, v, arrays, build):
    """x.at[build(arrays)].set(v), v of the indexed shape, with torch's gradient: every value gets
    its target's gradient even when indices repeat (JAX's scatter gives it to one of them)."""
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        return x.at[build(arrays)].set(v)

    @jax.custom_vjp
    def f(x, v, arrays):
        return x.at[build(arrays)].set(v)

    def fwd(x, v, arrays):
        return f(x, v, arrays), arrays

    def bwd(arrays, g):
        idx = build(arrays)
        return g.at[idx].set(0), g[idx], None
    f.defvjp(fwd, bwd)
    return f(x, v, arrays)


def getitem(self, index):
    basic, adv = _parse(self, index)
    if adv is None:
        return _basic_view(self, basic, bare=() if isinstance(index, tuple) else
                           index if index is None or index is Ellipsis or isinstance(index, slice) else 0)
    view = self if _trivial(basic, self._shape) else _basic_view(self, basic)
    arrays = [a for a in adv if a is not None]
    return _index(view, arrays, _template(adv))


def setitem(self, index, value):
    from .._tensor import Tensor
    from ..autograd.grad_mode import is_grad_enabled
    if not isinstance(value, (Tensor, int, float, complex, builtins.bool, np.number)):
        raise TypeError("can't assign a %s to a %s" % (type(value).__name__, _legacy(self)))
    basic, adv = _parse(self, index)
    graph = is_grad_enabled() and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if adv is None:
        if graph:
            # torch writes through the view: the base's history becomes CopySlices
            view = _basic_view(self, basic)
            if isinstance(value, Tensor):
                stripped = _strip_ones(value._shape, view.dim())
                # no reshape node when nothing changes: torch's CopySlices edges point at value itself
                view.copy_(value.reshape(stripped) if stripped != tuple(value._shape) else value)
            else:
                view.fill_(value)
            return
        self._inplace_update(_index_put_basic(self, value, basic))
        return
    view = self if _trivial(basic, self._shape) else _basic_view(self, basic)
    arrays = [a for a in adv if a is not None]
    view._inplace_update(_index_put(view, value, arrays, _template(adv)))


def _strip_ones(shape, ndim):
    """torch's setitem drops leading size-one dimensions of the value beyond the target's rank."""
    shape = tuple(shape)
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return shape


@op(tensors="input values", function=False, method=False, node="CopySlices", saves=())
def _index_put_basic(input, values, index):
    view_shape = _apply_basic(input, index).shape
    v = jnp.asarray(values)
    v = v.reshape(_strip_ones(v.shape, len(view_shape)))
    new_shape, _, _ = V.expand(v.shape, (0,) * v.ndim, 0, view_shape)
    idx = tuple(i if isinstance(i, int) else slice(*i) for i in index if i is not None)
    v = jnp.broadcast_to(v, new_shape).astype(input.dtype)
    return input.at[idx].set(v.reshape(input[idx].shape))


def _legacy(t):
    return "torch.%sTensor" % t.dtype._legacy


def index_put_(self, indices, values, accumulate=False):
    if values.dtype is not self.dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got %s for the "
                           "destination and %s for the source." % (self.dtype._legacy, values.dtype._legacy))
    basic, adv = _parse(self, tuple(indices))
    view = self if _trivial(basic, self._shape) else _basic_view(self, basic)
    if adv is None:
        adv = [None] * view.dim()
    view._inplace_update(_index_put(view, values, [a for a in adv if a is not None], _template(adv), accumulate))
    return self


def index_put(input, indices, values, accumulate=False):
    return index_put_(input.clone(), indices, values, accumulate)


METHODS.update(__getitem__=getitem, __setitem__=setitem, index_put_=index_put_, index_put=index_put)
TORCH.update(index_put_=index_put_, index_put=index_put)


# -- named indexing ops ----------------------------------------------------------------------------

def _out_of_bounds(index, n, exc=RuntimeError, fmt="index {i} is out of bounds for dimension {d} with size {n}",
                   dim=0, allow_negative=False):
    """See NOTE [Index bounds]: raise torch's error for the first index outside [0, n) (or [-n, n))."""
    v = _concrete(index)
    if v is None or not v.size:
        return
    bad = v[(v >= n) | (v < (-n if allow_negative else 0))]
    if bad.size:
        raise exc(fmt.format(i=int(bad.reshape(-1)[0]), d=dim, n=n))


def _check_index_select(input, dim, index):
    if index.dtype not in (D.int64, D.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = V.wrap(dim, input.dim())
    _out_of_bounds(index, input._shape[d] if input._shape else 1, IndexError, "index out of range in self")


@op(tensors="input index", node="IndexSelectBackward0", check=_check_index_select)
def index_select(input, dim, index):
    if input.ndim == 0:
        return input
    return jnp.take(input, index.reshape(-1), axis=V.wrap(dim, input.ndim))


def _check_gather(input, dim, index, sparse_grad=False):
    if not index.numel():       # torch checks nothing about an empty index
        return
    if index.dtype is not D.int64 and index.dtype is not D.int32:
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    d = V.wrap(dim, input.dim())
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(index.dim()):
        if k != d and index._shape[k] > (input._shape[k] if input._shape else 1):
            raise RuntimeError("Size does not match at dimension %d expected index %s to be no larger than self %s "
                               "apart from dimension %d" % (k, list(index._shape), list(input._shape), d))
    _out_of_bounds(index, input._shape[d] if input._shape else 1, dim=d)


def _along(index, d, src_shape=None):
    """Index arrays for `input.at[...]` that put index's values along dim d and iota elsewhere."""
    grids = list(jnp.meshgrid(*[jnp.arange(s) for s in index.shape], indexing="ij"))
    grids[d] = index
    return tuple(grids)


@op(tensors="input index", node="GatherBackward0", check=_check_gather)
def gather(input, dim, index, *, sparse_grad=False):
    if not index.size:
        return jnp.zeros(index.shape, input.dtype)
    if input.ndim == 0:
        return input.reshape(index.shape)
    d = V.wrap(dim, input.ndim)
    return input[_along(index, d)]


def _check_scatter(input, dim, index, src=None, value=None, reduce=None, name="scatter"):
    from .._tensor import Tensor
    if index.dtype is not D.int64:
        raise RuntimeError("%s(): Expected dtype int64 for index" % name)
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError("%s(): Expected self.dtype to be equal to src.dtype" % name)
    if reduce is not None and reduce not in ("add", "multiply", "sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    d = V.wrap(dim, input.dim())
    if max(index.dim(), 1) != max(input.dim(), 1) and index.numel():  # torch: a 0-d tensor counts as 1-d
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    src_shape = src._shape if isinstance(src, Tensor) else None
    for k in range(index.dim()):
        if (k != d and index._shape[k] > input._shape[k]) or (src_shape and index._shape[k] > src_shape[k]):
            raise RuntimeError("Expected index %s to be no larger than self %s apart from dimension %d and to be "
                               "no larger than src %s" % (list(index._shape), list(input._shape), d,
                                                          list(src_shape or ())))
    _out_of_bounds(index, input._shape[d] if input._shape else 1, dim=d)


def _scatter_impl(input, dim, index, src, reduce=None):
    d = V.wrap(dim, input.ndim)
    if input.ndim == 0:
        input, index = input.reshape(1), index.reshape(1)
    elif index.ndim == 0:  # a 0-d index into a 1-d input (torch treats it as 1-d)
        index = index.reshape(1)
    idx = _along(index, d)
    if hasattr(src, "ndim") and src.ndim:
        src = src[tuple(slice(0, s) for s in index.shape)]
    src = jnp.broadcast_to(jnp.asarray(src).astype(input.dtype), index.shape)
    if reduce in ("add", "sum"):
        return _accumulate(input, idx, src)
    if reduce in ("multiply", "prod"):
        return _bool_safe(input, lambda x: x.at[idx].multiply(src.astype(x.dtype)))
    return set_at(input, src, (index,), lambda a: _along(a[0], d))


@op(tensors="input index src", inplace=True, node="ScatterBackward0", function=False, method=False,
    check=_check_scatter)
def _scatter_src(input, dim, index, src, *, reduce=None):
    return _scatter_impl(input, dim, index, src, reduce)


@op(tensors="input index value", inplace=True, node="ScatterBackward1", function=False, method=False,
    check=_check_scatter)
def _scatter_value(input, dim, index, value, *, reduce=None):
    return _scatter_impl(input, dim, index, value, reduce).reshape(input.shape)


def _scatter_args(src, value):
    from .._tensor import Tensor
    if src is not None and value is not None:
        raise TypeError("scatter() received an invalid combination of arguments - got both src and value")
    if src is None:
        src = value
    return isinstance(src, Tensor), src


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    is_tensor, src = _scatter_args(src, value)
    fn = _scatter_src if is_tensor else _scatter_value
    return fn(input, dim, index, src, reduce=reduce, out=out)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    is_tensor, src = _scatter_args(src, value)
    return METHODS["_scatter_src_" if is_tensor else "_scatter_value_"](self, dim, index, src, reduce=reduce)


TORCH["scatter"] = METHODS["scatter"] = scatter
METHODS["scatter_"] = scatter_


def _check_scatter_add(input, dim, index, src):
    _check_scatter(input, dim, index, src, name="scatter_add")


@op(tensors="input index src", inplace=True, node="ScatterAddBackward0", check=_check_scatter_add)
def scatter_add(input, dim, index, src):
    return _scatter_impl(input, dim, index, src, "add")


def _check_scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got %s" % reduce)
    _check_scatter(input, dim, index, src, name="scatter_reduce")


@op(tensors="input index src", inplace=True, node="ScatterReduceBackward0", check=_check_scatter_reduce)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if input.dtype == jnp.bool_:   # computed on 0/1 integers: sum/amax are or, prod/amin are and
        out = _scatter_reduce(input.astype(jnp.int32), dim, index, src.astype(jnp.int32), reduce, include_self)
        return out.astype(jnp.bool_)
    return _scatter_reduce(input, dim, index, src, reduce, include_self)


def _bool_safe(x, fn):
    return fn(x.astype(jnp.int32)).astype(jnp.bool_) if x.dtype == jnp.bool_ else fn(x)


def _scatter_reduce(input, dim, index, src, reduce, include_self):
    d = V.wrap(dim, input.ndim)
    idx = _along(index, d)
    src = src[tuple(slice(0, s) for s in index.shape)].astype(input.dtype)
    floating = jnp.issubdtype(input.dtype, jnp.inexact)
    if reduce in ("sum", "mean"):
        ident = 0
    elif reduce == "prod":
        ident = 1
    elif reduce == "amax":
        ident = -jnp.inf if floating else jnp.iinfo(input.dtype).min
    else:
        ident = jnp.inf if floating else jnp.iinfo(input.dtype).max
    base = input if include_self else input.at[idx].set(ident)
    if reduce in ("sum", "mean"):
        out = base.at[idx].add(src)
    elif reduce == "prod":
        out = _scatter_prod(input, d, index, src, include_self)
    elif reduce == "amax":
        out = base.at[idx].max(src)
    else:
        out = base.at[idx].min(src)
    if reduce == "mean":
        count = jnp.full(input.shape, 1 if include_self else 0, jnp.int64).at[idx].add(1)
        safe = jnp.maximum(count, 1).astype(input.dtype)
        out = jnp.where(count > 0, out / safe if floating else out // safe, input)
    return out


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 4))
def _scatter_prod(input, d, index, src, include_self):
    """scatter_reduce's prod with torch's gradient: jax differentiates a scatter-multiply only for
    unique indices, so the backward is torch's formula (exclusive products, a single zero in a
    group getting the product of the others)."""
    idx = _along(index, d)
    return (input if include_self else input.at[idx].set(1)).at[idx].multiply(src)


def _scatter_prod_fwd(input, d, index, src, include_self):
    out = _scatter_prod(input, d, index, src, include_self)
    return out, (input, index, src, out)


def _scatter_prod_bwd(d, include_self, res, g):
    input, index, src, result = res
    idx = _along(index, d)
    masked_self = jnp.where(input == 0, 1, input)
    grad_self = g * _scatter_prod(masked_self, d, index, src, include_self) / masked_self
    src_zero = src == 0
    num_zeros = jnp.zeros(input.shape, input.dtype).at[idx].add(src_zero.astype(input.dtype))[idx]
    single = src_zero & (num_zeros == 1)
    masked_src_result = _scatter_prod(input, d, index, jnp.where(single, 1, src), include_self)
    grad_src = jnp.where(single, (g * masked_src_result)[idx], (g * result)[idx] / jnp.where(src_zero, 1, src))
    if not include_self:
        grad_self = grad_self.at[idx].set(0)
    return grad_self, None, grad_src


_scatter_prod.defvjp(_scatter_prod_fwd, _scatter_prod_bwd)


def _check_index_nd(input, dim, index, name, src=None, src_name="source", exc=RuntimeError,
                    fmt="index {i} is out of bounds for dimension {d} with size {n}", value=None):
    if name == "index_fill_" and isinstance(value, complex) and not input.is_complex():
        raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is not supported")
    if index.dtype not in (D.int64, D.int32):
        raise RuntimeError("%s(): Expected dtype int32/int64 for index" % name)
    if index.dim() > 1:
        if name == "index_fill_":
            raise RuntimeError("Index has to be a vector/scalar")
        raise IndexError("%s(): Index is supposed to be a vector" % name)
    d = V.wrap(dim, input.dim())
    n = input._shape[d] if input._shape else 1
    if src is not None:
        if src.dtype is not input.dtype:
            raise RuntimeError("%s(): self (%s) and %s (%s) must have the same scalar type"
                               % (name, input.dtype._legacy, src_name, src.dtype._legacy))
        if src.dim() and src._shape[d if src.dim() > d else 0] != index.numel():
            raise RuntimeError("%s(): Number of indices (%d) should be equal to %s.size(dim) (%d)"
                               % (name, index.numel(), src_name, src._shape[d]))
    _out_of_bounds(index, n, exc, fmt, d)


def _idx(d, index):
    return (slice(None),) * d + (index.reshape(-1),)


def _as_1d(fn):
    """index_add/index_copy/index_fill on a 0-d tensor: torch treats it as one element."""
    def impl(input, dim, index, *rest, **kw):
        if input.ndim:
            return fn(input, dim, index, *rest, **kw)
        rest = tuple(r.reshape(-1) if hasattr(r, "ndim") and r.ndim == 0 else r for r in rest)
        return fn(input.reshape(1), 0, index, *rest, **kw).reshape(())
    return impl


@op(tensors="input index source", inplace=True, node="IndexAddBackward0",
    check=lambda input, dim, index, source, alpha=1: _check_index_nd(input, dim, index, "index_add_", source))
def index_add(input, dim, index, source, *, alpha=1):
    return _as_1d(_index_add_impl)(input, dim, index, source, alpha=alpha)


def _index_add_impl(input, dim, index, source, alpha=1):
    d = V.wrap(dim, input.ndim)
    src = (alpha * source).reshape(input[_idx(d, index)].shape)
    return _accumulate(input, _idx(d, index), src)


def _accumulate(x, idx, v):
    """x.at[idx].add(v); for bool tensors a logical or, as torch's sum of bools."""
    if x.dtype == jnp.bool_:
        return x.astype(jnp.int32).at[idx].add(v.astype(jnp.int32)).astype(jnp.bool_)
    return x.at[idx].add(v.astype(x.dtype))


@op(tensors="input index source", inplace=True, node="IndexCopyBackward0",
    check=lambda input, dim, index, source: _check_index_nd(
        input, dim, index, "index_copy_", source, exc=IndexError,
        fmt="index_copy_(): index {i} is out of bounds for dimension {d} with size {n}"))
def index_copy(input, dim, index, source):
    return _as_1d(_index_copy_impl)(input, dim, index, source)


def _index_copy_impl(input, dim, index, source):
    d = V.wrap(dim, input.ndim)
    src = source.astype(input.dtype).reshape(input[_idx(d, index)].shape)
    return set_at(input, src, (index,), lambda a: _idx(d, a[0]))


def _check_index_fill(input, dim, index, value):
    _check_index_nd(input, dim, index, "index_fill_", exc=IndexError, value=value)


def _index_fill_any(input, dim, index, value):
    return _as_1d(_index_fill_impl)(input, dim, index, value)


# torch names the node after the value's kind: a number (0) or a 0-d tensor (1)
_index_fill_ops = [op(tensors="input index value", inplace=True, node="IndexFillBackward%d" % k,
                      check=_check_index_fill, function=False, method=False,
                      name="_index_fill%d" % k)(_index_fill_any) for k in range(2)]


def index_fill(input, dim, index, value, *, out=None):
    return _index_fill_ops[_is_tensor(value)](input, dim, index, value, out=out)


def index_fill_(self, dim, index, value):
    return METHODS["_index_fill%d_" % _is_tensor(value)](self, dim, index, value)


TORCH["index_fill"] = METHODS["index_fill"] = index_fill
METHODS["index_fill_"] = index_fill_


def _index_fill_impl(input, dim, index, value):
    d = V.wrap(dim, input.ndim)
    return input.at[_idx(d, index)].set(jnp.asarray(value).astype(input.dtype))


_CPP_NAMES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _check_masked_fill(input, mask, value):
    from .._tensor import Tensor
    if mask.dtype is not D.bool:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype %s"
                           % _CPP_NAMES.get(mask.dtype.name, mask.dtype.name))
    if isinstance(value, Tensor) and value.dim():
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with %d "
                           "dimension(s)." % value.dim())
    check_real_value(input, value)


def check_real_value(input, value):
    """torch refuses to write a complex number into a real tensor."""
    from .._tensor import Tensor
    is_complex = value.is_complex() if isinstance(value, Tensor) else isinstance(value, complex)
    if is_complex and not input.is_complex():
        raise RuntimeError("value cannot be converted to type %s without overflow"
                           % _CPP_NAMES.get(input.dtype.name, input.dtype.name))


def _masked_fill_impl(input, mask, value):
    return jnp.where(mask, jnp.asarray(value).astype(input.dtype), input)


# torch names the node after the value's kind: a number (0) or a 0-d tensor (1)
_masked_fill_ops = [op(tensors="input mask value", promote=P.keep, inplace=True, node="MaskedFillBackward%d" % k,
                       check=_check_masked_fill, function=False, method=False,
                       name="_masked_fill%d" % k)(_masked_fill_impl) for k in range(2)]


def _is_tensor(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def masked_fill(input, mask, value, *, out=None):
    return _masked_fill_ops[_is_tensor(value)](input, mask, value, out=out)


def masked_fill_(self, mask, value):
    return METHODS["_masked_fill%d_" % _is_tensor(value)](self, mask, value)


TORCH["masked_fill"] = METHODS["masked_fill"] = masked_fill
METHODS["masked_fill_"] = masked_fill_


@plain
def masked_select(input, mask, *, out=None):
    """The result's size depends on the mask's values: computed from the concrete mask."""
    if out is not None:
        out._assign(masked_select(input, mask))
        return out
    from .._tensor import Tensor
    if mask.dtype is not D.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    from .shape import _broadcast_shape, _expand
    shape = _broadcast_shape([mask._shape, input._shape])
    x = _expand(input, shape) if input._shape != shape else input
    m = _concrete(mask)
    if m is None:
        raise RuntimeError("masked_select() needs a concrete mask: its result's size depends on the mask's values")
    m = np.broadcast_to(m, shape)
    if not shape:
        x, m = x.reshape(1), m.reshape(1)
    idx = [Tensor._from_value(jnp.asarray(a, dtype=jnp.int64), device=input._device) for a in np.nonzero(m)]
    return _masked_select(x, idx, tuple(("array",) for _ in range(m.ndim)))


@op(tensors="input", lists="indices", function=False, method=False, node="MaskedSelectBackward0", saves=())
def _masked_select(input, indices, template):
    return input[_jax_index(template, indices)]


def _check_masked_scatter(input, mask, source):
    if mask.dtype is not D.bool:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype %s"
                           % _CPP_NAMES.get(mask.dtype.name, mask.dtype.name))
    if source.dtype is not input.dtype:
        raise RuntimeError("masked_scatter_: expected self and source to have same dtypes but got %s and %s"
                           % (input.dtype._legacy, source.dtype._legacy))
    m = _concrete(mask)
    if m is not None and int(np.broadcast_to(m, np.broadcast_shapes(m.shape, input._shape)).sum()) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")


@op(tensors="input mask source", inplace=True, node="MaskedScatterBackward0", check=_check_masked_scatter)
def masked_scatter(input, mask, source):
    shape = jnp.broadcast_shapes(input.shape, mask.shape)
    m = jnp.broadcast_to(mask, shape).reshape(-1)
    pos = jnp.clip(jnp.cumsum(m) - 1, 0, builtins.max(source.size - 1, 0))
    taken = source.reshape(-1)[pos] if source.size else jnp.zeros(m.shape, input.dtype)
    return jnp.where(m, taken, jnp.broadcast_to(input, shape).reshape(-1)).reshape(shape)


@plain
def nonzero(input, *, out=None, as_tuple=False):
    from .._tensor import Tensor
    v = _concrete(input)
    if v is None:
        raise RuntimeError("nonzero() needs a concrete value: its result's size depends on the values, which "
                           "are being traced by jtorch.compile")
    if as_tuple:
        if not input._shape:
            v = v.reshape(1)
        return tuple(Tensor._from_value(jnp.asarray(a, dtype=jnp.int64), device=input._device)
                     for a in np.nonzero(v))
    if not input._shape:
        stacked = np.zeros((int(builtins.bool(v)), 0))
    else:
        stacked = np.stack(np.nonzero(v), axis=1)
    result = Tensor._from_value(jnp.asarray(stacked, dtype=jnp.int64), device=input._device)
    if out is not None:
        out._assign(result)
        return out
    return result


@plain
def argwhere(input):
    return nonzero(input)


def _check_take(input, index):
    if index.dtype is not D.int64:
        raise RuntimeError("take(): Expected a long tensor for index, but got %s" % index.dtype._legacy)
    _out_of_bounds(index, input.numel(), IndexError,
                   "out of range: tried to access index {i} on a tensor of {n} elements.",
                   allow_negative=True)


@op(tensors="input index", node="TakeBackward0", check=_check_take)
def take(input, index):
    return jnp.take(input.reshape(-1), index)


def _check_put(input, index, source, accumulate=False):
    if source.dtype is not input.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got self.dtype = %s "
                           "and source.dtype = %s" % (input.dtype._legacy, source.dtype._legacy))
    if index.numel() != source.numel():
        raise RuntimeError("put_(): Expected source and index to have the same number of elements, but got "
                           "source.numel() = %d, index.numel() = %d" % (source.numel(), index.numel()))
    _check_take(input, index)


@op(tensors="input index source", inplace=True, node="PutBackward0", check=_check_put)
def put(input, index, source, accumulate=False):
    flat = input.reshape(-1)
    i, s = index.reshape(-1), source.reshape(-1).astype(input.dtype)
    out = _accumulate(flat, i, s) if accumulate else set_at(flat, s, (i,), lambda a: a[0])
    return out.reshape(input.shape)


@plain
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = V.wrap(dim, input.dim())
    if input.dim() != indices.dim():
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           "but got %d dimensions for input, and %d dimensions for indices"
                           % (input.dim(), indices.dim()))
    from .shape import _broadcast_shape, _expand
    ishape, jshape = list(input._shape), list(indices._shape)
    ishape[d] = jshape[d] = 1
    b = list(_broadcast_shape([tuple(ishape), tuple(jshape)]))
    bi, bj = list(b), list(b)
    bi[d], bj[d] = input._shape[d], indices._shape[d]
    return gather(_expand(input, tuple(bi)), d, _expand(indices, tuple(bj)))


def _wrap_where():
    three = TORCH["where"]

    def where(condition, input=None, other=None, *, out=None):
        if input is None and other is None:
            return nonzero(condition, as_tuple=True)
        return three(condition, input, other, out=out)
    where.__doc__ = three.__doc__
    TORCH["where"] = where


_wrap_where()
