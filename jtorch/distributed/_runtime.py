"""The default process group over JAX's multi-process runtime (jax.distributed).

NOTE [Process groups on jax.distributed]
init_process_group starts jax.distributed: process `rank` of `world_size` joins the coordinator
at MASTER_ADDR:MASTER_PORT (rank 0 hosts it). JAX then sees every process's devices, and a
collective is one jitted program over a mesh holding one device per process (collectives.py):
gloo carries it between CPUs (jax_cpu_collectives_implementation), NCCL between GPUs.
The coordinator also gives barriers with timeouts and a key-value store (for *_object calls).

jax.distributed must start before any JAX backend does. Importing jtorch starts none; if one
was started but holds no arrays yet (torch.cuda.set_device before init_process_group, a common
order), it is cleared and restarted; if tensors exist already, init_process_group says so.

Failure: JAX's coordinator watches heartbeats. When a process dies, a collective in flight fails
at once (the connection closes) and is raised as DistBackendError; a process not in a collective
is stopped by JAX within the heartbeat timeout (JTORCH_DIST_HEARTBEAT_TIMEOUT seconds, default
60). Nothing waits forever: initialization and barriers have timeouts too.

With backend="nccl" each process keeps only its own GPU, LOCAL_RANK (jax's local_device_ids),
and jtorch names it cuda:LOCAL_RANK as torch code expects (_device._index_base).
"""
import datetime
import os

from .. import _device

_state = None          # the default group, once initialized


class DistError(RuntimeError):
    pass


class DistBackendError(DistError):
    pass


class DistStoreError(DistError):
    pass


class DistNetworkError(DistError):
    pass


class _Group:
    """The default (world) process group."""

    def __init__(self, backend, rank, world_size, timeout):
        self.backend = backend
        self.rank = rank
        self.world_size = world_size
        self.timeout = timeout
        self.barriers = 0
        self.objects = 0

    def size(self):
        return self.world_size

    def __repr__(self):
        return "<jtorch.distributed ProcessGroup %s rank %d of %d>" % (self.backend, self.rank, self.world_size)


class _World:
    """group.WORLD / GroupMember.WORLD: stands for the default group."""

    def __repr__(self):
        return "<jtorch.distributed group.WORLD>"


WORLD = _World()
_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


def group_state(group=None):
    if _state is None:
        raise ValueError(_NOT_INITIALIZED)
    if group is not None and group is not WORLD and group is not _state:
        raise NotImplementedError("jtorch.distributed supports the default (world) process group only")
    return _state


def _seconds(timeout, default):
    if timeout is None:
        return default
    if isinstance(timeout, datetime.timedelta):
        return max(1, int(timeout.total_seconds()))
    return max(1, int(timeout))


def _from_env(name, given, default=None):
    if given is not None and given != -1:
        return given
    value = os.environ.get(name)
    if value is None:
        if default is not None:
            return default
        raise ValueError("Error initializing torch.distributed using env:// rendezvous: environment variable "
                         "%s expected, but not set" % name)
    return value


def _restartable_backends():
    """Clear JAX's backends if some started but nothing lives on them yet; False if that cannot be."""
    import jax
    from jax._src import xla_bridge
    if not xla_bridge.backends_are_initialized():
        return True
    if jax.live_arrays():
        return False
    from jax._src import api
    api.clear_backends()
    _device._accelerators.cache_clear()
    _device.host_devices.cache_clear()
    _device._CUDA.clear()
    return True


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """torch.distributed.init_process_group on jax.distributed (NOTE [Process groups on jax.distributed]).
    init_method "env://" (the default) or "tcp://host:port"; store= is not supported."""
    global _state
    import jax
    if _state is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise NotImplementedError("jtorch.distributed: init_process_group(store=...) is not supported; use "
                                  "init_method='env://' or 'tcp://host:port'")
    backend = str(backend or ("nccl" if _gpu_plugin() else "gloo")).lower()
    if ":" in backend:     # "cpu:gloo,cuda:nccl"
        backend = "nccl" if "nccl" in backend else "gloo"
    if backend not in ("gloo", "nccl", "mpi", "ucc"):
        raise ValueError("Invalid backend: '%s'" % backend)
    init_method = init_method or "env://"
    if init_method.startswith("env://"):
        rank = int(_from_env("RANK", rank))
        world_size = int(_from_env("WORLD_SIZE", world_size))
        addr = _from_env("MASTER_ADDR", None)
        port = _from_env("MASTER_PORT", None)
    elif init_method.startswith("tcp://"):
        for value, what in ((rank, "rank"), (world_size, "world size")):
            if value is None or value == -1:
                raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: %s parameter "
                                 "missing" % what)
        addr, _, port = init_method[len("tcp://"):].partition(":")
        port = port.split("/")[0].split("?")[0]
        rank, world_size = int(rank), int(world_size)
    else:
        raise NotImplementedError("jtorch.distributed: init_method %r is not supported (use env:// or tcp://)"
                                  % init_method)
    if not 0 <= rank < world_size:
        raise ValueError("Invalid rank %d for world size %d" % (rank, world_size))
    timeout_s = _seconds(timeout, 1800)
    heartbeat = int(os.environ.get("JTORCH_DIST_HEARTBEAT_TIMEOUT", "60"))
    if world_size > 1:
        if not _restartable_backends():
            raise RuntimeError("init_process_group must run before jtorch makes tensors: JAX's multi-process "
                               "runtime (jax.distributed.initialize) cannot join a process whose devices are "
                               "already in use. Call init_process_group at the start of the program.")
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        kwargs = {}
        local_rank = os.environ.get("LOCAL_RANK")
        if backend == "nccl" and local_rank is not None:
            kwargs["local_device_ids"] = [int(local_rank)]
        try:
            jax.distributed.initialize(coordinator_address="%s:%s" % (addr, port), num_processes=world_size,
                                       process_id=rank, initialization_timeout=min(timeout_s, 1800),
                                       heartbeat_timeout_seconds=heartbeat, **kwargs)
        except Exception as e:  # noqa: BLE001 - restated in torch's terms
            raise DistNetworkError("init_process_group: rank %d of %d could not join the group at %s:%s within "
                                   "%ds (%s: %s)" % (rank, world_size, addr, port, min(timeout_s, 1800),
                                                     type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
        if "local_device_ids" in kwargs:
            _device._index_base = int(local_rank)
    _state = _Group(backend, rank, world_size, timeout_s)
    return None


def _gpu_plugin():
    import importlib.util
    return any(importlib.util.find_spec(n) is not None
               for n in ("jax_cuda12_plugin", "jax_cuda13_plugin", "jax_rocm60_plugin", "jax_rocm7_plugin"))


def destroy_process_group(group=None):
    """Leaves the group. JAX's runtime cannot be restarted in the same process: a second
    init_process_group after this raises."""
    global _state
    if _state is None:
        raise AssertionError("Process group cannot be None")
    group_state(group)
    import jax
    if _state.world_size > 1:
        try:
            jax.distributed.shutdown()
        except Exception:  # noqa: BLE001 - a peer already gone
            pass
    _state = None


def is_initialized():
    return _state is not None


def get_rank(group=None):
    return group_state(group).rank


def get_world_size(group=None):
    return group_state(group).world_size


def get_backend(group=None):
    return group_state(group).backend


def client():
    """JAX's coordination-service client (barriers, key-value store)."""
    from jax._src import distributed
    return distributed.global_state.client


def barrier(group=None, async_op=False, device_ids=None):
    g = group_state(group)
    g.barriers += 1
    if g.world_size > 1:
        try:
            client().wait_at_barrier("jtorch_barrier_%d" % g.barriers, g.timeout * 1000)
        except Exception as e:  # noqa: BLE001
            raise DistBackendError("barrier failed on rank %d: %s" % (g.rank, str(e).splitlines()[0])) from None
    if async_op:
        from .collectives import Work
        return Work(None)
    return None


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    return barrier(group)
