"""DataLoader against torch: the batches, their order (shuffled too, and with worker processes), the
random-number state afterwards, len(), validation errors, and worker failures."""
import numpy as np
import pytest
import torch

import jtorch
from tests.data._common import Failing, SeedProbe, Slow, Squares, make_ranges, outcome

# torch forks its workers from this process, which has imported JAX; they never run JAX
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

D = lambda lib: lib.utils.data  # noqa: E731


def tensor_ds(t, n=10):
    return D(t).TensorDataset(t.arange(n * 2, dtype=t.float32).reshape(n, 2), t.arange(n))


def loop(make_loader, epochs=1):
    """All batches of `epochs` passes, then the default generator's next numbers."""
    def run(t):
        t.manual_seed(3)
        loader = make_loader(t)
        out = [list(loader) for _ in range(epochs)]
        return out, len(loader), t.rand(2)
    return run


def gen(t, seed):
    g = t.Generator()
    g.manual_seed(seed)
    return g


LOADER_CASES = [
    ("sequential", lambda t: D(t).DataLoader(tensor_ds(t), batch_size=4)),
    ("shuffle", lambda t: D(t).DataLoader(tensor_ds(t), batch_size=4, shuffle=True)),
    ("shuffle_drop_last", lambda t: D(t).DataLoader(tensor_ds(t), batch_size=4, shuffle=True, drop_last=True)),
    ("shuffle_generator", lambda t: D(t).DataLoader(tensor_ds(t), batch_size=3, shuffle=True, generator=gen(t, 5))),
    ("batch_size_none", lambda t: D(t).DataLoader(tensor_ds(t, 3), batch_size=None)),
    ("numpy_samples", lambda t: D(t).DataLoader(Squares(7), batch_size=3, shuffle=True)),
    ("sampler", lambda t: D(t).DataLoader(Squares(6), batch_size=2, sampler=[5, 0, 3, 1])),
    ("batch_sampler", lambda t: D(t).DataLoader(Squares(6), batch_sampler=[[0, 1], [5], [2, 3, 4]])),
    ("collate_fn", lambda t: D(t).DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [x[1] for x in b])),
    ("subset", lambda t: D(t).DataLoader(D(t).Subset(tensor_ds(t), [9, 1, 4, 2]), batch_size=3)),
    ("iterable", lambda t: D(t).DataLoader(make_ranges(t)(0, 7), batch_size=3)),
    ("iterable_drop_last", lambda t: D(t).DataLoader(make_ranges(t)(0, 7), batch_size=3, drop_last=True)),
    ("iterable_unbatched", lambda t: D(t).DataLoader(make_ranges(t)(2, 5), batch_size=None)),
]
WORKER_CASES = [
    ("workers_sequential", lambda t: D(t).DataLoader(tensor_ds(t), batch_size=3, num_workers=2)),
    ("workers_shuffle", lambda t: D(t).DataLoader(Squares(11), batch_size=2, shuffle=True, num_workers=2)),
    ("workers_prefetch_1", lambda t: D(t).DataLoader(Squares(5), batch_size=1, num_workers=2, prefetch_factor=1)),
    ("workers_iterable", lambda t: D(t).DataLoader(make_ranges(t)(0, 9), batch_size=2, num_workers=2)),
    ("workers_collate_fn", lambda t: D(t).DataLoader(Squares(5), batch_size=2, num_workers=2,
                                                     collate_fn=lambda b: [x[1] for x in b])),
]


@pytest.mark.parametrize("case", LOADER_CASES, ids=[c[0] for c in LOADER_CASES])
def test_loader(case):
    run = loop(case[1], epochs=2)
    assert outcome(run, jtorch) == outcome(run, torch)


@pytest.mark.parametrize("case", WORKER_CASES, ids=[c[0] for c in WORKER_CASES])
def test_loader_workers(case):
    run = loop(case[1], epochs=1)
    assert outcome(run, jtorch) == outcome(run, torch)


def test_persistent_workers():
    """Two epochs on the same workers: torch draws the workers' base seed once, not per epoch."""
    run = loop(lambda t: D(t).DataLoader(Squares(6), batch_size=2, shuffle=True, num_workers=2,
                                         persistent_workers=True), epochs=2)
    assert outcome(run, jtorch) == outcome(run, torch)


def test_worker_seeds_and_info():
    """get_worker_info and the seeds torch gives each worker (python random, numpy, the library's own)."""
    def run(t):
        t.manual_seed(11)
        seen = []
        loader = D(t).DataLoader(SeedProbe(t.__name__), batch_size=None, num_workers=2,
                                 worker_init_fn=lambda wid: None)
        for item in loader:
            seen.append(tuple(item))
        return seen
    assert outcome(run, jtorch) == outcome(run, torch)


def test_first_batch_then_more():
    """next(iter(loader)) abandons an iterator mid-epoch; the next iterator must still be right."""
    def run(t):
        t.manual_seed(0)
        loader = D(t).DataLoader(Squares(9), batch_size=2, shuffle=True, num_workers=2)
        first = next(iter(loader))
        return first, list(loader), t.rand(1)
    assert outcome(run, jtorch) == outcome(run, torch)


ERROR_CASES = [
    ("negative_workers", lambda t: D(t).DataLoader(Squares(3), num_workers=-1)),
    ("negative_timeout", lambda t: D(t).DataLoader(Squares(3), timeout=-1)),
    ("prefetch_without_workers", lambda t: D(t).DataLoader(Squares(3), prefetch_factor=2)),
    ("persistent_without_workers", lambda t: D(t).DataLoader(Squares(3), persistent_workers=True)),
    ("sampler_and_shuffle", lambda t: D(t).DataLoader(Squares(3), sampler=[0], shuffle=True)),
    ("batch_sampler_and_size", lambda t: D(t).DataLoader(Squares(3), batch_sampler=[[0]], batch_size=2)),
    ("none_batch_drop_last", lambda t: D(t).DataLoader(Squares(3), batch_size=None, drop_last=True)),
    ("iterable_shuffle", lambda t: D(t).DataLoader(make_ranges(t)(0, 3), shuffle=True)),
    ("set_batch_size", lambda t: setattr(D(t).DataLoader(Squares(3)), "batch_size", 2)),
    ("collate_mismatch", lambda t: next(iter(D(t).DataLoader([t.zeros(2), t.zeros(3)], batch_size=2)))),
    ("index_error", lambda t: list(D(t).DataLoader(tensor_ds(t, 3), sampler=[0, 5], batch_size=2))),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_loader_errors(case):
    got, want = outcome(case[1], jtorch), outcome(case[1], torch)
    assert got[:2] == want[:2]
    if case[0] != "index_error":
        assert got == want


def test_worker_exception_shows_worker_traceback():
    for lib in (torch, jtorch):
        loader = D(lib).DataLoader(Failing(6, bad=3), batch_size=2, num_workers=2)
        with pytest.raises(ValueError) as info:
            list(loader)
        msg = str(info.value)
        del info  # its traceback holds the iterator, and so its workers; let them go back to the pool
        assert msg.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal Traceback"), msg
        assert "sample 3 is broken" in msg and "__getitem__" in msg
    # the loader is usable afterwards: a fresh iterator gets the first batches again
    it = iter(D(jtorch).DataLoader(Failing(6, bad=3), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]


def test_worker_timeout():
    loader = D(jtorch).DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.5 seconds"):
        next(iter(loader))


def test_iterable_len_warning():
    ranges = make_ranges(jtorch)

    class Short(ranges):
        def __len__(self):
            return 2
    loader = D(jtorch).DataLoader(Short(0, 4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(loader)


def test_batches_are_host_tensors_without_copy():
    """Batches from the fast TensorDataset path and from workers are plain jtorch tensors."""
    x = jtorch.arange(12.0).reshape(6, 2)
    for workers in (0, 2):
        batches = list(D(jtorch).DataLoader(D(jtorch).TensorDataset(x), batch_size=4, num_workers=workers))
        assert [type(b[0]) for b in batches] == [jtorch.Tensor, jtorch.Tensor]
        np.testing.assert_array_equal(batches[1][0].numpy(), np.arange(8.0, 12.0).reshape(2, 2))


def test_requires_grad_samples_keep_autograd():
    w = jtorch.ones(2, requires_grad=True)
    batch = D(jtorch).default_collate([w * 2, w * 3])
    assert batch.grad_fn is not None
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_large_dataset_travels_through_shared_memory():
    """A dataset over 1 MB reaches the workers through a shared file, removed once they have loaded it;
    each worker's copy is private (writes in a worker do not reach the main process)."""
    import glob
    import os
    big = np.arange(600_000, dtype=np.float32).reshape(1000, 600)
    ds = D(jtorch).TensorDataset(jtorch.from_numpy(big))
    pattern = "/dev/shm/jtorch-dataloader-%d-*" % os.getpid()
    for _ in range(2):
        batches = list(D(jtorch).DataLoader(ds, batch_size=300, num_workers=2))
        np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), big)
        assert glob.glob(pattern) == []
    writer = D(jtorch).DataLoader(Squares(4), batch_size=2, num_workers=2,
                                  collate_fn=lambda b: b, worker_init_fn=None)
    assert len(list(writer)) == 2 and glob.glob(pattern) == []


def test_unpicklable_dataset_says_why():
    class HoldsGenerator:
        def __init__(self):
            self.gen = (i for i in range(3))

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i
    with pytest.raises(RuntimeError, match=r"by pickling them .* use num_workers=0"):
        iter(D(jtorch).DataLoader(HoldsGenerator(), num_workers=1))
