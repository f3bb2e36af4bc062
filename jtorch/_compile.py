"""torch.compile over jax.jit.

NOTE [Compiling a step]
A compiled function runs the same eager jtorch code, once, inside `jax.jit`, with every state
tensor it touches swapped for a tracer; the program XLA builds is then replayed on later calls.

* Discovery. The first two calls run eagerly while a recorder notes every tensor that existed
  before the call and that the call read or wrote (parameters, buffers, .grad, optimizer state,
  tensors in closures). The first call also creates lazily made state (the first .grad,
  momentum buffers) that the second one reads, so the traced program sees the steady state.
* Trace. The state tensors' values become the jitted function's inputs: during tracing each
  state tensor's `_data` is a tracer, the user's code runs unchanged, and the program returns
  the outputs, every state tensor's new value, and the values of tensors the call created that
  are still alive afterwards (a new .grad, new optimizer state): they "escape" and are updated
  in place on every replay. Randomness inside the trace comes from a JAX key drawn from the
  jtorch generator at each call.
* Guards. The cache key holds the arguments' shapes and dtypes, non-tensor arguments, the state
  set with its shapes/dtypes/requires_grad/whether .grad is set, Python values of the modules and
  optimizers the function reaches (training flags, hyperparameters), and the plain Python values
  (numbers, strings, shallow lists and dicts of them) in its closure and the globals it names.
  Other Python state the function reads (attributes of arbitrary objects, deep containers) is
  frozen at trace time, as torch.jit.trace freezes it. A changed key retraces
  (`jtorch.compile.stats()` counts traces). A state tensor met during a trace that discovery
  did not see is added to the state and the call retraces. Code that needs concrete values
  (`.item()`, printing, `if tensor:`) cannot be traced: that call runs eagerly, with a one-time
  warning. Python-level effects of a trace (a scheduler's counters) are recorded with the entry
  and re-applied on replay; a function whose guards change on every call falls back to eager.
"""
import functools
import gc
import types
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import _tensor as T
from ._tensor import Tensor

_NO_SEED = np.uint32(0)
_STATS = {"traces": 0, "calls": 0, "eager_fallbacks": 0, "cache_hits": 0}
_MAX_GUARD_RETRACES = 8
# eager calls that discover the state: the first also creates lazily made state (the first .grad,
# momentum buffers) that only the second one reads
_DISCOVERY_CALLS = 2


def stats():
    """Counters of compiled calls: traces, cache hits, eager fallbacks."""
    return dict(_STATS)


def reset_stats():
    for k in _STATS:
        _STATS[k] = 0


class _Recorder:
    """Learns which tensors a call creates and which pre-existing tensors it touches."""

    def __init__(self):
        self._created = {}        # id -> weakref (a WeakSet would compare tensors with ==)
        self.touched_roots = {}   # id -> tensor, in first-touch order
        self.originals = []       # (tensor, _data, _host) as first touched, to undo a failed trace
        self.ran_backward = False

    def created(self, t):
        self._created[id(t)] = weakref.ref(t)

    def _was_created(self, t):
        ref = self._created.get(id(t))
        return ref is not None and ref() is t

    def touched(self, root):
        if id(root) not in self.touched_roots and not self._was_created(root):
            self.touched_roots[id(root)] = root
            self.originals.append((root, root._data, root._host))

    def alive_created(self):
        return [t for t in (r() for r in self._created.values()) if t is not None]


class _Recording:
    def __init__(self, recorder):
        self.recorder = recorder

    def __enter__(self):
        self.prev = T._recorder
        T._recorder = self.recorder
        return self.recorder

    def __exit__(self, *exc):
        T._recorder = self.prev


class _NeedsEager(Exception):
    pass


class _NewState(Exception):
    def __init__(self, tensors):
        self.tensors = tensors


# -- Python-level state of the objects a function reaches ------------------------------------------

def _reachable_objects(fn, args, kwargs):
    """Modules, optimizers and schedulers the function can reach: its arguments, `self` and its
    attributes, closure cells and the globals its code names, following the functions found
    there (a step that calls a helper that calls `opt.step()` reaches `opt`) to a bounded depth."""
    kinds = _stateful_kinds()
    found, seen = [], set()

    def visit(obj, depth):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, kinds):
            found.append(obj)
        elif depth and isinstance(obj, types.MethodType):
            visit(obj.__self__, depth - 1)
            visit(obj.__func__, depth - 1)
        elif depth and isinstance(obj, types.FunctionType):
            g = obj.__globals__
            for name in obj.__code__.co_names:
                if name in g and not isinstance(g[name], types.ModuleType):
                    visit(g[name], depth - 1)
            for cell in obj.__closure__ or ():
                try:
                    visit(cell.cell_contents, depth - 1)
                except ValueError:
                    pass
        elif depth and hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)):
            for value in list(vars(obj).values()):    # a trainer object holding model and optimizer
                if isinstance(value, kinds):
                    visit(value, 0)
    visit(fn, _REACH_DEPTH)
    for a in list(args) + list(kwargs.values()):
        visit(a, 1)
    return found


_REACH_DEPTH = 4


_SCALARS = (int, float, bool, str, type(None))


def _python_guard(value):
    """A hashable summary of a plain Python value a function reads from its closure or globals:
    numbers, strings, and lists/tuples/dicts of them (shallow). None for anything else."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, _SCALARS) for v in value):
        return (type(value).__name__,) + tuple(value)
    if isinstance(value, dict) and all(isinstance(v, _SCALARS) for v in value.values()):
        try:
            return ("dict",) + tuple(sorted(value.items()))
        except TypeError:
            return None
    return None


def _closure_guards(fn):
    """Guards on the plain Python values in the function's closure and the globals it names."""
    target = getattr(fn, "__func__", fn)
    code = getattr(target, "__code__", None)
    if code is None:
        return ()
    guards = []
    for cell in getattr(target, "__closure__", None) or ():
        try:
            guards.append(_python_guard(cell.cell_contents))
        except ValueError:
            guards.append(None)
    g = getattr(target, "__globals__", {})
    for name in code.co_names:
        v = g.get(name)
        if v is not None and not callable(v):
            guards.append(_python_guard(v))
    return tuple(guards)


def _stateful_kinds():
    """Module, Optimizer and the LR schedulers: the objects whose Python values steer a step."""
    from .nn import Module
    from .optim import Optimizer, lr_scheduler
    return (Module, Optimizer, lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)


def _scalar_items(d):
    return tuple(sorted((k, v) for k, v in d.items()
                        if isinstance(v, (int, float, bool, str, type(None))) and not k.startswith("__")))


_module_lists = weakref.WeakKeyDictionary()


def _submodules(module):
    """A module's modules(), cached: walking the tree on every call costs more than the step."""
    mods = _module_lists.get(module)
    if mods is None:
        mods = _module_lists[module] = list(module.modules())
    return mods


def _is_traced_lr(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lr_slots(objects):
    """The param groups whose learning rate is a Python number: the compiled program takes those
    numbers as inputs, so a scheduler changing them between calls never retraces."""
    from . import optim
    return [g for obj in objects if isinstance(obj, optim.Optimizer)
            for g in obj.param_groups if _is_traced_lr(g.get("lr"))]


def _python_state(objects):
    """A hashable snapshot of the Python values that steer the traced code (a numeric learning
    rate is an input of the program instead, see _lr_slots)."""
    from . import nn, optim
    snap = []
    for obj in objects:
        if isinstance(obj, nn.Module):
            snap.append(tuple(m.training for m in _submodules(obj)))
        elif isinstance(obj, optim.Optimizer):
            snap.append(tuple(_scalar_items({k: v for k, v in g.items()
                                             if k != "params" and not (k == "lr" and _is_traced_lr(v))})
                              for g in obj.param_groups))
        else:
            snap.append(_scalar_items(vars(obj)))
    return tuple(snap)


def _apply_python_state(objects, snap):
    from . import nn, optim
    for obj, values in zip(objects, snap):
        if isinstance(obj, nn.Module):
            for m, flag in zip(_submodules(obj), values):
                if m.training != flag:
                    m.training = flag
        elif isinstance(obj, optim.Optimizer):
            for g, items in zip(obj.param_groups, values):
                g.update(dict(items))
        else:
            for k, v in values:
                setattr(obj, k, v)


# -- the compiled function --------------------------------------------------------------------------

def _tensor_leaves(tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=lambda x: isinstance(x, Tensor))
    return leaves, treedef


def _leaf_key(x):
    if isinstance(x, Tensor):
        return ("T", x._shape, x.dtype.name, x._requires_grad)
    try:
        hash(x)
        return ("P", type(x).__name__, x)
    except TypeError:
        return ("O", id(x))


class _Entry:
    """One traced program; its metadata is filled in by the first trace."""


def _is_concrete(value):
    return not isinstance(value, jax.core.Tracer)


class CompiledFunction:
    """The callable torch.compile returns for a function (and uses for a module's forward)."""

    def __init__(self, fn, dynamic=None, fullgraph=False):
        self.fn = fn
        self.fullgraph = fullgraph
        self.state = []            # pre-existing root tensors the function touches
        self.discovery_calls = 0
        self.entries = {}
        self.eager_keys = set()
        self.guard_retraces = 0
        self.always_eager = False
        self._warned = set()
        functools.update_wrapper(self, fn)

    def _warn(self, what, message):
        if what not in self._warned:
            self._warned.add(what)
            warnings.warn("jtorch.compile(%s): %s" % (getattr(self.fn, "__name__", "fn"), message),
                          stacklevel=3)

    def __call__(self, *args, **kwargs):
        _STATS["calls"] += 1
        if self.always_eager:
            return self.fn(*args, **kwargs)
        if self.discovery_calls < _DISCOVERY_CALLS:
            return self._discover(args, kwargs)
        objects = _reachable_objects(self.fn, args, kwargs)
        leaves, treedef = _tensor_leaves((args, kwargs))
        key = (treedef, tuple(_leaf_key(x) for x in leaves), self._state_key(), _python_state(objects),
               _closure_guards(self.fn))
        if key in self.eager_keys:
            _STATS["eager_fallbacks"] += 1
            return self.fn(*args, **kwargs)
        entry = self.entries.get(key)
        if entry is None:
            if self.entries:
                self.guard_retraces += 1
                if self.guard_retraces > _MAX_GUARD_RETRACES:
                    self._warn("guards", "the guards changed on %d calls (shapes, Python values or "
                               "state): running eagerly from now on" % self.guard_retraces)
                    self.always_eager = True
                    return self.fn(*args, **kwargs)
            entry = self._trace(leaves, treedef, objects)
        else:
            _STATS["cache_hits"] += 1
        try:
            result = self._run(entry, leaves, objects)
        except _NeedsEager as e:
            self._warn("eager", "%s; this call runs eagerly" % e)
            self.eager_keys.add(key)
            if len(self.eager_keys) > _MAX_GUARD_RETRACES:
                # the guards keep changing and each new trace needs eager: stop tracing
                self.always_eager = True
            _STATS["eager_fallbacks"] += 1
            return self.fn(*args, **kwargs)
        except _NewState as e:
            self._warn("newstate", "the function touched %d tensor(s) it did not touch when first "
                       "called; they are now part of its state and it is traced again" % len(e.tensors))
            self.state.extend(e.tensors)
            return self(*args, **kwargs)
        self.entries.setdefault(key, entry)
        return result

    def _state_key(self):
        return tuple((t._shape, t.dtype.name, t._requires_grad, t._grad is None) for t in self.state)

    def _discover(self, args, kwargs):
        rec = _Recorder()
        with _Recording(rec):
            out = self.fn(*args, **kwargs)
        arg_roots = {id(t if t._base is None else t._base) for t in _tensor_leaves((args, kwargs))[0]
                     if isinstance(t, Tensor)}
        known = {id(t) for t in self.state}
        self.state += [t for i, t in rec.touched_roots.items() if i not in arg_roots and i not in known]
        self.discovery_calls += 1
        return out

    def _trace(self, leaves, treedef, objects):
        """A cache entry whose jitted function runs the user's code on traced state when first called."""
        state = list(self.state)
        arg_positions = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
        entry = _Entry()
        python_before = _python_state(objects)
        fn = self.fn
        n_state = len(state)
        entry.lr_groups = _lr_slots(objects)

        def pure(seed, lrs, *values):
            from .ops import random as R
            first = not hasattr(entry, "escaped")
            state_values, arg_values = values[:n_state], values[n_state:]
            saved = [(t, t._data, t._host) for t in state]
            saved_lrs = [g["lr"] for g in entry.lr_groups]
            rec = _Recorder()
            if first:
                _STATS["traces"] += 1
            try:
                for g, lr in zip(entry.lr_groups, lrs):
                    g["lr"] = lr
                for t, v in zip(state, state_values):
                    t._data, t._host = v, None
                    t._vbox[0] += 1          # views of state re-read their (traced) base
                new_leaves = list(leaves)
                for i, v in zip(arg_positions, arg_values):
                    src = leaves[i]
                    t = Tensor._from_value(v, dtype=src.dtype, device=src._device)
                    t._requires_grad = src._requires_grad
                    rec.created(t)
                    new_leaves[i] = t
                a, kw = jax.tree_util.tree_unflatten(treedef, new_leaves)
                with _Recording(rec), R.traced_randomness(seed):
                    out = fn(*a, **kw)
                    out_leaves, out_treedef = _tensor_leaves(out)
                    del a, kw, new_leaves
                if any(g["lr"] is not lr for g, lr in zip(entry.lr_groups, lrs)):
                    raise _NeedsEager("it sets a learning rate (a scheduler stepping inside the compiled "
                                      "function: step it outside to compile the rest)")
                new_state = [t._data for t in state]
                in_state = {id(t) for t in state}
                arg_ids = {id(x) for x in leaves}
                unseen = [t for i, t in rec.touched_roots.items() if i not in in_state and i not in arg_ids]
                if unseen:
                    raise _NewState(unseen)
                out_is_tensor = [isinstance(x, Tensor) for x in out_leaves]
                out_values = [x._value() if isinstance(x, Tensor) else x for x in out_leaves]
                tensor_outs = [v for v, is_t in zip(out_values, out_is_tensor) if is_t]
                if not first:   # a re-trace for the backward of a compiled forward: same program
                    return tuple(tensor_outs)
                del out, out_leaves
                gc.collect()
                entry.escaped = [t for t in rec.alive_created()
                                 if t._base is None and id(t) not in in_state and isinstance(t._data, jax.Array)
                                 and not _is_concrete(t._data)]
                entry.out_treedef = out_treedef
                entry.out_is_tensor = out_is_tensor
                entry.python_consts = [v for v, is_t in zip(out_values, out_is_tensor) if not is_t]
                entry.python_after = _python_state(objects)
                entry.python_changes = entry.python_after != python_before
                entry.needs_node = not rec.ran_backward
                entry.uses_random = R._traced_used
                return tuple(tensor_outs) + tuple(new_state) + tuple(t._data for t in entry.escaped)
            except jax.errors.ConcretizationTypeError as e:
                raise _NeedsEager("it needs a concrete value (%s)" % type(e).__name__) from None
            except jax.errors.TracerBoolConversionError:
                raise _NeedsEager("a Python branch depends on a tensor's value") from None
            except jax.errors.TracerIntegerConversionError:
                raise _NeedsEager("a tensor's value is used as a Python int") from None
            except RuntimeError as e:
                if "needs a concrete value" in str(e):
                    raise _NeedsEager(str(e).split(" (")[0]) from None
                raise
            finally:
                for t, data, host in rec.originals + saved:   # state last: its originals are tracers
                    t._data, t._host = data, host
                for g, lr in zip(entry.lr_groups, saved_lrs):
                    g["lr"] = lr
                _apply_python_state(objects, python_before)

        entry.jitted = jax.jit(pure)
        return entry

    def _run(self, entry, leaves, objects):
        from .ops import random as R
        from .autograd import graph
        from .ops._registry import _Entry as OpEntry
        state = self.state
        arg_tensors = [x for x in leaves if isinstance(x, Tensor)]
        first = not hasattr(entry, "uses_random")
        # the generator advances only for programs that draw random numbers, as eager code would
        seed = R.compile_seed(peek=first) if first or entry.uses_random else _NO_SEED
        inputs = state + arg_tensors
        values = [t._value() for t in inputs]
        lrs = [np.float64(g["lr"]) for g in _lr_slots(objects)]
        results = entry.jitted(seed, lrs, *values)
        if first and entry.uses_random:
            R.compile_seed()
        n_tensor_out = sum(entry.out_is_tensor)
        outs = results[:n_tensor_out]
        new_state = results[n_tensor_out:n_tensor_out + len(state)]
        escaped_values = results[n_tensor_out + len(state):]
        for t, v in zip(state, new_state):
            if v is not t._data or t._host is not None:
                t._write(v)
        for t, v in zip(entry.escaped, escaped_values):
            t._data = v
            t._vbox[0] += 1
        if entry.python_changes:
            _apply_python_state(objects, entry.python_after)
        out_tensors = [Tensor._from_value(v) for v in outs]
        inputs_pairs = list(enumerate(inputs))
        if entry.needs_node and graph.should_record(None, inputs_pairs) and any(
                t.dtype.is_floating_point for t in out_tensors):
            jitted = entry.jitted

            def forward(*vals):
                return jitted(seed, lrs, *vals)[:n_tensor_out]
            graph.record(None, OpEntry(forward), values, inputs_pairs, out_tensors,
                         name="CompiledFunctionBackward")
        it_t, it_c = iter(out_tensors), iter(entry.python_consts)
        out_leaves = [next(it_t) if is_t else next(it_c) for is_t in entry.out_is_tensor]
        return jax.tree_util.tree_unflatten(entry.out_treedef, out_leaves)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """torch.compile: the same eager code, traced once into one jax.jit program (NOTE above).
    backend, mode and options are accepted and ignored: XLA is the only backend."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if disable:
        return model
    from . import nn
    if isinstance(model, nn.Module):
        return OptimizedModule(model, CompiledFunction(model.__call__, dynamic, fullgraph))
    return CompiledFunction(model, dynamic, fullgraph)


compile.stats = stats
compile.reset_stats = reset_stats


def _optimized_module_class():
    from . import nn

    class OptimizedModule(nn.Module):
        """What torch.compile(module) returns: calls go through the compiled forward; everything
        else (parameters, state_dict with the `_orig_mod.` prefix, attributes) is the module's."""

        def __init__(self, mod, compiled):
            super().__init__()
            self._orig_mod = mod
            object.__setattr__(self, "_compiled_call", compiled)

        def __call__(self, *args, **kwargs):
            return self._compiled_call(*args, **kwargs)

        def forward(self, *args, **kwargs):
            return self._compiled_call(*args, **kwargs)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self._modules["_orig_mod"], name)
    return OptimizedModule


def OptimizedModule(mod, compiled):
    global OptimizedModule
    cls = _optimized_module_class()
    OptimizedModule = cls
    return cls(mod, compiled)
