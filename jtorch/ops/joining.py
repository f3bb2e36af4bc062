"""Shape ops that copy: cat/stack and their h/v/d/column forms, atleast_nd, flip/roll/rot90,
repeat/tile/repeat_interleave, the *_scatter ops, diag_embed."""
import jax.numpy as jnp
import numpy as np

from . import _promotion as P
from . import _views as V
from ._registry import op
from .shape import _sizes, _view, plain, unsqueeze, reshape


def _check_list(tensors, name):
    from .._tensor import Tensor
    if isinstance(tensors, Tensor):
        raise TypeError("%s(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor" % name)
    if not len(tensors):
        raise RuntimeError("%s expects a non-empty TensorList" % name)


def _check_cat(tensors, dim=0):
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")


@op(tensors=(), lists="tensors", promote=P.promote, node="CatBackward0", saves=(),
    aliases=("concat", "concatenate"), method=False, check=_check_cat)
def cat(tensors, dim=0):
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError("zero-dimensional tensor (at position %d) cannot be concatenated" % i)
    # torch's legacy rule: 1-D empty tensors are skipped whatever the others' shapes
    shaped = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]
    if not shaped:
        return jnp.concatenate(tensors, axis=0)
    ref = shaped[0]
    d = V.wrap(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim == 1 and t.shape[0] == 0:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got %d and %d" % (ref.ndim, t.ndim))
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError("Sizes of tensors must match except in dimension %d. Expected size %d but got "
                                   "size %d for tensor number %d in the list." % (d, ref.shape[k], t.shape[k], i))
    return jnp.concatenate(shaped, axis=d)


@op(tensors=(), lists="tensors", promote=P.promote, node="StackBackward0", saves=(), method=False)
def stack(tensors, dim=0):
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError("stack expects each tensor to be equal size, but got %s at entry 0 and %s at entry %d"
                               % (list(tensors[0].shape), list(t.shape), i))
    return jnp.stack(tensors, axis=V.wrap(dim, tensors[0].ndim + 1))


def _atleast(n):
    def fn(*tensors):
        single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            tensors = tuple(tensors[0])
        out = tuple(_atleast_one(t, n) for t in tensors)
        return out[0] if single else out
    fn.__name__ = "atleast_%dd" % n
    return plain(fn, method=False)


def _atleast_one(t, n):
    d = t.dim()
    if d >= n:
        return t
    if d == 0:
        return reshape(t, (1,) * n)
    if n == 2 or (n == 3 and d == 1):
        t = unsqueeze(t, 0)
    return unsqueeze(t, -1) if n == 3 else t


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


@plain(method=False)
def hstack(tensors, *, out=None):
    _check_list(tensors, "hstack")
    ts = atleast_1d(list(tensors))
    return cat(ts, 0 if ts and ts[0].dim() == 1 else 1, out=out)


@plain(method=False)
def vstack(tensors, *, out=None):
    _check_list(tensors, "vstack")
    return cat(atleast_2d(list(tensors)), 0, out=out)


plain(vstack, method=False, name="row_stack")


@plain(method=False)
def dstack(tensors, *, out=None):
    _check_list(tensors, "dstack")
    return cat(atleast_3d(list(tensors)), 2, out=out)


@plain(method=False)
def column_stack(tensors, *, out=None):
    _check_list(tensors, "column_stack")
    ts = [reshape(t, (t.numel(), 1)) if t.dim() <= 1 else t for t in tensors]
    return hstack(ts, out=out)


# -- flips and rolls -----------------------------------------------------------------------------

def _dims(dims, ndim):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    wrapped = tuple(V.wrap(d, ndim) for d in dims)
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError("dim %d appears multiple times in the list of dims" % d)
    return wrapped


@op(node="FlipBackward0", saves=())
def flip(input, dims):
    return jnp.flip(input, _dims(dims, input.ndim))


@plain
def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@plain
def flipud(input):
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


@op(node="RollBackward0", saves=())
def roll(input, shifts, dims=()):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if dims and input.ndim == 0:
        raise IndexError("Dimension specified as %d but tensor has no dimensions" % dims[0])
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError("`shifts` required")
        return jnp.roll(input.reshape(-1), shifts[0]).reshape(input.shape)
    if len(shifts) != len(dims):
        raise RuntimeError("shifts and dimensions must align. shifts: %d, dims:%d" % (len(shifts), len(dims)))
    return jnp.roll(input, shifts, tuple(V.wrap(d, input.ndim) for d in dims))


@op(node="Rot90Backward0", saves=())
def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError("expected total rotation dims == 2, but got dims = %d" % len(dims))
    if input.ndim < 2:
        raise RuntimeError("expected total dims >= 2, but got total dims = %d" % input.ndim)
    d0, d1 = V.wrap(dims[0], input.ndim), V.wrap(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError("expected rotation dims to be different, but got dim0 = %d and dim1 = %d" % (d0, d1))
    return jnp.rot90(input, k, axes=(d0, d1))


# -- repeat, tile, repeat_interleave ---------------------------------------------------------------

@op(node="RepeatBackward0", saves=(), function=False, method=False)
def _repeat(input, sizes):
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + input.shape)
    target = [n * r for n, r in zip(x.shape, sizes)]
    for n in target:
        if n < 0:
            raise RuntimeError("Trying to create tensor with negative dimension %d: %s" % (n, target))
    return jnp.tile(x, sizes)


@plain(function=False)
def repeat(self, *sizes):
    return _repeat(self, _sizes(sizes))


@plain
def tile(input, dims):
    dims = _sizes((dims,))
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return _repeat(input, dims)


@plain
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    from .._tensor import Tensor
    from .creation import tensor
    if repeats is None:
        # torch.repeat_interleave(repeats): the indices 0,0,1,2,2,... of each position repeated
        counts = np.asarray(input._value())
        if input.dim() != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return tensor(np.repeat(np.arange(len(counts)), counts), device=input.device)
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = V.wrap(dim, input.dim())
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dim() <= 1:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        shape = input._shape
        x = unsqueeze(input, d + 1)
        x = x.expand(shape[:d + 1] + (repeats,) + shape[d + 1:]).clone()
        return _view(x, shape[:d] + (shape[d] * repeats,) + shape[d + 1:])
    if repeats.dim() != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats._shape[0] != input._shape[d]:
        raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = %d and "
                           "input.size(%d) = %d" % (repeats._shape[0], dim, input._shape[d]))
    return input.index_select(d, repeat_interleave(repeats))


# -- scatters into views ---------------------------------------------------------------------------

def _check_src(src_shape, slice_shape):
    if tuple(src_shape) != tuple(slice_shape):
        raise RuntimeError("expected src to have a size equal to the slice of self. src size = %s, slice size = %s"
                           % (list(src_shape), list(slice_shape)))


@op(tensors="input src", node="SelectScatterBackward0", saves=())
def select_scatter(input, src, dim, index):
    d = V.wrap(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError("select(): index %d out of range for tensor of size %s at dimension %d"
                         % (index, list(input.shape), d))
    idx = (slice(None),) * d + (index % n,)
    _check_src(src.shape, input[idx].shape)
    return input.at[idx].set(src.astype(input.dtype))


@op(tensors="input src", node="SliceScatterBackward0", saves=())
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = V.wrap(dim, input.ndim)
    idx = (slice(None),) * d + (slice(start, end, step),)
    _check_src(src.shape, input[idx].shape)
    return input.at[idx].set(src.astype(input.dtype))


@op(tensors="input src", node="DiagonalScatterBackward0", saves=())
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    d1, d2 = V.wrap(dim1, input.ndim), V.wrap(dim2, input.ndim)
    diag = jnp.diagonal(input, offset, d1, d2)
    _check_src(src.shape, diag.shape)
    n = diag.shape[-1]
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    moved = jnp.moveaxis(input, (d1, d2), (-2, -1))
    moved = moved.at[..., rows, cols].set(src.astype(input.dtype))
    return jnp.moveaxis(moved, (-2, -1), (d1, d2))


@op(node="DiagEmbedBackward0", saves=())
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.ndim + 1
    d1, d2 = V.wrap(dim1, nd), V.wrap(dim2, nd)
    if d1 == d2:
        raise RuntimeError("diagonal dimensions cannot be identical %d, %d" % (dim1, dim2))
    n = input.shape[-1]
    m = n + abs(offset)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    out = jnp.zeros(input.shape[:-1] + (m, m), input.dtype).at[..., rows, cols].set(input)
    return jnp.moveaxis(out, (-2, -1), (d1, d2))
