"""Creation parity: tensor/as_tensor/from_numpy inference, the filled and _like/new_ families,
arange/linspace/logspace numerics, eye, out=, legacy constructors, complex/polar."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A, assert_same, compare
from tests.tensor._util import compare_env, same_error


def _both(fn):
    j, t = fn(jtorch), fn(torch)
    assert_same(j, t)
    if isinstance(t, torch.Tensor):
        assert j.requires_grad == t.requires_grad
    return j, t


TENSOR = [
    lambda t: t.tensor([[1, 2], [3, 4]]),
    lambda t: t.tensor([1, 2.5]),
    lambda t: t.tensor([True, False]),
    lambda t: t.tensor([True, 2]),
    lambda t: t.tensor([1, 2.0, 3j]),
    lambda t: t.tensor(3),
    lambda t: t.tensor(3.5),
    lambda t: t.tensor(True),
    lambda t: t.tensor([]),
    lambda t: t.tensor([[], []]),
    lambda t: t.tensor([[1, 2]], dtype=t.float64),
    lambda t: t.tensor([1.7, -2.7], dtype=t.int32),
    lambda t: t.tensor([1.5], requires_grad=True),
    lambda t: t.tensor([t.tensor(1.5), t.tensor(2.0)]),
    lambda t: t.tensor([t.tensor(1), 2]),
    lambda t: t.tensor([[t.tensor(1.0), 2], [3, 4]]),
    lambda t: t.tensor((1, 2)),
    lambda t: t.tensor(np.float32(2.5)),
    lambda t: t.tensor([np.int32(1), np.int32(2)]),
    lambda t: t.tensor(t.arange(3)),
    lambda t: t.tensor(1e10),
    lambda t: t.tensor(2 ** 40),
]


@pytest.mark.parametrize("fn", TENSOR)
def test_tensor_inference(fn):
    _both(fn)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
                                   np.int16, np.int32, np.int64, np.uint8, np.bool_])
def test_tensor_from_numpy_dtypes(dtype):
    arr = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    _both(lambda t: t.tensor(arr))
    _both(lambda t: t.as_tensor(arr))
    _both(lambda t: t.tensor(arr[:, ::2], dtype=t.float64))


def test_tensor_copies_as_tensor_shares():
    def program(t):
        arr = np.zeros(3, dtype=np.float32)
        copied, shared = t.tensor(arr), t.as_tensor(arr)
        converted = t.as_tensor(arr, dtype=t.float64)
        arr[0] = 5
        x = t.ones(2)
        same = t.as_tensor(x)
        same.add_(1)
        return dict(copied=copied, shared=shared, converted=converted, x=x, is_same=same is x,
                    asarray=t.asarray(arr, dtype=t.int64))
    compare_env(program)


TENSOR_ERRORS = [
    lambda t: t.tensor([[1, 2], [3]]),
    lambda t: t.tensor("abc"),
    lambda t: t.tensor([1, "a"]),
    lambda t: t.tensor([t.ones(2), t.ones(3)]),
]


@pytest.mark.parametrize("fn", TENSOR_ERRORS)
def test_tensor_errors(fn):
    same_error(fn, match_message=False)


FILLED = [
    lambda t: t.zeros(2, 3),
    lambda t: t.zeros((2, 3), dtype=t.int32),
    lambda t: t.zeros([]),
    lambda t: t.zeros(t.Size([0, 2])),
    lambda t: t.ones(3, dtype=t.bool),
    lambda t: t.ones(2, 2, requires_grad=True),
    lambda t: t.full((2, 2), 7),
    lambda t: t.full((2,), 1.5),
    lambda t: t.full((2,), True),
    lambda t: t.full((2,), 2 + 1j),
    lambda t: t.full([2], 3, dtype=t.float64),
    lambda t: t.full((2,), t.tensor(4.0)),
    lambda t: t.empty(2, 3).shape,
    lambda t: t.empty((0,)),
    lambda t: t.zeros_like(t.ones(2, 3, dtype=t.int64)),
    lambda t: t.ones_like(t.ones(2), dtype=t.float16),
    lambda t: t.full_like(t.ones(2, dtype=t.int32), 2.7),
    lambda t: t.empty_like(t.ones(2, 3)).shape,
    lambda t: t.ones(2, dtype=t.float64).new_zeros(3),
    lambda t: t.ones(2, dtype=t.int64).new_ones((2, 2)),
    lambda t: t.ones(2).new_full((3,), 5),
    lambda t: t.ones(2).new_empty(4).shape,
    lambda t: t.ones(2, dtype=t.float64).new_tensor([1, 2]),
    lambda t: t.ones(2).new_tensor([1, 2], dtype=t.int32),
    lambda t: t.eye(3),
    lambda t: t.eye(2, 4, dtype=t.int64),
    lambda t: t.scalar_tensor(3),
]


@pytest.mark.parametrize("fn", FILLED)
def test_filled(fn):
    _both(fn)


RANGES = [
    lambda t: t.arange(5),
    lambda t: t.arange(1, 4),
    lambda t: t.arange(0, 1, 0.1),
    lambda t: t.arange(-1.0, 1.0, 0.3),
    lambda t: t.arange(0, 10, 3),
    lambda t: t.arange(10, 0, -1.5),
    lambda t: t.arange(0.5, 10),
    lambda t: t.arange(1, 2.5, 0.5),
    lambda t: t.arange(0, 1, 0.1, dtype=t.float64),
    lambda t: t.arange(0, 5, 1.5, dtype=t.int64),
    lambda t: t.arange(1e6, 1e6 + 1, 0.125),
    lambda t: t.arange(t.tensor(3)),
    lambda t: t.arange(0, 0.9, 0.3),
    lambda t: t.arange(5, dtype=t.float32),
    lambda t: t.linspace(0, 1, 5),
    lambda t: t.linspace(-10, 10, steps=7),
    lambda t: t.linspace(0, 1, 1),
    lambda t: t.linspace(0, 1, 0),
    lambda t: t.linspace(1, 100, 11, dtype=t.float64),
    lambda t: t.linspace(0, 10, 6, dtype=t.int64),
    lambda t: t.linspace(0.1, 0.7, 33),
    lambda t: t.logspace(0, 2, 5),
    lambda t: t.logspace(-1, 1, 4, base=2),
    lambda t: t.logspace(0, 3, 4, dtype=t.float64),
]


@pytest.mark.parametrize("fn", RANGES)
def test_ranges_exact(fn):
    j, t = fn(jtorch), fn(torch)
    assert str(j.dtype) == str(t.dtype) and tuple(j.shape) == tuple(t.shape)
    np.testing.assert_array_equal(j.numpy(), t.numpy())


RANGE_ERRORS = [
    lambda t: t.arange(0, 5, 0),
    lambda t: t.arange(5, 0, 1),
    lambda t: t.linspace(0, 1, -1),
    lambda t: t.zeros(-1),
    lambda t: t.zeros(2, 1.5),
    lambda t: t.eye(-1),
    lambda t: t.arange(0, 64, 0.5, out=t.empty(0, dtype=t.long)),
    lambda t: t.arange(0, 5, 0.5, dtype=t.long),
    lambda t: t.linspace(0, 3, 1.0),
]


@pytest.mark.parametrize("fn", RANGE_ERRORS)
def test_creation_errors(fn):
    same_error(fn)


def test_out_returns_the_same_object():
    def program(t):
        out = t.empty(0)
        r = t.zeros(2, 3, out=out)
        o2 = t.empty(2, dtype=t.int64)
        r2 = t.arange(4, out=o2)
        o3 = t.empty(3)
        r3 = t.linspace(0, 1, 3, out=o3)
        return dict(out=out, same=r is out, o2=o2, same2=r2 is o2, o3=o3, same3=r3 is o3)
    compare_env(program, versions=False)


LEGACY = [
    lambda t: t.Tensor(),
    lambda t: t.Tensor(2, 3).shape,
    lambda t: t.Tensor([1, 2]),
    lambda t: t.Tensor((2, 3)),
    lambda t: t.Tensor(t.Size([2, 3])).shape,
    lambda t: t.Tensor(np.array([1, 2])),
    lambda t: t.Tensor([[1, 2], [3, 4]]),
    lambda t: t.Tensor([True]),
    lambda t: t.FloatTensor([1, 2]),
    lambda t: t.FloatTensor(2, 3).shape,
    lambda t: t.DoubleTensor([1]),
    lambda t: t.LongTensor([1.7, 2]),
    lambda t: t.LongTensor(3).shape,
    lambda t: t.IntTensor([1]),
    lambda t: t.BoolTensor([1, 0]),
    lambda t: t.ByteTensor([1, 2]),
    lambda t: t.HalfTensor([1]),
    lambda t: isinstance(t.zeros(2), t.FloatTensor),
    lambda t: isinstance(t.zeros(2, dtype=t.long), t.FloatTensor),
    lambda t: isinstance(t.zeros(2, dtype=t.long), t.LongTensor),
    lambda t: t.zeros(2).type(t.LongTensor),
    lambda t: t.zeros(2).type("torch.DoubleTensor"),
    lambda t: t.zeros(2).type(),
    lambda t: repr(t.FloatTensor),
    lambda t: t.ones(2, dtype=t.float64).new(2, 3).shape,
    lambda t: t.ones(2, dtype=t.float64).new([1, 2]),
    lambda t: t.ones(2, dtype=t.int32).new().shape,
]


@pytest.mark.parametrize("fn", LEGACY)
def test_legacy_constructors(fn):
    _both(fn)


def test_legacy_tensor_of_tensor_aliases():
    def program(t):
        x = t.ones(2)
        y = t.Tensor(x)
        y.add_(1)
        return dict(x=x, y=y)
    compare_env(program)


@pytest.mark.parametrize("fn", [lambda t: t.Tensor(3.5), lambda t: t.FloatTensor(t.tensor([1, 2])),
                                lambda t: t.DoubleTensor(t.ones(2))])
def test_legacy_errors(fn):
    same_error(fn, match_message=False)


@pytest.mark.parametrize("case", [
    ("complex", lambda t, a, b: t.complex(a, b), A(3), A(2, 1)),
    ("complex64_parts", lambda t, a, b: t.view_as_real(t.complex(a, b)) * 2, A(3), A(3)),
    ("polar", lambda t, a, b: t.view_as_real(t.polar(a, b)), A(3, low=0.1), A(3)),
    ("complex_f64", lambda t, a, b: t.complex(a, b), A(2, dtype=np.float64), A(2, dtype=np.float64)),
], ids=lambda c: c[0])
def test_complex_from_parts(case):
    name, fn, *args = case
    compare(fn, *args)


@pytest.mark.parametrize("fn", [lambda t: t.complex(t.ones(2), t.ones(2).double()),
                                lambda t: t.complex(t.ones(2, dtype=t.long), t.ones(2, dtype=t.long)),
                                lambda t: t.polar(t.ones(2, dtype=t.long), t.ones(2, dtype=t.long))])
def test_complex_errors(fn):
    same_error(fn)
