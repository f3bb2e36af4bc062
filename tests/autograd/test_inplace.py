"""In-place ops and views under autograd, against torch: the leaf errors (raised before the
write), rebased histories, CopySlices, regenerated view histories, version-counter errors."""
import pytest

from tests.autograd._snippets import check

CASES = {
    "leaf_inplace": "x = torch.ones(3, requires_grad=True); x.add_(1)",
    "leaf_inplace_untouched": """
x = torch.ones(3, requires_grad=True)
try:
    x.mul_(2)
except RuntimeError:
    pass
out = [x, x._version]
""",
    "leaf_setitem_untouched": """
x = torch.ones(3, requires_grad=True)
try:
    x[0] = 5.
except RuntimeError:
    pass
out = [x, x._version]
""",
    "leaf_inplace_no_grad": "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    x.mul_(2)\nout = [x, x.requires_grad, x.is_leaf]",
    "leaf_view_inplace": "x = torch.ones(3, requires_grad=True); x[0].mul_(2)",
    "leaf_view_setitem": "x = torch.ones(3, requires_grad=True); x[0] = 5.",
    "leaf_view_view": "x = torch.ones(3, requires_grad=True); x.view(3).mul_(2)",
    "leaf_zero_": "x = torch.ones(3, requires_grad=True); x.zero_()",
    "leaf_uniform_": "x = torch.ones(3, requires_grad=True); x.uniform_()",
    "leaf_fill_no_grad": "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n    x.fill_(2.)\nout = x",
    "rebase_name": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 1; y.add_(1); out = [type(y.grad_fn).__name__, y.is_leaf]",
    "rebase_grads": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = x * 2; y.mul_(3); y.add_(x); y.sin_()
y.sum().backward()
out = x.grad
""",
    "inplace_self_product": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 2; y.mul_(y); y.sum().backward(); out = x.grad",
    "inplace_mul_tensor": """
a = torch.tensor([1., 2, 3], requires_grad=True); z = torch.tensor([4., 5, 6], requires_grad=True)
y = a * 2; y.mul_(z); y.sum().backward()
out = [a.grad, z.grad]
""",
    "inplace_chain_unary": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 2; y.sin_(); y.cos_(); y.sum().backward(); out = x.grad",
    "exp_then_inplace_result": "x = torch.tensor([1., 2, 3], requires_grad=True); y = (x * 2).exp_(); y.sum().backward(); out = x.grad",
    "version_counter": """
x = torch.ones(3); v0 = x._version; x.add_(1); x[0] = 2.; y = x[1:]; y.mul_(2)
out = [v0, x._version, y._version]
""",
    # views of tensors that require grad
    "setitem_number": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = x * 1; y[0] = 5.
(y * y).sum().backward()
out = [x.grad, type(y.grad_fn).__name__, y]
""",
    "setitem_tensor": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = x * 1; y[0] = x[1] * 3
(y * y).sum().backward()
out = [x.grad, type(y.grad_fn).__name__]
""",
    "setitem_into_constant": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = torch.zeros(4); y[1:] = x * 2
(y * y).sum().backward()
out = [x.grad, y.requires_grad, type(y.grad_fn).__name__]
""",
    "setitem_advanced": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = torch.zeros(3); y[[0, 2]] = x[:2] * 2
(y * y).sum().backward()
out = [x.grad, type(y.grad_fn).__name__]
""",
    "column_mul_": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
y = x * 1; y[:, 1].mul_(2)
(y * y).sum().backward()
out = [x.grad, type(y.grad_fn).__name__]
""",
    "copy_slices_edges": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
y = x * 1; y[0] = x[1]
out = [type(y.grad_fn).__name__, [type(n).__name__ if n is not None else None for n, _ in y.grad_fn.next_functions]]
""",
    "copy_slices_edges_number": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
y = x * 1; y[:, 1].mul_(2)
out = [type(y.grad_fn).__name__, [type(n).__name__ if n is not None else None for n, _ in y.grad_fn.next_functions]]
""",
    "view_sees_base_write": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
y = x * 1; v = y.view(-1); y[0, 0] = 10.
(v * v).sum().backward()
out = [x.grad, type(v.grad_fn).__name__]
""",
    "sibling_views": """
x = torch.tensor([[1., 2, 3], [4, 5, 6]], requires_grad=True)
y = x * 1; v = y[0]; w = y[1]
w.mul_(3)
(v.sum() + (y ** 2).sum() + (w * w).sum()).backward()
out = [x.grad, type(v.grad_fn).__name__, type(w.grad_fn).__name__]
""",
    "view_inplace_unary": """
x = torch.tensor([[1., 2], [3, 4]], requires_grad=True)
y = x * 2; y.t()[0].exp_()
(y * y).sum().backward()
out = x.grad
""",
    "inplace_on_view_of_noleaf_exp": """
x = torch.tensor([1., 2, 3, 4], requires_grad=True)
y = x.exp(); y[1:3].mul_(2)
y.sum().backward()
""",
    # version counter errors
    "saved_result_exp": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.exp(); y.add_(1); y.sum().backward()",
    "saved_result_sigmoid": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.sigmoid(); y.mul_(2); y.sum().backward()",
    "saved_result_tanh": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.tanh(); y.mul_(2); y.sum().backward()",
    "saved_result_relu": "x = torch.tensor([1., -2, 3], requires_grad=True); y = x.relu(); y.mul_(2); y.sum().backward()",
    "saved_result_sqrt": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.sqrt(); y.mul_(2); y.sum().backward()",
    "saved_result_softmax": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.softmax(0); y.mul_(2); y.sum().backward()",
    "saved_result_inplace_exp": "x = torch.tensor([1., 2, 3], requires_grad=True); y = (x * 2).exp_(); y.add_(1); y.sum().backward()",
    "input_of_exp_modified_ok": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 1; z = y.exp(); y.add_(1); z.sum().backward(); out = x.grad",
    "input_of_sin_modified": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 1; z = y.sin(); y.add_(1); z.sum().backward()",
    "input_of_sin_modified_via_view": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 1; z = y.sin(); y[0] = 2.; z.sum().backward()",
    "constant_of_mul_modified": "x = torch.tensor([1., 2, 3], requires_grad=True); c = torch.tensor([1., 2, 3]); y = x * c; c.add_(1); y.sum().backward()",
    "constant_of_add_modified_ok": "x = torch.tensor([1., 2, 3], requires_grad=True); c = torch.tensor([1., 2, 3]); y = x + c; c.add_(1); y.sum().backward(); out = x.grad",
    "unread_input_modified_ok": "x = torch.tensor([1., 2, 3], requires_grad=True); w = x * 2; c = torch.tensor([1., 2, 3]); y = w * c; w.add_(1); y.sum().backward(); out = x.grad",
    "matmul_input_modified": "w = torch.ones(2, 2, requires_grad=True); a = torch.ones(3, 2); y = a @ w; a.mul_(2); y.sum().backward()",
    "detach_shares_version": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x * 1; z = y.sin(); y.detach().zero_(); z.sum().backward()",
    "data_hides_version": """
x = torch.tensor([1., 2, 3], requires_grad=True)
y = x.data; y.add_(1)
out = [x, x._version]
""",
    "modified_message_output": "x = torch.tensor([1., 2, 3], requires_grad=True); y = x.exp(); y.add_(1); y.sum().backward()",
    "modified_message_input": "x = torch.tensor([1., 2, 3], requires_grad=True); c = torch.tensor([1., 2, 3]); y = x * c; c.add_(1); y.sum().backward()",
    "detach_": "x = torch.ones(2, requires_grad=True); y = x * 2; y.detach_(); out = [y.requires_grad, y.is_leaf, y.grad_fn is None]",
    "detach_view": "x = torch.ones(2, requires_grad=True); y = (x * 2)[0:1]; y.detach_()",
    "detach_values_shared": "x = torch.ones(2, requires_grad=True); d = x.detach(); d.add_(1); out = [x, d.requires_grad]",
}

MESSAGES = {
    "leaf_inplace": "a leaf Variable that requires grad is being used in an in-place operation.",
    "leaf_view_setitem": "a view of a leaf Variable that requires grad is being used in an in-place operation.",
    "modified_message_output": "[torch.FloatTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 instead",
    "modified_message_input": "[torch.FloatTensor [3]] is at version 1; expected version 0 instead",
    "input_of_sin_modified": "which is output 0 of Add, is at version 1; expected version 0 instead",
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name):
    check(CASES[name], match=MESSAGES.get(name))
