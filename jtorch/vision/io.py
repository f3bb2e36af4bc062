"""torchvision.io's image functions: read_image / decode_image give uint8 CxHxW tensors, decoded by pillow
(the `vision` extra) where torchvision uses libpng / libjpeg. Pillow's JPEG decoder is the same libjpeg-turbo
with the same defaults. 16-bit PNGs come back as int32 tensors (jtorch has no uint16 dtype)."""
import io
from enum import Enum

import numpy as np

from .._tensor import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "decode_png", "decode_jpeg", "read_image",
           "encode_png", "encode_jpeg", "write_png", "write_jpeg"]


class ImageReadMode(Enum):
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
          ImageReadMode.RGB_ALPHA: "RGBA"}


def _mode(mode):
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError("Unknown image read mode %r" % mode) from None
    return mode


def read_file(path):
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return Tensor._from_host(np.frombuffer(f.read(), dtype=np.uint8).copy())


def write_file(filename, data):
    with open(filename, "wb") as f:
        f.write(np.asarray(data).astype(np.uint8).tobytes())


def _decode(data, mode, apply_exif_orientation=False):
    from PIL import Image, ImageOps
    if isinstance(data, Tensor):
        if data.dtype.name != "uint8" or data.ndim != 1:
            raise RuntimeError("Expected a 1 dimensional uint8 tensor of encoded bytes, got %s of shape %s"
                               % (data.dtype, tuple(data.shape)))
        data = np.asarray(data).tobytes()
    img = Image.open(io.BytesIO(data))
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    mode = _mode(mode)
    if mode is ImageReadMode.UNCHANGED:
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode == "PA":
            img = img.convert("RGBA")
        elif img.mode in ("CMYK", "YCbCr"):
            img = img.convert("RGB")
    else:
        img = img.convert(_MODES[mode])
    arr = np.asarray(img)
    if arr.dtype not in (np.uint8,):
        arr = arr.astype(np.int32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return Tensor._from_host(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode PNG/JPEG/... bytes (a uint8 tensor, or a path as torchvision also accepts) to a CxHxW tensor."""
    if isinstance(input, str):
        return read_image(input, mode, apply_exif_orientation)
    return _decode(input, mode, apply_exif_orientation)


decode_png = decode_image
decode_jpeg = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """An image file (PNG, JPEG, ...) as a uint8 tensor of shape (C, H, W): C = 1 gray, 2 gray+alpha, 3 RGB,
    4 RGBA, as stored unless `mode` asks for a conversion."""
    with open(path, "rb") as f:
        return _decode(f.read(), mode, apply_exif_orientation)


def _to_pil(input):
    from PIL import Image
    arr = np.asarray(input)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3) or arr.dtype != np.uint8:
        raise RuntimeError("The input tensor must be a uint8 tensor of shape (C, H, W) with C = 1 or 3, got %s %s"
                           % (arr.dtype, arr.shape))
    arr = arr.transpose(1, 2, 0)
    return Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))


def encode_png(input, compression_level=6):
    buf = io.BytesIO()
    _to_pil(input).save(buf, format="PNG", compress_level=compression_level)
    return Tensor._from_host(np.frombuffer(buf.getvalue(), np.uint8).copy())


def encode_jpeg(input, quality=75):
    buf = io.BytesIO()
    _to_pil(input).save(buf, format="JPEG", quality=quality)
    return Tensor._from_host(np.frombuffer(buf.getvalue(), np.uint8).copy())


def write_png(input, filename, compression_level=6):
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    write_file(filename, encode_jpeg(input, quality))
