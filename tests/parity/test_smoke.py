"""A first table of differential cases; the op_db-driven suite extends this."""
import pytest

from tests._diff import A, I, P, compare

CASES = [
    ("add", lambda t, x, y: t.add(x, y, alpha=2), A(3, 4), A(4)),
    ("mul_scalar", lambda t, x: x * 2.5, A(3)),
    ("int_plus_float", lambda t, x, y: x + y, I(3), A(3)),
    ("pow", lambda t, x: x ** 2, A(2, 2)),
    ("mean_dim", lambda t, x: x.mean(dim=1, keepdim=True), A(3, 4)),
    ("max_dim", lambda t, x: x.max(dim=0), A(3, 4)),
    ("matmul", lambda t, x, y: x @ y, A(3, 4), A(4, 5)),
    ("matmul_bad", lambda t, x, y: x @ y, A(4, 3), A(5, 2)),
    ("view_t", lambda t, x: x.view(4, 3).t() * 2, A(3, 4)),
    ("getitem", lambda t, x: x[1:, [0, 2]], A(3, 4)),
    ("sqrt", lambda t, x: t.sqrt(x), P(5)),
    ("cat", lambda t, x, y: t.cat([x, y], 1), A(2, 3), A(2, 2)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_smoke(case):
    name, fn, *args = case
    compare(fn, *args)
