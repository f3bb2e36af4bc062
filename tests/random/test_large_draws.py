"""Large draws of jtorch._random against torch, bit for bit, across the chunks the generator
works in (see _fill_chunked in jtorch/_random.py), and the proof behind its fast Box-Muller fma.

tests/test_random_numpy.py covers every distribution at small sizes; here the sizes span three
chunks and end in a partial block of 16, so chunk boundaries and the redrawn last block meet.
"""

import importlib.util
import pathlib

import ml_dtypes
import numpy as np
import pytest

torch = pytest.importorskip("torch")

# Pure NumPy module: load it by path, as tests/test_random_numpy.py does, without JAX.
_SPEC = importlib.util.spec_from_file_location(
    "jtorch_random_large_under_test", pathlib.Path(__file__).parents[2] / "jtorch" / "_random.py")
R = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(R)

N = 3 * R._CHUNK + 4099  # three full chunks, then 256 blocks of 16 and a partial block of 3
assert N % 16 and N // R._CHUNK == 3

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = {"float32": (np.float32, torch.float32), "float64": (np.float64, torch.float64),
          "float16": (np.float16, torch.float16), "bfloat16": (BF16, torch.bfloat16)}

# (name, ours(generator, np dtype), theirs(torch dtype), dtypes)
CASES = [
    ("normal", lambda g, dt: g.normal(N, 0.5, 2.0, dt), lambda dt: torch.empty(N, dtype=dt).normal_(0.5, 2.0),
     ("float32", "float64", "float16", "bfloat16")),
    ("randn", lambda g, dt: g.normal(N, 0.0, 1.0, dt), lambda dt: torch.randn(N, dtype=dt), ("float32", "float64")),
    ("normal-std", lambda g, dt: g.normal(N, 0.0, 0.01, dt), lambda dt: torch.empty(N, dtype=dt).normal_(0, 0.01),
     ("float32", "float64")),
    ("uniform", lambda g, dt: g.uniform(N, -0.3, 1.7, dt), lambda dt: torch.empty(N, dtype=dt).uniform_(-0.3, 1.7),
     ("float32", "float64", "float16", "bfloat16")),
    ("rand", lambda g, dt: g.uniform(N, 0.0, 1.0, dt), lambda dt: torch.rand(N, dtype=dt), ("float32", "float64")),
    ("exponential", lambda g, dt: g.exponential(N, 1.5, dt), lambda dt: torch.empty(N, dtype=dt).exponential_(1.5),
     ("float32", "float64", "bfloat16")),
]


@pytest.mark.parametrize("case, dtype", [(c, d) for c in CASES for d in c[3]],
                         ids=[f"{c[0]}-{d}" for c in CASES for d in c[3]])
def test_large_draw_matches_torch(case, dtype):
    _, ours, theirs, _ = case
    np_dt, torch_dt = DTYPES[dtype]
    seed = 20240607
    torch.manual_seed(seed)
    expected = theirs(torch_dt)
    g = R.Generator(seed)
    got = ours(g, np.dtype(np_dt))
    assert got.dtype == np.dtype(np_dt) and got.shape == (N,)
    width = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[got.itemsize]
    want = expected.view({1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[got.itemsize]).numpy()
    mismatch = np.flatnonzero(got.view(width) != want.view(width))
    assert mismatch.size == 0, f"{mismatch.size} values differ, first at {mismatch[:5]} of {N}"
    # same words consumed: the next draw starts where torch's does
    np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())


# ---------------------------------------------------------------- the fast fma, proven exhaustively
# _box_muller16_f32 runs _log_ps/_sincos_ps with _fma32_no_tie, which skips _fma32's tie fix-up.
# Their inputs are 1 - u and float32(2*pi) * u for the 2**24 values u = k * 2**-24 can take, so
# comparing both fmas on every one of them proves the fast path equal to the exact one.

_ALL_U = np.arange(1 << 24, dtype=np.uint32).astype(np.float32) * np.float32(2.0 ** -24)
_EXHAUSTIVE = {
    "log": lambda u, fma: R._log_ps(np.float32(1) - u, fma)[None],
    "sincos": lambda u, fma: np.stack(R._sincos_ps(np.float32(R._TWO_PI) * u, fma)),
}


@pytest.mark.parametrize("fn", _EXHAUSTIVE.values(), ids=_EXHAUSTIVE.keys())
def test_fast_fma_is_exact_on_every_box_muller_input(fn):
    bad = 0
    for i in range(0, _ALL_U.size, R._CHUNK):
        u = _ALL_U[i:i + R._CHUNK]
        fast, exact = fn(u, R._fma32_no_tie), fn(u, R._fma32)
        bad += int(np.count_nonzero(fast.view(np.int32) != exact.view(np.int32)))
    assert bad == 0
