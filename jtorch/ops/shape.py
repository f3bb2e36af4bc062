"""View ops: each one is a view in torch and a view here (`view=` gives its size/stride/offset as
torch computes them; see NOTE [Views and version counters] in _storage.py). Ops that copy (cat,
stack, flip, repeat...) live in joining.py."""
import math
import warnings

import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from .. import _storage as S
from . import _views as V
from ._registry import METHODS, TORCH, op


def _sizes(size):
    """`view(2, 3)`, `view((2, 3))` and `view(torch.Size([2, 3]))` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if hasattr(s, "__index__") and not isinstance(s, bool):
            out.append(s.__index__())
        else:
            raise TypeError("view(): argument 'size' must be tuple of ints, but found element of type %s at "
                            "pos %d" % (type(s).__name__, len(out)))
    return tuple(out)


def plain(fn=None, *, method=True, function=True, name=None):
    """Register a Python-level function (one that composes table ops) as torch.f and Tensor.f."""
    def register(f):
        n = name or f.__name__
        if function:
            if n in TORCH:
                raise RuntimeError("function %r is registered twice" % n)
            TORCH[n] = f
        if method:
            METHODS[n] = f
        return f
    return register(fn) if fn is not None else register


# -- view and reshape ----------------------------------------------------------------------------

def _view_meta(shape, stride, offset, size):
    return V.view(shape, stride, offset, size)


@op(view=_view_meta, node="ViewBackward0", saves=(), function=False, method=False)
def _view(input, size):
    return input.reshape(V.infer_size(size, input.size))


@plain(function=False)
def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        raise NotImplementedError("Tensor.view(dtype) is not supported by jtorch (a bitcast view of the same "
                                  "memory); use .to(dtype) for a converted copy")
    return _view(self, _sizes(shape))


def _reshape_meta(shape, stride, offset, size):
    new_shape = V.infer_size(size, math.prod(shape))
    new_stride = V.view_strides(shape, stride, new_shape)
    return None if new_stride is None else (new_shape, new_stride, offset)


@op(function=False, method=False, node="UnsafeViewBackward0", saves=())
def _reshape_copy(input, shape):
    return input.reshape(V.infer_size(shape, input.size))


@plain
def reshape(input, *shape):
    """A view when torch's stride rules allow one, else a copy (as torch's reshape)."""
    size = _sizes(shape)
    if _reshape_meta(input._shape, input._stride, input._offset, size) is not None:
        return _view(input, size)
    return _reshape_copy(input, size)


@plain(function=False)
def view_as(self, other):
    return _view(self, other._shape)


@plain(function=False)
def reshape_as(self, other):
    return reshape(self, other._shape)


@plain
def ravel(input):
    return _view(contiguous(input), (-1,))


def contiguous(self, memory_format=None):
    return self if self.is_contiguous() else self.clone()


@plain
def flatten(input, start_dim=0, end_dim=-1):
    shape = input._shape
    if not shape:
        return reshape(input, (1,))
    s, e = V.wrap(start_dim, len(shape)), V.wrap(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


@plain
def unflatten(input, dim, sizes):
    d = V.wrap(dim, input.dim())
    sizes = _sizes((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input._shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError("unflatten: Provided sizes %s don't multiply up to the size of dim %d (%d) in the "
                           "input tensor" % (list(sizes), dim, n))
    return _view(input, input._shape[:d] + V.infer_size(sizes, n) + input._shape[d + 1:])


# -- transposes and permutations ---------------------------------------------------------------

@op(view=V.transpose, node="TransposeBackward0", saves=(), aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if input.ndim == 0:
        V.wrap(dim0, 0), V.wrap(dim1, 0)
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
    return V.permute(shape, stride, offset, tuple(V.wrap(d, len(shape)) for d in dims))


@op(view=_permute_meta, node="PermuteBackward0", saves=(), function=False, method=False)
def _permute(input, dims):
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match "
                           "the length of the desired ordering of dimensions i.e. input.dim() = %d is not "
                           "equal to len(dims) = %d" % (input.ndim, len(dims)))
    dims = tuple(V.wrap(d, input.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return jnp.transpose(input, dims)


@plain
def permute(input, *dims):
    return _permute(input, _sizes(dims))


def _movedim_order(ndim, source, destination):
    if isinstance(source, int) != isinstance(destination, int):
        raise TypeError("movedim() received an invalid combination of arguments - got (%s, %s), but expected one "
                        "of:" % (type(source).__name__, type(destination).__name__))
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError("movedim: Invalid source or destination dims: source (%s dims) should contain the "
                           "same number of dims as destination (%s dims)" % (list(src), list(dst)))
    src = [V.wrap(s, ndim) for s in src]
    dst = [V.wrap(d, ndim) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError("movedim: repeated dim in `source` (%s)" % list(source))
    if len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in `destination` (%s)" % list(destination))
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src)
    return tuple(o if o is not None else next(rest) for o in order)


@plain(name="movedim")
@plain(name="moveaxis")
def movedim(input, source, destination):
    return _permute(input, _movedim_order(input.dim(), source, destination))


def _mT_meta(shape, stride, offset):
    return V.transpose(shape, stride, offset, -2, -1)


@op(view=_mT_meta, function=False, method=False, node="TransposeBackward0", saves=())
def _matrix_transpose(input):
    return jnp.swapaxes(input, -2, -1)


_T_WARNED = []


def _T(self):
    if self.dim() != 2 and not _T_WARNED:
        _T_WARNED.append(True)
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                      "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
                      "batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
                      "dimensions of a tensor.", UserWarning, stacklevel=2)
    return _permute(self, tuple(range(self.dim() - 1, -1, -1)))


def _mT(self):
    if self.dim() < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got %d-D tensor."
                           % self.dim())
    return _matrix_transpose(self)


def _H(self):
    if self.dim() not in (0, 2):
        raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got %d-D tensor.%s"
                           % (self.dim(), " For batches of matrices, consider using tensor.mH" if self.dim() > 2
                              else ""))
    out = _matrix_transpose(self) if self.dim() == 2 else self
    return out.conj() if self.is_complex() else out


def _mH(self):
    if self.dim() < 2:
        raise RuntimeError("tensor.mH is only supported on matrices or batches of matrices. Got %d-D tensor."
                           % self.dim())
    out = _matrix_transpose(self)
    return out.conj() if self.is_complex() else out


def _register_properties():
    from .._tensor import Tensor
    Tensor.T = property(_T)
    Tensor.mT = property(_mT)
    Tensor.H = property(_H)
    Tensor.mH = property(_mH)
    Tensor.real = property(real, _set_part(real))
    Tensor.imag = property(imag, _set_part(imag))


# -- adding and removing dimensions of size one ---------------------------------------------------

@op(view=V.unsqueeze, node="UnsqueezeBackward0", saves=())
def unsqueeze(input, dim):
    return jnp.expand_dims(input, V.wrap(dim, input.ndim + 1))


def _squeeze_meta(shape, stride, offset, dims):
    return V.squeeze(shape, stride, offset, dims)


def _squeeze_impl(input, dims):
    return jnp.squeeze(input, tuple(d for d in dims if input.shape[d] == 1))


_squeeze_ops = [op(view=_squeeze_meta, node="SqueezeBackward%d" % i, saves=(), function=False, method=False,
                   name="_squeeze%d" % i)(_squeeze_impl) for i in range(3)]


@plain
def squeeze(input, dim=None):
    shape = input._shape
    if dim is None:
        return _squeeze_ops[0](input, tuple(range(len(shape))))
    if isinstance(dim, (tuple, list)):
        dims = tuple(V.wrap(d, len(shape)) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("dim %d appears multiple times in the list of dims" % dims[0])
        return _squeeze_ops[2](input, dims if shape else ())
    d = V.wrap(dim, len(shape))
    return _squeeze_ops[1](input, (d,) if shape else ())


# -- expand --------------------------------------------------------------------------------------

def _expand_meta(shape, stride, offset, size):
    return V.expand(shape, stride, offset, size)


@op(view=_expand_meta, function=False, method=False, node="ExpandBackward0", saves=())
def _expand(input, size):
    new_shape, _, _ = V.expand(input.shape, (0,) * input.ndim, 0, size)
    return jnp.broadcast_to(input, new_shape)


@plain(function=False)
def expand(self, *sizes, implicit=False):
    return _expand(self, _sizes(sizes))


@plain(function=False)
def expand_as(self, other):
    return _expand(self, other._shape)


@plain(method=False)
def broadcast_to(input, size):
    return _expand(input, _sizes((size,)))


def _broadcast_shape(shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for i, s in enumerate(shapes):
        for k, n in enumerate(s):
            j = ndim - len(s) + k
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError("The size of tensor a (%d) must match the size of tensor b (%d) at "
                                   "non-singleton dimension %d" % (out[j], n, j))
    return tuple(out)


@plain(method=False)
def broadcast_shapes(*shapes):
    from .._size import Size
    return Size(_broadcast_shape([(s,) if isinstance(s, int) else tuple(s) for s in shapes]))


@plain(method=False)
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = _broadcast_shape([t._shape for t in tensors])
    return tuple(_expand(t, shape) for t in tensors)


@plain(method=False)
def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but received: ' + indexing)
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: %s" % t)
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors = (tensors[1], tensors[0]) + tuple(tensors[2:])
    shape = tuple(t.numel() for t in tensors)
    out = []
    for i, t in enumerate(tensors):
        view_shape = tuple(-1 if j == i else 1 for j in range(len(tensors)))
        out.append(_expand(_view(t, view_shape), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


# -- slicing -------------------------------------------------------------------------------------

def _narrow_meta(shape, stride, offset, dim, start, length):
    return V.narrow(shape, stride, offset, dim, start, length)


@op(view=_narrow_meta, node="SliceBackward0", saves=(), function=False, method=False)
def _narrow(input, dim, start, length):
    return input[(slice(None),) * V.wrap(dim, input.ndim) + (slice(start, start + length),)]


def _narrow_args(input, dim, start, length):
    from .._tensor import Tensor
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor) and (start.dim() or start.is_floating_point() or start.is_complex()):
        raise RuntimeError("start must be an 0-dim integral Tensor.")
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = V.wrap(dim, input.dim())
    n = input._shape[d]
    if not -n <= start <= n:
        raise IndexError("start out of range (expected to be in range of [%d, %d], but got %d)" % (-n, n, start))
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError("start (%d) + length (%d) exceeds dimension size (%d)." % (start, length, n))
    return d, start, length


@plain
def narrow(input, dim, start, length):
    return _narrow(input, *_narrow_args(input, dim, start, length))


@op(node="NarrowCopyBackward0", saves=(), function=False, method=False)
def _narrow_copy(input, dim, start, length):
    return input[(slice(None),) * dim + (slice(start, start + length),)]


@plain
def narrow_copy(input, dim, start, length):
    if input.dim() and dim >= input.dim():
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an enhancement request "
                           "to PyTorch.)")
    return _narrow_copy(input, *_narrow_args(input, dim, start, length))


def _select_meta(shape, stride, offset, dim, index):
    return V.select(shape, stride, offset, dim, index)


@op(view=_select_meta, node="SelectBackward0", saves=(), function=False, method=False)
def _select(input, dim, index):
    return input[(slice(None),) * dim + (index,)]


@plain
def select(input, dim, index):
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = V.wrap(dim, input.dim())
    n = input._shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError("select(): index %d out of range for tensor of size %s at dimension %d"
                         % (index, list(input._shape), d))
    return _select(input, d, index % n)


@op(view=V.unbind, node="UnbindBackward0", saves=())
def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = V.wrap(dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def _split_sizes(length, split_size):
    step = split_size
    if step < 0 or (step == 0 and length):
        raise RuntimeError("split_size can only be 0 if dimension size is 0, but got dimension size of %d"
                           % length if step == 0 else "split expects split_size be non-negative, but got "
                           "split_size=%d" % step)
    n = max(1, -(-length // step)) if step else 1
    return tuple(min(step, length - i * step) for i in range(n))


def _split_meta(shape, stride, offset, dim, sizes):
    return V.split_sizes(shape, stride, offset, dim, sizes)


def _split_impl(input, dim, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(input[(slice(None),) * dim + (slice(start, start + s),)])
        start += s
    return tuple(out)


_split_op = op(view=_split_meta, node="SplitBackward0", saves=(), function=False, method=False,
               name="_split")(_split_impl)
_split_sizes_op = op(view=_split_meta, node="SplitWithSizesBackward0", saves=(), function=False, method=False,
                     name="_split_with_sizes")(_split_impl)


@plain
def split(tensor, split_size_or_sections, dim=0):
    if tensor.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = V.wrap(dim, tensor.dim())
    n = tensor._shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = tuple(int(s) for s in split_size_or_sections)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError("split_with_sizes expects split_sizes to sum exactly to %d (input tensor's size "
                               "at dimension %d), but got split_sizes=%s" % (n, d, list(sizes)))
        return _split_sizes_op(tensor, d, sizes)
    return _split_op(tensor, d, _split_sizes(n, int(split_size_or_sections)))


@plain
def chunk(input, chunks, dim=0):
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: %d" % chunks)
    d = V.wrap(dim, input.dim())
    n = input._shape[d]
    if n == 0:
        return _split_op(input, d, (0,) * chunks)
    return _split_op(input, d, _split_sizes(n, -(-n // chunks)))


@plain
def tensor_split(input, indices_or_sections, dim=0):
    from .._tensor import Tensor
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = V.wrap(dim, input.dim())
    n = input._shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.dim() > 1 or indices_or_sections.is_floating_point():
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor, but got a tensor with %d dims"
                               % indices_or_sections.dim())
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError("number of sections must be larger than 0, got %d" % sections)
        small, extra = divmod(n, sections)
        bounds, start = [], 0
        for i in range(sections):
            size = small + (1 if i < extra else 0)
            bounds.append((start, size))
            start += size
    else:
        bounds, start = [], 0
        for idx in list(indices_or_sections) + [n]:
            stop = min(max(int(idx) if idx >= 0 else int(idx) + n, 0), n)
            stop = max(stop, start)
            bounds.append((start, stop - start))
            start = stop
    return tuple(_narrow(input, d, s, length) for s, length in bounds)


def _split_dir(name, dim_of):
    def fn(input, indices_or_sections):
        d = dim_of(input)
        if isinstance(indices_or_sections, int):
            n = input._shape[d]
            if indices_or_sections == 0 or n % indices_or_sections:
                raise RuntimeError("torch.%s attempted to split along dimension %d, but the size of the "
                                   "dimension %d is not divisible by the split_size %d!"
                                   % (name, d, n, indices_or_sections))
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    return plain(fn)


def _hdim(t):
    if t.dim() < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 "
                           "dimensions!")
    return 1 if t.dim() > 1 else 0


def _vdim(t):
    if t.dim() < 2:
        raise RuntimeError("torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with %d "
                           "dimensions!" % t.dim())
    return 0


def _ddim(t):
    if t.dim() < 3:
        raise RuntimeError("torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with %d "
                           "dimensions!" % t.dim())
    return 2


hsplit = _split_dir("hsplit", _hdim)
vsplit = _split_dir("vsplit", _vdim)
dsplit = _split_dir("dsplit", _ddim)


# -- diagonal, as_strided, unfold -------------------------------------------------------------------

def _diagonal_meta(shape, stride, offset, off, dim1, dim2):
    return V.diagonal(shape, stride, offset, off, dim1, dim2)


@op(view=_diagonal_meta, node="DiagonalBackward0", saves=())
def diagonal(input, offset=0, dim1=0, dim2=1):
    d1, d2 = V.wrap(dim1, input.ndim), V.wrap(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError("diagonal dimensions cannot be identical %d, %d" % (dim1, dim2))
    return jnp.diagonal(input, offset, d1, d2)


def _as_strided_meta(shape, stride, offset, size, new_stride, storage_offset, layout):
    return size, new_stride, storage_offset


@op(view=_as_strided_meta, node="AsStridedBackward0", saves=(), function=False, method=False)
def _as_strided(input, size, stride, storage_offset, layout):
    # positions in storage, mapped to the input's own elements (layout = its shape, stride, offset)
    want = S.flat_positions(size, stride, storage_offset).reshape(-1)
    have = S.flat_positions(*layout).reshape(-1)
    lookup = np.zeros(int(have.max()) + 1 if have.size else 1, np.int64)
    lookup[have] = np.arange(have.size)
    return input.reshape(-1)[lookup[want]].reshape(size)


@plain
def as_strided(input, size, stride, storage_offset=None):
    size, stride = _sizes((size,)), _sizes((stride,))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: %s"
                           % list(stride))
    so = input._offset if storage_offset is None else int(storage_offset)
    root = input._base if input._base is not None else input
    storage = _storage_size(root)
    need = so + sum((n - 1) * st for n, st in zip(size, stride)) + 1 if all(size) else 0
    if need > storage:
        raise RuntimeError("setStorage: sizes %s, strides %s, storage offset %d, and itemsize %d requiring a "
                           "storage size of %d are out of bounds for storage of size %d"
                           % (list(size), list(stride), so, input.element_size(), need * input.element_size(),
                              storage * input.element_size()))
    layout = (input._shape, input._stride, input._offset)
    have = set(S.flat_positions(*layout).reshape(-1).tolist()) if input.numel() else set()
    if not set(S.flat_positions(size, stride, so).reshape(-1).tolist()) <= have:
        # reaches storage outside the input's own elements: read from the root
        input, layout = root, (root._shape, root._stride, root._offset)
    return _as_strided(input, size, stride, so, layout)


def _storage_size(root):
    if not root.numel():
        return 0
    return sum((n - 1) * st for n, st in zip(root._shape, root._stride)) + 1


def _unfold_meta(shape, stride, offset, dimension, size, step):
    if not shape:
        return (size,), (1,), offset
    d = V.wrap(dimension, len(shape))
    n = (shape[d] - size) // step + 1
    return (shape[:d] + (n,) + shape[d + 1:] + (size,),
            stride[:d] + (stride[d] * step,) + stride[d + 1:] + (stride[d],), offset)


@op(view=_unfold_meta, node="UnfoldBackward0", saves=(), function=False)
def unfold(input, dimension, size, step):
    if input.ndim == 0:
        V.wrap(dimension, 0)
        if size > 1:
            raise RuntimeError("maximum size for tensor at dimension %d is 1 but size is %d" % (dimension, size))
        return input.reshape((1,))
    d = V.wrap(dimension, input.ndim)
    if size > input.shape[d]:
        raise RuntimeError("maximum size for tensor at dimension %d is %d but size is %d"
                           % (d, input.shape[d], size))
    if step <= 0:
        raise RuntimeError("step is %d but must be > 0" % step)
    n = (input.shape[d] - size) // step + 1
    idx = np.arange(n)[:, None] * step + np.arange(size)[None, :]
    return jnp.moveaxis(jnp.take(input, idx, axis=d), d + 1, -1)


# -- complex parts -------------------------------------------------------------------------------

def _as_real_meta(shape, stride, offset):
    return shape + (2,), tuple(2 * s for s in stride) + (1,), 2 * offset


@op(view=_as_real_meta, node="ViewAsRealBackward0", saves=(), method=False)
def view_as_real(input):
    if not jnp.issubdtype(input.dtype, jnp.complexfloating):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return jnp.stack([jnp.real(input), jnp.imag(input)], axis=-1)


def _as_complex_meta(shape, stride, offset):
    return shape[:-1], tuple(s // 2 for s in stride[:-1]), offset // 2


@op(view=_as_complex_meta, node="ViewAsComplexBackward0", saves=(), function=False, method=False)
def _view_as_complex(input):
    if input.dtype not in (jnp.float32, jnp.float64, jnp.float16):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor "
                           "of scalar type: %s" % D._BY_NP[np.dtype(input.dtype)]._legacy)
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return jax_complex(input[..., 0], input[..., 1])


def jax_complex(re, im):
    return (re + 1j * im).astype(jnp.complex128 if re.dtype == jnp.float64 else jnp.complex64)


@plain(method=False)
def view_as_complex(input):
    if input.dim() and input._shape[-1] == 2:
        if input._stride[-1] != 1:
            raise RuntimeError("Tensor must have a last dimension with stride 1")
        if any(s % 2 for s in input._stride[:-1]):
            raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
        if input._offset % 2:
            raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return _view_as_complex(input)


@plain(method=False)
def real(input):
    if not input.is_complex():
        return input
    return _select(view_as_real(input), input.dim(), 0)


@plain(method=False)
def imag(input):
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _select(view_as_real(input), input.dim(), 1)


def _set_part(part):
    def setter(self, value):
        part(self).copy_(value)
    return setter


from . import joining  # noqa: E402,F401  (the copying shape ops)


# -- in-place metadata ops: t_, transpose_, squeeze_, unsqueeze_ --------------------------------------

def _meta_op(node, impl):
    return op(function=False, method=False, node=node, saves=(), name="_inplace_" + node)(impl)


def _t_impl(input):
    return input.T


def _transpose_impl(input, dim0, dim1):
    return jnp.swapaxes(input, dim0, dim1)


def _unsqueeze_impl(input, dim):
    return jnp.expand_dims(input, dim)


_META_OPS = {"t": _meta_op("TBackward1", _t_impl), "transpose": _meta_op("TransposeBackward1", _transpose_impl),
             "unsqueeze": _meta_op("UnsqueezeBackward1", _unsqueeze_impl),
             "squeeze0": _meta_op("SqueezeBackward3", _squeeze_impl),
             "squeeze1": _meta_op("SqueezeBackward4", _squeeze_impl),
             "squeeze2": _meta_op("SqueezeBackward5", _squeeze_impl)}


def _restride(self, name, np_fn, recorded, view_fn):
    """Apply a metadata change in place. A view takes the geometry of the out-of-place view op; a
    root sharing memory with numpy keeps sharing it (the numpy array is re-viewed, with torch's
    strides); a root held as a JAX value gets contiguous strides where torch reports permuted ones
    (t_, transpose_). A root that has live views is refused: they read it through its old layout."""
    from ..autograd.grad_mode import is_grad_enabled, no_grad
    if self._base is None and len(getattr(self, "_views", None) or ()):
        raise NotImplementedError("Tensor.%s_ on a tensor that has views is not supported by jtorch; use the "
                                  "out-of-place Tensor.%s" % (name, name))
    if self._requires_grad and self._grad_fn is None and is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    kind, args = recorded
    out = _META_OPS[kind](self, *args)        # the history, under torch's node name
    if self._base is not None:
        with no_grad():
            v = view_fn(self)
        self._read, self._data, self._cver = v._read, v._data, v._cver
        self._stride, self._offset = v._stride, v._offset
    elif self._host is not None:
        self._host = np_fn(self._host)
        self._stride = tuple(s // self._host.itemsize for s in self._host.strides) if self._host.size else \
            S.contiguous_strides(self._host.shape)
    else:
        self._data = out._value()
        self._stride = S.contiguous_strides(out._shape)
    self._shape = out._shape
    self._verbox[0] += 1
    if out._grad_fn is not None:
        self._grad_fn, self._output_nr, self._requires_grad = out._grad_fn, 0, True
        if self._gver is not None:
            self._gver = self._verbox[0]
    return self


@plain(function=False, name="t_")
def t_(self):
    if self.dim() > 2:
        raise RuntimeError("t_() expects a tensor with <= 2 dimensions, but self is %dD" % self.dim())
    return _restride(self, "t", lambda h: h.T, ("t", ()), t)


@plain(function=False, name="transpose_")
@plain(function=False, name="swapaxes_")
@plain(function=False, name="swapdims_")
def transpose_(self, dim0, dim1):
    n = self.dim()
    a, b = (V.wrap(dim0, n), V.wrap(dim1, n)) if n else (0, 0)
    if not n:
        return self
    return _restride(self, "transpose", lambda h: np.swapaxes(h, a, b), ("transpose", (a, b)),
                     lambda v: transpose(v, a, b))


@plain(function=False, name="unsqueeze_")
def unsqueeze_(self, dim):
    d = V.wrap(dim, self.dim() + 1)
    return _restride(self, "unsqueeze", lambda h: np.expand_dims(h, d), ("unsqueeze", (d,)),
                     lambda v: unsqueeze(v, d))


@plain(function=False, name="squeeze_")
def squeeze_(self, dim=None):
    shape = self._shape
    if dim is None:
        kind, dims = "squeeze0", tuple(range(len(shape)))
    elif isinstance(dim, (tuple, list)):
        kind, dims = "squeeze2", tuple(V.wrap(d, len(shape)) for d in dim) if shape else ()
    else:
        kind, dims = "squeeze1", (V.wrap(dim, len(shape)),) if shape else ()
    drop = tuple(d for d in dims if shape[d] == 1)
    return _restride(self, "squeeze", lambda h: np.squeeze(h, drop), (kind, (dims,)),
                     lambda v: _squeeze_ops[0](v, dims))
