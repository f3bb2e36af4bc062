"""VGG-11/16 with and without batch norm (torchvision.models.vgg): same module tree, keys, reprs,
initialisation and random draws as torchvision's."""
from ... import nn
from ...ops.shape import flatten
from ._registry import register
from ._weights import WeightsEnum, _set_checked, imagenet1k, load_into

__all__ = ["VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "vgg11", "vgg11_bn",
           "vgg16", "vgg16_bn"]

# convolution widths per configuration of the VGG paper ("M": 2x2 max pool)
_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],                              # VGG-11
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],      # VGG-16
}


class VGG(nn.Module):
    """`features` (a conv stack ending in 512 channels), 7x7 adaptive average pool, and a three-layer
    classifier 25088 -> 4096 -> 4096 -> num_classes with ReLU and dropout between."""

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def make_layers(cfg, batch_norm=False):
    """The feature stack of a configuration: 3x3 same-padding convs (+ BN) + ReLU, and 2x2 max pools."""
    layers, channels = [], 3
    for width in cfg:
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, width, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU(inplace=True))
        channels = width
    return nn.Sequential(*layers)


_COMMON = dict(min_size=(32, 32), recipe="https://github.com/pytorch/vision/tree/main/references/classification"
                                         "#alexnet-and-vgg")


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("vgg11-8a719046.pth", num_params=132863336, acc=(69.020, 88.628), ops=7.609,
                               file_size=506.84, **_COMMON)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("vgg11_bn-6002323d.pth", num_params=132868840, acc=(70.370, 89.810), ops=7.609,
                               file_size=506.881, **_COMMON)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("vgg16-397923af.pth", num_params=138357544, acc=(71.592, 90.382), ops=15.47,
                               file_size=527.796, **_COMMON)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("vgg16_bn-6c64b313.pth", num_params=138365992, acc=(73.360, 91.516), ops=15.47,
                               file_size=527.866, **_COMMON)
    DEFAULT = IMAGENET1K_V1


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False   # the checkpoint overwrites every parameter
        if weights.meta["categories"] is not None:
            _set_checked(kwargs, "num_classes", len(weights.meta["categories"]))
    model = VGG(make_layers(_CONFIGS[cfg], batch_norm=batch_norm), **kwargs)
    return model if weights is None else load_into(model, weights, progress)


@register(VGG11_Weights)
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration "A"); weights: a VGG11_Weights member or its name, or None."""
    return _vgg("A", False, VGG11_Weights.verify(weights), progress, **kwargs)


@register(VGG11_BN_Weights)
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with batch norm; weights: a VGG11_BN_Weights member or its name, or None."""
    return _vgg("A", True, VGG11_BN_Weights.verify(weights), progress, **kwargs)


@register(VGG16_Weights)
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration "D"); weights: a VGG16_Weights member or its name, or None. torchvision's
    IMAGENET1K_FEATURES entry (SSD's feature-only port) is not provided."""
    return _vgg("D", False, VGG16_Weights.verify(weights), progress, **kwargs)


@register(VGG16_BN_Weights)
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with batch norm; weights: a VGG16_BN_Weights member or its name, or None."""
    return _vgg("D", True, VGG16_BN_Weights.verify(weights), progress, **kwargs)
