"""nn.Module: the registry of parameters, buffers and submodules, with torch's full surface.

Attribute assignment routes Parameters, Modules and buffers into `_parameters`, `_modules` and
`_buffers` (ordered dicts, in assignment order); every enumeration (named_parameters,
state_dict, _apply, compile's state swap) walks them in that order, as torch does, so that
parameter order, state_dict keys and initialisation order all match PyTorch's.
"""
import functools
import inspect
import itertools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, _is_buffer
from ._hooks import BackwardHook, RemovableHandle

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook",
           "register_module_buffer_registration_hook", "register_module_module_registration_hook",
           "register_module_parameter_registration_hook"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if self.missing_keys or self.unexpected_keys:
            return super().__repr__()
        return "<All keys matched successfully>"

    __str__ = __repr__


def _addindent(text, num_spaces):
    """Indent every line of `text` but the first by num_spaces (blank lines stay empty)."""
    head, *rest = text.split("\n")
    if not rest:
        return text
    pad = " " * num_spaces
    return "\n".join([head] + [pad + line if line.strip() else "" for line in rest])


def typename(obj):
    """torch.typename: a tensor's type string, else the dotted qualified name of obj (or of its class)."""
    if isinstance(obj, Tensor):
        return obj.type()
    named = obj if (hasattr(obj, "__qualname__") or hasattr(obj, "__name__")) else obj.__class__
    qualname = named.__qualname__ if hasattr(named, "__qualname__") else named.__name__
    owner = (getattr(obj, "__module__", "") if named is obj else obj.__class__.__module__) or ""
    return qualname if owner in ("", "builtins") else owner + "." + qualname


class _WrappedHook:
    """A hook that may be bound to a module through a weak reference. Its pickled state uses the keys
    hook / with_module / module, as torch's does, so pickles interoperate."""

    def __init__(self, hook, module=None):
        self.hook = hook
        functools.update_wrapper(self, hook)
        self.with_module = module is not None
        if self.with_module:
            self.module = weakref.ref(module)

    def __call__(self, *args, **kwargs):
        if not self.with_module:
            return self.hook(*args, **kwargs)
        owner = self.module()
        if owner is None:
            raise RuntimeError("You are trying to call the hook of a dead Module!")
        return self.hook(owner, *args, **kwargs)

    def __getstate__(self):
        state = dict(hook=self.hook, with_module=self.with_module)
        if self.with_module:
            state["module"] = self.module()
        return state

    def __setstate__(self, state):
        self.hook, self.with_module = state["hook"], state["with_module"]
        if not self.with_module:
            return
        owner = state["module"]
        if owner is None:
            raise RuntimeError("You are trying to revive the hook of a dead Module!")
        self.module = weakref.ref(owner)


# global hooks (torch.nn.modules.module.register_module_*): for debugging and profiling tools
_global_buffer_registration_hooks = OrderedDict()
_global_module_registration_hooks = OrderedDict()
_global_parameter_registration_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = None
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()


def _add_hook(table, hook, prepend=False, flags=()):
    """Store `hook` in `table` under a fresh handle id. `flags` lists (flag_table, enabled) pairs:
    each enabled flag_table records the id too, and every flag_table forgets it on handle.remove()."""
    handle = RemovableHandle(table, extra_dict=[t for t, _ in flags])
    table[handle.id] = hook
    for flag_table, enabled in flags:
        if enabled:
            flag_table[handle.id] = True
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


def register_module_buffer_registration_hook(hook):
    return _add_hook(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    return _add_hook(_global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook):
    return _add_hook(_global_parameter_registration_hooks, hook)


def register_module_forward_pre_hook(hook):
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    # as in torch, removing the handle forgets the always_call flag but not the with_kwargs one
    handle = _add_hook(_global_forward_hooks, hook, flags=[(_global_forward_hooks_always_called, always_call)])
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    return _add_hook(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is not None and not _global_is_full_backward_hook:
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a global "
                           "Module hook. Please use only one of them.")
    _global_is_full_backward_hook = True
    return _add_hook(_global_backward_hooks, hook)


def _forward_unimplemented(self, *input):
    raise NotImplementedError('Module [%s] is missing the required "forward" function' % type(self).__name__)


def _run_registration_hooks(hooks, module, name, value):
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


class Module:
    """torch.nn.Module. Differences from torch: register_backward_hook (the deprecated non-full
    form) runs as a full backward hook; share_memory is a no-op; there is no TorchScript."""

    dump_patches = False
    _version = 1
    call_super_init = False
    _compiled_call_impl = None

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and kwargs:
            raise TypeError("%s.__init__() got an unexpected keyword argument '%s'"
                            % (type(self).__name__, next(iter(kwargs))))
        if self.call_super_init is False and args:
            raise TypeError("%s.__init__() takes 1 positional argument but %d were given"
                            % (type(self).__name__, len(args) + 1))
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_backward_pre_hooks", OrderedDict())
        setattr_("_backward_hooks", OrderedDict())
        setattr_("_is_full_backward_hook", None)
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_forward_hooks_with_kwargs", OrderedDict())
        setattr_("_forward_hooks_always_called", OrderedDict())
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_("_state_dict_hooks", OrderedDict())
        setattr_("_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_post_hooks", OrderedDict())
        setattr_("_modules", {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward = _forward_unimplemented

    # -- registration -------------------------------------------------------------------------

    def _check_new_name(self, kind, name, store):
        """The name checks register_buffer and register_parameter share (kind: "buffer"/"parameter")."""
        if not isinstance(name, str):
            raise TypeError("%s name should be a string. Got %s" % (kind, typename(name)))
        if "." in name:
            raise KeyError('%s name can\'t contain "."' % kind)
        if not name:
            raise KeyError('%s name can\'t be empty string ""' % kind)
        if name not in store and hasattr(self, name):
            raise KeyError("attribute '%s' already exists" % name)

    def register_buffer(self, name, tensor, persistent=True):
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name("buffer", name, self._buffers)
        if not (tensor is None or isinstance(tensor, Tensor)):
            raise TypeError("cannot assign '%s' object to buffer '%s' (torch Tensor or None required)"
                            % (typename(tensor), name))
        self._buffers[name] = _run_registration_hooks(_global_buffer_registration_hooks, self, name, tensor)
        (self._non_persistent_buffers_set.discard if persistent else self._non_persistent_buffers_set.add)(name)

    def register_parameter(self, name, param):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError("cannot assign '%s' object to parameter '%s' (torch.nn.Parameter or None "
                                "required)" % (typename(param), name))
            if param.grad_fn:
                raise ValueError("Cannot assign non-leaf Tensor to parameter '%s'. Model parameters must be "
                                 "created explicitly. To express '%s' as a function of another Tensor, "
                                 "compute the value in the forward() method." % (name, name))
            param = _run_registration_hooks(_global_parameter_registration_hooks, self, name, param)
        self._parameters[name] = param

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError("%s is not a Module subclass" % typename(module))
        if not isinstance(name, str):
            raise TypeError("module name should be a string. Got %s" % typename(name))
        if name not in self._modules and hasattr(self, name):
            raise KeyError("attribute '%s' already exists" % name)
        if "." in name:
            raise KeyError('module name can\'t contain ".", got: %s' % name)
        if not name:
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = _run_registration_hooks(_global_module_registration_hooks, self, name, module)

    def register_module(self, name, module):
        self.add_module(name, module)

    def get_submodule(self, target):
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target, module, strict=False):
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        owner_path, _, leaf = target.rpartition(".")
        if not isinstance(module, Module):
            raise ValueError("`module` is not an nn.Module, found %s" % type(module))
        owner = self.get_submodule(owner_path)
        present = hasattr(owner, leaf)
        if not present and strict:
            raise AttributeError(owner._get_name() + " has no attribute `" + leaf + "`")
        if present and not isinstance(getattr(owner, leaf), Module):
            raise AttributeError("`" + leaf + "` is not an nn.Module")
        setattr(owner, leaf, module)

    def _get_leaf(self, target):
        """(owning module, attribute name, value) for a dotted target; AttributeError if absent."""
        owner_path, _, leaf = target.rpartition(".")
        owner = self.get_submodule(owner_path)
        if not hasattr(owner, leaf):
            raise AttributeError(owner._get_name() + " has no attribute `" + leaf + "`")
        return owner, leaf, getattr(owner, leaf)

    def get_parameter(self, target):
        _, leaf, value = self._get_leaf(target)
        if not isinstance(value, Parameter):
            raise AttributeError("`" + leaf + "` is not an nn.Parameter")
        return value

    def get_buffer(self, target):
        owner, leaf, value = self._get_leaf(target)
        if leaf not in owner._buffers:
            raise AttributeError("`" + leaf + "` is not a buffer")
        return value

    def get_extra_state(self):
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called.")

    # -- attribute routing ----------------------------------------------------------------------

    def __getattr__(self, name):
        # only reached when normal lookup fails: look in the three member stores, in torch's order
        state = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            members = state.get(store)
            if members is not None and name in members:
                return members[name]
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    def _unregister_elsewhere(self, name, keep):
        """Drop `name` from the instance dict and from every member store except `keep`."""
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                getattr(self, store).pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def _assign_buffer(self, name, value):
        if not (value is None or isinstance(value, Tensor)):
            raise TypeError("cannot assign '%s' as buffer '%s' (torch.nn.Buffer, torch.Tensor or None "
                            "expected)" % (typename(value), name))
        if _is_buffer(value):
            persistent = value.__dict__.get("persistent", True)
        else:
            persistent = name not in self._non_persistent_buffers_set
        if "persistent" in inspect.signature(self.register_buffer).parameters:
            self.register_buffer(name, value, persistent)
            return
        if not persistent:
            raise RuntimeError("Registering a non-persistent buffer on a Module subclass that implements "
                               "register_buffer() without the persistent argument is not allowed.")
        self.register_buffer(name, value)

    def __setattr__(self, name, value):
        state = self.__dict__
        params, modules, buffers = state.get("_parameters"), state.get("_modules"), state.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._unregister_elsewhere(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError("cannot assign '%s' as parameter '%s' (torch.nn.Parameter or None expected)"
                                % (typename(value), name))
            self.register_parameter(name, None)
        elif isinstance(value, Module) or (modules is not None and name in modules):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if value is not None and not isinstance(value, Module):
                raise TypeError("cannot assign '%s' as child module '%s' (torch.nn.Module or None "
                                "expected)" % (typename(value), name))
            if value is not None:
                self._unregister_elsewhere(name, keep="_modules")
            modules[name] = _run_registration_hooks(_global_module_registration_hooks, self, name, value)
        elif _is_buffer(value) or (buffers is not None and name in buffers):
            self._assign_buffer(name, value)
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            members = getattr(self, store)
            if name in members:
                del members[name]
                if store == "_buffers":
                    self._non_persistent_buffers_set.discard(name)
                return
        super().__delattr__(name)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled_call_impl", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs",
                     "_forward_hooks_always_called", "_state_dict_hooks", "_state_dict_pre_hooks",
                     "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_backward_pre_hooks"):
            if name not in self.__dict__:
                self.__dict__[name] = OrderedDict()
        self.__dict__.setdefault("_non_persistent_buffers_set", set())
        self.__dict__.setdefault("_is_full_backward_hook", None)

    def __dir__(self):
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters) + list(self._modules)
                + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    # -- conversion -----------------------------------------------------------------------------

    def _apply(self, fn, recurse=True):
        """Apply fn to every parameter, gradient and buffer. Parameters keep their identity (their
        data is replaced, as torch does by default), so optimizers made before .to() still work."""
        if recurse:
            for child in self.children():
                child._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            grad = p.grad
            with no_grad():
                p.data = fn(p)
                if grad is not None:
                    grad.data = fn(grad)
        for name in list(self._buffers):
            if self._buffers[name] is not None:
                self._buffers[name] = fn(self._buffers[name])
        return self

    def apply(self, fn):
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _cast_floating(self, method):
        """Call Tensor.<method>() on every floating-point parameter and buffer; others stay."""
        return self._apply(lambda t: getattr(t, method)() if t.is_floating_point() else t)

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        return self._cast_floating("float")

    def double(self):
        return self._cast_floating("double")

    def half(self):
        return self._cast_floating("half")

    def bfloat16(self):
        return self._cast_floating("bfloat16")

    def to_empty(self, *, device, recurse=True):
        from ... import ops
        return self._apply(lambda t: ops.creation.empty_like(t, device=device), recurse=recurse)

    def to(self, *args, **kwargs):
        from ...ops.conversion import _parse_to
        kwargs = dict(kwargs)
        device, dtype, _ = _parse_to(args, kwargs)
        if dtype is not None:
            if not dtype.is_floating_point and not dtype.is_complex:
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                                "desired dtype=%s" % dtype)
            if dtype.is_complex:
                warnings.warn("Complex modules are a new feature under active development whose design may "
                              "change, and some modules might not work as expected when using complex "
                              "tensors as parameters or buffers.", stacklevel=2)

        def convert(t):
            target = dtype if (t.is_floating_point() or t.is_complex()) else None
            out = t
            if target is not None:
                out = out.to(target)
            if device is not None:
                out = out.to(device)
            return out
        return self._apply(convert)

    def share_memory(self):
        return self

    # -- hooks ----------------------------------------------------------------------------------

    def register_full_backward_pre_hook(self, hook, prepend=False):
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def _claim_backward_kind(self, full):
        """Regular and full backward hooks cannot be mixed on one module."""
        if self._is_full_backward_hook is (not full):
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them.")
        self._is_full_backward_hook = full

    def register_backward_hook(self, hook):
        """The deprecated non-full hook. Differs from torch: it runs as a full backward hook."""
        self._claim_backward_kind(False)
        return _add_hook(self._backward_hooks, hook)

    def register_full_backward_hook(self, hook, prepend=False):
        self._claim_backward_kind(True)
        return _add_hook(self._backward_hooks, hook, prepend)

    def _get_backward_hooks(self):
        found = list(_global_backward_hooks.values()) if _global_is_full_backward_hook is not None else []
        if self._is_full_backward_hook is not None:
            found.extend(self._backward_hooks.values())
        return found

    def _get_backward_pre_hooks(self):
        return [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                         flags=[(self._forward_pre_hooks_with_kwargs, with_kwargs)])

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        return _add_hook(self._forward_hooks, hook, prepend,
                         flags=[(self._forward_hooks_with_kwargs, with_kwargs),
                                (self._forward_hooks_always_called, always_call)])

    # -- calling --------------------------------------------------------------------------------

    def _wrapped_call_impl(self, *args, **kwargs):
        impl = self._compiled_call_impl or self._call_impl
        return impl(*args, **kwargs)

    def _has_call_hooks(self):
        return any((self._backward_hooks, self._backward_pre_hooks, self._forward_hooks,
                    self._forward_pre_hooks, _global_backward_pre_hooks, _global_backward_hooks,
                    _global_forward_hooks, _global_forward_pre_hooks))

    def _run_forward_pre_hooks(self, args, kwargs):
        for hook_id, hook in itertools.chain(_global_forward_pre_hooks.items(), self._forward_pre_hooks.items()):
            if hook_id not in self._forward_pre_hooks_with_kwargs:
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
                continue
            replaced = hook(self, args, kwargs)
            if replaced is None:
                continue
            if not (isinstance(replaced, tuple) and len(replaced) == 2):
                raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                   "but got %s." % (replaced,))
            args, kwargs = replaced
        return args, kwargs

    def _call_impl(self, *args, **kwargs):
        if not self._has_call_hooks():
            return self.forward(*args, **kwargs)
        output = None
        ran_always = set()   # ids of always_call forward hooks that already ran

        def post_hook(hook_id, hook, kwarg_tables):
            wants_kwargs = any(hook_id in t for t in kwarg_tables)
            return hook(self, args, kwargs, output) if wants_kwargs else hook(self, args, output)

        post_hooks = lambda: itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items())
        is_always = lambda hook_id: (hook_id in self._forward_hooks_always_called
                                     or hook_id in _global_forward_hooks_always_called)
        try:
            bw_hooks = self._get_backward_hooks() if (self._backward_hooks or _global_backward_hooks) else []
            bw_pre_hooks = (self._get_backward_pre_hooks()
                            if (self._backward_pre_hooks or _global_backward_pre_hooks) else [])
            args, kwargs = self._run_forward_pre_hooks(args, kwargs)
            tracker = BackwardHook(self, bw_hooks, bw_pre_hooks) if (bw_hooks or bw_pre_hooks) else None
            if tracker is not None:
                args = tracker.setup_input_hook(args)
            output = self.forward(*args, **kwargs)
            for hook_id, hook in post_hooks():
                if is_always(hook_id):
                    ran_always.add(hook_id)
                replaced = post_hook(hook_id, hook, (self._forward_hooks_with_kwargs,
                                                     _global_forward_hooks_with_kwargs))
                if replaced is not None:
                    output = replaced
            if tracker is not None:
                if not isinstance(output, (Tensor, tuple)):
                    warnings.warn("For backward hooks to be called, module output should be a Tensor or a "
                                  "tuple of Tensors but received %s" % type(output), stacklevel=2)
                output = tracker.setup_output_hook(output)
            return output
        except Exception:
            # forward (or a hook) failed: still give every always_call hook that has not run its turn.
            # Here only the module's own with_kwargs flags are consulted, as torch does.
            for hook_id, hook in list(post_hooks()):
                if not is_always(hook_id) or hook_id in ran_always:
                    continue
                try:
                    replaced = post_hook(hook_id, hook, (self._forward_hooks_with_kwargs,))
                except Exception as e:
                    warnings.warn("module forward hook with ``always_call=True`` raised an exception that was "
                                  "silenced as another error was raised in forward: %s" % e, stacklevel=2)
                    continue
                if replaced is not None:
                    output = replaced
            raise

    __call__ = _wrapped_call_impl

    def compile(self, *args, **kwargs):
        import jtorch
        self._compiled_call_impl = jtorch.compile(self._call_impl, *args, **kwargs)

    # -- state dict -----------------------------------------------------------------------------

    def _register_state_dict_hook(self, hook):
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook that was "
                               "previously registered via register_state_dict_post_hook")
        return _add_hook(self._state_dict_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        # marked so that state_dict() insists it returns None (the private form may return a new dict)
        hook._from_public_api = True
        return _add_hook(self._state_dict_hooks, hook)

    def register_state_dict_pre_hook(self, hook):
        return _add_hook(self._state_dict_pre_hooks, hook)

    def _persistent_state(self):
        """(name, tensor) for this module's own non-None parameters, then persistent buffers."""
        for name, p in self._parameters.items():
            if p is not None:
                yield name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield name, b

    def _has_extra_state(self, method):
        return getattr(type(self), method, None) is not getattr(Module, method)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, value in self._persistent_state():
            destination[prefix + name] = value if keep_vars else value.detach()
        if self._has_extra_state("get_extra_state"):
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if args:
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module."
                          "state_dict for details.", FutureWarning, stacklevel=2)
            # the legacy positional order is (destination, prefix, keep_vars); keywords win
            legacy = dict(zip(("destination", "prefix", "keep_vars"), args))
            if destination is None:
                destination = legacy.get("destination")
            if prefix == "":
                prefix = legacy.get("prefix", prefix)
            if keep_vars is False:
                keep_vars = legacy.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        version_info = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = version_info
        for pre_hook in self._state_dict_pre_hooks.values():
            pre_hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for child_name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix="%s%s." % (prefix, child_name),
                                 keep_vars=keep_vars)
        for post_hook in self._state_dict_hooks.values():
            returned = post_hook(self, destination, prefix, version_info)
            if returned is None:
                continue
            if getattr(post_hook, "_from_public_api", False):
                raise RuntimeError("state_dict post-hook must return None")
            destination = returned
        return destination

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        return _add_hook(self._load_state_dict_pre_hooks, _WrappedHook(hook, self if with_module else None))

    def register_load_state_dict_pre_hook(self, hook):
        return self._register_load_state_dict_pre_hook(hook, True)

    def register_load_state_dict_post_hook(self, hook):
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def _load_one(self, key, name, current, incoming, assign, error_msgs):
        """Load checkpoint tensor `incoming` into member `name` (holding `current`); problems are
        appended to error_msgs in torch's words."""
        if not isinstance(incoming, Tensor):
            error_msgs.append('While copying the parameter named "%s", expected torch.Tensor or Tensor-like '
                              'object from checkpoint but received %s' % (key, type(incoming)))
            return
        if len(current.shape) == 0 and tuple(incoming.shape) == (1,):
            incoming = incoming[0]   # old checkpoints saved scalars as shape (1,)
        if incoming.shape != current.shape:
            error_msgs.append("size mismatch for %s: copying a param with shape %s from checkpoint, the shape "
                              "in current model is %s." % (key, incoming.shape, current.shape))
            return
        try:
            with no_grad():
                if not assign:
                    _copy_into(current, incoming)
                    return
                if isinstance(current, Parameter):
                    if isinstance(incoming, Parameter):
                        incoming.requires_grad_(current.requires_grad)
                    else:
                        incoming = Parameter(incoming, requires_grad=current.requires_grad)
                setattr(self, name, incoming)
        except Exception as ex:
            error_msgs.append('While copying the parameter named "%s", whose dimensions in the model are %s '
                              'and whose dimensions in the checkpoint are %s, an exception occurred : %s.'
                              % (key, current.size(), incoming.size(), ex.args))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        for pre_hook in self._load_state_dict_pre_hooks.values():
            pre_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        own = dict(self._persistent_state())
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, current in own.items():
            if prefix + name in state_dict:
                self._load_one(prefix + name, name, current, state_dict[prefix + name], assign, error_msgs)
            elif strict:
                missing_keys.append(prefix + name)
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        takes_extra = self._has_extra_state("set_extra_state")
        if takes_extra and extra_key in state_dict:
            self.set_extra_state(state_dict[extra_key])
        elif strict and (takes_extra or extra_key in state_dict):
            (missing_keys if takes_extra else unexpected_keys).append(extra_key)
        if not strict:
            return
        for key in state_dict:
            if key == extra_key or not key.startswith(prefix):
                continue
            head, dot, _ = key[len(prefix):].partition(".")
            if head not in (self._modules if dot else own):
                unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if not isinstance(state_dict, Mapping):
            raise TypeError("Expected state_dict to be dict-like, got %s." % type(state_dict))
        missing, unexpected, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def visit(module, entries, prefix):
            meta = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
            if assign:
                meta["assign_to_params_buffers"] = assign
            module._load_from_state_dict(entries, prefix, meta, True, missing, unexpected, error_msgs)
            for child_name, child in module._modules.items():
                if child is None:
                    continue
                child_prefix = prefix + child_name + "."
                visit(child, {k: v for k, v in entries.items() if k.startswith(child_prefix)}, child_prefix)
            report = _IncompatibleKeys(missing, unexpected)
            for post_hook in module._load_state_dict_post_hooks.values():
                if post_hook(module, report) is not None:
                    raise AssertionError("Hooks registered with ``register_load_state_dict_post_hook`` are not "
                                         "expected to return new values, if incompatible_keys need to be "
                                         "modified, it should be done inplace.")

        visit(self, state_dict, "")
        if strict:
            # missing keys are reported first, then unexpected ones, then the per-tensor errors
            if unexpected:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: %s. " % ", ".join(map('"{}"'.format,
                                                                                              unexpected)))
            if missing:
                error_msgs.insert(0, "Missing key(s) in state_dict: %s. " % ", ".join(map('"{}"'.format, missing)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for %s:\n\t%s"
                               % (type(self).__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing, unexpected)

    # -- enumeration ----------------------------------------------------------------------------

    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        """The one walker behind named_parameters/named_buffers: (qualified name, member) for each
        non-None member of each module (or of self only), each object once unless remove_duplicate
        is False."""
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, member in get_members_fn(owner):
                if member is None or member in seen:
                    continue
                if remove_duplicate:
                    seen.add(member)
                yield _join(owner_name, name), member

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self):
        return (m for _, m in self.named_children())

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is None or child in seen:
                continue
            seen.add(child)
            yield name, child

    def modules(self, remove_duplicate=True):
        return (m for _, m in self.named_modules(remove_duplicate=remove_duplicate))

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Pre-order walk over self and its descendants; `memo` holds the modules already yielded."""
        seen = set() if memo is None else memo
        if self in seen:
            return
        if remove_duplicate:
            seen.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(seen, _join(prefix, name), remove_duplicate)

    # -- modes and gradients --------------------------------------------------------------------

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        if getattr(self, "_is_replica", False):
            warnings.warn("Calling .zero_grad() from a module created with nn.DataParallel() has no effect. "
                          "The parameters are copied (in a differentiable manner) from the original module. "
                          "This means they are not leaf nodes in autograd and so don't accumulate gradients. "
                          "If you need gradients in your forward method, consider using autograd.grad "
                          "instead.", stacklevel=2)
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    _zero_(p.grad)

    # -- printing -------------------------------------------------------------------------------

    def _get_name(self):
        return self.__class__.__name__

    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        own = extra.split("\n") if extra else []
        kids = ["(%s): %s" % (name, _addindent(repr(child), 2)) for name, child in self._modules.items()]
        if not own and not kids:
            body = ""
        elif len(own) == 1 and not kids:
            body = own[0]   # a lone one-line extra_repr stays on the header line
        else:
            body = "".join("\n  " + line for line in own + kids) + "\n"
        return "%s(%s)" % (self._get_name(), body)

    def _replicate_for_data_parallel(self):
        clone = type(self).__new__(type(self))
        clone.__dict__ = dict(self.__dict__, _parameters={}, _buffers=dict(self._buffers),
                              _modules=dict(self._modules), _is_replica=True)
        return clone


def _join(prefix, name):
    return prefix + "." + name if prefix else name


def _copy_into(dst, src):
    """dst.copy_(src) for load_state_dict: same shape (checked before), dtype cast, no history."""
    method = getattr(dst, "copy_", None)
    if method is not None:
        method(src)
        return
    value = src._value()
    if src._device != dst._device:
        import jax
        from ... import _device as dev
        value = jax.device_put(value, dev.jax_device(dst._device))
    dst._write(value.astype(dst.dtype.np))


def _zero_(t):
    method = getattr(t, "zero_", None)
    if method is not None:
        method()
        return
    import jax.numpy as jnp
    t._write(jnp.zeros(t._shape, t.dtype.np))
