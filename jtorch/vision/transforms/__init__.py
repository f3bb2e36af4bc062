"""torchvision.transforms: the classes tutorials use, and `functional`."""
from . import functional  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__  # noqa: F401
from ..._import_hook import module_getattr as _module_getattr

__getattr__ = _module_getattr(__name__)
