"""arange / linspace / logspace values computed exactly as PyTorch's CPU kernels compute them.

torch's compiled kernels fuse `a + b * c` into one FMA (a single rounding), which changes the
last bit of many values, so the formulas here use an exact FMA. arange is also vectorised: in
the part covered by whole pairs of 32-byte vectors, element j of a vector is
`fma(j, step, base)` with `base` the formula's value (rounded to the output type) at the
vector's first index; the tail uses the formula per element. linspace and logspace are serial.
(Measured against torch 2.13 on x86-64; very long ranges split over threads may round
differently in their last bit.)"""
import math

import numpy as np

VECTOR_BYTES = 32


def _split(a):
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


def fma(a, b, c):
    """a * b + c in float64 with one rounding (Dekker's exact product plus a compensated sum)."""
    a, b, c = (np.asarray(x, np.float64) for x in (a, b, c))
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    return s + (t + err)


def _integral(dtype):
    return not (dtype.is_floating_point or dtype.is_complex)


def arange_values(start, end, step, dtype):
    """torch.arange's values in `dtype` (a torch dtype); raises torch's errors."""
    np_t = dtype.np
    integral = _integral(dtype)
    for v in (start, end, step):
        if isinstance(v, float) and not math.isfinite(v):
            raise RuntimeError("unsupported range: %s -> %s" % (start, end))
    if integral:
        xstart, xend, xstep = int(start), int(end), int(step)
        if xstep == 0 and step != 0:   # a fractional step truncated by the integer dtype
            raise ValueError("step must be nonzero")
    else:
        xstart, xend, xstep = float(start), float(end), float(step)
    if xstep == 0:
        raise RuntimeError("step must be nonzero")
    if not (xend >= xstart if xstep > 0 else xend <= xstart):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype.name == "int64":
        sgn = (xstep > 0) - (xstep < 0)
        n = int(math.ceil((xend - xstart + xstep - sgn) // xstep))
    else:   # the size is computed from the arguments in double, whatever the dtype
        n = int(math.ceil((float(end) - float(start)) / float(step)))
    n = max(n, 0)
    if integral:
        return (xstart + np.arange(n, dtype=np.int64) * xstep).astype(np_t)
    width = VECTOR_BYTES // np.dtype(np_t).itemsize
    idx = np.arange(n)
    vec_end = (n // (2 * width)) * 2 * width
    block = np.where(idx < vec_end, (idx // width) * width, -1)
    direct = fma(xstep, idx, xstart).astype(np_t)
    base = fma(xstep, np.maximum(block, 0), xstart).astype(np_t)
    vec = fma(idx - block, xstep, base.astype(np.float64)).astype(np_t)
    return np.where(block >= 0, vec, direct)


def _serial(start, end, steps, dtype):
    """torch's linspace formula: start + step*i for the first half, end - step*(steps-i-1) after."""
    integral = _integral(dtype)
    single = not integral and np.dtype(dtype.np).itemsize <= 4 and not dtype.is_complex
    if integral:
        s, e = float(int(start)), float(int(end))
        step = (e - s) / (steps - 1)
    elif single:   # computed in float: operands and step rounded to float, one FMA rounding
        s, e = float(np.float32(start)), float(np.float32(end))
        step = float(np.float32((np.float32(e) - np.float32(s)) / np.float32(steps - 1)))
    else:
        s, e = float(start), float(end)
        step = (e - s) / (steps - 1)
    i = np.arange(steps)
    out = np.where(i < steps // 2, fma(step, i, s), fma(-step, steps - i - 1, e))
    if single:
        out = out.astype(np.float32)
    return np.trunc(out) if integral else out


def linspace_values(start, end, steps, dtype):
    np_t = dtype.np
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return np.zeros(0, np_t)
    if steps == 1:
        return np.full(1, int(start) if _integral(dtype) else start).astype(np_t)
    return _serial(start, end, steps, dtype).astype(np_t)


def logspace_values(start, end, steps, base, dtype):
    """torch's logspace loop: pow(base, exponent) in double per element, the exponent
    `start + step*i` (or `end - step*(steps-i-1)` past halfway) with start/end in the output type."""
    np_t = dtype.np
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 0:
        return np.zeros(0, np_t)
    integral = _integral(dtype)
    if steps == 1:
        exps = np.full(1, float(start))
    else:
        conv = (lambda v: np.int64(int(v))) if integral else np.dtype(np_t).type
        s, e = conv(start), conv(end)
        step = float(e - s) / (steps - 1)
        i = np.arange(steps)
        # compiled without FMA (RangeFactories.cpp is not one of the per-ISA kernel files)
        exps = np.where(i < steps // 2, float(s) + step * i, float(e) - step * (steps - i - 1))
    # libm's pow, as torch calls it (numpy's own pow differs in the last bit)
    out = np.fromiter((math.pow(base, x) for x in np.asarray(exps, np.float64)), np.float64, len(exps))
    return (np.trunc(out) if integral else out).astype(np_t)
