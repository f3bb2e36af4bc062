"""torchvision.datasets: MNIST, FashionMNIST, KMNIST, CIFAR10/100, DatasetFolder/ImageFolder, and TFDS
(the TensorFlow Datasets bridge, jtorch's own)."""
from .cifar import CIFAR10, CIFAR100
from .folder import DatasetFolder, ImageFolder
from .mnist import KMNIST, MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset
from ...utils.data.tfds import TFDSDataset as TFDS
from ..._import_hook import module_getattr as _module_getattr

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FashionMNIST", "ImageFolder", "KMNIST", "MNIST",
           "StandardTransform", "TFDS", "VisionDataset"]

__getattr__ = _module_getattr(__name__)
