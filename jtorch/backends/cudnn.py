"""torch.backends.cudnn: flags remembered for scripts that set them; XLA chooses its own GPU kernels
(benchmark, deterministic and enabled have no effect; XLA's GPU kernels are deterministic unless
XLA_FLAGS says otherwise). is_available() is True where JAX has a GPU."""
import contextlib

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    from .. import _device
    return any(d.platform == "gpu" or d.platform == "cuda" for d in _device.accelerators())


def version():
    return None


def is_acceptable(tensor):
    return is_available() and tensor.is_cuda


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = tuple(g[n] for n in names)
    for n, v in zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)):
        g[n] = v
    try:
        yield
    finally:
        for n, v in zip(names, old):
            g[n] = v
