"""nn.Parameter and nn.Buffer: tensors that a Module registers as its state."""
from collections import OrderedDict

from .. import _dtype as D
from .._tensor import Tensor, _concrete

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "is_lazy"]


def _adopt(t, data):
    """Make `t` a root holding `data`'s current value (torch shares the storage; jax values are
    immutable, so sharing the value is the same until one of them is written in place; a tensor
    whose memory is a numpy array keeps sharing it)."""
    root = data if data._base is None else None
    if root is not None and root._host is not None:
        t._data = None
        t._host = root._host
        t._base = None
        t._read = None
        t._shape, t._stride, t._offset = root._shape, root._stride, 0
        t.dtype, t._device = root.dtype, root._device
    else:
        t._set_root(data._value(), data.dtype, data._device)


class Parameter(Tensor):
    """torch.nn.Parameter: a leaf tensor that requires grad by default and that a Module lists in
    parameters(). Differs from torch: it holds its data's value rather than aliasing its storage,
    so an in-place write to the original tensor afterwards is not seen (numpy-backed data is)."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops import creation
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError("Parameter(): argument 'data' must be Tensor, not %s" % type(data).__name__)
        t = Tensor.__new__(cls)
        _adopt(t, data)
        if requires_grad and not (t.dtype.is_floating_point or t.dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = bool(requires_grad)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self, *, tensor_contents=None):
        from .. import _printing
        device = str(self._device) if self._device.type != "cpu" else None
        return _printing.tensor_repr(_concrete(self, "repr"), self.dtype.name,
                                     default_dtype_name=D.get_default_dtype().name, device=device,
                                     requires_grad=self._requires_grad, is_parameter=True)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        # torch pickles a Parameter as _rebuild_parameter(data, requires_grad, hooks); the data is
        # a plain root tensor holding the current value (not .data, a view whose base is self)
        data = Tensor._from_value(self._value(), dtype=self.dtype, device=self._device)
        return (_rebuild_parameter, (data, self.requires_grad, OrderedDict()))


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """torch.nn.Buffer: marks a tensor assigned to a Module attribute as a buffer. As in torch,
    `Buffer(t)` returns a plain tensor (t detached) flagged as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..ops import creation
            data = creation.empty(0)
        t = Tensor.__new__(Tensor)
        _adopt(t, data)
        t._requires_grad = data._requires_grad
        t.__dict__["persistent"] = persistent
        t.__dict__["_is_buffer"] = True
        return t


def _is_buffer(value):
    return isinstance(value, Tensor) and value.__dict__.get("_is_buffer", False)


class UninitializedParameter(Parameter):
    """Placeholder for lazy modules; jtorch has no lazy modules yet, so it only exists by name."""


def is_lazy(param):
    return isinstance(param, UninitializedParameter)
