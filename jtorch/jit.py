"""torch.jit as a thin layer over jtorch.compile: `trace` and `script` return compiled callables.

There is no TorchScript IR: `trace` and `script` both trace the Python code into one jax.jit
program (jtorch.compile), so data-dependent control flow is handled as compile handles it (an
eager fallback with a warning), not frozen as torch.jit.trace would freeze it.
"""
from ._compile import compile as _compile


def trace(func, example_inputs=None, *, check_trace=True, strict=True, **kwargs):
    compiled = _compile(func)
    if example_inputs is not None:
        args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        compiled(*args)
    return compiled


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return _compile(obj)


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False
