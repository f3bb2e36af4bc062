"""CIFAR10 and CIFAR100 over the pickled batches in root/cifar-10-batches-py (root/cifar-100-python).

As in torchvision, `.data` is a uint8 numpy array (N, 32, 32, 3), `.targets` a list of ints, and an
item is (PIL RGB image, int). Batches whose MD5 is not the published one are used, with a warning.
"""
import os
import pickle

import numpy as np

from .utils import extract_archive, first_download, not_found, warn_if_modified
from .vision import VisionDataset


class CIFAR10(VisionDataset):
    """`CIFAR10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        self._resolve(download)
        downloaded_list = self.train_list if self.train else self.test_list
        data, self.targets = [], []
        for file_name, _ in downloaded_list:
            with open(os.path.join(self.root, self.base_folder, file_name), "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self._load_meta()

    def _files(self):
        return self.train_list + self.test_list + [[self.meta["filename"], self.meta["md5"]]]

    def _missing(self):
        folder = os.path.join(self.root, self.base_folder)
        return [name for name, _ in self._files() if not os.path.isfile(os.path.join(folder, name))]

    def _check_integrity(self):
        return not self._missing()

    def _resolve(self, download):
        folder = os.path.join(self.root, self.base_folder)
        missing = self._missing()
        error = None
        if missing:
            archive = os.path.join(self.root, self.filename)
            if not os.path.isfile(archive) and download:
                error = first_download([self.url], self.root, self.filename)
            if os.path.isfile(archive):
                warn_if_modified(self.__class__.__name__, archive, self.tgz_md5)
                extract_archive(archive, self.root)
            missing = self._missing()
        if missing:
            raise not_found(self.__class__.__name__, folder, missing, self.url, error,
                            " (or the archive %s in %s, which holds that folder)"
                            % (self.filename, os.path.abspath(self.root)))
        for name, md5 in self._files():
            warn_if_modified(self.__class__.__name__, os.path.join(folder, name), md5)

    def download(self):
        self._resolve(download=True)

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        with open(path, "rb") as infile:
            data = pickle.load(infile, encoding="latin1")
        self.classes = data[self.meta["key"]]
        self.class_to_idx = {_class: i for i, _class in enumerate(self.classes)}

    def __getitem__(self, index):
        from PIL import Image
        img, target = self.data[index], self.targets[index]
        img = Image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return "Split: %s" % ("Train" if self.train is True else "Test")


class CIFAR100(CIFAR10):
    """`CIFAR100 <https://www.cs.toronto.edu/~kriz/cifar.html>`_: fine labels."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
