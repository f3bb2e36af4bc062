"""Autograd (seed tutorials 000, 002): graphs, backward, vector-Jacobian products, higher order."""
import jtorch as torch

x = torch.ones(2, 2, requires_grad=True)
y = x + 2
z = y * y * 3
out = z.mean()
print(y.grad_fn, out)
out.backward()
print(x.grad)

x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
y.backward(torch.tensor([0.1, 1.0, 0.0001]))
print(x.grad)

with torch.no_grad():
    print((x ** 2).requires_grad)

x = torch.tensor([3.], requires_grad=True)
first = torch.autograd.grad(torch.pow(x, 2), x, create_graph=True)
second = torch.autograd.grad(first[0], x)
print(first, second)
