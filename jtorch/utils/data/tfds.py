"""The bridge to the TensorFlow Datasets catalogue: a map-style Dataset over `tfds.data_source`.

tensorflow-datasets is the optional `tfds` extra (`pip install jtorch[tfds]`); it is imported only
when a TFDSDataset is made. Random access comes from tfds's ArrayRecord data sources, so the
DataLoader's samplers, shuffling and workers work on it as on any other map-style dataset.
"""
from .dataset import Dataset

__all__ = ["TFDSDataset"]


def _tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError("TFDSDataset needs tensorflow-datasets, the optional 'tfds' extra of jtorch: "
                          "pip install 'jtorch[tfds]' (or pip install tensorflow-datasets). (%s)" % e) from None
    return tfds


def _as_pil(value):
    """An HxWxC uint8 image (C = 1, 3 or 4) as a PIL image, as torchvision datasets give images;
    anything else is returned unchanged."""
    import numpy as np
    if not (isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 3
            and value.shape[2] in (1, 3, 4)):
        return value
    try:
        from PIL import Image
    except ImportError:
        return value
    if value.shape[2] == 1:
        return Image.fromarray(value[:, :, 0], mode="L")
    return Image.fromarray(value)


class TFDSDataset(Dataset):
    """`tfds.data_source(name, split=split, data_dir=data_dir, download=download)` as a Dataset.

    With `as_supervised` (the default when the dataset defines supervised keys, such as
    ('image', 'label')), a sample is `(input, target)` with `transform` applied to the input and
    `target_transform` to the target, as torchvision's datasets do; otherwise a sample is the feature
    dict and `transform` gets the whole dict. Images (HxWxC uint8) become PIL images when
    `pil_images` is true, so torchvision-style transforms (ToTensor, RandomCrop...) apply unchanged.
    """

    def __init__(self, name, split="train", transform=None, target_transform=None, *, data_dir=None,
                 download=True, as_supervised=None, pil_images=True):
        tfds = _tfds()
        self.name, self.split = name, split
        self.transform, self.target_transform = transform, target_transform
        self.pil_images = pil_images
        self.source = tfds.data_source(name, split=split, data_dir=data_dir, download=download)
        keys = None
        info = getattr(self.source, "dataset_info", None)
        supervised = getattr(info, "supervised_keys", None) if info is not None else None
        if supervised and len(supervised) == 2 and all(isinstance(k, str) for k in supervised):
            keys = tuple(supervised)
        if as_supervised is None:
            as_supervised = keys is not None
        if as_supervised and keys is None:
            raise ValueError("%s defines no supervised keys: use as_supervised=False and index the feature dict"
                             % name)
        self.supervised_keys = keys if as_supervised else None

    def __len__(self):
        return len(self.source)

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("index %d is out of range for %s[%s] of length %d"
                             % (index, self.name, self.split, len(self)))
        record = self.source[int(index)]
        if self.supervised_keys is None:
            if self.pil_images:
                record = {k: _as_pil(v) for k, v in record.items()}
            return self.transform(record) if self.transform is not None else record
        x, y = (record[k] for k in self.supervised_keys)
        if self.pil_images:
            x = _as_pil(x)
        if hasattr(y, "item") and getattr(y, "ndim", 1) == 0:
            y = y.item()
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def __repr__(self):
        return "TFDSDataset(%r, split=%r, size=%d)" % (self.name, self.split, len(self))
