"""Data parallelism (seed tutorial 000): a model wrapped in nn.DataParallel uses every device.

On a CPU-only machine, XLA_FLAGS=--xla_force_host_platform_device_count=4 shows 4 devices.
"""
import jtorch as torch
import jtorch.nn as nn
from jtorch.utils.data import DataLoader, Dataset


class RandomDataset(Dataset):
    def __init__(self, size, length):
        self.len = length
        self.data = torch.randn(length, size)

    def __getitem__(self, index):
        return self.data[index]

    def __len__(self):
        return self.len


class Model(nn.Module):
    def __init__(self, input_size, output_size):
        super().__init__()
        self.fc = nn.Linear(input_size, output_size)

    def forward(self, input):
        output = self.fc(input)
        print("\tIn Model: input size", input.size(), "output size", output.size())
        return output


def main():
    torch.manual_seed(0)
    loader = DataLoader(RandomDataset(5, 100), batch_size=30, shuffle=True)
    model = Model(5, 2)
    model = nn.DataParallel(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for data in loader:
        output = model(data)
        loss = (output ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print("Outside: input size", data.size(), "output_size", output.size(), "loss %.4f" % loss.item())


if __name__ == "__main__":
    main()
