"""torchvision.io.read_image and torchvision.utils.make_grid / save_image."""
import importlib.util
import math

import numpy as np
import pytest
import torch
from PIL import Image

import jtorch
from jtorch.vision import io, utils

_spec = importlib.util.spec_from_file_location("fixtures", "/work/shared/acceptance/fixtures.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)
rng = np.random.default_rng(1)


def test_read_image_png_fixture(tmp_path):
    """The acceptance fixture's own minimal grayscale PNG writer."""
    folder = fixtures.write_image_folder(str(tmp_path / "img"), n=3)
    images, _ = fixtures.class_images(3, (28, 28), seed=0)
    x = io.read_image(folder + "/img001.png")
    assert x.dtype is jtorch.uint8 and tuple(x.shape) == (1, 28, 28)
    np.testing.assert_array_equal(x.numpy()[0], images[1])


@pytest.mark.parametrize("mode,channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_read_image_modes(tmp_path, mode, channels):
    shape = (6, 5) if channels == 1 else (6, 5, channels)
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    path = str(tmp_path / "x.png")
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode == mode
    x = io.read_image(path)
    chw = arr[None] if channels == 1 else arr.transpose(2, 0, 1)
    np.testing.assert_array_equal(x.numpy(), chw)
    gray = io.read_image(path, io.ImageReadMode.GRAY)
    np.testing.assert_array_equal(gray.numpy()[0], np.asarray(Image.open(path).convert("L")))
    rgb = io.read_image(path, io.ImageReadMode.RGB)
    assert tuple(rgb.shape) == (3, 6, 5)


def test_read_image_jpeg_and_decode(tmp_path):
    arr = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    path = str(tmp_path / "x.jpg")
    Image.fromarray(arr).save(path, quality=90)
    x = io.read_image(path)
    np.testing.assert_array_equal(x.numpy(), np.asarray(Image.open(path)).transpose(2, 0, 1))
    data = io.read_file(path)
    assert data.dtype is jtorch.uint8 and data.ndim == 1
    np.testing.assert_array_equal(io.decode_image(data).numpy(), x.numpy())
    io.write_png(x, str(tmp_path / "y.png"))
    np.testing.assert_array_equal(io.read_image(str(tmp_path / "y.png")).numpy(), x.numpy())


def _make_grid_ref(t, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid, with torch."""
    if t.dim() == 3:
        if t.size(0) == 1:
            t = torch.cat((t, t, t), 0)
        t = t.unsqueeze(0)
    if t.dim() == 4 and t.size(1) == 1:
        t = torch.cat((t, t, t), 1)
    if normalize:
        t = t.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(x):
            if value_range is not None:
                norm_ip(x, value_range[0], value_range[1])
            else:
                norm_ip(x, float(x.min()), float(x.max()))
        if scale_each:
            for x in t:
                norm_range(x)
        else:
            norm_range(t)
    if t.size(0) == 1:
        return t.squeeze(0)
    nmaps = t.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(t.size(2) + padding), int(t.size(3) + padding)
    grid = t.new_full((t.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding,
                                                                         width - padding).copy_(t[k])
            k += 1
    return grid


GRID_CASES = [((5, 1, 4, 3), {}), ((10, 3, 4, 4), {"nrow": 4, "padding": 1, "pad_value": 0.5}),
              ((3, 3, 5, 2), {"normalize": True}), ((4, 1, 3, 3), {"normalize": True, "scale_each": True}),
              ((6, 3, 2, 2), {"normalize": True, "value_range": (-1.0, 1.0), "nrow": 3}), ((1, 3, 4, 4), {}),
              ((1, 5, 5), {})]


@pytest.mark.parametrize("shape,kwargs", GRID_CASES)
def test_make_grid(shape, kwargs):
    a = rng.uniform(-2, 2, shape).astype(np.float32)
    got = utils.make_grid(jtorch.from_numpy(a.copy()), **kwargs)
    want = _make_grid_ref(torch.from_numpy(a.copy()), **kwargs)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def test_make_grid_list_and_save_image(tmp_path):
    a = rng.uniform(0, 1, (4, 3, 5, 6)).astype(np.float32)
    grid = utils.make_grid([jtorch.from_numpy(x.copy()) for x in a], nrow=2)
    np.testing.assert_array_equal(grid.numpy(), _make_grid_ref(torch.from_numpy(a), nrow=2).numpy())
    path = str(tmp_path / "grid.png")
    utils.save_image(jtorch.from_numpy(a), path, nrow=2)
    want = _make_grid_ref(torch.from_numpy(a), nrow=2).mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), want.to(torch.uint8).numpy())
