"""torch.linalg: the ops declared with namespace="linalg" in ops/linalg.py."""
from .ops import linalg as _ops  # noqa: F401  (registers them)
from .ops._registry import NAMESPACES

globals().update(NAMESPACES["linalg"])
