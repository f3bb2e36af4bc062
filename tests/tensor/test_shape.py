"""Shape family parity: values, dtypes, gradients, view strides and torch's error messages."""
import pytest
import torch

import jtorch

from tests._diff import A, B, I, compare
from tests.tensor._util import compare_env, same_error

CASES = [
    ("view", lambda t, x: x.view(4, 3), A(3, 4)),
    ("view_tuple_infer", lambda t, x: x.view((-1, 2)), A(3, 4)),
    ("view_size", lambda t, x: x.view(t.Size([2, 6])), A(3, 4)),
    ("view_as", lambda t, x, y: x.view_as(y), A(3, 4), A(2, 6)),
    ("reshape_copy", lambda t, x: x.t().reshape(-1), A(3, 4)),
    ("reshape_as", lambda t, x, y: x.reshape_as(y), A(3, 4), A(6, 2)),
    ("transpose", lambda t, x: t.transpose(x, 0, -1), A(2, 3, 4)),
    ("swapaxes", lambda t, x: t.swapaxes(x, 0, 2), A(2, 3, 4)),
    ("swapdims", lambda t, x: x.swapdims(1, 2), A(2, 3, 4)),
    ("permute", lambda t, x: x.permute(2, 0, 1), A(2, 3, 4)),
    ("permute_list", lambda t, x: t.permute(x, [1, 2, 0]), A(2, 3, 4)),
    ("t", lambda t, x: x.t(), A(3, 4)),
    ("t_1d", lambda t, x: t.t(x), A(3)),
    ("T_2d", lambda t, x: x.T, A(3, 4)),
    ("mT", lambda t, x: x.mT, A(2, 3, 4)),
    ("mH", lambda t, x: x.mH, A(2, 3, 4)),
    ("H", lambda t, x: x.H, A(3, 4)),
    ("squeeze_all", lambda t, x: x.squeeze(), A(1, 3, 1)),
    ("squeeze_dim", lambda t, x: t.squeeze(x, -1), A(1, 3, 1)),
    ("squeeze_dims", lambda t, x: x.squeeze((0, 1)), A(1, 3, 1)),
    ("squeeze_nonone", lambda t, x: x.squeeze(1), A(1, 3, 1)),
    ("unsqueeze", lambda t, x: x.unsqueeze(-1), A(2, 3)),
    ("flatten", lambda t, x: x.flatten(), A(2, 3, 4)),
    ("flatten_range", lambda t, x: t.flatten(x, 1, 2), A(2, 3, 4)),
    ("flatten_0d", lambda t, x: x.sum().flatten(), A(2)),
    ("unflatten", lambda t, x: x.unflatten(1, (2, -1)), A(3, 4)),
    ("expand", lambda t, x: x.expand(2, 3, 4), A(3, 1)),
    ("expand_neg", lambda t, x: x.expand(-1, 5), A(3, 1)),
    ("expand_as", lambda t, x, y: x.expand_as(y), A(1, 4), A(3, 4)),
    ("broadcast_to", lambda t, x: t.broadcast_to(x, (2, 3, 4)), A(3, 1)),
    ("broadcast_tensors", lambda t, x, y: t.broadcast_tensors(x, y), A(3, 1), A(4)),
    ("broadcast_shapes", lambda t: t.broadcast_shapes((3, 1), (4,), (2, 1, 1))),
    ("repeat", lambda t, x: x.repeat(2, 1, 3), A(3, 2)),
    ("repeat_interleave", lambda t, x: x.repeat_interleave(2), A(2, 3)),
    ("repeat_interleave_dim", lambda t, x: t.repeat_interleave(x, 3, dim=1), A(2, 3)),
    ("repeat_interleave_tensor", lambda t, x: x.repeat_interleave(t.tensor([1, 0, 2]), dim=1), A(2, 3)),
    ("repeat_interleave_counts", lambda t: t.repeat_interleave(t.tensor([2, 0, 3]))),
    ("tile", lambda t, x: x.tile((2,)), A(2, 3)),
    ("tile_more", lambda t, x: t.tile(x, (2, 1, 2)), A(2, 3)),
    ("cat", lambda t, x, y: t.cat([x, y], dim=-1), A(2, 3), A(2, 2)),
    ("cat_promote", lambda t, x, y: t.cat((x, y)), I(2, 3), A(1, 3)),
    ("cat_skip_empty", lambda t, x: t.cat([x, t.tensor([])]), A(2, 3)),
    ("concat", lambda t, x, y: t.concat([x, y]), A(2), A(3)),
    ("stack", lambda t, x, y: t.stack([x, y], 1), A(2, 3), A(2, 3)),
    ("hstack", lambda t, x, y: t.hstack([x, y]), A(2, 3), A(2, 1)),
    ("hstack_1d", lambda t, x, y: t.hstack((x, y)), A(2), A(3)),
    ("vstack", lambda t, x, y: t.vstack([x, y]), A(3), A(2, 3)),
    ("dstack", lambda t, x, y: t.dstack([x, y]), A(3), A(1, 3)),
    ("column_stack", lambda t, x, y: t.column_stack([x, y]), A(3), A(3, 2)),
    ("atleast_3d", lambda t, x: t.atleast_3d(x), A(3)),
    ("atleast_2d_many", lambda t, x, y: t.atleast_2d(x, y), A(3), A(2, 2)),
    ("split_int", lambda t, x: t.split(x, 2), A(5, 2)),
    ("split_sizes", lambda t, x: x.split([1, 3], dim=1), A(2, 4)),
    ("chunk", lambda t, x: x.chunk(3), A(5, 2)),
    ("chunk_uneven", lambda t, x: t.chunk(x, 4, dim=1), A(2, 6)),
    ("tensor_split", lambda t, x: x.tensor_split(3, dim=1), A(2, 7)),
    ("tensor_split_idx", lambda t, x: t.tensor_split(x, [1, 4, 10]), A(6)),
    ("hsplit", lambda t, x: t.hsplit(x, 2), A(3, 4)),
    ("vsplit", lambda t, x: x.vsplit([1]), A(3, 4)),
    ("dsplit", lambda t, x: t.dsplit(x, 2), A(2, 2, 4)),
    ("unbind", lambda t, x: t.unbind(x, 1), A(2, 3)),
    ("narrow", lambda t, x: x.narrow(1, -3, 2), A(2, 4)),
    ("narrow_copy", lambda t, x: t.narrow_copy(x, 0, 1, 1), A(2, 4)),
    ("select", lambda t, x: t.select(x, 1, -1), A(2, 4)),
    ("movedim", lambda t, x: t.movedim(x, (0, 1), (2, 0)), A(2, 3, 4)),
    ("moveaxis", lambda t, x: x.moveaxis(-1, 0), A(2, 3, 4)),
    ("flip", lambda t, x: t.flip(x, [0, 2]), A(2, 3, 4)),
    ("fliplr", lambda t, x: t.fliplr(x), A(2, 3)),
    ("flipud", lambda t, x: x.flipud(), A(2, 3)),
    ("roll_flat", lambda t, x: t.roll(x, 2), A(2, 3)),
    ("roll_dims", lambda t, x: x.roll((1, -1), (0, 1)), A(2, 3)),
    ("rot90", lambda t, x: t.rot90(x), A(2, 3)),
    ("rot90_k", lambda t, x: x.rot90(-3, [1, 2]), A(2, 3, 4)),
    ("contiguous", lambda t, x: x.t().contiguous(), A(2, 3)),
    ("ravel", lambda t, x: x.t().ravel(), A(2, 3)),
    ("meshgrid_ij", lambda t, x, y: t.meshgrid(x, y, indexing="ij"), A(3), A(2)),
    ("meshgrid_xy", lambda t, x, y, z: t.meshgrid([x, y, z], indexing="xy"), A(3), A(2), A(4)),
    ("tril", lambda t, x: x.tril(), A(3, 4)),
    ("triu_k", lambda t, x: t.triu(x, -1), A(3, 4)),
    ("tril_", lambda t, x: x.clone().tril_(1), A(3, 4)),
    ("diagonal", lambda t, x: t.diagonal(x, 1, 0, 2), A(3, 2, 4)),
    ("diag_embed", lambda t, x: t.diag_embed(x, 1), A(2, 3)),
    ("unfold", lambda t, x: x.unfold(0, 2, 2), A(5, 2)),
    ("as_strided", lambda t, x: t.as_strided(x, (2, 3), (1, 2)), A(3, 4)),
    ("select_scatter", lambda t, x, y: t.select_scatter(x, y, 0, 1), A(2, 3), A(3)),
    ("slice_scatter", lambda t, x, y: t.slice_scatter(x, y, 1, 0, 4, 2), A(2, 4), A(2, 2)),
    ("diagonal_scatter", lambda t, x, y: t.diagonal_scatter(x, y, -1), A(3, 3), A(2)),
    ("take_bool_cat", lambda t, x, y: t.cat([x, y]), B(2), B(3)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_shape_ops(case):
    name, fn, *args = case
    compare(fn, *args)


def _strides(build):
    def program(t):
        x = t.arange(24.0).reshape(2, 3, 4)
        out = build(t, x)
        out = out if isinstance(out, (tuple, list)) else (out,)
        return {"out%d" % i: o for i, o in enumerate(out)}
    return program


VIEWS = [
    lambda t, x: x.transpose(0, 2).unsqueeze(1),
    lambda t, x: x.permute(1, 2, 0)[1:, ::2],
    lambda t, x: x[:, 1].t().unsqueeze(0).expand(3, 4, 2),
    lambda t, x: x.movedim(0, -1).flatten(0, 1),
    lambda t, x: x.swapaxes(0, 1).reshape(3, 8),
    lambda t, x: x.mT.diagonal(),
    lambda t, x: x.unfold(2, 2, 1).squeeze(),
    lambda t, x: x[..., 1:].split(1, -1),
    lambda t, x: x.t().narrow(0, 1, 2) if x.dim() == 2 else x.narrow(2, 1, 2).permute(2, 0, 1),
    lambda t, x: t.meshgrid(x[0, 0], x[1, :, 0], indexing="xy"),
    lambda t, x: x.unflatten(2, (2, 2)).squeeze(0).select(-1, 1),
    lambda t, x: x.view(4, 6)[::3].as_strided((2, 2), (1, 5), 3),
    lambda t, x: x.tensor_split(3, dim=2),
    lambda t, x: t.broadcast_tensors(x[:, :1], x[0]),
]


@pytest.mark.parametrize("build", VIEWS)
def test_view_chain_strides(build):
    compare_env(_strides(build))


ERRORS = [
    lambda t: t.zeros(2, 3).view(5),
    lambda t: t.zeros(2, 3).view(-1, -1),
    lambda t: t.zeros(2, 3).t().view(6),
    lambda t: t.zeros(2, 3).reshape(4, -1),
    lambda t: t.zeros(2, 3).transpose(0, 2),
    lambda t: t.zeros(2, 3, 4).t(),
    lambda t: t.zeros(2, 3).permute(0, 1, 2),
    lambda t: t.zeros(2, 3).permute(0, 0),
    lambda t: t.zeros(2, 3).squeeze(2),
    lambda t: t.zeros(2, 3).unsqueeze(3),
    lambda t: t.zeros(2, 3).flatten(1, 0),
    lambda t: t.zeros(2, 6).unflatten(1, (4, -1)),
    lambda t: t.zeros(2, 3).expand(4, 3),
    lambda t: t.zeros(2, 3).expand(3),
    lambda t: t.zeros(2, 3).expand(-1, 2, 3),
    lambda t: t.zeros(2, 3).repeat(2),
    lambda t: t.cat([t.zeros(2, 3), t.zeros(2, 2)]),
    lambda t: t.cat([t.zeros(2, 3), t.zeros(3)]),
    lambda t: t.cat([]),
    lambda t: t.cat([t.tensor(1.0)]),
    lambda t: t.stack([t.zeros(2, 3), t.zeros(2, 2)]),
    lambda t: t.stack([]),
    lambda t: t.zeros(5).split([2, 2]),
    lambda t: t.zeros(5).split(0),
    lambda t: t.zeros(5).split(-1),
    lambda t: t.zeros(5).chunk(0),
    lambda t: t.zeros(3, 4).narrow(1, 2, 3),
    lambda t: t.zeros(3, 4).narrow(0, 5, 0),
    lambda t: t.zeros(3, 4).narrow(0, 0, -1),
    lambda t: t.zeros(3, 4).select(0, 3),
    lambda t: t.zeros(3, 4).movedim((0, 1), 0),
    lambda t: t.zeros(3, 4).movedim((0, 0), (0, 1)),
    lambda t: t.zeros(3, 4).flip(0, 0) if False else t.zeros(3, 4).flip((0, 0)),
    lambda t: t.zeros(3).fliplr(),
    lambda t: t.zeros(3, 4).roll((1, 2), 0),
    lambda t: t.zeros(3).rot90(),
    lambda t: t.zeros(3, 4).rot90(1, [0, 0]),
    lambda t: t.zeros(3, 4).hsplit(3),
    lambda t: t.zeros(3).vsplit(1),
    lambda t: t.broadcast_tensors(t.zeros(2, 3), t.zeros(4)),
    lambda t: t.broadcast_to(t.zeros(2, 3), (3, 3)),
    lambda t: t.zeros(3, 4).diagonal(0, 1, 1),
    lambda t: t.zeros(3, 4).unfold(1, 5, 1),
    lambda t: t.zeros(3, 4).unfold(1, 2, 0),
    lambda t: t.zeros(3, 4).as_strided((3, 4), (4, 2)),
    lambda t: t.zeros(3, 4).mT[0].mT,
    lambda t: t.zeros(2, 3, 4).H,
    lambda t: t.select_scatter(t.zeros(2, 3), t.zeros(2), 0, 0),
    lambda t: t.zeros(3).repeat_interleave(t.tensor([1, 2])),
    lambda t: t.zeros(3, 4).tile(-1),
    lambda t: t.hstack([]),
    lambda t: t.vstack([]),
    lambda t: t.roll(t.tensor(1.0), 0, 0),
    lambda t: t.zeros(3, 4).narrow(1, t.tensor([1, 2]), 2),
    lambda t: t.zeros(3, 4).narrow_copy(3, 0, 0),
    lambda t: t.zeros(3, 4).narrow_copy(0, 2, 2),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_shape_errors(fn):
    same_error(fn)


def test_grad_fn_names():
    def names(t):
        x = t.arange(24.0).reshape(2, 3, 4).requires_grad_()
        y = x[:, :1]
        exprs = [x.squeeze(), y.squeeze(1), y.squeeze((1,)), x.split(2, 2)[0], x.split([1, 3], 2)[1], x.chunk(2)[0],
                 x.unbind(1)[0], x.tensor_split(2, 1)[1], x.narrow_copy(1, 0, 2), x.ravel(), x.mT,
                 x.T, x[0].H, x.movedim(0, 2), x.swapaxes(0, 1), x.repeat_interleave(2),
                 x.tile(2), t.hstack([x, x]), t.meshgrid(x[0, 0], x[0, 1], indexing="ij")[1], x.unfold(2, 2, 1),
                 x.as_strided((2,), (1,)), x.diagonal(), t.fill(x, 1), t.fill(x, t.tensor(1.0)),
                 x.masked_fill(x > 2, 0.0), x.masked_fill(x > 2, t.tensor(0.0)), x.flatten(), x.unflatten(2, (2, 2)),
                 x.view(-1), x.reshape(4, 6), x.transpose(0, 2).reshape(-1), x.expand(2, 2, 3, 4), x.select(1, 0),
                 t.view_as_real(t.complex(x, x)), t.diag_embed(x), t.rot90(x), x.flip(0), x.roll(1), x.permute(2, 0, 1)]
        return [type(e.grad_fn).__name__ for e in exprs]
    assert names(jtorch) == names(torch)


def test_meshgrid_error_class():
    # torch prints the tensor in its legacy format inside this message: only the class is compared
    same_error(lambda t: t.meshgrid(t.zeros(2, 2), indexing="ij"), match_message=False)
