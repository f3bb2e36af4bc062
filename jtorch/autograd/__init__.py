"""torch.autograd: backward, grad, grad modes, the graph's nodes."""
from .engine import backward, grad
from .grad_mode import no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled
from . import graph

Variable = None  # replaced below: torch.autograd.Variable(t) is t itself nowadays


def _variable(data, requires_grad=False, volatile=False):
    if requires_grad:
        data.requires_grad_(True)
    return data


Variable = _variable
