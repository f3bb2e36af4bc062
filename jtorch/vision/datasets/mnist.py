"""MNIST, FashionMNIST and KMNIST: torchvision's classes over the IDX files in root/<Class>/raw.

`.data` is a uint8 tensor (N, 28, 28), `.targets` an int64 tensor (N,), and an item is
(PIL image in mode "L", int), as in torchvision. A file may be present gzipped (name.gz) or not.
Unlike torchvision, only the files of the requested split are required and downloaded.
"""
import gzip
import os

import numpy as np

from ..._tensor import Tensor
from .utils import extract_archive, first_download, not_found, warn_if_modified
from .vision import VisionDataset

_IDX_TYPES = {8: np.uint8, 9: np.int8, 11: np.dtype(">i2"), 12: np.dtype(">i4"), 13: np.dtype(">f4"),
              14: np.dtype(">f8")}


def read_sn3_pascalvincent_array(path):
    """An IDX ("SN3 Pascal Vincent") file, plain or gzipped, as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    nd, ty = magic % 256, magic // 256
    if not (1 <= nd <= 3 and ty in _IDX_TYPES):
        raise RuntimeError("%s is not an IDX file (magic number %#x)" % (path, magic))
    shape = [int.from_bytes(data[4 * (i + 1):4 * (i + 2)], "big") for i in range(nd)]
    dtype = np.dtype(_IDX_TYPES[ty])
    parsed = np.frombuffer(data, dtype=dtype, offset=4 * (nd + 1))
    if parsed.size != int(np.prod(shape)):
        raise RuntimeError("%s holds %d values where its header says %s" % (path, parsed.size, shape))
    return parsed.astype(dtype.newbyteorder("=")).reshape(shape)


def read_sn3_pascalvincent_tensor(path, strict=True):
    return Tensor._from_host(read_sn3_pascalvincent_array(path))


def read_label_file(path):
    x = read_sn3_pascalvincent_array(path)
    if x.dtype != np.uint8:
        raise TypeError("x should be of dtype torch.uint8 instead of %s" % x.dtype)
    if x.ndim != 1:
        raise ValueError("x should have 1 dimension instead of %d" % x.ndim)
    return Tensor._from_host(x.astype(np.int64))


def read_image_file(path):
    x = read_sn3_pascalvincent_array(path)
    if x.dtype != np.uint8:
        raise TypeError("x should be of dtype torch.uint8 instead of %s" % x.dtype)
    if x.ndim != 3:
        raise ValueError("x should have 3 dimension instead of %d" % x.ndim)
    return Tensor._from_host(x)


def _host(t):
    from ...utils.data._collate import _numpy_of
    return _numpy_of(t) if isinstance(t, Tensor) else np.asarray(t)


class MNIST(VisionDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_: root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        paths = self._resolve(download)
        self.data = read_image_file(paths[0])
        self.targets = read_label_file(paths[1])

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {_class: i for i, _class in enumerate(self.classes)}

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return ["%s-images-idx3-ubyte" % prefix, "%s-labels-idx1-ubyte" % prefix]

    def _find(self, name):
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self):
        return all(self._find(name) is not None for name in self._split_files())

    def _resolve(self, download):
        """Paths of the split's image and label files, downloading what is missing when asked to."""
        md5s = dict(self.resources)
        names = self._split_files()
        missing = [n for n in names if self._find(n) is None]
        error = None
        if missing and download:
            os.makedirs(self.raw_folder, exist_ok=True)
            for name in missing:
                error = first_download([m + name + ".gz" for m in self.mirrors], self.raw_folder, name + ".gz")
                if error is not None:
                    break
                extract_archive(os.path.join(self.raw_folder, name + ".gz"), self.raw_folder)
            missing = [n for n in names if self._find(n) is None]
        if missing:
            raise not_found(self.__class__.__name__, self.raw_folder, missing, " or ".join(self.mirrors), error,
                            " (each may also be gzipped, as NAME.gz)")
        paths = [self._find(n) for n in names]
        if download:
            for n in names:
                warn_if_modified(self.__class__.__name__, os.path.join(self.raw_folder, n + ".gz"), md5s.get(n + ".gz"))
        return paths

    def download(self):
        self._resolve(download=True)

    def __getitem__(self, index):
        from PIL import Image
        index = int(index)
        img = _host(self.data)[index]
        targets = self.targets
        target = int(_host(targets)[index]) if isinstance(targets, Tensor) else int(targets[index])
        img = Image.fromarray(np.ascontiguousarray(img))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return "Split: %s" % ("Train" if self.train is True else "Test")


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_: root/FashionMNIST/raw/..."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_: root/KMNIST/raw/..."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

