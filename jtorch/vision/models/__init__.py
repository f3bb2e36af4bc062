"""torchvision.models: ResNet-18/34/50, VGG-11/16 (+BN), AlexNet and MobileNetV2 with torchvision's module
trees, state_dict keys, reprs and initialisation, their pretrained-weight enums (loaded through
jtorch.hub's cache), and the registry functions. Under `python -m jtorch run`, `torchvision.models`."""
from ._registry import get_model, get_model_builder, get_model_weights, get_weight, list_models  # noqa: F401
from ._weights import Weights, WeightsEnum  # noqa: F401
from .alexnet import AlexNet, AlexNet_Weights, alexnet  # noqa: F401
from .mobilenetv2 import MobileNetV2, MobileNet_V2_Weights, mobilenet_v2  # noqa: F401
from .resnet import (ResNet, BasicBlock, Bottleneck, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,  # noqa: F401
                     resnet18, resnet34, resnet50)
from .vgg import VGG, VGG11_Weights, VGG11_BN_Weights, VGG16_Weights, VGG16_BN_Weights, vgg11, vgg11_bn, vgg16, vgg16_bn  # noqa: F401,E501
from ..._import_hook import module_getattr as _module_getattr

__getattr__ = _module_getattr(__name__)
