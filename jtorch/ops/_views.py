"""Stride arithmetic for view ops: each function maps (shape, stride, offset, *static args) to the
view's (shape, stride, offset), exactly as torch computes them, or raises torch's error."""
import math

from .._storage import contiguous_strides


def wrap(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError("Dimension out of range (expected to be in range of [%d, %d], but got %d)"
                         % (-n, n - 1, dim))
    return dim % n


def infer_size(shape, numel):
    """A -1 in a view/reshape size resolved; torch's error when the sizes cannot match."""
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError("shape '%s' is invalid for input of size %d" % (_fmt(shape), numel))
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError("shape '%s' is invalid for input of size %d" % (_fmt(shape), numel))
    for s in shape:
        if s < 0:
            raise RuntimeError("invalid shape dimension %d" % s)
    return tuple(shape)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def view_strides(old_shape, old_stride, new_shape):
    """torch's computeStride: strides for a view of a possibly non-contiguous tensor, or None."""
    if math.prod(old_shape) == 0:
        return contiguous_strides(new_shape)
    if not old_shape:
        return (1,) * len(new_shape)
    new_stride = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_stride[-1] if old_stride else 1
    tensor_numel, view_numel = 1, 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_stride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_stride[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_stride[tensor_d - 1]
                tensor_numel, view_numel = 1, 1
    if view_d != -1:
        return None
    return tuple(new_stride)


def view(shape, stride, offset, size):
    new_shape = infer_size(size, math.prod(shape))
    new_stride = view_strides(shape, stride, new_shape)
    if new_stride is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least "
                           "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                           "instead.")
    return new_shape, new_stride, offset


def permute(shape, stride, offset, dims):
    return tuple(shape[d] for d in dims), tuple(stride[d] for d in dims), offset


def transpose(shape, stride, offset, dim0, dim1):
    order = list(range(len(shape)))
    if shape:
        a, b = wrap(dim0, len(shape)), wrap(dim1, len(shape))
        order[a], order[b] = order[b], order[a]
    return permute(shape, stride, offset, order)


def unsqueeze(shape, stride, offset, dim):
    d = wrap(dim, len(shape) + 1)
    new_stride = stride[d] * shape[d] if d < len(shape) else 1
    return shape[:d] + (1,) + shape[d:], stride[:d] + (new_stride,) + stride[d:], offset


def squeeze(shape, stride, offset, dims):
    keep = [i for i in range(len(shape)) if not (i in dims and shape[i] == 1)]
    return tuple(shape[i] for i in keep), tuple(stride[i] for i in keep), offset


def expand(shape, stride, offset, size):
    size = tuple(size)
    if len(size) < len(shape):
        raise RuntimeError("expand(torch.FloatTensor{%s}, size=%s): the number of sizes provided (%d) "
                           "must be greater or equal to the number of dimensions in the tensor (%d)"
                           % (_fmt(shape), _fmt(size), len(size), len(shape)))
    lead = len(size) - len(shape)
    new_shape, new_stride = [], []
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   "non-existing dimension %d" % i)
            new_shape.append(s)
            new_stride.append(0)
            continue
        old, old_st = shape[i - lead], stride[i - lead]
        if s == -1:
            s = old
        if old == s:
            new_shape.append(s)
            new_stride.append(old_st)
        elif old == 1:
            new_shape.append(s)
            new_stride.append(0)
        else:
            raise RuntimeError("The expanded size of the tensor (%d) must match the existing size (%d) at "
                               "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s"
                               % (s, old, i, _fmt(size), _fmt(shape)))
    return tuple(new_shape), tuple(new_stride), offset


def narrow(shape, stride, offset, dim, start, length):
    d = wrap(dim, len(shape))
    if start < 0:
        start += shape[d]
    return (shape[:d] + (length,) + shape[d + 1:], stride, offset + start * stride[d])


def select(shape, stride, offset, dim, index):
    d = wrap(dim, len(shape))
    return shape[:d] + shape[d + 1:], stride[:d] + stride[d + 1:], offset + index * stride[d]


def basic_index(shape, stride, offset, index):
    """Strides for indexing with ints, slices, None and Ellipsis (a normalised index tuple)."""
    new_shape, new_stride = [], []
    d = 0
    for item in index:
        if item is None:
            new_shape.append(1)
            new_stride.append(stride[d] * shape[d] if d < len(shape) else 1)
            continue
        if isinstance(item, int):
            offset += item * stride[d]
            d += 1
            continue
        start, stop, step = item
        n = max(0, (stop - start + step - 1) // step)
        new_shape.append(n)
        new_stride.append(stride[d] * step)
        offset += start * stride[d] if n else 0
        d += 1
    new_shape.extend(shape[d:])
    new_stride.extend(stride[d:])
    return tuple(new_shape), tuple(new_stride), offset


def split_sizes(shape, stride, offset, dim, sizes):
    d = wrap(dim, len(shape))
    out, start = [], 0
    for s in sizes:
        out.append(narrow(shape, stride, offset, d, start, s))
        start += s
    return out


def unbind(shape, stride, offset, dim):
    d = wrap(dim, len(shape))
    return [select(shape, stride, offset, d, i) for i in range(shape[d])]


def diagonal(shape, stride, offset, off, dim1, dim2):
    d1, d2 = wrap(dim1, len(shape)), wrap(dim2, len(shape))
    if off >= 0:
        n = max(0, min(shape[d1], shape[d2] - off))
        offset += off * stride[d2] if n else 0
    else:
        n = max(0, min(shape[d1] + off, shape[d2]))
        offset -= off * stride[d1] if n else 0
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    return (tuple(shape[i] for i in keep) + (n,),
            tuple(stride[i] for i in keep) + (stride[d1] + stride[d2],), offset)


def identity(shape, stride, offset, *args):
    return shape, stride, offset


def as_strided(shape, stride, offset, size, new_stride, storage_offset):
    return tuple(size), tuple(new_stride), offset if storage_offset is None else storage_offset
