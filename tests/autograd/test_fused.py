"""The fused backward (NOTE [Fused backward] in autograd/_fused.py): a backward structure repeated enough
times runs as one compiled program; every step must still match torch exactly as the per-node
walk does, including .grad identity, accumulation, freeing and version errors."""
import pytest

import jtorch
from jtorch.autograd import _fused
from tests.autograd._snippets import check

STEPS = _fused.FUSE_AFTER + 2

CASES = {
    "mlp_steps": """
torch.manual_seed(0)
w1 = torch.randn(5, 4, requires_grad=True); b1 = torch.zeros(5, requires_grad=True)
w2 = torch.randn(3, 5, requires_grad=True)
x = torch.randn(6, 4); y = torch.tensor([0, 2, 1, 0, 1, 2])
losses, grads, same = [], [], []
for step in range(STEPS):
    h = (x @ w1.t() + b1).relu()
    loss = -(h @ w2.t()).log_softmax(1).gather(1, y.unsqueeze(1)).mean()
    g_before = w1.grad
    loss.backward()
    same.append(w1.grad is g_before if g_before is not None else None)
    losses.append(loss.item()); grads.append([w1.grad.clone(), b1.grad.clone(), w2.grad.clone()])
    with torch.no_grad():
        for p in (w1, b1, w2):
            p -= 0.1 * p.grad
    if step % 2:
        for p in (w1, b1, w2):
            p.grad = None
out = [losses, grads, same]
""",
    "chain_fan_in": """
x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
res = []
for step in range(STEPS):
    a = x * 2; b = a.exp(); c = a.sin() * b; d = (c + a * a).tanh()
    d.sum().backward()
    res.append(x.grad.clone())
out = res
""",
    "zero_grad_in_place": """
x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
res = []
for step in range(STEPS):
    (x * x * (step + 1.0)).sum().backward()
    res.append(x.grad.clone())
    x.grad.zero_()
out = res
""",
    "second_backward_raises_when_fused": """
x = torch.tensor([0.5, -1.0], requires_grad=True)
for step in range(STEPS):
    y = (x * x).sum()
    y.backward()
y.backward()
""",
    "retain_graph_when_fused": """
x = torch.tensor([0.5, -1.0], requires_grad=True)
for step in range(STEPS):
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
out = x.grad
""",
    "version_error_when_fused": """
x = torch.tensor([0.5, -1.0], requires_grad=True)
for step in range(STEPS):
    y = x.exp()
    if step == STEPS - 1:
        y.add_(1)
    y.sum().backward()
""",
    "inplace_and_views_when_fused": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
res = []
for step in range(STEPS):
    y = x * 1
    y[:, 1].mul_(2)
    y[0] = x[1] * 3
    (y * y).sum().backward()
    res.append(x.grad.clone())
out = res
""",
    "hook_added_late": """
x = torch.tensor([0.5, -1.0], requires_grad=True)
log = []
for step in range(STEPS + 1):
    y = x * 3
    if step == STEPS:
        y.register_hook(lambda g: log.append(g.clone()) or g * 2)
    y.sum().backward()
out = [x.grad, log]
""",
    "two_leaves_one_unused_some_steps": """
x = torch.tensor([0.5, -1.0], requires_grad=True); w = torch.tensor([2.0, 3.0], requires_grad=True)
res = []
for step in range(STEPS + 2):
    y = (x * w).sum() if step % 3 else (x * x).sum()
    y.backward()
    res.append([x.grad.clone(), None if w.grad is None else w.grad.clone()])
out = res
""",
    "double_leaf": """
x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
for step in range(STEPS):
    (x.float() * 2).sum().backward()
out = x.grad
""",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check("STEPS = %d\n" % STEPS + CASES[name])


def test_fused_path_is_taken():
    before = sum(1 for v in _fused._structures.values() if v[1] is not None)
    x = jtorch.tensor([0.25, 0.5, 0.75], requires_grad=True)
    for _ in range(STEPS):
        (x.sin() * x.exp() + x).sum().backward()
    after = sum(1 for v in _fused._structures.values() if v[1] is not None)
    assert after == before + 1
