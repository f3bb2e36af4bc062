"""torch.special: the ops declared with namespace="special" in ops/special.py, and torch.special's
aliases of torch functions (special.expit is torch.sigmoid)."""
from .ops import special as _ops  # noqa: F401  (registers them)
from .ops._registry import NAMESPACES

globals().update(NAMESPACES["special"])
