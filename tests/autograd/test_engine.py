"""The backward engine against torch: Tensor.backward / autograd.backward / autograd.grad,
fan-out sums, retain_graph and freed graphs, errors, create_graph and higher derivatives."""
import pytest

from tests.autograd._snippets import check

CASES = {
    # backward and gradients
    "scalar_backward": "x = torch.tensor([1., 2, 3], requires_grad=True); (x * x).sum().backward(); out = x.grad",
    "gradient_arg": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = x * x
y.backward(torch.tensor([1., 0.1, 0.01]))
out = x.grad
""",
    "fan_out_sum": """
x = torch.tensor([1., 2.], requires_grad=True)
a = x * 2; b = a.exp(); c = a.sin(); d = a * a
(b + c + d).sum().backward()
out = x.grad
""",
    "diamond_with_views": """
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
v = x.view(4); t = x.t()
((v * 2).sum() + (t @ x).sum() + x[0].prod()).backward()
out = x.grad
""",
    "leaf_backward": "x = torch.tensor(2., requires_grad=True); x.backward(); out = x.grad",
    "multiple_roots": """
x = torch.tensor([1., 2.], requires_grad=True)
a = (x * 2).sum(); b = (x ** 3).sum()
torch.autograd.backward([a, b])
out = x.grad
""",
    "multiple_roots_grads": """
x = torch.tensor([1., 2.], requires_grad=True)
a = x * 2; b = x ** 3
torch.autograd.backward([a, b], [torch.tensor([1., 2.]), torch.tensor([3., 4.])])
out = x.grad
""",
    "backward_inputs": """
x = torch.tensor([1., 2.], requires_grad=True); w = torch.tensor([3., 4.], requires_grad=True)
y = (x * w).sum()
y.backward(inputs=[w])
out = [x.grad, w.grad]
""",
    "backward_inputs_nonleaf": """
x = torch.tensor([1., 2.], requires_grad=True)
h = x * 2; y = (h * h).sum()
y.backward(inputs=[h])
out = [x.grad, h.grad]
""",
    "backward_inputs_tensor": """
x = torch.tensor([1., 2.], requires_grad=True); w = torch.tensor([3., 4.], requires_grad=True)
(x * w).sum().backward(inputs=x)
out = [x.grad, w.grad]
""",
    "backward_inputs_empty": "x = torch.ones(2, requires_grad=True); (x * 2).sum().backward(inputs=[])",
    "double_precision": "x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True); (x.sin() * x).sum().backward(); out = x.grad",
    "dtype_mixing": """
x = torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
(x.float() * w).sum().backward()
out = [x.grad, w.grad]
""",
    "int_index_paths": """
x = torch.tensor([[1., 2.], [3., 4.], [5., 6.]], requires_grad=True)
idx = torch.tensor([0, 2, 0])
(x[idx] * torch.tensor([[1.], [2.], [3.]])).sum().backward()
out = x.grad
""",
    # errors
    "no_grad_tensor": "x = torch.ones(2); x.sum().backward()",
    "no_grad_tensor_msg": "x = torch.ones(2); (x * 2).sum().backward()",
    "nonscalar": "x = torch.ones(2, requires_grad=True); (x * 2).backward()",
    "gradient_shape": "x = torch.ones(2, requires_grad=True); (x * 2).backward(torch.ones(3))",
    "gradient_not_tensor": "x = torch.ones(2, requires_grad=True); (x * 2).backward([1., 1.])",
    "int_output": "x = torch.ones(2, requires_grad=True); (x * 2).sum().long().backward()",
    "second_backward": "x = torch.ones(2, requires_grad=True); y = (x * x).sum(); y.backward(); y.backward()",
    "second_backward_exp": "x = torch.ones(2, requires_grad=True); y = x.exp().sum(); y.backward(); y.backward()",
    "second_backward_number_mul": "x = torch.ones(2, requires_grad=True); y = (x * 2).sum(); y.backward(); y.backward()",
    "second_backward_number_div": "x = torch.ones(2, requires_grad=True); y = (x / 2).sum(); y.backward(); y.backward()",
    "second_backward_add_chain": """
x = torch.ones(2, requires_grad=True)
y = (x + 1 + torch.ones(2) - 3).sum()
y.backward(); y.backward()
out = x.grad
""",
    "second_backward_views": "x = torch.ones(2, 3, requires_grad=True); y = x.t().reshape(6)[1:].sum(); y.backward(); y.backward(); out = x.grad",
    "second_backward_matmul_constant": """
x = torch.ones(2, 3, requires_grad=True); c = torch.ones(3, 2)
y = (x @ c).sum(); y.backward(); y.backward()
""",
    "retain_graph": """
x = torch.tensor([1., 2.], requires_grad=True)
y = (x * x).sum()
y.backward(retain_graph=True); y.backward(retain_graph=True); y.backward()
out = x.grad
""",
    "retain_graph_partial_free": """
x = torch.tensor([1., 2.], requires_grad=True)
h = x.exp(); a = (h * 2).sum(); b = (h * 3).sum()
a.backward()
b.backward()
""",
    # autograd.grad
    "grad_basic": """
x = torch.tensor([1., 2.], requires_grad=True); w = torch.tensor([3., 4.], requires_grad=True)
out = torch.autograd.grad((x * w).sum(), [x, w])
""",
    "grad_single_input": "x = torch.tensor([1., 2.], requires_grad=True); out = torch.autograd.grad((x ** 3).sum(), x)",
    "grad_no_accumulate": """
x = torch.tensor([1., 2.], requires_grad=True)
g = torch.autograd.grad((x * 3).sum(), x)
out = [g, x.grad]
""",
    "grad_nonleaf_input": """
x = torch.tensor([1., 2.], requires_grad=True)
h = x * 2; y = (h.exp() + h).sum()
out = torch.autograd.grad(y, [h, x])
""",
    "grad_outputs": """
x = torch.tensor([1., 2.], requires_grad=True)
out = torch.autograd.grad(x * x, x, grad_outputs=torch.tensor([1., 10.]))
""",
    "grad_unused": "x = torch.ones(2, requires_grad=True); w = torch.ones(2, requires_grad=True); torch.autograd.grad((x * 2).sum(), [x, w])",
    "grad_allow_unused": """
x = torch.ones(2, requires_grad=True); w = torch.ones(2, requires_grad=True)
out = torch.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
""",
    "grad_materialize": """
x = torch.ones(2, requires_grad=True); w = torch.ones(2, requires_grad=True)
out = torch.autograd.grad((x * 2).sum(), [x, w], materialize_grads=True)
""",
    "grad_materialize_conflict": """
x = torch.ones(2, requires_grad=True); w = torch.ones(2, requires_grad=True)
torch.autograd.grad((x * 2).sum(), [x, w], materialize_grads=True, allow_unused=False)
""",
    "grad_input_no_grad": "x = torch.ones(2, requires_grad=True); c = torch.ones(2); torch.autograd.grad((x * c).sum(), [c])",
    "grad_output_no_grad": "x = torch.ones(2, requires_grad=True); torch.autograd.grad(torch.ones(2).sum(), [x])",
    "grad_frees_graph": """
x = torch.ones(2, requires_grad=True)
y = (x * x).sum()
torch.autograd.grad(y, x)
torch.autograd.grad(y, x)
""",
    "grad_retain": """
x = torch.tensor([1., 2.], requires_grad=True)
y = (x * x).sum()
a = torch.autograd.grad(y, x, retain_graph=True); b = torch.autograd.grad(y, x)
out = [a, b]
""",
    "grad_batched": """
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x * x
out = torch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True)
""",
    "grad_only_needed_branch": """
x = torch.tensor([1., 2.], requires_grad=True); w = torch.tensor([3., 4.], requires_grad=True)
log = []
a = x * 2; b = w * 3
b.register_hook(lambda g: log.append("b"))
out = [torch.autograd.grad((a + b).sum(), x), log]
""",
    # create_graph / higher order
    "second_derivative_pow": """
x = torch.tensor([3., 0.5], requires_grad=True)
g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
h, = torch.autograd.grad(g.sum(), x, create_graph=True)
t, = torch.autograd.grad(h.sum(), x)
out = [g, h, t, g.requires_grad]
""",
    "third_derivative_sin_exp_tanh": """
x = torch.tensor([0.3, -1.2, 2.], requires_grad=True)
y = (x.sin() * x.exp() + x.tanh() ** 2).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
h, = torch.autograd.grad(g.sum(), x, create_graph=True)
t, = torch.autograd.grad(h.sum(), x)
out = [g, h, t]
""",
    "second_derivative_sigmoid_log": """
x = torch.tensor([0.3, 1.2, 2.], dtype=torch.float64, requires_grad=True)
y = (x.sigmoid() * x.log() / (1 + x * x)).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
h, = torch.autograd.grad(g.sum(), x)
out = [g, h]
""",
    "matmul_chain_hvp": """
torch.manual_seed(0)
W1 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
W2 = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
x = torch.randn(5, 3, dtype=torch.float64)
loss = ((x @ W1).tanh() @ W2).pow(2).mean()
g1, g2 = torch.autograd.grad(loss, [W1, W2], create_graph=True)
v1, v2 = torch.ones_like(W1), torch.full_like(W2, 0.5)
hv = torch.autograd.grad((g1 * v1).sum() + (g2 * v2).sum(), [W1, W2])
out = [g1, g2, hv]
""",
    "create_graph_backward_accumulates_graph": """
x = torch.tensor([1., 2.], requires_grad=True)
(x ** 3).sum().backward(create_graph=True)
g = x.grad
(g * g).sum().backward()
out = [g.requires_grad, x.grad]
""",
    "grad_of_grad_outputs": """
x = torch.tensor([1., 2.], requires_grad=True)
v = torch.tensor([1., 1.], requires_grad=True)
g, = torch.autograd.grad(x ** 2, x, v, create_graph=True)
out = torch.autograd.grad(g.sum(), [x, v])
""",
    "double_backward_retains_by_default": """
x = torch.tensor([1., 2.], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
g2, = torch.autograd.grad(y, x)
out = [g, g2]
""",
    "hessian_by_rows": """
x = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)
y = (x[0] * x[1] ** 2 + x[2].exp() * x[0]) 
g, = torch.autograd.grad(y, x, create_graph=True)
out = [torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(3)]
""",
    "grad_fn_of_gradient": """
x = torch.tensor([3.], requires_grad=True)
g, = torch.autograd.grad(x ** 2, x, create_graph=True)
out = [type(g.grad_fn).__name__, g.is_leaf]
""",
    "node_call": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3
out = y.grad_fn(torch.tensor([1., 1.]))
""",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check(CASES[name])


MESSAGES = [
    ("second_backward", "Trying to backward through the graph a second time"),
    ("nonscalar", "grad can be implicitly created only for scalar outputs"),
    ("no_grad_tensor", "element 0 of tensors does not require grad and does not have a grad_fn"),
    ("grad_unused", "The differentiated Tensor at index 1 appears to not have been used in the graph"),
    ("grad_input_no_grad", "One of the differentiated Tensors does not require grad"),
    ("gradient_shape", "Mismatch in shape: grad_output[0] has a shape of torch.Size([3])"),
]


@pytest.mark.parametrize("name,match", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_message(name, match):
    check(CASES[name], match=match)


def test_dependency_order_matches_torch():
    # the order hooks fire in is the engine's execution order
    check("""
x = torch.tensor([1., 2.], requires_grad=True)
log = []
def tag(t, k):
    t.register_hook(lambda g: log.append(k))
    return t
a = tag(x * 2, "a"); b = tag(a + 1, "b"); c = tag(x * 3, "c"); d = tag(b * c, "d")
e = tag(a.exp(), "e"); f = tag(d + e, "f"); g = tag(c.sin(), "g")
(f.sum() + g.sum()).backward()
out = log
""")
