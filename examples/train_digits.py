"""The main job: a tutorial-style training run that works offline.

PyTorch code with one line changed (`import jtorch as torch`). It trains a small convolutional
network on real images: FashionMNIST when its files are in ./data, otherwise scikit-learn's bundled 8x8 digits, which ship with the `digits` extra.
Each epoch shows a progress bar and prints the loss and the test accuracy; at the end it saves a
checkpoint that real PyTorch loads (`torch.load("out/digits_cnn.pt")`) and writes a PNG plot of
the loss and accuracy curves.

    python examples/train_digits.py [--epochs 8] [--out out]
"""
import argparse
import os
import sys
import time

import numpy as np

import jtorch as torch
import jtorch.nn as nn
import jtorch.nn.functional as F
from jtorch.utils.data import DataLoader, TensorDataset


def load_data():
    """(train images, train labels, test images, test labels, source name); images N x 1 x H x W in [0, 1]."""
    try:
        # only files already in ./data: the main job must not wait on a network that is not there
        from jtorch.vision import datasets
        train = datasets.FashionMNIST(root="data", train=True, download=False)
        test = datasets.FashionMNIST(root="data", train=False, download=False)
        to_np = lambda d: (d.data.numpy()[:, None].astype(np.float32) / 255.0, d.targets.numpy())
        return (*to_np(train), *to_np(test), "FashionMNIST")
    except Exception:
        pass
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images.astype(np.float32)[:, None] / 16.0
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(0.8 * len(labels))
    return images[:split], labels[:split], images[split:], labels[split:], "scikit-learn digits (8x8)"


class ConvNet(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * (size // 4) ** 2, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def progress(epoch, done, total, loss, started, width=30):
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    rate = done / max(time.time() - started, 1e-9)
    sys.stdout.write("\repoch %d [%s] %d/%d loss %.4f %.0f batch/s" % (epoch, bar, done, total, loss, rate))
    sys.stdout.flush()


def train_epoch(model, loader, loss_fn, optimizer, epoch):
    model.train()
    started, total, running = time.time(), len(loader), 0.0
    for i, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
        if i % 5 == 0 or i + 1 == total:
            progress(epoch, i + 1, total, running / (i + 1), started)
    sys.stdout.write("\n")
    return running / total


def evaluate(model, loader, loss_fn):
    model.eval()
    correct, loss, n = 0, 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            pred = model(x)
            loss += loss_fn(pred, y).item() * len(y)
            correct += (pred.argmax(1) == y).sum().item()
            n += len(y)
    return loss / n, correct / n


def plot(history, path):
    """Loss and accuracy curves as a PNG, drawn with Pillow (the `vision` extra)."""
    from PIL import Image, ImageDraw
    w, h, pad = 640, 320, 40
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    panels = [("train loss", [r["train_loss"] for r in history], (200, 40, 40)),
              ("test accuracy", [r["accuracy"] for r in history], (40, 90, 200))]
    for k, (title, values, color) in enumerate(panels):
        x0, x1 = pad + k * (w // 2), (k + 1) * (w // 2) - 10
        y0, y1 = pad, h - pad
        draw.rectangle([x0, y0, x1, y1], outline="black")
        draw.text((x0, 10), "%s (last %.4f)" % (title, values[-1]), fill="black")
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        pts = [(x0 + (x1 - x0) * i / max(len(values) - 1, 1), y1 - (y1 - y0) * (v - lo) / span)
               for i, v in enumerate(values)]
        if len(pts) > 1:
            draw.line(pts, fill=color, width=2)
        for p in pts:
            draw.ellipse([p[0] - 2, p[1] - 2, p[0] + 2, p[1] + 2], fill=color)
    img.save(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--out", default="out")
    args = p.parse_args(argv)

    torch.manual_seed(0)
    x_train, y_train, x_test, y_test, source = load_data()
    print("data: %s, %d train / %d test images of %dx%d"
          % (source, len(y_train), len(y_test), x_train.shape[2], x_train.shape[3]))
    train = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    test = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test, batch_size=256)

    model = ConvNet(x_train.shape[2])
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    history, started = [], time.time()
    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(model, train_loader, loss_fn, optimizer, epoch)
        test_loss, accuracy = evaluate(model, test_loader, loss_fn)
        history.append({"train_loss": train_loss, "test_loss": test_loss, "accuracy": accuracy})
        print("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.2f%%"
              % (epoch, train_loss, test_loss, 100 * accuracy))
    print("trained in %.1f s" % (time.time() - started))

    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, "digits_cnn.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "history": history},
               checkpoint)
    print("checkpoint: %s (loads in PyTorch with torch.load)" % checkpoint)
    try:
        plot(history, os.path.join(args.out, "curves.png"))
        print("plot: %s" % os.path.join(args.out, "curves.png"))
    except ImportError:
        print("plot skipped: install the vision extra (pillow) for the PNG")
    return history


if __name__ == "__main__":
    main()
