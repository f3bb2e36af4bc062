"""Optimizer: torch's bookkeeping (param_groups, state, state_dict, hooks) around pure JAX rules.

NOTE [Optimizer steps]
Each optimizer class keeps torch's surface exactly: `param_groups` (dicts holding every
hyperparameter and 'params'), `defaults`, `state` (a defaultdict keyed by parameter tensor, whose
per-parameter dicts hold torch's key names and tensor types, e.g. 'step' as a 0-d float32 tensor),
and `state_dict()`/`load_state_dict()` in torch's layout, so state dicts move between the two
libraries. The arithmetic is a pure per-parameter rule over jax arrays,

    rule(cfg, h, param, grad, state) -> (new_param, {state key: new array})

that follows torch's single-tensor implementation operation by operation: the tensor ops are the
helpers in _rules.py that reproduce torch's CPU kernels (computed in torch's opmath type, Python
scalars unrounded, the result rounded to the tensor's dtype), the scalar math (bias corrections)
is float64 as torch's Python floats are. A step runs the rule over all parameters of all groups
inside ONE cached `jax.jit` per device (`_rules._apply`): each group's `cfg` is a static tuple of
the branches torch takes on hyperparameter values (`momentum != 0`, `amsgrad`, ...), its `h`
holds the hyperparameters themselves as traced float64 scalars read from the group at
every step, so a scheduler changing `lr` never recompiles. Results are written back in place with
`Tensor._write`: parameters and state tensors keep their identity, as torch's in-place updates do,
and nothing is recorded by autograd. Inside `jtorch.compile` the arrays are tracers and the same
code becomes part of the compiled step.

optax is not used for the arithmetic: its rules are the same mathematics in a different order of
floating-point operations (optax.adam divides m by the bias correction and adds eps to
sqrt(v_hat); torch folds the corrections into the step size and divides sqrt(v) first; optax's
adagrad and rmsprop put eps inside the square root and start accumulators at other values), so
trajectories would drift from torch's by more than rounding. Each rule here is a few lines.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import jax.numpy as jnp

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from ._rules import _apply_jit, _scalar, _scalar_state, _zeros_state  # noqa: F401  (_apply_jit: its cache is tested)

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """A handle that removes a hook from its dict (torch.utils.hooks.RemovableHandle)."""

    next_id = 0

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj):
    if isinstance(obj, Tensor):
        return "torch.%sTensor" % obj.dtype._legacy
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else module + "." + name


class Optimizer:
    r"""Base class for all optimizers (torch.optim.Optimizer).

    Subclasses give `_rule` (a pure per-parameter function, NOTE [Optimizer steps]), `_config`
    (the static branches for a group), `_hyper` (the traced hyperparameters of a group) and
    `_init_state` (torch's lazy state initialisation), and inherit a `step` that runs the rule.
    """

    _rule = None
    # What a built-in optimizer declares instead of writing it out in each class:
    _group_flags = {}       # group keys an older pickled optimizer may lack, with their defaults
    _counts_steps = False   # a per-parameter "step" tensor (old state dicts hold a plain number)
    _zero_buffers = ()      # per-parameter buffers that start as zeros, after "step"
    _hyper_keys = ()        # the group values the rule reads as traced hyperparameters

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._patch_step_function()
        if defaults.get("differentiable", False):
            raise NotImplementedError("jtorch optimizers do not support differentiable=True: the "
                                      "step is not recorded by autograd")
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)
        self._warned_capturable_if_run_uncaptured = True

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, default in self._group_flags.items():
                group.setdefault(key, default)
        if self._counts_steps:
            self._step_tensors_from_numbers()

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += "Parameter Group %d\n" % i
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += "    %s: %s\n" % (key, group[key])
        format_string += ")"
        return format_string

    # -- hooks --------------------------------------------------------------------------------

    @staticmethod
    def profile_hook_step(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                                  self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError("%s must return None or a tuple of (new_args, new_kwargs), "
                                           "but got %s." % (func, result))
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(),
                                   _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out
        return wrapper

    def _patch_step_function(self):
        self._zero_grad_profile_name = "Optimizer.zero_grad#%s.zero_grad" % self.__class__.__name__
        if not getattr(self.__class__.step, "hooked", None):
            self.__class__.step = self.profile_hook_step(self.__class__.step)
            self.__class__.step.hooked = True

    def _register(self, hooks, hook, prepend=False):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dicts --------------------------------------------------------------------------

    def state_dict(self):
        """The state in torch's layout: parameters replaced by their integer index, the state
        tensors themselves (not copies), every hyperparameter key of every group."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        fused = capturable = False
        for pg in param_groups or ():
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=D.float32, device=param._device)
            # torch keeps this 'step' where it was (the CPU); the jitted rule needs it beside the
            # parameter, so jtorch moves it to the parameter's device (a no-op on the CPU)
            return value.to(device=param._device)
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param._device)
        return value.to(device=param._device)

    def load_state_dict(self, state_dict):
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups)
                                   for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    def _step_tensors_from_numbers(self):
        """Old state dicts hold 'step' as a number; torch turns it into a tensor on load."""
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if len(p_state) != 0 and "step" in p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _scalar_state(float(p_state["step"]), p)

    # -- groups and gradients -----------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._write(jnp.zeros_like(g._value()))

    def step(self, closure=None):
        """Run the closure (with grad enabled), then the rule over every group. A subclass that
        gives no `_rule` must override step, as with torch's base class."""
        if type(self)._rule is None:
            raise NotImplementedError
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            self._step_groups(self.param_groups)
        return loss

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError("param_group must be a dict, but got %s" % type(param_group))
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use a "
                            "list instead.")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization "
                                 "parameter " + name)
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, "
                          "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                          "more information", stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. cannot "
                                 "add param group %s to the optimizer" % txt)
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- the rule machinery (NOTE [Optimizer steps]) ------------------------------------------

    def _init_state(self, p, group, state):
        """Fill an empty per-parameter state dict the way torch's _init_group does: by default the
        step count and the declared zero buffers, in that order (state_dict keeps the order)."""
        if self._counts_steps:
            state["step"] = _scalar_state(0.0, p)
        for name in self._zero_buffers:
            state[name] = _zeros_state(p)

    def _config(self, group):
        raise NotImplementedError

    def _hyper(self, group):
        if not self._hyper_keys:
            raise NotImplementedError
        return {k: group[k] for k in self._hyper_keys}

    def _uses_state(self, group):
        """Whether torch touches self.state for this group (SGD without momentum does not)."""
        return True

    def _step_groups(self, groups):
        """Run the rule over every parameter with a gradient: one jitted call per device, each
        group keeping its own static branches and traced hyperparameters."""
        work = {}   # device -> [(cfg, h, params, states)]
        for group in groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            if self._uses_state(group):
                states = []
                for p in params:
                    state = self.state[p]
                    if len(state) == 0:
                        self._init_state(p, group, state)
                    states.append(state)
            else:
                states = [{} for _ in params]
            cfg = self._config(group)
            h = {k: (tuple(_scalar(x) for x in v) if isinstance(v, tuple) else _scalar(v))
                 for k, v in self._hyper(group).items()}
            by_device = {}
            for p, st in zip(params, states):
                by_device.setdefault(p._device, ([], []))
                by_device[p._device][0].append(p)
                by_device[p._device][1].append(st)
            for device, (ps, sts) in by_device.items():
                work.setdefault(device, []).append((cfg, h, ps, sts))
        for items in work.values():
            new_p, new_s = _apply_jit(
                type(self)._rule, tuple(cfg for cfg, _, _, _ in items), [h for _, h, _, _ in items],
                [[p._value() for p in ps] for _, _, ps, _ in items],
                [[p.grad._value() for p in ps] for _, _, ps, _ in items],
                [[{k: v._value() for k, v in st.items() if isinstance(v, Tensor)} for st in sts]
                 for _, _, _, sts in items])
            for (_, _, ps, sts), gp, gs in zip(items, new_p, new_s):
                for p, st, np_, ns in zip(ps, sts, gp, gs):
                    p._write(np_)
                    for k, v in ns.items():
                        t = st.get(k)
                        if isinstance(t, Tensor) and t._shape == tuple(v.shape):
                            t._write(v)
                        else:
                            st[k] = Tensor._from_value(v, dtype=p.dtype if v.shape == p._shape else None,
                                                       device=p._device)
