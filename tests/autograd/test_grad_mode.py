"""Grad modes against torch: no_grad / enable_grad / set_grad_enabled / inference_mode as context
managers and decorators, nesting, threads, detach, .data, requires_grad_."""
import threading

import pytest

import jtorch
from tests.autograd._snippets import check

CASES = {
    "no_grad_ctx": "x = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    y = x * 2\nout = [y.requires_grad, y.grad_fn is None, torch.is_grad_enabled()]",
    "no_grad_decorator_parens": """
x = torch.ones(2, requires_grad=True)
@torch.no_grad()
def f(a):
    return a * 2, torch.is_grad_enabled()
y, inside = f(x)
out = [y.requires_grad, inside, torch.is_grad_enabled(), f.__name__]
""",
    "no_grad_decorator_bare": """
x = torch.ones(2, requires_grad=True)
@torch.no_grad
def f(a):
    return a * 2
out = [f(x).requires_grad, f.__name__]
""",
    "enable_grad_inside_no_grad": """
x = torch.ones(2, requires_grad=True)
with torch.no_grad():
    with torch.enable_grad():
        y = x * 2
    z = x * 2
out = [y.requires_grad, z.requires_grad]
""",
    "enable_grad_decorator": """
x = torch.ones(2, requires_grad=True)
@torch.enable_grad()
def f(a):
    return a * 2
@torch.enable_grad
def g(a):
    return a * 3
with torch.no_grad():
    out = [f(x).requires_grad, g(x).requires_grad]
""",
    "set_grad_enabled_statement": """
x = torch.ones(2, requires_grad=True)
torch.set_grad_enabled(False)
y = x * 2
torch.set_grad_enabled(True)
z = x * 2
out = [y.requires_grad, z.requires_grad]
""",
    "set_grad_enabled_ctx": """
x = torch.ones(2, requires_grad=True)
with torch.set_grad_enabled(False):
    y = x * 2
    inner = torch.is_grad_enabled()
out = [y.requires_grad, inner, torch.is_grad_enabled()]
""",
    "set_grad_enabled_decorator": """
x = torch.ones(2, requires_grad=True)
@torch.set_grad_enabled(False)
def f(a):
    return a * 2
after_decorating = torch.is_grad_enabled()
out = [f(x).requires_grad, after_decorating, torch.is_grad_enabled()]
""",
    "inference_mode": """
x = torch.ones(2, requires_grad=True)
with torch.inference_mode():
    y = x * 2
    inner = [torch.is_grad_enabled(), torch.is_inference_mode_enabled()]
out = [y.requires_grad, inner, torch.is_inference_mode_enabled()]
""",
    "inference_mode_false": """
x = torch.ones(2, requires_grad=True)
with torch.no_grad():
    with torch.inference_mode(False):
        y = x * 2
out = [y.requires_grad]
""",
    "inference_mode_decorators": """
x = torch.ones(2, requires_grad=True)
@torch.inference_mode()
def f(a):
    return a * 2
@torch.inference_mode
def g(a):
    return a * 2
out = [f(x).requires_grad, g(x).requires_grad, torch.is_grad_enabled()]
""",
    "nested_restore_on_error": """
x = torch.ones(2, requires_grad=True)
try:
    with torch.no_grad():
        raise ValueError
except ValueError:
    pass
out = [torch.is_grad_enabled(), (x * 2).requires_grad]
""",
    "generator_decorated": """
x = torch.ones(2, requires_grad=True)
@torch.no_grad()
def gen():
    for k in range(2):
        yield (x * k).requires_grad, torch.is_grad_enabled()
res = []
for item in gen():
    res.append((item, torch.is_grad_enabled()))
out = res
""",
    "backward_under_no_grad": """
x = torch.ones(2, requires_grad=True)
y = (x * x).sum()
with torch.no_grad():
    y.backward()
out = x.grad
""",
    "detach": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2; d = y.detach()
out = [d.requires_grad, d.is_leaf, d.grad_fn is None, d, y.requires_grad]
""",
    "detach_shares_memory": "x = torch.tensor([1., 2.], requires_grad=True); d = x.detach(); d[0] = 7.; out = x",
    "data_shares_memory": "x = torch.tensor([1., 2.], requires_grad=True); x.data.mul_(3); out = [x, x.requires_grad, x.data.requires_grad]",
    "data_setter": "x = torch.tensor([1., 2.], requires_grad=True); x.data = torch.tensor([5., 6.]); out = [x, x.requires_grad, x.is_leaf]",
    "grad_fn_none_under_no_grad": "x = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    y = x.exp()\nout = [y.grad_fn, y.is_leaf]",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check(CASES[name])


def test_grad_mode_is_thread_local():
    results = {}

    def worker():
        results["default"] = jtorch.is_grad_enabled()
        with jtorch.no_grad():
            results["inside"] = jtorch.is_grad_enabled()
    with jtorch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        results["main"] = jtorch.is_grad_enabled()
    assert results == {"default": True, "inside": False, "main": False}
    assert jtorch.is_grad_enabled()
