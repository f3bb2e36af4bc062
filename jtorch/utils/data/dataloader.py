"""DataLoader: torch's options, validation, sampling order and random-number use, over numpy
collation (NOTE [Collating in numpy]) and fresh-interpreter workers (NOTE [DataLoader workers are
fresh interpreters]).

Random numbers are drawn as torch draws them, so that the generator state after a loop, and every
shuffled order, equal torch's: each new iterator draws a base seed for the workers from
`generator` (or the default generator) after creating the sampler's iterator, and a RandomSampler
without its own generator draws its seed when it yields its first index.

One iterator class, `_LoaderIter`, serves every configuration; what differs is where its batches
are computed: `_InProcess` (num_workers=0) or `_WorkerPool`. Both turn "indices" (one index, or a
list of them when the loader batches) into a batch with a fetcher from `_make_fetcher`, the one
function the worker processes use too.
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
    """Importable from torch.utils.data, so importable here; a loader itself keeps the kind as
    the bool `_streams` (True for an IterableDataset)."""
    Map = "map"
    Iterable = "iterable"


class _EveryIndexNone:
    """The sampler of an IterableDataset: the dataset itself decides what comes next."""

    def __iter__(self):
        return itertools.repeat(None)


# ---------------------------------------------------------------------------------- fetching

def _make_fetcher(spec):
    """A function from indices to a batch, for one pass over spec["dataset"]. `spec` is the dict a
    DataLoader gives each pass (see _fetch_spec), in this process or in a worker. For an
    IterableDataset the pass starts here, with iter(dataset), and StopIteration marks its end."""
    dataset, collate_fn, batched = spec["dataset"], spec["collate_fn"], spec["batched"]
    if spec["iterable"]:
        return _stream_fetcher(iter(dataset), batched, collate_fn, spec["drop_last"])
    if not batched:
        return lambda index: collate_fn(dataset[index])
    # a dataset that can produce a default-collated batch itself (TensorDataset, Subset of one)
    whole = getattr(dataset, "_getitems_batched", None) if collate_fn is default_collate else None

    def fetch(indices):
        if whole is not None:
            batch = whole(indices)
            if batch is not None:
                return batch
        many = getattr(dataset, "__getitems__", None)
        return collate_fn(many(indices) if many else [dataset[i] for i in indices])
    return fetch


def _stream_fetcher(stream, batched, collate_fn, drop_last):
    """Batches from an IterableDataset's iterator: as many samples as `indices` asks for, fewer at
    the end (none at all with drop_last), then StopIteration for good."""
    ended = False

    def fetch(indices):
        nonlocal ended
        if ended:
            raise StopIteration
        if not batched:
            return collate_fn(next(stream))
        samples = list(itertools.islice(stream, len(indices)))
        ended = len(samples) < len(indices)
        if not samples or (ended and drop_last):
            raise StopIteration
        return collate_fn(samples)
    return fetch


def _fetch_spec(loader):
    return {"dataset": loader.dataset, "iterable": loader._streams, "batched": loader.batch_sampler is not None,
            "collate_fn": loader.collate_fn, "drop_last": loader.drop_last}


# ---------------------------------------------------------------------------------- options

def _worker_prefetch(num_workers, timeout, prefetch_factor, persistent_workers, multiprocessing_context):
    """Check the worker options in torch's order; the prefetch_factor in effect (2 with workers)."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if prefetch_factor is None:
        prefetch_factor = 2 if num_workers > 0 else None
    elif num_workers == 0:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers "
                         "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    elif prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and not num_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None and num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         "(num_workers > 0), but got num_workers=%d" % num_workers)
    return prefetch_factor


def _not_for_streams(option, value):
    return ValueError("DataLoader with IterableDataset: expected unspecified %s option, but got %s=%s"
                      % (option, option, value))


def _sampling(dataset, streams, batch_size, shuffle, sampler, batch_sampler, drop_last, generator):
    """torch's rules for what a DataLoader samples with, checked in torch's order; returns
    (batch_size, drop_last, sampler, batch_sampler) as the loader keeps them."""
    if streams:
        if shuffle not in {False, None}:
            raise _not_for_streams("shuffle", shuffle)
        if sampler is not None:
            raise _not_for_streams("sampler", sampler)
        if batch_sampler is not None:
            raise _not_for_streams("batch_sampler", batch_sampler)
    else:
        shuffle = bool(shuffle)
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if sampler is not None or batch_size != 1 or shuffle or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
        batch_size, drop_last = None, False
    elif batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                         "drop_last")
    if sampler is None:
        if streams:
            sampler = _EveryIndexNone()
        else:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    if batch_sampler is None and batch_size is not None:
        batch_sampler = BatchSampler(sampler, batch_size=batch_size, drop_last=drop_last)
    return batch_size, drop_last, sampler, batch_sampler


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count()


# what a user may not reassign once the loader exists (the iterators depend on them)
_FIXED = frozenset(("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"))


# ---------------------------------------------------------------------------------- DataLoader

class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader.

    Differences from torch: worker processes are fresh interpreters rather than forks (see the NOTE
    in _worker.py), so with num_workers > 0 the dataset, collate_fn and worker_init_fn must be
    picklable by cloudpickle; `multiprocessing_context` is accepted and ignored; `pin_memory` is
    accepted and does nothing (JAX manages host-to-device transfers); `in_order=False` is accepted
    and batches still come in sampler order.
    """

    _fixed_now = False  # set at the end of __init__: from then on the _FIXED attributes are read-only

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        prefetch_factor = _worker_prefetch(num_workers, timeout, prefetch_factor, persistent_workers,
                                           multiprocessing_context)
        as_given = dict(dataset=dataset, num_workers=num_workers, prefetch_factor=prefetch_factor,
                        pin_memory=pin_memory, pin_memory_device=pin_memory_device, timeout=timeout,
                        worker_init_fn=worker_init_fn, multiprocessing_context=multiprocessing_context,
                        in_order=in_order, generator=generator, persistent_workers=persistent_workers)
        for name, value in as_given.items():  # torch's public attributes, kept as passed
            setattr(self, name, value)
        self._streams = isinstance(dataset, IterableDataset)
        self.batch_size, self.drop_last, self.sampler, self.batch_sampler = _sampling(
            dataset, self._streams, batch_size, shuffle, sampler, batch_sampler, drop_last, generator)
        if collate_fn is None:
            collate_fn = default_collate if self.batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._reported_len = None  # len(dataset) of an IterableDataset, once len(loader) has asked for it
        self._kept = None          # with persistent workers: the one iterator, reused by every pass
        self._fixed_now = True
        self.check_worker_number_rationality()
        if num_workers > 0:
            _worker.prestart(num_workers)  # interpreters take seconds to start: begin now, in the background

    def __setattr__(self, name, value):
        if self._fixed_now and name in _FIXED:
            raise ValueError("%s attribute should not be set after %s is initialized" % (name, type(self).__name__))
        object.__setattr__(self, name, value)

    @property
    def _index_plan(self):
        """What each step of a pass draws from: the batch sampler when the loader batches."""
        return self.sampler if self.batch_sampler is None else self.batch_sampler

    def __iter__(self):
        if not (self.persistent_workers and self.num_workers > 0):
            return _LoaderIter(self)
        if self._kept is None:
            self._kept = _LoaderIter(self)
        else:
            self._kept._restart(self)
        return self._kept

    def __len__(self):
        if not self._streams:
            return len(self._index_plan)
        samples = self._reported_len = len(self.dataset)
        if self.batch_size is None:
            return samples
        whole, partial = divmod(samples, self.batch_size)
        return whole + (1 if partial and not self.drop_last else 0)

    def check_worker_number_rationality(self):
        """Warn, with torch's words, when there are more workers than CPUs this process may use."""
        cpus = _usable_cpus() if self.num_workers else None
        if cpus is None or self.num_workers <= cpus:
            return
        warnings.warn("This DataLoader will create %d worker processes in total. Our suggested max number of "
                      "worker in current system is %d, which is smaller than what this DataLoader is going to "
                      "create. Please be aware that excessive worker creation might get DataLoader running "
                      "slow or even freeze, lower the worker number to avoid potential slowness/freeze if "
                      "necessary." % (self.num_workers, cpus), stacklevel=2)

    def __del__(self):
        kept = self.__dict__.get("_kept")
        if kept is not None:
            kept._close()


# ---------------------------------------------------------------------------------- iteration

class _LoaderIter:
    """A pass over a DataLoader; with persistent workers, every pass (`_restart` begins the next).
    Counts the batches it hands out, to warn as torch does when an IterableDataset gives more than
    the len() it reported."""

    def __init__(self, loader):
        if loader.pin_memory:
            from ... import cuda
            if not cuda.is_available():
                warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                              "pinned memory won't be used.", stacklevel=2)
        self._dataset = loader.dataset
        self._plan = loader._index_plan
        self._with_workers = loader.num_workers > 0
        self._reported = loader._reported_len
        self._handed_out = 0
        order = iter(self._plan)
        seed = _fresh_seed(loader.generator)  # drawn by every new iterator, workers or not, as torch does
        if self._with_workers:
            self._source = _WorkerPool(loader, seed, order)
        else:
            self._source = _InProcess(order, _make_fetcher(_fetch_spec(loader)))

    def __iter__(self):
        return self

    def __next__(self):
        batch = self._source.next_batch()
        self._handed_out += 1
        if self._reported is not None and self._handed_out > self._reported:
            note = ("Length of IterableDataset %s was reported to be %d(when accessing len(dataloader)), but %d "
                    "samples have been fetched. " % (self._dataset, self._reported, self._handed_out))
            if self._with_workers:
                note += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                         "IterableDataset replica at each worker. Please see "
                         "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(note, stacklevel=2)
        return batch

    def __len__(self):
        return len(self._plan)

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", type(self).__name__)

    def _restart(self, loader):
        self._reported = loader._reported_len
        self._handed_out = 0
        self._source.restart(iter(self._plan))

    def _close(self):
        self._source.close()


class _InProcess:
    """Batches computed in this process, one per call."""

    def __init__(self, order, fetch):
        self._order, self._fetch = order, fetch

    def next_batch(self):
        return self._fetch(next(self._order))

    def close(self):
        pass


class _WorkerPool:
    """Batches computed by worker processes (NOTE [DataLoader workers are fresh interpreters]).

    Each request carries a ticket, numbered in sampler order. Requests go to the workers in turn,
    skipping those whose IterableDataset replica has run out, and at most prefetch_factor per
    worker are outstanding; answers may arrive in any order and are handed out by ticket, so
    batches come in sampler order (torch's in_order=True)."""

    def __init__(self, loader, seed, order):
        self._procs = []
        self._closed = False
        self._size = loader.num_workers
        self._depth = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._keep = loader.persistent_workers
        payload = dict(_fetch_spec(loader), worker_init_fn=loader.worker_init_fn, base_seed=seed,
                       num_workers=self._size)
        try:
            blob, self._shared, spans = _worker.dumps_payload(payload)
        except Exception as e:
            raise RuntimeError(
                "DataLoader(num_workers=%d) sends the dataset, collate_fn and worker_init_fn to its worker processes "
                "by pickling them (jtorch's workers are new interpreters, not forks), and this failed: %s: %s. "
                "Make them picklable, or use num_workers=0." % (self._size, type(e).__name__, e)) from e
        self._loaded = 0  # workers that have read the payload: the shared file can go when all have
        self._procs = _worker.acquire(self._size)
        try:
            for worker_id, proc in enumerate(self._procs):
                proc.send(("start", blob, worker_id, self._shared, spans))
        except OSError:
            procs, self._procs = self._procs, []
            _worker.remove_shared(self._shared)
            _worker.discard(procs)
            raise RuntimeError("DataLoader worker (pid(s) %s) exited unexpectedly"
                               % ", ".join(str(p.pid) for p in procs)) from None
        self._begin(order)

    def _begin(self, order):
        self._order = order
        self._issued = 0     # tickets sent so far
        self._due = 0        # the ticket whose batch is handed out next
        self._owner = {}     # ticket -> worker, while its answer has not arrived
        self._early = {}     # ticket -> (kind, value) that arrived before its turn
        self._active = [True] * self._size
        self._turns = itertools.cycle(range(self._size))
        for _ in range(self._depth):
            self._request()

    def restart(self, order):
        """A new pass on the same workers: each drops what the last pass left in flight first."""
        for proc in self._procs:
            proc.send(("resume",))
        for proc in self._procs:
            while proc.recv()[0] != "resumed":
                pass
        self._begin(order)

    def _request(self):
        """Send the next indices to the next active worker (the indices are drawn first, as torch does)."""
        try:
            indices = next(self._order)
        except StopIteration:
            return
        worker = next((w for w in itertools.islice(self._turns, self._size) if self._active[w]), None)
        if worker is None:
            return
        self._procs[worker].send(("fetch", self._issued, indices))
        self._owner[self._issued] = worker
        self._issued += 1

    def _receive(self):
        """The next (ticket, kind, value) from any worker, counting ("loaded",) notes on the way."""
        poll_s = self._timeout if self._timeout > 0 else 5.0  # without a timeout: look for dead workers
        while True:
            ready = _worker.wait_any(self._procs, poll_s)
            if not ready:
                if self._timeout > 0:
                    raise RuntimeError("DataLoader timed out after %s seconds" % self._timeout)
                dead = [p for p in self._procs if not p.alive()]
                if dead:
                    raise RuntimeError("DataLoader worker (pid(s) %s) exited unexpectedly"
                                       % ", ".join(str(p.pid) for p in dead))
                continue
            message = ready[0].recv()
            if len(message) == 3:
                return message
            if message[0] == "loaded":
                self._loaded += 1
                if self._loaded == self._size:
                    _worker.remove_shared(self._shared)

    def _skip_unanswerable(self):
        """Move `_due` past tickets that will get no answer (sent to a worker that has since run out);
        False when no ticket is left."""
        while self._due < self._issued:
            if self._due in self._early:
                return True
            owner = self._owner.get(self._due)
            if owner is not None:
                if self._active[owner]:
                    return True
                del self._owner[self._due]
            self._due += 1
        return False

    def next_batch(self):
        while True:
            if not self._skip_unanswerable():
                if not self._keep:
                    self.close()
                raise StopIteration
            if self._due in self._early:
                return self._hand_out(*self._early.pop(self._due))
            try:
                ticket, kind, value = self._receive()
            except RuntimeError:
                self.close(broken=True)
                raise
            if kind == "stop":  # value: the worker whose replica ran out; it answers nothing more
                self._active[value] = False
                self._request()
                continue
            del self._owner[ticket]
            if ticket == self._due:
                return self._hand_out(kind, value)
            self._early[ticket] = (kind, value)

    def _hand_out(self, kind, value):
        self._due += 1
        self._request()
        if kind == "error":
            value.reraise()
        return value

    def close(self, broken=False):
        if self._closed or not self._procs:
            return
        self._closed = True
        procs, self._procs = self._procs, []
        if broken:
            _worker.discard(procs)
            _worker.remove_shared(self._shared)
        elif self._loaded == self._size:
            _worker.remove_shared(self._shared)
            _worker.release(procs)
        else:  # some worker may not have read the payload file yet: it goes once they are drained
            _worker.release(procs, self._shared)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
