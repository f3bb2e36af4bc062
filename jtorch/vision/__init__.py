"""jtorch.vision: the torchvision subset tutorials use (datasets, models, transforms, io, utils). Under
`python -m jtorch run`, `import torchvision` gives this package."""
from . import datasets, io, models, transforms, utils  # noqa: F401
from .._import_hook import module_getattr as _module_getattr

__version__ = "0.0.0+jtorch"

__getattr__ = _module_getattr(__name__)
