"""The op table under jax.jit: every op runs on Tensors that wrap tracers, so none may read a value.

Each case calls jtorch functions inside a function that jax.jit traces, with the inputs wrapped as
`Tensor._from_value(tracer)`, and compares the compiled result with the eager one. An op that calls
float(), .item(), np.asarray or a Python `if` on a value fails here with a tracer error.
"""
import jax
import numpy as np
import pytest

import jtorch
from tests._diff import assert_jit_matches_eager

_rng = np.random.default_rng(0)


def _f(*shape):
    return _rng.uniform(0.2, 2.0, size=shape).astype(np.float32)


def _i(*shape):
    return _rng.integers(0, 5, size=shape).astype(np.int64)


T = jtorch
# (name, function of jtorch tensors, input arrays): ops of the pointwise, reduction, special,
# sorting and linalg families, one or more calls each
CASES = [
    ("add", lambda x, y: T.add(x, y, alpha=2), (_f(3, 4), _f(4))),
    ("sub_rsub", lambda x, y: (x - y, 2 - x, T.rsub(x, y)), (_f(3, 4), _f(3, 4))),
    ("mul_div", lambda x, y: (x * y, x / y, T.div(x, y, rounding_mode="floor")), (_f(3, 4), _f(3, 4))),
    ("int_div", lambda a, b: (T.div(a, b + 1, rounding_mode="trunc"), a // (b + 1), a % (b + 1)), (_i(5), _i(5))),
    ("pow", lambda x, y: (x ** y, 2 ** x, T.float_power(x, 2)), (_f(3), _f(3))),
    ("unary", lambda x: [getattr(T, n)(x) for n in ("exp", "log", "sqrt", "sin", "tanh", "sigmoid", "erf",
                                                    "lgamma", "digamma", "sinc", "i0", "logit")], (_f(6),)),
    ("special", lambda x, y: (T.special.xlog1py(x, y), T.special.entr(x), T.special.erfcx(x),
                              T.special.ndtri(x / 3), T.special.log_ndtr(x), T.special.i1e(x)), (_f(5), _f(5))),
    ("binary_math", lambda x, y: (T.xlogy(x, y), T.logaddexp(x, y), T.copysign(x, -y), T.hypot(x, y),
                                  T.atan2(x, y), T.fmod(x, y), T.remainder(x, y), T.lerp(x, y, 0.3)),
     (_f(4), _f(4))),
    ("clamp", lambda x, lo, hi: (T.clamp(x, lo, hi), T.clamp(x, min=0.5), x.clamp_max(hi)), (_f(6), _f(6), _f(6))),
    ("max_min", lambda x, y: (T.max(x, y), T.min(x, 1).values, x.max(), T.maximum(x, y)), (_f(3, 4), _f(3, 4))),
    ("compare", lambda x, y: (x == y, x < y, T.isclose(x, y), T.where(x > y, x, y)), (_f(5), _f(5))),
    ("round", lambda x: (T.round(x), T.round(x, decimals=2), T.trunc(x), T.frac(x)), (_f(5),)),
    ("reductions", lambda x: (x.sum(), x.sum(1), x.mean(0), x.prod(1), x.std(), x.var(1), x.amax(0),
                              T.logsumexp(x, 1), x.norm(), T.nanmean(x), T.aminmax(x).max), (_f(3, 4),)),
    ("moments", lambda x: (T.std_mean(x, 1), T.var_mean(x)), (_f(3, 4),)),
    ("int_reductions", lambda a: (a.sum(), a.prod(0), a.sum(dtype=T.bool), T.count_nonzero(a)), (_i(3, 4),)),
    ("scans", lambda x: (x.cumsum(1), x.cumprod(0), T.cummax(x, 1), T.logcumsumexp(x, 0), T.diff(x),
                         T.trapezoid(x), T.cumulative_trapezoid(x)), (_f(3, 4),)),
    ("sorting", lambda x: (T.sort(x, 1), T.argsort(x, descending=True), T.topk(x, 2), T.kthvalue(x, 2),
                           T.median(x), T.median(x, 1), T.nanmedian(x, 0), T.mode(x.round()), T.msort(x)),
     (_f(3, 5),)),
    ("quantile_histc", lambda x: (T.quantile(x, 0.25), T.nanquantile(x, 0.5, dim=1), T.histc(x, 5)), (_f(3, 5),)),
    ("softmax", lambda x: (x.softmax(1), x.log_softmax(0)), (_f(3, 4),)),
    ("matmul", lambda a, b: (a @ b, T.mm(a, b), T.addmm(T.ones(3, 5), a, b, beta=0.5)), (_f(3, 4), _f(4, 5))),
    ("linalg", lambda a: (T.linalg.inv(a), T.linalg.det(a), T.linalg.slogdet(a), T.linalg.eigh(a @ a.mT),
                          T.linalg.pinv(a), T.linalg.matrix_rank(a), T.linalg.matrix_norm(a, 2),
                          T.linalg.norm(a), T.linalg.vector_norm(a, 3)), (_f(4, 4) + 4 * np.eye(4, dtype=np.float32),)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_under_jit(case):
    name, fn, arrays = case
    assert_jit_matches_eager(fn, arrays, rtol=1e-5, atol=1e-6, name=name)


def test_concrete_only_ops_say_so_under_jit():
    """unique/bincount need concrete values; under jit they raise a clear RuntimeError."""
    def traced(v):
        return jtorch.unique(jtorch.Tensor._from_value(v))._value()
    with pytest.raises(RuntimeError, match="concrete"):
        jax.jit(traced)(jax.numpy.arange(3))
