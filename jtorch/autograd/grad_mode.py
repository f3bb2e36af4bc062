"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator (with or without parentheses where torch allows it),
works on generator functions, and is thread-local: a new thread starts with grad enabled, as in
torch.
"""
import functools
import inspect
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set_enabled(mode):
    _state.enabled = bool(mode)


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)


def _wrap_generator(ctx_factory, gen_fn):
    """Enter the mode around each step of the generator, leave it while the caller runs."""
    @functools.wraps(gen_fn)
    def generator_context(*args, **kwargs):
        gen = gen_fn(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:
                    with ctx_factory():
                        response = gen.throw(*__import__("sys").exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value
    return generator_context


class _DecoratorContextManager:
    """Allows a context manager to be used as a decorator."""

    def __call__(self, orig_func):
        if inspect.isclass(orig_func):
            raise RuntimeError("Decorating classes is not supported")
        if inspect.isgeneratorfunction(orig_func):
            return _wrap_generator(self.clone, orig_func)

        @functools.wraps(orig_func)
        def decorate_context(*args, **kwargs):
            with self.clone():
                return orig_func(*args, **kwargs)
        return decorate_context

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """`@torch.no_grad` (no parentheses) decorates directly."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):
    """Disables gradient recording: ops inside record no history."""

    def __init__(self):
        self.prev = False

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(False)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_enabled(self.prev)


class enable_grad(_NoParamDecoratorContextManager):
    """Enables gradient recording inside a no_grad region."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(True)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_enabled(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """Sets grad mode at once when called (torch.set_grad_enabled(False) as a statement), and
    restores the previous mode on leaving a `with` block."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(mode)

    def __call__(self, orig_func):
        _set_enabled(self.prev)   # used as a decorator: the call above must not stick
        return super().__call__(orig_func)

    def __enter__(self):
        _set_enabled(self.mode)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_enabled(self.prev)

    def clone(self):
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like no_grad (inference_mode(False) re-enables grad). Differs from torch: tensors made
    inside are ordinary tensors (Tensor.is_inference() is False), so using them later in
    autograd does not raise torch's 'Inference tensors cannot be saved for backward'."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self.prev = (is_grad_enabled(), is_inference_mode_enabled())
        _set_enabled(not self.mode)
        _state.inference = self.mode

    def __exit__(self, exc_type, exc_value, traceback):
        _set_enabled(self.prev[0])
        _state.inference = self.prev[1]

    def clone(self):
        return self.__class__(self.mode)
