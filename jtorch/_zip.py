"""The zip container of torch.save files, written byte for byte as PyTorch's writer (miniz inside
caffe2's PyTorchStreamWriter) writes it, and read by the same rules as PyTorchStreamReader.

Layout: every record sits in one top-level folder (the archive name); entries are stored
uncompressed, each local header carries a "FB" extra field padded with 'Z' so that the record's
data starts at a multiple of 64 bytes (which is what lets torch mmap storages), sizes and CRC follow
in a data descriptor (flag bit 3), and the end of the archive always has zip64 end records.
"""
import struct
import zipfile
import zlib

ALIGNMENT = 64
_U32 = 0xFFFFFFFF
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_DESC32 = struct.Struct("<4sIII")
_DESC64 = struct.Struct("<4sIQQ")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_LOC64 = struct.Struct("<4sIQI")
_EOCD = struct.Struct("<4sHHHHIIH")
_UTF8 = 0x0800        # names are UTF-8
_DESCRIPTOR = 0x0008  # sizes and CRC follow the data (miniz leaves it out for empty records)

CORRUPT_HINT = (" This is an internal miniz error. If you are seeing this error, there is a high "
                "likelihood that your checkpoint file is corrupted. This can happen if the checkpoint "
                "was not saved properly, was transferred incorrectly, or the file was modified after "
                "saving.")


class ZipWriter:
    """Writes records sequentially to `f` (which need not be seekable)."""

    def __init__(self, f, archive_name):
        self._f = f
        self._pos = 0
        self._entries = []
        self._prefix = archive_name + "/"

    def _put(self, data):
        self._f.write(data)
        self._pos += len(data)

    def write_record(self, name, data):
        data = memoryview(data).cast("B")
        name_b = (self._prefix + name).encode("utf-8")
        size, offset = data.nbytes, self._pos
        fields = b""
        if size >= _U32:
            fields += struct.pack("<QQ", size, size)
        if offset >= _U32:
            fields += struct.pack("<Q", offset)
        zip64 = struct.pack("<HH", 1, len(fields)) + fields if fields else b""
        pad = -(offset + _LOCAL.size + len(name_b) + len(zip64) + 4) % ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", pad) + b"Z" * pad
        crc = zlib.crc32(data)
        flags = _UTF8 | (_DESCRIPTOR if size else 0)
        self._put(_LOCAL.pack(b"PK\x03\x04", 0, flags, 0, 0, 0, 0, 0, 0, len(name_b), len(extra)))
        self._put(name_b)
        self._put(extra)
        self._f.write(data)
        self._pos += size
        if zip64:
            self._put(_DESC64.pack(b"PK\x07\x08", crc, size, size))
        elif size:
            self._put(_DESC32.pack(b"PK\x07\x08", crc, size, size))
        self._entries.append((name_b, crc, size, offset, zip64, flags))

    def close(self):
        start = self._pos
        for name_b, crc, size, offset, zip64, flags in self._entries:
            small = _U32 if size >= _U32 else size
            self._put(_CENTRAL.pack(b"PK\x01\x02", 0, 0, flags, 0, 0, 0, crc, small, small,
                                    len(name_b), len(zip64), 0, 0, 0, 0, min(offset, _U32)))
            self._put(name_b)
            self._put(zip64)
        n, cd_size, eocd64 = len(self._entries), self._pos - start, self._pos
        self._put(_EOCD64.pack(b"PK\x06\x06", _EOCD64.size - 12, 0x031E, 0x002D, 0, 0, n, n,
                               cd_size, start))
        self._put(_LOC64.pack(b"PK\x06\x07", 0, eocd64, 1))
        self._put(_EOCD.pack(b"PK\x05\x06", 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                             min(cd_size, _U32), min(start, _U32), 0))


class ZipReader:
    """Finds records by name inside the archive folder; reads their bytes (checking the CRC that
    the file records) or hands out their offsets for memory mapping."""

    def __init__(self, f, display_name):
        self._f = f
        self._name = display_name
        try:
            self._zip = zipfile.ZipFile(f)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                struct.error, IndexError) as e:
            raise self._corrupt("zip archive", "failed finding central directory (%s)" % e) from None
        if not infos:
            raise self._corrupt("zip archive", "archive does not contain any files")
        first = infos[0].filename
        if "/" not in first:
            raise self._corrupt("zip archive", "file in archive is not in a subdirectory: " + first)
        prefix = first[:first.index("/") + 1]
        self.archive_name = prefix[:-1]
        self._records = {i.filename[len(prefix):]: i for i in infos if i.filename.startswith(prefix)}

    def _corrupt(self, what, detail):
        where = " '%s'" % self._name if self._name else ""
        return RuntimeError("PytorchStreamReader failed reading %s%s: %s.%s"
                            % (what, where, detail, CORRUPT_HINT))

    def has_record(self, name):
        return name in self._records

    def record_names(self):
        return list(self._records)

    def locate(self, name):
        """(byte offset of the record's data in the file, size in bytes, crc32)."""
        info = self._records.get(name)
        if info is None:
            raise RuntimeError("PytorchStreamReader failed locating file %s: file not found%s"
                               % (name, " in '%s'" % self._name if self._name else ""))
        self._f.seek(info.header_offset)
        header = self._f.read(_LOCAL.size)
        if len(header) != _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise self._corrupt("file " + name, "invalid header or archive is corrupted")
        fields = _LOCAL.unpack(header)
        return info.header_offset + _LOCAL.size + fields[9] + fields[10], info.file_size, info.CRC

    def read(self, name, out=None):
        """The record's bytes, into `out` (a writable buffer of the right size) when given."""
        offset, size, crc = self.locate(name)
        if out is None:
            out = bytearray(size)
        view = memoryview(out).cast("B")
        if view.nbytes != size:
            raise self._corrupt("file " + name, "size mismatch (expected %d bytes, file records %d)"
                                % (view.nbytes, size))
        self._f.seek(offset)
        got = self._f.readinto(view) if hasattr(self._f, "readinto") else None
        if got is None:
            chunk = self._f.read(size)
            got = len(chunk)
            view[:got] = chunk
        if got != size:
            raise self._corrupt("file " + name, "unexpected end of file")
        # torch.save writes a CRC unless told not to (then it is 0); a mismatch means corruption
        if crc and zlib.crc32(view) != crc:
            raise self._corrupt("file " + name, "CRC-32 check failed, the data is corrupted")
        return out
