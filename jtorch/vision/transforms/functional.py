"""torchvision.transforms.functional: the image functions behind the transforms.

Images are PIL images (pillow, the `vision` extra) or tensors of shape (..., C, H, W). PIL images
go through PIL exactly as torchvision sends them; tensors are computed in numpy on their values
(torchvision computes them with torch ops) and come back as tensors of the input's dtype and
device. Numpy is only an implementation device here: the results equal torchvision's (bit for bit
where torchvision's arithmetic is elementwise float32, within float tolerance for resampling).
"""
import numbers
import warnings
from collections.abc import Sequence
from enum import Enum

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize",
           "resize", "crop", "center_crop", "resized_crop", "hflip", "vflip", "pad", "rgb_to_grayscale",
           "to_grayscale", "get_dimensions", "get_image_size", "get_image_num_channels"]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("PIL images need pillow, jtorch's 'vision' extra: pip install 'jtorch[vision]'") from None
    return Image


def _is_pil(img):
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _interp(mode):
    if isinstance(mode, int):  # PIL's constants, which torchvision still accepts
        return {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}[mode]
    if not isinstance(mode, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return mode


def _pil_mode(mode):
    Image = _pil()
    return {InterpolationMode.NEAREST: Image.Resampling.NEAREST, InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
            InterpolationMode.BICUBIC: Image.Resampling.BICUBIC, InterpolationMode.BOX: Image.Resampling.BOX,
            InterpolationMode.HAMMING: Image.Resampling.HAMMING,
            InterpolationMode.LANCZOS: Image.Resampling.LANCZOS}[mode]


# -- tensors as numpy -------------------------------------------------------------------------------

def _np(t):
    """A tensor's values as numpy (no copy for CPU tensors)."""
    root = t if t._base is None else t._base
    if root._host is not None:
        return t._host_array()
    return np.asarray(t._value())


def _like(array, t, dtype=None):
    """A numpy result as a tensor on `t`'s device."""
    dtype = dtype or D.from_numpy_dtype(array.dtype)
    out = Tensor._from_host(np.ascontiguousarray(array), dtype)
    if t._device.type != "cpu":
        out = out.to(t._device)
    return out


def _check_tensor_image(img):
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img):
    """[channels, height, width]."""
    if isinstance(img, Tensor):
        _check_tensor_image(img)
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return [channels, img.shape[-2], img.shape[-1]]
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    raise TypeError("Unexpected type %s" % type(img))


def get_image_size(img):
    """[width, height]."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# -- conversions -----------------------------------------------------------------------------------

_MODE_TO_NP = {"I": np.int32, "I;16": np.int16, "I;16B": np.int16, "F": np.float32}


def to_tensor(pic):
    """A PIL image or HxWxC ndarray as a CxHxW tensor; uint8 data scaled to [0, 1] in the default float dtype."""
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError("pic should be PIL Image or ndarray. Got %s" % type(pic))
    if isinstance(pic, np.ndarray) and pic.ndim not in {2, 3}:
        raise ValueError("pic should be 2/3 dimensional. Got %d dimensions." % pic.ndim)
    float_dtype = D.get_default_dtype()
    if isinstance(pic, np.ndarray):
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = np.ascontiguousarray(pic.transpose((2, 0, 1)))
        if img.dtype == np.uint8:
            return Tensor._from_host(img.astype(float_dtype.np) / float_dtype.np.type(255), float_dtype)
        return Tensor._from_host(img)
    img = np.array(pic, _MODE_TO_NP.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        img = 255 * img
    img = img.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    img = np.ascontiguousarray(img.transpose((2, 0, 1)))
    if img.dtype == np.uint8:
        return Tensor._from_host(img.astype(float_dtype.np) / float_dtype.np.type(255), float_dtype)
    return Tensor._from_host(img)


def pil_to_tensor(pic):
    """A PIL image as a CxHxW tensor of its own dtype (uint8 for 8-bit images), not scaled."""
    if not _is_pil(pic):
        raise TypeError("pic should be PIL Image. Got %s" % type(pic))
    img = np.array(pic, _MODE_TO_NP.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        img = 255 * img
    img = img.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return Tensor._from_host(np.ascontiguousarray(img.transpose((2, 0, 1))))


def to_pil_image(pic, mode=None):
    """A CxHxW tensor or HxWxC ndarray as a PIL image; float data is scaled by 255 unless mode is 'F'."""
    Image = _pil()
    if isinstance(pic, Tensor):
        if pic.ndim not in {2, 3}:
            raise ValueError("pic should be 2/3 dimensional. Got %d dimensions." % pic.ndim)
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError("pic should not have > 4 channels. Got %d channels." % pic.shape[-3])
        arr = _np(pic)
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * np.float32(255) if arr.dtype == np.float32 else arr * 255).astype(np.uint8)
        npimg = np.transpose(arr, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in {2, 3}:
            raise ValueError("pic should be 2/3 dimensional. Got %d dimensions." % pic.ndim)
        if pic.ndim == 2:
            pic = np.expand_dims(pic, 2)
        if pic.shape[-1] > 4:
            raise ValueError("pic should not have > 4 channels. Got %d channels." % pic.shape[-1])
        npimg = pic
        if np.issubdtype(npimg.dtype, np.floating) and mode != "F":
            npimg = (npimg * 255).astype(np.uint8)
    else:
        raise TypeError("pic should be Tensor or ndarray. Got %s." % type(pic))

    if npimg.shape[2] == 1:
        expected_mode = None
        npimg = npimg[:, :, 0]
        if npimg.dtype == np.uint8:
            expected_mode = "L"
        elif npimg.dtype == np.int16:
            expected_mode = "I;16"
        elif npimg.dtype == np.int32:
            expected_mode = "I"
        elif npimg.dtype == np.float32:
            expected_mode = "F"
        if mode is not None and mode != expected_mode:
            raise ValueError("Incorrect mode (%s) supplied for input type %s. Should be %s"
                             % (mode, np.dtype, expected_mode))
        mode = expected_mode
    elif npimg.shape[2] == 2:
        permitted = ["LA"]
        if mode is not None and mode not in permitted:
            raise ValueError("Only modes %s are supported for 2D inputs" % permitted)
        if mode is None and npimg.dtype == np.uint8:
            mode = "LA"
    elif npimg.shape[2] == 4:
        permitted = ["RGBA", "CMYK", "RGBX"]
        if mode is not None and mode not in permitted:
            raise ValueError("Only modes %s are supported for 4D inputs" % permitted)
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGBA"
    else:
        permitted = ["RGB", "YCbCr", "HSV"]
        if mode is not None and mode not in permitted:
            raise ValueError("Only modes %s are supported for 3D inputs" % permitted)
        if mode is None and npimg.dtype == np.uint8:
            mode = "RGB"
    if mode is None:
        raise TypeError("Input type %s is not supported" % npimg.dtype)
    npimg = np.ascontiguousarray(npimg)
    img = Image.fromarray(npimg)
    if img.mode == mode:
        return img
    with warnings.catch_warnings():  # pillow deprecates fromarray's mode=, torchvision still passes it
        warnings.simplefilter("ignore")
        return Image.fromarray(npimg, mode=mode)


def _max_value(dtype):
    if dtype is D.uint8:
        return 255
    if dtype is D.int8:
        return 127
    if dtype is D.int16:
        return 32767
    if dtype is D.int32:
        return 2147483647
    if dtype is D.int64:
        return 9223372036854775807
    return 1


def convert_image_dtype(image, dtype=D.float32):
    """Convert a tensor image to `dtype`, rescaling values: [0, 1] floats <-> [0, max] integers."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    if image.dtype is dtype:
        return image
    arr = _np(image)
    if image.dtype.is_floating_point:
        if dtype.is_floating_point:
            return _like(arr.astype(dtype.np), image, dtype)
        if (image.dtype is D.float32 and dtype in (D.int32, D.int64)) or (image.dtype is D.float64 and dtype is D.int64):
            raise RuntimeError("The cast from %s to %s cannot be performed safely." % (image.dtype, dtype))
        eps = 1e-3
        max_val = float(_max_value(dtype))
        result = arr * arr.dtype.type(max_val + 1.0 - eps)
        return _like(result.astype(dtype.np), image, dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return _like(arr.astype(dtype.np) / dtype.np.type(input_max), image, dtype)
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return _like(np.floor_divide(arr, factor).astype(dtype.np), image, dtype)
    factor = int((output_max + 1) // (input_max + 1))
    return _like(arr.astype(dtype.np) * dtype.np.type(factor), image, dtype)


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel, in the tensor's dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError("img should be Tensor Image. Got %s" % type(tensor))
    if not tensor.is_floating_point():
        raise TypeError("Input tensor should be a float tensor. Got %s." % tensor.dtype)
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = %s"
                         % (tensor.size(),))
    if tensor._requires_grad:
        from ...ops.creation import as_tensor
        m = as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
        s = as_tensor(std, dtype=tensor.dtype, device=tensor.device)
        if bool((s == 0).any()):
            raise ValueError("std evaluated to zero after conversion to %s, leading to division by zero."
                             % tensor.dtype)
        m = m.view(-1, 1, 1) if m.ndim == 1 else m
        s = s.view(-1, 1, 1) if s.ndim == 1 else s
        return tensor.sub_(m).div_(s) if inplace else (tensor - m) / s
    dt = tensor.dtype.np
    m = np.asarray(_np(mean) if isinstance(mean, Tensor) else mean, dtype=dt)
    s = np.asarray(_np(std) if isinstance(std, Tensor) else std, dtype=dt)
    if (s == 0).any():
        raise ValueError("std evaluated to zero after conversion to %s, leading to division by zero." % tensor.dtype)
    if m.ndim == 1:
        m = m.reshape(-1, 1, 1)
    if s.ndim == 1:
        s = s.reshape(-1, 1, 1)
    out = (_np(tensor) - m) / s
    if inplace:
        tensor._write(_like(out.astype(dt), tensor)._value())
        return tensor
    return _like(out.astype(dt), tensor, tensor.dtype)


# -- geometry --------------------------------------------------------------------------------------

def _compute_resized_output_size(image_size, size, max_size=None):
    h, w = image_size
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        requested_new_short = size[0]
        new_short, new_long = requested_new_short, int(requested_new_short * long / short)
        if max_size is not None:
            if max_size <= requested_new_short:
                raise ValueError("max_size = %d must be strictly greater than the requested size for the smaller "
                                 "edge size = %s" % (max_size, size))
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        new_w, new_h = size[1], size[0]
    return [new_h, new_w]


def _linear_weights(in_size, out_size, antialias):
    """(index, weight) matrices of torch's bilinear resampling along one axis (align_corners=False)."""
    scale = in_size / out_size
    if antialias and scale > 1.0:
        support = scale  # bilinear's support 1, stretched by the scale (PIL and torch's _aa kernels)
        invscale = 1.0 / scale
        rows = []
        for i in range(out_size):
            center = scale * (i + 0.5)
            xmin = max(int(center - support + 0.5), 0)
            xmax = min(int(center + support + 0.5), in_size)
            xs = np.arange(xmin, xmax)
            w = np.maximum(0.0, 1.0 - np.abs((xs - center + 0.5) * invscale))
            total = w.sum()
            rows.append((xs, w / total if total != 0 else w))
        width = max(len(x) for x, _ in rows)
        idx = np.zeros((out_size, width), np.int64)
        wts = np.zeros((out_size, width), np.float64)
        for i, (xs, w) in enumerate(rows):
            idx[i, :len(xs)] = xs
            wts[i, :len(xs)] = w
        return idx, wts
    src = (np.arange(out_size) + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    l1 = src - i0
    return np.stack([i0, i1], 1), np.stack([1.0 - l1, l1], 1)


def _nearest_index(in_size, out_size):
    scale = np.float32(in_size) / np.float32(out_size)
    return np.minimum(np.floor(np.arange(out_size, dtype=np.float32) * scale).astype(np.int64), in_size - 1)


def _resize_array(arr, out_h, out_w, mode, antialias):
    """Resample the last two axes of a float array as torch.nn.functional.interpolate does."""
    if mode is InterpolationMode.NEAREST:
        return arr[..., _nearest_index(arr.shape[-2], out_h)[:, None], _nearest_index(arr.shape[-1], out_w)[None, :]]
    if mode is not InterpolationMode.BILINEAR:
        raise NotImplementedError("resize of tensor images with %s interpolation is not implemented by jtorch "
                                  "(bilinear and nearest are; PIL images support every mode)" % mode.value)
    acc = np.float64 if arr.dtype == np.float64 else np.float32
    idx, w = _linear_weights(arr.shape[-1], out_w, antialias)
    arr = (arr[..., idx] * w.astype(acc)).sum(-1)                  # along the width
    idx, w = _linear_weights(arr.shape[-2], out_h, antialias)
    arr = np.moveaxis(arr, -2, -1)
    arr = (arr[..., idx] * w.astype(acc)).sum(-1)                  # along the height
    return np.moveaxis(arr, -1, -2)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to `size` ((h, w), or an int for the smaller edge, keeping the aspect ratio)."""
    interpolation = _interp(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in [1, 2]:
            raise ValueError("Size must be an int or a 1 or 2 element tuple/list, not a %d element tuple/list"
                             % len(size))
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    _, image_height, image_width = get_dimensions(img)
    if isinstance(size, int):
        size = [size]
    output_size = _compute_resized_output_size((image_height, image_width), list(size), max_size)
    if [image_height, image_width] == output_size:
        return img
    if _is_pil(img):
        return img.resize(tuple(output_size[::-1]), _pil_mode(interpolation))
    arr = _np(img)
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[None]
    out_dtype = arr.dtype
    work = arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float32)
    out = _resize_array(work, output_size[0], output_size[1], interpolation, antialias)
    if out_dtype.kind in "iu":
        out = np.round(out)
    out = out.astype(out_dtype)
    if squeeze:
        out = out[0]
    return _like(out, img, img.dtype)


def _parse_padding(padding):
    if isinstance(padding, numbers.Number):
        return [padding] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a %d element tuple" % len(padding))


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: padding is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _parse_padding(padding)
    fill = 0 if fill is None else fill
    if _is_pil(img):
        Image = _pil()
        if padding_mode == "constant":
            from PIL import ImageOps
            if img.mode == "P":
                palette = img.getpalette()
                out = ImageOps.expand(img, border=(left, top, right, bottom), fill=fill)
                out.putpalette(palette)
                return out
            if isinstance(fill, (tuple, list)):
                fill = tuple(fill) if len(fill) > 1 else fill[0]
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=fill)
        arr = np.asarray(img)
        widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
        out = Image.fromarray(np.pad(arr, widths, padding_mode))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    arr = _np(img)
    widths = [(0, 0)] * (arr.ndim - 2)
    if min(left, top, right, bottom) < 0:  # negative padding crops, as torch.nn.functional.pad does
        h, w = arr.shape[-2:]
        arr = arr[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    widths += [(top, bottom), (left, right)]
    if padding_mode == "constant":
        out = np.pad(arr, widths, "constant", constant_values=np.asarray(fill).astype(arr.dtype) if
                     isinstance(fill, numbers.Number) else 0)
        if not isinstance(fill, numbers.Number):  # a per-channel fill
            f = np.asarray(fill, arr.dtype).reshape(-1, 1, 1)
            mask = np.ones(out.shape[-2:], bool)
            mask[top:top + arr.shape[-2], left:left + arr.shape[-1]] = False
            out = np.where(mask, f, out)
    else:
        out = np.pad(arr, widths, padding_mode)
    return _like(out, img, img.dtype)


def crop(img, top, left, height, width):
    """The (height x width) region at (top, left); outside the image is zero, as torchvision pads."""
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0), max(right - max(w, left), 0),
                        max(bottom - max(h, top), 0)]
        inner = _like(_np(img)[..., max(top, 0):bottom, max(left, 0):right], img, img.dtype)
        return pad(inner, padding_ltrb, fill=0)
    return _like(_np(img)[..., top:bottom, left:right], img, img.dtype)


def center_crop(img, output_size):
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = output_size
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height) // 2 if crop_height > image_height else 0,
                        (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height + 1) // 2 if crop_height > image_height else 0]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_LEFT_RIGHT)
    _check_tensor_image(img)
    return _like(_np(img)[..., ::-1], img, img.dtype)


def vflip(img):
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_TOP_BOTTOM)
    _check_tensor_image(img)
    return _like(_np(img)[..., ::-1, :], img, img.dtype)


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B (in float, then cast back to the image's dtype)."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        Image = _pil()
        img = img.convert("L")
        if num_output_channels == 3:
            a = np.array(img, dtype=np.uint8)
            img = Image.fromarray(np.dstack([a, a, a]))
        return img
    if img.ndim < 3:
        raise TypeError("Input image tensor should have at least 3 dimensions, but found %d" % img.ndim)
    c = img.shape[-3]
    if c not in (1, 3):
        raise TypeError("Input image tensor permitted channel values are [1, 3], but found %d" % c)
    arr = _np(img)
    if c == 3:
        f = arr.dtype if arr.dtype.kind == "f" else np.dtype(D.get_default_dtype().np)
        r, g, b = (arr[..., i, :, :].astype(f) for i in range(3))
        luma = (f.type(0.2989) * r + f.type(0.587) * g + f.type(0.114) * b).astype(arr.dtype)[..., None, :, :]
    else:
        luma = arr.copy()
    if num_output_channels == 3:
        luma = np.broadcast_to(luma, arr.shape[:-3] + (3,) + arr.shape[-2:])
    return _like(luma, img, img.dtype)


def to_grayscale(img, num_output_channels=1):
    if not _is_pil(img):
        raise TypeError("Input should be PIL Image")
    return rgb_to_grayscale(img, num_output_channels)


def _setup_size(size, error_msg):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size

