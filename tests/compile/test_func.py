"""torch.func against torch: functional_call, grad (argnums, has_aux), grad_and_value, vmap (in_dims
with None, out_dims, nested), vjp, jvp, jacrev, jacfwd, hessian, and the per-sample-gradient recipe
of PyTorch's tutorial (vmap over grad over functional_call). Same inputs to both; values, shapes
and dtypes compared."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import assert_same

_rng = np.random.default_rng(0)


def _pair(*shape):
    a = _rng.standard_normal(shape).astype(np.float32)
    return torch.from_numpy(a.copy()), jtorch.from_numpy(a.copy())


def _both(fn):
    """fn(lib, func_module, *tensor pairs) run for torch and jtorch; results compared."""
    def run(*pairs):
        t = fn(torch, torch.func, *[p[0] for p in pairs])
        j = fn(jtorch, jtorch.func, *[p[1] for p in pairs])
        assert_same(j, t)
        return j
    return run


def _f(lib, x, y):
    return (lib.sin(x) * y).sum()


CASES = {
    "grad": (lambda L, F, x, y: F.grad(lambda a, b: _f(L, a, b))(x, y), [(3, 4), (3, 4)]),
    "grad_argnums": (lambda L, F, x, y: F.grad(lambda a, b: _f(L, a, b), argnums=(0, 1))(x, y), [(3,), (3,)]),
    "grad_has_aux": (lambda L, F, x, y: F.grad(lambda a, b: (_f(L, a, b), a.cos()), has_aux=True)(x, y),
                     [(2, 2), (2, 2)]),
    "grad_and_value": (lambda L, F, x, y: F.grad_and_value(lambda a, b: _f(L, a, b))(x, y), [(4,), (4,)]),
    "grad_of_grad": (lambda L, F, x: F.grad(F.grad(lambda a: (a ** 3).sum()))(x.sum()), [(3,)]),
    "vmap": (lambda L, F, x, y: F.vmap(lambda a, b: (a * b).sum())(x, y), [(5, 3), (5, 3)]),
    "vmap_in_dims_none": (lambda L, F, x, w: F.vmap(lambda a, b: a @ b, in_dims=(0, None))(x, w), [(5, 3), (3, 2)]),
    "vmap_out_dims": (lambda L, F, x: F.vmap(lambda a: a * 2, in_dims=1, out_dims=1)(x), [(2, 4)]),
    "vmap_nested": (lambda L, F, x, y: F.vmap(F.vmap(lambda a, b: a * b))(x, y), [(2, 3), (2, 3)]),
    "vjp": (lambda L, F, x, v: (lambda out: (out[0], out[1](v)))(F.vjp(lambda a: a.exp() * 2, x)), [(3,), (3,)]),
    "jvp": (lambda L, F, x, v: F.jvp(lambda a: a.sin() * a, (x,), (v,)), [(3,), (3,)]),
    "jacrev": (lambda L, F, x: F.jacrev(lambda a: a.tanh() * a.sum())(x), [(3,)]),
    "jacfwd": (lambda L, F, x: F.jacfwd(lambda a: a.sigmoid() * 3)(x), [(4,)]),
    "hessian": (lambda L, F, x: F.hessian(lambda a: (a.sin() * a).sum())(x), [(3,)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_equals_torch_func(name):
    fn, shapes = CASES[name]
    _both(fn)(*[_pair(*s) for s in shapes])


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))


def test_functional_call_uses_the_given_parameters():
    def run(lib, F):
        model = _model(lib)
        params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        x = lib.ones(2, 4)
        return F.functional_call(model, params, (x,)), model(x), model[0].weight.sum()
    assert_same(run(jtorch, jtorch.func), run(torch, torch.func))


def test_per_sample_gradients_as_in_the_torch_tutorial():
    """vmap(grad(loss over functional_call), in_dims=(None, None, 0, 0)): one gradient per sample,
    equal to torch.func's and to the gradients of each sample computed alone."""
    xs, ys = _pair(6, 4), (torch.tensor([0, 2, 1, 1, 0, 2]), jtorch.tensor([0, 2, 1, 1, 0, 2]))

    def run(lib, F, x, y):
        model = _model(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss(p, b, sample, target):
            out = F.functional_call(model, (p, b), (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))
        return F.vmap(F.grad(loss), in_dims=(None, None, 0, 0))(params, buffers, x, y)
    t = run(torch, torch.func, xs[0], ys[0])
    j = run(jtorch, jtorch.func, xs[1], ys[1])
    assert sorted(j) == sorted(t)
    for k in t:
        assert_same(j[k], t[k], what=k)
    # the third sample's gradient equals an ordinary backward on that sample alone
    model = _model(jtorch)
    jtorch.nn.functional.cross_entropy(model(xs[1][2:3]), ys[1][2:3]).backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(j[k][2].numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


def test_grad_of_a_non_scalar_output_raises_like_torch():
    x = _pair(3)
    with pytest.raises(RuntimeError):
        torch.func.grad(lambda a: a * 2)(x[0])
    with pytest.raises(RuntimeError):
        jtorch.func.grad(lambda a: a * 2)(x[1])
