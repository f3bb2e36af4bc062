"""Indexing parity: __getitem__/__setitem__ (basic views, advanced copies, torch's placement of
advanced dimensions), the named indexing ops, gradients, and torch's errors for bad indices."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A, B, I, compare
from tests.tensor._util import compare_env, same_error


def _t(lib, *values):
    return lib.tensor(list(values))


GETITEM = [
    ("int", lambda t, x: x[1], A(4, 5)),
    ("neg_int", lambda t, x: x[-1, -2], A(4, 5)),
    ("slice_step", lambda t, x: x[::2, 1:4:2], A(5, 6)),
    ("slice_neg_bounds", lambda t, x: x[-3:, :-1], A(4, 5)),
    ("slice_out_of_range", lambda t, x: x[2:100, 7:], A(4, 5)),
    ("none", lambda t, x: x[None, :, None], A(3, 4)),
    ("ellipsis", lambda t, x: x[..., 1], A(2, 3, 4)),
    ("ellipsis_none", lambda t, x: x[1, ..., None], A(2, 3, 4)),
    ("bool_true", lambda t, x: x[True], A(2, 3)),
    ("bool_false", lambda t, x: x[False], A(2, 3)),
    ("mask", lambda t, x: x[x > 0], A(3, 4)),
    ("mask_rows", lambda t, x: x[_t(t, True, False, True)], A(3, 4)),
    ("mask_inner", lambda t, x: x[:, x[0] > 0], A(3, 4)),
    ("int_tensor", lambda t, x: x[_t(t, 0, 2, -1)], A(3, 4)),
    ("int_tensor_2d", lambda t, x: x[t.tensor([[0, 1], [2, 0]])], A(3, 4)),
    ("zero_dim_int_tensor", lambda t, x: x[t.tensor(1)], A(3, 4)),
    ("list", lambda t, x: x[[0, 2]], A(3, 4)),
    ("list_of_bools", lambda t, x: x[[True, False, True]], A(3, 4)),
    ("numpy_index", lambda t, x: x[np.array([2, 0])], A(3, 4)),
    ("two_adjacent", lambda t, x: x[:, [0, 1], [1, 2]], A(3, 4, 5)),
    ("separated", lambda t, x: x[[0, 1], :, [1, 2]], A(3, 4, 5)),
    ("int_then_slice_then_list", lambda t, x: x[0, :, [1, 2]], A(3, 4, 5)),
    ("slice_then_list", lambda t, x: x[1:2, [0, 1]], A(3, 4, 5)),
    ("list_ellipsis_int", lambda t, x: x[[0, 1], ..., 1], A(3, 4, 5)),
    ("none_then_list", lambda t, x: x[None, [0, 1]], A(3, 4)),
    ("list_then_none", lambda t, x: x[[0, 1], None], A(3, 4)),
    ("broadcast_indices", lambda t, x: x[t.tensor([[0], [1]]), t.tensor([0, 2, 3])], A(3, 4)),
    ("index_of_view", lambda t, x: x.t()[[1, 0]], A(3, 4)),
    ("empty_index", lambda t, x: x[t.tensor([], dtype=t.long)], A(3, 4)),
    ("tuple_of_list", lambda t, x: x[(0, 1),], A(3, 4)),
]


@pytest.mark.parametrize("case", GETITEM, ids=[c[0] for c in GETITEM])
def test_getitem(case):
    name, fn, *args = case
    compare(fn, *args)


def _getitem_state(index):
    def program(t):
        x = t.arange(60.0).reshape(3, 4, 5)
        y = x[index(t)]
        return dict(y=y, is_view=y._base is x)
    return program


@pytest.mark.parametrize("index", [lambda t: 1, lambda t: (slice(None), 2), lambda t: (Ellipsis, slice(1, 4, 2)),
                                   lambda t: (None, 1), lambda t: t.tensor(2), lambda t: slice(None)])
def test_basic_getitem_is_a_view_with_torchs_strides(index):
    compare_env(_getitem_state(index))


def test_getitem_grad_fn_names():
    def names(t):
        x = t.randn(3, 4, 5, requires_grad=True)
        exprs = [x[:], x[...], x[:, 0], x[0, :], x[0, 1:], x[1:, 0], x[None, 0], x[0, None], x[..., None],
                 x[[0, 1]], x[x > 0], x[True], x[:, :]]
        return [type(e.grad_fn).__name__ for e in exprs]
    assert names(jtorch) == names(torch)


def _set(index, value, shape=(3, 4)):
    def fn(t, x, *v):
        y = x.clone()
        y[index(t)] = value(t, *v) if callable(value) else value
        return y
    return fn


SETITEM = [
    ("scalar_int", _set(lambda t: 1, 7.0), A(3, 4)),
    ("scalar_slice", _set(lambda t: (slice(None), slice(1, None, 2)), -1.0), A(3, 4)),
    ("row_tensor", _set(lambda t: 0, lambda t, v: v), A(3, 4), A(4)),
    ("broadcast_col", _set(lambda t: (slice(None), 1), lambda t, v: v), A(3, 4), A(1)),
    ("leading_ones_value", _set(lambda t: 0, lambda t, v: v), A(3, 4), A(1, 1, 4)),
    ("mask_scalar", _set(lambda t: (Ellipsis,), 0.0), A(3, 4)),
    ("mask_tensor", lambda t, x: _mask_set(t, x), A(3, 4)),
    ("int_tensor", _set(lambda t: t.tensor([0, 2]), lambda t, v: v), A(3, 4), A(2, 4)),
    ("int_tensor_broadcast", _set(lambda t: t.tensor([2, 0]), lambda t, v: v), A(3, 4), A(4)),
    ("mixed", _set(lambda t: (0, slice(None), t.tensor([1, 2])), lambda t, v: v), A(3, 4, 5), A(4, 2)),
    ("int_into_float", _set(lambda t: 1, 3), A(3, 4)),
    ("none_index", _set(lambda t: (None, 1), lambda t, v: v), A(3, 4), A(1, 4)),
    ("into_int_tensor", _set(lambda t: 0, 2.7), I(3, 4)),
]


def _mask_set(t, x):
    y = x.clone()
    y[x > 0] = x[x > 0] * 10
    return y


@pytest.mark.parametrize("case", SETITEM, ids=[c[0] for c in SETITEM])
def test_setitem(case):
    name, fn, *args = case
    compare(fn, *args)


def test_setitem_into_a_view_reaches_the_base():
    def program(t):
        x = t.zeros(4, 5)
        v = x[1:, ::2]
        v[0] = 1.0
        v[:, 1] = t.tensor([2.0, 3.0, 4.0])
        v[v > 3] = -1.0
        v[[0, 2], 0] = 9.0
        w = x.t()
        w[2, [1, 3]] = 5.0
        return dict(x=x, v=v, w=w)
    compare_env(program)


NAMED = [
    ("index_select", lambda t, x, i: x.index_select(1, i), A(3, 4), I(5, high=4)),
    ("index_select_int32", lambda t, x: x.index_select(0, t.tensor([2, 0], dtype=t.int32)), A(3, 4)),
    ("gather", lambda t, x, i: t.gather(x, 1, i), A(3, 4), I(3, 2, high=4)),
    ("gather_dim0", lambda t, x, i: x.gather(0, i), A(3, 4), I(2, 4, high=3)),
    ("scatter_src", lambda t, x, i, s: x.scatter(1, i, s), A(3, 5), I(3, 2, high=5), A(3, 2)),
    ("scatter_src_larger", lambda t, x, i, s: x.scatter(1, i, s), A(3, 5), I(3, 1, high=5), A(3, 2, grad=False)),
    ("scatter_repeated", lambda t, x, s: x.scatter(0, t.tensor([[0, 0], [0, 0]]), s), A(3, 2), A(2, 2)),
    ("scatter_value", lambda t, x, i: x.scatter(0, i, 2.5), A(3, 4), I(1, 4, high=3)),
    ("scatter_value_kw", lambda t, x, i: x.clone().scatter_(0, i, value=-1.0), A(3, 4), I(1, 4, high=3)),
    # torch has no derivative for scatter's reduce=: values only
    ("scatter_reduce_add", lambda t, x, i, s: x.scatter(0, i, s, reduce="add"), A(3, 4, grad=False),
     I(2, 4, high=3), A(2, 4, grad=False)),
    ("scatter_reduce_mul", lambda t, x, i: x.clone().scatter_(0, i, 2.0, reduce="multiply"), A(3, 4, grad=False),
     I(2, 4, high=3)),
    ("scatter_add", lambda t, x, i, s: x.scatter_add(0, i, s), A(3, 4), I(5, 4, high=3), A(5, 4)),
    ("scatter_add_", lambda t, x, i, s: x.clone().scatter_add_(1, i, s), A(3, 4), I(3, 6, high=4), A(3, 6)),
    ("scatter_reduce_sum", lambda t, x, i, s: x.scatter_reduce(0, i, s, "sum"), A(3, 4), I(5, 4, high=3), A(5, 4)),
    ("scatter_reduce_mean", lambda t, x, i, s: x.scatter_reduce(0, i, s, "mean", include_self=False), A(3, 4),
     I(5, 4, high=3), A(5, 4)),
    ("scatter_reduce_amax", lambda t, x, i, s: x.scatter_reduce(0, i, s, "amax"), A(3, 4), I(5, 4, high=3),
     A(5, 4)),
    ("scatter_reduce_prod_int", lambda t, x, i, s: x.scatter_reduce(0, i, s, "prod", include_self=False),
     I(3, 4), I(5, 4, high=3), I(5, 4)),
    ("masked_fill", lambda t, x, m: x.masked_fill(m, -1.0), A(3, 4), B(3, 4)),
    ("masked_fill_broadcast", lambda t, x, m: t.masked_fill(x, m, 2), A(3, 4), B(4)),
    ("masked_fill_tensor", lambda t, x, m, v: x.masked_fill(m, v.sum()), A(3, 4), B(3, 4), A(2)),
    ("masked_fill_", lambda t, x, m: x.clone().masked_fill_(m, 0.5), A(3, 4), B(3, 4)),
    ("masked_select", lambda t, x, m: x.masked_select(m), A(3, 4), B(3, 4)),
    ("masked_select_broadcast", lambda t, x, m: t.masked_select(x, m), A(3, 4), B(4)),
    ("masked_scatter", lambda t, x, m, s: x.masked_scatter(m, s), A(3, 4), B(3, 4), A(12)),
    ("nonzero", lambda t, x: t.nonzero(x), I(3, 4, high=2)),
    ("nonzero_tuple", lambda t, x: x.nonzero(as_tuple=True), I(3, 4, high=2)),
    ("nonzero_0d", lambda t: t.tensor(3).nonzero()),
    ("nonzero_0d_tuple", lambda t: t.tensor(0).nonzero(as_tuple=True)),
    ("argwhere", lambda t, x: t.argwhere(x), I(2, 3, high=2)),
    ("where_one_arg", lambda t, x: t.where(x > 0), A(3, 4)),
    ("take", lambda t, x: t.take(x, t.tensor([[0, -1], [5, 2]])), A(3, 4)),
    ("take_along_dim", lambda t, x, i: t.take_along_dim(x, i, 1), A(3, 4), I(3, 2, high=4)),
    ("take_along_dim_flat", lambda t, x: t.take_along_dim(x, t.tensor([0, 11])), A(3, 4)),
    ("take_along_dim_bcast", lambda t, x, i: t.take_along_dim(x, i, 1), A(3, 4), I(1, 2, high=4)),
    ("index_add", lambda t, x, s: x.index_add(0, t.tensor([0, 2, 0]), s, alpha=2), A(3, 4), A(3, 4)),
    ("index_add_", lambda t, x, s: x.clone().index_add_(1, t.tensor([1, 3]), s), A(3, 4), A(3, 2)),
    ("index_copy", lambda t, x, s: x.index_copy(0, t.tensor([2, 0]), s), A(3, 4), A(2, 4)),
    ("index_fill", lambda t, x: x.index_fill(1, t.tensor([0, 3]), -2.0), A(3, 4)),
    ("index_fill_tensor", lambda t, x, v: x.index_fill(1, t.tensor([1]), v.sum()), A(3, 4), A(2)),
    ("put_", lambda t, x, s: x.clone().put_(t.tensor([1, 11]), s), A(3, 4), A(2)),
    ("put_accumulate", lambda t, x, s: x.clone().put_(t.tensor([1, 1]), s, accumulate=True), A(3, 4), A(2)),
    ("put", lambda t, x, s: t.put(x, t.tensor([0, -1]), s), A(3, 4), A(2)),
    ("index_put_", lambda t, x, v: x.clone().index_put_((t.tensor([0, 2]),), v), A(3, 4), A(4)),
    ("index_add_0d", lambda t: t.tensor(2.0).index_add(0, t.tensor([0]), t.tensor(3.0))),
    ("index_fill_0d", lambda t: t.tensor(2.0).index_fill(0, t.tensor([0]), -1.0)),
    ("scatter_add_bool", lambda t: t.tensor([True, False, False]).scatter_add(0, t.tensor([1, 1]),
                                                                              t.tensor([True, True]))),
    ("scatter_reduce_bool", lambda t: t.tensor([True, False]).scatter_reduce(0, t.tensor([0, 1]),
                                                                             t.tensor([False, True]), "amin")),
    ("put_accumulate_bool", lambda t: t.tensor([True, False]).put_(t.tensor([1]), t.tensor([True]), True)),
    ("gather_empty_index", lambda t, x: x.gather(0, t.zeros(2, 0, dtype=t.uint8)), A(5)),
    ("masked_select_out", lambda t, x, m: t.masked_select(x, m, out=t.empty(0)), A(3, 4, grad=False), B(3, 4)),
    ("index_put_acc", lambda t, x, v: t.index_put(x, (t.tensor([0, 0]), t.tensor([1, 1])), v, accumulate=True),
     A(3, 4), A(1)),
]


@pytest.mark.parametrize("case", NAMED, ids=[c[0] for c in NAMED])
def test_named_indexing_ops(case):
    name, fn, *args = case
    compare(fn, *args)


ERRORS = [
    ("getitem_oob", lambda t: t.zeros(5)[5]),
    ("getitem_oob_neg", lambda t: t.zeros(3, 4)[:, -5]),
    ("getitem_tensor_oob", lambda t: t.zeros(5)[t.tensor([0, 5])]),
    ("getitem_tensor_oob_dim1", lambda t: t.zeros(3, 4)[:, t.tensor([-5])]),
    ("getitem_list_oob", lambda t: t.zeros(3)[[3]]),
    ("too_many", lambda t: t.zeros(3, 4)[0, 0, 0]),
    ("list_value", lambda t: t.zeros(3, 4).__setitem__(1, [1.0, 2.0, 3.0, 4.0])),
    ("getitem_tensor_oob_second", lambda t: t.zeros(3, 4, 5)[t.tensor([0]), :, t.tensor([9])]),
    ("indices_do_not_broadcast", lambda t: t.zeros(3, 4)[t.tensor([0, 1, 2, 0]), t.tensor([0, 1, 2])]),
    ("set_indices_do_not_broadcast", lambda t: t.zeros(3, 4).__setitem__((t.tensor([0, 1]), t.tensor([0, 1, 2])),
                                                                          1.0)),
    ("float_index", lambda t: t.zeros(3)[1.5]),
    ("float_tensor_index", lambda t: t.zeros(3)[t.tensor([1.0])]),
    ("mask_shape", lambda t: t.zeros(2, 3)[t.tensor([True, False, True])]),
    ("negative_step", lambda t: t.zeros(3)[::-1]),
    ("setitem_oob", lambda t: t.zeros(5).__setitem__(t.tensor([5]), 1.0)),
    ("setitem_shape", lambda t: t.zeros(3, 4).__setitem__(0, t.ones(3))),
    ("setitem_adv_shape", lambda t: t.zeros(3, 4).__setitem__(t.tensor([0, 1]), t.ones(3, 4))),
    ("index_select_oob", lambda t: t.zeros(3, 4).index_select(0, t.tensor([0, 5]))),
    ("index_select_neg", lambda t: t.zeros(3, 4).index_select(0, t.tensor([-1]))),
    ("index_select_float", lambda t: t.zeros(3, 4).index_select(0, t.tensor([0.0]))),
    ("index_select_2d", lambda t: t.zeros(3, 4).index_select(0, t.tensor([[0]]))),
    ("gather_oob", lambda t: t.zeros(3, 4).gather(0, t.tensor([[0, 5]]))),
    ("gather_neg", lambda t: t.zeros(3, 4).gather(0, t.tensor([[-1]]))),
    ("gather_dims", lambda t: t.zeros(3, 4).gather(0, t.tensor([0]))),
    ("scatter_oob", lambda t: t.zeros(3, 4).scatter(0, t.tensor([[5]]), 1.0)),
    ("scatter_neg", lambda t: t.zeros(3, 4).scatter(0, t.tensor([[-1]]), 1.0)),
    ("scatter_add_oob", lambda t: t.zeros(3, 4).scatter_add(0, t.tensor([[5]]), t.zeros(3, 4))),
    ("scatter_dtype", lambda t: t.zeros(3, 4).scatter(0, t.tensor([[0]]), t.zeros(3, 4, dtype=t.float64))),
    ("index_add_oob", lambda t: t.zeros(3, 4).index_add(0, t.tensor([0, 5]), t.ones(2, 4))),
    ("index_add_dtype", lambda t: t.zeros(3, 4).index_add(0, t.tensor([0]), t.ones(1, 4, dtype=t.float64))),
    ("index_copy_oob", lambda t: t.zeros(3, 4).index_copy(0, t.tensor([0, 5]), t.ones(2, 4))),
    ("index_fill_oob", lambda t: t.zeros(3, 4).index_fill(0, t.tensor([0, 5]), 1.0)),
    ("index_fill_2d", lambda t: t.zeros(3, 4).index_fill(0, t.tensor([[0]]), 1.0)),
    ("take_oob", lambda t: t.zeros(3, 4).take(t.tensor([12]))),
    ("take_oob_neg", lambda t: t.zeros(3, 4).take(t.tensor([-13]))),
    ("put_oob", lambda t: t.zeros(3, 4).put_(t.tensor([12]), t.tensor([1.0]))),
    ("masked_fill_long_mask", lambda t: t.zeros(3, 4).masked_fill(t.ones(3, 4, dtype=t.long), 1.0)),
    ("masked_fill_1d_value", lambda t: t.zeros(3, 4).masked_fill(t.ones(3, 4, dtype=t.bool), t.ones(2))),
    ("masked_select_shape", lambda t: t.zeros(3, 4).masked_select(t.ones(2, dtype=t.bool))),
    ("index_put_dtype", lambda t: t.zeros(3).index_put_((t.tensor([0]),), t.tensor(1.0, dtype=t.float64))),
    ("masked_fill_complex", lambda t: t.zeros(2).masked_fill(t.tensor(True), 1j)),
    ("masked_fill_complex_tensor", lambda t: t.zeros(2).masked_fill(t.tensor(True), t.tensor(1j))),
    ("fill_complex", lambda t: t.zeros(2).fill_(1j)),
    ("index_fill_complex", lambda t: t.zeros(2).index_fill(0, t.tensor([0]), 1j)),
    ("gather_uint8", lambda t: t.zeros(3).gather(0, t.tensor([0], dtype=t.uint8))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_index_errors(case):
    name, fn = case
    same_error(fn)


@pytest.mark.parametrize("case", [
    ("getitem", lambda t, x: x[t.tensor([0, 2, 2])] * 2, A(3, 4)),
    ("getitem_mask", lambda t, x: x[x > 0].sum() * x, A(3, 4)),
    ("setitem_value_grad", lambda t, x, v: _set(lambda t: t.tensor([0, 0]), lambda t, v: v)(t, x, v), A(3, 4),
     A(4)),
    ("setitem_mixed_grad", lambda t, x, v: _set(lambda t: (slice(None), [1, 3]), lambda t, v: v * 3)(t, x, v),
     A(3, 4), A(3, 1)),
], ids=lambda c: c[0])
def test_indexing_gradients(case):
    name, fn, *args = case
    compare(fn, *args)
