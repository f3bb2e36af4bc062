"""Shape ops. Those that are views in torch are views here too (`view=` gives their strides)."""
import math

import jax.numpy as jnp

from . import _promotion as P
from . import _views as V
from ._registry import METHODS, op


def _sizes(size):
    """`view(2, 3)`, `view((2, 3))` and `view(torch.Size([2, 3]))` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _view_meta(shape, stride, offset, size):
    return V.view(shape, stride, offset, _sizes(size))


@op(view=_view_meta, node="ViewBackward0", saves=())
def view(input, *shape):
    return input.reshape(V.infer_size(_sizes(shape), input.size))


def _reshape_meta(shape, stride, offset, size):
    new_shape = V.infer_size(_sizes(size), math.prod(shape))
    new_stride = V.view_strides(shape, stride, new_shape)
    if new_stride is None:
        return None
    return new_shape, new_stride, offset


def reshape(input, *shape):
    """A view when torch's stride rules allow one, else a copy (as torch's reshape)."""
    size = _sizes(shape)
    if _reshape_meta(input._shape, input._stride, input._offset, size) is not None:
        return view(input, size)
    return _reshape_copy(input, size)


@op(function=False, method=False, node="UnsafeViewBackward0", saves=())
def _reshape_copy(input, shape):
    return input.reshape(V.infer_size(shape, input.size))


METHODS["reshape"] = reshape


def _register_plain(fn, method=True):
    from ._registry import TORCH
    TORCH[fn.__name__] = fn
    if method:
        METHODS[fn.__name__] = fn
    return fn


_register_plain(reshape)


def view_as(input, other):
    return view(input, other._shape)


def reshape_as(input, other):
    return reshape(input, other._shape)


METHODS["view_as"] = view_as
METHODS["reshape_as"] = reshape_as


@op(view=V.transpose, node="TransposeBackward0", saves=(), aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if input.ndim == 0:
        return input
    return jnp.swapaxes(input, V.wrap(dim0, input.ndim), V.wrap(dim1, input.ndim))


def _t_meta(shape, stride, offset):
    return V.transpose(shape, stride, offset, 0, -1) if len(shape) == 2 else (shape, stride, offset)


@op(view=_t_meta, node="TBackward0", saves=())
def t(input):
    if input.ndim > 2:
        raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is %dD" % input.ndim)
    return input.T


def _permute_meta(shape, stride, offset, dims):
    dims = _sizes(dims)
    return V.permute(shape, stride, offset, tuple(V.wrap(d, len(shape)) for d in dims))


@op(view=_permute_meta, node="PermuteBackward0", saves=())
def permute(input, *dims):
    dims = tuple(V.wrap(d, input.ndim) for d in _sizes(dims))
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match "
                           "the length of the desired ordering of dimensions i.e. input.dim() = %d is not "
                           "equal to len(dims) = %d" % (input.ndim, len(dims)))
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return jnp.transpose(input, dims)


def _movedim_meta(shape, stride, offset, source, destination):
    order = _movedim_order(len(shape), source, destination)
    return V.permute(shape, stride, offset, order)


def _movedim_order(ndim, source, destination):
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = [V.wrap(s, ndim) for s in src]
    dst = [V.wrap(d, ndim) for d in dst]
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src)
    return tuple(o if o is not None else next(rest) for o in order)


@op(view=_movedim_meta, node="PermuteBackward0", saves=(), aliases=("moveaxis",))
def movedim(input, source, destination):
    return jnp.transpose(input, _movedim_order(input.ndim, source, destination))


@op(view=V.unsqueeze, node="UnsqueezeBackward0", saves=())
def unsqueeze(input, dim):
    return jnp.expand_dims(input, V.wrap(dim, input.ndim + 1))


def _squeeze_dims(shape, dim):
    if dim is None:
        return tuple(range(len(shape)))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(V.wrap(d, len(shape)) for d in dims) if shape else ()


def _squeeze_meta(shape, stride, offset, dim):
    return V.squeeze(shape, stride, offset, _squeeze_dims(shape, dim))


@op(view=_squeeze_meta, node=lambda a, i: "SqueezeBackward0", saves=())
def squeeze(input, dim=None):
    dims = _squeeze_dims(input.shape, dim)
    return jnp.squeeze(input, tuple(d for d in dims if input.shape[d] == 1))


def _flatten_meta(shape, stride, offset, start_dim, end_dim):
    new_shape = _flat_shape(shape, start_dim, end_dim)
    st = V.view_strides(shape, stride, new_shape)
    if st is None:
        return None
    return new_shape, st, offset


def _flat_shape(shape, start_dim, end_dim):
    if not shape:
        return (1,)
    s, e = V.wrap(start_dim, len(shape)), V.wrap(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:]


def flatten(input, start_dim=0, end_dim=-1):
    return reshape(input, _flat_shape(input._shape, start_dim, end_dim))


_register_plain(flatten)


def unflatten(input, dim, sizes):
    d = V.wrap(dim, input.dim())
    sizes = tuple(sizes)
    inner = V.infer_size(sizes, input._shape[d])
    return view(input, input._shape[:d] + inner + input._shape[d + 1:])


_register_plain(unflatten)


def _expand_meta(shape, stride, offset, size):
    return V.expand(shape, stride, offset, _sizes(size))


@op(view=_expand_meta, function=False, node="ExpandBackward0", saves=())
def expand(input, *sizes):
    new_shape, _, _ = V.expand(input.shape, (0,) * input.ndim, 0, _sizes(sizes))
    return jnp.broadcast_to(input, new_shape)


def expand_as(input, other):
    return expand(input, other._shape)


METHODS["expand_as"] = expand_as


@op(view=V.narrow, node="SliceBackward0", saves=())
def narrow(input, dim, start, length):
    d = V.wrap(dim, input.ndim)
    if start < 0:
        start += input.shape[d]
    if start < 0 or start + length > input.shape[d]:
        raise RuntimeError("start (%d) + length (%d) exceeds dimension size (%d)."
                           % (start, length, input.shape[d]))
    return input[(slice(None),) * d + (slice(start, start + length),)]


def _select_meta(shape, stride, offset, dim, index):
    d = V.wrap(dim, len(shape))
    return V.select(shape, stride, offset, d, index % shape[d] if shape[d] else index)


@op(view=_select_meta, node="SelectBackward0", saves=())
def select(input, dim, index):
    d = V.wrap(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError("select(): index %d out of range for tensor of size %s at dimension %d"
                         % (index, list(input.shape), d))
    return input[(slice(None),) * d + (index % n,)]


@op(view=V.unbind, node="UnbindBackward0", saves=())
def unbind(input, dim=0):
    d = V.wrap(dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def _split_sizes(length, split_size_or_sections):
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and length:
            raise RuntimeError("split_size can only be 0 if dimension size is 0, but got dimension size of %d"
                               % length)
        n = max(1, -(-length // step)) if step else 1
        return tuple(min(step, length - i * step) for i in range(n))
    sizes = tuple(split_size_or_sections)
    if sum(sizes) != length:
        raise RuntimeError("split_with_sizes expects split_sizes to sum exactly to %d (input tensor's size "
                           "at dimension 0), but got split_sizes=%s" % (length, list(sizes)))
    return sizes


def _split_meta(shape, stride, offset, split_size_or_sections, dim):
    d = V.wrap(dim, len(shape))
    return V.split_sizes(shape, stride, offset, d, _split_sizes(shape[d], split_size_or_sections))


@op(tensors="tensor", view=_split_meta, node="SplitBackward0", saves=())
def split(tensor, split_size_or_sections, dim=0):
    d = V.wrap(dim, tensor.ndim)
    sizes = _split_sizes(tensor.shape[d], split_size_or_sections)
    out, start = [], 0
    for s in sizes:
        out.append(tensor[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def _chunk_sizes(length, chunks):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
    step = -(-length // chunks) if length else 0
    return _split_sizes(length, step) if step else (0,) * 1


def _chunk_meta(shape, stride, offset, chunks, dim):
    d = V.wrap(dim, len(shape))
    return V.split_sizes(shape, stride, offset, d, _chunk_sizes(shape[d], chunks))


@op(view=_chunk_meta, node="SplitBackward0", saves=())
def chunk(input, chunks, dim=0):
    d = V.wrap(dim, input.ndim)
    out, start = [], 0
    for s in _chunk_sizes(input.shape[d], chunks):
        out.append(input[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def _check_cat(tensors, dim, name):
    if not tensors:
        raise RuntimeError("%s(): expected a non-empty list of Tensors" % name)


@op(tensors=(), lists="tensors", promote=P.promote, node="CatBackward0", saves=(),
    aliases=("concat", "concatenate"), method=False)
def cat(tensors, dim=0):
    _check_cat(tensors, dim, "torch.cat")
    shaped = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]
    if not shaped:
        return tensors[0]
    ref = shaped[0]
    d = V.wrap(dim, ref.ndim)
    for i, t in enumerate(shaped):
        if t.ndim != ref.ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got %d and %d"
                               % (ref.ndim, t.ndim))
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError("Sizes of tensors must match except in dimension %d. Expected size %d "
                                   "but got size %d for tensor number %d in the list."
                                   % (d, ref.shape[k], t.shape[k], i))
    return jnp.concatenate(shaped, axis=d)


@op(tensors=(), lists="tensors", promote=P.promote, node="StackBackward0", saves=(), method=False)
def stack(tensors, dim=0):
    _check_cat(tensors, dim, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError("stack expects each tensor to be equal size, but got %s at entry 0 and %s "
                               "at entry %d" % (list(tensors[0].shape), list(t.shape), i))
    return jnp.stack(tensors, axis=V.wrap(dim, tensors[0].ndim + 1))


@op(node="FlipBackward0", saves=())
def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return jnp.flip(input, tuple(V.wrap(d, input.ndim) for d in dims))


@op(node="RollBackward0", saves=())
def roll(input, shifts, dims=None):
    return jnp.roll(input, shifts, axis=dims)


@op(node="RepeatBackward0", saves=(), function=False)
def repeat(input, *sizes):
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + input.shape)
    return jnp.tile(x, sizes)


def _mT_meta(shape, stride, offset):
    return V.transpose(shape, stride, offset, -2, -1)


@op(view=_mT_meta, function=False, method=False, node="TransposeBackward0", saves=())
def _matrix_transpose(input):
    if input.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got %d-D "
                           "tensor." % input.ndim)
    return jnp.swapaxes(input, -2, -1)


def _T(self):
    return permute(self, tuple(range(self.dim() - 1, -1, -1)))


def _register_properties():
    from .._tensor import Tensor
    Tensor.T = property(_T)
    Tensor.mT = property(_matrix_transpose)
    Tensor.H = property(lambda self: _T(self).conj() if self.is_complex() else _T(self))
    Tensor.mH = property(lambda self: _matrix_transpose(self))
