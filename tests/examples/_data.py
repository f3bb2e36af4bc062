"""Small learnable data in the real on-disk formats the examples read (IDX, CIFAR pickles, PNG+CSV)."""
import gzip
import os
import pickle
import struct

import numpy as np


def _images(n, shape, seed, classes=10):
    rng = np.random.default_rng(seed)
    templates = np.random.default_rng(1234).uniform(0, 1, size=(classes,) + shape)
    labels = rng.integers(0, classes, size=n).astype(np.uint8)
    noise = rng.normal(0, 0.2, size=(n,) + shape)
    return np.clip((templates[labels] + noise) * 255, 0, 255).astype(np.uint8), labels


def _idx(path, array, magic):
    with gzip.open(path + ".gz", "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes())


def fashion_mnist(root, n_train=1200, n_test=300):
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = _images(n, (28, 28), seed)
        _idx(os.path.join(raw, "%s-images-idx3-ubyte" % split), images, 0x803)
        _idx(os.path.join(raw, "%s-labels-idx1-ubyte" % split), labels, 0x801)


def cifar10(root, n=300):
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    for i, name in enumerate(["data_batch_%d" % k for k in range(1, 6)] + ["test_batch"]):
        images, labels = _images(n, (32, 32, 3), 10 + i)
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"data": images.transpose(0, 3, 1, 2).reshape(n, -1), "labels": labels.tolist()}, f)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": ["c%d" % k for k in range(10)]}, f)


def png_csv(folder, n=80):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    images, labels = _images(n, (16, 16), 7)
    rows = ["file,label"]
    for i, (img, lab) in enumerate(zip(images, labels)):
        Image.fromarray(img).save(os.path.join(folder, "img_%03d.png" % i))
        rows.append("img_%03d.png,%d" % (i, lab))
    with open(os.path.join(folder, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
