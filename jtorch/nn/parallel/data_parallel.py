"""nn.DataParallel: one module, its batch split over the devices (NOTE [DataParallel on a device mesh]).

The devices are JAX's accelerators ("cuda"), or, on a machine without one, JAX's host devices
when XLA_FLAGS=--xla_force_host_platform_device_count=N shows several (so multi-device code runs
and is tested on CPUs). With no such devices, or one, it calls the module directly, as torch
does on a CPU-only machine.

Differences from torch, with several devices: the module's forward is traced (once per input
shape, per mesh), so Python side effects in forward (print) happen when it is traced, not at
every call, and forward must not need tensor values in Python (`if x.sum() > 0`); random numbers
in the replicas come from JAX keys, not torch's generator; a module whose forward returns
something other than tensors (in tuples, lists, dicts) cannot be gathered; scattered tensors must
share the batch size; create_graph=True through the replicas is not supported.
"""
import itertools
import warnings

import jax

from ... import _device
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ..modules.module import Module
from . import _replicas as R

__all__ = ["DataParallel", "data_parallel"]


def _available():
    """("cuda", accelerators) | ("cpu", host devices) when there are several | (None, ())."""
    acc = _device.accelerators()
    if acc:
        return "cuda", acc
    hosts = _device.host_devices()
    if len(hosts) > 1:
        return "cpu", hosts
    return None, ()


def _device_index(d):
    """torch's _get_device_index(d, optional=True)."""
    if isinstance(d, str):
        d = _device.device(d)
    if isinstance(d, _device.device):
        if d.index is None:
            from ... import cuda
            return cuda.current_device() if d.type == "cuda" else 0
        return d.index
    return int(d)


class _Call:
    """What one forward needs besides the tensors (passed through Function.apply)."""
    __slots__ = ("program", "parts", "buffers", "seed", "diff", "src", "out", "out_device")


class Gather(Function):
    """The replicated forward as one autograd node; its class name gives torch's `GatherBackward`."""

    @staticmethod
    def forward(ctx, call, *tensors):
        program = call.program
        n = program.n_params
        params, inputs = tensors[:n], tensors[n:]
        outs, new_buffers, state = program.forward(
            call.parts, [p._value() for p in params], [b._value() for b in call.buffers],
            [x._value() for x in inputs], call.seed, call.diff, call.src, call.out)
        for i, value in new_buffers.items():
            call.buffers[i]._write(value)
        ctx.call, ctx.state = call, state
        if call.diff is not None:
            ctx.param_devices = [_device.jax_device(params[i]._device) for i in call.diff[0]]
            ctx.input_devices = [_device.jax_device(inputs[i]._device) for i in call.diff[1]]
        return tuple(Tensor._from_value(o, dtype=d, device=call.out_device)
                     for o, d in zip(outs, program.out_dtypes))

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        if ctx.state is None:
            raise RuntimeError("DataParallel: this forward ran without gradients")
        n = call.program.n_params
        cts = [g._value() for g in grads]
        param_grads, input_grads = call.program.backward(ctx.state, cts, ctx.param_devices, ctx.input_devices)
        out = [None] * len(ctx.needs_input_grad)
        for j, g in zip(call.diff[0], param_grads):
            out[1 + j] = Tensor._from_value(g)
        for i, g in zip(call.diff[1], input_grads):
            out[1 + n + i] = Tensor._from_value(g)
        return tuple(out)


class DataParallel(Module):
    """torch.nn.DataParallel (see the module docstring for how it runs and how it differs)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        kind, devices = _available()
        if kind is None:
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(len(devices)))
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = [_device_index(x) for x in device_ids]
        self.output_device = _device_index(output_device)
        for i in self.device_ids:
            if not 0 <= i - (_device._index_base if kind == "cuda" else 0) < len(devices):
                raise RuntimeError("DataParallel: device %d is not available (%d device(s))" % (i, len(devices)))
        self.src_device_obj = _device.device("cuda", self.device_ids[0]) if kind == "cuda" else _device.CPU
        self._kind = kind
        self._programs = {}
        self._calls = 0
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_programs", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.__dict__.get("device_ids"):
            self._programs = {}

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        src = self.src_device_obj
        for t in itertools.chain(self.module.parameters(), self.module.buffers()):
            if t._device != src:
                raise RuntimeError("module must have its parameters and buffers on device %s (device_ids[0]) "
                                   "but found one of them on device: %s" % (src, t._device))
        tree = R._Tree(inputs, kwargs)
        tensors = [x for x in jax.tree_util.tree_leaves((inputs, kwargs), is_leaf=lambda x: isinstance(x, Tensor))
                   if isinstance(x, Tensor)]
        sizes = self._chunks(tensors)
        if len(self.device_ids) == 1 or len(sizes) <= 1:
            # one replica: torch runs the module itself, on device_ids[0]
            moved = [t.to(src) if self._kind == "cuda" else t for t in tensors]
            args, kw = tree.rebuild(moved)
            return self.module(*args, **kw)
        return self._parallel(tree, tensors, sizes)

    def _chunks(self, tensors):
        if not tensors:
            return []
        dim = self.dim
        for t in tensors:
            if t.dim() <= dim:
                raise RuntimeError("chunk expects at least a %d-dimensional tensor" % (dim + 1))
        batch = {t.shape[dim] for t in tensors}
        if len(batch) > 1:
            raise NotImplementedError("DataParallel in jtorch scatters tensors of one batch size; got sizes %s "
                                      "along dim %d" % (sorted(batch), dim))
        return R.chunk_sizes(batch.pop(), len(self.device_ids))

    def _parallel(self, tree, tensors, sizes):
        kind, all_devices = _available()
        base = _device._index_base if kind == "cuda" else 0
        devices = [all_devices[i - base] for i in self.device_ids]
        size, full = sizes[0], sum(1 for s in sizes if s == sizes[0])
        parts = [(tuple(devices[:full]), size, 0, 0)]
        if len(sizes) > full:
            parts.append(((devices[full],), sizes[-1], full * size, full))
        slots = R.state_slots(self.module)
        n_params = sum(1 for s in slots if s[2])
        key = (tree.key(), tuple(id(s[1]) for s in slots), tuple(x.dtype for x in tensors),
               tuple(m.training for m in self.module.modules()))
        program = self._programs.get(key)
        if program is None:
            program = self._programs[key] = R.Program(self.module, slots, tree, self.dim, self.src_device_obj)
        params = [s[1] for s in slots[:n_params]]
        call = _Call()
        call.program = program
        call.parts = parts
        call.buffers = [s[1] for s in slots[n_params:]]
        self._calls += 1
        call.seed = (0x9E3779B1 * self._calls + id(self)) & 0xFFFFFFFF
        call.diff = None
        if is_grad_enabled() and any(t._requires_grad for t in params + tensors):
            call.diff = (tuple(i for i, p in enumerate(params) if p._requires_grad),
                         tuple(i for i, t in enumerate(tensors) if t._requires_grad))
        call.src = _device.jax_device(self.src_device_obj)
        call.out_device = (_device.canonical(_device.device("cuda", self.output_device)) if kind == "cuda"
                           else _device.CPU)
        call.out = _device.jax_device(call.out_device)
        outs = Gather.apply(call, *params, *tensors)
        if program.scalar_outputs:
            warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; will "
                          "instead unsqueeze and return a vector.")
        return jax.tree_util.tree_unflatten(program.out_treedef, list(outs))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """torch.nn.parallel.data_parallel: DataParallel's forward, once."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return DataParallel(module, device_ids, output_device, dim)(*inputs, **(module_kwargs or {}))
