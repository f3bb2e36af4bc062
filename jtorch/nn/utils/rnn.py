"""torch.nn.utils.rnn: PackedSequence and the packing helpers.

Packing follows torch exactly (time-major data of the sequences still running at each step,
`batch_sizes` on the CPU as int64, `sorted_indices`/`unsorted_indices` when not enforce_sorted),
built from differentiable gathers so gradients flow through pack and unpack.
"""
from collections import namedtuple

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops import creation

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if isinstance(data, (list, tuple)) and len(data) == 2:
            return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)
        raise TypeError("PackedSequence: batch_sizes must be given")

    def pin_memory(self):
        return self

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        idx = lambda t: None if t is None else t.to(device=data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, idx(self.sorted_indices), idx(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=D.float64)

    def float(self):
        return self.to(dtype=D.float32)

    def half(self):
        return self.to(dtype=D.float16)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = np.asarray(permutation._value())
    out = np.empty_like(p)
    out[p] = np.arange(len(p))
    return creation.tensor(out, dtype=D.int64, device=permutation.device)


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got %dD %s %s tensor"
                               % (lengths.dim(), lengths.device.type, lengths.dtype))
        return [int(v) for v in np.asarray(lengths._value())]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = _lengths_list(lengths)
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                               "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                               "this requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = [int(i) for i in np.argsort(-np.asarray(lengths), kind="stable")]
        sorted_indices = creation.tensor(order, dtype=D.int64, device=input.device)
        lengths = [lengths[i] for i in order]
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if any(l <= 0 for l in lengths):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    T, B = input.shape[0], input.shape[1]
    if lengths[0] > T:
        raise RuntimeError("Expected sequence length to be larger than or equal to the maximum length in 'lengths'")
    batch_sizes = [sum(1 for l in lengths if l > t) for t in range(lengths[0])]
    flat_idx = [t * B + b for t in range(len(batch_sizes)) for b in range(batch_sizes[t])]
    rest = tuple(input.shape[2:])
    data = input.reshape((T * B,) + rest).index_select(0, creation.tensor(flat_idx, dtype=D.int64,
                                                                          device=input.device))
    return PackedSequence(data, creation.tensor(batch_sizes, dtype=D.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    data, batch_sizes = sequence.data, [int(v) for v in np.asarray(batch_sizes_value(sequence.batch_sizes))]
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             "got total_length=%d and max sequence length being %d" % (total_length, max_len))
        max_len = total_length
    B = batch_sizes[0]
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(B)]
    rest = tuple(data.shape[1:])
    pad_row = creation.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    ext = _cat([data, pad_row])
    n = data.shape[0]
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
    gather = np.full((max_len, B), n, np.int64)
    for t, bs in enumerate(batch_sizes):
        gather[t, :bs] = offsets[t] + np.arange(bs)
    padded = ext.index_select(0, creation.tensor(gather.reshape(-1), dtype=D.int64, device=data.device))
    padded = padded.reshape((max_len, B) + rest)
    lengths_t = creation.tensor(lengths, dtype=D.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths_t = lengths_t.index_select(0, sequence.unsorted_indices.cpu())
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths_t


def batch_sizes_value(bs):
    return bs._value() if isinstance(bs, Tensor) else bs


def _cat(tensors, dim=0):
    from ...ops._registry import TORCH
    return TORCH["cat"](tensors, dim)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    if padding_side not in ("left", "right"):
        raise ValueError("Expected padding_side to be one of left or right, but got %s." % padding_side)
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    max_len = max(s.size(0) for s in sequences)
    out = []
    for s in sequences:
        extra = max_len - s.size(0)
        if extra:
            pad = creation.full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = _cat([s, pad] if padding_side == "right" else [pad, s])
        out.append(s)
    from ...ops._registry import TORCH
    return TORCH["stack"](out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(length)] for seq, length in zip(padded_sequences, _lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = creation.tensor([v.size(0) for v in sequences], dtype=D.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
