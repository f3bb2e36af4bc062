"""PyTorch's CPU random generator, re-implemented in NumPy bit for bit.

NOTE [Matching torch's CPU random numbers]
torch's CPU generator is an mt19937 engine (seeded like ``std::mt19937``'s ``init_genrand``
with the low 32 bits of the seed) plus ATen's transforms from raw draws to values. NumPy's
``MT19937`` bit generator runs the same recurrence, so we load the key array that
``init_genrand`` produces into it and take raw 32-bit words with ``random_raw``; a 64-bit draw is
two words, the first one high. Every method below then repeats one ATen kernel on whole arrays:

* float uniforms: low 24 bits * 2^-24 (float32, half, bfloat16 compute in float32), low 53
  bits of a 64-bit draw * 2^-53 (float64); then ``x * (to - from) + from`` as one fused
  multiply-add, because GCC contracts that expression in the kernel.
* ``normal`` on 16 or more values: fill with uniforms, then Box-Muller on blocks of 16 (the
  last, partial block redrawn and recomputed). torch runs this with the AVX2 kernel on every
  x86 CPU with AVX2 (AVX512 machines included), whose float32 ``log``/``sin``/``cos`` are
  Cephes polynomials (``avx_mathfun.h``); ``_log_ps``/``_sincos_ps`` repeat them operation by
  operation, with the multiply-adds that GCC fuses fused here too. float64 uses glibc's
  ``log``/``sin``/``cos``, which we reach through ``math`` (NumPy's SIMD ``log`` differs from
  glibc in the last bit).
* ``normal`` on fewer than 16 values: scalar Box-Muller in float64 on two 64-bit draws, the
  second sample cached in the generator (part of ``get_state``).
* integers: ``draw % range + low`` with a 32-bit draw when ``range < 2**28``, else 64-bit.

Where torch computes in float64 and stores half/bfloat16, it rounds through float32 first
(c10::Half and c10::BFloat16 are built from float); ``_to_dtype`` repeats that double rounding.

Where this differs from torch 2.13 on CPU (everything else is bit-for-bit, state bytes included):

* torch built without AVX2 kernels (``ATEN_CPU_CAPABILITY=default``, ARM/macOS) computes
  ``normal`` on 16+ float32/half/bfloat16 values with libm instead of the Cephes polynomials;
  those values will differ in the last bits.
* float64 paths call the platform libm through ``math``: they match torch when both use the same
  libm (glibc on Linux).
* ``normal`` on a non-contiguous tensor of 16+ elements takes torch's elementwise path; callers
  ask for it with ``contiguous=False`` and get the values in the tensor's memory order.
* ``multinomial`` without replacement orders ties in p/q (zero-probability categories when
  num_samples exceeds the non-zero ones) lowest index first; torch's top-k leaves that unspecified.
* ``randperm`` for n >= 214748364 matches torch but needs about 2 minutes and 14 GB there.
* ``normal_tensor`` does its arithmetic in the result dtype; torch uses the promoted dtype of
  mixed-dtype operands.
* ``default_generator`` starts from torch's fixed default seed, where torch seeds its default
  generator non-deterministically at import.

Speed. Exact emulation costs a dozen NumPy passes per float operation, so large draws run in
chunks of ``_CHUNK`` values (``_fill_chunked``): over whole 100M-value arrays every temporary
streams through memory and is freshly allocated, and ``normal_`` on nn.Linear(25088, 4096)'s
weight took ~20-40 s; in cache it takes ~3-5 s (uniform ~2-3 s; torch ~0.6-0.8 s; one shared core). Box-Muller's
``_log_ps``/``_sincos_ps`` use ``_fma32_no_tie``, which skips ``_fma32``'s tie fix-up: their inputs
are functions of a 24-bit uniform, and tests/random/test_large_draws.py runs all 2**24 through
both fmas. float64 ``normal``/``exponential`` stay slow (~20 s per 100M values, torch ~3 s):
they call glibc once per value through ``math``, ~80 ns a call, because NumPy's SIMD ``log``
differs from glibc.

This file holds three seams that could each be their own module if it grows: exact float
emulation (fused multiply-adds, the AVX2 polynomials), the vectorised shuffles, and the Generator.
"""

import math
import operator
import os
import warnings

import ml_dtypes
import numpy as np

__all__ = ["Generator", "default_generator"]

_MT_N = 624
_DEFAULT_SEED = 67280421310721  # at::default_rng_seed_val
_RANDPERM_SMALL_N = 0xFFFFFFFF // 20  # randperm_cpu: below this, Fisher-Yates with 32-bit draws
_BF16 = np.dtype(ml_dtypes.bfloat16)
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_REDUCED = (_F16, _BF16)  # computed in float32 ("opmath"), stored narrow
_FLOATS = (_F64, _F32) + _REDUCED
_DIGITS = {_F64: 53, _F32: 24, _F16: 11, _BF16: 8}  # std::numeric_limits<T>::digits
_INTS = tuple(np.dtype(t) for t in (np.uint8, np.int8, np.int16, np.int32, np.int64))
_TWO_PI = 2.0 * math.pi

# torch.get_rng_state()'s 5056 bytes: CPUGeneratorImplState (CPUGeneratorImpl.cpp), little-endian.
_STATE_LAYOUT = np.dtype({
    "names": ["seed", "left", "seeded", "next", "mt", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "next_float", "next_float_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _MT_N), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": 5056,
})


def _init_genrand(seed32):
    key = np.empty(_MT_N, np.uint32)
    x = seed32
    key[0] = x
    for j in range(1, _MT_N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        key[j] = x
    return key


# ---------------------------------------------------------------- exact float helpers

def _nudge_to_odd(s, err):
    """Round-to-odd of s + err (s = RN(exact), err = exact - s): keeps a later narrower rounding
    correct, which is how a fused multiply-add is emulated without an FMA instruction."""
    bits = s.view(np.int64)
    fix = (err != 0) & ((bits & 1) == 0)
    step = np.where((err > 0) == (s > 0), 1, -1)  # +1 ulp grows |s|, whatever its sign
    return np.where(fix, bits + step, bits).view(np.float64)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma32(a, b, c):
    """float32 fma(a, b, c), correctly rounded.

    The product is exact in float64, so rounding p + c to float64 and then to float32 is wrong
    only when the float64 sum lands exactly on a float32 tie (or in float32's subnormal range);
    those few elements are redone with the sum rounded to odd.
    """
    p = np.asarray(a, _F64) * np.asarray(b, _F64)
    c = np.broadcast_to(np.asarray(c, _F64), p.shape)
    s = p + c
    bits = s.view(np.int64)
    risky = ((bits & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0 ** -125)
    out = s.astype(_F32)
    if risky.any():
        s_r, err = _two_sum(p[risky], c[risky])
        out[risky] = _nudge_to_odd(s_r, err).astype(_F32)
    return out


def _fma32_no_tie(a, b, c):
    """RN32(RN64(a*b + c)): float32 fma(a, b, c) wherever the float64 sum does not land on a float32
    tie or in float32's subnormal range, at a third of _fma32's passes.

    Only for _log_ps/_sincos_ps inside Box-Muller, whose inputs take 2**24 values (functions of a
    24-bit uniform): tests/random/test_large_draws.py runs all of them through both fmas.
    """
    s = np.multiply(a, b, dtype=_F64)
    s += c
    return s.astype(_F32)


def _split(a):
    t = 134217729.0 * a  # Veltkamp: 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def _fma64(a, b, c):
    """float64 fma(a, b, c), correctly rounded (Boldo & Melquiond's emulation with round-to-odd).

    Magnitudes near the overflow limit are scaled by 2**-160 first (exact, barring a
    subnormal c next to a huge product, which only matters in a tie); inf/nan fall back to a*b+c.
    """
    a, b, c = np.broadcast_arrays(np.asarray(a, _F64), np.asarray(b, _F64), np.asarray(c, _F64))
    with np.errstate(all="ignore"):
        huge = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(c)) > 2.0 ** 900
        scale = np.where(huge, 2.0 ** -160, 1.0)
        a_big = np.abs(a) > np.abs(b)
        a, b, c = np.where(a_big, a * scale, a), np.where(a_big, b, b * scale), c * scale
        p = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s, t = _two_sum(c, p)
        v, verr = _two_sum(t, e)
        out = (s + _nudge_to_odd(v, verr)) / scale
        plain = (p + c) / scale
    return np.where(np.isfinite(out), out, plain)


def _affine64(x, std, mean):
    """fma(x, std, mean) in float64 for scalar std and mean; one rounding is plain arithmetic
    when std == 1 or mean == 0, the common case."""
    if std == 1.0 or mean == 0.0:
        return x * std + mean
    return _fma64(x, std, mean)


def _affine32(x, std, mean):
    """_affine64 for float32 x, std and mean."""
    std, mean = np.float32(std), np.float32(mean)
    if std == 1 or mean == 0:
        return x * std + mean
    return _fma32(x, std, mean)


def _libm(fn, x):
    """glibc's double function elementwise (torch calls it; NumPy's SIMD versions may differ)."""
    return np.fromiter(map(fn, x.ravel().tolist()), _F64, count=x.size).reshape(x.shape)


def _to_dtype(x, dtype):
    """Store computed values in dtype the way C++ static_cast does (double -> float -> half)."""
    if dtype in _REDUCED and x.dtype == _F64:
        x = x.astype(_F32)
    return x.astype(dtype)


# ---------------------------------------------------------------- AVX2 Box-Muller (float32)

_LOG_POLY = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
             1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
             3.3333331174e-1)


def _log_ps(x, fma=_fma32):
    """avx_mathfun.h log256_ps, with GCC's fused multiply-adds (x > 0 here)."""
    f32 = np.float32
    x = np.maximum(x, np.array(0x00800000, np.int32).view(f32))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(f32) + f32(1)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(f32)  # mantissa in [0.5, 1)
    small = x < f32(0.707106781186547524)
    e = e - small.astype(f32)
    x = (x - f32(1)) + np.where(small, x, f32(0))
    z = x * x
    y = np.full_like(x, f32(_LOG_POLY[0]))
    for coef in _LOG_POLY[1:]:
        y = fma(y, x, f32(coef))
    y = y * x
    y = fma(y, z, e * f32(-2.12194440e-4))
    y = fma(-z, f32(0.5), y)
    return fma(e, f32(0.693359375), x + y)


def _sincos_ps(x, fma=_fma32):
    """avx_mathfun.h sincos256_ps for x >= 0, with GCC's fused multiply-adds."""
    f32 = np.float32
    j = (x * f32(1.27323954473516)).astype(np.int32)  # 4/pi, truncated
    j = (j + 1) & ~1
    y = j.astype(f32)
    x = fma(y, f32(-0.78515625), x)
    x = fma(y, f32(-2.4187564849853515625e-4), x)
    x = fma(y, f32(-3.77489497744594108e-8), x)
    z = x * x
    cos_poly = fma(f32(2.443315711809948e-5), z, f32(-1.388731625493765e-3))
    cos_poly = fma(cos_poly, z, f32(4.166664568298827e-2)) * z
    cos_poly = fma(cos_poly, z, -(z * f32(0.5))) + f32(1)
    sin_poly = fma(f32(-1.9515295891e-4), z, f32(8.3321608736e-3))
    sin_poly = fma(sin_poly, z, f32(-1.6666654611e-1)) * z
    sin_poly = fma(sin_poly, x, x)
    # the quadrant swaps sin and cos (j & 2) and flips their signs: bit operations as in the AVX
    # code, a few times cheaper than np.where and negation
    swap = np.negative((j >> 1) & 1)  # all ones where j & 2
    s_bits, c_bits = sin_poly.view(np.int32), cos_poly.view(np.int32)
    diff = (s_bits ^ c_bits) & swap
    s_bits ^= diff
    c_bits ^= diff
    s_bits ^= (j & 4) << 29
    c_bits ^= (~(j - 2) & 4) << 29
    return s_bits.view(f32), c_bits.view(f32)


def _box_muller16_f32(u, mean, std):
    """NormalFill16<float> (AVX2) on rows of 16 uniforms."""
    f32 = np.float32
    radius = np.sqrt(f32(-2) * _log_ps(f32(1) - u[:, :8], _fma32_no_tie))
    s, c = _sincos_ps(f32(_TWO_PI) * u[:, 8:], _fma32_no_tie)
    return np.concatenate([_affine32(radius * c, std, mean), _affine32(radius * s, std, mean)], axis=1)


def _box_muller16_f64(u, mean, std):
    """NormalFill16<double> (generic C++: glibc log/cos/sin, std::fma) on rows of 16 uniforms."""
    radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - u[:, :8]))
    theta = _TWO_PI * u[:, 8:]
    return np.concatenate([_affine64(radius * _libm(math.cos, theta), std, mean),
                           _affine64(radius * _libm(math.sin, theta), std, mean)], axis=1)


# ---------------------------------------------------------------- the generator

# Values per chunk of a large draw: their temporaries stay in cache (NOTE [Matching torch's CPU
# random numbers], "Speed"). Chunking cannot change a value: every transform is elementwise (per
# block of 16 for Box-Muller) and mt19937 words come out in the same order however they are taken.
_CHUNK = 1 << 16


def _fill_chunked(out, values, step=_CHUNK):
    """Fill the 1-D array out from values(m), the next m results (m <= step); return out."""
    for i in range(0, out.size, step):
        out[i:i + step] = values(min(step, out.size - i))
    return out


def _as_dtype(dtype):
    return np.dtype(dtype)


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64))


def _shape(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)


_SCALAR_TYPE = {_BF16: "BFloat16", _F16: "Half", _F32: "Float", _F64: "Double", np.dtype(bool): "Bool",
                np.dtype(np.uint8): "Byte", np.dtype(np.int8): "Char", np.dtype(np.int16): "Short",
                np.dtype(np.int32): "Int", np.dtype(np.int64): "Long", np.dtype(np.uint16): "UInt16",
                np.dtype(np.uint32): "UInt32", np.dtype(np.uint64): "UInt64"}
_CPP_TYPE = {_BF16: "c10::BFloat16", _F16: "c10::Half", _F32: "float", _F64: "double", np.dtype(bool): "bool",
             np.dtype(np.uint8): "unsigned char", np.dtype(np.int8): "signed char",
             np.dtype(np.int16): "short int", np.dtype(np.int32): "int", np.dtype(np.int64): "long int"}


def _not_implemented(kernel, dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_SCALAR_TYPE.get(dtype, str(dtype))}\'')


class Generator:
    """NumPy core of ``torch.Generator`` on CPU: same seed, same state bytes, same numbers.

    A fresh Generator() has torch.Generator()'s seed and state; see the module docstring for
    where numbers can differ from torch.
    """

    def __init__(self, seed=_DEFAULT_SEED):
        self._bits = np.random.MT19937()
        self.manual_seed(seed)

    # ---- seeding and state

    def manual_seed(self, seed):
        """Seed like torch: any int in [-2**63, 2**64); negatives wrap to uint64 (two's complement)."""
        if isinstance(seed, (bool, float, str, bytes)) or not hasattr(seed, "__index__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = operator.index(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        seed &= (1 << 64) - 1
        self._seed = seed
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": _init_genrand(seed & 0xFFFFFFFF), "pos": _MT_N}}
        self._next_at_twist = 0  # torch's `next_` while no draw has happened since seeding
        self._normal_double = None  # Box-Muller's second sample (scalar path), torch's cache
        self._normal_float = None  # torch keeps a float cache too; no CPU kernel fills it
        return self

    def seed(self):
        """Re-seed from the OS's entropy, like ``torch.Generator.seed()``, and return the seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """torch.get_rng_state()'s exact bytes (uint8, 5056)."""
        st = np.zeros((), _STATE_LAYOUT)
        bits = self._bits.state["state"]
        pos = int(bits["pos"])
        st["seed"] = self._seed
        st["seeded"] = 1
        st["mt"] = bits["key"].astype(np.uint64)
        if pos >= _MT_N:  # the next draw twists: torch's left_ == 1
            st["left"], st["next"] = 1, (self._next_at_twist if self._next_at_twist is not None else _MT_N)
        else:
            st["left"], st["next"] = _MT_N + 1 - pos, pos
        if self._normal_double is not None:
            st["normal_is_valid"], st["normal_y"] = 1, self._normal_double
        if self._normal_float is not None:
            st["next_float_valid"], st["next_float"] = 1, self._normal_float
        return np.frombuffer(st.tobytes(), np.uint8).copy()

    def set_state(self, state):
        """Load bytes from ``get_state`` or ``torch.get_rng_state()``."""
        state = np.asarray(state)
        if state.dtype != np.uint8:
            raise TypeError(f"expected a uint8 array (torch.ByteTensor), but got {state.dtype}")
        if state.size != _STATE_LAYOUT.itemsize:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_LAYOUT.itemsize} "
                               f"but found the input RNG state size to be {state.size}")
        st = np.frombuffer(np.ascontiguousarray(state).tobytes(), _STATE_LAYOUT)[0]
        left, nxt = int(st["left"]), int(st["next"]) & 0xFFFFFFFF
        if not (st["seeded"] != 0 and 0 < left <= _MT_N and nxt <= _MT_N):
            raise RuntimeError("Invalid mt19937 state")
        if left != 1 and left + nxt != _MT_N + 1:
            # torch itself never writes such a state; NumPy's engine cannot express it.
            raise ValueError(f"unsupported mt19937 state: left={left}, next={nxt}")
        key = (st["mt"] & 0xFFFFFFFF).astype(np.uint32)
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": key, "pos": _MT_N if left == 1 else nxt}}
        self._seed = int(st["seed"])
        self._next_at_twist = nxt if left == 1 else None
        self._normal_double = float(st["normal_y"]) if st["normal_is_valid"] else None
        self._normal_float = np.float32(st["next_float"]) if st["next_float_valid"] else None
        return self

    # ---- raw draws

    def _raw32(self, n):
        """n words of at::mt19937, as uint64."""
        if n <= 0:
            return np.zeros(0, np.uint64)
        self._next_at_twist = None
        return self._bits.random_raw(n)

    def _raw64(self, n):
        """n of CPUGeneratorImpl::random64(): two words, the first one high."""
        r = self._raw32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def _unit_float(self, n):
        return (self._raw32(n) & 0xFFFFFF).astype(_F32) * np.float32(2.0 ** -24)

    def _unit_double(self, n):
        return (self._raw64(n) & ((1 << 53) - 1)).astype(_F64) * 2.0 ** -53

    # ---- float distributions

    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
        """torch.rand / Tensor.uniform_(low, high)."""
        shape, dtype = _shape(shape), _as_dtype(dtype)
        if dtype not in _FLOATS:
            raise _not_implemented("check_uniform_bounds", dtype)
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
        if not high - low <= float(ml_dtypes.finfo(dtype).max):
            raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_CPP_TYPE[dtype]}>::max(), "
                               f"but found to={high} and from={low} which result in to-from to exceed the limit")
        if dtype == _F64:
            lo, hi = float(low), float(high)
            to_s, from_s = hi, lo
        else:
            lo, hi = np.float32(low), np.float32(high)
            to_s, from_s = _to_dtype(np.array(high, _F64), dtype), _to_dtype(np.array(low, _F64), dtype)

        def values(m):
            if dtype == _F64:
                v = _affine64(self._unit_double(m), hi - lo, lo)
            else:
                v = _to_dtype(_affine32(self._unit_float(m), hi - lo, lo), dtype)
            return np.where(v == to_s, from_s, v)
        return _fill_chunked(np.empty(_numel(shape), dtype), values).reshape(shape)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32, contiguous=True):
        """torch.randn / Tensor.normal_(mean, std).

        ``contiguous=False`` selects torch's path for a non-contiguous tensor (elementwise
        Box-Muller even for 16+ values), returning the values in the tensor's memory order;
        torch.randn always fills a contiguous tensor.
        """
        shape, dtype = _shape(shape), _as_dtype(dtype)
        if dtype not in _FLOATS:
            raise _not_implemented("normal_kernel_cpu", dtype)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        n = _numel(shape)
        if n >= 16 and contiguous:
            out = self._normal_fill(n, float(mean), float(std), dtype)
        else:
            out = _to_dtype(self._normal_scalar(n, float(mean), float(std)), dtype)
        return out.reshape(shape)

    def _normal_fill(self, n, mean, std, dtype):
        # torch draws all n uniforms first, then transforms the full blocks of 16, then draws 16
        # more for the partial last block and recomputes the last 16 values. Drawing the full
        # blocks' uniforms chunk by chunk takes the same words in the same order. half/bfloat16
        # fill a float buffer block by block, so their partial block is never drawn at all.
        full, tail = divmod(n, 16)
        unit, block = ((self._unit_double, _box_muller16_f64) if dtype == _F64 else
                       (self._unit_float, _box_muller16_f32))
        out = np.empty(n, dtype)
        _fill_chunked(out[:16 * full], lambda m: block(unit(m).reshape(-1, 16), mean, std).ravel())
        if tail:
            if dtype in (_F32, _F64):
                unit(tail)
            out[n - 16:] = block(unit(16).reshape(1, 16), mean, std).ravel()
        return out

    def _normal_scalar(self, n, mean, std):
        """at::normal_distribution<double>: Box-Muller on two 64-bit draws, one sample cached."""
        z = np.empty(n, _F64)
        i = 0
        if n and self._normal_double is not None:
            z[0], self._normal_double, i = self._normal_double, None, 1
        pairs = (n - i + 1) // 2
        if pairs:
            u = self._unit_double(2 * pairs).reshape(pairs, 2)
            r = np.sqrt(-2.0 * _libm(math.log1p, -u[:, 1]))
            theta = _TWO_PI * u[:, 0]
            cos, sin = r * _libm(math.cos, theta), r * _libm(math.sin, theta)
            z[i::2] = cos[: len(z[i::2])]
            z[i + 1::2] = sin[: len(z[i + 1::2])]
            if (n - i) % 2:
                self._normal_double = float(sin[-1])
        return _affine64(z, std, mean)  # val * std + mean, contracted to an fma by GCC

    def normal_tensor(self, mean, std, dtype=None):
        """torch.normal(mean, std) with a tensor mean and/or std (the other may be a float).

        torch draws standard normals of the broadcast shape and then runs its elementwise ops:
        ``out.mul_(std).add_(mean)``, or for a float std ``normal_(0, std)`` then ``add_(mean)``.
        Only a Python float selects the float variant: a 0-d array is a tensor, as in torch.
        ``dtype`` defaults to NumPy's promotion of the array arguments. Arithmetic happens in
        ``dtype``; torch computes a mixed-dtype in-place op in the promoted dtype (a gap only when
        mean/std have a wider dtype than the result).
        """
        m_arr, s_arr = isinstance(mean, np.ndarray), isinstance(std, np.ndarray)
        if not (m_arr or s_arr):
            raise TypeError("normal_tensor needs mean or std as an array; use normal() for floats")
        if dtype is None:
            dtype = np.result_type(*[a for a in (mean, std) if isinstance(a, np.ndarray)])
        dtype = _as_dtype(dtype)
        if s_arr and np.any(std < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
        if s_arr:
            out = self.normal(shape, 0.0, 1.0, dtype) * np.asarray(std).astype(dtype)
        else:
            out = self.normal(shape, 0.0, float(std), dtype)
        return (out + np.asarray(mean).astype(dtype)).astype(dtype)

    def exponential(self, shape, lambd=1.0, dtype=np.float32):
        """Tensor.exponential_(lambd): -1/lambd * log1p(-u), u a 53-bit uniform."""
        shape, dtype = _shape(shape), _as_dtype(dtype)
        if dtype not in _FLOATS:
            raise RuntimeError("Exponential distribution is a continuous probability distribution. "
                               f"dtype must be a floating point but you specified {_SCALAR_TYPE.get(dtype, dtype)}")
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        scale = -1.0 / float(lambd)
        return _fill_chunked(np.empty(_numel(shape), dtype),
                             lambda m: _to_dtype(scale * _libm(math.log1p, -self._unit_double(m)), dtype)).reshape(shape)

    # ---- integer distributions

    def randint(self, low, high, shape, dtype=np.int64):
        """torch.randint(low, high) / Tensor.random_(low, high): values in [low, high).

        ``high=None`` is ``Tensor.random_(low)``: [low, max of dtype], and ``low=-2**63`` with
        ``high=None`` the full 64-bit range.
        """
        shape, dtype = _shape(shape), _as_dtype(dtype)
        n = _numel(shape)
        low = operator.index(low)
        if high is None and low == -(1 << 63):
            if dtype not in (_F64, _F32, _BF16, np.dtype(np.int64)):
                raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, "
                                   "float and bfloat16")
            return self._cast_int64(self._raw64(n).view(np.int64), dtype).reshape(shape)
        if high is None:  # [low, largest value of dtype]
            if dtype in _FLOATS:
                to_inc = min(1 << _DIGITS[dtype], (1 << 63) - 1)
                low = _update_from(low, dtype)
                if not low < to_inc:
                    raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal "
                                       f"to 'to_inc' casted to dtype, but got from={low} > to_inc={to_inc}")
            else:
                to_inc = 1 if dtype == np.bool_ else int(np.iinfo(dtype).max)
            _check_in_range(low, to_inc, dtype)
            rng = to_inc - low + 1
        else:
            high = operator.index(high)
            if not low < high:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
            if dtype in _FLOATS:
                low, high = _update_from(low, dtype), _update_to(high, dtype)
                if not low < high:
                    raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted "
                                       f"to dtype, but got from={low} >= to={high}")
            _check_in_range(low, high - 1, dtype)
            rng = high - low
        rng &= (1 << 64) - 1
        raw = self._raw64(n) if rng >= 1 << 28 else self._raw32(n)
        vals = ((raw % np.uint64(rng)) + np.uint64(low & ((1 << 64) - 1))).view(np.int64)
        return self._cast_int64(vals, dtype).reshape(shape)

    @staticmethod
    def _cast_int64(vals, dtype):
        if dtype == np.bool_:
            return vals != 0
        if dtype in _REDUCED:
            return vals.astype(_F32).astype(dtype)  # int64 -> float -> half, as C++ does
        return vals.astype(dtype)

    def random_(self, shape, dtype):
        """Tensor.random_() with no bounds: [0, 2**mantissa] for floats, [0, max] for integers."""
        shape, dtype = _shape(shape), _as_dtype(dtype)
        n = _numel(shape)
        if dtype == np.bool_:
            return (self._raw32(n) & 1).astype(bool).reshape(shape)
        if dtype not in _FLOATS + _INTS:
            raise _not_implemented("random_kernel_cpu", dtype)
        raw = self._raw64(n) if dtype in (_F64, np.dtype(np.int64)) else self._raw32(n)
        if dtype in _INTS:
            mod = int(np.iinfo(dtype).max) + 1
        else:
            mod = (1 << _DIGITS[dtype]) + 1
        return (raw % np.uint64(mod)).astype(dtype).reshape(shape)

    def randperm(self, n, dtype=np.int64):
        """torch.randperm(n): Fisher-Yates with 32-bit draws, or for n >= 214748364 the
        inside-out variant with 64-bit draws (randperm_cpu). Vectorised: see _resolve_swaps."""
        n = operator.index(n)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        dtype = _as_dtype(dtype)
        if n < _RANDPERM_SMALL_N:
            if n <= 1:
                return np.arange(n).astype(dtype)
            i = np.arange(n, dtype=np.int64)
            z = np.empty(n, np.int64)
            z[:-1] = (self._raw32(n - 1) % (n - i[:-1]).astype(np.uint64)).astype(np.int64)
            z[-1] = 0
            return _forward_shuffle(i + z).astype(dtype)
        k = np.arange(n, dtype=np.uint64)
        z = (self._raw64(n) % (k + np.uint64(1))).astype(np.int64)
        return _inside_out_shuffle(z).astype(dtype)

    def bernoulli(self, p, shape, dtype=np.float32):
        """Tensor.bernoulli_(p) / torch.bernoulli(p): u < p.

        A Python float p takes torch's scalar kernel (53-bit uniform per element). An array p is
        broadcast to ``shape`` and takes the tensor kernel, which follows p's dtype: float64 p
        compares with a 53-bit uniform, float32/half/bfloat16 p with a 24-bit float uniform.
        """
        shape, dtype = _shape(shape), _as_dtype(dtype)
        n = _numel(shape)
        if not isinstance(p, np.ndarray):
            p = float(p)
            if not 0.0 <= p <= 1.0:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
            return (self._unit_double(n) < p).astype(dtype).reshape(shape)
        pdt = p.dtype
        if pdt not in _FLOATS:
            raise _not_implemented("bernoulli_tensor_cpu_p_", pdt)
        pb = np.broadcast_to(p, shape).ravel()
        if not np.all((pb >= 0) & (pb <= 1)):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        if pdt == _F64:
            hit = self._unit_double(n) < pb
        else:
            hit = self._unit_float(n) < pb.astype(_F32)
        return hit.astype(dtype).reshape(shape)

    def dropout_mask(self, shape, p, dtype=np.float32):
        """The noise F.dropout multiplies its input by on CPU in training: bernoulli_(1 - p) divided
        by (1 - p), i.e. the kept-mask already scaled, in ``dtype``. p == 0 gives ones and p == 1
        zeros, without drawing, as torch's dropout draws nothing for those."""
        shape, dtype = _shape(shape), _as_dtype(dtype)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if p == 0.0:
            return np.ones(shape, dtype)
        if p == 1.0:
            return np.zeros(shape, dtype)
        keep = 1.0 - p
        noise = self.bernoulli(keep, shape, dtype)
        if dtype in _REDUCED:  # half/bfloat16 divide by a scalar as a multiply by its float reciprocal
            inv = np.float32(1.0) / np.float32(keep)
            return (noise.astype(_F32) * inv).astype(dtype)
        return (noise / np.array(keep, dtype)).astype(dtype)

    def multinomial(self, probs, num_samples, replacement=False):
        """torch.multinomial(probs, num_samples, replacement) for 1-D or 2-D probs (int64)."""
        probs = np.asarray(probs)
        if probs.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        if probs.dtype not in _FLOATS:
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {probs.dtype}")
        if num_samples <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        n_cat = probs.shape[-1]
        if not replacement and num_samples > n_cat:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        rows = probs.reshape(-1, n_cat)
        if not replacement or num_samples == 1:
            # torch's fast path (Gumbel trick): argmax / top-k of p / q with q ~ Exp(1).
            finite = rows.astype(_F64)
            if not (np.all(finite < np.inf) and np.all(finite >= 0)):
                raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
            if np.any(finite.sum(axis=1) == 0):
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
            q = rows / self.exponential(rows.shape, 1.0, probs.dtype)
            order = np.argsort(-q.astype(_F64), axis=1, kind="stable")  # ties: lowest index first
            out = order[:, :num_samples]
        else:
            out = self._multinomial_replacement(rows, num_samples)
        return out.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))

    def _multinomial_replacement(self, rows, num_samples):
        acc = _F32 if rows.dtype in _REDUCED else rows.dtype
        vals = rows.astype(acc)
        if np.any(vals < 0):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
        if not np.all(np.isfinite(vals)):
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        cum = np.cumsum(vals, axis=1, dtype=acc)  # sequential, like the kernel's running sum
        total = cum[:, -1:]
        if np.any(total <= 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cum = cum / total
        cum[:, -1] = 1
        u = self._unit_double(rows.shape[0] * num_samples).reshape(rows.shape[0], num_samples)
        return np.stack([np.searchsorted(c.astype(_F64), r, side="left") for c, r in zip(cum, u)])


# ---------------------------------------------------------------- helpers for random_(from, to)

def _int64_through(value, dtype):
    """static_cast<int64_t>(static_cast<scalar_t>(value)) for an int64 value and a float dtype."""
    x = np.array(value, np.int64).astype(_F32 if dtype in _REDUCED else dtype).astype(dtype)
    return int(x.astype(_F64))


def _update_from(frm, dtype):
    """Move `from` right until it survives the cast to a float dtype (random_from_to_impl)."""
    plus1 = _int64_through(frm + 1, dtype)
    if plus1 < frm:
        frm = plus1 + (1 << (abs(frm + 1).bit_length() - _DIGITS[dtype]))
    return frm


def _update_to(to, dtype):
    """Move `to` left until it survives the cast to a float dtype (random_from_to_impl)."""
    minus1 = _int64_through(to - 1, dtype)
    if minus1 >= to:
        to = minus1 - (1 << (abs(to - 1).bit_length() - _DIGITS[dtype]))
    return to


def _check_in_range(frm, to_inc, dtype):
    """check_from_to_in_range: an error outside the dtype, for floats a warning beyond 2**digits."""
    name = _CPP_TYPE.get(dtype, str(dtype))
    if dtype in _FLOATS:
        fi = ml_dtypes.finfo(dtype)
        lo, hi = float(fi.min), float(fi.max)
    elif dtype == np.bool_:
        lo, hi = 0, 1
    else:
        lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    for value, what in ((frm, "from"), (to_inc, "to - 1")):
        if not lo <= value <= hi:
            raise RuntimeError(f"{what} is out of bounds for {name}")
    if dtype in _FLOATS:
        digits = _DIGITS[dtype]
        for value, what in ((frm, "from"), (to_inc, "to - 1")):
            if not -(1 << digits) <= value <= (1 << digits):
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                              f"limitations {name} can support discrete uniform distribution only "
                              "within this range.", UserWarning, stacklevel=3)


# ---------------------------------------------------------------- vectorised Fisher-Yates
# Both of torch's shuffles are sequential swap loops. Each position's final value is decided by
# the latest earlier step that wrote it, so grouping steps by the position they target (one
# stable sort) and following "copied from" chains (pointer jumping) gives the result in O(n log n).

def _occurrences(keys):
    """For keys in [0, n): prev[i] = latest m < i with keys[m] == keys[i] (else -1), and
    last[v] = latest i with keys[i] == v (else -1)."""
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    same = sk[1:] == sk[:-1]
    prev = np.full(n, -1, np.int64)
    prev[order[1:][same]] = order[:-1][same]
    is_last = np.append(~same, True)
    last = np.full(n, -1, np.int64)
    last[sk[is_last]] = order[is_last]
    return prev, last


def _roots(parent):
    """Follow parent pointers (parent[i] <= i, roots point to themselves) to the roots."""
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            return parent
        parent = nxt


def _forward_shuffle(j):
    """r = arange(n); for i: swap(r[i], r[j[i]]) (j[i] >= i); return r.

    Position i is final after step i and receives what sat at j[i] then: the value moved there by
    the latest earlier step m with j[m] == j[i] (what sat at m before step m, A[m]), or j[i] itself
    if no earlier step touched it. A[k] chains the same way through the latest m < k with j[m] == k.
    """
    idx = np.arange(len(j), dtype=np.int64)
    prev, last = _occurrences(j)
    # steps that targeted k all have index <= k; drop step k itself
    hit = np.where(last == idx, prev, last)
    a = _roots(np.where(hit >= 0, hit, idx))
    return np.where(prev >= 0, a[np.maximum(prev, 0)], j)


def _inside_out_shuffle(z):
    """for i: r[i] = r[z[i]]; r[z[i]] = i (z[i] <= i); return r.

    Position p ends with the latest step k > p that had z[k] == p, if any; otherwise with B[p],
    what step p copied in: p itself if z[p] == p, else the latest earlier k with z[k] == z[p], else
    B[z[p]] (a chain resolved like _forward_shuffle's).
    """
    idx = np.arange(len(z), dtype=np.int64)
    prev, last = _occurrences(z)
    direct = (z == idx) | (prev >= 0)
    root_value = np.where(z == idx, idx, prev)
    b = root_value[_roots(np.where(direct, idx, z))]
    return np.where(last > idx, last, b)


default_generator = Generator()
