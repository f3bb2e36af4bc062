"""torch.autograd.functional, gradcheck/gradgradcheck and anomaly detection against torch."""
import warnings

import pytest

import jtorch
from tests.autograd._snippets import check

SETUP = """
F = torch.autograd.functional
def f(x):
    return (x ** 2).sin() * x.exp()
def g(x, y):
    return (x * y.exp()).sum() + (x ** 3).sum()
def h(x, y):
    return x * y, (x + y).tanh()
def s(x):
    return (x.sin() * x ** 2).sum()
x = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
y = torch.tensor([1.5, 0.2, -0.4], dtype=torch.float64)
v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
"""

CASES = {
    "jacobian_single": "out = F.jacobian(f, x)",
    "jacobian_tuple_in": "out = F.jacobian(g, (x, y))",
    "jacobian_tuple_out": "out = F.jacobian(h, (x, y))",
    "jacobian_matrix_input": "out = F.jacobian(lambda m: m @ m.t(), x.reshape(3, 1) * y)",
    "jacobian_create_graph": "j = F.jacobian(f, x, create_graph=True); out = [j, j.requires_grad]",
    "jacobian_strict": "F.jacobian(lambda a, b: a * 2, (x, y), strict=True)",
    "jacobian_forward_mode_needs_vectorize": "F.jacobian(f, x, strategy='forward-mode')",
    "jacobian_vectorize": "out = F.jacobian(h, (x, y), vectorize=True)",
    "hessian_single": "out = F.hessian(s, x)",
    "hessian_tuple": "out = F.hessian(g, (x, y))",
    "hessian_not_scalar": "F.hessian(f, x)",
    "vjp": "out = F.vjp(f, x, v)",
    "vjp_scalar_no_v": "out = F.vjp(s, x)",
    "vjp_bad_v": "F.vjp(f, x, torch.ones(2, dtype=torch.float64))",
    "vjp_missing_v": "F.vjp(f, x)",
    "jvp": "out = F.jvp(f, x, v)",
    "jvp_tuple": "out = F.jvp(h, (x, y), (v, v))",
    "hvp": "out = F.hvp(s, x, v)",
    "vhp": "out = F.vhp(s, x, v)",
    "vhp_tuple": "out = F.vhp(g, (x, y), (v, v))",
    "inputs_untouched": "F.jacobian(f, x); out = [x.requires_grad, x.grad]",
    # gradcheck
    "gradcheck_pass": "out = torch.autograd.gradcheck(f, (x.clone().requires_grad_(),))",
    "gradcheck_two_inputs": "out = torch.autograd.gradcheck(h, (x.clone().requires_grad_(), y.clone().requires_grad_()))",
    "gradgradcheck_pass": "out = torch.autograd.gradgradcheck(s, (x.clone().requires_grad_(),))",
    "gradcheck_no_input_requires_grad": "torch.autograd.gradcheck(f, (x,))",
    "gradcheck_wrong_function": """
class Wrong(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * a
    @staticmethod
    def backward(ctx, g):
        return g * 3
out = torch.autograd.gradcheck(Wrong.apply, (x.clone().requires_grad_(),), raise_exception=False)
""",
    "gradcheck_wrong_raises": """
class Wrong(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * a
    @staticmethod
    def backward(ctx, g):
        return g * 3
torch.autograd.gradcheck(Wrong.apply, (x.clone().requires_grad_(),))
""",
    # anomaly detection
    "anomaly_flags": """
before = torch.is_anomaly_enabled()
with torch.autograd.detect_anomaly():
    inside = torch.is_anomaly_enabled()
torch.autograd.set_detect_anomaly(True)
set_ = torch.is_anomaly_enabled()
torch.autograd.set_detect_anomaly(False)
out = [before, inside, set_, torch.is_anomaly_enabled()]
""",
    "anomaly_nan": """
with torch.autograd.detect_anomaly():
    a = torch.tensor([0., 1.], requires_grad=True)
    (a.sqrt() * 0).sum().backward()
""",
    "anomaly_no_nan_ok": """
with torch.autograd.detect_anomaly():
    a = torch.tensor([4., 1.], requires_grad=True)
    (a.sqrt() * 2).sum().backward()
out = a.grad
""",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    match = {"anomaly_nan": "returned nan values in its 0th output.",
             "gradcheck_wrong_raises": "Jacobian mismatch for output 0 with respect to input 0"}.get(name)
    check(SETUP + CASES[name], match=match)


def test_anomaly_warns_with_forward_trace():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with jtorch.autograd.detect_anomaly():
            a = jtorch.tensor([0., 1.], requires_grad=True)
            b = a.sqrt()   # the line the forward trace must point at
            with pytest.raises(RuntimeError, match="SqrtBackward0"):
                (b * 0).sum().backward()
    messages = [str(w.message) for w in caught]
    assert any("Anomaly Detection has been enabled" in m for m in messages)
    assert any("Error detected in SqrtBackward0" in m and "b = a.sqrt()" in m for m in messages)
    assert not jtorch.is_anomaly_enabled()
