"""jtorch._random against real torch: every draw and every state byte, bit for bit.

One helper (`_check`) seeds torch and our Generator alike, runs one case on each, and compares
the values' bits, dtype and shape, then the 5056 state bytes. Cases come from tables; a new
case is one row. See NOTE [Matching torch's CPU random numbers] in jtorch/_random.py.

Not covered here because of cost: randperm's 64-bit path at torch's real threshold
(n = 214748364 needs ~3 minutes and 14 GB; it was checked against torch once by hash). The test
below runs that path at a small n against a transcription of torch's loop.
"""

import importlib.util
import pathlib
import time
from fractions import Fraction
from functools import partial

import ml_dtypes
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

# The module is pure NumPy; load it by path so this test needs nothing else of jtorch (whose
# package __init__ pulls in JAX and every op).
_SPEC = importlib.util.spec_from_file_location(
    "jtorch_random_under_test", pathlib.Path(__file__).parents[1] / "jtorch" / "_random.py")
R = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(R)
Generator = R.Generator

BF16 = np.dtype(ml_dtypes.bfloat16)
FLOATS = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
          np.dtype(np.float16): torch.float16, BF16: torch.bfloat16}
INTS = {np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32, np.dtype(np.int16): torch.int16,
        np.dtype(np.int8): torch.int8, np.dtype(np.uint8): torch.uint8, np.dtype(np.bool_): torch.bool}
SEEDS = (0, -3, 2**40 + 7)  # negative and wider than 32 bits: torch seeds mt19937 with the low 32
SHAPES = ((), (5,), (15,), (16,), (17,), (3, 11), (1000,))  # 16: where randn switches kernels


def _np(t):
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _t(a):
    """A torch tensor with a's dtype and values (bfloat16 goes through float32, exactly)."""
    if a.dtype == BF16:
        return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(a))


def _bits(a):
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" or a.dtype == BF16 else a


def _assert_same(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_same(o, t)
        return
    theirs = _np(theirs) if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape)
    np.testing.assert_array_equal(_bits(ours), _bits(theirs))


def _check(torch_fn, ours_fn):
    """The one differential: for each seed, same values (to the bit) and same state after."""
    g = Generator()
    for seed in SEEDS:
        torch.manual_seed(seed)
        expected = torch_fn()
        _assert_same(ours_fn(g.manual_seed(seed)), expected)
        np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())


# ---------------------------------------------------------------- tables

# name: (torch call on (shape, torch dtype), our call on (generator, shape, numpy dtype))
FLOAT_DRAWS = {
    "rand": (lambda s, d: torch.rand(s, dtype=d), lambda g, s, d: g.uniform(s, dtype=d)),
    "uniform_": (lambda s, d: torch.empty(s, dtype=d).uniform_(-2.5, 3.7),
                 lambda g, s, d: g.uniform(s, -2.5, 3.7, d)),
    "randn": (lambda s, d: torch.randn(s, dtype=d), lambda g, s, d: g.normal(s, dtype=d)),
    "normal_": (lambda s, d: torch.empty(s, dtype=d).normal_(0.7, 2.3),
                lambda g, s, d: g.normal(s, 0.7, 2.3, d)),
    "exponential_": (lambda s, d: torch.empty(s, dtype=d).exponential_(1.7),
                     lambda g, s, d: g.exponential(s, 1.7, d)),
    "bernoulli_": (lambda s, d: torch.empty(s, dtype=d).bernoulli_(0.37),
                   lambda g, s, d: g.bernoulli(0.37, s, d)),
    "dropout": (lambda s, d: F.dropout(torch.ones(s, dtype=d), 0.3), lambda g, s, d: g.dropout_mask(s, 0.3, d)),
    "random_": (lambda s, d: torch.empty(s, dtype=d).random_(), lambda g, s, d: g.random_(s, d)),
    "randint": (lambda s, d: torch.randint(-3, 17, s, dtype=d), lambda g, s, d: g.randint(-3, 17, s, d)),
    "random_from": (lambda s, d: torch.empty(s, dtype=d).random_(5, None), lambda g, s, d: g.randint(5, None, s, d)),
}

# (low, high) for randint on integer dtypes; ranges straddle the 2**28 switch to 64-bit draws
INT_RANGES = ((0, 2), (-100, 100), (0, 2**28 - 1), (0, 2**28), (-2**40, 2**41), (-2**63, 2**63 - 1),
              (-2**63, None), (7, None))

_rng = np.random.default_rng(0)


def _probs(shape, dtype, zeros=True):
    p = _rng.random(shape).astype(dtype)
    if zeros:
        p[..., 0] = 0
    return p


def _sequence_torch():
    return [torch.randn(3), torch.rand(20), torch.randn(7), torch.randint(0, 10, (5,)), torch.randn(33),
            torch.randperm(9), torch.randn(1), torch.empty(5).exponential_(), torch.randn(2, dtype=torch.float64),
            torch.empty(4).bernoulli_(0.5), torch.multinomial(torch.ones(6), 2), torch.randn(1)]


def _sequence_ours(g):
    return [g.normal(3), g.uniform(20), g.normal(7), g.randint(0, 10, 5), g.normal(33), g.randperm(9),
            g.normal(1), g.exponential(5), g.normal(2, dtype=np.float64), g.bernoulli(0.5, 4),
            g.multinomial(np.ones(6, np.float32), 2), g.normal(1)]


def _noncontiguous_torch():
    base = torch.empty(4, 9)
    base.t().normal_(0.5, 2.0)  # 36 values drawn in memory order by the elementwise path
    return base


def _case(name, torch_fn, ours_fn):
    return pytest.param(torch_fn, ours_fn, id=name)


def _float_draw_cases():
    for name, (tf, of) in FLOAT_DRAWS.items():
        for dt, tdt in FLOATS.items():
            for shape in SHAPES:
                yield _case(f"{name}-{dt.name}-{shape}", partial(tf, shape, tdt),
                            lambda g, of=of, shape=shape, dt=dt: of(g, shape, dt))
    for dt, tdt in ((np.float32, torch.float32), (np.float64, torch.float64)):
        yield _case(f"randn-100003-{tdt}", partial(torch.randn, 100_003, dtype=tdt),
                    lambda g, dt=dt: g.normal(100_003, dtype=dt))
        yield _case(f"normal_-5000-{tdt}", lambda tdt=tdt: torch.empty(5000, dtype=tdt).normal_(-1.25, 0.3),
                    lambda g, dt=dt: g.normal(5000, -1.25, 0.3, dt))
    yield _case("normal_-noncontiguous", _noncontiguous_torch,
                lambda g: g.normal((4, 9), 0.5, 2.0, contiguous=False))
    for p in (0.0, 1.0):  # torch draws nothing
        yield _case(f"dropout-p{p}", lambda p=p: F.dropout(torch.ones(100), p), lambda g, p=p: g.dropout_mask(100, p))


def _fits(dt, lo, hi):
    info = (0, 1) if dt == np.bool_ else (np.iinfo(dt).min, np.iinfo(dt).max)
    if hi is None:  # random_(lo, None): [lo, max]; lo = -2**63 is the int64-only full range
        return info[0] <= lo <= info[1] and (lo != -2**63 or dt == np.int64)
    return info[0] <= lo and hi - 1 <= info[1]


def _integer_cases():
    for dt, tdt in INTS.items():
        yield _case(f"random_-{dt.name}", lambda tdt=tdt: torch.empty(50, dtype=tdt).random_(),
                    lambda g, dt=dt: g.random_(50, dt))
        for lo, hi in INT_RANGES:
            if _fits(dt, lo, hi):
                yield _case(f"randint-{dt.name}-{lo}-{hi}",
                            lambda lo=lo, hi=hi, tdt=tdt: torch.empty(50, dtype=tdt).random_(lo, hi),
                            lambda g, lo=lo, hi=hi, dt=dt: g.randint(lo, hi, 50, dt))
    for dt in (np.dtype(np.float32), np.dtype(np.float64), BF16):
        yield _case(f"random_full64-{dt.name}", lambda dt=dt: torch.empty(40, dtype=FLOATS[dt]).random_(-2**63, None),
                    lambda g, dt=dt: g.randint(-2**63, None, 40, dt))
    for n in (0, 1, 2, 5, 100, 10000):
        yield _case(f"randperm-{n}", partial(torch.randperm, n), lambda g, n=n: g.randperm(n))
    yield _case("randperm-float32", partial(torch.randperm, 300, dtype=torch.float32),
                lambda g: g.randperm(300, np.float32))


def _tensor_parameter_cases():
    for dt in (np.float32, np.float64, np.float16):
        for shape in ((5,), (1, 7), (3, 10), (2, 1000)):
            p = _probs(shape, dt)
            for k, rep in ((1, False), (1, True), (3, False), (3, True), (50, True)):
                yield _case(f"multinomial-{np.dtype(dt).name}-{shape}-{k}-{rep}",
                            lambda p=p, k=k, rep=rep: torch.multinomial(_t(p), k, rep),
                            lambda g, p=p, k=k, rep=rep: g.multinomial(p, k, rep))
    for dt in FLOATS:
        for shape in ((5,), (17,), (4, 6)):
            p = _probs(shape, dt, zeros=False)
            yield _case(f"bernoulli-{dt.name}-{shape}", lambda p=p: torch.bernoulli(_t(p)),
                        lambda g, p=p: g.bernoulli(p, p.shape, p.dtype))
            yield _case(f"bernoulli_-into-float64-{dt.name}-{shape}",
                        lambda p=p: torch.empty(p.shape, dtype=torch.float64).bernoulli_(_t(p)),
                        lambda g, p=p: g.bernoulli(p, p.shape, np.float64))
        p = _probs((1, 6), dt, zeros=False)
        yield _case(f"bernoulli_-broadcast-{dt.name}", lambda p=p: torch.empty(4, 6).bernoulli_(_t(p)),
                    lambda g, p=p: g.bernoulli(p, (4, 6)))
    for dt in (np.float32, np.float64):
        for shape in ((4,), (16,), (3, 7), (40,)):
            m, s = _rng.normal(size=shape).astype(dt), (_rng.random(shape) * 3).astype(dt)
            tag = f"{np.dtype(dt).name}-{shape}"
            yield _case(f"normal-tt-{tag}", lambda m=m, s=s: torch.normal(_t(m), _t(s)),
                        lambda g, m=m, s=s: g.normal_tensor(m, s))
            yield _case(f"normal-tf-{tag}", lambda m=m: torch.normal(_t(m), 1.7),
                        lambda g, m=m: g.normal_tensor(m, 1.7))
            yield _case(f"normal-ft-{tag}", lambda s=s: torch.normal(0.4, _t(s)),
                        lambda g, s=s: g.normal_tensor(0.4, s))
            yield _case(f"normal-tt-broadcast-{tag}", lambda m=m, s=s: torch.normal(_t(m[..., :1]), _t(s)),
                        lambda g, m=m, s=s: g.normal_tensor(m[..., :1], s))


CASES = [*_float_draw_cases(), *_integer_cases(), *_tensor_parameter_cases(),
         _case("mixed-sequence", _sequence_torch, _sequence_ours)]


@pytest.mark.filterwarnings("ignore:.*is out of bounds")
@pytest.mark.parametrize("torch_fn, ours_fn", CASES)
def test_matches_torch(torch_fn, ours_fn):
    _check(torch_fn, ours_fn)


# ---------------------------------------------------------------- generator state

# torch draws that leave the state in each form torch gives it: fresh seed (left 1, next 0),
# mid-block, exactly one block used (left 1, next 624), a cached Box-Muller sample.
STATE_SETUPS = {
    "seeded": lambda: None,
    "mid-block": lambda: torch.rand(100),
    "block-used": lambda: torch.rand(624),
    "normal-cache": lambda: torch.randn(3, dtype=torch.float64),
    "many": lambda: (torch.randn(5), torch.rand(2000), torch.randint(0, 2**40, (7,))),
}


@pytest.mark.parametrize("setup", STATE_SETUPS.values(), ids=STATE_SETUPS.keys())
def test_state_round_trips_with_torch(setup):
    torch.manual_seed(11)
    setup()
    state = torch.get_rng_state().numpy()
    g = Generator().set_state(state)
    np.testing.assert_array_equal(g.get_state(), state)  # torch's bytes survive a round trip
    _assert_same(_sequence_ours(g), _sequence_torch())  # and both continue alike
    torch.set_rng_state(torch.from_numpy(g.get_state()))  # our bytes drive torch
    _assert_same(_sequence_ours(g), _sequence_torch())
    np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())


def test_state_from_ours_to_torch():
    g = Generator(21)
    g.normal(3, dtype=np.float64)  # leaves a cached sample
    g.uniform(700)
    torch.set_rng_state(torch.from_numpy(g.get_state()))
    np.testing.assert_array_equal(torch.get_rng_state().numpy(), g.get_state())
    _assert_same(_sequence_ours(g), _sequence_torch())


def test_fresh_generator_state_is_torchs():
    np.testing.assert_array_equal(Generator().get_state(), torch.Generator().get_state().numpy())
    assert Generator().initial_seed() == torch.Generator().initial_seed()


@pytest.mark.parametrize("seed", [0, -1, -2**63, 2**63, 2**64 - 1, 12345678901234567])
def test_manual_seed_accepts_what_torch_accepts(seed):
    tg = torch.Generator().manual_seed(seed)
    g = Generator().manual_seed(seed)
    assert g.initial_seed() == tg.initial_seed()
    np.testing.assert_array_equal(g.get_state(), tg.get_state().numpy())


@pytest.mark.parametrize("seed", [2**64, -2**63 - 1, 1.5, "3", True])
def test_manual_seed_rejects_what_torch_rejects(seed):
    with pytest.raises(Exception) as theirs:
        torch.Generator().manual_seed(seed)
    with pytest.raises(theirs.type):
        Generator().manual_seed(seed)


def test_seed_is_nondeterministic():
    a, b = Generator(), Generator()
    sa, sb = a.seed(), b.seed()
    assert sa != sb and 0 <= sa < 2**64
    assert a.initial_seed() == sa
    np.testing.assert_array_equal(a.get_state(), torch.Generator().manual_seed(sa).get_state().numpy())


def test_set_state_rejects_invalid_states():
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        Generator().set_state(np.zeros(5056, np.uint8))
    with pytest.raises(RuntimeError, match="size 5056"):
        Generator().set_state(np.zeros(5000, np.uint8))


# ---------------------------------------------------------------- errors

# (torch call, our call): both must raise the same exception type
ERRORS = {
    "randint-empty": (lambda: torch.randint(5, 5, (3,)), lambda g: g.randint(5, 5, 3)),
    "randint-int8-range": (lambda: torch.randint(0, 300, (3,), dtype=torch.int8),
                           lambda g: g.randint(0, 300, 3, np.int8)),
    "uniform-reversed": (lambda: torch.empty(3).uniform_(2, 1), lambda g: g.uniform(3, 2, 1)),
    "uniform-int": (lambda: torch.empty(3, dtype=torch.int64).uniform_(), lambda g: g.uniform(3, dtype=np.int64)),
    "normal-negative-std": (lambda: torch.empty(3).normal_(0, -1), lambda g: g.normal(3, 0, -1)),
    "normal-int": (lambda: torch.empty(3, dtype=torch.int64).normal_(), lambda g: g.normal(3, dtype=np.int64)),
    "exponential-zero": (lambda: torch.empty(3).exponential_(0), lambda g: g.exponential(3, 0)),
    "exponential-int": (lambda: torch.empty(3, dtype=torch.int64).exponential_(),
                        lambda g: g.exponential(3, dtype=np.int64)),
    "bernoulli-p": (lambda: torch.empty(3).bernoulli_(1.5), lambda g: g.bernoulli(1.5, 3)),
    "bernoulli-tensor-p": (lambda: torch.bernoulli(torch.tensor([0.5, 1.5])),
                           lambda g: g.bernoulli(np.array([0.5, 1.5], np.float32), 2)),
    "dropout-p": (lambda: F.dropout(torch.ones(3), 1.5), lambda g: g.dropout_mask(3, 1.5)),
    "random_-uint16": (lambda: torch.empty(3, dtype=torch.uint16).random_(), lambda g: g.random_(3, np.uint16)),
    "randperm-negative": (lambda: torch.randperm(-1), lambda g: g.randperm(-1)),
    "multinomial-too-many": (lambda: torch.multinomial(torch.ones(2), 3), lambda g: g.multinomial(np.ones(2), 3)),
    "multinomial-negative": (lambda: torch.multinomial(torch.tensor([0.5, -0.5]), 1),
                             lambda g: g.multinomial(np.array([0.5, -0.5]), 1)),
    "multinomial-negative-rep": (lambda: torch.multinomial(torch.tensor([0.5, -0.5]), 2, True),
                                 lambda g: g.multinomial(np.array([0.5, -0.5]), 2, True)),
    "multinomial-zero-sum": (lambda: torch.multinomial(torch.zeros(2), 2, True),
                             lambda g: g.multinomial(np.zeros(2), 2, True)),
    "multinomial-3d": (lambda: torch.multinomial(torch.ones(2, 2, 2), 1),
                       lambda g: g.multinomial(np.ones((2, 2, 2)), 1)),
    "multinomial-0": (lambda: torch.multinomial(torch.ones(2), 0), lambda g: g.multinomial(np.ones(2), 0)),
}


@pytest.mark.parametrize("torch_fn, ours_fn", ERRORS.values(), ids=ERRORS.keys())
def test_errors_match_torch(torch_fn, ours_fn):
    with pytest.raises(Exception) as theirs:
        torch_fn()
    with pytest.raises(theirs.type):
        ours_fn(Generator())


# ---------------------------------------------------------------- internals torch cannot reach cheaply

def test_randperm_inside_out_path(monkeypatch):
    """torch's n >= 214748364 path at a small n, against a transcription of torch's loop."""
    n = 3000
    raw = Generator(9)._raw64(n)
    expected = np.zeros(n, np.int64)
    for i in range(n):
        z = int(raw[i] % np.uint64(i + 1))
        expected[i] = expected[z]
        expected[z] = i
    monkeypatch.setattr(R, "_RANDPERM_SMALL_N", 0)
    np.testing.assert_array_equal(Generator(9).randperm(n), expected)


def _exact_fma(a, b, c, dtype):
    """Correctly rounded a*b+c in dtype, from exact rationals (slow; reference only)."""
    q = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    x = dtype(float(q))
    near = (np.nextafter(x, dtype(-np.inf)), x, np.nextafter(x, dtype(np.inf)))
    return min(near, key=lambda v: (abs(Fraction(float(v)) - q), int(np.array(v).view(f"i{x.itemsize}")) & 1))


@pytest.mark.parametrize("dtype, fma", [(np.float32, R._fma32), (np.float64, R._fma64)], ids=["fma32", "fma64"])
def test_fma_emulation_is_correctly_rounded(dtype, fma):
    rng = np.random.default_rng(3)
    n = 1500
    if dtype is np.float32:  # small integers and dyadic fractions make exact ties common
        a = rng.integers(1, 2**24, n).astype(dtype)
        b = (rng.integers(1, 2**12, n) * 2.0**-12).astype(dtype)
        c = rng.integers(-2**30, 2**30, n).astype(dtype)
    else:
        a = rng.normal(size=n) * 10.0 ** rng.integers(-30, 30, n)
        b = rng.normal(size=n) * 10.0 ** rng.integers(-30, 30, n)
        c = rng.normal(size=n) * 10.0 ** rng.integers(-60, 60, n)
    expected = np.array([_exact_fma(x, y, z, dtype) for x, y, z in zip(a, b, c)], dtype)
    np.testing.assert_array_equal(fma(a, b, c), expected)


# ---------------------------------------------------------------- speed

SPEED = {
    "uniform": lambda g: g.uniform(10**6),
    "normal-float32": lambda g: g.normal(10**6),
    "normal-float64": lambda g: g.normal(10**6, dtype=np.float64),
    "exponential": lambda g: g.exponential(10**6),
    "randint": lambda g: g.randint(0, 10, 10**6),
    "bernoulli": lambda g: g.bernoulli(0.5, 10**6),
    "randperm": lambda g: g.randperm(10**6),
    "multinomial": lambda g: g.multinomial(np.ones(10**6, np.float32), 10),
}


@pytest.mark.parametrize("draw", SPEED.values(), ids=SPEED.keys())
def test_a_million_draws_take_under_a_second(draw):
    g = Generator(0)
    start = time.process_time()  # CPU time: a busy machine must not fail this
    draw(g)
    assert time.process_time() - start < 1.0
