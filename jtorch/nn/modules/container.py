"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

torch's behaviour is the spec, including the parts that surprise, which we keep on purpose:
- Sequential and ModuleList address children by position (negative from the end). Slicing a
  Sequential keeps the children's keys (`s[1:]` has keys '1', '2'); slicing a ModuleList numbers
  them afresh. Deleting renumbers every key, a named Sequential's names included.
- `insert` moves children up key by key ('2' -> '3', '1' -> '2', ...), so on a Sequential with
  named children, or a ModuleList given a negative index, it fails with KeyError part way, as
  torch does. ModuleList.insert does no range check: a large index leaves a gap in the keys.
- ParameterList keeps its length in `_size` and ParameterDict its key order in `_keys`; the values
  themselves are attributes named by position or key (a Parameter is registered as one, anything
  else is a plain attribute). Pickles hold exactly these, so they load in torch and back.
- ParameterDict records a key before checking that it is a string, and reads a plain dict given to
  `update` in sorted key order (an OrderedDict, a ParameterDict or a list of pairs keep theirs).
"""
import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain, groupby

from ..._tensor import Tensor
from ..parameter import Parameter
from .module import Module, typename

__all__ = ["Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _position(idx, size):
    """idx (anything with __index__) as a position in 0..size-1; negative counts from the end."""
    idx = operator.index(idx)
    if idx < -size or idx >= size:
        raise IndexError(f"index {idx} is out of range")
    return idx + size if idx < 0 else idx


def _renumber(container):
    """Keys back to '0'..'n-1' in order, after a deletion."""
    container._modules = OrderedDict((str(i), m) for i, m in enumerate(container._modules.values()))


def _make_room(modules, index, count):
    """Free key str(index) by moving the children keyed str(index)..str(count-1) one key up, top
    first: the only new key is str(count), so the dict's order is that of the positions."""
    for dst in range(count, index, -1):
        modules[str(dst)] = modules[str(dst - 1)]


def _without_indices(names):
    """dir() of an indexed container: children '0', '1'... are not attribute names to offer."""
    return [name for name in names if not name.isdigit()]


def _indent_tail(text, spaces):
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


def _checked_pairs(items, owner):
    """(key, value) from each element of `items`, which must be a pair; checked one at a time, so
    the elements before a bad one are already stored when it raises (dict.update does the same)."""
    for j, item in enumerate(items):
        if not isinstance(item, Iterable):
            raise TypeError(f"{owner} update sequence element #{j} should be Iterable; is{type(item).__name__}")
        if len(item) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(item)}; 2 is required")
        yield item[0], item[1]


_CONTAINER_DEPRECATED = ("`nn.Container` is deprecated. All of its functionality is now implemented "
                         "in `nn.Module`. Subclass that instead.")


class Container(Module):
    """Deprecated, as in torch: making one (or subclassing it) warns with FutureWarning."""

    def __init_subclass__(cls, **kwargs):
        warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs):
        if type(self) is Container:
            warnings.warn(_CONTAINER_DEPRECATED, FutureWarning, stacklevel=2)
        super().__init__()
        for name, module in kwargs.items():
            self.add_module(name, module)


def _check_factor(seq, factor):
    if not isinstance(factor, int):
        raise TypeError(f"unsupported operand type(s) for *: {type(seq)} and {type(factor)}")
    if factor <= 0:
        raise ValueError(f"Non-positive multiplication factor {factor} for {type(seq)}")


def _check_sequential(other):
    if not isinstance(other, Sequential):
        raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")


class Sequential(Module):
    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            named = args[0].items()
        else:
            named = ((str(i), module) for i, module in enumerate(args))
        for name, module in named:
            self.add_module(name, module)

    def _key_at(self, idx):
        # children may have names (an OrderedDict), so a position is found by counting keys
        return list(self._modules)[_position(idx, len(self))]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            kept = list(self._modules.items())[idx]      # keys kept as they are
            return self.__class__(OrderedDict(kept))
        return self._modules[self._key_at(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key_at(idx), module)

    def __delitem__(self, idx):
        doomed = list(self._modules)[idx] if isinstance(idx, slice) else [self._key_at(idx)]
        for name in doomed:
            delattr(self, name)
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return _without_indices(super().__dir__())

    def __add__(self, other):
        _check_sequential(other)
        return Sequential(*self, *other)

    def __iadd__(self, other):
        _check_sequential(other)
        for i, module in enumerate(other, start=len(self)):
            self.add_module(str(i), module)
        return self

    def __mul__(self, other):
        _check_factor(self, other)
        return Sequential(*(list(self) * other))

    def __rmul__(self, other):
        return self.__mul__(other)

    def __imul__(self, other):
        _check_factor(self, other)
        n = len(self)
        for copy in range(1, other):
            # the originals are read by key '0'..'n-1': a named Sequential raises KeyError
            for i in range(n):
                self.add_module(str(copy * n + i), self._modules[str(i)])
        return self

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        index = index + n if index < 0 else index
        _make_room(self._modules, index, n)
        self._modules[str(index)] = module
        return self

    def extend(self, sequential):
        for module in sequential:
            self.append(module)
        return self

    def pop(self, key):
        module = self[key]
        del self[key]
        return module


class ModuleList(Module):
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def _key_of(self, idx):
        return str(_position(idx, len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            kept = list(self._modules.values())[idx]     # numbered afresh
            return self.__class__(kept)
        return self._modules[self._key_of(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key_of(idx), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            doomed = [str(i) for i in range(len(self._modules))[idx]]
        else:
            doomed = [self._key_of(idx)]
        for name in doomed:
            delattr(self, name)
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return _without_indices(super().__dir__())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(chain(self, other)))

    def __repr__(self):
        """One line per run of equal children: `(2-4): 3 x Linear(...)` (torch folds them too)."""
        children = [repr(module) for module in self]
        if not children:
            return self._get_name() + "()"
        lines, start = [], 0
        for text, run in groupby(children):
            count = len(list(run))
            label = f"({start}): " if count == 1 else f"({start}-{start + count - 1}): {count} x "
            lines.append(_indent_tail(label + text, 2))
            start += count
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index, module):
        _make_room(self._modules, index, len(self._modules))
        self._modules[str(index)] = module

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for i, module in enumerate(modules, start=len(self)):
            self.add_module(str(i), module)
        return self


class ModuleDict(Module):
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value pairs, "
                            "but got " + type(modules).__name__)
        if isinstance(modules, (ModuleDict, Mapping)):
            pairs = modules.items()
        else:
            pairs = _checked_pairs(modules, "ModuleDict")
        for key, module in pairs:
            self[key] = module


def _param_line(key, p, type_text):
    if isinstance(p, Tensor):
        size_str = "x".join(str(s) for s in p.size())
        device_str = " (%s)" % p.device if p.device.type == "cuda" else ""
        return "  (%s): %s containing: [%s of size %s%s]" % (
            key, "Parameter" if isinstance(p, Parameter) else "Tensor", type_text(p), size_str, device_str)
    return "  (%s): Object of type: %s" % (key, type(p).__name__)


def _as_parameter(value):
    """A plain tensor stored in a parameter container becomes a Parameter; other values stay."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(Module):
    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _key_of(self, idx):
        return str(_position(idx, len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            part = self.__class__()
            part.extend(self[i] for i in range(*idx.indices(len(self))))
            return part
        return getattr(self, self._key_of(idx))

    def __setitem__(self, idx, param):
        key = self._key_of(idx)
        setattr(self, key, _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return _without_indices(super().__dir__())

    def append(self, value):
        # the new slot must exist before __setitem__ range-checks its index
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_param_line(k, p, lambda t: str(t.dtype)) for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def _attr_name(self, key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}'). Open an issue on github if you need "
                            "non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._attr_name(key))

    def __setitem__(self, key, value):
        self._keys[key] = None      # before the check, as in torch: a rejected key stays listed
        setattr(self, self._attr_name(key), _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._attr_name(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        # an OrderedDict, so that the copy keeps this order rather than sorting the keys
        return ParameterDict(OrderedDict(self.items()))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def update(self, parameters):
        if not isinstance(parameters, Iterable):
            raise TypeError("ParametersDict.update should be called with an iterable of key/value pairs, "
                            "but got " + type(parameters).__name__)
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = _checked_pairs(parameters, "ParameterDict")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(_param_line(k, p, typename) for k, p in self.items())

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self
