"""torch.cuda, answering for JAX's local accelerators (GPU or TPU): DESIGN 9."""
from . import _device


def is_available():
    return bool(_device.accelerators())


def device_count():
    return len(_device.accelerators())


_current = 0


def current_device():
    return _current


def set_device(device):
    global _current
    _current = _device.canonical(device if not isinstance(device, int) else "cuda:%d" % device).index


def synchronize(device=None):
    import jax
    jax.effects_barrier()


def get_device_name(device=None):
    index = _current if device is None else _device.canonical(
        device if not isinstance(device, int) else "cuda:%d" % device).index
    return _device.accelerators()[index].device_kind


def manual_seed(seed):
    from .ops.random import manual_seed as seed_all
    seed_all(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None):
    if not is_available():
        return 0
    stats = _device.accelerators()[_current if device is None else _device.canonical(device).index].memory_stats()
    return (stats or {}).get("bytes_in_use", 0)


def empty_cache():
    pass
