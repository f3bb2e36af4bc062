"""torch.nn.functional against torch: values, dtypes, shapes, gradients, exception classes, and
the grad_fn names tutorials print."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A, I, P, Arr, compare

W = A(5, 4)
CASES = [
    ("linear", lambda t, x, w, b: t.nn.functional.linear(x, w, b), A(3, 4), W, A(5)),
    ("linear_nobias", lambda t, x, w: t.nn.functional.linear(x, w), A(2, 3, 4), W),
    ("linear_bad_shape", lambda t, x, w, b: t.nn.functional.linear(x, w, b), A(1, 5), A(3, 4), A(3)),
    ("linear_bad_dtype", lambda t, x, w: t.nn.functional.linear(x, w), A(2, 4, dtype=np.float64), A(3, 4)),
    ("bilinear", lambda t, a, b, w: t.nn.functional.bilinear(a, b, w), A(2, 3), A(2, 4), A(5, 3, 4)),
    ("conv1d", lambda t, x, w, b: t.nn.functional.conv1d(x, w, b, stride=2, padding=2, dilation=2), A(2, 4, 11),
     A(3, 4, 3), A(3)),
    ("conv2d_groups", lambda t, x, w: t.nn.functional.conv2d(x, w, groups=2, stride=(2, 1)), A(1, 4, 6, 6),
     A(6, 2, 3, 2)),
    ("conv2d_same_even", lambda t, x, w: t.nn.functional.conv2d(x, w, padding="same"), A(1, 2, 5, 5), A(3, 2, 2, 4)),
    ("conv2d_bad_channels", lambda t, x, w: t.nn.functional.conv2d(x, w), A(1, 2, 5, 5), A(3, 1, 3, 3)),
    ("conv2d_too_small", lambda t, x, w: t.nn.functional.conv2d(x, w), A(1, 2, 2, 2), A(3, 2, 3, 3)),
    ("conv2d_bad_rank", lambda t, x, w: t.nn.functional.conv2d(x, w), A(2, 5), A(3, 2, 3, 3)),
    ("conv3d", lambda t, x, w: t.nn.functional.conv3d(x, w, padding=1), A(1, 2, 3, 4, 4), A(2, 2, 3, 3, 3)),
    ("conv_transpose2d", lambda t, x, w, b: t.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                             output_padding=1),
     A(2, 3, 4, 4), A(3, 2, 3, 3), A(2)),
    ("conv_transpose1d_groups", lambda t, x, w: t.nn.functional.conv_transpose1d(x, w, groups=2, dilation=2),
     A(1, 4, 5), A(4, 3, 3)),
    ("pad_constant", lambda t, x: t.nn.functional.pad(x, (1, 2, 0, 1), value=1.5), A(2, 3, 4)),
    ("pad_negative", lambda t, x: t.nn.functional.pad(x, (-1, 2)), A(2, 3, 4)),
    ("pad_reflect", lambda t, x: t.nn.functional.pad(x, (2, 1), mode="reflect"), A(2, 3, 4)),
    ("pad_reflect_too_big", lambda t, x: t.nn.functional.pad(x, (4, 1), mode="reflect"), A(2, 3, 4)),
    ("pad_replicate_3d", lambda t, x: t.nn.functional.pad(x, (1, 1, 2, 0, 1, 1), mode="replicate"),
     A(1, 2, 2, 3, 3)),
    ("pad_circular", lambda t, x: t.nn.functional.pad(x, (1, 2, 2, 1), mode="circular"), A(1, 2, 3, 3)),
    ("pad_odd", lambda t, x: t.nn.functional.pad(x, (1, 2, 3)), A(2, 3)),
    ("max_pool2d", lambda t, x: t.nn.functional.max_pool2d(x, (2, 2)), A(1, 6, 6, 6)),
    ("max_pool2d_indices", lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True),
     A(2, 3, 7, 7)),
    ("max_pool2d_ties", lambda t, x: t.nn.functional.max_pool2d(x.relu(), 2), A(1, 2, 4, 4, low=-2, high=0.5)),
    ("max_pool1d_ceil", lambda t, x: t.nn.functional.max_pool1d(x, 2, ceil_mode=True, return_indices=True),
     A(2, 3, 7)),
    ("max_pool3d", lambda t, x: t.nn.functional.max_pool3d(x, 2, stride=1), A(1, 1, 3, 3, 3)),
    ("max_pool2d_too_small", lambda t, x: t.nn.functional.max_pool2d(x, 3), A(1, 2, 2, 2)),
    ("max_pool2d_bad_pad", lambda t, x: t.nn.functional.max_pool2d(x, 2, padding=2), A(1, 2, 6, 6)),
    ("avg_pool2d", lambda t, x: t.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), A(2, 2, 6, 5)),
    ("avg_pool1d_ceil", lambda t, x: t.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True), A(2, 2, 8)),
    ("adaptive_avg_pool2d", lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (2, 3)), A(2, 2, 5, 7)),
    ("adaptive_avg_pool3d", lambda t, x: t.nn.functional.adaptive_avg_pool3d(x, 2), A(1, 2, 3, 4, 5)),
    ("adaptive_max_pool2d", lambda t, x: t.nn.functional.adaptive_max_pool2d(x, 2, return_indices=True),
     A(2, 2, 5, 3)),
    ("relu", lambda t, x: t.nn.functional.relu(x), A(3, 4)),
    ("relu6", lambda t, x: t.nn.functional.relu6(x * 4), A(3, 4)),
    ("leaky_relu", lambda t, x: t.nn.functional.leaky_relu(x, 0.1), A(3, 4)),
    ("hardtanh_edges", lambda t, x: t.nn.functional.hardtanh(x.round(), -1.0, 1.0), A(3, 4)),
    ("elu", lambda t, x: t.nn.functional.elu(x, 0.7), A(3, 4)),
    ("selu", lambda t, x: t.nn.functional.selu(x), A(3, 4)),
    ("celu", lambda t, x: t.nn.functional.celu(x, 1.5), A(3, 4)),
    ("gelu", lambda t, x: t.nn.functional.gelu(x), A(3, 4)),
    ("gelu_tanh", lambda t, x: t.nn.functional.gelu(x, approximate="tanh"), A(3, 4)),
    ("silu", lambda t, x: t.nn.functional.silu(x), A(3, 4)),
    ("mish", lambda t, x: t.nn.functional.mish(x), A(3, 4)),
    ("hardsigmoid", lambda t, x: t.nn.functional.hardsigmoid(x * 3), A(3, 4)),
    ("hardswish", lambda t, x: t.nn.functional.hardswish(x * 3), A(3, 4)),
    ("softplus", lambda t, x: t.nn.functional.softplus(x * 10, beta=1.5, threshold=10), A(3, 4)),
    ("softsign", lambda t, x: t.nn.functional.softsign(x), A(3, 4)),
    ("threshold", lambda t, x: t.nn.functional.threshold(x, 0.5, -2.0), A(3, 4)),
    ("logsigmoid", lambda t, x: t.nn.functional.logsigmoid(x * 20), A(3, 4)),
    ("prelu", lambda t, x, w: t.nn.functional.prelu(x, w), A(2, 3, 4), A(3)),
    ("glu", lambda t, x: t.nn.functional.glu(x, 1), A(3, 4)),
    ("glu_odd", lambda t, x: t.nn.functional.glu(x, 1), A(3, 5)),
    ("tanhshrink", lambda t, x: t.nn.functional.tanhshrink(x), A(3, 4)),
    ("softshrink", lambda t, x: t.nn.functional.softshrink(x, 0.3), A(3, 4)),
    ("hardshrink", lambda t, x: t.nn.functional.hardshrink(x, 0.3), A(3, 4)),
    ("softmax", lambda t, x: t.nn.functional.softmax(x, dim=0), A(3, 4)),
    ("log_softmax_dtype", lambda t, x: t.nn.functional.log_softmax(x, 1, dtype=t.float64), A(3, 4)),
    ("softmin", lambda t, x: t.nn.functional.softmin(x, 1), A(3, 4)),
    ("relu_inplace", lambda t, x: t.nn.functional.relu(x * 1, inplace=True), A(3, 4)),
    ("leaky_relu_inplace", lambda t, x: t.nn.functional.leaky_relu(x * 1, 0.2, inplace=True), A(3, 4)),
    ("normalize", lambda t, x: t.nn.functional.normalize(x, p=2.0, dim=1), A(3, 4)),
    ("cosine_similarity", lambda t, a, b: t.nn.functional.cosine_similarity(a, b, dim=1), A(3, 4), A(3, 4)),
    ("cosine_similarity_bcast", lambda t, a, b: t.nn.functional.cosine_similarity(a, b, dim=-1), A(3, 4), A(4)),
    ("pairwise_distance", lambda t, a, b: t.nn.functional.pairwise_distance(a, b, keepdim=True), A(3, 4), A(3, 4)),
    ("batch_norm_train", lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, training=True),
     A(4, 3, 2), A(3), A(3)),
    ("batch_norm_eval", lambda t, x, m, v: t.nn.functional.batch_norm(x, m, v), A(4, 3), A(3, grad=False),
     P(3, grad=False)),
    ("batch_norm_one_value", lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), A(1, 3)),
    ("layer_norm", lambda t, x, w, b: t.nn.functional.layer_norm(x, (4,), w, b, eps=1e-3), A(3, 4), A(4), A(4)),
    ("layer_norm_bad", lambda t, x: t.nn.functional.layer_norm(x, (5,)), A(3, 4)),
    ("group_norm", lambda t, x, w, b: t.nn.functional.group_norm(x, 2, w, b), A(2, 4, 3), A(4), A(4)),
    ("group_norm_bad", lambda t, x: t.nn.functional.group_norm(x, 3), A(2, 4, 3)),
    ("instance_norm", lambda t, x: t.nn.functional.instance_norm(x), A(2, 3, 5)),
    ("rms_norm", lambda t, x, w: t.nn.functional.rms_norm(x, (4,), w), A(3, 4), A(4)),
    ("local_response_norm", lambda t, x: t.nn.functional.local_response_norm(x, 2), A(2, 4, 3)),
    ("dropout_eval", lambda t, x: t.nn.functional.dropout(x, 0.5, training=False), A(3, 4)),
    ("dropout_bad_p", lambda t, x: t.nn.functional.dropout(x, 1.5), A(3, 4)),
    ("dropout_p1", lambda t, x: t.nn.functional.dropout(x, 1.0), A(3, 4)),
    ("embedding", lambda t, i, w: t.nn.functional.embedding(i, w, padding_idx=-1), I(2, 3, high=5), A(5, 3)),
    ("embedding_out_of_range", lambda t, i, w: t.nn.functional.embedding(i, w), I(2, 3, low=5, high=7), A(5, 3)),
    ("embedding_float_index", lambda t, i, w: t.nn.functional.embedding(i, w), A(2, 3), A(5, 3)),
    ("one_hot", lambda t, i: t.nn.functional.one_hot(i), I(2, 3)),
    ("one_hot_classes", lambda t, i: t.nn.functional.one_hot(i, 7), I(4)),
    ("one_hot_too_small", lambda t, i: t.nn.functional.one_hot(i, 2), I(4, low=2, high=5)),
    ("interpolate_nearest_exact", lambda t, x: t.nn.functional.interpolate(x, size=7, mode="nearest-exact"),
     A(1, 2, 5)),
    ("interpolate_trilinear", lambda t, x: t.nn.functional.interpolate(x, scale_factor=(2, 1.5, 1),
                                                                       mode="trilinear"), A(1, 1, 2, 4, 3)),
    ("interpolate_area", lambda t, x: t.nn.functional.interpolate(x, size=(2, 3), mode="area"), A(1, 2, 5, 6)),
    ("interpolate_bad", lambda t, x: t.nn.functional.interpolate(x, size=3, scale_factor=2), A(1, 2, 5)),
    ("sdpa", lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v), A(2, 3, 4, 8),
     A(2, 3, 5, 8), A(2, 3, 5, 6)),
    ("sdpa_causal_scale", lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                                         scale=0.3),
     A(2, 4, 8), A(2, 4, 8), A(2, 4, 8)),
    ("sdpa_bool_mask", lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m > 0),
     A(2, 3, 8), A(2, 4, 8), A(2, 4, 8), Arr(np.array([[1, 1, 0, 1], [1, 0, 1, 1], [1, 1, 1, 0]]))),
    ("pixel_shuffle", lambda t, x: t.nn.functional.pixel_shuffle(x, 3), A(2, 18, 2, 2)),
    ("max_unpool2d", lambda t, x: t.nn.functional.max_unpool2d(*t.nn.functional.max_pool2d(x, 2, return_indices=True),
                                                                2, output_size=(5, 5)), A(1, 2, 5, 5)),
    ("max_unpool1d", lambda t, x: t.nn.functional.max_unpool1d(*t.nn.functional.max_pool1d(x, 3, 2, 1,
                                                                                           return_indices=True),
                                                                3, 2, 1), A(2, 2, 7)),
    ("affine_grid_sample", lambda t, x, th: t.nn.functional.grid_sample(
        x, t.nn.functional.affine_grid(th, (2, 2, 3, 5), align_corners=False), align_corners=False),
     A(2, 2, 4, 4), A(2, 2, 3, low=-1.2, high=1.2)),
    ("grid_sample_reflection_ac", lambda t, x, g: t.nn.functional.grid_sample(
        x, g, padding_mode="reflection", align_corners=True), A(1, 2, 4, 5), A(1, 3, 3, 2, low=-1.7, high=1.7)),
    ("grid_sample_border_nearest", lambda t, x, g: t.nn.functional.grid_sample(
        x, g, mode="nearest", padding_mode="border", align_corners=False), A(1, 2, 4, 5), A(1, 3, 3, 2, low=-1.5,
                                                                                            high=1.5)),
    ("affine_grid_3d", lambda t, th: t.nn.functional.affine_grid(th, (1, 1, 2, 3, 4), align_corners=True),
     A(1, 3, 4)),
    ("unfold_fold", lambda t, x: t.nn.functional.fold(t.nn.functional.unfold(x, (2, 3), padding=1), (4, 5), (2, 3),
                                                      padding=1), A(2, 3, 4, 5)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_functional(case):
    name, fn, *args = case
    compare(fn, *args)


NODES = [
    ("linear_addmm", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [(3, 4), (5, 4), (5,)]),
    ("linear_1d", lambda t, x, w, b: t.nn.functional.linear(x, w, b), [(4,), (5, 4), (5,)], 1),
    ("linear_mm", lambda t, x, w: t.nn.functional.linear(x, w), [(3, 4), (5, 4)]),
    ("linear_3d", lambda t, x, w: t.nn.functional.linear(x, w), [(2, 3, 4), (5, 4)], 1),
    ("conv2d", lambda t, x, w: t.nn.functional.conv2d(x, w), [(1, 2, 5, 5), (3, 2, 3, 3)]),
    ("max_pool2d", lambda t, x: t.nn.functional.max_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("max_pool1d", lambda t, x: t.nn.functional.max_pool1d(x, 2), [(1, 2, 4)], 1),
    ("avg_pool2d", lambda t, x: t.nn.functional.avg_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("adaptive_avg_pool2d_1", lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, 1), [(1, 2, 4, 4)]),
    ("relu", lambda t, x: t.nn.functional.relu(x), [(3,)]),
    ("mse", lambda t, x, y: t.nn.functional.mse_loss(x, y), [(3,), (3,)]),
    ("cross_entropy", lambda t, x: t.nn.functional.cross_entropy(x, t.tensor([0, 2])), [(2, 3)]),
    ("cross_entropy_2d", lambda t, x: t.nn.functional.cross_entropy(x, t.zeros(2, 4, 4, dtype=t.long)),
     [(2, 3, 4, 4)]),
    ("nll_3d_none", lambda t, x: t.nn.functional.nll_loss(x, t.zeros(2, 4, dtype=t.long), reduction="none"),
     [(2, 3, 4)], 1),
    ("dropout", lambda t, x: t.nn.functional.dropout(x, 0.5), [(4,)]),
    ("batch_norm", lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True), [(4, 3)]),
    ("layer_norm", lambda t, x: t.nn.functional.layer_norm(x, (3,)), [(4, 3)]),
    ("embedding", lambda t, w: t.nn.functional.embedding(t.tensor([1, 2]), w), [(4, 3)]),
    ("softmax", lambda t, x: t.nn.functional.softmax(x, 0), [(3,)]),
    ("gelu", lambda t, x: t.nn.functional.gelu(x), [(3,)]),
    ("pad_reflect", lambda t, x: t.nn.functional.pad(x, (1, 1), mode="reflect"), [(1, 2, 3)]),
]


@pytest.mark.parametrize("case", NODES, ids=[c[0] for c in NODES])
def test_grad_fn_names(case):
    """The node names tutorials print: loss.grad_fn, next_functions[0][0]... Where torch builds a
    composite graph (linear on non-2-D input, 1-D pooling as unsqueezed 2-D pooling, K-dim nll_loss
    without reduction) jtorch runs one op: the output's node is torch's, the ones below it are not
    (depth 1 rows)."""
    name, fn, shapes, *depth = case
    depth = depth[0] if depth else 3

    def chain(out):
        names, node = [], out.grad_fn
        while node is not None and len(names) < depth:
            names.append(type(node).__name__)
            nxt = [n for n, _ in node.next_functions if n is not None]
            node = nxt[0] if nxt else None
        return names
    t_args = [torch.randn(*s, requires_grad=True) for s in shapes]
    j_args = [jtorch.randn(*s, requires_grad=True) for s in shapes]
    assert chain(fn(jtorch, *j_args)) == chain(fn(torch, *t_args))


def test_dropout_masks_match_torch():
    for p, shape in ((0.5, (4, 50)), (0.1, (7,)), (0.9, (3, 5, 2))):
        torch.manual_seed(3)
        t = torch.nn.functional.dropout(torch.ones(shape), p)
        jtorch.manual_seed(3)
        j = jtorch.nn.functional.dropout(jtorch.ones(shape), p)
        np.testing.assert_array_equal(j.numpy(), t.numpy())
        assert jtorch.rand(3).tolist() == torch.rand(3).tolist()  # the generator advanced alike


def test_linear_error_message():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(1x5 and 4x3\)"):
        jtorch.nn.Linear(4, 3)(jtorch.randn(1, 5))
