"""The model registry behind torchvision.models' get_model / list_models / get_weight."""
import fnmatch
import sys

from ._weights import WeightsEnum, builder

__all__ = ["get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"]

_BUILDERS = {}        # name -> builder
_WEIGHT_ENUMS = {}    # name -> its WeightsEnum class


def register(weights_enum, legacy="IMAGENET1K_V1"):
    """Register a builder under its function name, with the legacy `pretrained=` interface (True meaning
    weights_enum[legacy]) and its weights enum."""
    def decorate(fn):
        if fn.__name__ in _BUILDERS:
            raise ValueError("An entry is already registered under the name '%s'." % fn.__name__)
        wrapped = builder(weights_enum[legacy])(fn)
        _BUILDERS[fn.__name__] = wrapped
        _WEIGHT_ENUMS[fn.__name__] = weights_enum
        return wrapped
    return decorate


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered models, optionally those defined in `module` (a package such as
    torchvision.models), kept by the fnmatch patterns in `include` and dropped by those in `exclude`."""
    names = {n for n, fn in _BUILDERS.items() if module is None or fn.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        patterns = [include] if isinstance(include, str) else include
        names = {n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        names = {n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)}
    return sorted(names)


def get_model_builder(name):
    try:
        return _BUILDERS[name.lower()]
    except KeyError:
        raise ValueError("Unknown model %s" % name.lower()) from None


def get_model(name, **config):
    """The model registered as `name`, built with `config` (weights=, num_classes=, ...)."""
    return get_model_builder(name)(**config)


def get_model_weights(name):
    """The WeightsEnum class of a model, given its builder or its registered name."""
    if isinstance(name, str):
        get_model_builder(name)
        return _WEIGHT_ENUMS[name.lower()]
    for key, fn in _BUILDERS.items():
        if fn is name:
            return _WEIGHT_ENUMS[key]
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved.")


def get_weight(name):
    """A weights member from its full name, e.g. "ResNet50_Weights.IMAGENET1K_V2"."""
    parts = name.split(".")
    if len(parts) != 2:
        raise ValueError("Invalid weight name provided: '%s'." % name)
    enum_name, member = parts
    package = sys.modules[__name__.rsplit(".", 1)[0]]
    enum_cls = getattr(package, enum_name, None)
    if not (isinstance(enum_cls, type) and issubclass(enum_cls, WeightsEnum)):
        raise ValueError("The weight enum '%s' for the specific method couldn't be retrieved." % enum_name)
    return enum_cls.verify(member)
