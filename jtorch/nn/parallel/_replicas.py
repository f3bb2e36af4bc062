"""The module's functional form, run on several devices at once: DataParallel's engine.

NOTE [DataParallel on a device mesh]
torch's DataParallel scatters the batch with torch.chunk, copies the module to every device,
runs the copies in threads and gathers the outputs. Here the copies are one JAX function: the
module run by its own Python code on traced parameters, buffers and inputs (jtorch's tape off),
wrapped in `shard_map` over a mesh of the devices, so XLA runs one program on all of them.

torch.chunk gives ceil(B / n) rows to every chunk but the last, which may be smaller, and fewer
chunks than devices for small batches (30 rows on 4 devices: 8, 8, 8, 6; 5 rows: 2, 2, 1). A
shard_map needs equal shards, so the full chunks form one mesh program and a smaller last chunk
a second, one-device program: every replica sees exactly torch's chunk (padding would change
what BatchNorm's batch statistics see). Both programs are dispatched before either is awaited.

Forward runs `jax.vjp` inside the program and keeps the pullback (its residuals stay on the
devices) for backward, which scatters the output gradients the same way and brings back the
parameter gradients (summed over replicas by the transpose of the replicated input) and the
input gradients. Device moves happen between programs with `jax.device_put`: one jitted
program cannot take values committed to one device to another set of devices.

Buffers the forward writes (BatchNorm's running statistics) come back from replica 0, as in
torch, where replica 0's buffers are the module's own. Randomness (dropout) inside the replicas
comes from a JAX key per replica (jtorch.compile's traced randomness), not from torch's
generator: masks differ from a single-device run, as they do in torch.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from ... import _device
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

try:
    from jax import shard_map
except ImportError:  # older JAX
    from jax.experimental.shard_map import shard_map

_AXIS = "replica"


def chunk_sizes(batch, n):
    """torch.chunk's sizes for `batch` rows over `n` devices."""
    if batch == 0:
        return []
    size = math.ceil(batch / n)
    full, rest = divmod(batch, size)
    return [size] * full + ([rest] if rest else [])


def state_slots(module):
    """Every place a parameter or buffer is held, parameters first: [(name, tensor, is_parameter,
    [(table, attr)...])]. A tensor held in two places (tied weights) is one entry with two places."""
    seen = {}
    params, buffers = [], []
    for prefix, mod in module.named_modules(remove_duplicate=False):
        for table_name, is_param, out in (("_parameters", True, params), ("_buffers", False, buffers)):
            table = mod.__dict__.get(table_name) or {}
            for attr, t in table.items():
                if t is None:
                    continue
                entry = seen.get(id(t))
                if entry is None:
                    entry = seen[id(t)] = (prefix + ("." if prefix else "") + attr, t, is_param, [])
                    out.append(entry)
                entry[3].append((table, attr))
    return params + buffers


class _Tree:
    """(args, kwargs) split into tensor leaves and a static rest that keys the programs."""
    __slots__ = ("treedef", "static", "tensor_pos")

    def __init__(self, args, kwargs):
        leaves, self.treedef = jax.tree_util.tree_flatten((args, kwargs),
                                                          is_leaf=lambda x: isinstance(x, Tensor))
        self.tensor_pos = tuple(i for i, x in enumerate(leaves) if isinstance(x, Tensor))
        self.static = tuple(None if isinstance(x, Tensor) else x for x in leaves)

    def key(self):
        try:
            hash(self.static)
            return self.treedef, self.static
        except TypeError:   # an unhashable argument: key it by identity (it is passed through)
            return self.treedef, tuple(id(x) for x in self.static)

    def rebuild(self, tensors):
        leaves = list(self.static)
        for i, t in zip(self.tensor_pos, tensors):
            leaves[i] = t
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


class Program:
    """The replica programs of one module for one argument structure, and their use."""

    def __init__(self, module, slots, tree, dim, device):
        self.module = module
        self.slots = slots                     # state_slots(module): parameters first, then buffers
        self.n_params = sum(1 for s in slots if s[2])
        self.tree = tree
        self.dim = dim
        self.device = device                   # the torch.device the replicas' tensors claim
        self.out_treedef = None                # known once traced
        self.out_dtypes = ()
        self.scalar_outputs = False
        self.written = ()                      # indices of the buffers the forward writes
        self._programs = {}

    # -- the replica: the module's Python code on traced values ---------------------------------

    def _replica(self, params, buffers, inputs, seed):
        from ...ops import random as R
        wrapped, saved = [], []
        for (name, t, is_param, places), v in zip(self.slots, list(params) + list(buffers)):
            w = Tensor._from_value(v, device=self.device)
            wrapped.append(w)
            for table, attr in places:
                saved.append((table, attr, table[attr]))
                table[attr] = w
        try:
            xs = [Tensor._from_value(v, device=self.device) for v in inputs]
            args, kwargs = self.tree.rebuild(xs)
            with no_grad(), R.traced_randomness(seed):
                out = self.module(*args, **kwargs)
            # a buffer after the call: replaced (`self.x = ...`) or written in place
            after = [places[0][0][places[0][1]] for _, _, _, places in self.slots[self.n_params:]]
        finally:
            for table, attr, old in reversed(saved):
                table[attr] = old
        leaves, treedef = jax.tree_util.tree_flatten(out, is_leaf=lambda x: isinstance(x, Tensor))
        for x in leaves:
            if not isinstance(x, Tensor):
                raise TypeError("DataParallel: the module returned a %s; outputs must be tensors (or tuples, "
                                "lists and dicts of them) to be gathered" % type(x).__name__)
        self.out_treedef = treedef
        self.out_dtypes = tuple(x.dtype for x in leaves)
        self.scalar_outputs = any(not x._shape for x in leaves)
        self.written = tuple(i for i, (a, w) in enumerate(zip(after, wrapped[self.n_params:]))
                             if a is not w or a._value() is not buffers[i])
        return [x._value() for x in leaves], [after[i]._value().astype(buffers[i].dtype) for i in self.written]

    def programs(self, devices, first_replica):
        """(forward, forward keeping a pullback, backward, mesh) for a mesh of `devices`; replicas
        draw random numbers from seed + their index from the first device of the whole set."""
        key = (devices, first_replica)
        progs = self._programs.get(key)
        if progs is not None:
            return progs
        mesh = Mesh(np.array(devices), (_AXIS,))
        spec_x = P(*([None] * self.dim + [_AXIS]))

        def per_replica(params, buffers, inputs, seed):
            key = seed + jnp.uint32(first_replica) + jax.lax.axis_index(_AXIS).astype(jnp.uint32)
            outs, new_buffers = self._replica(params, buffers, inputs, key)
            return [o[None] for o in outs], [b[None] for b in new_buffers]

        run = shard_map(per_replica, mesh=mesh, in_specs=(P(), P(), spec_x, P()),
                        out_specs=(P(_AXIS), P(_AXIS)), check_vma=False)

        def forward_vjp(params, buffers, inputs, seed, diff):
            """The forward, and its pullback to the parameters and inputs listed in diff (those
            that require grad): (outputs, new buffers, pullback)."""
            dp, dx = diff

            def f(dparams, dinputs):
                ps, xs = list(params), list(inputs)
                for i, v in zip(dp, dparams):
                    ps[i] = v
                for i, v in zip(dx, dinputs):
                    xs[i] = v
                return run(ps, buffers, xs, seed)
            outs, pullback, new_buffers = jax.vjp(f, [params[i] for i in dp], [inputs[i] for i in dx], has_aux=True)
            return outs, new_buffers, pullback

        progs = self._programs[key] = (jax.jit(run), jax.jit(forward_vjp, static_argnums=4),
                                       jax.jit(lambda pb, ct: pb(ct)), mesh)
        return progs

    # -- one call ---------------------------------------------------------------------------------

    def forward(self, parts, params, buffers, inputs, seed, diff, src, out):
        """Run the replicas. parts: [(devices, chunk size, first row, first replica)]; diff: None
        (no backward) or (indices of the parameters, of the inputs) that require grad.
        Returns (outputs on `out`, {buffer index: replica 0's new value on `src`}, backward state)."""
        dim = self.dim
        results = []
        seed = np.uint32(seed)
        for devices, size, row, first in parts:
            fwd, fwd_vjp, _, mesh = self.programs(devices, first)
            rows = len(devices) * size
            xs = inputs if len(parts) == 1 else [jax.lax.slice_in_dim(x, row, row + rows, axis=dim) for x in inputs]
            rep, shard = _replicated(mesh), _shard(mesh, dim)
            pv = replicate(list(params) + list(buffers), devices, rep)
            pv, bv = pv[:len(params)], pv[len(params):]
            xv = jax.device_put(xs, [shard] * len(xs))
            if diff is not None:
                results.append(fwd_vjp(pv, bv, xv, seed, diff))
            else:
                results.append(fwd(pv, bv, xv, seed) + (None,))
        ranks = tuple(o.ndim - 1 for o in results[0][0])
        counts = tuple(len(p[0]) for p in parts)
        outs = _combiner(dim, ranks, counts)(*gather_shards([o for r in results for o in r[0]], out, 0))
        new_buffers = {}
        for i, b in zip(self.written, results[0][1]):
            new_buffers[i] = local_copy(b, parts[0][0][0], leading=True)
        state = None
        if diff is not None:
            shapes = tuple(tuple(tuple(o.shape[1:]) for o in r[0]) for r in results)
            state = (parts, [r[2] for r in results], shapes, counts)
        return outs, new_buffers, state

    def backward(self, state, cts, param_devices, input_devices):
        """Gradients of the differentiated parameters (summed over replicas, each on its device
        in param_devices) and inputs (each on its device in input_devices), from the output
        gradients (on the output device)."""
        parts, pullbacks, shapes, counts = state
        split = _splitter(self.dim, shapes, counts)(*cts)
        grads = []
        for (devices, _, _, first), pullback, ct in zip(parts, pullbacks, split):
            _, _, bwd, mesh = self.programs(devices, first)
            ct = jax.device_put(ct, [NamedSharding(mesh, P(_AXIS))] * len(ct))
            grads.append(bwd(pullback, ct))
        param_grads = []
        for j, target in enumerate(param_devices):
            pieces = [local_copy(g[0][j], target) for g in grads]
            param_grads.append(pieces[0] if len(pieces) == 1 else _sum_all(*pieces))
        input_grads = []
        for i, target in enumerate(input_devices):
            pieces = gather_shards([g[1][i] for g in grads], target, self.dim)
            input_grads.append(_joiner(self.dim, len(pieces))(*pieces))
        return param_grads, input_grads


def _shard(mesh, dim):
    return NamedSharding(mesh, P(*([None] * dim + [_AXIS])))


def _replicated(mesh):
    return NamedSharding(mesh, P())


@functools.lru_cache(None)
def _combiner(dim, ranks, counts):
    """The replicas' outputs (shards of (replicas, *replica shape) arrays, in part, output, replica
    order, all on the output device) -> torch's gathered outputs."""
    def combine(*shards):
        shards, outs = list(shards), []
        stacked = []
        for n in counts:
            for _ in ranks:
                stacked.append(jnp.concatenate(shards[:n], axis=0) if n > 1 else shards[0])
                del shards[:n]
        for j, rank in enumerate(ranks):
            pieces = []
            for p in range(len(counts)):
                o = stacked[p * len(ranks) + j]
                if rank:
                    o = jnp.moveaxis(o, 0, dim)
                    o = o.reshape(o.shape[:dim] + (o.shape[dim] * o.shape[dim + 1],) + o.shape[dim + 2:])
                pieces.append(o)
            outs.append(pieces[0] if len(pieces) == 1 else jnp.concatenate(pieces, axis=dim if rank else 0))
        return outs
    return jax.jit(combine)


@functools.lru_cache(None)
def _splitter(dim, shapes, counts):
    """The inverse of _combiner for output gradients: per part, (replicas, *replica shape)."""
    def split(*cts):
        parts = []
        for p, (n, replica_shapes) in enumerate(zip(counts, shapes)):
            part = []
            for j, ct in enumerate(cts):
                s = replica_shapes[j]
                before = sum(counts[q] * (shapes[q][j][dim] if shapes[q][j] else 1) for q in range(p))
                if not s:
                    part.append(jax.lax.slice_in_dim(ct, before, before + n, axis=0))
                    continue
                size = s[dim]
                piece = jax.lax.slice_in_dim(ct, before, before + n * size, axis=dim)
                piece = piece.reshape(piece.shape[:dim] + (n, size) + piece.shape[dim + 1:])
                part.append(jnp.moveaxis(piece, dim, 0))
            parts.append(part)
        return parts
    return jax.jit(split)


@functools.lru_cache(None)
def _joiner(dim, n):
    """Input gradients, shards along dim in order -> one gradient."""
    def join(*parts):
        return parts[0] if n == 1 else jnp.concatenate(parts, axis=dim)
    return jax.jit(join)


def gather_shards(arrays, target, axis):
    """The shards of arrays split along `axis` over a mesh, in order, all moved to `target` in one
    batched transfer (jax.device_put of a sharded array to one device would go through the host)."""
    shards = []
    for a in arrays:
        ordered = sorted(a.addressable_shards, key=lambda s: s.index[axis].start or 0 if len(s.index) > axis else 0)
        shards.extend(s.data for s in ordered)
    return jax.device_put(shards, [target] * len(shards))


@jax.jit
def _sum_all(*xs):
    return functools.reduce(lambda a, b: a + b, xs)


def replicate(arrays, devices, sharding):
    """torch's Broadcast: each array copied to every device of the mesh (one batched transfer; an
    array already on one of them is used there as is), assembled as replicated global arrays."""
    sources, targets, layout = [], [], []
    for a in arrays:
        here = a.devices() if len(a.devices()) == 1 else ()
        row = []
        for d in devices:
            if d in here:
                row.append(None)
            else:
                row.append(len(sources))
                sources.append(a)
                targets.append(d)
        layout.append(row)
    copies = jax.device_put(sources, targets) if sources else []
    return [jax.make_array_from_single_device_arrays(a.shape, sharding,
                                                     [a if i is None else copies[i] for i in row])
            for a, row in zip(arrays, layout)]


def local_copy(array, target, leading=False):
    """`array` on the single device `target`: its shard there when it holds all of it (no copy), else
    moved. leading=True: the array is stacked over replicas; the copy of the replica on `target`."""
    shards = array.addressable_shards
    for shard in shards:
        if shard.device == target and (leading or shard.data.shape == array.shape):
            return shard.data[0] if leading else shard.data
    first = min(shards, key=lambda s: s.index[0].start or 0 if s.index else 0).data
    return jax.device_put(first[0] if leading else first, target)
