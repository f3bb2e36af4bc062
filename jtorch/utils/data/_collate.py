"""default_collate / default_convert, with torch's type rules and messages.

NOTE [Collating in numpy]
A batch is stacked in numpy and wrapped as a jtorch tensor once (`Tensor._from_host`, no JAX
dispatch and no copy). Samples that are CPU tensors give their values as numpy arrays (zero-copy
for host tensors and for CPU jax arrays), numbers and numpy scalars become one numpy array per
field. This keeps collation cheap in the main process and free of JAX in worker processes, whose
batches then travel as numpy arrays. Tensors that need autograd or live on an accelerator go
through jtorch.stack instead, so that history and device are kept as torch keeps them.
"""
import collections.abc
import copy
import re

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "default_collate_err_msg_format"]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _numpy_of(t):
    root = t if t._base is None else t._base
    if root._host is not None:
        return t._host_array()
    return np.asarray(t._value())


def _wrap(array, dtype=None):
    return Tensor._from_host(np.ascontiguousarray(array), dtype)


def _stack_arrays(arrays, dtypes):
    """np.stack with torch.stack's size check and type promotion."""
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError("stack expects each tensor to be equal size, but got %s at entry 0 and %s at "
                               "entry %d" % (list(first), list(a.shape), i))
    dtype = dtypes[0]
    for d in dtypes[1:]:
        if d is not dtype:
            dtype = D.promote_types(dtype, d)
    out = np.empty((len(arrays),) + first, dtype=dtype.np)
    for i, a in enumerate(arrays):
        out[i] = a
    return _wrap(out, dtype)


def default_convert(data):
    """Numpy arrays (not of strings/objects) and numpy scalars become tensors, recursively."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        from ...ops.creation import as_tensor
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map=None):
    """torch.utils.data._utils.collate.collate: dispatch on the first element's type."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    if any(not isinstance(t, Tensor) or t._requires_grad or t._device.type != "cpu" for t in batch):
        from ... import stack
        return stack(list(batch), 0)
    return _stack_arrays([_numpy_of(t) for t in batch], [t.dtype for t in batch])


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return _stack_arrays(batch, [D.from_numpy_dtype(b.dtype) for b in batch])


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    arr = np.asarray(batch)  # torch.as_tensor(list of numpy scalars): numpy's common dtype
    return _wrap(arr, D.from_numpy_dtype(arr.dtype))


def collate_float_fn(batch, *, collate_fn_map=None):
    return _wrap(np.asarray(batch, dtype=np.float64), D.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    from ...ops.creation import _infer_numpy  # torch.tensor(batch)'s inference: ints, bools, floats
    arr, dtype = _infer_numpy(list(batch))
    return _wrap(np.asarray(arr).astype(dtype.np), dtype)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {Tensor: collate_tensor_fn, np.ndarray: collate_numpy_array_fn,
                          (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
                          float: collate_float_fn, int: collate_int_fn, str: collate_str_fn,
                          bytes: collate_str_fn}


def default_collate(batch):
    """Stack a list of samples into a batch: tensors, numpy arrays and numbers become tensors with a
    leading batch dimension; dicts, namedtuples, tuples (as lists) and lists recurse; strings stay."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
