"""torch.nn: Module, Parameter, layers, functional, init."""
from .parameter import Parameter, Buffer, UninitializedParameter  # noqa: F401
from . import functional, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from . import modules  # noqa: F401
from . import utils  # noqa: F401
from . import parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401
