"""Hook handles and the machinery behind Module.register_full_backward_hook.

RemovableHandle is torch.utils.hooks.RemovableHandle. BackwardHook routes a module's tensor
inputs and outputs through identity nodes named BackwardHookFunctionBackward, as torch does;
the nodes' backward calls the module's hooks with the gradients flowing through them.
"""
import weakref

from ..._tensor import Tensor
from ...autograd.graph import Node


class RemovableHandle:
    """A handle that removes a hook from the dicts it was registered in."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extra = extra_dict if isinstance(extra_dict, list) else ([extra_dict] if extra_dict is not None else [])
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class BackwardHookFunctionBackward(Node):
    """The identity node torch puts around a module with full backward hooks. Its backward is the
    identity followed by a Python callback kept in metadata (the jitted part stays jitted)."""
    __slots__ = ()

    def _apply(self, cts, create_graph):
        grads = Node._apply(self, cts, create_graph)
        return self.metadata["_callback"](list(grads), create_graph)


def _identity(tensors, callback):
    """Route tensors through one BackwardHookFunctionBackward node; returns the new tensors."""
    from ...ops._registry import apply_function
    n = len(tensors)
    outs = apply_function(lambda *xs: tuple(xs), tensors, node="BackwardHookFunctionBackward",
                          key=("backward_hook_identity", n))
    node = outs[0]._grad_fn if outs else None
    if node is not None:
        node.__class__ = BackwardHookFunctionBackward
        node.metadata["_callback"] = callback
    return outs


def _as_tensor_grad(g, create_graph):
    if g is None or create_graph:
        return g
    return Tensor._from_value(g)


def _as_value(g, create_graph):
    if g is None or create_graph or not isinstance(g, Tensor):
        return g
    return g._value()


class BackwardHook:
    """Runs a module's full backward pre-hooks and hooks (torch.utils.hooks.BackwardHook)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.n_inputs = -1
        self.input_positions = ()

    def _wrap(self, args, callback):
        """Pass the tensors among args that require grad through the identity node."""
        is_tuple = isinstance(args, tuple)
        items = list(args) if is_tuple else [args]
        positions = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
        if not positions:
            return args, positions
        from ...autograd.grad_mode import is_grad_enabled
        if not is_grad_enabled():
            return args, []
        outs = _identity([items[i] for i in positions], callback)
        for i, o in zip(positions, outs):
            items[i] = o
        return (tuple(items) if is_tuple else items[0]), positions

    def setup_input_hook(self, args):
        self.n_inputs = len(args)

        def on_input_grads(grads, create_graph):
            if not self.user_hooks:
                return grads
            full = [None] * self.n_inputs
            for i, g in zip(self.input_positions, grads):
                full[i] = _as_tensor_grad(g, create_graph)
            full = tuple(full)
            for hook in self.user_hooks:
                res = hook(self.module, full, self.grad_outputs)
                if res is None:
                    continue
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(full):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, got %d, "
                                       "but expected %d" % (len(res), len(full)))
                full = res
            self.grad_outputs = None
            return [_as_value(full[i], create_graph) for i in self.input_positions]

        new_args, self.input_positions = self._wrap(tuple(args), on_input_grads)
        return new_args

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        self.n_outputs = len(result) if is_tuple else 1
        positions_box = []

        def on_output_grads(grads, create_graph):
            full = [None] * self.n_outputs
            for i, g in zip(positions_box[0], grads):
                full[i] = _as_tensor_grad(g, create_graph)
            full = tuple(full)
            for hook in self.user_pre_hooks:
                res = hook(self.module, full)
                if res is None:
                    continue
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(full):
                    raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                       "got %d, but expected %d" % (len(res), len(full)))
                full = res
            self.grad_outputs = full
            if not self.input_positions:
                # no input needs a gradient: torch calls the hooks now, with grad_input all None
                for hook in self.user_hooks:
                    res = hook(self.module, (None,) * max(self.n_inputs, 0), self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                           "should always return None or None for all gradients.")
                self.grad_outputs = None
            return [_as_value(full[i], create_graph) for i in positions_box[0]]

        new, positions = self._wrap(result, on_output_grads)
        positions_box.append(positions)
        return new


__all__ = ["RemovableHandle", "BackwardHook"]
