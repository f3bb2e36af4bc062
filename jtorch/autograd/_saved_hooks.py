"""torch.autograd.graph's helpers for saved tensors and multi-tensor gradient hooks
(re-exported by graph.py, which is torch.autograd.graph)."""
import threading
import weakref

from . import graph as G

class _HookState(threading.local):
    depth = 0           # how many saved_tensors_hooks are active in this thread
    stack = ()
    disabled = None     # the message of an active disable_saved_tensors_hooks


_hook_state = _HookState()


class saved_tensors_hooks:
    """Context manager: pack_hook(tensor) is called for every tensor a node saves for backward
    and unpack_hook(packed) when the backward uses it. Differs from torch: jtorch's backward
    recomputes from a node's inputs, so the unpacked value of a saved *input* is what the backward
    uses, while an unpacked saved *result* (exp, tanh, sigmoid ...) is unpacked but not used; and
    a node packs its inputs in argument order (torch's order follows the derivative formula)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hook_state.disabled is not None:
            raise RuntimeError(_hook_state.disabled)
        _hook_state.stack = _hook_state.stack + ((self.pack_hook, self.unpack_hook),)
        _hook_state.depth += 1
        return self

    def __exit__(self, *exc):
        _hook_state.stack = _hook_state.stack[:-1]
        _hook_state.depth -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device for backward."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return (t.device, t.detach().cpu() if t.device.type != "cpu" else t)

        def unpack(packed):
            device, t = packed
            return t.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside, registering saved_tensors_hooks raises RuntimeError(error_message)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self.prev = _hook_state.disabled
        _hook_state.disabled = self.error_message

    def __exit__(self, *exc):
        _hook_state.disabled = self.prev


_PACKED_MARK = (("packed", None), [0], 0, None, True)   # frees the node after a backward


def _pack_saved(node, outputs):
    """Call the active pack hook on what the node saves; the packed objects replace the saved
    tensors (and their version checks, as in torch)."""
    pack, unpack = _hook_state.stack[-1]
    saved = node._saved
    needs = None
    packed, keep = [], []
    for item in saved:
        key, ref = item[0], item[3]
        if ref is None:
            keep.append(item)
            continue
        if not item[4]:
            if needs is None:
                needs = node._needs()
            if needs is not G._ALL and key not in needs:
                keep.append(item)
                continue
        t = ref() if isinstance(ref, weakref.ref) else ref
        if t is not None:
            packed.append((key, pack(t)))
    if not packed:
        return
    node._extra().packed = (unpack, packed)
    keep.append(_PACKED_MARK)
    node._saved = tuple(keep)


def _unpacked_arrays(node, x):
    from .._tensor import Tensor
    unpack, packed = x.packed
    arrays = list(node._arrays)
    for key, obj in packed:
        t = unpack(obj)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result "
                            "of type %s" % type(t).__name__)
        if key[0] != "result":
            G._set_slot(arrays, key, t._value())
    return tuple(arrays)


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """mode="all": fn(grads) once per backward that reaches any of tensors, with None for those it
    did not reach (called when that backward finishes); mode="any": fn(grad) on the first."""
    from . import engine
    if mode not in ("all", "any"):
        raise ValueError("Expects mode to be one of ('all', 'any') but got %s" % mode)
    tensors = tuple(tensors)
    state = {}

    def make(i):
        def hook(g):
            run = engine.current_run()
            if state.get("run") is not run:
                state["run"], state["grads"], state["fired"] = run, [None] * len(tensors), False
                if mode == "all":
                    grads = state["grads"]
                    engine.queue_callback(lambda: fn(grads))
            if mode == "all":
                state["grads"][i] = g
            elif not state["fired"]:
                state["fired"] = True
                fn(g)
            return None
        return hook
    handles = [t.register_hook(make(i)) for i, t in enumerate(tensors) if t.requires_grad]
    return _MultiHandle(handles)


class _MultiHandle:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def increment_version(tensor):
    """Mark tensor as modified in place (its saved copies then fail torch's version check)."""
    for t in (tensor if isinstance(tensor, (list, tuple)) else (tensor,)):
        t._verbox[0] += 1
