"""torch.nn.functional: the kernels declared in jtorch/ops/nn_*.py (their `nn.functional`
namespace), re-exported here as a module."""
from ..ops import nn_activation, nn_conv, nn_linear, nn_loss, nn_pool  # noqa: F401
from ..ops._registry import NAMESPACES

globals().update(NAMESPACES["nn.functional"])

__all__ = sorted(n for n in NAMESPACES["nn.functional"] if not n.startswith("_"))
