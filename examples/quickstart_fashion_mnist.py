"""The quickstart (seed tutorial 000): FashionMNIST, DataLoader, an MLP, train and test loops.

    python examples/quickstart_fashion_mnist.py --data ./data [--epochs 3]
"""
import argparse

import jtorch as torch
from jtorch import nn
from jtorch.utils.data import DataLoader
from jtorch.vision import datasets
from jtorch.vision.transforms import ToTensor


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                               nn.Linear(512, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return loss.item()


def test(dataloader, model, loss_fn):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / len(dataloader), correct / len(dataloader.dataset)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data")
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args()
    torch.manual_seed(0)
    training_data = datasets.FashionMNIST(root=args.data, train=True, download=True, transform=ToTensor())
    test_data = datasets.FashionMNIST(root=args.data, train=False, download=True, transform=ToTensor())
    train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
    test_dataloader = DataLoader(test_data, batch_size=64)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    for t in range(args.epochs):
        last = train(train_dataloader, model, loss_fn, optimizer)
        test_loss, accuracy = test(test_dataloader, model, loss_fn)
        print(f"epoch {t + 1}: train loss {last:.3f}, test loss {test_loss:.3f}, accuracy {100 * accuracy:.1f}%")


if __name__ == "__main__":
    main()
