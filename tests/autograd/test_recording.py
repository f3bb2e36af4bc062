"""Recording semantics against torch: grad_fn names, next_functions, requires_grad, is_leaf,
retain_grad, hooks on tensors and nodes, .grad accumulation."""
import pytest

from tests.autograd._snippets import check

# expressions over x (4x3, requires grad), y (4x3, requires grad), c (4x3, no grad),
# i (long index): the grad_fn class name must be torch's
NAME_EXPRS = """x + y|x + 1|1 + x|x - y|x - 1|1 - x|x * y|x * 2|2 * x|x / y|x / 2|x ** 2|x ** y|2 ** x|-x
x.exp()|x.log()|x.sin()|x.cos()|x.tanh()|x.sigmoid()|x.relu()|x.sqrt()|x.abs()|x.neg()|x.square()
x.sum()|x.mean()|x.max()|x.min()|x.prod()|x.std()|x.var()|x.logsumexp(1)|x.cumsum(0)
x.t()|x.T|x.view(-1)|x.reshape(-1)|x.flatten()|x.unsqueeze(0)|x.squeeze()|x.permute(1, 0)
x.transpose(0, 1)|x.expand(2, 4, 3)|x[0]|x[1:]|x[:, 1]|x[None]|x[[0, 1]]|x[x > 0]|x.clone()
x.contiguous()|x.t().contiguous()|x.double()|x.float()|x @ y.t()|x.mm(y.t())|x[0] @ y[0]|x @ y[0]
torch.cat([x, y])|torch.stack([x, y])|x.split(1)[0]|x.chunk(2, 1)[0]|x.unbind(0)[0]
torch.where(x > 0, x, y)|x.clamp(0, 1)|x.clamp(min=0)|x.softmax(-1)|x.log_softmax(-1)
x.masked_fill(x > 0, 0.)|x.gather(1, i)|x.index_select(0, torch.tensor([0, 2]))|x.reciprocal()
torch.maximum(x, y)|x.trace()|x.tril()|x.lerp(y, 0.5)|x.addcmul(x, y)|x.narrow(0, 1, 2)|x.repeat(2, 1)
x.flip(0)|x.roll(1, 0)|x.pow(0.5)|x.floor()|x.round()|x.sign()|x.erf()|torch.dot(x[0], y[0])
x.add(y, alpha=2)|x.sub(y, alpha=2)|x + c|c * x|x.exp_() if False else (x * 1).exp_()
(x * 1).add_(1)|(x * 1).mul_(y)|x.sum(0)|x.mean(0)|x.max(0)[0]|x.norm()|torch.outer(x[0], y[0])"""
NAMES = [e for line in NAME_EXPRS.splitlines() for e in line.split("|")]
# torch computes outer as a broadcast multiply (MulBackward0); jtorch's op table names it after
# the op. The op table owns the fix.
KNOWN_NAME_GAPS = {"torch.outer(x[0], y[0])"}

SETUP = """
x = torch.tensor([[1., -2, 3], [4, 5, -6], [0.5, 2, 1], [3, -1, 2]], requires_grad=True)
y = torch.tensor([[2., 1, -1], [0.5, 3, 2], [1, -1, 4], [2, 2, 0.5]], requires_grad=True)
c = torch.tensor([[1., 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]])
i = torch.tensor([[0], [2], [1], [0]])
"""


@pytest.mark.parametrize("expr", NAMES)
def test_grad_fn_name(expr):
    if expr in KNOWN_NAME_GAPS:
        pytest.xfail("node name not declared as torch's by the op table yet")
    check(SETUP + "r = %s\nout = (type(r.grad_fn).__name__, r.requires_grad, r.is_leaf)" % expr)


GRAPHS = {
    "leaf_and_number": "x = torch.ones(3, requires_grad=True); r = x * 2",
    "number_add": "x = torch.ones(3, requires_grad=True); r = 2 + x",
    "number_left": "x = torch.ones(3, requires_grad=True); r = 2 * x",
    "constant_tensor": "x = torch.ones(3, requires_grad=True); r = x + torch.ones(3)",
    "constant_first": "x = torch.ones(3, requires_grad=True); r = torch.ones(3) * x",
    "same_leaf_twice": "x = torch.ones(3, requires_grad=True); r = x * x",
    "int_tensor": "x = torch.ones(3, requires_grad=True); r = x * torch.tensor([1, 2, 3])",
    "pow_number": "x = torch.ones(3, requires_grad=True); r = x ** 2",
    "chain": "x = torch.ones(3, requires_grad=True); w = torch.ones(3, requires_grad=True); "
             "r = ((x + w) * w).exp().sum()",
    "cat_mixed": "x = torch.ones(3, requires_grad=True); r = torch.cat([x, torch.ones(2), x])",
    "index": "x = torch.ones(3, 2, requires_grad=True); r = x[torch.tensor([0, 2])]",
    "gather": "x = torch.ones(3, 2, requires_grad=True); r = x.gather(1, torch.tensor([[0], [1], [0]]))",
    "where": "x = torch.ones(3, requires_grad=True); r = torch.where(x > 0, x, torch.zeros(3))",
    "matmul": "x = torch.ones(3, 2, requires_grad=True); w = torch.ones(4, 2, requires_grad=True); "
              "r = (x @ w.t()).relu().mean()",
    "view_chain": "x = torch.ones(3, 2, requires_grad=True); r = x.view(6)[1:].unsqueeze(0)",
    "masked_fill": "x = torch.ones(3, requires_grad=True); r = x.masked_fill(x > 2, 0.)",
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_next_functions(name):
    src = GRAPHS[name] + """
for k, v in list(locals().items()):
    if hasattr(v, "requires_grad") and k in ("x", "w"):
        v._test_name = k
out = repr(names(r.grad_fn))
acc = [n for n, _ in r.grad_fn.next_functions if n is not None and type(n).__name__ == "AccumulateGrad"]
out = (out, all(a.variable is x or a.variable is globals().get("w") for a in acc),
       all(a.next_functions == () for a in acc))
"""
    check(src)


CASES = {
    # requires_grad propagation and leaves
    "propagation": """
a = torch.ones(2); b = torch.ones(2, requires_grad=True)
out = [(a + a).requires_grad, (a + b).requires_grad, (a * 2).is_leaf, (b * 2).is_leaf, b.is_leaf,
       a.is_leaf, (a + b).detach().requires_grad, (a + b).detach().is_leaf, b.grad_fn is None]
""",
    "int_result_no_grad": """
b = torch.ones(2, requires_grad=True)
r = (b > 0); s = b.argmax()
out = [r.requires_grad, s.requires_grad, r.grad_fn is None, (b * 2).long().requires_grad]
""",
    "requires_grad_setter": """
a = torch.ones(2); a.requires_grad = True
b = torch.zeros(2).requires_grad_(); c = torch.zeros(2).requires_grad_(False)
out = [a.requires_grad, b.requires_grad, c.requires_grad, a.is_leaf]
""",
    "requires_grad_nonleaf_false": "a = torch.ones(2, requires_grad=True); b = a * 2; b.requires_grad = False",
    "requires_grad_nonleaf_true": "a = torch.ones(2, requires_grad=True); b = a * 2; b.requires_grad_(True); out = b.requires_grad",
    "requires_grad_int": "a = torch.ones(2, dtype=torch.long); a.requires_grad_()",
    "requires_grad_int_factory": "a = torch.ones(2, dtype=torch.long, requires_grad=True)",
    # .grad
    "grad_accumulates": """
x = torch.tensor([1., 2.], requires_grad=True)
(x * x).sum().backward(); g1 = x.grad.clone(); first = x.grad
(x * 3).sum().backward()
out = [g1, x.grad, x.grad is first]
""",
    "grad_zero_and_none": """
x = torch.tensor([1., 2.], requires_grad=True)
(x * x).sum().backward(); x.grad.zero_(); (x * 3).sum().backward(); a = x.grad.clone()
x.grad = None; (x * 5).sum().backward()
out = [a, x.grad]
""",
    "grad_set_wrong_shape": "x = torch.ones(2, requires_grad=True); x.grad = torch.ones(3)",
    "grad_set_wrong_type": "x = torch.ones(2, requires_grad=True); x.grad = [1., 2.]",
    "grad_set": "x = torch.ones(2, requires_grad=True); x.grad = torch.full((2,), 3.); (2 * x).sum().backward(); out = x.grad",
    "grad_dtype_double": "x = torch.ones(2, dtype=torch.float64, requires_grad=True); (x.float() * 2).sum().backward(); out = x.grad",
    "nonleaf_grad_none": "x = torch.ones(2, requires_grad=True); y = x * 2; y.sum().backward(); out = [y.grad, x.grad]",
    # retain_grad
    "retain_grad": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3; y.retain_grad(); z = y * y; z.retain_grad()
z.sum().backward()
out = [y.grad, z.grad, y.retains_grad, z.retains_grad, x.retains_grad]
""",
    "retain_grad_accumulates": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3; y.retain_grad()
(y * y).sum().backward(retain_graph=True); (y * y).sum().backward()
out = y.grad
""",
    "retain_grad_leaf_noop": "x = torch.ones(2, requires_grad=True); x.retain_grad(); out = x.retains_grad",
    "retain_grad_no_grad": "x = torch.ones(2); x.retain_grad()",
    "retain_grad_root": "x = torch.ones(2, requires_grad=True); y = (x * 2).sum(); y.retain_grad(); y.backward(); out = y.grad",
    "retain_grad_inplace_moves": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3; y.retain_grad(); y.mul_(2)
(y * y).sum().backward()
out = [y.grad, type(y.grad_fn).__name__]
""",
    "retain_grad_sees_hook": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 3; y.retain_grad(); y.register_hook(lambda g: g * 10)
y.sum().backward()
out = [y.grad, x.grad]
""",
    # tensor hooks
    "hook_leaf_replaces": """
x = torch.tensor([1., 2.], requires_grad=True)
seen = []
h = x.register_hook(lambda g: seen.append(g.clone()) or g * 2)
(x * x).sum().backward()
out = [x.grad, seen[0]]
""",
    "hook_nonleaf": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
y.register_hook(lambda g: g + 1)
(y * y).sum().backward()
out = x.grad
""",
    "hook_order_and_remove": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
log = []
h1 = y.register_hook(lambda g: log.append("a") or g * 2)
h2 = y.register_hook(lambda g: log.append("b") or g + 1)
h1.remove()
y.sum().backward()
out = [x.grad, log]
""",
    "hook_returns_none": """
x = torch.tensor([1., 2.], requires_grad=True)
seen = []
x.register_hook(lambda g: seen.append(g.sum().item()))
(3 * x).sum().backward()
out = [x.grad, seen]
""",
    "hook_in_autograd_grad": """
x = torch.tensor([1., 2.], requires_grad=True)
x.register_hook(lambda g: g * 2)
out = torch.autograd.grad((3 * x).sum(), x)
""",
    "hook_no_grad_tensor": "x = torch.ones(2); x.register_hook(lambda g: g)",
    "hook_wrong_shape": """
x = torch.ones(2, requires_grad=True)
x.register_hook(lambda g: torch.ones(3))
(x * 2).sum().backward()
""",
    "post_accumulate_hook": """
x = torch.tensor([1., 2.], requires_grad=True)
log = []
x.register_post_accumulate_grad_hook(lambda t: log.append(t.grad.clone()))
(x * 3).sum().backward(); (x * 1).sum().backward()
out = log
""",
    # node hooks
    "node_hook": """
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
y = x * w
log = []
def hook(grad_inputs, grad_outputs):
    log.append((grad_inputs, grad_outputs))
    return (grad_inputs[0] * 10, grad_inputs[1])
y.grad_fn.register_hook(hook)
y.sum().backward()
out = [x.grad, w.grad, log[0][0], log[0][1]]
""",
    "node_hook_none_edge": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * torch.tensor([3., 4.])
log = []
y.grad_fn.register_hook(lambda gi, go: log.append([g is None for g in gi]))
y.sum().backward()
out = log
""",
    "node_prehook": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
y.grad_fn.register_prehook(lambda go: (go[0] * 3,))
y.sum().backward()
out = x.grad
""",
    "node_prehook_after_tensor_hook": """
x = torch.tensor([1., 2.], requires_grad=True)
y = x * 2
log = []
y.grad_fn.register_prehook(lambda go: log.append(("node", go[0].tolist())))
y.register_hook(lambda g: log.append(("tensor", g.tolist())) or g + 1)
y.sum().backward()
out = log
""",
    "node_metadata_and_name": """
x = torch.ones(2, requires_grad=True)
y = x * 2
y.grad_fn.metadata["k"] = 1
out = [y.grad_fn.name(), y.grad_fn.metadata, isinstance(y.grad_fn, torch.autograd.graph.Node)]
""",
    "hook_order_across_nodes": """
x = torch.tensor([1., 2.], requires_grad=True)
a = x * 2; b = x * 3; c = a + b; d = c.exp(); e = c.sin()
log = []
for k, t in dict(a=a, b=b, c=c, d=d, e=e).items():
    t.register_hook(lambda g, k=k: log.append(k))
(d + e).sum().backward()
out = log
""",
    "saved_tensor_attrs": """
x = torch.tensor([1., 2.], requires_grad=True)
w = torch.tensor([3., 4.], requires_grad=True)
y = x * w; z = x.exp()
out = [y.grad_fn._saved_self, y.grad_fn._saved_other, z.grad_fn._saved_result]
""",
    "variable": """
v = torch.autograd.Variable(torch.ones(2), requires_grad=True)
out = [v.requires_grad, isinstance(torch.ones(1), torch.autograd.Variable), type(v).__name__]
""",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check(CASES[name])
