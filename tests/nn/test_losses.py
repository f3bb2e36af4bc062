"""Every loss against torch, functional and module form, each reduction and option."""
import numpy as np
import pytest
import torch

import jtorch
from tests._diff import A, I, P, Arr, compare

R = ("mean", "sum", "none")


def U(*shape):
    """Probabilities in (0, 1)."""
    return A(*shape, low=0.02, high=0.98)


def T(*values):
    return Arr(np.array(values, dtype=np.int64))


def S(*values):
    return Arr(np.array(values, dtype=np.float32), False)


BASE = [
    ("mse", lambda t, x, y, r: t.nn.functional.mse_loss(x, y, reduction=r), A(3, 4), A(3, 4)),
    ("mse_module", lambda t, x, y, r: t.nn.MSELoss(reduction=r)(x, y), A(2, 5), A(2, 5)),
    ("mse_weight", lambda t, x, y, w, r: t.nn.functional.mse_loss(x, y, reduction=r, weight=w), A(3, 4), A(3, 4),
     P(3, 4)),
    ("l1", lambda t, x, y, r: t.nn.functional.l1_loss(x, y, reduction=r), A(3, 4), A(3, 4)),
    ("l1_weight", lambda t, x, y, w, r: t.nn.L1Loss(reduction=r)(x, y) * 0 + t.nn.functional.l1_loss(
        x, y, reduction=r, weight=w), A(3, 4), A(3, 4), P(3, 4)),
    ("smooth_l1", lambda t, x, y, r: t.nn.SmoothL1Loss(reduction=r, beta=0.5)(x, y), A(3, 4), A(3, 4)),
    ("smooth_l1_beta0", lambda t, x, y, r: t.nn.functional.smooth_l1_loss(x, y, reduction=r, beta=0.0), A(3, 4),
     A(3, 4)),
    ("huber", lambda t, x, y, r: t.nn.HuberLoss(reduction=r, delta=0.7)(x, y), A(3, 4), A(3, 4)),
    ("huber_weight", lambda t, x, y, w, r: t.nn.functional.huber_loss(x, y, reduction=r, weight=w), A(3, 4),
     A(3, 4), P(3, 4)),
    ("nll", lambda t, x, y, r: t.nn.NLLLoss(reduction=r)(x, y), A(4, 5), T(0, 4, 2, 2)),
    ("nll_weight_ignore", lambda t, x, y, w, r: t.nn.functional.nll_loss(x, y, w, ignore_index=2, reduction=r),
     A(4, 5), T(0, 4, 2, 1), P(5, grad=False)),
    ("nll_1d", lambda t, x, y, r: t.nn.functional.nll_loss(x, y, reduction=r), A(5), Arr(np.array(3))),
    ("nll_3d", lambda t, x, y, r: t.nn.functional.nll_loss(x, y, reduction=r), A(2, 3, 4), I(2, 4, high=3)),
    ("nll_4d", lambda t, x, y, r: t.nn.functional.nll_loss(x, y, reduction=r), A(2, 3, 2, 2), I(2, 2, 2, high=3)),
    ("ce", lambda t, x, y, r: t.nn.CrossEntropyLoss(reduction=r)(x, y), A(4, 5), T(1, 0, 4, 3)),
    ("ce_weight", lambda t, x, y, w, r: t.nn.CrossEntropyLoss(weight=w, reduction=r)(x, y), A(4, 5), T(1, 0, 4, 3),
     P(5, grad=False)),
    ("ce_ignore", lambda t, x, y, r: t.nn.functional.cross_entropy(x, y, ignore_index=0, reduction=r), A(4, 5),
     T(1, 0, 4, 0)),
    ("ce_smoothing", lambda t, x, y, r: t.nn.functional.cross_entropy(x, y, label_smoothing=0.2, reduction=r),
     A(4, 5), T(1, 0, 4, 3)),
    ("ce_smoothing_weight_ignore", lambda t, x, y, w, r: t.nn.functional.cross_entropy(
        x, y, w, ignore_index=4, label_smoothing=0.1, reduction=r), A(4, 5), T(1, 0, 4, 3), P(5, grad=False)),
    ("ce_probs", lambda t, x, y, r: t.nn.functional.cross_entropy(x, y.softmax(1), reduction=r), A(3, 4), A(3, 4)),
    ("ce_probs_weight_smoothing", lambda t, x, y, w, r: t.nn.functional.cross_entropy(
        x, y.softmax(1), w, label_smoothing=0.3, reduction=r), A(3, 4), A(3, 4, grad=False), P(4, grad=False)),
    ("ce_kdim", lambda t, x, y, r: t.nn.functional.cross_entropy(x, y, reduction=r), A(2, 3, 4, 2),
     I(2, 4, 2, high=3)),
    ("ce_1d", lambda t, x, y, r: t.nn.functional.cross_entropy(x, y, reduction=r), A(4), Arr(np.array(2))),
    ("bce", lambda t, x, y, r: t.nn.BCELoss(reduction=r)(x, y), U(3, 4), U(3, 4)),
    ("bce_weight", lambda t, x, y, w, r: t.nn.functional.binary_cross_entropy(x, y, w, reduction=r), U(3, 4),
     U(3, 4), P(4)),
    ("bce_logits", lambda t, x, y, r: t.nn.BCEWithLogitsLoss(reduction=r)(x, y), A(3, 4), U(3, 4)),
    ("bce_logits_pos_weight", lambda t, x, y, w, pw, r: t.nn.BCEWithLogitsLoss(weight=w, pos_weight=pw,
                                                                               reduction=r)(x, y),
     A(3, 4), U(3, 4), P(4, grad=False), P(4, grad=False)),
    ("kl_div", lambda t, x, y, r: t.nn.functional.kl_div(x.log_softmax(1), y.softmax(1), reduction=r), A(3, 4),
     A(3, 4)),
    ("kl_div_log_target", lambda t, x, y, r: t.nn.KLDivLoss(reduction=r, log_target=True)(x, y), A(3, 4), A(3, 4)),
    ("cosine_embedding", lambda t, a, b, y, r: t.nn.CosineEmbeddingLoss(margin=0.2, reduction=r)(a, b, y), A(3, 4),
     A(3, 4), T(1, -1, 1)),
    ("margin_ranking", lambda t, a, b, y, r: t.nn.MarginRankingLoss(margin=0.1, reduction=r)(a, b, y), A(5), A(5),
     S(1, -1, 1, 1, -1)),
    ("triplet", lambda t, a, p, n, r: t.nn.TripletMarginLoss(margin=0.5, reduction=r)(a, p, n), A(3, 4), A(3, 4),
     A(3, 4)),
    ("triplet_swap_p1", lambda t, a, p, n, r: t.nn.functional.triplet_margin_loss(a, p, n, p=1, swap=True,
                                                                                  reduction=r),
     A(3, 4), A(3, 4), A(3, 4)),
    ("triplet_distance_fn", lambda t, a, p, n, r: t.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda x, y: 1 - t.nn.functional.cosine_similarity(x, y), swap=True, reduction=r)(a, p, n),
     A(3, 4), A(3, 4), A(3, 4)),
    ("soft_margin", lambda t, x, y, r: t.nn.SoftMarginLoss(reduction=r)(x, y), A(3, 4), S(*([1, -1] * 6))),
    ("hinge", lambda t, x, y, r: t.nn.HingeEmbeddingLoss(margin=0.5, reduction=r)(x, y), A(3, 4),
     S(*([1, -1, -1] * 4))),
    ("multi_margin", lambda t, x, y, r: t.nn.MultiMarginLoss(reduction=r)(x, y), A(3, 4), T(0, 3, 1)),
    ("multi_margin_p2_weight", lambda t, x, y, w, r: t.nn.functional.multi_margin_loss(x, y, p=2, margin=0.5,
                                                                                       weight=w, reduction=r),
     A(3, 4), T(0, 3, 1), P(4, grad=False)),
    ("multilabel_margin", lambda t, x, y, r: t.nn.MultiLabelMarginLoss(reduction=r)(x, y), A(2, 4),
     Arr(np.array([[3, 0, -1, 1], [1, 2, 3, -1]]))),
    ("multilabel_soft_margin", lambda t, x, y, r: t.nn.MultiLabelSoftMarginLoss(reduction=r)(x, y), A(3, 4),
     S(*([1, 0, 0, 1] * 3))),
    ("poisson_nll", lambda t, x, y, r: t.nn.PoissonNLLLoss(reduction=r)(x, y), A(3, 4), P(3, 4)),
    ("poisson_nll_full", lambda t, x, y, r: t.nn.PoissonNLLLoss(log_input=False, full=True, reduction=r)(x, y),
     P(3, 4), A(3, 4, low=0, high=4)),
    ("gaussian_nll", lambda t, x, y, v, r: t.nn.GaussianNLLLoss(reduction=r)(x, y, v), A(3, 4), A(3, 4), P(3, 4)),
    ("gaussian_nll_full_var1", lambda t, x, y, v, r: t.nn.functional.gaussian_nll_loss(x, y, v, full=True,
                                                                                      reduction=r),
     A(3, 4), A(3, 4), P(3)),
]

# shape and value errors: torch's exception class
ERRORS = [
    ("mse_bad_broadcast", lambda t, x, y: t.nn.functional.mse_loss(x, y), A(3), A(4)),
    ("ce_batch_mismatch", lambda t, x, y: t.nn.functional.cross_entropy(x, y), A(3, 4), T(0, 1)),
    ("ce_out_of_bounds", lambda t, x, y: t.nn.functional.cross_entropy(x, y), A(3, 4), T(0, 1, 4)),
    ("ce_float_index_target", lambda t, x, y: t.nn.functional.cross_entropy(x, y), A(3, 4), S(0, 1, 3)),
    ("nll_negative_target", lambda t, x, y: t.nn.functional.nll_loss(x, y), A(3, 4), T(0, 1, -1)),
    ("nll_bad_weight", lambda t, x, y, w: t.nn.functional.nll_loss(x, y, w), A(3, 4), T(0, 1, 2), P(3)),
    ("bce_size_mismatch", lambda t, x, y: t.nn.functional.binary_cross_entropy(x, y), U(3, 4), U(4)),
    ("bce_out_of_range", lambda t, x, y: t.nn.functional.binary_cross_entropy(x, y), A(3, 4, low=1.5, high=2),
     U(3, 4)),
    ("bce_logits_size", lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y), A(3, 4), U(3)),
    ("triplet_bad_margin", lambda t, a: t.nn.functional.triplet_margin_loss(a, a, a, margin=0), A(3, 4)),
    ("bad_reduction", lambda t, x, y: t.nn.functional.mse_loss(x, y, reduction="avg"), A(3), A(3)),
]

# every reduction of the kernels that declare one op per reduction; the composite losses share
# one reduction helper, so their "sum" rows would repeat the "mean" ones
FULL = {"mse", "mse_weight", "l1", "l1_weight", "smooth_l1", "huber", "huber_weight", "nll", "nll_weight_ignore",
        "nll_3d", "ce", "ce_weight", "ce_smoothing", "ce_probs", "bce", "bce_logits", "kl_div", "kl_div_log_target"}
CASES = [(name + "-" + r, fn, args, r) for name, fn, *args in BASE for r in (R if name in FULL else ("mean", "none"))]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss(case):
    name, fn, args, r = case
    compare(lambda t, *xs: fn(t, *xs, r), *args)


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_loss_errors(case):
    name, fn, *args = case
    compare(fn, *args)


def test_kl_div_batchmean():
    compare(lambda t, x, y: t.nn.functional.kl_div(x, y, reduction="batchmean"), A(3, 4), U(3, 4))


def test_legacy_size_average_reduce():
    for kwargs in ({"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}):
        compare(lambda t, x, y: t.nn.functional.mse_loss(x, y, **kwargs), A(3, 4), A(3, 4))
        compare(lambda t, x, y: t.nn.CrossEntropyLoss(**kwargs)(x, y), A(3, 4), T(0, 1, 3))


def test_loss_reprs():
    for name in ("MSELoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "HuberLoss", "KLDivLoss"):
        assert repr(getattr(jtorch.nn, name)()) == repr(getattr(torch.nn, name)())
    w = np.ones(3, np.float32)
    t = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w))
    j = jtorch.nn.CrossEntropyLoss(weight=jtorch.from_numpy(w))
    assert list(j.state_dict()) == list(t.state_dict())
