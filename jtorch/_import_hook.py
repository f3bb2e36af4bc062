"""`import torch` answered by jtorch: the import hook behind `python -m jtorch run` and
`jtorch.install_as_torch()`, and the error for PyTorch names jtorch lacks.

NOTE [torch as an alias of jtorch]
A finder at the front of sys.meta_path maps `torch`, `torch.X...`, `torchvision` and
`torchvision.X...` to `jtorch`, `jtorch.X...`, `jtorch.vision` and `jtorch.vision.X...`. The loader
returns the jtorch module object itself, so `torch.nn is jtorch.nn` and a script sees one module
under both names; the import system's attempt to stamp the alias's spec on that module is undone,
so jtorch's own modules keep their names. A torch module that jtorch lacks raises
ModuleNotFoundError naming it (an ImportError, so `try: import torch.x / except ImportError`
still works).

A missing attribute of a jtorch module (`torch.foo`) raises NotImplementedByJtorch:
"torch.foo is not implemented by jtorch". It subclasses both NotImplementedError, which says what
happened, and AttributeError, which `hasattr`, `getattr(m, name, default)` and
`from torch import foo` (-> ImportError) rely on.
"""
import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["NotImplementedByJtorch", "install", "uninstall", "installed", "module_getattr"]

_ALIASES = (("torchvision", "jtorch.vision"), ("torch", "jtorch"))
_PUBLIC = (("jtorch.vision", "torchvision"), ("jtorch", "torch"))


class NotImplementedByJtorch(NotImplementedError, AttributeError):
    """A PyTorch API that jtorch does not implement (also an AttributeError, for hasattr)."""


def torch_name(module_name):
    """The PyTorch name of a jtorch module: jtorch.nn -> torch.nn, jtorch.vision.io -> torchvision.io."""
    for ours, theirs in _PUBLIC:
        if module_name == ours or module_name.startswith(ours + "."):
            return theirs + module_name[len(ours):]
    return module_name


def module_getattr(module_name):
    """A module-level __getattr__ for a jtorch module: unknown public names raise NotImplementedByJtorch."""
    public = torch_name(module_name)

    def __getattr__(name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError("module %r has no attribute %r" % (module_name, name))
        raise NotImplementedByJtorch("%s.%s is not implemented by jtorch" % (public, name))
    return __getattr__


def _target(fullname):
    for old, new in _ALIASES:
        if fullname == old or fullname.startswith(old + "."):
            return new + fullname[len(old):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # the import system set the alias's spec: keep jtorch's own


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = _target(fullname)
        if new is None:
            return None
        try:
            module = importlib.import_module(new)
        except ModuleNotFoundError as e:
            if e.name != new and not new.startswith((e.name or "\0") + "."):
                raise  # something jtorch itself imports is missing
            raise ModuleNotFoundError("No module named %r: %s is not implemented by jtorch" % (fullname, fullname),
                                      name=fullname) from None
        if getattr(module, "__getattr__", None) is None:
            module.__getattr__ = module_getattr(new)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module))


_finder = _Finder()


def installed():
    return _finder in sys.meta_path


def install():
    """Make `import torch` / `import torchvision` (and their submodules) import jtorch. Raises RuntimeError
    when the real torch or torchvision is already imported in this process."""
    if installed():
        return
    for name in list(sys.modules):
        top = name.split(".")[0]
        if top in ("torch", "torchvision") and not getattr(sys.modules[name], "__name__", "").startswith("jtorch"):
            raise RuntimeError("install_as_torch() must run before %s is imported: %s is already the real "
                               "PyTorch module" % (top, name))
    sys.meta_path.insert(0, _finder)


def uninstall():
    """Undo install(): remove the finder and the torch/torchvision aliases from sys.modules."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in list(sys.modules):
        if _target(name) is not None and getattr(sys.modules[name], "__name__", "").startswith("jtorch"):
            del sys.modules[name]


def install_as_torch():
    """Make this process's `import torch` and `import torchvision` give jtorch and jtorch.vision, as
    `python -m jtorch run` does for a whole script. Call it before anything imports torch."""
    install()
