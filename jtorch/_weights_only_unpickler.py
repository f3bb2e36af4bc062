"""The allow-list unpickler behind `torch.load(weights_only=True)`, after PyTorch's own
(torch/_weights_only_unpickler.py, itself after CPython's pickle.py).

It never imports anything by name: GLOBAL looks the name up in a table of what torch allows
(tensor rebuild functions, storage types, dtypes, torch.Size, torch.device, Parameter,
OrderedDict, Counter, set, bytearray, complex) plus what the user allowlisted with
`torch.serialization.add_safe_globals`; REDUCE and NEWOBJ call only those; BUILD sets state only on
tensors, parameters, OrderedDicts and allowlisted types; anything else is refused with
`pickle.UnpicklingError` and torch's messages. Names are torch's, so that a checkpoint written by
PyTorch and one written by jtorch read the same; they resolve to jtorch's objects.
"""
import functools
import warnings
from _codecs import encode
from collections import Counter, OrderedDict
from pickle import (APPEND, APPENDS, BINFLOAT, BINGET, BININT, BININT1, BININT2, BINPERSID, BINPUT,
                    BINUNICODE, BUILD, EMPTY_DICT, EMPTY_LIST, EMPTY_SET, EMPTY_TUPLE, GLOBAL, LONG1,
                    LONG_BINGET, LONG_BINPUT, MARK, NEWFALSE, NEWOBJ, NEWTRUE, NONE, PROTO, REDUCE,
                    SETITEM, SETITEMS, SHORT_BINSTRING, STOP, TUPLE, TUPLE1, TUPLE2, TUPLE3,
                    UnpicklingError, bytes_types, decode_long)
from struct import unpack
from sys import maxsize

# Python 2 names, as torch._utils.IMPORT_MAPPING / NAME_MAPPING (torch.save's protocol is 2)
IMPORT_MAPPING = {"__builtin__": "builtins", "copy_reg": "copyreg", "Queue": "queue", "repr": "reprlib",
                  "_abcoll": "collections.abc", "UserDict": "collections", "UserList": "collections",
                  "UserString": "collections", "whichdb": "dbm", "StringIO": "io", "cStringIO": "io"}
NAME_MAPPING = {
    ("__builtin__", "xrange"): ("builtins", "range"), ("__builtin__", "reduce"): ("functools", "reduce"),
    ("__builtin__", "intern"): ("sys", "intern"), ("__builtin__", "unichr"): ("builtins", "chr"),
    ("__builtin__", "unicode"): ("builtins", "str"), ("__builtin__", "long"): ("builtins", "int"),
    ("itertools", "izip"): ("builtins", "zip"), ("itertools", "imap"): ("builtins", "map"),
    ("itertools", "ifilter"): ("builtins", "filter"),
    ("itertools", "ifilterfalse"): ("itertools", "filterfalse"),
    ("itertools", "izip_longest"): ("itertools", "zip_longest"),
    ("UserDict", "IterableUserDict"): ("collections", "UserDict"),
    ("UserList", "UserList"): ("collections", "UserList"),
    ("UserString", "UserString"): ("collections", "UserString"),
    ("__builtin__", "basestring"): ("builtins", "str"),
    ("exceptions", "StandardError"): ("builtins", "Exception"),
    ("UserDict", "UserDict"): ("collections", "UserDict"),
}

# modules never allowed, even when the user allowlists something from them
_blocklisted_modules = ["sys", "os", "posix", "nt"]

_marked_safe_globals_set = set()


def _add_safe_globals(safe_globals):
    global _marked_safe_globals_set
    _marked_safe_globals_set = _marked_safe_globals_set.union(set(safe_globals))


def _get_safe_globals():
    return list(_marked_safe_globals_set)


def _clear_safe_globals():
    global _marked_safe_globals_set
    _marked_safe_globals_set = set()


def _remove_safe_globals(globals_to_remove):
    global _marked_safe_globals_set
    _marked_safe_globals_set = _marked_safe_globals_set - set(globals_to_remove)


class _safe_globals:
    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        _add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        _remove_safe_globals(self.safe_globals)


def _get_user_allowed_globals():
    rc = {}
    for f in _marked_safe_globals_set:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), but "
                                 "got tuple of length: %d" % len(f))
            if type(f[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, but "
                                "got: %s" % type(f[1]))
            f, name = f
            rc[name] = f
        else:
            rc["%s.%s" % (f.__module__, f.__qualname__)] = f
    return rc


@functools.lru_cache(maxsize=1)
def _get_allowed_globals():
    from . import _rebuild
    rc = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "_codecs.encode": encode,  # bytes
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
    }
    rc.update(_rebuild._torch_globals())
    return rc


def _read_global_instruction(readline):
    module = readline()[:-1].decode("utf-8")
    name = readline()[:-1].decode("utf-8")
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    elif module in IMPORT_MAPPING:
        module = IMPORT_MAPPING[module]
    return module, name


_SKIP = {op[0]: n for op, n in [
    (NEWOBJ, 0), (REDUCE, 0), (BUILD, 0), (APPEND, 0), (APPENDS, 0), (SETITEM, 0), (SETITEMS, 0),
    (MARK, 0), (TUPLE, 0), (TUPLE1, 0), (TUPLE2, 0), (TUPLE3, 0), (NONE, 0), (NEWFALSE, 0),
    (NEWTRUE, 0), (EMPTY_TUPLE, 0), (EMPTY_LIST, 0), (EMPTY_DICT, 0), (EMPTY_SET, 0),
    (BINPERSID, 0), (BININT, 4), (BININT1, 1), (BININT2, 2), (BINFLOAT, 8), (BINGET, 1),
    (LONG_BINGET, 4), (BINPUT, 1), (LONG_BINPUT, 4)]}


def get_globals_in_pkl(file):
    """Every `module.name` a pickle refers to, read without running it."""
    found = set()
    read, readline = file.read, file.readline
    while True:
        key = read(1)
        if not key:
            raise EOFError
        op = key[0]
        if op == GLOBAL[0]:
            module, name = _read_global_instruction(readline)
            found.add("%s.%s" % (module, name))
        elif op in _SKIP:
            if _SKIP[op]:
                read(_SKIP[op])
        elif op == BINUNICODE[0]:
            read(unpack("<I", read(4))[0])
        elif op in (SHORT_BINSTRING[0], LONG1[0]):
            read(read(1)[0])
        elif op == PROTO[0]:
            read(1)
        elif op == STOP[0]:
            return found
        else:
            raise UnpicklingError("Unsupported operand %d" % op)


def _parameter_class():
    from . import _rebuild
    return _rebuild._parameter_class()


class Unpickler:
    def __init__(self, file, *, encoding="bytes", scan=False):
        self.encoding = encoding
        # scan: walk the pickle's structure without resolving a global or calling anything (every
        # global, call and object is an opaque _Scanned); persistent ids still reach
        # persistent_load. Legacy checkpoints use it to learn their storages before reading data.
        self.scan = scan
        self.readline = file.readline
        self.read = file.read
        self.memo = {}
        self.proto = -1

    def load(self):
        """Read a pickled object from the file, allowing only the globals above."""
        from ._tensor import Tensor
        from ._rebuild import _set_obj_state
        Parameter = _parameter_class()
        allowed = _get_allowed_globals()
        user = _get_user_allowed_globals()
        allowed_ids = {id(v) for v in allowed.values()} | {id(v) for v in user.values()}

        def is_allowed(x):
            return id(x) in allowed_ids

        self.metastack = []
        self.stack = []
        self.append = self.stack.append
        read = self.read
        while True:
            key = read(1)
            if not key:
                raise EOFError
            if not isinstance(key, bytes_types):
                raise AssertionError("Expected bytes, got %s" % type(key).__name__)
            op = key[0]
            # risky operators
            if op == GLOBAL[0]:
                module, name = _read_global_instruction(self.readline)
                full_path = "%s.%s" % (module, name)
                if self.scan:
                    self.append(_Scanned(full_path))
                    continue
                if module in _blocklisted_modules:
                    raise UnpicklingError("Trying to load unsupported GLOBAL %s whose module %s is "
                                          "blocked." % (full_path, module))
                if full_path in allowed:
                    self.append(allowed[full_path])
                elif full_path in user:
                    self.append(user[full_path])
                else:
                    from ._rebuild import _unsupported_torch_global
                    _unsupported_torch_global(full_path)  # a torch global jtorch lacks: say so
                    if full_path.startswith("builtins"):
                        rest = full_path[len("builtins"):]
                        full_path = rest[1:] if rest[:1] == "." else "builtins" + rest
                    raise UnpicklingError(
                        "Unsupported global: GLOBAL %s was not an allowed global by default. Please "
                        "use `torch.serialization.add_safe_globals([%s])` or the "
                        "`torch.serialization.safe_globals([%s])` context manager to allowlist this "
                        "global if you trust this class/function." % (full_path, full_path, full_path))
            elif op == NEWOBJ[0]:
                args = self.stack.pop()
                cls = self.stack.pop()
                if self.scan:
                    self.append(_Scanned(cls))
                elif Parameter is not None and cls is Parameter:
                    self.append(Parameter(*args))
                elif is_allowed(cls):
                    self.append(cls.__new__(cls, *args))
                else:
                    raise UnpicklingError("Can only create new object for nn.Parameter or classes "
                                          "allowlisted via `add_safe_globals` but got %s" % (cls,))
            elif op == REDUCE[0]:
                args = self.stack.pop()
                func = self.stack[-1]
                if self.scan:
                    self.stack[-1] = _Scanned(func)
                    continue
                if not is_allowed(func):
                    msg = "Trying to call reduce for unrecognized function %s" % (func,)
                    if hasattr(func, "__self__"):
                        msg += " which belongs to %s" % (func.__self__,)
                    raise UnpicklingError(msg)
                self.stack[-1] = func(*args)
            elif op == BUILD[0]:
                state = self.stack.pop()
                inst = self.stack[-1]
                if self.scan:
                    continue
                if type(inst) is Tensor:
                    raise UnpicklingError("jtorch cannot rebuild a tensor from the legacy "
                                          "Tensor.set_ state in this checkpoint")
                if Parameter is not None and type(inst) is Parameter:
                    _set_obj_state(inst, state)
                elif type(inst) is OrderedDict:
                    inst.__dict__.update(state)
                elif is_allowed(type(inst)):
                    if hasattr(inst, "__setstate__"):
                        inst.__setstate__(state)
                    else:
                        # as pickle's load_build
                        slotstate = None
                        if isinstance(state, tuple) and len(state) == 2:
                            state, slotstate = state
                        if state:
                            inst.__dict__.update(state)
                        if slotstate:
                            for k, v in slotstate.items():
                                setattr(inst, k, v)
                else:
                    raise UnpicklingError("Can only build Tensor, Parameter, OrderedDict or types "
                                          "allowlisted via `add_safe_globals`, but got %s" % type(inst))
            # stack manipulation
            elif op == APPEND[0]:
                item = self.stack.pop()
                list_obj = self.stack[-1]
                if self.scan and type(list_obj) is not list:
                    continue
                if type(list_obj) is not list:
                    raise UnpicklingError("Can only append to lists, but got %s" % type(list_obj))
                list_obj.append(item)
            elif op == APPENDS[0]:
                items = self.pop_mark()
                list_obj = self.stack[-1]
                if self.scan and type(list_obj) is not list:
                    continue
                if type(list_obj) is not list:
                    raise UnpicklingError("Can only extend lists, but got %s" % type(list_obj))
                list_obj.extend(items)
            elif op == SETITEM[0]:
                v, k = self.stack.pop(), self.stack.pop()
                if self.scan and type(self.stack[-1]) not in (dict, OrderedDict, Counter):
                    continue
                self._check_set_item_target("SETITEM")
                self.stack[-1][k] = v
            elif op == SETITEMS[0]:
                items = self.pop_mark()
                if self.scan and type(self.stack[-1]) not in (dict, OrderedDict, Counter):
                    continue
                self._check_set_item_target("SETITEMS")
                for i in range(0, len(items), 2):
                    self.stack[-1][items[i]] = items[i + 1]
            elif op == MARK[0]:
                self.metastack.append(self.stack)
                self.stack = []
                self.append = self.stack.append
            elif op == TUPLE[0]:
                items = self.pop_mark()  # before looking up self.append: pop_mark rebinds it
                self.append(tuple(items))
            elif op == TUPLE1[0]:
                self.stack[-1] = (self.stack[-1],)
            elif op == TUPLE2[0]:
                self.stack[-2:] = [(self.stack[-2], self.stack[-1])]
            elif op == TUPLE3[0]:
                self.stack[-3:] = [(self.stack[-3], self.stack[-2], self.stack[-1])]
            # basic types
            elif op == NONE[0]:
                self.append(None)
            elif op == NEWFALSE[0]:
                self.append(False)
            elif op == NEWTRUE[0]:
                self.append(True)
            elif op == EMPTY_TUPLE[0]:
                self.append(())
            elif op == EMPTY_LIST[0]:
                self.append([])
            elif op == EMPTY_DICT[0]:
                self.append({})
            elif op == EMPTY_SET[0]:
                self.append(set())
            elif op == BININT[0]:
                self.append(unpack("<i", read(4))[0])
            elif op == BININT1[0]:
                self.append(self.read(1)[0])
            elif op == BININT2[0]:
                self.append(unpack("<H", read(2))[0])
            elif op == BINFLOAT[0]:
                self.append(unpack(">d", self.read(8))[0])
            elif op == BINUNICODE[0]:
                strlen = unpack("<I", read(4))[0]
                if strlen > maxsize:
                    raise UnpicklingError("String is too long")
                self.append(str(read(strlen), "utf-8", "surrogatepass"))
            elif op == SHORT_BINSTRING[0]:
                strdata = read(read(1)[0])
                if self.encoding != "bytes":
                    strdata = strdata.decode(self.encoding, "strict")
                self.append(strdata)
            elif op == BINPERSID[0]:
                pid = self.stack.pop()
                # only storages may be loaded by persistent id
                if type(pid) is not tuple and type(pid) is not int:
                    raise UnpicklingError("persistent_load id must be tuple or int, but got %s"
                                          % type(pid))
                if (not self.scan and type(pid) is tuple and len(pid) > 0
                        and _decode_ascii(pid[0]) != "storage"):
                    raise UnpicklingError("Only persistent_load of storage is allowed, but got %s"
                                          % type(pid[0]))
                self.append(self.persistent_load(pid))
            elif op in (BINGET[0], LONG_BINGET[0]):
                idx = (read(1) if op == BINGET[0] else unpack("<I", read(4)))[0]
                self.append(self.memo[idx])
            elif op in (BINPUT[0], LONG_BINPUT[0]):
                i = (read(1) if op == BINPUT[0] else unpack("<I", read(4)))[0]
                if i < 0:
                    raise ValueError("negative argument")
                self.memo[i] = self.stack[-1]
            elif op == LONG1[0]:
                n = read(1)[0]
                self.append(decode_long(read(n)))
            elif op == PROTO[0]:
                self.proto = read(1)[0]
                if self.proto != 2:
                    warnings.warn("Detected pickle protocol %d in the checkpoint, which was not the "
                                  "default pickle protocol used by `torch.load` (2). The weights_only "
                                  "Unpickler might not support all instructions implemented by this "
                                  "protocol, please file an issue for adding support if you encounter "
                                  "this." % self.proto, stacklevel=2)
            elif op == STOP[0]:
                return self.stack.pop()
            else:
                raise UnpicklingError("Unsupported operand %d" % op)

    def pop_mark(self):
        items = self.stack
        self.stack = self.metastack.pop()
        self.append = self.stack.append
        return items

    def _check_set_item_target(self, opcode):
        if type(self.stack[-1]) not in (dict, OrderedDict, Counter):
            raise UnpicklingError("Can only %s for dict, collections.OrderedDict, collections.Counter, "
                                  "but got %s" % (opcode, type(self.stack[-1])))

    def persistent_load(self, pid):
        raise UnpicklingError("unsupported persistent id encountered")


class _Scanned:
    """An object a scanning unpickler did not build: what it was made from (a global's name)."""
    __slots__ = ("origin",)

    def __init__(self, origin):
        self.origin = origin


def _decode_ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


def load(file, *, encoding="ASCII"):
    return Unpickler(file, encoding=encoding).load()
