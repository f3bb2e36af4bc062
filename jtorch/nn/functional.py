"""torch.nn.functional: the kernels declared in jtorch/ops/nn_*.py (their `nn.functional`
namespace), re-exported here as a module."""
from ..ops import (nn_activation, nn_attention, nn_conv, nn_dropout, nn_embedding, nn_linear,  # noqa: F401
                   nn_loss, nn_misc, nn_norm, nn_pool, nn_rnn)
from ..ops._registry import NAMESPACES

globals().update(NAMESPACES["nn.functional"])

__all__ = sorted(n for n in NAMESPACES["nn.functional"] if not n.startswith("_"))
