"""torchvision.transforms: the transform classes tutorials use, with torchvision's arguments, reprs and
random draws. Random transforms draw from jtorch's default generator exactly where torchvision draws
from torch's (`torch.rand(1) < p`, `torch.randint(...)`, `torch.empty(1).uniform_(...)`), so after
the same manual_seed they make the same choices.

Unlike torchvision, the classes are plain callables rather than nn.Module subclasses (they hold no
parameters; `forward` is there for code that calls it)."""
import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from . import functional as F
from .functional import InterpolationMode, _setup_size

__all__ = ["Compose", "ToTensor", "PILToTensor", "ConvertImageDtype", "ToPILImage", "Normalize", "Resize",
           "CenterCrop", "Pad", "Lambda", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "RandomResizedCrop", "Grayscale", "RandomApply", "InterpolationMode"]


def _core():
    from ...ops.random import default_generator
    return default_generator._core


def _rand1():
    """torch.rand(1).item()'s float32 value."""
    return _core().uniform((1,), 0.0, 1.0, np.float32)[0]


def _randint(low, high):
    """torch.randint(low, high, size=(1,)).item()"""
    return int(_core().randint(low, high, (1,), np.int64)[0])


class _Transform:
    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        format_string = self.__class__.__name__ + "("
        for t in self.transforms:
            format_string += "\n"
            format_string += "    {0}".format(t)
        format_string += "\n)"
        return format_string


class ToTensor:
    """PIL image / HxWxC ndarray -> CxHxW float tensor in [0, 1] (uint8 input scaled by 1/255)."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return self.__class__.__name__ + "()"


class PILToTensor:
    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return self.__class__.__name__ + "()"


class ConvertImageDtype(_Transform):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return self.__class__.__name__ + "()"


class ToPILImage:
    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        format_string = self.__class__.__name__ + "("
        if self.mode is not None:
            format_string += "mode=%s" % self.mode
        return format_string + ")"


class Normalize(_Transform):
    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return "%s(mean=%s, std=%s)" % (self.__class__.__name__, self.mean, self.std)


class Resize(_Transform):
    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not isinstance(size, (int, Sequence)):
            raise TypeError("Size should be int or sequence. Got %s" % type(size))
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interp(interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return "%s(size=%s, interpolation=%s, max_size=%s, antialias=%s)" % (
            self.__class__.__name__, self.size, self.interpolation.value, self.max_size, self.antialias)


class CenterCrop(_Transform):
    def __init__(self, size):
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self):
        return "%s(size=%s)" % (self.__class__.__name__, self.size)


class Pad(_Transform):
    def __init__(self, padding, fill=0, padding_mode="constant"):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in [1, 2, 4]:
            raise ValueError("Padding must be an int or a 1, 2, or 4 element tuple, not a %d element tuple"
                             % len(padding))
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return "%s(padding=%s, fill=%s, padding_mode=%s)" % (self.__class__.__name__, self.padding, self.fill,
                                                            self.padding_mode)


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError("Argument lambd should be callable, got %s" % repr(type(lambd).__name__))
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return self.__class__.__name__ + "()"


class RandomApply(_Transform):
    def __init__(self, transforms, p=0.5):
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if np.float32(self.p) < _rand1():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        format_string = self.__class__.__name__ + "("
        format_string += "\n    p={}".format(self.p)
        for t in self.transforms:
            format_string += "\n"
            format_string += "    {0}".format(t)
        format_string += "\n)"
        return format_string


class RandomCrop(_Transform):
    @staticmethod
    def get_params(img, output_size):
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError("Required crop size %s is larger than input image size %s" % ((th, tw), (h, w)))
        if w == tw and h == th:
            return 0, 0, h, w
        i = _randint(0, h - th + 1)
        j = _randint(0, w - tw + 1)
        return i, j, th, tw

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = tuple(_setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self):
        return "%s(size=%s, padding=%s)" % (self.__class__.__name__, self.size, self.padding)


class RandomHorizontalFlip(_Transform):
    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        if _rand1() < np.float32(self.p):
            return F.hflip(img)
        return img

    def __repr__(self):
        return "%s(p=%s)" % (self.__class__.__name__, self.p)


class RandomVerticalFlip(_Transform):
    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        if _rand1() < np.float32(self.p):
            return F.vflip(img)
        return img

    def __repr__(self):
        return "%s(p=%s)" % (self.__class__.__name__, self.p)


class RandomResizedCrop(_Transform):
    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.interpolation = F._interp(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """torchvision's draws: area fraction and log aspect ratio (float32 uniforms), then the corner;
        after 10 misses, the central crop."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        core = _core()
        log_ratio = np.log(np.asarray(ratio, np.float32))  # torch.log(torch.tensor(ratio)), float32
        for _ in range(10):
            target_area = area * float(core.uniform((1,), float(scale[0]), float(scale[1]), np.float32)[0])
            u = core.uniform((1,), float(log_ratio[0]), float(log_ratio[1]), np.float32)
            aspect_ratio = float(np.exp(u)[0])
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = _randint(0, height - h + 1)
                j = _randint(0, width - w + 1)
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self):
        s = self.__class__.__name__ + "(size=%s" % (self.size,)
        s += ", scale=%s" % (tuple(round(x, 4) for x in self.scale),)
        s += ", ratio=%s" % (tuple(round(r, 4) for r in self.ratio),)
        s += ", interpolation=%s" % self.interpolation.value
        s += ", antialias=%s)" % self.antialias
        return s


class Grayscale(_Transform):
    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self):
        return "%s(num_output_channels=%s)" % (self.__class__.__name__, self.num_output_channels)

