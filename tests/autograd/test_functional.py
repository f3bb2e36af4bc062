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
    # only tuples are sequences of tensors
    "jacobian_list_inputs": "F.jacobian(g, [x, y])",
    "vjp_list_v": "F.vjp(f, x, [v])",
    "jacobian_list_outputs": "F.jacobian(lambda a: [a, a], x)",
    # the strategies: checks, containers and dtypes as torch's
    "jacobian_vectorize_strict": "F.jacobian(f, x, vectorize=True, strict=True)",
    "jacobian_forward_mode": "j = F.jacobian(h, (x, y), vectorize=True, strategy='forward-mode'); out = [j, type(j).__name__, type(j[0]).__name__]",
    "jacobian_forward_mode_dtype": "j = F.jacobian(lambda a: (a.float(), (a > 0).long()), x, vectorize=True, strategy='forward-mode'); out = [j, str(j[0].dtype), str(j[1].dtype)]",
    "jacobian_forward_mode_strict": "F.jacobian(f, x, vectorize=True, strategy='forward-mode', strict=True)",
    "jacobian_forward_mode_int_input": "F.jacobian(lambda a: a * 2, torch.tensor([1, 2]), vectorize=True, strategy='forward-mode')",
    "jacobian_empty_output": "F.jacobian(lambda a: a[:0], x)",
    "jacobian_vectorize_empty_output": "F.jacobian(lambda a: a[:0], x, vectorize=True)",
    "jacobian_vectorize_one_empty_output": "out = F.jacobian(lambda a: (a * 2, a[:0]), x, vectorize=True)",
    "hessian_forward_needs_vectorize": "F.hessian(s, x, outer_jacobian_strategy='forward-mode')",
    "hessian_forward_mode": "hs = F.hessian(g, (x, y), vectorize=True, outer_jacobian_strategy='forward-mode'); out = [hs, type(hs).__name__, hs[0][0].requires_grad]",
    # strict mode
    "vjp_strict_unused_input": "F.vjp(lambda a, b: a * 2, (x, y), v, strict=True)",
    "jvp_strict_unused_input": "F.jvp(lambda a, b: a * 2, (x, y), (v, v), strict=True)",
    "vhp_not_scalar": "F.vhp(f, x, v)",
    "hvp_strict_unused_input": "F.hvp(lambda a, b: (a ** 3).sum(), (x, y), (v, v), strict=True)",
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
             "gradcheck_wrong_raises": "Jacobian mismatch for output 0 with respect to input 0",
             "jacobian_list_inputs": "but the given inputs has type <class 'list'>",
             "vjp_list_v": "The v given to vjp must be either a Tensor or a tuple of Tensors",
             "jacobian_vectorize_strict": "`strict=True` and `vectorized=True` are not supported",
             "jacobian_forward_mode_strict": "`strict=True` and `strategy=\"forward-mode\"` are not",
             "jacobian_forward_mode_int_input": "Expected primal to be floating point or complex",
             "jacobian_empty_output": "stack expects a non-empty TensorList",
             "hessian_forward_needs_vectorize": "isonly implemented for `vectorize=True`",
             "vjp_strict_unused_input": "independent of input 1. This is not allowed in strict mode.",
             "jvp_strict_unused_input": "The output of the user-provided function is independent of input 1",
             "vhp_not_scalar": "should contain a single element",
             "hvp_strict_unused_input": "The output of the user-provided function is independent of input 1"}.get(name)
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


GRAPH_CASES = {
    "saved_tensors_hooks_log": """
log = []
a = torch.ones(3, requires_grad=True)
b = torch.ones(3, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(lambda t: log.append(("pack", t.tolist())) or t,
                                              lambda t: log.append(("unpack", t.tolist())) or t):
    y = a.sin() * 3 + a.exp()
y.sum().backward()
out = [sorted(log), a.grad]
""",
    "saved_tensors_hooks_pack_value_used": """
a = torch.ones(3, requires_grad=True)
b = torch.ones(3, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(lambda t: t * 10, lambda t: t):
    y = a * b
y.sum().backward()
out = a.grad
""",
    "saved_tensors_hooks_freed": """
a = torch.ones(3, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
    y = (a.sin()).sum()
y.backward(); y.backward()
""",
    "saved_tensors_hooks_function": """
class Sq(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g
log = []
a = torch.tensor([1., 2.], requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(lambda t: log.append("pack") or t, lambda t: log.append("unpack") or t):
    y = Sq.apply(a)
y.sum().backward()
out = [log, a.grad]
""",
    "save_on_cpu": """
a = torch.ones(3, requires_grad=True); b = torch.ones(3, requires_grad=True) * 2
with torch.autograd.graph.save_on_cpu():
    y = (a * b).sum()
y.backward()
out = a.grad
""",
    "disable_saved_tensors_hooks": """
with torch.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass
""",
    "multi_grad_hook_all": """
log = []
x1 = torch.ones(2, requires_grad=True); x2 = torch.ones(2, requires_grad=True); x3 = torch.ones(2, requires_grad=True)
h = torch.autograd.graph.register_multi_grad_hook((x1, x2, x3), lambda gs: log.append(gs))
(x1 * 2 + x2).sum().backward()
h.remove()
(x1 * 2 + x2).sum().backward()
out = log
""",
    "multi_grad_hook_any": """
log = []
x1 = torch.ones(2, requires_grad=True); x2 = torch.ones(2, requires_grad=True)
torch.autograd.graph.register_multi_grad_hook((x1, x2), lambda g: log.append(g), mode="any")
(x1 * 3 + x2).sum().backward()
out = [len(log), x1.grad]
""",
    "increment_version": """
a = torch.tensor([1., 2.], requires_grad=True)
b = a * 1
y = b.sin()
torch.autograd.graph.increment_version(b)
y.sum().backward()
""",
}


@pytest.mark.parametrize("name", list(GRAPH_CASES))
def test_graph_module(name):
    check(GRAPH_CASES[name], match="no hooks here" if name == "disable_saved_tensors_hooks" else None)
