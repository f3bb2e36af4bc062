"""Views, in-place writes, indexing and shape ops under jax.jit (as jtorch.compile runs them):
inputs are Tensors over tracers, so no op may read a value; results equal the eager ones."""
import jax
import numpy as np
import pytest

import jtorch
from tests._diff import assert_jit_matches_eager, jax_values

_rng = np.random.default_rng(0)


def _f(*shape):
    return _rng.uniform(-2, 2, size=shape).astype(np.float32)


def _i(*shape, high=3):
    return _rng.integers(0, high, size=shape).astype(np.int64)


def _writes(x, y):
    a = x.clone()
    a.view(-1)[2:5].mul_(2)
    a.t()[0].add_(y[:3])
    v = a[1]
    a[1:, ::2] = 0.5
    a.diagonal().copy_(y[:3])
    a.narrow(1, 1, 2).fill_(-1)
    b = a.unsqueeze(0).expand(2, 3, 4)
    return a, v, b, a.as_strided((2, 2), (1, 4), 1), a.unfold(1, 2, 1)


def _indexing(x, i, y):
    a = x.clone()
    a[i] = y[:4]
    a[:, i[:2]] += 1
    return (x[i], x[:, i], x[i[:3], i[1:]], x[0, :, None][i[:2]], x.index_select(1, i[:2]), x.gather(1, i.view(-1, 1)[:3]),
            a, x.scatter(0, i[None, :4], y[None, :4]), x.scatter_add(0, i[None, :4], y[None, :4]),
            x.index_add(0, i[:2], x[:2]), x.masked_fill(x > 0, 0.0), x.take(i), jtorch.where(x > 0, x, y[:4]),
            x.index_fill(1, i[:1], 2.0), x.put(i[:2], y[:2]), x.masked_scatter(x > 0, y.repeat(3)))


def _shapes(x, y):
    return (jtorch.cat([x, x], 1), jtorch.stack([x, x]), x.split(2, 1), x.chunk(2), x.unbind(1), x.flip(0),
            x.roll(1, 1), x.repeat(2, 1), x.tile(2), x.repeat_interleave(2, 0), x.movedim(0, 1), x.mT,
            jtorch.meshgrid(y[:2], y[:3], indexing="xy"), x.tril(), jtorch.rot90(x), jtorch.hstack([x, x]),
            jtorch.vstack([x, y[:4]]), x.flatten(), x.unflatten(1, (2, 2)), jtorch.broadcast_to(y[:4], (2, 4)),
            jtorch.diag_embed(y[:3]), jtorch.select_scatter(x, y[:4], 0, 1), x.tensor_split(3, 1),
            jtorch.view_as_real(jtorch.complex(x, x)), x.fliplr(), x.ravel(), x.permute(1, 0).reshape(-1))


CASES = [("writes", _writes, (_f(3, 4), _f(5))),
         ("indexing", _indexing, (_f(3, 4), _i(4), _f(5))),
         ("shapes", _shapes, (_f(3, 4), _f(5)))]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_under_jit(case):
    name, fn, arrays = case
    assert_jit_matches_eager(fn, arrays, rtol=1e-6, atol=1e-6, name=name)


def test_value_dependent_ops_say_so_under_jit():
    for fn in (lambda x: x[x > 0], lambda x: x.nonzero(), lambda x: x.masked_select(x > 0)):
        with pytest.raises(RuntimeError, match="concrete"):
            jax.jit(lambda v: jax_values(fn(jtorch.Tensor._from_value(v))))(jax.numpy.arange(3.0))
