"""torch.utils.data's datasets: Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset,
ChainDataset, Subset and random_split, with torch's behaviour and messages.

TensorDataset adds one private fast path, `_getitems_batched`: the DataLoader's fetcher uses it
with the default collate_fn to gather a whole batch with one numpy fancy-index per tensor instead
of indexing and re-stacking every sample (see NOTE [Collating in numpy] in _collate.py)."""
import bisect
import itertools
import math
import warnings

import numpy as np

from ..._tensor import Tensor
from ._collate import _numpy_of

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """An abstract map-style dataset: subclasses define __getitem__ (and usually __len__)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])

    def __class_getitem__(cls, item):  # Dataset[int] in annotations, as typing.Generic allows
        return cls


class IterableDataset(Dataset):
    """An iterable dataset: subclasses define __iter__."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


def _same_length(members, error):
    """len() of the first member, after checking the others against it in order (the first
    mismatch raises `error`, before any later member's len() is asked)."""
    first, *rest = members
    size = len(first)
    for member in rest:
        if len(member) != size:
            raise error
    return size


class TensorDataset(Dataset):
    """Each sample is the tuple of the tensors indexed along their first dimension."""

    def __init__(self, *tensors):
        if tensors:
            rows = tensors[0].size(0)
            for tensor in tensors[1:]:
                if tensor.size(0) != rows:
                    raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(column[index] for column in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)

    def _getitems_batched(self, indices):
        """The default-collated batch for `indices` (a list of tensors, as default_collate makes from
        tuples), or None when a tensor needs the general path (autograd, not on the CPU) or an index is
        out of range (tensor indexing then raises torch's IndexError)."""
        for tensor in self.tensors:
            if not isinstance(tensor, Tensor) or tensor._device.type != "cpu" or tensor._requires_grad:
                return None
        rows = np.asarray(indices, dtype=np.int64)
        size = len(self)
        if rows.size and not (-size <= rows.min() and rows.max() < size):
            return None
        return [Tensor._from_host(np.ascontiguousarray(_numpy_of(tensor)[rows]), tensor.dtype)
                for tensor in self.tensors]


class StackDataset(Dataset):
    """Samples are tuples (positional datasets) or dicts (keyword datasets) of the datasets' samples."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        if not (args or kwargs):
            raise ValueError("At least one dataset should be passed")
        members = args if args else list(kwargs.values())
        self._size = _same_length(members, ValueError("Size mismatch between datasets"))
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: member[index] for key, member in self.datasets.items()}
        return tuple(member[index] for member in self.datasets)

    def __getitems__(self, indices):
        def column(member):
            many = getattr(member, "__getitems__", None)
            if not callable(many):
                return [member[i] for i in indices]
            samples = many(indices)
            if len(samples) != len(indices):
                raise ValueError("Nested dataset's output size mismatch. Expected %d, got %d"
                                 % (len(indices), len(samples)))
            return samples

        if isinstance(self.datasets, dict):
            keys = list(self.datasets)
            columns = [column(self.datasets[key]) for key in keys]
            return [dict(zip(keys, row)) for row in zip(*columns)]
        return list(zip(*(column(member) for member in self.datasets)))

    def __len__(self):
        return self._size


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets."""

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(member) for member in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(member, IterableDataset) for member in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = type(self).cumsum(self.datasets)  # each member's end

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            total = len(self)
            if idx < -total:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += total
        # the member whose end is the first one past idx; its start is the previous end
        member = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[member - 1] if member > 0 else 0
        return self.datasets[member][idx - start]


def _chainable(member):
    if not isinstance(member, IterableDataset):
        raise AssertionError("ChainDataset only supports IterableDataset")
    return member


class ChainDataset(IterableDataset):
    """The chaining of iterable datasets, on the fly (each member is checked when it is reached)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for member in self.datasets:
            yield from _chainable(member)

    def __len__(self):
        return sum(len(_chainable(member)) for member in self.datasets)


def _pick(indices, positions):
    return [indices[p] for p in positions]


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                "%s overrides __getitem__ but not __getitems__. When subclassing Subset and overriding "
                "__getitem__, you must also override __getitems__ to ensure DataLoader works correctly with "
                "your custom logic. A simple implementation:\n\ndef __getitems__(self, indices):\n    return "
                "[self.__getitem__(idx) for idx in indices]" % cls.__name__)

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[_pick(self.indices, idx)]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        many = getattr(self.dataset, "__getitems__", None)
        if callable(many):
            return many(_pick(self.indices, indices))
        return [self.dataset[i] for i in _pick(self.indices, indices)]

    def _getitems_batched(self, indices):
        inner = getattr(self.dataset, "_getitems_batched", None)
        if inner is None or type(self).__getitems__ is not Subset.__getitems__:
            return None
        return inner(_pick(self.indices, indices))

    def __len__(self):
        return len(self.indices)


def _sizes_from_fractions(total, fractions):
    """Whole subset sizes for fractions of `total`: floors, then the remainder handed out one by one
    from the first subset on. Warns (for the caller's caller) about every empty subset."""
    sizes = []
    for position, fraction in enumerate(fractions):
        if fraction < 0 or fraction > 1:
            raise ValueError("Fraction at index %d is not between 0 and 1" % position)
        sizes.append(math.floor(total * fraction))
    for extra in range(total - sum(sizes)):
        sizes[extra % len(sizes)] += 1
    for position, size in enumerate(sizes):
        if size == 0:
            warnings.warn("Length of split at index %d is 0. This might result in an empty dataset." % position,
                          stacklevel=3)
    return sizes


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping Subsets of the given lengths (or fractions summing to 1),
    with torch's permutation: randperm(sum(lengths), generator=generator)."""
    from ...ops.random import randperm
    requested = sum(lengths)
    if math.isclose(requested, 1) and requested <= 1:
        lengths = _sizes_from_fractions(len(dataset), lengths)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    subsets, start = [], 0
    for size in lengths:
        subsets.append(Subset(dataset, order[start:start + size]))
        start += size
    return subsets
