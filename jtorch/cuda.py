"""torch.cuda, answering for JAX's local accelerators (GPU or TPU): DESIGN 9.

Without an accelerator it behaves as a CPU-only PyTorch build: is_available() is False,
device_count() is 0, and what needs a device raises `AssertionError: Torch not compiled with CUDA
enabled`. Differences from torch: there is no separate CUDA random generator (tensors made on an
accelerator draw from the CPU generator and are then moved), so manual_seed(_all) seeds that
generator when an accelerator exists and does nothing otherwise; streams and events are not
modelled (JAX orders work itself): synchronize() waits for all dispatched work.
"""
import contextlib

from . import _device

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "get_device_name", "get_device_capability",
           "get_device_properties", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "empty_cache", "device", "device_of",
           "is_initialized", "init", "is_bf16_supported", "get_arch_list", "mem_get_info"]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available():
    return bool(_device.accelerators())


def device_count():
    return len(_device.accelerators())


def is_initialized():
    return is_available()


def _lazy_init():
    if not is_available():
        raise AssertionError(_NOT_COMPILED)


init = _lazy_init
_current = None


def current_device():
    _lazy_init()
    return _device._index_base if _current is None else _current


def _index(dev, optional=True):
    """torch.cuda._utils._get_device_index: an int, "cuda:N", torch.device or None (current)."""
    if isinstance(dev, str):
        dev = _device.device(dev)
    if isinstance(dev, _device.device):
        if dev.type != "cuda":
            raise ValueError("Expected a cuda device, but got: %s" % dev)
        return current_device() if dev.index is None else dev.index
    if dev is None:
        if not optional:
            raise ValueError("Expected a torch.device with a specified index or an integer, but got:None")
        return current_device()
    return int(dev)


def set_device(device):
    global _current
    index = _index(device)
    if index < 0:
        return
    _current = _device.canonical(_device.device("cuda", index)).index


def _jax_device(dev):
    _lazy_init()
    return _device.jax_device(_device.canonical(_device.device("cuda", _index(dev))))


def synchronize(device=None):
    """Waits until all work dispatched so far has finished (JAX has no per-device streams to pick)."""
    _lazy_init()
    import jax
    jax.effects_barrier()
    for a in _live_arrays(device):
        a.block_until_ready()


def _live_arrays(device):
    import jax
    target = _jax_device(device)
    return [a for a in jax.live_arrays() if target in a.devices()]


def get_device_name(device=None):
    return _jax_device(device).device_kind


def get_device_capability(device=None):
    cap = getattr(_jax_device(device), "compute_capability", None)
    if cap is None:
        return (0, 0)
    major, _, minor = str(cap).partition(".")
    return int(major), int(minor or 0)


class _DeviceProperties:
    def __init__(self, jdev):
        self.name = jdev.device_kind
        stats = _stats(jdev)
        self.total_memory = stats.get("bytes_limit", 0)
        self.major, self.minor = get_device_capability(_device.of_jax(jdev))
        self.multi_processor_count = getattr(jdev, "core_count", 0)

    def __repr__(self):
        return "_CudaDeviceProperties(name='%s', major=%d, minor=%d, total_memory=%dMB, multi_processor_count=%d)" % (
            self.name, self.major, self.minor, self.total_memory // (1 << 20), self.multi_processor_count)


def get_device_properties(device=None):
    return _DeviceProperties(_jax_device(device))


def get_arch_list():
    return []


def is_bf16_supported(including_emulation=True):
    return is_available()


# -- random numbers -------------------------------------------------------------------------------

def manual_seed(seed):
    if is_available():
        from .ops.random import manual_seed as seed_cpu
        seed_cpu(seed)


manual_seed_all = manual_seed


def seed():
    if is_available():
        from .ops.random import seed as seed_cpu
        seed_cpu()


seed_all = seed


# -- memory ----------------------------------------------------------------------------------------

def _stats(jdev):
    try:
        return jdev.memory_stats() or {}
    except Exception:   # backends without allocator statistics
        return {}


def _memory(key, device):
    if not is_available():
        return 0
    return _stats(_jax_device(device)).get(key, 0)


def memory_allocated(device=None):
    return _memory("bytes_in_use", device)


def max_memory_allocated(device=None):
    return _memory("peak_bytes_in_use", device)


def memory_reserved(device=None):
    return _memory("bytes_reserved", device) or _memory("bytes_in_use", device)


def max_memory_reserved(device=None):
    return _memory("peak_bytes_reserved", device) or _memory("peak_bytes_in_use", device)


memory_cached = memory_reserved


def reset_peak_memory_stats(device=None):
    """JAX keeps no resettable peak counter: a no-op."""


def mem_get_info(device=None):
    stats = _stats(_jax_device(device))
    total = stats.get("bytes_limit", 0)
    return total - stats.get("bytes_in_use", 0), total


def empty_cache():
    """JAX's allocator returns memory itself; nothing to do (as torch without CUDA)."""


# -- device context managers ----------------------------------------------------------------------

class device:
    """`with torch.cuda.device(i):` makes cuda:i the current device inside the block."""

    def __init__(self, device):
        self.idx = _index(device, optional=False) if device is not None else None
        self.prev_idx = -1

    def __enter__(self):
        global _current
        if self.idx is None:
            raise TypeError("'<' not supported between instances of 'NoneType' and 'int'")
        if self.idx < 0:
            return self
        if not is_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = current_device()
        set_device(self.idx)
        return self

    def __exit__(self, *exc):
        global _current
        if self.prev_idx >= 0:
            _current = self.prev_idx
        return False


class device_of(device):
    """The current device is the tensor's inside the block (nothing for CPU tensors)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


@contextlib.contextmanager
def stream(stream=None):
    yield


def current_stream(device=None):
    _lazy_init()
    return None
