"""torch.testing.assert_close: the same checks, default tolerances and messages, computed in numpy.

Tensors (and numpy arrays) are compared as tensor-likes: shape always; device and dtype unless
check_device / check_dtype is False (values are then compared in the promoted dtype); then values
with |actual - expected| <= atol + rtol * |expected|. Python numbers are compared as scalars,
sequences and mappings element by element, naming the failing item as torch does.
"""
import cmath
import collections.abc

import numpy as np

from . import _dtype as D
from ._tensor import Tensor

__all__ = ["assert_close"]

_DTYPE_PRECISIONS = {"float16": (0.001, 1e-5), "bfloat16": (0.016, 1e-5), "float32": (1.3e-6, 1e-5),
                     "float64": (1e-7, 1e-7), "complex32": (0.001, 1e-5), "complex64": (1.3e-6, 1e-5),
                     "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPES = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}


class _Failure(Exception):
    def __init__(self, kind, msg, id=()):
        self.kind, self.msg, self.id = kind, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += "\n\nThe failure occurred for item %s" % "".join(str([item]) for item in self.id)
            msg = msg(generated) if callable(msg) else generated
        return self.kind(msg)


def _tolerances(dtype_names, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no %s."
                       % ("atol" if atol is None else "rtol"), id)
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*[_DTYPE_PRECISIONS.get(name, (0.0, 0.0)) for name in dtype_names])
    return max(rtols), max(atols)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_msg(kind, diff, idx, tol):
        msg = ("%s difference: %s" % (kind.title(), diff) if idx is None else
               "Greatest %s difference: %s at index %s" % (kind, diff, idx))
        if not equality:
            msg += " (up to %s allowed)" % (tol,)
        return msg + "\n"
    msg = "%s are not %s!\n\n" % (identifier, "equal" if equality else "close")
    if extra:
        msg += extra.strip() + "\n"
    msg += diff_msg("absolute", abs_diff, abs_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", "Expected %s but got %s." % (expected, actual), abs_diff, None, atol, rel_diff,
                         None, rtol)


def _values(x):
    """(numpy array, dtype name, device string) of a tensor-like."""
    if isinstance(x, Tensor):
        return np.asarray(x.detach()._value()), x.dtype.name, str(x.device), x.dtype
    arr = np.asarray(x)
    return arr, D.from_numpy_dtype(arr.dtype).name, "cpu", D.from_numpy_dtype(arr.dtype)


def _first_max(a):
    """torch.max(a, 0): the largest value (NaN wins) and its first index."""
    nans = np.isnan(a) if a.dtype.kind in "fc" else np.zeros(a.shape, bool)
    if nans.any():
        i = int(np.argmax(nans))
    else:
        i = int(np.argmax(a))
    return a[i], i


def _unravel(flat, shape):
    if not shape:
        return ()
    out = []
    for size in shape[::-1]:
        flat, mod = divmod(flat, size)
        out.append(mod)
    return tuple(out[::-1])


def _compare_tensors(actual, expected, *, rtol, atol, equal_nan, check_device, check_dtype, id):
    a, a_dtype, a_dev, a_d = _values(actual)
    e, e_dtype, e_dev, e_d = _values(expected)
    rtol, atol = _tolerances([a_dtype, e_dtype], rtol, atol, id)

    def mismatch(name, x, y):
        raise _Failure(AssertionError, "The values for attribute '%s' do not match: %s != %s." % (name, x, y), id)
    if a.shape != e.shape:
        from ._size import Size
        mismatch("shape", Size(a.shape), Size(e.shape))
    if check_device and a_dev != e_dev:
        mismatch("device", a_dev, e_dev)
    if check_dtype and a_dtype != e_dtype:
        mismatch("dtype", a_d, e_d)
    if a_dtype != e_dtype:
        common = D.promote_types(a_d, e_d).np
        a, e = a.astype(common), e.astype(common)
    if a.dtype.kind in "fc":
        with np.errstate(invalid="ignore", over="ignore"):  # torch.isclose
            err = np.abs(a - e)
            close = (a == e) | (np.isfinite(err) & (err <= atol + np.abs(rtol * e)))
        if equal_nan:
            close |= np.isnan(a) & np.isnan(e)
    else:
        close = a == e
    if close.all():
        return
    if a.shape == ():
        raise _Failure(AssertionError, _scalar_msg(a.item(), e.item(), rtol, atol), id)
    n = close.size
    mism = n - int(close.sum())
    extra = "Mismatched elements: %d / %d (%s)" % (mism, n, format(mism / n, ".1%"))
    af, ef, mf = a.reshape(-1), e.reshape(-1), close.reshape(-1)
    if af.dtype.kind not in "fc":
        af, ef = af.astype(np.int64), ef.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(af - ef)
        abs_diff[mf] = 0
        if abs_diff.dtype.kind in "iu":  # torch divides integer tensors in the default float dtype
            fd = D.get_default_dtype().np
            rel_diff = abs_diff.astype(fd) / np.abs(ef).astype(fd)
        else:
            rel_diff = abs_diff / np.abs(ef)
        rel_diff[mf] = 0
    max_abs, abs_i = _first_max(abs_diff)
    max_rel, rel_i = _first_max(rel_diff)
    raise _Failure(AssertionError, _mismatch_msg("Tensor-likes", extra, max_abs.item(), _unravel(abs_i, a.shape),
                                                 atol, max_rel.item(), _unravel(rel_i, a.shape), rtol), id)


def _is_number(x):
    return isinstance(x, (int, float, complex, np.number, np.bool_)) and not isinstance(x, Tensor)


def _compare_numbers(actual, expected, *, rtol, atol, equal_nan, check_dtype, id):
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) is not bool(expected):
            raise _Failure(AssertionError, "Booleans mismatch: %s is not %s" % (actual, expected), id)
        return

    def dtype_name(x):
        return _NUMBER_DTYPES.get(type(x)) or D.from_numpy_dtype(np.asarray(x).dtype).name
    if check_dtype and type(actual) is not type(expected):
        raise _Failure(AssertionError, "The (d)types do not match: %s != %s." % (type(actual), type(expected)), id)
    rtol, atol = _tolerances([dtype_name(actual), dtype_name(expected)], rtol, atol, id)
    a, e = (x.item() if isinstance(x, np.generic) else x for x in (actual, expected))
    if a == e:
        return
    if equal_nan and cmath.isnan(a) and cmath.isnan(e):
        return
    abs_diff = abs(a - e)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(e):
        return
    raise _Failure(AssertionError, _scalar_msg(a, e, rtol, atol), id)


def _compare(actual, expected, id, options):
    if actual is None or expected is None:
        if actual is None and expected is None:
            return
        raise _Failure(TypeError, "No comparison pair was able to handle inputs of type %s and %s."
                       % (type(actual), type(expected)), id)
    tensorlike = (Tensor, np.ndarray)
    if isinstance(actual, tensorlike) or isinstance(expected, tensorlike):
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not options["allow_subclasses"] and type(actual) is not type(expected)):
            raise _Failure(TypeError, "No comparison pair was able to handle inputs of type %s and %s."
                           % (type(actual), type(expected)), id)
        return _compare_tensors(actual, expected, rtol=options["rtol"], atol=options["atol"],
                                equal_nan=options["equal_nan"], check_device=options["check_device"],
                                check_dtype=options["check_dtype"], id=id)
    if isinstance(actual, collections.abc.Sequence) and isinstance(expected, collections.abc.Sequence) \
            and not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, "The length of the sequences mismatch: %d != %d"
                           % (len(actual), len(expected)), id)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, id + (i,), options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        a_keys, e_keys = set(actual.keys()), set(expected.keys())
        if a_keys != e_keys:
            missing, extra = e_keys - a_keys, a_keys - e_keys
            raise _Failure(AssertionError, "The keys of the mappings do not match:\nMissing keys in the actual "
                           "mapping: %s\nAdditional keys in the actual mapping: %s"
                           % (sorted(missing), sorted(extra)), id)
        keys = actual.keys()
        try:
            keys = sorted(keys)
        except Exception:
            keys = list(keys)
        for k in keys:
            _compare(actual[k], expected[k], id + (k,), options)
        return
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(actual, expected, rtol=options["rtol"], atol=options["atol"],
                                equal_nan=options["equal_nan"], check_dtype=options["check_dtype"], id=id)
    raise _Failure(TypeError, "No comparison pair was able to handle inputs of type %s and %s."
                   % (type(actual), type(expected)), id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError (torch's message) unless `actual` and `expected` are close.

    Default tolerances by dtype, as torch: float16 (1e-3, 1e-5), bfloat16 (1.6e-2, 1e-5), float32
    (1.3e-6, 1e-5), float64 (1e-7, 1e-7), complex like their parts; other dtypes must be equal.
    `check_layout` and `check_stride` are accepted (jtorch tensors are all strided; strides are not
    compared)."""
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype)
    try:
        _compare(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error(msg) from None

