"""The blitz tutorial's LeNet: same seed -> torch's weights, repr, outputs, and ten manual SGD steps
(p.data.sub_(lr * p.grad)) that follow torch's loss trajectory to 1e-5 relative."""
import numpy as np
import torch

import jtorch
from tests.nn.test_module import lenet


def _run(lib, steps=10, lr=0.01):
    lib.manual_seed(0)
    net = lenet(lib)
    text = repr(net)
    weights = [p.detach().numpy().copy() for p in net.parameters()]
    x = lib.randn(1, 1, 32, 32)
    target = lib.randn(1, 10)
    criterion = lib.nn.MSELoss()
    out = net(x)
    losses = []
    for _ in range(steps):
        net.zero_grad()
        loss = criterion(net(x), target)
        loss.backward()
        for p in net.parameters():
            p.data.sub_(lr * p.grad)
        losses.append(loss.item())
    names = [type(loss.grad_fn).__name__, type(loss.grad_fn.next_functions[0][0]).__name__,
             type(loss.grad_fn.next_functions[0][0].next_functions[0][0]).__name__]
    return text, weights, out.detach().numpy(), losses, names, repr(out)


def test_lenet_follows_torch():
    t = _run(torch)
    j = _run(jtorch)
    assert j[0] == t[0]
    assert j[0].startswith("Net(\n  (conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))\n")
    for jw, tw in zip(j[1], t[1]):
        np.testing.assert_array_equal(jw, tw)  # initial weights bit for bit
    np.testing.assert_allclose(j[2], t[2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(j[3], t[3], rtol=1e-5)
    assert j[4] == t[4] == ["MseLossBackward0", "AddmmBackward0", "AccumulateGrad"]
    assert j[5] == t[5]
    assert t[3][-1] < t[3][0]
