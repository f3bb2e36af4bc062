"""torch.device over JAX devices (DESIGN 9).

"cpu" is JAX's CPU (the first local CPU device); "cuda[:N]" are JAX's local accelerators (GPU or
TPU), so scripts written for CUDA run on any accelerator. A tensor's `_device` is always a
*canonical* device, one interned object per place ("cuda" becomes "cuda:<current>", "cpu:0"
becomes "cpu"), so the dispatch path compares devices with `is`.

Nothing here touches a JAX backend at import: `jax.distributed.initialize` (torch.distributed's
init_process_group) must run before any backend starts.
"""
import functools
import re

import jax

# torch's list of device types, in its error message's order
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
          "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?\Z")


class device:
    """torch.device: a (type, index) pair. Equal only to devices (torch: `device("cpu") == "cpu"`
    is False); hashable; pickles as its string; a context manager that sets the default device of
    factory functions."""
    __slots__ = ("type", "index", "_prev")

    def __init__(self, type=None, index=None, *, device=None):  # noqa: A002 - torch's argument names
        if device is not None and type is None:
            type = device
        if isinstance(type, globals()["device"]):
            if index is not None:
                raise TypeError("device() received an invalid combination of arguments - got (torch.device, int)")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            if not accelerators():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError("device() received an invalid combination of arguments - got (%s), but expected "
                            "one of:\n * (torch.device device)\n * (str type, int index = -1)"
                            % type.__class__.__name__)
        m = _DEVICE_STRING.match(type)
        if m is None:
            raise RuntimeError("Invalid device string: '%s'" % type)
        name = m.group(1)
        if name not in _TYPES:
            raise RuntimeError("Expected one of %s device type at start of device string: %s"
                               % (", ".join(_TYPES), name))
        if m.group(2) is not None:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was passed "
                                   "explicitly: " + type)
            index = int(m.group(2))
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError("device(): argument 'index' must be int, not %s" % index.__class__.__name__)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index

    def __repr__(self):
        if self.index is None:
            return "device(type='%s')" % self.type
        return "device(type='%s', index=%d)" % (self.type, self.index)

    def __str__(self):
        return self.type if self.index is None else "%s:%d" % (self.type, self.index)

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __ne__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return not (self.type == other.type and self.index == other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return device, (self.type, self.index)

    # `with torch.device("cuda"):` makes factory functions create tensors there
    def __enter__(self):
        global _default
        self._prev, _default = _default, self
        return self

    def __exit__(self, *exc):
        global _default
        _default = self._prev
        return False


# -- the devices JAX has --------------------------------------------------------------------------

@functools.lru_cache(None)
def _accelerators():
    return tuple(d for d in jax.local_devices() if d.platform != "cpu")


def accelerators():
    """JAX's local non-CPU devices, which jtorch calls "cuda"."""
    return _accelerators()


@functools.lru_cache(None)
def host_devices():
    """JAX's local CPU devices: one, or several with XLA_FLAGS=--xla_force_host_platform_device_count=N.
    The first is "cpu"; the others are not torch devices, only DataParallel's replicas use them."""
    return tuple(jax.local_devices(backend="cpu"))


def _cpu():
    return host_devices()[0]


CPU = device("cpu")
_CUDA = {}                  # index -> the interned device("cuda", index)
_default = None             # torch.set_default_device / `with torch.device(...)`
# Set once any tensor is placed on an accelerator: until then every tensor is on the CPU and op
# dispatch skips the same-device check altogether.
accelerator_used = False
# Under init_process_group(backend="nccl") each process sees one accelerator, which torch code
# names cuda:LOCAL_RANK: _index_base maps that index onto it (see distributed/_runtime.py).
_index_base = 0


def current_index():
    from . import cuda
    return cuda.current_device()


def canonical(dev):
    """The interned torch.device a tensor carries: cpu without an index, accelerators with one."""
    global accelerator_used
    if dev is None:
        if _default is None:
            return CPU
        dev = _default
    elif dev.__class__ is not device:
        dev = device(dev) if not isinstance(dev, int) else _cuda_from_int(dev)
    if dev.type == "cpu":
        return CPU
    if dev.type in ("cuda", "xla"):
        acc = accelerators()
        if not acc:
            raise AssertionError("Torch not compiled with CUDA enabled")
        index = current_index() if dev.index is None else dev.index
        if not 0 <= index - _index_base < len(acc):
            raise RuntimeError("CUDA error: invalid device ordinal (asked for cuda:%d; this process has "
                               "%s)" % (index, _visible()))
        out = _CUDA.get(index)
        if out is None:
            out = _CUDA[index] = device("cuda", index)
        accelerator_used = True
        return out
    if dev.type == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    raise RuntimeError("jtorch has no '%s' device: tensors live on 'cpu' or 'cuda' (JAX's accelerators)"
                       % dev.type)


def _cuda_from_int(index):
    if not accelerators():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return device("cuda", index)


def _visible():
    n = len(accelerators())
    return ", ".join("cuda:%d" % (i + _index_base) for i in range(n))


def jax_device(dev):
    """The jax.Device behind a canonical torch.device."""
    if dev.type == "cpu":
        return _cpu()
    return accelerators()[dev.index - _index_base]


def of_jax(jdev):
    """The torch.device of a jax.Device (host devices other than the first have none: "cpu")."""
    acc = accelerators()
    if jdev in acc:
        return canonical(device("cuda", acc.index(jdev) + _index_base))
    return CPU


def get_default_device():
    return _default if _default is not None else CPU


def set_default_device(dev):
    global _default
    _default = None if dev is None else device(dev) if not isinstance(dev, device) else dev
