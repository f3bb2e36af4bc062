"""torchvision.utils: make_grid and save_image, computed in numpy with torchvision's arithmetic."""
import math

import numpy as np

from .._tensor import Tensor
from .transforms.functional import _like, _np

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch (B, C, H, W) or a list of images into one (C, H', W') image, nrow images per row."""
    if isinstance(tensor, list):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("tensor or list of tensors expected, got %s" % type(tensor))
        like = tensor[0]
        arr = np.stack([_np(t) for t in tensor], 0)
    elif isinstance(tensor, Tensor):
        like, arr = tensor, _np(tensor)
    else:
        raise TypeError("tensor or list of tensors expected, got %s" % type(tensor))
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate((arr, arr, arr), 1)
    if normalize is True:
        arr = arr.copy()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

        def norm_ip(img, low, high):
            np.clip(img, low, high, out=img)
            img -= img.dtype.type(low)
            img /= img.dtype.type(max(high - low, 1e-5))

        def norm_range(t):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))
        if scale_each is True:
            for t in arr:
                norm_range(t)
        else:
            norm_range(arr)
    if arr.shape[0] == 1:
        return _like(arr[0], like, like.dtype)
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    num_channels = arr.shape[1]
    grid = np.full((num_channels, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=arr.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = arr[k]
            k += 1
    return _like(grid, like, like.dtype)


def save_image(tensor, fp, format=None, **kwargs):
    """make_grid(tensor, **kwargs) written as an 8-bit image file (x * 255 + 0.5, clamped, truncated)."""
    from PIL import Image
    grid = _np(make_grid(tensor, **kwargs))
    ndarr = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255).transpose(1, 2, 0).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)
