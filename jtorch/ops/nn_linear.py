"""Linear layers' kernels: F.linear and F.bilinear."""
import math

import jax.numpy as jnp

from ._registry import op


def _same_dtype_rule(dims, zero_dims, numbers):
    """linear does not promote: torch's addmm/mm raise on mixed dtypes (mat1 = input, mat2 = weight)."""
    ds = dims + zero_dims
    if len(ds) > 1 and any(d is not ds[0] for d in ds):
        other = next(d for d in ds if d is not ds[0])
        raise RuntimeError("mat1 and mat2 must have the same dtype, but got %s and %s"
                           % (ds[0]._legacy, other._legacy))
    return None


def _linear_node(arrays, inputs):
    # torch: addmm for 2-D input with bias, flatten + addmm + view for other ranks with bias,
    # matmul (mm / squeeze / unsafe view) without bias
    bias, x = arrays[0], arrays[1]
    if bias is not None:
        return "AddmmBackward0" if x.ndim == 2 else "ViewBackward0"
    return {1: "SqueezeBackward4", 2: "MmBackward0"}.get(x.ndim, "UnsafeViewBackward0")


def _linear_rule(dims, zero_dims, numbers):
    return _same_dtype_rule(dims, zero_dims, numbers)


# bias comes first among the tensor slots so that next_functions start with the bias, as
# AddmmBackward0's do in torch (the tutorial prints loss.grad_fn.next_functions[0][0]...)
@op(tensors="bias input weight", promote=_linear_rule, promote_args="input weight", node=_linear_node,
    namespace="nn.functional", method=False)
def linear(input, weight, bias=None):
    if weight.ndim != 2 and not (weight.ndim == 1 and input.ndim >= 1):
        raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is %dD" % weight.ndim)
    if input.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and %dD"
                           % weight.ndim)
    k = input.shape[-1]
    if weight.ndim == 2 and k != weight.shape[1]:
        rows = math.prod(input.shape[:-1]) if input.ndim > 1 else 1
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)"
                           % (rows, k, weight.shape[1], weight.shape[0]))
    out = jnp.matmul(input, weight.T)
    if bias is not None:
        if bias.dtype != out.dtype:
            raise RuntimeError("self and mat2 must have the same dtype, but got %s and %s"
                               % (bias.dtype, out.dtype))
        if bias.ndim > 1 or (bias.ndim == 1 and out.ndim >= 1 and bias.shape[0] not in (1, out.shape[-1])):
            raise RuntimeError("The expanded size of the tensor (%d) must match the existing size (%d) at "
                               "non-singleton dimension %d.  Target sizes: [%s].  Tensor sizes: [%s]"
                               % (out.shape[-1], bias.shape[-1], max(out.ndim - 1, 0),
                                  ", ".join(map(str, out.shape if out.ndim > 1 else (1,) + out.shape)),
                                  ", ".join(map(str, bias.shape))))
        out = out + bias
    return out


@op(tensors="input1 input2 weight bias", promote=_same_dtype_rule, node="AddBackward0",
    namespace="nn.functional", method=False)
def bilinear(input1, input2, weight, bias=None):
    if input1.ndim != input2.ndim:
        raise RuntimeError("bilinear(): input dimensions do not match: got %d and %d" % (input1.ndim, input2.ndim))
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError("bilinear(): input batch dimensions do not match: got %s and %s"
                           % (list(input1.shape), list(input2.shape)))
    if weight.ndim != 3:
        raise RuntimeError("bilinear(): weight must be three-dimensional, but got %dD" % weight.ndim)
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError("bilinear(): input1 size does not match weight size: got %d but expected %d"
                           % (input1.shape[-1], weight.shape[1]))
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError("bilinear(): input2 size does not match weight size: got %d but expected %d"
                           % (input2.shape[-1], weight.shape[2]))
    out = jnp.einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out
