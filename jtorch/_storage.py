"""Strides, views and host memory.

NOTE [Views and version counters]
JAX arrays are immutable, PyTorch tensors alias. jtorch keeps the aliasing itself:

* A tensor that is not a view is a *root*. It owns its data: a jax.Array (`_data`), or a
  writable numpy array (`_host`) once it shares memory with numpy (`from_numpy`, `.numpy()`).
  With host data, the numpy array is the truth, since numpy code may write into it at any time.
* A view keeps its root (`_base`), its size/stride/storage offset in the root's flat storage
  (the same numbers torch reports), and `_read`, a jax function from the root's value to its own.
* Root and views share one version box. Every in-place write bumps it; a view re-reads its
  value when the version it cached is stale.
* A write into a view is written back into the root: into the numpy array through a strided
  numpy view, or into the jax value by a scatter over the view's flat positions.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np


def contiguous_strides(shape):
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


def host_view(host, shape, stride, offset):
    """A numpy view of `host` (a root's numpy array) with torch's size/stride/offset in elements."""
    flat = host.reshape(-1)
    if not flat.size:
        return flat[:0].reshape(shape)
    item = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], shape, tuple(st * item for st in stride))


@functools.lru_cache(maxsize=1024)
def _writer(root_shape, shape, stride, offset):
    positions = flat_positions(shape, stride, offset).reshape(-1)
    if len(positions) == numel(root_shape) and np.array_equal(positions, np.arange(len(positions))):
        return jax.jit(lambda root, new: new.reshape(root_shape).astype(root.dtype))

    def write(root, new):
        flat = root.reshape(-1).at[positions].set(new.reshape(-1).astype(root.dtype))
        return flat.reshape(root_shape)
    return jax.jit(write)


def write_back(root_value, shape, stride, offset, new_value):
    """The root's new jax value after writing `new_value` into its strided view."""
    return _writer(tuple(root_value.shape), tuple(shape), tuple(stride), offset)(root_value, new_value)


def to_jax(array):
    """A jax copy of a numpy array (jnp.asarray copies; jax.device_put may alias numpy memory on CPU)."""
    return jnp.asarray(array)
