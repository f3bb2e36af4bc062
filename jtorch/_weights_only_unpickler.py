"""`torch.load(weights_only=True)`: a pickle reader that builds only what an allow-list names.

A checkpoint's data.pkl is a program for pickle's stack machine. This module runs the small part
of that machine that torch.save emits (protocol 2: literals, containers, the memo, GLOBAL, REDUCE,
NEWOBJ, BUILD, persistent ids) and nothing else:

- a GLOBAL becomes an object only when its `module.name` is in `_get_allowed_globals()` (torch's
  names for tensor rebuild functions, storages, dtypes, Size, device, Parameter, and a few harmless
  builtins and collections, resolved to jtorch's objects) or was marked with
  `torch.serialization.add_safe_globals`; sys/os/posix/nt stay refused even when marked;
- REDUCE and NEWOBJ call only allowed objects, BUILD sets state only on Parameters, OrderedDicts
  and allowed types, list and dict opcodes touch only lists and dicts, and persistent ids must
  name storages;
- every other opcode is refused.

Refusals are `pickle.UnpicklingError` with torch's wording (serialization.py adds torch's advice).
The user's marks are read lazily, when the defaults do not decide, as torch does: a malformed mark
raises only when a load needs it.
"""
import _compat_pickle
import functools
import pickle
import struct
import warnings
from collections import Counter, OrderedDict
from codecs import encode

# -- names: Python 2 spellings, refused modules, what the user marked ------------------------------

# the Python 2 names torch translates (a subset of the standard library's own table)
_PY2_MODULES = {old: _compat_pickle.IMPORT_MAPPING[old] for old in (
    "__builtin__", "copy_reg", "Queue", "repr", "_abcoll", "UserDict", "UserList", "UserString",
    "whichdb", "StringIO", "cStringIO")}
_PY2_NAMES = {old: new for old, new in _compat_pickle.NAME_MAPPING.items()
              if old[0] in ("__builtin__", "itertools", "UserDict", "UserList", "UserString")}
_PY2_NAMES["exceptions", "StandardError"] = ("builtins", "Exception")

_NEVER = frozenset(("sys", "os", "posix", "nt"))  # refused whatever the user marked


def _modern(module, name):
    if (module, name) in _PY2_NAMES:
        return _PY2_NAMES[module, name]
    return _PY2_MODULES.get(module, module), name


class _Marks:
    """What `add_safe_globals` marked: objects, or `(object, "module.name")` pairs."""

    def __init__(self):
        self.marked = set()

    def add(self, entries):
        self.marked |= set(entries)

    def remove(self, entries):
        self.marked -= set(entries)

    def clear(self):
        self.marked = set()

    def listed(self):
        return list(self.marked)

    def by_name(self):
        """{"module.name": object}; a malformed pair raises here, when a load first needs it."""
        table = {}
        for entry in self.marked:
            if not isinstance(entry, tuple):
                table["%s.%s" % (entry.__module__, entry.__qualname__)] = entry
                continue
            if len(entry) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), but "
                                 "got tuple of length: %d" % len(entry))
            obj, full_name = entry
            if type(full_name) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, but "
                                "got: %s" % type(full_name))
            table[full_name] = obj
        return table


marks = _Marks()


class marked:
    """Context manager: `entries` are marked safe inside the block."""

    def __init__(self, entries):
        self.entries = entries

    def __enter__(self):
        marks.add(self.entries)

    def __exit__(self, *exc_info):
        marks.remove(self.entries)


@functools.lru_cache(maxsize=1)
def _get_allowed_globals():
    """The names weights_only accepts without being told, each with the object it loads as."""
    from . import _rebuild
    table = {"collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
             "_codecs.encode": encode, "builtins.bytearray": bytearray, "builtins.set": set,
             "builtins.complex": complex}
    table.update(_rebuild._torch_globals())
    return table


@functools.lru_cache(maxsize=1)
def _default_ids():
    return frozenset(map(id, _get_allowed_globals().values()))


def _decode_ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


def _refuse(message, *values):
    raise pickle.UnpicklingError(message % values)


def _classes():
    from ._rebuild import _parameter_class
    from ._tensor import Tensor
    return Tensor, _parameter_class()


# -- operands ---------------------------------------------------------------------------------------
# How each opcode's operand is laid out after the opcode byte: a byte count, "len1"/"len4" (a 1-byte /
# 4-byte little-endian length, then that many bytes) or "lines" (module and name, each ending in a
# newline); opcodes absent here take none. The raw bytes are read before the opcode runs, so a
# truncated pickle fails the same way when listed and when loaded.
_OPERAND = {pickle.PROTO: 1, pickle.BININT: 4, pickle.BININT1: 1, pickle.BININT2: 2,
            pickle.BINFLOAT: 8, pickle.BINGET: 1, pickle.LONG_BINGET: 4, pickle.BINPUT: 1,
            pickle.LONG_BINPUT: 4, pickle.LONG1: "len1", pickle.SHORT_BINSTRING: "len1",
            pickle.BINUNICODE: "len4", pickle.GLOBAL: "lines"}


def _u32(raw):
    return struct.unpack("<I", raw)[0]


def _read_operand(layout, read, readline):
    if layout == "lines":
        return readline(), readline()
    if layout == "len1":
        return read(read(1)[0])
    if layout == "len4":
        return read(_u32(read(4)))
    return read(layout)


def _global_name(lines):
    module, name = (line[:-1].decode("utf-8") for line in lines)
    return _modern(module, name)


# opcodes that push one value made from their operand alone: opcode -> f(unpickler, raw operand)
_PUSH = {
    pickle.NONE: lambda u, raw: None,
    pickle.NEWTRUE: lambda u, raw: True,
    pickle.NEWFALSE: lambda u, raw: False,
    pickle.EMPTY_TUPLE: lambda u, raw: (),
    pickle.EMPTY_LIST: lambda u, raw: [],
    pickle.EMPTY_DICT: lambda u, raw: {},
    pickle.EMPTY_SET: lambda u, raw: set(),
    pickle.BININT: lambda u, raw: struct.unpack("<i", raw)[0],
    pickle.BININT1: lambda u, raw: raw[0],
    pickle.BININT2: lambda u, raw: struct.unpack("<H", raw)[0],
    pickle.BINFLOAT: lambda u, raw: struct.unpack(">d", raw)[0],
    pickle.LONG1: lambda u, raw: int.from_bytes(raw, "little", signed=True),
    pickle.BINUNICODE: lambda u, raw: str(raw, "utf-8", "surrogatepass"),
    pickle.SHORT_BINSTRING: lambda u, raw: raw if u.encoding == "bytes" else raw.decode(u.encoding),
    pickle.BINGET: lambda u, raw: u.memo[raw[0]],
    pickle.LONG_BINGET: lambda u, raw: u.memo[_u32(raw)],
}


def globals_named_in(file):
    """The `module.name` of every GLOBAL in a pickle, read without running it."""
    found = set()
    while True:
        code = file.read(1)
        if not code:
            raise EOFError
        if code not in _ACCEPTED:
            _refuse("Unsupported operand %d", code[0])
        if code == pickle.STOP:
            return found
        if code in _OPERAND:
            operand = _read_operand(_OPERAND[code], file.read, file.readline)
            if code == pickle.GLOBAL:
                found.add("%s.%s" % _global_name(operand))


class _Scanned:
    """An object a scanning unpickler did not build: what it was made from (a global's name)."""
    __slots__ = ("origin",)

    def __init__(self, origin):
        self.origin = origin


_DICTS = (dict, OrderedDict, Counter)


class Unpickler:
    """Loads one pickle from `file` under the allow-list.

    With `scan=True` it builds nothing: globals, calls and objects become opaque `_Scanned`
    placeholders and only persistent ids reach `persistent_load` (legacy checkpoints learn their
    storages this way before reading any data)."""

    def __init__(self, file, *, encoding="bytes", scan=False):
        self.encoding = encoding
        self.scan = scan
        self.memo = {}
        self.proto = -1
        self._read, self._readline = file.read, file.readline

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("unsupported persistent id encountered")

    def load(self):
        self.stack, self._outer = [], []  # _outer: the stacks a MARK set aside
        self._tensor, self._parameter = _classes()
        self._everything = None  # ids of every allowed object, user marks included; on demand
        read, readline = self._read, self._readline
        while True:
            code = read(1)
            if not code:
                raise EOFError
            if not isinstance(code, (bytes, bytearray)):
                raise AssertionError("Expected bytes, got %s" % type(code).__name__)
            code = bytes(code)
            if code not in _ACCEPTED:
                _refuse("Unsupported operand %d", code[0])
            operand = _read_operand(_OPERAND[code], read, readline) if code in _OPERAND else None
            if code in _PUSH:
                self.stack.append(_PUSH[code](self, operand))
            elif code == pickle.STOP:
                return self.stack.pop()
            else:
                _RUN[code](self, operand)

    def _allowed(self, obj):
        """Whether `obj` is an allowed global, the user's marks included."""
        if self._everything is None:
            self._everything = _default_ids() | frozenset(map(id, marks.by_name().values()))
        return id(obj) in self._everything

    # -- opcodes that name, call or fill in objects --------------------------------------------------

    def _global(self, lines):
        module, name = _global_name(lines)
        full = "%s.%s" % (module, name)
        if self.scan:
            self.stack.append(_Scanned(full))
            return
        if module in _NEVER:
            _refuse("Trying to load unsupported GLOBAL %s whose module %s is blocked.", full, module)
        table = _get_allowed_globals()
        if full not in table:
            table = marks.by_name()
        if full not in table:
            from ._rebuild import _unsupported_torch_global
            _unsupported_torch_global(full)  # a torch global jtorch lacks: say so
            shown = full[len("builtins."):] if full.startswith("builtins.") else full
            _refuse("Unsupported global: GLOBAL %s was not an allowed global by default. Please use "
                    "`torch.serialization.add_safe_globals([%s])` or the "
                    "`torch.serialization.safe_globals([%s])` context manager to allowlist this "
                    "global if you trust this class/function.", shown, shown, shown)
        self.stack.append(table[full])

    def _newobj(self, _):
        args = self.stack.pop()
        cls = self.stack.pop()
        if self.scan:
            made = _Scanned(cls)
        elif self._parameter is not None and cls is self._parameter:
            made = cls(*args)
        elif self._allowed(cls):
            made = cls.__new__(cls, *args)
        else:
            _refuse("Can only create new object for nn.Parameter or classes allowlisted via "
                    "`add_safe_globals` but got %s", cls)
        self.stack.append(made)

    def _reduce(self, _):
        args = self.stack.pop()
        func = self.stack[-1]
        if self.scan:
            self.stack[-1] = _Scanned(func)
            return
        if id(func) not in _default_ids() and not self._allowed(func):
            owner = " which belongs to %s" % (func.__self__,) if hasattr(func, "__self__") else ""
            _refuse("Trying to call reduce for unrecognized function %s%s", func, owner)
        self.stack[-1] = func(*args)

    def _build(self, _):
        state = self.stack.pop()
        obj = self.stack[-1]
        kind = type(obj)
        if self.scan:
            return
        if kind is self._tensor:
            _refuse("jtorch cannot rebuild a tensor from the legacy Tensor.set_ state in this "
                    "checkpoint")
        if self._parameter is not None and kind is self._parameter:
            from ._rebuild import _set_obj_state
            _set_obj_state(obj, state)
        elif kind is OrderedDict:
            obj.__dict__.update(state)
        elif not self._allowed(kind):
            _refuse("Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                    "`add_safe_globals`, but got %s", kind)
        elif hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
        else:
            _set_plain_state(obj, state)

    def _persistent_id(self, _):
        pid = self.stack.pop()
        if type(pid) not in (tuple, int):
            _refuse("persistent_load id must be tuple or int, but got %s", type(pid))
        if not self.scan and type(pid) is tuple and pid and _decode_ascii(pid[0]) != "storage":
            _refuse("Only persistent_load of storage is allowed, but got %s", type(pid[0]))
        self.stack.append(self.persistent_load(pid))

    # -- marks, tuples, lists, dicts --------------------------------------------------------------

    def _mark(self, _):
        self._outer.append(self.stack)
        self.stack = []

    def _since_mark(self):
        items, self.stack = self.stack, self._outer.pop()
        return items

    def _tuple(self, _):
        items = self._since_mark()
        self.stack.append(tuple(items))

    def _extend_list(self, items, refusal):
        target = self.stack[-1]
        if type(target) is list:
            target.extend(items)
        elif not self.scan:
            _refuse(refusal, type(target))

    def _append(self, _):
        self._extend_list([self.stack.pop()], "Can only append to lists, but got %s")

    def _appends(self, _):
        self._extend_list(self._since_mark(), "Can only extend lists, but got %s")

    def _update_dict(self, flat_pairs, opname):
        target = self.stack[-1]
        if type(target) in _DICTS:
            for i in range(0, len(flat_pairs), 2):
                target[flat_pairs[i]] = flat_pairs[i + 1]
        elif not self.scan:
            _refuse("Can only %s for dict, collections.OrderedDict, collections.Counter, but got %s",
                    opname, type(target))

    def _setitem(self, _):
        value = self.stack.pop()
        key = self.stack.pop()
        self._update_dict([key, value], "SETITEM")

    def _setitems(self, _):
        self._update_dict(self._since_mark(), "SETITEMS")

    # -- the memo and the header -----------------------------------------------------------------

    def _remember(self, index):
        self.memo[index] = self.stack[-1]

    def _proto(self, raw):
        self.proto = raw[0]
        if self.proto != 2:
            warnings.warn("Detected pickle protocol %d in the checkpoint, which was not the default "
                          "pickle protocol used by `torch.load` (2). The weights_only Unpickler might "
                          "not support all instructions implemented by this protocol, please file an "
                          "issue for adding support if you encounter this." % self.proto, stacklevel=3)


def _pack_top(n):
    """TUPLE1/2/3: the top n stack items become one tuple."""
    def run(unpickler, _):
        stack = unpickler.stack
        packed = tuple(stack[-i] for i in range(n, 0, -1))
        stack[-n:] = [packed]
    return run


# opcodes that act on the stack, the memo or the header: opcode -> f(unpickler, raw operand)
_RUN = {
    pickle.GLOBAL: Unpickler._global, pickle.NEWOBJ: Unpickler._newobj,
    pickle.REDUCE: Unpickler._reduce, pickle.BUILD: Unpickler._build,
    pickle.BINPERSID: Unpickler._persistent_id, pickle.MARK: Unpickler._mark,
    pickle.TUPLE: Unpickler._tuple, pickle.TUPLE1: _pack_top(1), pickle.TUPLE2: _pack_top(2),
    pickle.TUPLE3: _pack_top(3), pickle.APPEND: Unpickler._append,
    pickle.APPENDS: Unpickler._appends, pickle.SETITEM: Unpickler._setitem,
    pickle.SETITEMS: Unpickler._setitems, pickle.PROTO: Unpickler._proto,
    pickle.BINPUT: lambda u, raw: u._remember(raw[0]),
    pickle.LONG_BINPUT: lambda u, raw: u._remember(_u32(raw)),
}
_ACCEPTED = frozenset(_PUSH) | frozenset(_RUN) | {pickle.STOP}


def _set_plain_state(obj, state):
    """BUILD on an allowed object without __setstate__: `state` is its __dict__, or a pair
    (__dict__ part, slots part), as pickle itself applies it."""
    attributes, slots = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    if attributes:
        obj.__dict__.update(attributes)
    for key, value in (slots or {}).items():
        setattr(obj, key, value)
