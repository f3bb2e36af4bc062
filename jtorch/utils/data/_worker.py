"""DataLoader worker processes (num_workers > 0).

NOTE [DataLoader workers are fresh interpreters]
torch forks its workers. A forked child of a process that has run JAX cannot compile: XLA's
compiler and thread pools do not survive fork, and the child's first new jit hangs. So jtorch's
workers are new Python processes (`python -c _BOOT`) started with JAX_PLATFORMS=cpu, so that they
never touch an accelerator. What a fork would have shared travels to them pickled by cloudpickle
(lambdas, and classes and functions defined in __main__, by value): the dataset, collate_fn and
worker_init_fn, once per iteration, so each epoch's workers see the dataset as it is then, as
forked workers would. jtorch tensors travel as numpy arrays both ways (`_Pickler`), and worker
batches are collated in numpy (NOTE [Collating in numpy]), so a worker usually runs no JAX at all.

An interpreter that imports jtorch takes a second or two to start, so a DataLoader starts its
workers when it is constructed, idle workers go back to a pool, and later iterators reuse them.
What differs from torch: module-level state that dataset code changes inside a worker outlives
the epoch in that process (torch's next epoch forks anew).

Messages, each one pickled object over a pipe: parent -> worker ("start", payload, worker_id,
shared file, spans) (see NOTE [Sending the dataset to workers]), ("fetch", idx, index),
("resume",) (persistent workers: a new epoch), ("end",) (back to idle); worker -> parent
("ready", pid) once, then (idx, kind, value) with kind "data", "error" (an _ExceptionWrapper) or
"stop" (an IterableDataset ran out), and ("loaded",) / ("resumed",) / ("ended",) acknowledgements.
"""
import atexit
import io
import itertools
import mmap
import os
import pickle
import random
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from multiprocessing.connection import Connection, wait

import numpy as np

__all__ = ["WorkerInfo", "get_worker_info"]


class WorkerInfo:
    """What get_worker_info() returns inside a worker: id, num_workers, seed, dataset."""

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__dict__.get("_WorkerInfo__initialized", False):
            raise RuntimeError("Cannot assign attributes to %s objects" % self.__class__.__name__)
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ["%s=%s" % (k, getattr(self, k)) for k in self.__keys]
        return "%s(%s)" % (self.__class__.__name__, ", ".join(items))


_worker_info = None


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process; None in the main process."""
    return _worker_info


# ---------------------------------------------------------------------------------- pickling

def _rebuild_tensor(array, requires_grad):
    from ..._tensor import Tensor
    t = Tensor._from_host(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _pickler_base():
    try:
        import cloudpickle
        return cloudpickle.Pickler
    except ImportError:
        return pickle.Pickler


class _Pickler(_pickler_base()):
    """cloudpickle (plain pickle where it is missing) with jtorch tensors as numpy arrays. Tensors on
    an accelerator arrive on the CPU: workers never touch an accelerator."""

    def reducer_override(self, obj):
        from ..._tensor import Tensor
        if type(obj) is Tensor:
            from ._collate import _numpy_of
            arr = _numpy_of(obj) if obj._device.type == "cpu" else np.asarray(obj._value())
            return _rebuild_tensor, (np.ascontiguousarray(arr), bool(obj._requires_grad))
        parent = getattr(super(), "reducer_override", None)
        return parent(obj) if parent is not None else NotImplemented


def dumps(obj, buffer_callback=None):
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL, buffer_callback=buffer_callback).dump(obj)
    return buf.getvalue()


# NOTE [Sending the dataset to workers]
# A dataset is often one big array (60,000 images). Pickled into a pipe it would cost seconds per
# epoch and per worker; instead its large buffers (pickle protocol 5, out of band) are copied once
# per iterator into a file in shared memory that every worker maps copy-on-write, so each worker's
# copy is private as a fork's would be. The file is removed once every worker has loaded it.
_BIG = 1 << 20
_counter = itertools.count()
_shared_files = set()


def _shared_dir():
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def dumps_payload(obj):
    """(pickle bytes, path of the shared file or None, [(offset, nbytes)] of the out-of-band buffers)."""
    buffers = []

    def keep_small_in_band(b):
        if b.raw().nbytes < _BIG:
            return True
        buffers.append(b)
        return False
    data = dumps(obj, buffer_callback=keep_small_in_band)
    if not buffers:
        return data, None, []
    spans, off = [], 0
    for b in buffers:
        n = b.raw().nbytes
        spans.append((off, n))
        off += -(-n // 64) * 64
    for folder in (_shared_dir(), tempfile.gettempdir()):
        path = os.path.join(folder, "jtorch-dataloader-%d-%d" % (os.getpid(), next(_counter)))
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.posix_fallocate(fd, 0, off)  # fail now (ENOSPC) rather than SIGBUS on a full tmpfs
        except OSError:
            os.close(fd)
            os.unlink(path)
            continue
        try:
            with mmap.mmap(fd, off) as m:
                for b, (start, n) in zip(buffers, spans):
                    m[start:start + n] = b.raw()
        finally:
            os.close(fd)
        _shared_files.add(path)
        return data, path, spans
    return dumps(obj), None, []  # no room anywhere: everything in band


def loads_payload(data, path, spans):
    if path is None:
        return pickle.loads(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        m = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    view = memoryview(m)
    return pickle.loads(data, buffers=[view[start:start + n] for start, n in spans])


def remove_shared(path):
    if path is not None and path in _shared_files:
        _shared_files.discard(path)
        try:
            os.unlink(path)
        except OSError:
            pass


class _ExceptionWrapper:
    """An exception from a worker, with the worker's traceback, re-raised in the main process."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = "Caught %s %s.\nOriginal %s" % (self.exc_type.__name__, self.where, self.exc_msg)
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:  # no frame -> exception -> traceback -> frame cycle: the iterator (and its workers) can go
            exception = None


class _KeyErrorMessage(str):
    def __repr__(self):
        return self


def _wrap_exception(where):
    """An _ExceptionWrapper for the exception being handled, that surely pickles."""
    wrapper = _ExceptionWrapper(sys.exc_info(), where)
    try:
        dumps(wrapper)
    except Exception:
        wrapper.exc_type = RuntimeError
    return wrapper


# ---------------------------------------------------------------------------------- worker side

def _generate_state(base_seed, worker_id):
    """torch's numpy seed for a worker: four 32-bit words hashed from (worker_id, base_seed)."""
    INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R, XSHIFT, MASK32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_a = INIT_A

    def hash_(value):
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & MASK32
        hash_const_a = (hash_const_a * MULT_A) & MASK32
        value = (value * hash_const_a) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_b = INIT_B
    state = []
    for i_dst in range(4):
        data_val = (pool[i_dst] ^ hash_const_b) & MASK32
        hash_const_b = (hash_const_b * MULT_B) & MASK32
        data_val = (data_val * hash_const_b) & MASK32
        state.append((data_val ^ (data_val >> XSHIFT)) & MASK32)
    return state


def _send(conn, obj):
    conn.send_bytes(dumps(obj))


def _epoch(cin, cout, payload, worker_id, path, spans):
    """Serve one iterator: fetch batches until ("end",)."""
    global _worker_info
    import jtorch
    from .dataloader import _make_fetcher
    where = "in DataLoader worker process %d" % worker_id
    init_exception, fetcher, broken = None, None, None
    try:
        p = loads_payload(payload, path, spans)
    except Exception:  # e.g. a class the worker cannot import: every request gets this error
        p, broken = None, _wrap_exception(where)
    _send(cout, ("loaded",))
    if p is not None:
        seed = p["base_seed"] + worker_id
        random.seed(seed)
        jtorch.manual_seed(seed)
        np.random.seed(_generate_state(p["base_seed"], worker_id))
        dataset = p["dataset"]
        _worker_info = WorkerInfo(id=worker_id, num_workers=p["num_workers"], seed=seed, dataset=dataset)
        try:
            if p["worker_init_fn"] is not None:
                p["worker_init_fn"](worker_id)
            fetcher = _make_fetcher(p)
        except Exception:
            init_exception = _wrap_exception(where)
    ended = False  # an IterableDataset ran out: answer every later fetch with "stop"
    try:
        while True:
            msg = pickle.loads(cin.recv_bytes())
            if msg[0] == "end":
                _send(cout, ("ended",))
                return
            if msg[0] == "resume":
                ended = False
                if broken is not None:
                    _send(cout, ("resumed",))
                    continue
                try:
                    fetcher = _make_fetcher(p)
                except Exception:
                    init_exception = _wrap_exception(where)
                _send(cout, ("resumed",))
                continue
            _, idx, index = msg
            if broken is not None:
                _send(cout, (idx, "error", broken))
                continue
            if init_exception is not None:
                _send(cout, (idx, "error", init_exception))
                init_exception = None
                continue
            if ended:  # as torch's workers: later requests get no answer; the parent skips them
                continue
            try:
                data = fetcher(index)
            except StopIteration:
                if p["iterable"]:
                    ended = True
                    _send(cout, (idx, "stop", worker_id))
                    continue
                _send(cout, (idx, "error", _wrap_exception(where)))
                continue
            except Exception:
                _send(cout, (idx, "error", _wrap_exception(where)))
                continue
            try:
                _send(cout, (idx, "data", data))
            except Exception:
                _send(cout, (idx, "error", _wrap_exception(where)))
    finally:
        _worker_info = None


def _serve(cin, cout, boot):
    if boot.get("hook"):
        from ... import _import_hook
        _import_hook.install()
    import jtorch  # noqa: F401  (import before the first task, while the worker is idle)
    _send(cout, ("ready", os.getpid()))
    while True:
        try:
            msg = pickle.loads(cin.recv_bytes())
        except (EOFError, OSError):
            return
        if msg[0] == "start":
            try:
                _epoch(cin, cout, *msg[1:])
            except (EOFError, OSError, BrokenPipeError):
                return
        elif msg[0] == "exit":
            return


_BOOT = """
import os, pickle, sys
from multiprocessing.connection import Connection
cin = Connection(int(sys.argv[1]), writable=False)
cout = Connection(int(sys.argv[2]), readable=False)
boot = pickle.loads(cin.recv_bytes())
sys.path[:] = boot["path"]
from jtorch.utils.data._worker import _serve
try:
    _serve(cin, cout, boot)
except KeyboardInterrupt:
    pass
"""


# ---------------------------------------------------------------------------------- parent side

class _Worker:
    """A worker process and the two pipe ends the parent holds."""

    def __init__(self):
        r_in, w_in = os.pipe()     # parent -> worker
        r_out, w_out = os.pipe()   # worker -> parent
        env = dict(os.environ, JAX_PLATFORMS="cpu")
        flags = env.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:  # one compute thread, as torch sets in its workers
            env["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, str(r_in), str(w_out)],
                                         pass_fds=(r_in, w_out), env=env, stdin=subprocess.DEVNULL)
        finally:
            os.close(r_in)
            os.close(w_out)
        self.pid = self.proc.pid
        self.to = Connection(w_in, readable=False)
        self.frm = Connection(r_out, writable=False)
        self.ready = False
        self.dirty = False  # sent ("end",) and its acknowledgement is still to be read
        self.shared = None  # a payload file to remove once the acknowledgement has come
        from ... import _import_hook
        self.to.send_bytes(pickle.dumps({"path": list(sys.path), "hook": _import_hook.installed()}))

    def send(self, obj):
        self.to.send_bytes(dumps(obj))

    def recv(self):
        """The next message; RuntimeError when the worker has died."""
        try:
            msg = pickle.loads(self.frm.recv_bytes())
        except (EOFError, OSError):
            raise RuntimeError("DataLoader worker (pid(s) %d) exited unexpectedly%s"
                               % (self.pid, self._exit_note())) from None
        if msg[0] == "ready":
            self.ready = True
            return self.recv()
        return msg

    def _exit_note(self):
        try:
            code = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return ""
        return " with exit code %d" % code if code >= 0 else " (killed by signal %d)" % -code

    def drain(self, timeout):
        """Read and drop messages up to the ("ended",) acknowledgement; False when it does not come."""
        deadline = time.monotonic() + timeout
        while self.dirty:
            left = deadline - time.monotonic()
            if left <= 0 or not self.frm.poll(left):
                return False
            try:
                msg = self.recv()
            except RuntimeError:
                return False
            if msg[0] == "ended":
                self.dirty = False
                remove_shared(self.shared)
        return True

    def alive(self):
        return self.proc.poll() is None

    def close(self, wait_s=1.0):
        for c in (self.to, self.frm):
            try:
                c.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_lock = threading.Lock()
_idle = []        # workers waiting for their next iterator
_all = []         # every live worker, for shutdown at exit


def acquire(n):
    """n workers: idle ones from the pool (drained), new ones for the rest."""
    out = []
    with _lock:
        while _idle and len(out) < n:
            w = _idle.pop()
            if w.alive() and w.drain(timeout=10.0):
                out.append(w)
            else:
                _discard(w)
    while len(out) < n:
        w = _Worker()
        with _lock:
            _all.append(w)
        out.append(w)
    return out


def prestart(n):
    """Start workers ahead of time (DataLoader construction) so that the first iterator finds them
    warm; at most n idle ones."""
    with _lock:
        missing = n - len(_idle)
    for _ in range(max(0, missing)):
        w = _Worker()
        with _lock:
            _all.append(w)
            _idle.append(w)


def release(workers, shared=None):
    """Send ("end",) and give the workers back to the pool; their leftovers are drained on reuse.
    `shared`: a payload file some of them may still have to load, removed once they are drained."""
    with _lock:
        for w in workers:
            w.shared = shared
            if not w.alive():
                _discard(w)
                continue
            try:
                w.send(("end",))
                w.dirty = True
                _idle.append(w)
            except OSError:
                _discard(w)


def _discard(w):
    if w in _all:
        _all.remove(w)
    if w in _idle:
        _idle.remove(w)
    w.proc.kill() if w.alive() else None
    w.close(wait_s=1.0)


def discard(workers):
    with _lock:
        for w in workers:
            _discard(w)


def wait_any(workers, timeout):
    """The workers among `workers` with a message (or EOF) to read, waiting up to `timeout` seconds."""
    conns = {w.frm: w for w in workers}
    return [conns[c] for c in wait(list(conns), timeout)]


@atexit.register
def _shutdown():
    for path in list(_shared_files):
        remove_shared(path)
    with _lock:
        workers = list(_all)
        _all.clear()
        _idle.clear()
    for w in workers:
        try:
            w.to.close()  # EOF: an idle worker returns, a busy one fails on its next message
        except OSError:
            pass
    deadline = time.monotonic() + 2.0
    for w in workers:
        try:
            w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        try:
            w.frm.close()
        except OSError:
            pass
