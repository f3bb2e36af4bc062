"""torch.distributed on JAX's multi-process runtime (DESIGN 10; NOTE [Process groups on
jax.distributed] in _runtime.py).

One process per rank, started by `python -m jtorch.distributed.run` (torchrun's flags and
environment) or by any launcher that sets MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE.
Differences from torch: only the default (world) group exists (new_group with all ranks returns
it; subgroups raise NotImplementedError); collectives are not differentiable (as torch's c10d
ones); reduce() leaves the result on every rank; the gloo backend also accepts ReduceOp.AVG.
"""
from ._runtime import (DistBackendError, DistError, DistNetworkError, DistStoreError, WORLD,  # noqa: F401
                       barrier, destroy_process_group, get_backend, get_rank, get_world_size,
                       init_process_group, is_initialized, monitored_barrier)
from .collectives import (ReduceOp, RedOpType, Work, all_gather, all_gather_into_tensor,  # noqa: F401
                          all_gather_object, all_reduce, all_to_all_single, broadcast, broadcast_object_list,
                          gather, gather_object, reduce, reduce_scatter, reduce_scatter_tensor, scatter,
                          _all_gather_base, _reduce_scatter_base)
from . import _runtime

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available", "get_rank",
           "get_world_size", "get_backend", "barrier", "monitored_barrier", "all_reduce", "reduce", "broadcast",
           "all_gather", "all_gather_into_tensor", "all_gather_object", "broadcast_object_list", "gather",
           "gather_object", "scatter", "reduce_scatter", "reduce_scatter_tensor", "all_to_all_single",
           "ReduceOp", "Backend", "group", "GroupMember", "new_group", "Work", "is_gloo_available",
           "is_nccl_available", "is_mpi_available", "is_torchelastic_launched", "DistBackendError"]

reduce_op = ReduceOp


class Backend(str):
    """torch.distributed.Backend: a lower-case backend name."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


class group:
    WORLD = WORLD


class GroupMember:
    WORLD = WORLD
    NON_GROUP_MEMBER = -100


def is_available():
    return True


def is_gloo_available():
    return True


def is_nccl_available():
    return _runtime._gpu_plugin()


def is_mpi_available():
    return False


def is_ucc_available():
    return False


def is_torchelastic_launched():
    import os
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def is_backend_available(backend):
    return str(backend).lower() in ("gloo",) or (str(backend).lower() == "nccl" and is_nccl_available())


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """Only the whole world: new_group() or new_group(all ranks) returns it."""
    g = _runtime.group_state()
    if ranks is not None and sorted(ranks) != list(range(g.world_size)):
        raise NotImplementedError("jtorch.distributed: process subgroups are not supported (asked for ranks %s "
                                  "of %d)" % (sorted(ranks), g.world_size))
    return WORLD


def get_process_group_ranks(group):
    return list(range(_runtime.group_state(group).world_size))


def get_global_rank(group, group_rank):
    return group_rank


def get_group_rank(group, global_rank):
    return global_rank
