"""torch.device over JAX devices: "cpu" is JAX's CPU, "cuda[:N]" the local accelerators (GPU or TPU)."""
import functools

import jax


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - torch's argument name
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError("device() received an invalid combination of arguments - got (%s)"
                            % type.__class__.__name__)
        if ":" in type:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was "
                                   "passed explicitly: " + type)
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError("Invalid device string: '%s:%s'" % (type, idx))
            index = int(idx)
        if type not in ("cpu", "cuda", "mps", "meta", "xla", "tpu"):
            raise RuntimeError("Expected one of cpu, cuda, mps, meta, xla device type at start of "
                               "device string: " + type)
        self.type, self.index = type, index

    def __repr__(self):
        if self.index is None:
            return "device(type='%s')" % self.type
        return "device(type='%s', index=%d)" % (self.type, self.index)

    def __str__(self):
        return self.type if self.index is None else "%s:%d" % (self.type, self.index)

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (str(self),)


@functools.lru_cache(None)
def accelerators():
    """JAX's local non-CPU devices, which jtorch calls "cuda"."""
    return tuple(d for d in jax.local_devices() if d.platform != "cpu")


@functools.lru_cache(None)
def _cpu():
    return jax.local_devices(backend="cpu")[0]


CPU = device("cpu")


def canonical(dev):
    """A torch.device with an index for accelerators ("cuda" -> "cuda:0"), cpu without one."""
    if dev is None:
        return CPU
    dev = dev if isinstance(dev, device) else device(dev)
    if dev.type == "cpu":
        return CPU
    if dev.type in ("cuda", "tpu", "xla"):
        index = 0 if dev.index is None else dev.index
        if index >= len(accelerators()):
            if not accelerators():
                raise AssertionError("Torch not compiled with CUDA enabled")
            raise RuntimeError("CUDA error: invalid device ordinal (asked for %s, %d device(s) present)"
                               % (dev, len(accelerators())))
        return device("cuda", index)
    raise RuntimeError("jtorch has no %s device; use 'cpu' or 'cuda'" % dev.type)


def jax_device(dev):
    """The jax.Device behind a canonical torch.device."""
    if dev.type == "cpu":
        return _cpu()
    return accelerators()[dev.index]


def of_jax(jdev):
    if jdev.platform == "cpu":
        return CPU
    return device("cuda", accelerators().index(jdev))
