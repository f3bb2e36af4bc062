"""Collectives as one jitted program over a mesh of one device per process (NOTE [Process groups
on jax.distributed] in _runtime.py).

Each process contributes its tensor as its shard of a global (world, *shape) array; the program
reduces, selects or passes along axis 0 and returns the result replicated (or, for
reduce_scatter, sharded), so every process reads its copy locally. These are torch.distributed's
in-place, non-differentiable collectives: results are written into the given tensors. Calls block
until the result is there (async_op=True gives a Work whose wait() does), so a peer that died
shows up here as DistBackendError rather than later.
"""
import base64
import enum
import functools
import pickle

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from .. import _device
from .._tensor import Tensor
from . import _runtime
from ._runtime import DistBackendError, group_state

_AXIS = "process"


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """torch.distributed.ReduceOp: ReduceOp.SUM etc. are RedOpType members, as in torch."""
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED

    def __init__(self, op):
        self.op = op if isinstance(op, RedOpType) else RedOpType(op)


class Work:
    """What async_op=True returns: wait() blocks until the collective finished."""

    def __init__(self, value, what="collective"):
        self._value = value
        self._what = what

    def wait(self, timeout=None):
        if self._value is not None:
            _block(self._value, self._what)
        return True

    def is_completed(self):
        return True

    def is_success(self):
        return True

    def result(self):
        return []

    def get_future(self):
        raise NotImplementedError("jtorch.distributed: Work.get_future is not supported")


def _block(value, what):
    try:
        jax.block_until_ready(value)
    except Exception as e:  # noqa: BLE001
        raise DistBackendError("%s failed on rank %d: a peer process is gone or unreachable (%s)"
                               % (what, _runtime._state.rank if _runtime._state else -1,
                                  str(e).splitlines()[0])) from None


# -- the mesh and the programs --------------------------------------------------------------------

@functools.lru_cache(None)
def _mesh(platform):
    """A mesh of one device per process (each process's lowest-numbered device of the platform),
    and this process's device in it."""
    first = {}
    for d in jax.devices(platform):
        if d.process_index not in first or d.id < first[d.process_index].id:
            first[d.process_index] = d
    order = [first[p] for p in sorted(first)]
    return Mesh(np.array(order), (_AXIS,)), first[jax.process_index()]


def _reduce(op, g, world):
    if op in (RedOpType.SUM, RedOpType.PREMUL_SUM):
        return jnp.sum(g, axis=0, dtype=g.dtype)
    if op is RedOpType.AVG:
        s = jnp.sum(g, axis=0, dtype=g.dtype)
        return s / world if jnp.issubdtype(g.dtype, jnp.inexact) else s // world
    if op is RedOpType.PRODUCT:
        return jnp.prod(g, axis=0, dtype=g.dtype)
    if op is RedOpType.MIN:
        return jnp.min(g, axis=0)
    if op is RedOpType.MAX:
        return jnp.max(g, axis=0)
    bitwise = {RedOpType.BAND: jnp.bitwise_and, RedOpType.BOR: jnp.bitwise_or, RedOpType.BXOR: jnp.bitwise_xor}
    if op in bitwise:
        return functools.reduce(bitwise[op], [g[i] for i in range(g.shape[0])])
    raise ValueError("Unsupported ReduceOp %s" % op)


@functools.lru_cache(None)
def _program(kind, arg, platform):
    mesh, _ = _mesh(platform)
    world = mesh.devices.size
    rep, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P(_AXIS))
    if kind == "reduce":
        return jax.jit(lambda g: _reduce(arg, g, world), out_shardings=rep)
    if kind == "gather":
        return jax.jit(lambda g: g, out_shardings=rep)
    if kind == "broadcast":
        return jax.jit(lambda g: g[arg], out_shardings=rep)
    if kind == "reduce_scatter":
        return jax.jit(lambda g: _reduce(arg, g, world), out_shardings=sharded)
    raise AssertionError(kind)


def _platform(t):
    return "cpu" if t._device.type == "cpu" else _device.jax_device(t._device).platform


def _run(kind, arg, t, value=None):
    """Run a collective on the local value of `t` (or `value`); the local result, blocked on."""
    platform = _platform(t)
    mesh, mine = _mesh(platform)
    local = t._value() if value is None else value
    local = jax.device_put(local, mine)[None]
    world = mesh.devices.size
    g = jax.make_array_from_single_device_arrays((world,) + local.shape[1:], NamedSharding(mesh, P(_AXIS)),
                                                 [local])
    try:
        out = _program(kind, arg, platform)(g)
        result = out.addressable_data(0)
    except Exception as e:  # noqa: BLE001
        raise DistBackendError("%s failed on rank %d: %s" % (kind, jax.process_index(), str(e).splitlines()[0])) \
            from None
    _block(result, kind)
    target = _device.jax_device(t._device)
    return result if mine == target else jax.device_put(result, target)


def _check_tensor(t, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError("Invalid function argument. Expected parameter `%s` of type torch.Tensor\n"
                        "             but got %s instead." % (name, type(t)))


def _op(op):
    if isinstance(op, ReduceOp):
        return op.op
    if isinstance(op, RedOpType):
        return op
    raise TypeError("Invalid ReduceOp %r" % (op,))


def _done(async_op, value=None, what="collective"):
    return Work(value, what) if async_op else None


# -- torch.distributed's collectives ---------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(tensor)
    g = group_state(group)
    op = _op(op)
    if g.world_size > 1:
        tensor._write(_run("reduce", op, tensor))
    return _done(async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """The reduced value lands on every rank (torch guarantees it on dst only)."""
    return all_reduce(tensor, op, group, async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor)
    g = group_state(group)
    src = group_src if src is None else src
    if src is None:
        raise ValueError("broadcast: src is required")
    if not 0 <= src < g.world_size:
        raise ValueError("Invalid src rank %d for world size %d" % (src, g.world_size))
    if g.world_size > 1:
        tensor._write(_run("broadcast", int(src), tensor))
    return _done(async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    _check_tensor(tensor)
    g = group_state(group)
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != g.world_size:
        raise ValueError("all_gather: tensor_list must be a list of world_size (%d) tensors" % g.world_size)
    if g.world_size == 1:
        tensor_list[0]._write(tensor._value())
        return _done(async_op)
    gathered = _run("gather", None, tensor)
    for i, out in enumerate(tensor_list):
        if tuple(out.shape) != tuple(tensor.shape):
            raise RuntimeError("all_gather: output tensor %d has shape %s, input has %s"
                               % (i, list(out.shape), list(tensor.shape)))
        out._write(gathered[i])
    return _done(async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    g = group_state(group)
    n = input_tensor.numel()
    if output_tensor.numel() != n * g.world_size:
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    gathered = _run("gather", None, input_tensor) if g.world_size > 1 else input_tensor._value()[None]
    output_tensor._write(gathered.reshape(tuple(output_tensor.shape)))
    return _done(async_op)


_all_gather_base = all_gather_into_tensor


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    g = group_state(group)
    if input.numel() != output.numel() * g.world_size:
        raise ValueError("input tensor must be the same size as output size times world size")
    if g.world_size == 1:
        output._write(input._value().reshape(tuple(output.shape)))
        return _done(async_op)
    flat = input._value().reshape((g.world_size,) + tuple(output.shape))
    value = _run("reduce_scatter", _op(op), input, value=flat)
    output._write(value.reshape(tuple(output.shape)))
    return _done(async_op)


_reduce_scatter_base = reduce_scatter_tensor


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    _check_tensor(output, "output")
    g = group_state(group)
    if len(input_list) != g.world_size:
        raise ValueError("reduce_scatter: input_list must hold world_size (%d) tensors" % g.world_size)
    for t in input_list:
        if tuple(t.shape) != tuple(output.shape):
            raise ValueError("reduce_scatter: every input must have the output's shape %s" % list(output.shape))
    stacked = jnp.stack([t._value() for t in input_list])
    if g.world_size == 1:
        output._write(stacked[0])
        return _done(async_op)
    value = _run("reduce_scatter", _op(op), output, value=stacked)
    output._write(value.reshape(tuple(output.shape)))
    return _done(async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    _check_tensor(tensor)
    g = group_state(group)
    dst = 0 if dst is None and group_dst is None else (group_dst if dst is None else dst)
    gathered = _run("gather", None, tensor) if g.world_size > 1 else tensor._value()[None]
    if g.rank == dst:
        if gather_list is None or len(gather_list) != g.world_size:
            raise ValueError("gather: the destination rank needs gather_list of world_size tensors")
        for i, out in enumerate(gather_list):
            out._write(gathered[i])
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    _check_tensor(tensor)
    g = group_state(group)
    src = 0 if src is None and group_src is None else (group_src if src is None else src)
    if g.rank == src:
        if scatter_list is None or len(scatter_list) != g.world_size:
            raise ValueError("scatter: the source rank needs scatter_list of world_size tensors")
        stacked = jnp.stack([t._value() for t in scatter_list])
    else:
        stacked = jnp.zeros((g.world_size,) + tuple(tensor.shape), tensor.dtype.np)
    if g.world_size > 1:
        stacked = _run("broadcast", int(src), tensor, value=stacked)
    tensor._write(stacked[g.rank])
    return _done(async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    g = group_state(group)
    if output_split_sizes or input_split_sizes:
        raise NotImplementedError("jtorch.distributed: all_to_all_single with split sizes is not supported")
    n = g.world_size
    gathered = _run("gather", None, input) if n > 1 else input._value()[None]
    chunks = gathered.reshape((n, n, -1))[:, g.rank]
    output._write(chunks.reshape(tuple(output.shape)))
    return _done(async_op)


# -- Python objects, through the coordinator's key-value store ---------------------------------------

def _kv_exchange(g, payload, readers):
    """Publish this rank's payload (or not, None) and read the ranks in `readers`."""
    g.objects += 1
    key = "jtorch_obj_%d_" % g.objects
    c = _runtime.client()
    if payload is not None:
        c.key_value_set(key + str(g.rank), base64.b64encode(pickle.dumps(payload)).decode("ascii"))
    out = {}
    for r in readers:
        try:
            raw = c.blocking_key_value_get(key + str(r), g.timeout * 1000)
        except Exception as e:  # noqa: BLE001
            raise DistBackendError("object exchange with rank %d failed: %s" % (r, str(e).splitlines()[0])) from None
        out[r] = pickle.loads(base64.b64decode(raw))
    return out


def all_gather_object(object_list, obj, group=None):
    g = group_state(group)
    if g.world_size == 1:
        object_list[0] = obj
        return
    got = _kv_exchange(g, obj, range(g.world_size))
    for r in range(g.world_size):
        object_list[r] = got[r]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = group_state(group)
    src = 0 if src is None and group_src is None else (group_src if src is None else src)
    if g.world_size == 1:
        return
    got = _kv_exchange(g, list(object_list) if g.rank == src else None, [src] if g.rank != src else [])
    if g.rank != src:
        object_list[:] = got[src]


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    g = group_state(group)
    dst = 0 if dst is None and group_dst is None else (group_dst if dst is None else dst)
    if g.world_size == 1:
        object_gather_list[0] = obj
        return
    got = _kv_exchange(g, obj, range(g.world_size) if g.rank == dst else [])
    if g.rank == dst:
        for r in range(g.world_size):
            object_gather_list[r] = got[r]
