"""Views, in-place writes and memory shared with numpy (DESIGN 4): every chain runs on torch and
jtorch, and every tensor it made is compared afterwards (values, strides, offset, contiguity,
version)."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A, compare
from tests.tensor._util import compare_env, same_error


def _grid(t, *shape, dtype=None):
    return t.arange(float(np.prod(shape)), dtype=dtype).reshape(*shape)


def chain_view_reshape(t):
    a = _grid(t, 4, 6)
    v = a.view(6, 4)
    v.add_(1)
    r = a.reshape(2, 12)            # a view: contiguous
    r[1, 3] = -5
    f = v.flatten()
    f.mul_(2)
    u = a.unflatten(1, (2, 3))
    u[0, 1, 2] = 99
    return dict(a=a, v=v, r=r, f=f, u=u)


def chain_slices(t):
    a = _grid(t, 5, 6)
    s = a[1:4, ::2]
    s.mul_(-1)
    s2 = s[::2, 1:]                 # a view of a view
    s2.add_(100)
    n = a.narrow(1, 2, 3)
    n[0].fill_(7)
    e = a[..., None, 1:5:3]
    return dict(a=a, s=s, s2=s2, n=n, e=e)


def chain_transposes(t):
    a = _grid(t, 3, 4)
    tt = a.t()
    tt[0, 2] = 50
    p = _grid(t, 2, 3, 4).permute(2, 0, 1)
    p[1].zero_()
    m = p.movedim(0, -1)
    sw = m.swapaxes(0, 1)
    sw.add_(1)
    T = a.T
    mT = p.mT
    mT[0, 0, 0] = -3
    return dict(a=a, tt=tt, p=p, m=m, sw=sw, T=T, mT=mT)


def chain_select_squeeze(t):
    a = _grid(t, 3, 1, 4)
    s = a.select(2, 1)
    s.sub_(10)
    q = a.squeeze(1)
    q[2, 3] = 1000
    q2 = a.squeeze()
    u = q.unsqueeze(0).unsqueeze(-1)
    u.mul_(2)
    i = a[1, 0]
    i[-1] = -1
    return dict(a=a, s=s, q=q, q2=q2, u=u, i=i)


def chain_expand(t):
    a = _grid(t, 3, 1)
    e = a.expand(3, 4)
    e2 = a.expand(2, -1, 5)
    a.add_(1)                       # expanded views read the base's new values
    b = t.broadcast_to(a, (2, 3, 4))
    ea = a.expand_as(_grid(t, 3, 6))
    return dict(a=a, e=e, e2=e2, b=b, ea=ea)


def chain_split_family(t):
    a = _grid(t, 6, 5)
    pieces = a.split(2)
    pieces[1].add_(100)
    sizes = a.split([1, 4], dim=1)
    sizes[1][0].fill_(-1)
    ch = a.chunk(3, dim=1)
    ch[2].mul_(3)
    ub = a.unbind(1)
    ub[0].zero_()
    ts = a.tensor_split(4)
    ts[3].add_(0.5)
    out = dict(a=a)
    for name, group in (("pieces", pieces), ("sizes", sizes), ("ch", ch), ("ub", ub), ("ts", ts)):
        for i, p in enumerate(group):
            out["%s%d" % (name, i)] = p
    return out


def chain_diagonal_strided(t):
    a = _grid(t, 4, 5)
    d = a.diagonal()
    d.fill_(-1)
    d1 = a.diagonal(1)
    d1.add_(10)
    dm = a.diagonal(-2)
    s = a.as_strided((2, 2), (1, 5), 1)
    s.mul_(2)
    s2 = a.t().as_strided((3,), (6,))
    s2.add_(0.25)
    b = _grid(t, 2, 3, 4)
    d3 = b.diagonal(0, -1, 0)
    d3.zero_()
    return dict(a=a, d=d, d1=d1, dm=dm, s=s, s2=s2, b=b, d3=d3)


def chain_unfold(t):
    a = _grid(t, 2, 7)
    u = a.unfold(1, 3, 2)
    u[0, 1].add_(100)
    u2 = a.unfold(0, 1, 1)
    return dict(a=a, u=u, u2=u2)


def chain_data_detach(t):
    a = _grid(t, 3, 4)
    d = a.detach()
    d[0, 0] = 42
    da = a.data
    da[1].fill_(5)
    dv = a.t().detach()
    dv[3].add_(1)
    return dict(a=a, d=d, da=da, dv=dv)


def chain_out_and_copy(t):
    a = _grid(t, 3, 4)
    row = a[1]
    t.mul(_grid(t, 4), 2, out=row)
    col = a[:, 2]
    col.copy_(t.tensor([-1.0, -2.0, -3.0]))
    a[0].copy_(t.tensor(9.0))
    t.add(a[2], 1, out=a[2])
    return dict(a=a, row=row, col=col)


def chain_from_numpy(t):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = t.from_numpy(arr)
    v = x[1:, 1:3]
    v.add_(100)                     # seen by arr
    np.add(arr, 1, out=arr)         # seen by x and v
    x[0, 0] = -7
    w = x.t()
    arr[2, 3] = 55
    return dict(x=x, v=v, w=w, arr=arr.copy())


def chain_from_strided_numpy(t):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    arr = base[1:, ::2]             # a strided numpy array stays shared
    x = t.from_numpy(arr)
    x[0, 1] = -1
    x.t()[2].mul_(10)
    base[3, 4] = 1000
    return dict(x=x, xt=x.t(), base=base.copy())


def chain_numpy_shares(t):
    a = _grid(t, 2, 3)
    b = a.numpy()
    a.add_(1)
    v = a[1]
    v.mul_(2)
    b[0, 0] = -9
    c = a.t().numpy()               # a view's numpy array shares too
    c[2, 1] = 77
    return dict(a=a, v=v, b=b.copy(), c=c.copy())


def chain_complex_parts(t):
    z = t.complex(_grid(t, 2, 3), -_grid(t, 2, 3))
    r = t.view_as_real(z)
    r[0, 1, 1] = 50
    re = z.real
    im = z.imag
    im.mul_(2)
    re[1, 2] = -4
    back = t.view_as_complex(r)
    return dict(r=r, re=re, im=im, back=back)


def chain_versions(t):
    a = t.zeros(3, 4)
    a[0] = 1
    a[[0, 1]] = 2
    a[a > 1] = 3
    a.add_(1)
    v = a[0]
    v.add_(1)
    a.copy_(t.ones(4))
    a.fill_(2)
    a.zero_()
    t.zeros(3, 4, out=a)
    t.add(a, 1, out=a)
    a.numpy()
    a.clamp_(0, 1)
    a.index_fill_(0, t.tensor([1]), 5.0)
    return dict(a=a, v=v)


CHAINS = [chain_view_reshape, chain_slices, chain_transposes, chain_select_squeeze, chain_expand,
          chain_split_family, chain_diagonal_strided, chain_unfold, chain_data_detach, chain_out_and_copy,
          chain_from_numpy, chain_from_strided_numpy, chain_numpy_shares, chain_complex_parts, chain_versions]


@pytest.mark.parametrize("chain", CHAINS, ids=[c.__name__[6:] for c in CHAINS])
def test_view_chain(chain):
    compare_env(chain)


def test_from_numpy_is_shared_both_ways():
    arr = np.zeros((2, 3), dtype=np.int64)
    x = jtorch.from_numpy(arr)
    x[1, 1] = 100
    assert arr[1, 1] == 100
    np.add(arr, 1, out=arr)
    assert x.tolist() == [[1, 1, 1], [1, 101, 1]]
    b = x.numpy()
    assert np.shares_memory(b, arr)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
                                   np.int16, np.int32, np.int64, np.uint8, np.bool_])
def test_from_numpy_dtypes(dtype):
    arr = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
    compare_env(lambda t: dict(x=t.from_numpy(arr.copy()), xt=t.from_numpy(arr.copy()).t()))


@pytest.mark.parametrize("bad", [np.arange(4)[::-1], np.array(["a"])])
def test_from_numpy_rejects(bad):
    same_error(lambda t: t.from_numpy(bad), match_message=bad.dtype.kind == "i")


# -- autograd through views and in-place writes ------------------------------------------------------

GRAD_CASES = [
    ("write_slice", lambda t, x, y: _write(x.clone(), lambda c: c[1:, ::2].mul_(y)), A(3, 4), A(2, 2)),
    ("setitem_int", lambda t, x, y: _set(x.clone(), (0,), y), A(3, 4), A(4)),
    ("setitem_view_of_view", lambda t, x, y: _set(x.clone()[1], (slice(1, None),), y), A(3, 4), A(3)),
    ("view_reads_write", lambda t, x, y: _read_after(x.clone(), y), A(3, 4), A(3)),
    ("transpose_write", lambda t, x, y: _write(x.clone(), lambda c: c.t()[0].add_(y)), A(3, 4), A(3)),
    ("diag_write", lambda t, x, y: _write(x.clone(), lambda c: c.diagonal().copy_(y)), A(3, 3), A(3)),
    ("copy_broadcast", lambda t, x, y: _write(x.clone(), lambda c: c.copy_(y)), A(3, 4), A(4)),
    ("fill_tensor", lambda t, x, y: _write(x.clone(), lambda c: c[0].fill_(y.sum())), A(3, 4), A(2)),
    ("split_write", lambda t, x, y: _write(x.clone(), lambda c: c.split(2)[1].mul_(y)), A(4, 3), A(3)),
    ("unbind_write", lambda t, x, y: _write(x.clone(), lambda c: c.unbind(1)[2].sub_(y)), A(3, 4), A(3)),
    ("split_write_no_grad_base", lambda t, x, y: _write(x.detach().clone(), lambda c: c.split(2)[1].mul_(y)),
     A(4, 3), A(3)),
    ("as_strided", lambda t, x: x.as_strided((2, 2), (1, 4), 1) * 2, A(3, 4)),
    ("unfold", lambda t, x: x.unfold(1, 2, 1).sum(-1), A(3, 4)),
    ("view_as_real", lambda t, x: t.view_as_real(t.complex(x, x * 2)), A(3)),
    ("expand_sum", lambda t, x: x.expand(4, 3, 2).sum(0), A(3, 1)),
]


def _write(c, f):
    f(c)
    return c


def _set(c, idx, v):
    c[idx] = v
    return c


def _read_after(c, y):
    v = c[0]                        # a view made before the write
    c[0, 1:] = y
    return v * 2


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_view_gradients(case):
    name, fn, *args = case
    compare(fn, *args)


def test_grad_fn_names_after_inplace_view_writes():
    def program(t):
        x = t.zeros(3, 4, requires_grad=True).clone()
        v1 = x[0]
        v2 = v1[1:]
        v2.copy_(t.ones(3))
        y = t.zeros(3, 4, requires_grad=True).clone()
        y[0] = 1
        z = t.zeros(3, 4, requires_grad=True).clone()
        z[[0, 1]] = 2
        w = t.zeros(2, requires_grad=True).clone()
        w.fill_(1)
        w2 = w.clone()
        w2.zero_()
        return [type(g).__name__ for g in (v1.grad_fn, v2.grad_fn, x.grad_fn, y.grad_fn, z.grad_fn, w.grad_fn,
                                             w2.grad_fn, x.grad_fn.next_functions[0][0])]
    assert program(jtorch) == program(torch)


INPLACE_ERRORS = [
    lambda t: t.zeros(3, requires_grad=True).add_(1),
    lambda t: t.zeros(3, requires_grad=True)[0].add_(1),
    lambda t: t.zeros(3, requires_grad=True).__setitem__(0, 1.0),
    lambda t: t.zeros(3).view(t.float64),
]


@pytest.mark.parametrize("fn", INPLACE_ERRORS[:3])
def test_inplace_on_leaf_raises(fn):
    same_error(fn)


def test_view_dtype_is_a_loud_gap():
    with pytest.raises(NotImplementedError):
        jtorch.zeros(3).view(jtorch.int32)


def test_saved_tensor_modified_through_view_raises():
    def fn(t):
        a = t.ones(3, requires_grad=True)
        b = a * 1
        c = b.sin()                 # sin saves its input
        b[0].mul_(2)                # written through a view: backward must notice
        c.sum().backward()
    same_error(fn, match_message=False)


def chain_inplace_metadata(t):
    x = _grid(t, 2, 1, 3)
    x.squeeze_(1)
    x.unsqueeze_(0)
    y = _grid(t, 2, 1, 3)
    y.squeeze_()
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    h = t.from_numpy(arr)
    h.t_()                          # numpy-backed: torch's strides, memory still shared
    h[0, 1] = 100
    g = t.from_numpy(np.arange(24.0).reshape(2, 3, 4))
    g.transpose_(0, 2)
    gv = g[1]
    base = t.zeros(4, 6)
    v = base[1:, ::2]               # a view: takes the view op's geometry, still writes through
    v.t_()
    v[0, 1] = 7
    v.unsqueeze_(-1).squeeze_()
    v.transpose_(1, 0)
    v.mul_(2)
    return dict(x=x, y=y, h=h, arr=arr.copy(), g=g, gv=gv, base=base, v=v)


def test_inplace_metadata_ops():
    compare_env(chain_inplace_metadata)


def test_inplace_metadata_gradients_and_names():
    def program(t):
        out = {}
        for name, f in (("t_", lambda b: b.t_()), ("transpose_", lambda b: b.transpose_(0, 1)),
                        ("squeeze_", lambda b: b.unsqueeze_(1).squeeze_(1)), ("swapdims_", lambda b: b.swapdims_(1, 0))):
            w = t.arange(6.0).reshape(2, 3).requires_grad_()
            b = w * 1
            f(b)
            (b * t.arange(6.0).reshape(b.shape)).sum().backward()
            out[name] = (type(b.grad_fn).__name__, tuple(b.shape), b._version, w.grad.tolist())
        return out
    assert program(jtorch) == program(torch)


@pytest.mark.xfail(strict=True, reason="gap: a root held as a JAX value is contiguous after t_/transpose_ "
                   "(torch reports the permuted strides); values, shapes and gradients match")
def test_inplace_transpose_strides_of_jax_roots():
    compare_env(lambda t: dict(x=t.ones(2, 3).t_()))


def test_inplace_metadata_on_roots_with_views_is_a_loud_gap():
    x = jtorch.zeros(2, 3)
    v = x[0]
    with pytest.raises(NotImplementedError):
        x.t_()
    del v
    x.t_()                          # no live view left
    assert x.shape == (3, 2)


def test_gradients_through_writes_into_complex_parts():
    def program(t):
        a = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = t.tensor([0.5, -1.0, 2.0], requires_grad=True)
        z = t.complex(a * 1, b * 1)
        z.real.mul_(3)
        z.imag.add_(a)
        r = t.view_as_real(z)
        (r * t.arange(6.0).reshape(3, 2)).sum().backward()
        return a.grad.tolist(), b.grad.tolist(), r.tolist(), type(z.grad_fn).__name__
    assert program(jtorch) == program(torch)
