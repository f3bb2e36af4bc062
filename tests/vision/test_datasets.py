"""Vision datasets on synthetic files in torchvision's exact formats (the acceptance fixtures): lengths,
items, .data/.targets, missing-file and download errors, checksums, ImageFolder's layout, and a
DataLoader over FashionMNIST against torch's DataLoader over the same arrays."""
import gzip
import importlib.util
import os
import shutil
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import jtorch
from jtorch.vision import datasets, transforms

_spec = importlib.util.spec_from_file_location("fixtures", "/work/shared/acceptance/fixtures.py")
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("vision")
    fixtures.write_mnist_like(str(r), "FashionMNIST", n_train=300, n_test=120)
    fixtures.write_mnist_like(str(r), "MNIST", n_train=200, n_test=100, seed=5)
    fixtures.write_cifar10_like(str(r), n_per_batch=40, n_test=30)
    return str(r)


def idx_arrays(root, name, split):
    raw = os.path.join(root, name, "raw")
    with open(os.path.join(raw, "%s-images-idx3-ubyte" % split), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with open(os.path.join(raw, "%s-labels-idx1-ubyte" % split), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.reshape(-1, 28, 28), labels


@pytest.mark.parametrize("name,train,n", [("FashionMNIST", True, 300), ("FashionMNIST", False, 120),
                                          ("MNIST", True, 200), ("MNIST", False, 100)])
def test_mnist_like(root, name, train, n):
    ds = getattr(datasets, name)(root, train=train)
    images, labels = idx_arrays(root, name, "train" if train else "t10k")
    assert len(ds) == n
    assert ds.data.dtype is jtorch.uint8 and tuple(ds.data.shape) == (n, 28, 28)
    assert ds.targets.dtype is jtorch.int64 and tuple(ds.targets.shape) == (n,)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, target = ds[7]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert type(target) is int and target == labels[7]
    np.testing.assert_array_equal(np.asarray(img), images[7])
    assert ds.class_to_idx[ds.classes[3]] == 3


def test_mnist_transforms_and_repr(root):
    ds = datasets.FashionMNIST(root, train=False, transform=transforms.ToTensor(),
                               target_transform=transforms.Lambda(lambda y: y + 100))
    x, y = ds[2]
    images, labels = idx_arrays(root, "FashionMNIST", "t10k")
    assert x.dtype is jtorch.float32 and tuple(x.shape) == (1, 28, 28)
    np.testing.assert_array_equal(x.numpy()[0], images[2].astype(np.float32) / np.float32(255))
    assert y == labels[2] + 100
    # torchvision's VisionDataset.__repr__ and StandardTransform's
    assert repr(ds) == ("Dataset FashionMNIST\n    Number of datapoints: 120\n    Root location: %s\n"
                        "    Split: Test\n    StandardTransform\nTransform: ToTensor()\n"
                        "Target transform: Lambda()" % root)


def test_mnist_reads_gzip_only(tmp_path):
    fixtures.write_mnist_like(str(tmp_path), "MNIST", n_train=30, n_test=10)
    raw = tmp_path / "MNIST" / "raw"
    for f in raw.iterdir():
        if not f.name.endswith(".gz"):
            f.unlink()
    ds = datasets.MNIST(str(tmp_path), train=True)
    with gzip.open(raw / "train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    np.testing.assert_array_equal(ds.data.numpy(), images)


def test_mnist_missing_files_name_them(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(str(tmp_path), train=True)
    msg = str(info.value)
    assert msg.startswith("Dataset not found. You can use download=True to download it")
    assert os.path.join(str(tmp_path), "FashionMNIST", "raw") in msg
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg and "t10k" not in msg


def test_mnist_download_failure_names_files(tmp_path, monkeypatch):
    fixtures.write_mnist_like(str(tmp_path), "MNIST", n_train=30, n_test=10)
    os.remove(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte")
    os.remove(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz")
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # nothing listens: refused at once
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(str(tmp_path), train=False, download=True)
    msg = str(info.value)
    assert "downloading it failed" in msg and "127.0.0.1:9" in msg
    assert "t10k-labels-idx1-ubyte" in msg and "t10k-images" not in msg  # only what is missing
    assert os.path.join(str(tmp_path), "MNIST", "raw") in msg
    # the train split is complete: download=True does not need the network for it
    with pytest.warns(UserWarning, match="is not the published"):  # synthetic files, not the published ones
        assert len(datasets.MNIST(str(tmp_path), train=True, download=True)) == 30


def test_present_files_with_other_checksum_warn(tmp_path):
    fixtures.write_mnist_like(str(tmp_path), "KMNIST", n_train=20, n_test=10)
    with pytest.warns(UserWarning, match="is not the published"):
        ds = datasets.KMNIST(str(tmp_path), train=True, download=True)
    assert len(ds) == 20


def test_cifar10(root):
    folder = os.path.join(root, "cifar-10-batches-py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train = datasets.CIFAR10(root, train=True)
        test = datasets.CIFAR10(root, train=False, transform=transforms.ToTensor())
    import pickle
    with open(os.path.join(folder, "data_batch_2"), "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    assert len(train) == 200 and len(test) == 30
    assert isinstance(train.data, np.ndarray) and train.data.shape == (200, 32, 32, 3) and train.data.dtype == np.uint8
    assert isinstance(train.targets, list) and train.targets[40:45] == batch["labels"][:5]
    np.testing.assert_array_equal(train.data[41], batch["data"][1].reshape(3, 32, 32).transpose(1, 2, 0))
    img, target = train[41]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and target == batch["labels"][1]
    np.testing.assert_array_equal(np.asarray(img), train.data[41])
    x, _ = test[0]
    assert tuple(x.shape) == (3, 32, 32)
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9


def test_cifar10_missing_batch(tmp_path):
    fixtures.write_cifar10_like(str(tmp_path), n_per_batch=5, n_test=5)
    os.remove(tmp_path / "cifar-10-batches-py" / "data_batch_3")
    with pytest.raises(RuntimeError) as info:
        datasets.CIFAR10(str(tmp_path))
    msg = str(info.value)
    assert "data_batch_3" in msg and "data_batch_2" not in msg
    assert os.path.join(str(tmp_path), "cifar-10-batches-py") in msg and "cifar-10-python.tar.gz" in msg


def test_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    expected = []
    for label, cls in enumerate(["cat", "dog"]):
        os.makedirs(tmp_path / cls / "sub")
        for i, ext in enumerate([".png", ".PNG", ".txt"]):
            path = tmp_path / cls / ("%d%s" % (i, ext))
            if ext == ".txt":
                path.write_text("not an image")
                continue
            arr = rng.integers(0, 255, (5, 6, 3), dtype=np.uint8)
            Image.fromarray(arr).save(path, format="PNG")
            expected.append((str(path), label, arr))
        arr = rng.integers(0, 255, (4, 4), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / cls / "sub" / "x.png")
        expected.append((str(tmp_path / cls / "sub" / "x.png"), label, np.stack([arr] * 3, -1)))
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [s for s in ds.samples] == [(p, t) for p, t, _ in expected] and ds.imgs is ds.samples
    assert ds.targets == [t for _, t, _ in expected]
    for i, (_, t, arr) in enumerate(expected):
        img, target = ds[i]
        assert img.mode == "RGB" and target == t
        np.testing.assert_array_equal(np.asarray(img), arr)
    folder = datasets.DatasetFolder(str(tmp_path), loader=lambda p: open(p, "rb").read(), extensions=(".txt",))
    assert [s[0].endswith(".txt") for s in folder.samples] == [True, True]
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path / "cat" / "sub"))
    shutil.rmtree(tmp_path / "dog")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(str(tmp_path))


@pytest.mark.parametrize("workers", [0, 2])
def test_fashion_mnist_loader_matches_torch(root, workers):
    """FashionMNIST + ToTensor through a shuffled DataLoader equals torch's DataLoader over the same arrays."""
    images, labels = idx_arrays(root, "FashionMNIST", "train")
    ref = torch.utils.data.TensorDataset(torch.from_numpy(images[:, None].astype(np.float32) / np.float32(255)),
                                         torch.from_numpy(labels.astype(np.int64)))
    torch.manual_seed(4)
    want = [(x.numpy(), y.numpy()) for x, y in torch.utils.data.DataLoader(ref, batch_size=64, shuffle=True)]
    ds = datasets.FashionMNIST(root, train=True, transform=transforms.ToTensor())
    jtorch.manual_seed(4)
    got = list(jtorch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers))
    assert len(got) == len(want) == 5
    for (x, y), (wx, wy) in zip(got, want):
        assert x.dtype is jtorch.float32 and y.dtype is jtorch.int64
        np.testing.assert_array_equal(x.numpy(), wx)
        np.testing.assert_array_equal(y.numpy(), wy)


def test_tfds_bridge():
    try:
        import tensorflow_datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"jtorch\[tfds\]"):
            datasets.TFDS("mnist", split="train")
        pytest.skip("tensorflow-datasets (the tfds extra) is not installed: only its ImportError is checked")
    ds = datasets.TFDS("mnist", split="test[:16]", transform=transforms.ToTensor())
    x, y = ds[0]
    assert len(ds) == 16 and tuple(x.shape) == (1, 28, 28) and isinstance(y, int)
    batch = next(iter(jtorch.utils.data.DataLoader(ds, batch_size=8)))
    assert tuple(batch[0].shape) == (8, 1, 28, 28)
