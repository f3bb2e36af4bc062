"""Transforms against torchvision's definitions. torchvision cannot be installed here, so each reference is
torchvision's own computation written out with real torch ops (interpolate, the RNG calls of the random
transforms, the dtype arithmetic) or, for PIL images, with pillow and numpy as torchvision calls them."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import jtorch
from jtorch.vision import transforms as T
from jtorch.vision.transforms import functional as F

rng = np.random.default_rng(0)
GRAY = rng.integers(0, 256, (13, 17), dtype=np.uint8)
RGB = rng.integers(0, 256, (11, 9, 3), dtype=np.uint8)
FLOAT_CHW = rng.uniform(0, 1, (3, 12, 10)).astype(np.float32)


def jt(a):
    return jtorch.from_numpy(a.copy())


def npy(x):
    return np.asarray(x) if isinstance(x, Image.Image) else x.numpy()


# -- conversions ------------------------------------------------------------------------------------

def test_to_tensor():
    for arr in (GRAY, RGB):
        x = T.ToTensor()(Image.fromarray(arr))
        hwc = arr if arr.ndim == 3 else arr[:, :, None]
        want = torch.from_numpy(hwc.transpose(2, 0, 1).copy()).to(torch.float32).div(255)
        assert x.dtype is jtorch.float32
        np.testing.assert_array_equal(x.numpy(), want.numpy())
        np.testing.assert_array_equal(T.ToTensor()(hwc).numpy(), want.numpy())
    f = rng.uniform(size=(4, 5, 2)).astype(np.float64)
    out = T.ToTensor()(f)
    assert out.dtype is jtorch.float64 and tuple(out.shape) == (2, 4, 5)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2])


def test_pil_to_tensor_and_back():
    x = T.PILToTensor()(Image.fromarray(RGB))
    assert x.dtype is jtorch.uint8
    np.testing.assert_array_equal(x.numpy(), RGB.transpose(2, 0, 1))
    back = T.ToPILImage()(x)
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), RGB)
    f = T.ToPILImage()(jt(FLOAT_CHW[:1]))
    want = torch.from_numpy(FLOAT_CHW[:1]).mul(255).byte().numpy()[0]
    assert f.mode == "L"
    np.testing.assert_array_equal(np.asarray(f), want)


CONVERT = [("u8_f32", np.uint8, jtorch.float32, torch.float32), ("u8_f64", np.uint8, jtorch.float64, torch.float64),
           ("f32_u8", np.float32, jtorch.uint8, torch.uint8), ("f32_i16", np.float32, jtorch.int16, torch.int16),
           ("i16_u8", np.int16, jtorch.uint8, torch.uint8), ("u8_i32", np.uint8, jtorch.int32, torch.int32),
           ("f32_f64", np.float32, jtorch.float64, torch.float64)]


def _torch_convert(image, dtype):
    """torchvision's convert_image_dtype with torch ops."""
    maxv = {torch.uint8: 255, torch.int8: 127, torch.int16: 32767, torch.int32: 2147483647}
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        return image.mul(maxv[dtype] + 1.0 - 1e-3).to(dtype)
    input_max = float(maxv[image.dtype])
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(maxv[dtype])
    if input_max > output_max:
        return torch.div(image, int((input_max + 1) // (output_max + 1)), rounding_mode="floor").to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


@pytest.mark.parametrize("name,src,dst,tdst", CONVERT, ids=[c[0] for c in CONVERT])
def test_convert_image_dtype(name, src, dst, tdst):
    a = FLOAT_CHW if src == np.float32 else rng.integers(0, 250, (2, 3, 4)).astype(src)
    got = T.ConvertImageDtype(dst)(jt(a))
    want = _torch_convert(torch.from_numpy(a), tdst)
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_convert_image_dtype_unsafe():
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(jt(FLOAT_CHW), jtorch.int32)


NORMALIZE = [((0.5, 0.4, 0.3), (0.2, 0.25, 0.3)), ([0.1307], [0.3081]), ((1.0, 2.0, 3.0), (1.0, 1.0, 2.0))]


@pytest.mark.parametrize("mean,std", NORMALIZE)
def test_normalize(mean, std):
    a = FLOAT_CHW if len(mean) == 3 else FLOAT_CHW[:1]
    got = T.Normalize(mean, std)(jt(a))
    t = torch.from_numpy(a.copy())
    m = torch.as_tensor(mean, dtype=t.dtype).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=t.dtype).view(-1, 1, 1)
    np.testing.assert_array_equal(got.numpy(), t.sub_(m).div_(s).numpy())
    x = jt(a)
    assert T.Normalize(mean, std, inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), got.numpy())


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        F.normalize(jt(RGB.transpose(2, 0, 1)), [0.5] * 3, [0.5] * 3)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(jt(FLOAT_CHW), [0.5] * 3, [0.5, 0.0, 0.5])
    with pytest.raises(ValueError, match="Expected tensor to be a tensor image of size"):
        F.normalize(jt(FLOAT_CHW[0]), [0.5], [0.5])


# -- geometry ---------------------------------------------------------------------------------------

def _out_size(h, w, size):
    """torchvision's _compute_resized_output_size, written out."""
    if isinstance(size, int) or len(size) == 1:
        s = size if isinstance(size, int) else size[0]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        return (new_long, new_short) if w <= h else (new_short, new_long)
    return tuple(size)


@pytest.mark.parametrize("size", [8, (6, 4), [20], (13, 17), (30, 25)])
def test_resize_pil(size):
    for arr in (GRAY, RGB):
        img = Image.fromarray(arr)
        h, w = arr.shape[:2]
        oh, ow = _out_size(h, w, size)
        got = T.Resize(size)(img)
        want = img if (oh, ow) == (h, w) else img.resize((ow, oh), Image.Resampling.BILINEAR)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("size,mode,antialias", [(7, "bilinear", True), ((5, 4), "bilinear", True),
                                                 ((30, 25), "bilinear", True), ((6, 5), "bilinear", False),
                                                 ((24, 7), "bilinear", False), ((5, 9), "nearest", True),
                                                 ((20, 23), "nearest", True)])
def test_resize_tensor(size, mode, antialias):
    x = torch.from_numpy(FLOAT_CHW)
    oh, ow = _out_size(12, 10, size)
    ref = torch.nn.functional.interpolate(x[None], size=(oh, ow), mode=mode, antialias=antialias and mode == "bilinear",
                                          align_corners=False if mode == "bilinear" else None)[0]
    interp = T.InterpolationMode.BILINEAR if mode == "bilinear" else T.InterpolationMode.NEAREST
    got = T.Resize(size, interpolation=interp, antialias=antialias)(jt(FLOAT_CHW))
    assert got.dtype is jtorch.float32 and tuple(got.shape) == (3, oh, ow)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    u8 = (FLOAT_CHW * 255).astype(np.uint8)
    ref8 = torch.nn.functional.interpolate(torch.from_numpy(u8)[None].float(), size=(oh, ow), mode=mode,
                                           antialias=antialias and mode == "bilinear",
                                           align_corners=False if mode == "bilinear" else None)[0].round().to(torch.uint8)
    got8 = T.Resize(size, interpolation=interp, antialias=antialias)(jt(u8))
    assert got8.dtype is jtorch.uint8
    assert np.abs(got8.numpy().astype(int) - ref8.numpy().astype(int)).max() <= (0 if mode == "nearest" else 1)


def _pad_ref(a, l, t, r, b, mode, fill=0):
    widths = [(0, 0)] * (a.ndim - 2) + [(t, b), (l, r)]
    return np.pad(a, widths, mode, constant_values=fill) if mode == "constant" else np.pad(a, widths, mode)


@pytest.mark.parametrize("padding,ltrb,mode", [(2, (2, 2, 2, 2), "constant"), ((1, 3), (1, 3, 1, 3), "edge"),
                                               ((1, 2, 3, 0), (1, 2, 3, 0), "reflect"),
                                               ([2], (2, 2, 2, 2), "symmetric")])
def test_pad(padding, ltrb, mode):
    l, t, r, b = ltrb
    got = T.Pad(padding, fill=0, padding_mode=mode)(jt(FLOAT_CHW))
    np.testing.assert_array_equal(got.numpy(), _pad_ref(FLOAT_CHW, l, t, r, b, mode))
    pil = T.Pad(padding, padding_mode=mode)(Image.fromarray(RGB))
    np.testing.assert_array_equal(np.asarray(pil), np.pad(RGB, ((t, b), (l, r), (0, 0)), mode))


@pytest.mark.parametrize("size", [5, (4, 7), (13, 17), (15, 20)])
def test_center_crop(size):
    th, tw = (size, size) if isinstance(size, int) else size
    for src in (GRAY, FLOAT_CHW):
        h, w = src.shape[-2:]
        pl, pt = max((tw - w) // 2, 0), max((th - h) // 2, 0)
        pr, pb = max((tw - w + 1) // 2, 0), max((th - h + 1) // 2, 0)
        padded = _pad_ref(src, pl, pt, pr, pb, "constant")
        H, W = padded.shape[-2:]
        top, left = int(round((H - th) / 2.0)), int(round((W - tw) / 2.0))
        want = padded[..., top:top + th, left:left + tw]
        img = Image.fromarray(src) if src is GRAY else jt(src)
        np.testing.assert_array_equal(npy(T.CenterCrop(size)(img)), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_crop(seed):
    size, padding = (6, 5), 2
    torch.manual_seed(seed)
    ref = []
    padded = _pad_ref(FLOAT_CHW, 2, 2, 2, 2, "constant")
    for _ in range(3):
        i = torch.randint(0, padded.shape[1] - size[0] + 1, size=(1,)).item()
        j = torch.randint(0, padded.shape[2] - size[1] + 1, size=(1,)).item()
        ref.append(padded[:, i:i + size[0], j:j + size[1]])
    after = torch.rand(2).numpy()
    jtorch.manual_seed(seed)
    crop = T.RandomCrop(size, padding=padding)
    for want in ref:
        np.testing.assert_array_equal(crop(jt(FLOAT_CHW)).numpy(), want)
    np.testing.assert_array_equal(jtorch.rand(2).numpy(), after)
    with pytest.raises(ValueError, match=r"Required crop size \(20, 20\) is larger than input image size \(13, 17\)"):
        T.RandomCrop(20)(Image.fromarray(GRAY))
    padded_img = T.RandomCrop((15, 20), pad_if_needed=True)(Image.fromarray(GRAY))
    assert padded_img.size == (20, 15)


@pytest.mark.parametrize("cls,p,flip", [(T.RandomHorizontalFlip, 0.5, lambda a: a[..., ::-1]),
                                        (T.RandomVerticalFlip, 0.3, lambda a: a[..., ::-1, :])])
def test_random_flips(cls, p, flip):
    torch.manual_seed(5)
    decisions = [bool(torch.rand(1) < p) for _ in range(12)]
    jtorch.manual_seed(5)
    t = cls(p)
    for d in decisions:
        np.testing.assert_array_equal(t(jt(FLOAT_CHW)).numpy(), flip(FLOAT_CHW) if d else FLOAT_CHW)
    assert any(decisions) and not all(decisions)
    img = Image.fromarray(RGB)
    jtorch.manual_seed(5)
    for d in decisions:
        np.testing.assert_array_equal(np.asarray(t(img)), flip(RGB.transpose(2, 0, 1)).transpose(1, 2, 0)
                                      if d else RGB)


def _rrc_params_torch(height, width, scale, ratio):
    """torchvision's RandomResizedCrop.get_params, with real torch."""
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect_ratio)))
        h = int(round(math.sqrt(target_area / aspect_ratio)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, size=(1,)).item()
            j = torch.randint(0, width - w + 1, size=(1,)).item()
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


@pytest.mark.parametrize("hw,scale,ratio", [((12, 10), (0.08, 1.0), (3 / 4, 4 / 3)), ((40, 90), (0.5, 0.9), (0.5, 2.0)),
                                            ((7, 100), (0.9, 1.0), (1.0, 1.2))])
def test_random_resized_crop_params(hw, scale, ratio):
    torch.manual_seed(9)
    want = [_rrc_params_torch(hw[0], hw[1], scale, ratio) for _ in range(40)]
    jtorch.manual_seed(9)
    img = jtorch.zeros(1, *hw)
    got = [T.RandomResizedCrop.get_params(img, scale, ratio) for _ in range(40)]
    assert got == want


def test_random_resized_crop_output():
    jtorch.manual_seed(1)
    i, j, h, w = T.RandomResizedCrop.get_params(jt(FLOAT_CHW), (0.08, 1.0), (3 / 4, 4 / 3))
    jtorch.manual_seed(1)
    got = T.RandomResizedCrop(8)(jt(FLOAT_CHW))
    ref = torch.nn.functional.interpolate(torch.from_numpy(FLOAT_CHW[:, i:i + h, j:j + w].copy())[None], size=(8, 8),
                                          mode="bilinear", antialias=True, align_corners=False)[0]
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_grayscale():
    img = Image.fromarray(RGB)
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(img)), np.asarray(img.convert("L")))
    three = T.Grayscale(3)(img)
    assert three.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(three)[..., 2], np.asarray(img.convert("L")))
    for a in (RGB.transpose(2, 0, 1).copy(), FLOAT_CHW):
        r, g, b = torch.from_numpy(a).unbind(dim=-3)
        want = (0.2989 * r + 0.587 * g + 0.114 * b).to(torch.from_numpy(a).dtype).unsqueeze(dim=-3)
        got = T.Grayscale()(jt(a))
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(T.Grayscale(3)(jt(a)).numpy(), want.expand(3, -1, -1).numpy())


def test_compose_lambda_and_reprs():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2), T.Normalize((0.5,), (0.5,))])
    x = pipeline(Image.fromarray(GRAY))
    want = (GRAY[None].astype(np.float32) / np.float32(255) * np.float32(2) - np.float32(0.5)) / np.float32(0.5)
    np.testing.assert_array_equal(x.numpy(), want)
    # torchvision's reprs
    assert repr(pipeline) == "Compose(\n    ToTensor()\n    Lambda()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomResizedCrop(224)) == ("RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), "
                                              "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")
    assert repr(T.Grayscale()) == "Grayscale(num_output_channels=1)"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.ToPILImage()) == "ToPILImage()"
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
