"""Shared by the data tests: run one function on torch and on jtorch, compare what comes back.

The datasets used with worker processes live here, in a module that does not import torch, so that
jtorch's workers (fresh interpreters that unpickle them) stay light.
"""
import numpy as np


def plain(x):
    """A library-neutral form of a result: tensors become ("T", dtype, shape, values)."""
    t = type(x)
    if hasattr(x, "dtype") and hasattr(x, "shape") and t.__name__ in ("Tensor", "Parameter"):
        d = x.detach()
        if str(d.dtype) == "torch.bfloat16":
            d = d.float()
        return ("T", str(x.dtype), tuple(x.shape), np.asarray(d.numpy()).tolist())
    if isinstance(x, dict):
        return ("dict", type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, [plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.tolist())
    return x


def outcome(fn, lib):
    """fn(lib)'s plain result, or ("raises", class name, message)."""
    try:
        return plain(fn(lib))
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        return ("raises", type(e).__name__, str(e))


class Squares:
    """A map-style dataset without a base class, so it serves both libraries: (x, x * x) as numpy."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i], dtype=np.float32), i * i


class Failing:
    """Raises ValueError for index `bad`."""

    def __init__(self, n, bad):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError("sample %d is broken" % i)
        return i


class Slow:
    """Sleeps on every item: for the timeout test."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        import time
        time.sleep(5)
        return i


class SeedProbe:
    """Each item reports the worker's numpy, python-random and library seeds."""

    def __init__(self, lib_name):
        self.lib_name = lib_name

    def __len__(self):
        return 4

    def __getitem__(self, i):
        import importlib
        import random
        lib = importlib.import_module(self.lib_name)
        info = lib.utils.data.get_worker_info()
        return (info.id, info.seed, info.num_workers, float(np.random.rand()), random.random(),
                float(lib.rand(1).item()))


def make_ranges(lib):
    """An IterableDataset over range(start, end), split between workers with get_worker_info."""
    class Ranges(lib.utils.data.IterableDataset):
        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per
            return iter(range(lo, min(lo + per, self.end)))
    return Ranges
