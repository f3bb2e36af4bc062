"""The preprocessing presets that pretrained weights come with (torchvision.transforms._presets).

Unlike torchvision, ImageClassification is a plain callable like jtorch's other transforms, not an
nn.Module (it holds no parameters)."""
from ... import _dtype as D
from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification:
    """Resize the shorter side to resize_size, crop the centre crop_size square, scale to float in [0, 1]
    and normalise per channel: a PIL image or a uint8/float (..., C, H, W) tensor in, a float tensor out."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if F._is_pil(img):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, D.float32)
        return F.normalize(img, mean=self.mean, std=self.std)

    __call__ = forward

    def __repr__(self):
        fields = ("crop_size", "resize_size", "mean", "std", "interpolation")
        return type(self).__name__ + "(" + "".join("\n    %s=%s" % (f, getattr(self, f)) for f in fields) + "\n)"
