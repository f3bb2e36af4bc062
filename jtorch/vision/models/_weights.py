"""Pretrained-weight descriptions (torchvision.models' Weights / WeightsEnum) and what builders do with them.

A `Weights` entry is a URL, a factory for the preprocessing preset and a meta dict; a model's
`*_Weights` enum lists its entries, with `DEFAULT` as an alias of the recommended one. A builder
accepts `weights=` as a member, its name ("IMAGENET1K_V1", "ResNet18_Weights.IMAGENET1K_V1",
"DEFAULT") or None, and the legacy `pretrained=` flag, mapped as torchvision maps it.

Differs from torchvision: an unknown weights name raises UnknownWeightsError, which is both the
KeyError torchvision raises (Enum lookup) and a ValueError, with a message listing the valid names.
"""
import dataclasses
import enum
import functools
import inspect
import warnings

from ...hub import load_state_dict_from_url

__all__ = ["Weights", "WeightsEnum", "UnknownWeightsError"]


class UnknownWeightsError(KeyError, ValueError):
    """A weights name that the model's enum does not have."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


@dataclasses.dataclass(eq=False)
class Weights:
    url: str
    transforms: object   # a callable that makes the preset, e.g. functools.partial(ImageClassification, ...)
    meta: dict

    def __eq__(self, other):
        # partial objects compare by identity; compare what they would build, so that a deep-copied or
        # unpickled entry still finds its enum member
        if not isinstance(other, Weights):
            return NotImplemented
        return (self.url, self.meta, _factory_key(self.transforms)) == (other.url, other.meta,
                                                                          _factory_key(other.transforms))

    __hash__ = None


def _factory_key(fn):
    if isinstance(fn, functools.partial):
        return fn.func, fn.args, tuple(sorted(fn.keywords.items()))
    return fn


class WeightsEnum(enum.Enum):
    """Base of every `<Model>_Weights` enum; each member's value is a `Weights`."""

    @classmethod
    def verify(cls, obj):
        """None, a member, or a member's name (optionally prefixed by the enum's name) -> the member."""
        if obj is None or isinstance(obj, cls):
            return obj
        if type(obj) is str:
            name = obj[len(cls.__name__) + 1:] if obj.startswith(cls.__name__ + ".") else obj
            if name not in cls.__members__:
                raise UnknownWeightsError("%r is not a weights name of %s; valid names: %s"
                                          % (obj, cls.__name__, ", ".join(cls.__members__)))
            return cls.__members__[name]
        raise TypeError("Invalid Weight class provided; expected %s but received %s."
                        % (cls.__name__, type(obj).__name__))

    def get_state_dict(self, *args, **kwargs):
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return "%s.%s" % (type(self).__name__, self._name_)

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _set_checked(kwargs, name, value):
    """kwargs[name] = value, unless the caller passed a different value (then torchvision's ValueError)."""
    if name in kwargs and kwargs[name] != value:
        raise ValueError("The parameter '%s' expected value %s but got %s instead." % (name, value, kwargs[name]))
    kwargs[name] = value


def load_into(model, weights, progress):
    """Load the checkpoint of `weights` into `model` (strict), fetching it through jtorch.hub's cache."""
    model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def builder(legacy_weights):
    """Decorate a model builder `fn(*, weights=None, progress=True, **kwargs)` with torchvision's old
    interface: `pretrained=True/False` (or a bool passed for `weights`) becomes `weights=legacy_weights`
    or None, with torchvision's deprecation warnings, and the keyword-only arguments may still be passed
    positionally (with a warning). `legacy_weights` is the member `pretrained=True` always meant (V1),
    which is not always today's DEFAULT."""
    def decorate(fn):
        keyword_only = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]

        @functools.wraps(fn)
        def build(*args, **kwargs):
            if args:
                if len(args) > len(keyword_only):
                    raise TypeError("%s() takes %d positional arguments but %d were given"
                                    % (fn.__name__, len(keyword_only), len(args)))
                named = dict(zip(keyword_only, args))
                warnings.warn("Using %s as positional parameter(s) is deprecated since 0.13 and may be removed in "
                              "the future. Please use keyword parameter(s) instead." % _join_names(list(named)))
                kwargs.update(named)
            if "weights" in kwargs:
                value = kwargs["weights"]
                if value is None or isinstance(value, WeightsEnum) or (isinstance(value, str) and value != "legacy"):
                    return fn(**kwargs)
                flag = kwargs.pop("weights")   # a bool where a weights enum belongs: the old positional `pretrained`
                kwargs.pop("pretrained", None)
            elif "pretrained" in kwargs:
                flag = kwargs.pop("pretrained")
                warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
                              "please use 'weights' instead.")
            else:
                return fn(**kwargs)
            chosen = legacy_weights if flag else None
            message = ("Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may "
                       "be removed in the future. The current behavior is equivalent to passing `weights=%s`."
                       % (chosen,))
            if flag:
                message += (" You can also use `weights=%s.DEFAULT` to get the most up-to-date weights."
                            % type(chosen).__name__)
            warnings.warn(message)
            return fn(weights=chosen, **kwargs)
        return build
    return decorate


def _join_names(names):
    quoted = ["'%s'" % n for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def imagenet1k(file, *, num_params, min_size, recipe, acc, ops, file_size, resize_size=256, **meta):
    """A Weights entry for an ImageNet-1k classifier checkpoint at download.pytorch.org/models/<file>:
    its preset resizes to resize_size and crops 224; meta has the 1000 categories, the parameter count,
    the smallest input the model accepts and torchvision's published numbers (acc = (acc@1, acc@5))."""
    from ..transforms._presets import ImageClassification
    from ._meta import _IMAGENET_CATEGORIES
    return Weights(
        url="https://download.pytorch.org/models/" + file,
        transforms=functools.partial(ImageClassification, crop_size=224, **(
            {} if resize_size == 256 else {"resize_size": resize_size})),
        meta={"min_size": min_size, "categories": _IMAGENET_CATEGORIES, "num_params": num_params, "recipe": recipe,
              "_metrics": {"ImageNet-1K": {"acc@1": acc[0], "acc@5": acc[1]}}, "_ops": ops,
              "_file_size": file_size, **meta})
