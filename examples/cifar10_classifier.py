"""Training a classifier on CIFAR-10 (the blitz tutorial): torchvision data, Normalize, a CNN,
CrossEntropyLoss, SGD with momentum, then accuracy on the test set.

    python examples/cifar10_classifier.py --data ./data [--epochs 2] [--limit N]

The CIFAR-10 python batches are read from DATA/cifar-10-batches-py (downloaded when missing and
the network allows).
"""
import argparse

import jtorch as torch
import jtorch.nn as nn
import jtorch.nn.functional as F
import jtorch.optim as optim
import jtorch.vision as torchvision
import jtorch.vision.transforms as transforms
from jtorch.utils.data import DataLoader, Subset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="./data")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="use only this many training images")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.001)
    args = p.parse_args()
    torch.manual_seed(0)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = torchvision.datasets.CIFAR10(root=args.data, train=True, download=True, transform=transform)
    testset = torchvision.datasets.CIFAR10(root=args.data, train=False, download=True, transform=transform)
    if args.limit:
        trainset = Subset(trainset, range(args.limit))
    trainloader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
    testloader = DataLoader(testset, batch_size=64)
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        running = 0.0
        for i, (inputs, labels) in enumerate(trainloader):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        print("epoch %d loss: %.3f" % (epoch + 1, running / len(trainloader)))
    correct = total = 0
    with torch.no_grad():
        for images, labels in testloader:
            predicted = net(images).argmax(1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print("Accuracy of the network on the %d test images: %.1f %%" % (total, 100 * correct / total))


if __name__ == "__main__":
    main()
