"""Strides, views and host memory.

NOTE [Views and version counters]
JAX arrays are immutable, PyTorch tensors alias. jtorch keeps the aliasing itself:

* A tensor that is not a view is a *root*. It owns its data: a jax.Array (`_data`), or a
  writable numpy array (`_host`) once it shares memory with numpy (`from_numpy`, `.numpy()`).
  With host data, the numpy array is the truth, since numpy code may write into it at any time.
* A view keeps its root (`_base`), its size/stride/storage offset in the root's flat storage
  (the same numbers torch reports), and `_read`, a jax function from the root's value to its own.
* Two counters, both shared lists. `_vbox` counts writes to the storage: every tensor on it
  (views, `.data`, `.detach()`) shares it, and a view re-reads its value when the count it
  cached (`_cver`) is stale. `_verbox` is torch's version counter (`t._version`, checked by
  autograd): shared by views and `.detach()`, but `.data` gets its own, as in torch.
* A write into a view is written back into the root: into the numpy array through a strided
  numpy view, or into the jax value by a scatter over the view's flat positions. A root from a
  strided numpy array (`from_numpy(a[:, ::2])`) keeps that array and its strides.
* A view whose dtype differs from its root's (view_as_real, .real/.imag, view_as_complex) counts
  positions in its own element type: `_flat_as` reinterprets the root's storage for it.
* After an in-place write to the root or to any view (`_verbox` moved), a differentiable view's
  grad_fn is regenerated from the root's new history as AsStridedBackward0, as torch does
  (`Tensor._refresh_grad_fn`, called by `grad_fn` and by autograd's `edge`).
* In-place metadata ops (t_, transpose_, squeeze_, unsqueeze_) re-view a view, re-view a root's
  numpy array, or reshape a root's jax value; a root with live views (tracked weakly in
  `_views`) refuses them, since those views read it through its old layout.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np


def contiguous_strides(shape):
    return _contiguous_strides(tuple(shape))


@functools.lru_cache(maxsize=4096)   # every new tensor asks: a cache hit beats the loop
def _contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def is_contiguous(shape, stride):
    expected = 1
    for s, st in zip(reversed(shape), reversed(stride)):
        if s == 1:
            continue
        if st != expected:
            return False
        expected *= s
    return True


def numel(shape):
    return math.prod(shape)


@functools.lru_cache(maxsize=4096)
def flat_positions(shape, stride, offset):
    """The flat storage position of every element of a strided view, as an int array of `shape`."""
    idx = np.full(shape, offset, dtype=np.int64)
    for d, (s, st) in enumerate(zip(shape, stride)):
        view_shape = [1] * len(shape)
        view_shape[d] = s
        idx = idx + (np.arange(s, dtype=np.int64) * st).reshape(view_shape)
    return idx


def host_view(host, shape, stride, offset, dtype=None):
    """A numpy view of `host` (a root's numpy array) with torch's size/stride/offset in elements.

    The root's numpy array may itself be strided (from_numpy of a slice): positions count from its
    first element, as torch's storage offsets do, so the view is cut from the raw memory span.
    `dtype` (view_as_real / view_as_complex) reinterprets the memory in that element type."""
    dtype = host.dtype if dtype is None else np.dtype(dtype)
    if not host.size or not numel(shape):
        return np.empty(shape, dtype)
    item = host.itemsize
    if host.flags.c_contiguous:
        flat = host.reshape(-1)
    else:
        extent = 1 + sum((n - 1) * (st // item) for n, st in zip(host.shape, host.strides))
        flat = np.lib.stride_tricks.as_strided(host, (extent,), (item,))
    if dtype != host.dtype:
        flat = flat.view(dtype)
        item = dtype.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], shape, tuple(st * item for st in stride))


def _flat_as(root, dtype):
    """The root's storage as a flat array of `dtype` elements: a real view of a complex root counts
    two elements per complex number, a complex view of a real root one per pair."""
    root_complex = jnp.issubdtype(root.dtype, jnp.complexfloating)
    if root_complex == jnp.issubdtype(dtype, jnp.complexfloating):
        return root.reshape(-1)
    if root_complex:
        return jnp.stack([root.real, root.imag], -1).reshape(-1)
    pairs = root.reshape(-1, 2)
    return jax.lax.complex(pairs[:, 0], pairs[:, 1])


def _flat_back(flat, root):
    """Inverse of _flat_as: the flat storage back as the root's value."""
    root_complex = jnp.issubdtype(root.dtype, jnp.complexfloating)
    if root_complex == jnp.issubdtype(flat.dtype, jnp.complexfloating):
        return flat.reshape(root.shape).astype(root.dtype)
    if root_complex:
        pairs = flat.reshape(-1, 2)
        return jax.lax.complex(pairs[:, 0], pairs[:, 1]).reshape(root.shape).astype(root.dtype)
    return jnp.stack([flat.real, flat.imag], -1).reshape(root.shape).astype(root.dtype)


@functools.lru_cache(maxsize=1024)
def _writer(root_shape, shape, stride, offset, same_kind):
    positions = flat_positions(shape, stride, offset).reshape(-1)
    if same_kind and len(positions) == numel(root_shape) and np.array_equal(positions, np.arange(len(positions))):
        return jax.jit(lambda root, new: new.reshape(root_shape).astype(root.dtype))

    def write(root, new):
        flat = _flat_as(root, new.dtype)
        return _flat_back(flat.at[positions].set(new.reshape(-1).astype(flat.dtype)), root)
    return jax.jit(write)


def strided_reader(root_shape, shape, stride, offset, dtype=None):
    """A pure function from a root's value to a strided view of it (a gather; torch's as_strided)."""
    positions = flat_positions(tuple(shape), tuple(stride), offset)

    def read(root):
        return _flat_as(root, root.dtype if dtype is None else dtype)[positions]
    return read


def write_back(root_value, shape, stride, offset, new_value):
    """The root's new jax value after writing `new_value` into its strided view."""
    same = jnp.issubdtype(root_value.dtype, jnp.complexfloating) == \
        jnp.issubdtype(new_value.dtype, jnp.complexfloating)
    return _writer(tuple(root_value.shape), tuple(shape), tuple(stride), offset, same)(root_value, new_value)


def to_jax(array):
    """A jax copy of a numpy array. jax.device_put may alias numpy memory on CPU, so it gets a
    private copy; jnp.asarray would copy too, but it compiles a program per new shape (~50 ms)."""
    return jax.device_put(np.array(array, copy=True))
