"""torch.autograd: backward, grad, grad modes, Function, functional, gradcheck, anomaly detection,
and the graph's nodes (NOTE [The tape] in graph.py)."""
from . import graph, grad_mode, anomaly_mode, function, functional  # noqa: F401
from .engine import backward, grad
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .anomaly_mode import detect_anomaly, set_detect_anomaly, is_anomaly_enabled, is_anomaly_check_nan_enabled
from .function import Function, once_differentiable, FunctionCtx, BackwardCFunction, InplaceFunction
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import gradcheck as _gradcheck_module  # noqa: F401


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from .._tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable: a deprecated alias; Variable(t) returns t (requires_grad set if asked)."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            from ..ops import creation
            data = creation.tensor([])
        if requires_grad:
            data.requires_grad_(True)
        return data


__all__ = ["backward", "grad", "Function", "Variable", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck",
           "functional", "graph"]
