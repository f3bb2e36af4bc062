"""torch.multiprocessing: Python's multiprocessing, with torch's spawn().

Tensors are not shared between processes through shared memory (jtorch tensors are JAX values):
they are pickled like any other object. spawn() starts fresh interpreters (the "spawn" start
method), which is what jax.distributed needs: a forked child would inherit the parent's JAX
runtime.
"""
import multiprocessing as _mp
import signal
import sys
from multiprocessing import *  # noqa: F401,F403

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
           "get_context", "set_start_method", "get_start_method", "cpu_count", "Queue", "Process",
           "set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]


class ProcessException(Exception):
    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    pass


class ProcessExitedException(ProcessException):
    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001 - sent to the parent
        import traceback
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    def __init__(self, processes, error_queues):
        self.processes = processes
        self.error_queues = error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """True when all processes finished; raises when one failed (after stopping the others)."""
        from multiprocessing.connection import wait
        alive = {p.sentinel: i for i, p in enumerate(self.processes) if p.exitcode is None}
        if alive:
            wait(list(alive), timeout=timeout)
        failed = next((i for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)), None)
        if failed is None:
            done = all(p.exitcode is not None for p in self.processes)
            if done:
                for p in self.processes:
                    p.join()
            return done
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        for p in self.processes:
            p.join(30)
            if p.is_alive():
                p.kill()
                p.join()
        proc = self.processes[failed]
        queue = self.error_queues[failed]
        if not queue.empty():
            trace = queue.get()
            msg = "\n\n-- Process %d terminated with the following error:\n%s" % (failed, trace)
            raise ProcessRaisedException(msg, failed, proc.pid)
        code = proc.exitcode
        if code < 0:
            name = signal.Signals(-code).name
            raise ProcessExitedException("process %d terminated with signal %s" % (failed, name), failed, proc.pid,
                                         code, name)
        raise ProcessExitedException("process %d terminated with exit code %d" % (failed, code), failed, proc.pid,
                                     code)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    ctx = _mp.get_context(start_method)
    queues, processes = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        queues.append(q)
        processes.append(p)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """torch.multiprocessing.spawn: fn(i, *args) in nprocs fresh processes; a failure in one stops
    the others and raises ProcessRaisedException (or ProcessExitedException) here."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


_strategy = "file_system"


def set_sharing_strategy(new_strategy):
    global _strategy
    _strategy = new_strategy


def get_sharing_strategy():
    return _strategy


def get_all_sharing_strategies():
    return {"file_system", "file_descriptor"}
