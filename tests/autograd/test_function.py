"""torch.autograd.Function against torch: ctx API, node names, higher order, errors."""
import pytest

from tests.autograd._snippets import check

DEFS = """
class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result
    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result

class MulConst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        ctx.save_for_backward(a, b)
        return a * k * b
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * ctx.k * b if ctx.needs_input_grad[0] else None
        gb = g * ctx.k * a if ctx.needs_input_grad[2] else None
        return ga, None, gb

class TwoOut(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        idx = x.argmax()
        ctx.mark_non_differentiable(idx)
        return x * 2, x * 3, idx
    @staticmethod
    def backward(ctx, g1, g2, gi):
        x, = ctx.saved_tensors
        r = torch.zeros_like(x)
        if g1 is not None:
            r = r + g1 * 2
        if g2 is not None:
            r = r + g2 * 3
        return r

class Cube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x ** 3
    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        ctx.save_for_backward(x)
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2

class BadCount(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b
    @staticmethod
    def backward(ctx, g):
        return g

class BroadcastGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a.sum()
    @staticmethod
    def backward(ctx, g):
        return g * torch.ones(2, 3)

class BadShape(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2
    @staticmethod
    def backward(ctx, g):
        return torch.ones(5)

class Identity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a
    @staticmethod
    def backward(ctx, g):
        return g * 10

class Once(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a
    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * 2 * a
"""

CASES = {
    "exp": """
x = torch.tensor([0.5, 1.0], requires_grad=True)
y = Exp.apply(x)
y.sum().backward()
out = [y, x.grad, type(y.grad_fn).__name__, y.requires_grad, y.is_leaf]
""",
    "next_functions": """
x = torch.tensor([0.5, 1.0], requires_grad=True)
y = MulConst.apply(x * 1, 3., torch.ones(2))
out = [type(n).__name__ if n is not None else None for n, _ in y.grad_fn.next_functions]
""",
    "needs_input_grad": """
a = torch.tensor([1., 2.], requires_grad=True); b = torch.tensor([3., 4.])
y = MulConst.apply(a, 2., b)
y.sum().backward()
out = [a.grad, y.grad_fn.needs_input_grad, y.grad_fn.k]
""",
    "no_grad_apply": """
a = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    y = MulConst.apply(a, 2., a)
out = [y.requires_grad, y.grad_fn is None]
""",
    "no_input_requires_grad": "y = Exp.apply(torch.ones(2)); out = [y.requires_grad, y.grad_fn is None]",
    "materialize_and_non_differentiable": """
x = torch.tensor([1., 5., 2.], requires_grad=True)
a, b, i = TwoOut.apply(x)
a.sum().backward()
out = [x.grad, i.requires_grad, i, a.requires_grad]
""",
    "setup_context_style": """
x = torch.tensor([1., 2.], requires_grad=True)
y = Cube.apply(x)
y.sum().backward()
out = [x.grad, type(y.grad_fn).__name__]
""",
    "double_backward": """
x = torch.tensor([1., 2.], requires_grad=True)
y = Cube.apply(x).sum()
g, = torch.autograd.grad(y, x, create_graph=True)
h, = torch.autograd.grad(g.sum(), x)
out = [g, h]
""",
    "saved_tensors_freed": """
x = torch.tensor([1., 2.], requires_grad=True)
y = Exp.apply(x).sum()
y.backward(); y.backward()
""",
    "saved_tensors_retained": """
x = torch.tensor([1., 2.], requires_grad=True)
y = Exp.apply(x).sum()
y.backward(retain_graph=True); y.backward()
out = x.grad
""",
    "saved_tensor_modified": """
x = torch.tensor([1., 2.], requires_grad=True)
y = Exp.apply(x)
y.add_(1)
y.sum().backward()
""",
    "wrong_grad_count": """
a = torch.ones(2, requires_grad=True); b = torch.ones(2, requires_grad=True)
BadCount.apply(a, b).sum().backward()
""",
    "broadcast_grad_reduced": """
a = torch.ones(1, 3, requires_grad=True)
BroadcastGrad.apply(a).backward()
out = a.grad
""",
    "bad_grad_shape": "a = torch.ones(2, requires_grad=True); BadShape.apply(a).sum().backward()",
    "input_returned": """
a = torch.tensor([1., 2.], requires_grad=True)
y = Identity.apply(a)
y.sum().backward()
out = [y is a, a.grad, type(y.grad_fn).__name__]
""",
    "once_differentiable": """
a = torch.tensor([1., 2.], requires_grad=True)
y = Once.apply(a).sum()
g, = torch.autograd.grad(y, a, create_graph=True)
out = [g, g.requires_grad]
""",
    "in_larger_graph": """
x = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
w = torch.tensor([1., 2., 3.], requires_grad=True)
y = Exp.apply(x * w).sin() + MulConst.apply(x, 2., w)
y.sum().backward()
out = [x.grad, w.grad]
""",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check(DEFS + CASES[name])
