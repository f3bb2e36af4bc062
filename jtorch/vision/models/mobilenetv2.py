"""MobileNetV2 (torchvision.models.mobilenetv2): same module tree, keys, reprs, initialisation and random
draws as torchvision's. Conv2dNormActivation is torchvision.ops.misc's conv + norm + activation block."""
from ... import nn
from ...nn import functional as F
from ...ops.shape import flatten
from ._registry import register
from ._weights import WeightsEnum, _set_checked, imagenet1k, load_into

__all__ = ["MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2", "Conv2dNormActivation", "InvertedResidual"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2d (padding keeping the size at stride 1; bias only without a norm layer), then norm_layer,
    then activation_layer, each left out when None."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                k = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
                d = (dilation,) * len(k) if isinstance(dilation, int) else tuple(dilation)
                padding = tuple((ki - 1) // 2 * di for ki, di in zip(k, d))
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels


def _make_divisible(v, divisor, min_value=None):
    """The multiple of divisor nearest v (at least min_value), never more than 10% below v."""
    new_v = max(min_value or divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class InvertedResidual(nn.Module):
    """1x1 expansion by expand_ratio (left out at 1), 3x3 depthwise carrying the stride, 1x1 linear
    projection; the input is added back when the shape allows it (stride 1, same width)."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        self.stride = stride
        if stride not in (1, 2):
            raise ValueError("stride should be 1 or 2 instead of %s" % stride)
        norm_layer = norm_layer or nn.BatchNorm2d
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [Conv2dNormActivation(hidden, hidden, stride=stride, groups=hidden, norm_layer=norm_layer,
                                        activation_layer=nn.ReLU6),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                   norm_layer(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (expansion t, output channels c, repeats n, first stride s) per stage, from the MobileNetV2 paper
_STAGES = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        block = block or InvertedResidual
        norm_layer = norm_layer or nn.BatchNorm2d
        stages = _STAGES if inverted_residual_setting is None else inverted_residual_setting
        if len(stages) == 0 or len(stages[0]) != 4:
            raise ValueError("inverted_residual_setting should be non-empty or a 4-element list, got %s" % (stages,))
        channels = _make_divisible(32 * width_mult, round_nearest)
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, channels, stride=2, norm_layer=norm_layer, activation_layer=nn.ReLU6)]
        for t, c, n, s in stages:
            out = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(channels, out, s if i == 0 else 1, expand_ratio=t, norm_layer=norm_layer))
                channels = out
        features.append(Conv2dNormActivation(channels, self.last_channel, kernel_size=1, norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))   # a functional pool: no avgpool key
        return self.classifier(flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


_COMMON = dict(num_params=3504872, min_size=(1, 1))


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet1k("mobilenet_v2-b0353104.pth", acc=(71.878, 90.286), ops=0.301, file_size=13.555,
                               recipe="https://github.com/pytorch/vision/tree/main/references/classification"
                                      "#mobilenetv2", **_COMMON)
    IMAGENET1K_V2 = imagenet1k("mobilenet_v2-7ebf99e0.pth", acc=(72.154, 90.822), ops=0.301, file_size=13.598,
                               recipe="https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning",
                               resize_size=232, **_COMMON)
    DEFAULT = IMAGENET1K_V2


@register(MobileNet_V2_Weights)
def mobilenet_v2(*, weights=None, progress=True, **kwargs):
    """MobileNetV2; weights: a MobileNet_V2_Weights member or its name, or None."""
    weights = MobileNet_V2_Weights.verify(weights)
    if weights is not None:
        _set_checked(kwargs, "num_classes", len(weights.meta["categories"]))
    model = MobileNetV2(**kwargs)
    return model if weights is None else load_into(model, weights, progress)
