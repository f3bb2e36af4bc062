"""default_collate / default_convert, with torch's type rules and messages.

NOTE [Collating in numpy]
A batch is stacked in numpy and wrapped as a jtorch tensor once (`Tensor._from_host`, no JAX
dispatch and no copy). Samples that are CPU tensors give their values as numpy arrays (zero-copy
for host tensors and for CPU jax arrays), numbers and numpy scalars become one numpy array per
field. This keeps collation cheap in the main process and free of JAX in worker processes, whose
batches then travel as numpy arrays. Tensors that need autograd or live on an accelerator go
through jtorch.stack instead, so that history and device are kept as torch keeps them.

How a batch is collated is decided by the type of its first sample: first the table
`default_collate_fn_map` (exact type, then isinstance in the table's order), then containers
(mappings, namedtuples, other sequences), which are collated field by field and rebuilt in the
first sample's container type where that type allows it.
"""
import copy
import functools
import itertools
import re
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "default_collate_err_msg_format"]

# numpy dtype strings ('<U3', '|S2', '|O') of arrays that hold text or Python objects: these are
# not turned into tensors
_TEXT_OR_OBJECT_DTYPE = re.compile(r"[SaUO]")
np_str_obj_array_pattern = _TEXT_OR_OBJECT_DTYPE  # torch's name, importable from _utils.collate

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _holds_text_or_objects(array):
    return _TEXT_OR_OBJECT_DTYPE.search(array.dtype.str) is not None


def _numpy_of(t):
    """A CPU tensor's values as a numpy array, without a copy where the tensor lives on the host."""
    root = t if t._base is None else t._base
    if root._host is not None:
        return t._host_array()
    return np.asarray(t._value())


def _as_batch(array, dtype=None):
    return Tensor._from_host(np.ascontiguousarray(array), dtype)


def _stack_host(arrays, dtypes):
    """np.stack with torch.stack's size check and message, into torch's promoted dtype of `dtypes`."""
    shape = arrays[0].shape
    for entry, array in enumerate(arrays):
        if array.shape != shape:
            raise RuntimeError("stack expects each tensor to be equal size, but got %s at entry 0 and %s at "
                               "entry %d" % (list(shape), list(array.shape), entry))
    dtype = functools.reduce(lambda acc, d: acc if d is acc else D.promote_types(acc, d), dtypes)
    out = np.empty((len(arrays),) + shape, dtype=dtype.np)
    np.stack(arrays, out=out, casting="unsafe")
    return _as_batch(out, dtype)


# ---------------------------------------------------------------------------------- rebuilding containers

def _rebuild_mapping(template, values):
    """`values` (a dict) in `template`'s mapping type: a mutable mapping is copied and updated, any
    other type is called with the dict; a type that refuses (TypeError) gives the plain dict."""
    try:
        if isinstance(template, MutableMapping):
            rebuilt = copy.copy(template)
            rebuilt.update(values)
            return rebuilt
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template, items):
    """`items` (a list) in `template`'s sequence type, the same way as _rebuild_mapping."""
    try:
        if isinstance(template, MutableSequence):
            rebuilt = copy.copy(template)
            for position, item in enumerate(items):
                rebuilt[position] = item
            return rebuilt
        return type(template)(items)
    except TypeError:
        return items


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")


# ---------------------------------------------------------------------------------- default_convert

def _is_numpy_value(data):
    """An ndarray or numpy scalar other than a numpy string, judged by the type's module as torch does."""
    kind = type(data)
    return kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_")


def default_convert(data):
    """Numpy arrays (not of strings/objects) and numpy scalars become tensors, recursively."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy_value(data):
        if type(data).__name__ == "ndarray" and _holds_text_or_objects(data):
            return data
        from ...ops.creation import as_tensor
        return as_tensor(data)
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple):
        converted = [default_convert(item) for item in data]
        return type(data)(*converted) if _is_namedtuple(data) else converted
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(item) for item in data])
    return data


# ---------------------------------------------------------------------------------- collate

def _handler(sample, table):
    """The table's function for `sample`'s type: an exact key first, then the first isinstance match."""
    if table is None:
        return None
    kind = type(sample)
    if kind in table:
        return table[kind]
    for key, fn in table.items():
        if isinstance(sample, key):
            return fn
    return None


def _collate_with(batch, table):
    first = batch[0]
    fn = _handler(first, table)
    if fn is not None:
        return fn(batch, collate_fn_map=table)
    inner = functools.partial(_collate_with, table=table)
    if isinstance(first, Mapping):
        return _rebuild_mapping(first, {key: inner([sample[key] for sample in batch]) for key in first})
    if _is_namedtuple(first):
        return type(first)(*(inner(field) for field in zip(*batch)))
    if isinstance(first, Sequence):
        width = len(first)
        if any(len(sample) != width for sample in itertools.islice(batch, 1, None)):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [inner(field) for field in zip(*batch)]
        return fields if isinstance(first, tuple) else _rebuild_sequence(first, fields)
    raise TypeError(default_collate_err_msg_format.format(type(first)))


def collate(batch, *, collate_fn_map=None):
    """torch.utils.data._utils.collate.collate: dispatch on the first sample's type."""
    return _collate_with(batch, collate_fn_map)


def _host_tensor(value):
    """A tensor whose batch can be stacked in numpy: on the CPU and outside autograd."""
    return isinstance(value, Tensor) and not value._requires_grad and value._device.type == "cpu"


def collate_tensor_fn(batch, *, collate_fn_map=None):
    if all(_host_tensor(t) for t in batch):
        return _stack_host([_numpy_of(t) for t in batch], [t.dtype for t in batch])
    from ... import stack
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _holds_text_or_objects(batch[0]):
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return _stack_host(batch, [D.from_numpy_dtype(array.dtype) for array in batch])


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    values = np.asarray(batch)  # torch.as_tensor(list of numpy scalars): numpy's common dtype
    return _as_batch(values, D.from_numpy_dtype(values.dtype))


def collate_float_fn(batch, *, collate_fn_map=None):
    return _as_batch(np.asarray(batch, dtype=np.float64), D.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    from ...ops.creation import _infer_numpy  # torch.tensor(batch)'s inference: ints, bools, floats
    values, dtype = _infer_numpy(list(batch))
    return _as_batch(np.asarray(values).astype(dtype.np), dtype)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


# the order matters: after the exact-type lookup, the first isinstance match wins (bool -> int)
default_collate_fn_map = {Tensor: collate_tensor_fn, np.ndarray: collate_numpy_array_fn,
                          (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
                          float: collate_float_fn, int: collate_int_fn, str: collate_str_fn,
                          bytes: collate_str_fn}


def default_collate(batch):
    """Stack a list of samples into a batch: tensors, numpy arrays and numbers become tensors with a
    leading batch dimension; dicts, namedtuples, tuples (as lists) and lists recurse; strings stay."""
    return _collate_with(batch, default_collate_fn_map)
