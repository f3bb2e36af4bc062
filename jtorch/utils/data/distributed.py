"""torch.utils.data.distributed.DistributedSampler: each replica's share of a (shuffled) dataset."""
import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _dist():
    try:
        from ... import distributed
    except ImportError:
        return None
    return distributed


class DistributedSampler(Sampler):
    """The indices of replica `rank` out of `num_replicas`: with shuffle, randperm from a generator seeded
    with seed + epoch (call set_epoch every epoch); padded by repetition, or cut with drop_last, so that
    every replica gets the same number."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            dist = _dist()
            if dist is None or not getattr(dist, "is_available", lambda: False)():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError("Invalid rank %d, rank should be in the interval [0, %d]" % (rank, num_replicas - 1))
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            from .sampler import _new_generator
            g = _new_generator(self.seed + self.epoch)
            indices = g._core.randperm(len(self.dataset), np.int64).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        indices = indices[self.rank:self.total_size:self.num_replicas]
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
