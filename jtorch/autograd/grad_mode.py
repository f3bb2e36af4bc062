"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers and decorators)."""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set_enabled(mode):
    _state.enabled = bool(mode)


class _Mode:
    """Base for the grad-mode context managers; each one is also a decorator, as in torch."""

    _target = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self._target)

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapped

    def _args(self):
        return ()

    def clone(self):
        return self.__class__(*self._args())


class no_grad(_Mode):
    _target = False

    def __new__(cls, orig_func=None):
        # `@torch.no_grad` without parentheses works in torch too
        self = super().__new__(cls)
        if callable(orig_func):
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        pass


class enable_grad(no_grad):
    _target = True


class set_grad_enabled(_Mode):
    def __init__(self, mode):
        self._target = bool(mode)
        self._prev = is_grad_enabled()
        _set_enabled(mode)  # torch.set_grad_enabled(False) as a plain call takes effect at once

    def __enter__(self):
        pass

    def _args(self):
        return (self._target,)


class inference_mode(_Mode):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode=True):
        self._target = not mode

    def _args(self):
        return (not self._target,)


def is_inference_mode_enabled():
    return False
