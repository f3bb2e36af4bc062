"""torch.backends.mkldnn: flags only (XLA picks its own CPU kernels)."""
import contextlib

enabled = True
deterministic = False


def is_available():
    return True


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    g = globals()
    old = g["enabled"], g["deterministic"]
    g["enabled"], g["deterministic"] = enabled, deterministic
    try:
        yield
    finally:
        g["enabled"], g["deterministic"] = old
