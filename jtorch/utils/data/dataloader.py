"""DataLoader: torch's options, validation, sampling order and random-number use, over numpy
collation (NOTE [Collating in numpy]) and fresh-interpreter workers (NOTE [DataLoader workers are
fresh interpreters]).

Random numbers are drawn as torch draws them, so that the generator state after a loop, and every
shuffled order, equal torch's: each new iterator draws a base seed for the workers from
`generator` (or the default generator) after creating the sampler's iterator, and a RandomSampler
without its own generator draws its seed when it yields its first index.
"""
import itertools
import os
import warnings

from . import _worker
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _fresh_seed

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert", "_DatasetKind"]

get_worker_info = _worker.get_worker_info


class _DatasetKind:
    Map = "map"
    Iterable = "iterable"


class _InfiniteConstantSampler:
    """The sampler of an IterableDataset: None forever."""

    def __iter__(self):
        while True:
            yield None


# ---------------------------------------------------------------------------------- fetchers

class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.batched = getattr(dataset, "_getitems_batched", None) if collate_fn is default_collate else None

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self.batched is not None:
                out = self.batched(possibly_batched_index)
                if out is not None:
                    return out
            if hasattr(self.dataset, "__getitems__") and self.dataset.__getitems__:
                data = self.dataset.__getitems__(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def _create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
    cls = _MapDatasetFetcher if kind == "map" else _IterableDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# ---------------------------------------------------------------------------------- DataLoader

class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader.

    Differences from torch: worker processes are fresh interpreters rather than forks (see the NOTE
    in _worker.py), so with num_workers > 0 the dataset, collate_fn and worker_init_fn must be
    picklable by cloudpickle; `multiprocessing_context` is accepted and ignored; `pin_memory` is
    accepted and does nothing (JAX manages host-to-device transfers).
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers "
                             "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading "
                             "(num_workers > 0), but got num_workers=%d" % num_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 "shuffle=%s" % (shuffle,))
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 "sampler=%s" % (sampler,))
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 "but got batch_sampler=%s" % (batch_sampler,))
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")
        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True
        self.check_worker_number_rationality()
        if num_workers > 0:
            _worker.prestart(num_workers)  # interpreters take seconds to start: begin now, in the background

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError("%s attribute should not be set after %s is initialized"
                             % (attr, self.__class__.__name__))
        super().__setattr__(attr, val)

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_kind == "iterable":
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        if not self.num_workers:
            return
        try:
            max_workers = len(os.sched_getaffinity(0))
        except AttributeError:
            max_workers = os.cpu_count()
        if max_workers is not None and self.num_workers > max_workers:
            warnings.warn("This DataLoader will create %d worker processes in total. Our suggested max number of "
                          "worker in current system is %d, which is smaller than what this DataLoader is going to "
                          "create. Please be aware that excessive worker creation might get DataLoader running "
                          "slow or even freeze, lower the worker number to avoid potential slowness/freeze if "
                          "necessary." % (self.num_workers, max_workers), stacklevel=2)

    def __del__(self):
        it = self.__dict__.get("_iterator")
        if it is not None:
            it._shutdown_workers()


# ---------------------------------------------------------------------------------- iterators

class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory:
            from ... import cuda
            if not cuda.is_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                              "pinned memory won't be used.", stacklevel=3)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _fresh_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        if self._sampler_iter is None:
            self._reset()
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == "iterable" and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = ("Length of IterableDataset %s was reported to be %d(when accessing len(dataloader)), but %d "
                   "samples have been fetched. " % (self._dataset, self._IterableDataset_len_called,
                                                    self._num_yielded))
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                        "IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", self.__class__.__name__)

    def _shutdown_workers(self):
        pass


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._dataset_fetcher = _create_fetcher(self._dataset_kind, self._dataset, self._auto_collation,
                                                self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._dataset_fetcher.fetch(index)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Indices go round-robin to the workers, at most prefetch_factor * num_workers batches ahead;
    batches come back in sampler order, as torch's in_order=True gives them."""

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._shutdown = False
        self._workers = []
        try:
            payload, self._shared, spans = _worker.dumps_payload({
                "dataset": self._dataset, "kind": self._dataset_kind, "auto_collation": self._auto_collation,
                "collate_fn": self._collate_fn, "drop_last": self._drop_last,
                "worker_init_fn": loader.worker_init_fn, "base_seed": self._base_seed,
                "num_workers": self._num_workers})
        except Exception as e:
            raise RuntimeError(
                "DataLoader(num_workers=%d) sends the dataset, collate_fn and worker_init_fn to its worker processes "
                "by pickling them (jtorch's workers are new interpreters, not forks), and this failed: %s: %s. "
                "Make them picklable, or use num_workers=0." % (self._num_workers, type(e).__name__, e)) from e
        self._loaded = 0  # workers that have loaded the payload: the shared file goes when all have
        self._workers = _worker.acquire(self._num_workers)
        try:
            for worker_id, w in enumerate(self._workers):
                w.send(("start", payload, worker_id, self._shared, spans))
        except OSError:
            _worker.remove_shared(self._shared)
            _worker.discard(self._workers)
            raise RuntimeError("DataLoader worker (pid(s) %s) exited unexpectedly"
                               % ", ".join(str(w.pid) for w in self._workers)) from None
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: drop what the last epoch left in flight, then start a new pass
            for w in self._workers:
                w.send(("resume",))
            for w in self._workers:
                while w.recv()[0] != "resumed":
                    pass
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                break
        else:
            return
        self._workers[worker_queue_idx].send(("fetch", self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _get_data(self):
        """The next (idx, kind, value) from any worker, in arrival order."""
        while True:
            ready = _worker.wait_any(self._workers, self._timeout if self._timeout > 0 else 5.0)
            if ready:
                msg = ready[0].recv()
                if len(msg) == 3:
                    return msg
                if msg[0] == "loaded":
                    self._loaded += 1
                    if self._loaded == self._num_workers:
                        _worker.remove_shared(self._shared)
                continue
            if self._timeout > 0:
                raise RuntimeError("DataLoader timed out after %s seconds" % self._timeout)
            dead = [w for w in self._workers if not w.alive()]
            if dead:
                raise RuntimeError("DataLoader worker (pid(s) %s) exited unexpectedly"
                                   % ", ".join(str(w.pid) for w in dead))

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    worker_id = info[0]
                    if len(info) == 2 or self._workers_status[worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                kind, value = self._task_info.pop(self._rcvd_idx)[1]
                return self._process_data(kind, value)
            try:
                idx, kind, value = self._get_data()
            except RuntimeError:
                self._shutdown_workers(broken=True)
                raise
            self._tasks_outstanding -= 1
            if kind == "stop":
                self._workers_status[value] = False
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                self._task_info[idx] += ((kind, value),)
            else:
                del self._task_info[idx]
                return self._process_data(kind, value)

    def _process_data(self, kind, value):
        self._rcvd_idx += 1
        self._try_put_index()
        if kind == "error":
            value.reraise()
        return value

    def _shutdown_workers(self, broken=False):
        if self._shutdown or not self._workers:
            return
        self._shutdown = True
        if broken:
            _worker.discard(self._workers)
            _worker.remove_shared(self._shared)
        elif self._loaded == self._num_workers:
            _worker.remove_shared(self._shared)
            _worker.release(self._workers)
        else:  # some worker may not have opened the payload file yet
            _worker.release(self._workers, self._shared)
        self._workers = []

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:
            pass
