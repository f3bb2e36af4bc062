"""torch.save / torch.load in PyTorch's own file format, both ways (DESIGN 11).

NOTE [Checkpoint files]
A checkpoint is a zip archive (see _zip.py) holding `data.pkl`, a pickle of the saved object, and one
record `data/<key>` of raw bytes per storage. The pickle never names jtorch: a tensor is written as
torch writes it, `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
requires_grad, OrderedDict())`, the storage as the persistent id
`('storage', torch.FloatStorage, key, location, numel)`, a Parameter as
`torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict())`, dtypes as `torch.float32`,
and every other jtorch class or function under its torch name (`jtorch.nn.modules.linear.Linear`
is written `torch.nn.modules.linear.Linear`). jtorch never imports torch, so those names are
written by a pickler that emits them directly (`_Global`).

Storages are jtorch's roots (NOTE [Views and version counters]): a tensor's storage is its root's
value, flattened; a view is saved as a window (offset, size, stride) into it, so views that share a
root are saved once and load as views of one root again. On load, the first tensor of a storage that
covers it exactly and contiguously becomes the root; any other tensor of that storage becomes a
strided view of the root (a hidden flat root when no tensor covers the whole storage).

Loading by name maps every `torch.*` global to jtorch's object of the same name; with
`weights_only=True` (the default, as in torch >= 2.6) only the allow-list in
_weights_only_unpickler.py is accepted. Whole objects (`torch.save(model)`, loaded with
`weights_only=False`) cross over too: a jtorch file rebuilds torch's modules in torch, and a torch
file rebuilds jtorch's modules in jtorch, because jtorch's classes carry torch's names and
nn.Module keeps torch's attribute layout; a torch class that jtorch lacks fails with an
AttributeError that names it.

Files: _zip.py (the container), _pickler.py (saving: torch's names, tensor reduction),
_rebuild.py (loading: names to objects, storages, rebuild functions, map_location),
_weights_only_unpickler.py (the allow-list), this file (the public functions, atomic writes).
"""
import contextlib
import hashlib
import io
import os
import pickle
import re
import stat
import struct
import sys
import warnings

import numpy as np

from . import _weights_only_unpickler
from ._pickler import _Saver, _pickler_class, _root_bytes
from ._rebuild import (StorageType, _STORAGE_DTYPES, _full_unpickler_class, _LegacySource,  # noqa: F401
                       _Loader, _ZipSource)
from ._zip import ZipReader, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "get_unsafe_globals_in_checkpoint", "DEFAULT_PROTOCOL", "StorageType"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
    "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
    "trusted source.")

_FILE_FORMAT_VERSION = b"3\n"      # the `version` record torch 2.x writes for torch.save
_STORAGE_ALIGNMENT = b"64"

# -- safe globals (torch.serialization's public names) -----------------------------------------


def clear_safe_globals():
    """Clears the list of globals that are safe for ``weights_only`` load."""
    _weights_only_unpickler.marks.clear()


def get_safe_globals():
    """Returns the list of user-added globals that are safe for ``weights_only`` load."""
    return _weights_only_unpickler.marks.listed()


def add_safe_globals(safe_globals):
    """Marks the given globals (or `(global, "module.name")` pairs) as safe for weights_only load."""
    _weights_only_unpickler.marks.add(safe_globals)


class safe_globals(_weights_only_unpickler.marked):
    """Context manager that adds globals as safe for ``weights_only`` load."""


def get_unsafe_globals_in_checkpoint(f):
    """The `module.name` globals in a checkpoint that weights_only load would refuse."""
    with _open_reader(f) as (fh, name):
        reader = ZipReader(fh, name)
        found = _weights_only_unpickler.globals_named_in(io.BytesIO(bytes(reader.read("data.pkl"))))
    safe = set(_weights_only_unpickler._get_allowed_globals()) | set(
        _weights_only_unpickler.marks.by_name())
    return list(found - safe)


def _archive_name(path):
    """The folder inside the zip: torch uses the file's base name without extension (ASCII only)."""
    try:
        path.encode("ascii")
    except UnicodeEncodeError:
        return "archive"
    base = re.split(r"[\\/]", path)[-1]
    return base.rpartition(".")[0] if "." in base else base


def _write_archive(fh, archive_name, pickled, saver, byteorder_record):
    writer = ZipWriter(fh, archive_name)
    writer.write_record("data.pkl", pickled)
    writer.write_record(".format_version", b"1")
    writer.write_record(".storage_alignment", _STORAGE_ALIGNMENT)
    if byteorder_record:
        writer.write_record("byteorder", sys.byteorder.encode())
    for key, root in saver.roots.items():
        writer.write_record("data/" + key, _root_bytes(root))
    writer.write_record("version", _FILE_FORMAT_VERSION)
    if not byteorder_record:
        # torch's C++ writer adds the record at the end of the file when save() left it out
        writer.write_record("byteorder", sys.byteorder.encode())
    # 40 digits as torch's: a hash of the record names, then a random number
    names = hashlib.blake2b(("\n".join(saver.roots)).encode(), digest_size=8).digest()
    writer.write_record(".data/serialization_id", b"%020d%020d" % (
        int.from_bytes(names, "little"), int.from_bytes(os.urandom(8), "little")))
    writer.close()


def _atomic_write(path, write):
    """Write through a temporary file in the target's folder, fsync it, then rename it over the
    target: a crash leaves either the old file or the new one, never a truncated checkpoint."""
    target = os.path.realpath(path) if os.path.islink(path) else path
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise RuntimeError("Parent directory %s does not exist." % os.path.dirname(target))
    if os.path.isdir(target):
        raise RuntimeError("File %s cannot be opened: it is a directory." % path)
    base = os.path.basename(target)
    for _ in range(100):
        tmp = os.path.join(folder, ".%s.%s.tmp" % (base, os.urandom(4).hex()))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise RuntimeError("File %s cannot be opened: %s" % (path, e.strerror)) from None
    else:
        raise RuntimeError("File %s cannot be opened: no free temporary name" % path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(target):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Saves an object to a disk file in PyTorch's format (PyTorch's torch.load reads it).

    Differs from torch: saving to a path is atomic (temporary file, fsync, rename), so an existing
    file is never left half-overwritten."""
    if not isinstance(f, (str, os.PathLike)) and not hasattr(f, "write"):
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a 'write' "
                             "attribute")
    legacy = not _use_new_zipfile_serialization
    saver = _Saver(legacy=legacy)
    buf = io.BytesIO()
    if legacy:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, _SYS_INFO):
            pickle.dump(header, buf, protocol=pickle_protocol)
    base = getattr(pickle_module, "_Pickler", None)
    if base is None or not hasattr(base, "dispatch"):
        base = pickle_module.Pickler if hasattr(pickle_module.Pickler, "dispatch") else pickle._Pickler
    _pickler_class(base)(buf, pickle_protocol, saver).dump(obj)
    if legacy:
        pickle.dump(sorted(saver.roots), buf, protocol=pickle_protocol)
    pickled = buf.getbuffer()
    byteorder = not _disable_byteorder_record

    def write(fh, archive_name):
        if legacy:
            _write_legacy(fh, pickled, saver)
        else:
            _write_archive(fh, archive_name, pickled, saver, byteorder)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        _atomic_write(path, lambda fh: write(fh, _archive_name(path)))
    else:
        if not callable(getattr(f, "write", None)):
            raise TypeError("Buffer of %s has no callable attribute 'write'" % str(type(f)).strip("<>"))
        write(f, "archive")
        if hasattr(f, "flush"):
            f.flush()


# the legacy format (PyTorch < 1.6): pickled header, the object's pickle, its storage keys, then
# each storage (in key order) as its element count (int64) and its bytes, in the machine's order
_SYS_INFO = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
             "type_sizes": {"short": struct.calcsize("=h"), "int": struct.calcsize("=i"),
                            "long": struct.calcsize("=l")}}


def _write_legacy(fh, pickled, saver):
    fh.write(pickled)
    for key in sorted(saver.roots):
        data = _root_bytes(saver.roots[key])
        fh.write(struct.pack("=q", saver.roots[key].numel()))
        fh.write(memoryview(data))


# -- loading --------------------------------------------------------------------------------------


def _legacy_source(fh, name):
    """A legacy checkpoint's storages: their keys and dtypes (by walking the pickle without building
    anything) and where each one's data lies."""
    def header():
        return _weights_only_unpickler.Unpickler(fh, encoding="utf-8").load()
    where = "'%s'" % name if name else "the given buffer"
    try:
        magic = header()
    except Exception:
        magic = None
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file? %s is neither a zip checkpoint nor a "
                           "legacy torch.save file (the older tar format is not supported)" % where)
    dtypes = {}

    def record(pid):
        if type(pid) is tuple and len(pid) >= 5 and _weights_only_unpickler._decode_ascii(pid[0]) == "storage":
            storage_type = getattr(pid[1], "origin", "")
            dtypes[pid[2]] = _STORAGE_DTYPES.get(str(storage_type).rpartition(".")[2])
        return None
    try:
        version = header()
        if version != PROTOCOL_VERSION:
            raise RuntimeError("Invalid protocol version: %s" % (version,))
        sys_info = header()
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        start = fh.tell()
        scanner = _weights_only_unpickler.Unpickler(fh, encoding="utf-8", scan=True)
        scanner.persistent_load = record
        scanner.load()
        end = fh.tell()
        keys = header()
        offsets = {}
        for key in keys:
            raw = fh.read(8)
            if len(raw) != 8 or dtypes.get(key) is None:
                raise RuntimeError("storage %s" % key)
            numel = struct.unpack(("<q" if little else ">q"), raw)[0]
            offsets[key] = (fh.tell(), numel)
            fh.seek(numel * dtypes[key].itemsize, 1)
    except Exception as e:
        raise RuntimeError("%s is a corrupted or truncated legacy checkpoint (%s: %s)"
                           % (where, type(e).__name__, e)) from None
    fh.seek(start)
    pickled = fh.read(end - start)
    return _LegacySource(fh, pickled, offsets, little != (sys.byteorder == "little"), name)


def _weights_only_message(message):
    docs = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default "
            "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        updated = ("Weights only load failed. This file can still be loaded, to do so you have two "
                   "options, \033[1mdo those steps only if you trust the source of the checkpoint"
                   "\033[0m. \n\t(1) %s\n\t(2) Alternatively, to load with `weights_only=True` please "
                   "check the recommended steps in the following error message.\n\tWeightsUnpickler "
                   "error: " % UNSAFE_MESSAGE + message)
    else:
        if re.search(r"(\S+) must be (\S+) to load", message):
            return "Weights only load failed. %s\n %s\n" % (message, UNSAFE_MESSAGE)
        updated = "Weights only load failed. %s\n" % UNSAFE_MESSAGE
        if not re.search(r"whose module (\S+) is blocked", message):
            updated += ("Please file an issue with the following so that we can make "
                        "`weights_only=True` compatible with your use case: WeightsUnpickler error: ")
        updated += "\n\n" + message
    return updated + docs


@contextlib.contextmanager
def _open_reader(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, os.fspath(f)
        return
    for attr in ("seek", "tell", "read"):
        if not callable(getattr(f, attr, None)):
            raise AttributeError("'%s' object has no attribute '%s'. You can only torch.load from a "
                                 "file that is seekable. Please pre-load the data into a buffer like "
                                 "io.BytesIO and try to load from it instead." % (type(f).__name__, attr))
    yield f, getattr(f, "name", None) if isinstance(getattr(f, "name", None), str) else None


def _is_zipfile(fh):
    start = fh.tell()
    magic = fh.read(4)
    fh.seek(start)
    return magic == b"PK\x03\x04"


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Loads an object saved with torch.save (by PyTorch or jtorch) from a file.

    Differs from torch: the data of every record is checked against the CRC-32 the file records
    (torch does not check it), so a corrupted checkpoint fails loudly; TorchScript archives and
    the tar format of PyTorch < 0.4 are not read (the legacy format of PyTorch < 1.6 is). A whole
    object pickled by torch (weights_only=False) is rebuilt from jtorch's classes of the same torch
    names; that works when the jtorch class keeps torch's attribute layout (nn.Module does)."""
    weights_only_not_set = weights_only is None
    if weights_only_not_set:
        weights_only = pickle_module is None
    true_values = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in true_values
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force:
        weights_only = True
    elif force_no and weights_only_not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the"
                      "`weights_only` argument was not explicitly passed to `torch.load`, forcing "
                      "weights_only=False.", UserWarning, stacklevel=2)
        weights_only = False
    if weights_only:
        if pickle_module is not None:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    elif pickle_module is None:
        pickle_module = pickle
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")

    with _open_reader(f) as (fh, name):
        if _is_zipfile(fh):
            reader = ZipReader(fh, name)
            if reader.has_record("constants.pkl"):
                raise RuntimeError("%s is a TorchScript archive (torch.jit.save); jtorch cannot load "
                                   "TorchScript" % (name or "this file"))
            mapped = np.memmap(os.fspath(f), dtype=np.uint8, mode="c") if mmap else None
            source = _ZipSource(reader, mapped)
        else:
            start = fh.tell()
            if not fh.read(1):
                raise EOFError("Ran out of input: %s is empty" % ("'%s'" % name if name else
                                                                  "the given buffer"))
            if mmap:
                raise RuntimeError("mmap can only be used with files saved with `torch.save(%s"
                                   "_use_new_zipfile_serialization=True), please torch.save your "
                                   "checkpoint with this option in order to use mmap."
                                   % (name + ", " if name else ""))
            fh.seek(start)
            source = _legacy_source(fh, name)
        loader = _Loader(source, map_location)
        if weights_only:
            try:
                return loader.load(_weights_only_unpickler.Unpickler,
                                   {"encoding": pickle_load_args["encoding"]})
            except pickle.UnpicklingError as e:
                raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        return loader.load(_full_unpickler_class(pickle_module.Unpickler), pickle_load_args)
