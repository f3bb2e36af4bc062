"""torch.utils: the data package (torch.utils.data)."""
from . import data  # noqa: F401
from .._import_hook import module_getattr as _module_getattr

__getattr__ = _module_getattr(__name__)
