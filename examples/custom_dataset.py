"""A custom Dataset over image files and a CSV of labels (seed tutorial 000).

    python examples/custom_dataset.py --csv img_dir/labels.csv --images img_dir
"""
import argparse
import os

import pandas as pd

import jtorch as torch
from jtorch import nn
from jtorch.utils.data import DataLoader, Dataset
from jtorch.vision.io import read_image


class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        self.img_labels = pd.read_csv(annotations_file)
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        image = read_image(os.path.join(self.img_dir, self.img_labels.iloc[idx, 0]))
        label = int(self.img_labels.iloc[idx, 1])
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--csv", default="img_dir/labels.csv")
    p.add_argument("--images", default="img_dir")
    p.add_argument("--epochs", type=int, default=15)
    args = p.parse_args()
    torch.manual_seed(0)
    data = CustomImageDataset(args.csv, args.images, transform=lambda im: im.float() / 255)
    loader = DataLoader(data, batch_size=8, shuffle=True)
    image, _ = data[0]
    model = nn.Sequential(nn.Flatten(), nn.Linear(image.numel(), 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        total, correct, loss_sum = 0, 0, 0.0
        for x, y in loader:
            out = model(x)
            loss = loss_fn(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            total += len(y)
        print("epoch %d: loss %.4f, train accuracy %.2f" % (epoch + 1, loss_sum / total, correct / total))


if __name__ == "__main__":
    main()
