"""torch.optim: optimizers with torch's surface over pure JAX update rules (NOTE [Optimizer steps]
in optimizer.py), and learning-rate schedulers. The namespace mirrors torch's: the classes, and
the lr_scheduler and swa_utils modules (the per-optimizer modules are removed from it, as torch
does)."""
from . import lr_scheduler
from ._adafactor import Adafactor
from ._muon import Muon
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

del adadelta, adagrad, adam, adamw, sparse_adam, adamax, asgd, sgd, radam, rprop, rmsprop  # noqa: F821
del optimizer, nadam, lbfgs  # noqa: F821

__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "Adamax", "AdamW", "ASGD", "LBFGS", "lr_scheduler",
           "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam", "swa_utils"]


def __getattr__(name):
    # swa_utils needs jtorch.nn, which is imported after optim: load it on first use
    if name == "swa_utils":
        import importlib
        return importlib.import_module(__name__ + ".swa_utils")
    raise AttributeError("module 'jtorch.optim' has no attribute %r" % name)


def __dir__():
    return sorted(set(globals()) | {"swa_utils"})
