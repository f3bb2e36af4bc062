"""torch.utils.data._utils, for code that imports collate and worker helpers from there."""
from . import collate, worker  # noqa: F401
