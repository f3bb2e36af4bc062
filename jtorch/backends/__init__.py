"""torch.backends: the flags tutorials set (cudnn.benchmark, cuda.matmul.allow_tf32, ...).

Most are accepted and remembered only: XLA chooses its own kernels, so cudnn.benchmark,
cudnn.deterministic and cudnn.enabled change nothing. Float32 matmul precision is real: torch's
default (allow_tf32 False, precision "highest") is JAX's "highest"; allow_tf32 = True or
set_float32_matmul_precision("high") lets XLA use TF32 on GPUs ("medium": bfloat16).
"""
import contextlib
import warnings

import jax

from . import cpu, cuda, cudnn, mkldnn, mps, openmp  # noqa: F401

_PRECISION = {"highest": "highest", "high": "tensorfloat32", "medium": "bfloat16"}
_precision = "highest"


def get_float32_matmul_precision():
    return _precision


def set_float32_matmul_precision(precision):
    global _precision
    if precision not in _PRECISION:
        warnings.warn("%s is not one of 'highest', 'high', or 'medium'; the current setFloat32MatmulPrecision "
                      "call has no effect." % precision)
        return
    _precision = precision
    jax.config.update("jax_default_matmul_precision", _PRECISION[precision])


set_float32_matmul_precision("highest")


@contextlib.contextmanager
def flags_frozen():
    yield


def disable_global_flags():
    pass
