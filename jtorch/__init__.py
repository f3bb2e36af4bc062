"""jtorch: the PyTorch API on JAX. `import jtorch as torch`."""
import jax as _jax

# int64 and float64 must be real (DESIGN 5); tensors live on the CPU unless moved, as in torch
_jax.config.update("jax_enable_x64", True)
_jax.config.update("jax_default_device", "cpu")

from . import _dtype
from ._dtype import (dtype, float16, bfloat16, float32, float64, complex32, complex64, complex128, uint8, int8,
                     int16, int32, int64, bool, get_default_dtype, set_default_dtype, promote_types,
                     can_cast)
from ._dtype import (float16 as half, float32 as float, float64 as double, complex64 as cfloat,
                     complex128 as cdouble, complex32 as chalf, int16 as short, int32 as int, int64 as long)
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._size import Size
from ._tensor import Tensor
from .ops import _registry
from .ops import creation, pointwise, reduction, shape, indexing, conversion, linalg as _linalg_ops  # noqa: F401
from .ops import special as _special_ops, sorting as _sorting_ops  # noqa: F401
from .ops import random as _random_ops  # noqa: E402
from .ops.random import Generator, default_generator  # noqa: F401
from ._printing import set_printoptions, get_printoptions  # noqa: F401
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                                 is_grad_enabled, is_inference_mode_enabled)
from . import autograd  # noqa: F401
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled  # noqa: F401
from . import linalg, special, cuda, jit  # noqa: F401
from . import backends  # noqa: F401
from .backends import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: F401
from .serialization import save, load  # noqa: F401
from . import optim  # noqa: F401
from ._compile import compile  # noqa: F401
from . import func  # noqa: F401
from . import nn  # noqa: F401  (before _install: nn's ops add torch.conv2d, torch.max_pool2d...)


def _install():
    for name, fn in _registry.METHODS.items():
        if name in ("__getitem__", "__setitem__") or not hasattr(Tensor, name) or name.startswith("__"):
            setattr(Tensor, name, fn)
    shape._register_properties()
    globals().update(_registry.TORCH)


_install()


def result_type(tensor1, tensor2):
    def kinds(x):
        if isinstance(x, Tensor):
            return ([x.dtype], [], []) if x.dim() else ([], [x.dtype], [])
        return [], [], [x]
    a, b = kinds(tensor1), kinds(tensor2)
    return _dtype.result_type_of(a[0] + b[0], a[1] + b[1], a[2] + b[2])


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


from .ops.creation import (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,  # noqa: E402,F401
                           ShortTensor, CharTensor, ByteTensor, BoolTensor)

from . import utils  # noqa: E402,F401  (torch.utils.data is there after `import torch`, as in torch)
from . import distributed, multiprocessing  # noqa: E402,F401
from . import hub  # noqa: E402,F401  (torch.hub: the checkpoint cache and load_state_dict_from_url)
from ._import_hook import install_as_torch, module_getattr as _module_getattr  # noqa: E402,F401
__getattr__ = _module_getattr(__name__)  # torch.foo that jtorch lacks: NotImplementedByJtorch, naming it
