"""jtorch.testing.assert_close against torch.testing.assert_close: same pass/fail, exception class and
message (with the tensor type's name as the only allowed difference)."""
import collections

import numpy as np
import pytest
import torch

import jtorch
import jtorch.testing

nan, inf = float("nan"), float("inf")


def T(values, dtype="float32"):
    return ("T", values, dtype)


def build(x, lib):
    if isinstance(x, tuple) and len(x) == 3 and x[0] == "T":
        return lib.tensor(x[1], dtype=getattr(lib, x[2]))
    if isinstance(x, list):
        return [build(v, lib) for v in x]
    if isinstance(x, dict):
        return {k: build(v, lib) for k, v in x.items()}
    return x


CASES = [
    ("equal", T([1.0, 2.0]), T([1.0, 2.0]), {}),
    ("within_tol", T([1.0, 2.0]), T([1.0, 2.000001]), {}),
    ("one_off", T([1.0, 2.0, 3.0]), T([1.0, 2.5, 3.0]), {}),
    ("2d", T([[1.0, 2.0], [3.0, 4.0]]), T([[1.0, 2.0], [3.0, 5.0]]), {}),
    ("ints", T([1, 2, 3], "int64"), T([1, 2, 4], "int64"), {}),
    ("int_rel_third", T([1, 2, 4], "int64"), T([1, 2, 3], "int64"), {}),
    ("uint8", T([1, 200], "uint8"), T([3, 100], "uint8"), {}),
    ("bools", T([True, False], "bool"), T([True, True], "bool"), {}),
    ("dtype", T([1.0]), T([1.0], "float64"), {}),
    ("dtype_unchecked", T([1.0]), T([1.0], "float64"), {"check_dtype": False}),
    ("dtype_unchecked_diff", T([1.0]), T([1.1], "float64"), {"check_dtype": False}),
    ("shape", T([1.0, 2.0]), T([1.0, 2.0, 3.0]), {}),
    ("nan", T([1.0, nan]), T([1.0, nan]), {}),
    ("nan_equal", T([1.0, nan]), T([1.0, nan]), {"equal_nan": True}),
    ("zero_expected", T([0.0, 1.0]), T([0.0, 0.0]), {}),
    ("inf", T([inf]), T([1.0]), {}),
    ("inf_expected", T([1.0]), T([inf]), {}),
    ("inf_both", T([inf, -inf]), T([inf, -inf]), {}),
    ("f64_small", T([1e-9], "float64"), T([0.0], "float64"), {}),
    ("f16", T([1.0, 2.0], "float16"), T([1.001, 2.0], "float16"), {}),
    ("scalar_tensor", T(1.0), T(2.0), {}),
    ("custom_tol", T([1.0]), T([1.1]), {"rtol": 0.2, "atol": 0.0}),
    ("custom_tol_fail", T([1.0, 5.0]), T([1.1, 5.0]), {"rtol": 1e-3, "atol": 1e-3}),
    ("only_rtol", T([1.0]), T([1.1]), {"rtol": 1e-3}),
    ("only_atol", T([1.0]), T([1.1]), {"atol": 1e-3}),
    ("msg", T([1.0]), T([1.1]), {"msg": "custom"}),
    ("floats", 1.0, 1.1, {}),
    ("floats_close", 1.0, 1.0 + 1e-9, {}),
    ("ints_py", 3, 4, {}),
    ("int_float", 3, 3.0, {}),
    ("booleans", True, False, {}),
    ("list", [T(1.0), T(2.0)], [T(1.0), T(3.0)], {}),
    ("list_len", [1, 2], [1, 2, 3], {}),
    ("dict", {"a": T(1.0), "b": 1}, {"a": T(2.0), "b": 1}, {}),
    ("dict_keys", {"a": 1}, {"b": 1}, {}),
    ("nested", {"x": [1, {"y": T([1.0, 2.0])}]}, {"x": [1, {"y": T([1.0, 3.0])}]}, {}),
    ("tensor_vs_list", T([1.0, 2.0]), [1.0, 2.0], {}),
    ("none", None, None, {}),
]


def outcome(lib, actual, expected, kwargs):
    fn = torch.testing.assert_close if lib is torch else jtorch.testing.assert_close
    try:
        fn(build(actual, lib), build(expected, lib), **kwargs)
        return "ok"
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).replace("jtorch._tensor.Tensor", "torch.Tensor")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_assert_close(case):
    _, actual, expected, kwargs = case
    assert outcome(jtorch, actual, expected, kwargs) == outcome(torch, actual, expected, kwargs)


def test_numpy_arrays_and_callable_msg():
    jtorch.testing.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"^prefix: Tensor-likes are not close!"):
        jtorch.testing.assert_close(jtorch.tensor([1.0]), jtorch.tensor([2.0]), msg=lambda m: "prefix: " + m)
    Point = collections.namedtuple("Point", "x y")
    jtorch.testing.assert_close(Point(jtorch.ones(2), 1), Point(jtorch.ones(2), 1))
