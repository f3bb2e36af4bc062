"""nn.parallel.DistributedDataParallel: one module replica per process, gradients averaged.

At construction rank 0's parameters and buffers are broadcast to every rank (one coalesced
collective). Each forward run with grad enabled (and not inside no_sync()) arms a reduction:
a post-accumulate-grad hook on every parameter counts the gradients that arrive during backward,
and when the last expected one is in, all gradients are averaged across processes in one
collective per dtype (torch's buckets, as one bucket) and written back into `.grad` in place.
With find_unused_parameters=True, forward walks the output's graph to learn which parameters
this rank will not reach; those count as ready at once and contribute zeros, and a parameter no
rank used keeps `.grad` None, as in torch. Buffers are broadcast from rank 0 before each forward
(broadcast_buffers=True).

Differences from torch: gradients are reduced after the whole backward rather than overlapped
with it bucket by bucket; comm hooks, static_graph and gradient_as_bucket_view are accepted and
ignored; one process per device (device_ids of one device, or None).
"""
import contextlib

import jax
import jax.numpy as jnp

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


def _dist():
    from ... import distributed
    return distributed


@jax.jit
def _flatten(values):
    return jnp.concatenate([v.ravel() for v in values])


def _unflatten(flat, shapes, divisor):
    out, start = [], 0
    for shape in shapes:
        n = 1
        for s in shape:
            n *= s
        piece = flat[start:start + n]
        if divisor != 1:
            piece = (piece / divisor).astype(flat.dtype)
        out.append(piece.reshape(shape))
        start += n
    return out


_unflatten_jit = jax.jit(_unflatten, static_argnums=(1, 2))


def _coalesced(tensors, collective, divisor=1):
    """Run `collective(flat Tensor)` once per dtype over the tensors' values, concatenated; returns
    {index: new value / divisor}."""
    by_dtype = {}
    for i, t in enumerate(tensors):
        by_dtype.setdefault((t.dtype, t._device), []).append(i)
    out = {}
    for (dtype, device), idx in by_dtype.items():
        flat = Tensor._from_value(_flatten([tensors[i]._value() for i in idx]), dtype=dtype, device=device)
        collective(flat)
        values = _unflatten_jit(flat._value(), tuple(tuple(tensors[i].shape) for i in idx), divisor)
        for i, v in zip(idx, values):
            out[i] = v
    return out


class DistributedDataParallel(Module):
    """torch.nn.parallel.DistributedDataParallel (see the module docstring)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        dist = _dist()
        group = dist._runtime.group_state(process_group)
        self.module = module
        self.process_group = process_group
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        devices = {p._device for p in module.parameters()}
        if device_ids and (len(devices) > 1 or next(iter(devices)).type == "cpu"):
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids %s, "
                             "output_device %s, and module parameters %s." % (device_ids, output_device, devices))
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.device_ids = None if not device_ids else [getattr(d, "index", d) for d in device_ids]
        self.output_device = output_device
        self.device = next(iter(devices))
        self._world = group.world_size
        self._params = params
        self._armed = False
        self._ready = set()
        self._expected = 0
        self._unused = ()
        if init_sync and self._world > 1:
            self._sync_state(list(module.parameters()) + list(module.buffers()))
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    def __getstate__(self):
        raise RuntimeError("DistributedDataParallel is not picklable: save its .module (or its state_dict)")

    # -- forward --------------------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self._armed and self._ready:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss.")
        if self.broadcast_buffers and self._world > 1 and self.require_forward_param_sync:
            buffers = list(self.module.buffers())
            if buffers:
                self._sync_state(buffers)
        if self.device_ids:
            inputs, kwargs = _move((inputs, kwargs), self.device)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._arm(out)
        else:
            self._armed = False
        return out

    def _arm(self, out):
        self._armed = True
        self._ready = set()
        if self.find_unused_parameters:
            reached = _reachable_leaves(out)
            self._unused = tuple(p for p in self._params if id(p) not in reached)
        else:
            self._unused = ()
        self._expected = len(self._params) - len(self._unused)
        if self._expected == 0:
            self._reduce()

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside the block; the first backward after it averages them."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # -- backward -------------------------------------------------------------------------------

    def _grad_ready(self, param):
        if not self._armed:
            return
        self._ready.add(id(param))
        if len(self._ready) >= self._expected:
            self._reduce()

    def _reduce(self):
        """Average every parameter's gradient across processes (and mark which ranks used which)."""
        self._armed = False
        self._ready = set()
        if self._world == 1:
            return
        dist = _dist()
        params = self._params
        unused = {id(p) for p in self._unused}
        grads = []
        for p in params:
            g = p.grad
            if g is None:
                g = Tensor._from_value(jnp.zeros(p._shape, p.dtype.np), dtype=p.dtype, device=p._device)
            grads.append(g)
        if unused:
            used = Tensor._from_value(jnp.asarray([0.0 if id(p) in unused else 1.0 for p in params]))
            dist.all_reduce(used)
            used_anywhere = [bool(u) for u in jax.device_get(used._value())]
        else:
            used_anywhere = [True] * len(params)
        values = _coalesced(grads, lambda flat: dist.all_reduce(flat), divisor=self._world)
        with no_grad():
            for i, p in enumerate(params):
                if not used_anywhere[i]:
                    continue
                if p.grad is None:
                    p.grad = Tensor._from_value(values[i], dtype=p.dtype, device=p._device)
                else:
                    p.grad._write(values[i])

    # -- state ----------------------------------------------------------------------------------

    def _sync_state(self, tensors):
        dist = _dist()
        values = _coalesced(tensors, lambda flat: dist.broadcast(flat, 0))
        with no_grad():
            for i, t in enumerate(tensors):
                t._write(values[i])

    def _register_comm_hook(self, state, hook):
        raise NotImplementedError("jtorch DistributedDataParallel: communication hooks are not supported")

    register_comm_hook = _register_comm_hook

    def _set_static_graph(self):
        self.static_graph = True

    def join(self, *args, **kwargs):
        return contextlib.nullcontext()


def _move(tree, device):
    return jax.tree_util.tree_map(lambda x: x.to(device) if isinstance(x, Tensor) else x, tree,
                                  is_leaf=lambda x: isinstance(x, Tensor))


def _reachable_leaves(out):
    """ids of the leaf tensors the outputs' graphs reach (torch's unused-parameter search)."""
    from ...autograd.graph import AccumulateGrad
    roots = [t._grad_fn for t in jax.tree_util.tree_leaves(out, is_leaf=lambda x: isinstance(x, Tensor))
             if isinstance(t, Tensor) and t._grad_fn is not None]
    seen, stack, leaves = set(), list(roots), set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for nxt, _ in node.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return leaves
