"""Samplers, drawing from jtorch's generators exactly as torch's samplers draw from torch's.

Random draws go straight to the numpy mt19937 core (`_random.Generator`) that backs every
jtorch.Generator, so a shuffled order costs no JAX dispatch and equals torch's after the same seed.
Every random sampler draws lazily, when its iterator is first advanced (not when `iter()` is
called): the DataLoader draws its worker seed between the two, and torch's order of draws is
pinned by the tests in tests/data.
"""
import itertools

import numpy as np

from ... import _dtype as D

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]

# RandomSampler(replacement=True) asks for indices this many at a time, as torch does; the block
# size decides how the generator's stream is cut, so it is part of the order a seed gives.
_REPLACEMENT_BLOCK = 32


def _core(generator):
    from ...ops.random import default_generator
    return (generator if generator is not None else default_generator)._core


def _fresh_seed(generator=None):
    """torch's `int(torch.empty((), dtype=torch.int64).random_(generator=g).item())`."""
    return int(_core(generator).random_((), np.int64))


def _new_generator(seed):
    from ...ops.random import Generator
    g = Generator()
    g.manual_seed(seed)
    return g


def _is_count(value):
    """A positive int that is not a bool: what batch_size and num_samples must be."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Sampler:
    """Base class of samplers: an iterable of indices (or of lists of indices).

    Unlike torch 2.x, the constructor still accepts (and ignores) a data_source argument, as older
    torch releases did, so subclasses that pass it to super().__init__ keep working."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def __class_getitem__(cls, item):
        return cls


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        count = len(self.data_source)
        return iter(range(count))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random order (randperm), or draws with replacement (randint in blocks of 32), as torch does.
    Without a generator each iteration seeds a fresh one from the default generator."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._asked = num_samples  # None: one pass over data_source
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got replacement=%s" % (replacement,))
        count = self.num_samples
        if not isinstance(count, int) or count <= 0:
            raise ValueError("num_samples should be a positive integer value, but got num_samples=%s" % (count,))

    @property
    def num_samples(self):
        return len(self.data_source) if self._asked is None else self._asked

    def __iter__(self):
        population = len(self.data_source)
        gen = self.generator if self.generator is not None else _new_generator(_fresh_seed())
        core, wanted = gen._core, self.num_samples
        if self.replacement:
            sizes = [_REPLACEMENT_BLOCK] * (wanted // _REPLACEMENT_BLOCK) + [wanted % _REPLACEMENT_BLOCK]
            for size in sizes:
                yield from core.randint(0, population, (size,), np.int64).tolist()
            return
        # without replacement: whole permutations, then the head of one more (always drawn, even
        # when nothing of it is used, because torch draws it)
        whole, rest = divmod(wanted, population)
        for _ in range(whole):
            yield from core.randperm(population, np.int64).tolist()
        yield from core.randperm(population, np.int64).tolist()[:rest]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        positions = _core(self.generator).randperm(len(self.indices), np.int64)
        for position in positions.tolist():
            yield self.indices[position]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices drawn with probabilities proportional to `weights` (torch.multinomial)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_count(num_samples):
            raise ValueError("num_samples should be a positive integer value, but got num_samples=%s"
                             % (num_samples,))
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got replacement=%s" % (replacement,))
        from ...ops.creation import as_tensor
        weights = as_tensor(weights, dtype=D.float64)
        if weights.dim() != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape %s"
                             % (tuple(weights.shape),))
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        from ...ops.random import multinomial
        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of `batch_size` indices from `sampler`, the last one shorter unless drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_count(batch_size):
            raise ValueError("batch_size should be a positive integer value, but got batch_size=%s" % (batch_size,))
        if not isinstance(drop_last, bool):
            raise ValueError("drop_last should be a boolean value, but got drop_last=%s" % (drop_last,))
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        source = iter(self.sampler)
        while True:
            chunk = list(itertools.islice(source, self.batch_size))
            if len(chunk) == self.batch_size:
                yield chunk
                continue
            if chunk and not self.drop_last:
                yield chunk
            return

    def __len__(self):
        full, partial = divmod(len(self.sampler), self.batch_size)
        return full if self.drop_last or not partial else full + 1
