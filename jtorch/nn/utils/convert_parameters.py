"""parameters_to_vector / vector_to_parameters (torch.nn.utils)."""
from ..._tensor import Tensor
from ...optim.optimizer import _typename

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_param_device):
    if old_param_device is None:
        return param._device.index if param._device.type == "cuda" else -1
    if param._device.type == "cuda":
        warn = param._device.index != old_param_device
    else:
        warn = old_param_device != -1
    if warn:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_param_device


def parameters_to_vector(parameters):
    """Flatten an iterable of parameters into one vector (differentiable, as in torch)."""
    from ... import cat
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Copy slices of `vec` into the parameters' data.

    Differs from torch: torch makes each parameter's .data a view into `vec`'s storage, so later
    in-place writes to `vec` show in the parameters; here the parameters get the values (JAX
    arrays are immutable and `.data =` re-roots the tensor).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view(param.shape).data
        pointer += num_param
