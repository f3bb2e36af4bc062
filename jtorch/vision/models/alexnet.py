"""AlexNet (torchvision.models.alexnet, the "one weird trick" variant): same module tree, keys, reprs
as torchvision's; PyTorch's default layer initialisation, as torchvision leaves it."""
from ... import nn
from ...ops.shape import flatten
from ._registry import register
from ._weights import WeightsEnum, _set_checked, imagenet1k, load_into

__all__ = ["AlexNet", "AlexNet_Weights", "alexnet"]


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(   # dropout before the first two linears, not after
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("alexnet-owt-7be5be79.pth", num_params=61100840, min_size=(63, 63),
                               recipe="https://github.com/pytorch/vision/tree/main/references/classification"
                                      "#alexnet-and-vgg", acc=(56.522, 79.066), ops=0.714, file_size=233.087)
    DEFAULT = IMAGENET1K_V1


@register(AlexNet_Weights)
def alexnet(*, weights=None, progress=True, **kwargs):
    """AlexNet; weights: an AlexNet_Weights member or its name, or None."""
    weights = AlexNet_Weights.verify(weights)
    if weights is not None:
        _set_checked(kwargs, "num_classes", len(weights.meta["categories"]))
    model = AlexNet(**kwargs)
    return model if weights is None else load_into(model, weights, progress)
