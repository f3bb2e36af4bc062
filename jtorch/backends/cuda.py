"""torch.backends.cuda: matmul.allow_tf32 (real: it sets JAX's float32 matmul precision), the
scaled-dot-product-attention kernel switches (remembered only)."""
import contextlib


def is_built():
    from .. import _device
    return bool(_device.accelerators())


class cuBLASModule:
    def __getattr__(self, name):
        from . import get_float32_matmul_precision
        if name == "allow_tf32":
            return get_float32_matmul_precision() != "highest"
        if name == "allow_fp16_reduced_precision_reduction":
            return self.__dict__.get("_fp16", True)
        if name == "allow_bf16_reduced_precision_reduction":
            return self.__dict__.get("_bf16", True)
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        from . import set_float32_matmul_precision
        if name == "allow_tf32":
            set_float32_matmul_precision("high" if value else "highest")
        elif name == "allow_fp16_reduced_precision_reduction":
            self.__dict__["_fp16"] = value
        elif name == "allow_bf16_reduced_precision_reduction":
            self.__dict__["_bf16"] = value
        else:
            raise AttributeError("Unknown attribute " + name)


matmul = cuBLASModule()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    old = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield
    finally:
        _sdp.update(old)
