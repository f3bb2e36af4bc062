"""Tensors (seed tutorials 000, 002, 003): creation, arithmetic, views, numpy bridge."""
import numpy as np

import jtorch as torch

torch.manual_seed(0)
x = torch.rand(5, 3)
print(x)
x = torch.zeros(5, 3, dtype=torch.long)
print(x)
x = torch.tensor([5.5, 3])
x = x.new_ones(5, 3, dtype=torch.double)
x = torch.randn_like(x, dtype=torch.float)
print(x.size())
y = torch.rand(5, 3)
result = torch.empty(5, 3)
torch.add(x, y, out=result)
y.add_(x)
print(torch.equal(result, y))
print(x[:, 1])
x = torch.randn(4, 4)
print(x.size(), x.view(16).size(), x.view(-1, 8).size())
a = torch.ones(5)
b = a.numpy()
a.add_(1)
print(b)                       # shares memory with a
arr = np.ones(5)
t = torch.from_numpy(arr)
np.add(arr, 1, out=arr)
print(t)                       # shares memory with arr
if torch.cuda.is_available():
    device = torch.device("cuda")
    z = x.to(device) + torch.ones_like(x, device=device)
    print(z.to("cpu", torch.double))
