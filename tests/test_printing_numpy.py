"""jtorch._printing against real torch: every case builds one array, prints it both ways, and
compares the text exactly."""

import contextlib

import ml_dtypes
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from jtorch._printing import get_printoptions, printoptions, set_printoptions, tensor_repr

FLOATS = ["float32", "float64", "float16", "bfloat16"]
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
COMPLEX = ["complex64", "complex128"]
NP_DTYPE = {name: np.dtype(name) for name in FLOATS + INTS + COMPLEX + ["bool"]
            if name != "bfloat16"}
NP_DTYPE["bfloat16"] = np.dtype(ml_dtypes.bfloat16)


def to_torch(array: np.ndarray, dtype_name: str) -> torch.Tensor:
    if dtype_name == "bfloat16":  # numpy has no bfloat16 torch can read; float32 holds it exactly
        return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(array.copy())  # copy: contiguous and writable, keeps 0-d


def check(array, dtype_name: str, *, default_dtype=torch.float32, **kwargs):
    """The one differential: torch's repr of the array against ours."""
    array = np.asarray(array).astype(NP_DTYPE[dtype_name])
    previous = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        expected = repr(to_torch(array, dtype_name))
    finally:
        torch.set_default_dtype(previous)
    default_name = str(default_dtype).removeprefix("torch.")
    got = tensor_repr(array, dtype_name, default_dtype_name=default_name, **kwargs)
    assert got == expected, f"\n--- jtorch ---\n{got}\n--- torch ---\n{expected}"


@contextlib.contextmanager
def both_options(**kwargs):
    with torch._tensor_str.printoptions(**kwargs), printoptions(**kwargs):
        assert get_printoptions() == torch._tensor_str.get_printoptions()
        yield


@pytest.fixture(autouse=True)
def default_options():
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


def sample(kind: str, shape, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "bool":
        return rng.random(shape) < 0.5
    if kind == "uint":
        return rng.integers(0, max(int(scale), 1), size=shape)
    if kind == "int":
        return rng.integers(-int(scale), int(scale) + 1, size=shape)
    if kind == "complex":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * scale
    return rng.standard_normal(shape) * scale


def kind_of(dtype_name: str) -> str:
    for prefix in ("uint", "int", "complex", "bool"):
        if dtype_name.startswith(prefix):
            return prefix
    return "float"


SHAPES = [(), (1,), (6,), (2, 3), (2, 3, 4), (2, 1, 3, 2)]
FLOAT_SCALES = [1.0, 1e-3, 1e-6, 1e3, 1e5, 1e10]
INT_SCALES = {"int8": [9, 127], "int16": [300], "int32": [2**31 - 1], "int64": [9, 2**62],
              "uint8": [255], "uint16": [60000], "uint32": [2**32 - 1], "uint64": [2**62],
              "bool": [1]}

RANDOM_CASES = (
    [(d, shape, scale) for d in FLOATS + COMPLEX for shape in SHAPES for scale in FLOAT_SCALES
     if not (d == "float16" and scale > 1e3)]  # float16 overflow is covered by SPECIAL_CASES
    + [(d, shape, scale) for d in INTS + ["bool"] for shape in SHAPES
       for scale in INT_SCALES[d]]
)


@pytest.mark.parametrize("dtype_name,shape,scale", RANDOM_CASES)
def test_random_values(dtype_name, shape, scale):
    check(sample(kind_of(dtype_name), shape, scale), dtype_name)


nan, inf = np.nan, np.inf
SPECIAL_CASES = [
    ([1.0, 2.0, 3.0], FLOATS),  # whole numbers print as "1."
    ([-1.0, 100.0, 2.0], FLOATS),
    ([1.5, inf, -0.0, nan], FLOATS + COMPLEX),
    ([0.5, -0.0], FLOATS),  # -0.0000 wider than the chosen width
    ([0.0, -0.0], FLOATS),
    ([nan, nan], FLOATS),
    ([inf, -inf, nan], FLOATS),
    ([100.0, nan, -inf], FLOATS),
    ([1.0, 1000.0], FLOATS),  # ratio exactly 1000: fixed point
    ([1.0, 1000.5], ["float32", "float64"]),  # ratio just above: scientific
    ([1e8, 1.0], ["float32", "float64"]),
    ([1.5e8, 2.0], ["float32", "float64"]),
    ([1e-4, 2e-4], ["float32", "float64"]),
    ([9e-5, 2e-4], FLOATS),
    ([1e10, 1.0], ["float32", "float64"]),
    ([1e30, -1e-30, 0.0], ["float32", "float64"]),
    ([1e300, 1e-300, 5e-324], ["float64"]),  # ratio overflows to inf
    ([65504.0, -65504.0, 6e-8], ["float16"]),
    ([3.5], FLOATS),
    (3.5, FLOATS + COMPLEX),
    (-0.0, FLOATS),
    (nan, FLOATS),
    (1e-9, FLOATS),
    (7.0, FLOATS),
    ([1 + 1j, -2 - 0.5j, 3 - 0j], COMPLEX),
    ([1e10 + 1j, 1j], COMPLEX),
    ([complex(nan, inf), complex(-inf, -0.0)], COMPLEX),
    ([0j, 0j], COMPLEX),
    ([True, False, True], ["bool"]),
    (True, ["bool"]),
    ([-128, 0, 127], ["int8", "int64"]),
    (-5, INTS[:4]),
    ([0, 255], ["uint8"]),
    ([[1, -22], [333, 4]], ["int32", "int64"]),
]


@pytest.mark.parametrize(
    "values,dtype_name",
    [(v, d) for v, dtypes in SPECIAL_CASES for d in dtypes],
    ids=lambda x: repr(x)[:40],
)
def test_special_values(values, dtype_name):
    check(values, dtype_name)


EMPTY_SHAPES = [(0,), (0, 3), (2, 0, 3), (3, 0)]


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "int64", "bool", "complex64",
                                        "uint8", "bfloat16"])
@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_empty(dtype_name, shape):
    check(np.zeros(shape), dtype_name)


SUMMARY_CASES = [
    ("float32", (999,)), ("float32", (1000,)), ("float32", (1001,)), ("float32", (5000,)),
    ("int64", (1001,)), ("int64", (5000,)), ("bool", (5000,)), ("complex64", (1001,)),
    ("float64", (40, 30)), ("float32", (11, 11, 11)), ("float32", (7, 7, 7, 7)),
    ("int32", (3, 1000)), ("float32", (1000, 2)), ("float16", (2, 2, 300)),
    ("complex128", (20, 60)), ("bfloat16", (1, 1001)),
]


@pytest.mark.parametrize("dtype_name,shape", SUMMARY_CASES)
@pytest.mark.parametrize("scale", [1.0, 1e-5, 1e3])
def test_summarisation(dtype_name, shape, scale):
    check(sample(kind_of(dtype_name), shape, scale, seed=1), dtype_name)


def test_summarisation_choices_come_from_shown_values():
    # the huge value is hidden by "...", so it must not force scientific notation
    values = np.ones(2000, np.float32)
    values[1000] = 1e20
    check(values, "float32")
    check(np.arange(1001.0), "float32")  # shown: 0..2, 998..1000, all whole


@pytest.mark.parametrize("values,dtype_name", [
    (np.arange(100.0), "float32"),
    (np.arange(100), "int64"),
    (sample("float", (50,), seed=2), "float32"),
    (sample("float", (50,), 1e-7, seed=2), "float64"),
    (sample("complex", (30,), seed=3), "complex64"),
    (sample("float", (3, 30), seed=4), "float32"),
    (sample("float", (2, 2, 40), 1e3, seed=5), "float16"),
])
def test_wrapping_long_rows(values, dtype_name):
    check(values, dtype_name)


OPTION_SETS = [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(sci_mode=True),
    dict(sci_mode=False), dict(precision=3, sci_mode=True), dict(linewidth=40),
    dict(linewidth=200), dict(linewidth=10), dict(threshold=10), dict(threshold=10, edgeitems=1),
    dict(threshold=10, edgeitems=0), dict(edgeitems=0), dict(threshold=5, edgeitems=10),
    dict(profile="short"), dict(profile="full"), dict(profile="short", precision=6),
]
OPTION_ARRAYS = [
    (sample("float", (6,), seed=6), "float32"),
    (sample("float", (4, 5), 1e6, seed=7), "float64"),
    (sample("float", (2, 3, 4), 1e-5, seed=8), "float32"),
    (np.array([1.0, -0.0, nan, inf]), "float32"),
    (np.arange(30.0).reshape(5, 6), "float32"),
    (sample("float", (1500,), seed=9), "float32"),
    (sample("int", (40,), 1000, seed=10), "int16"),
    (sample("complex", (3, 7), seed=11), "complex128"),
    (np.array(2.25), "float32"),
    (np.zeros((0, 2)), "float32"),
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=repr)
@pytest.mark.parametrize("values,dtype_name", OPTION_ARRAYS, ids=lambda x: str(x)[:20])
def test_print_options(options, values, dtype_name):
    with both_options(**options):
        check(values, dtype_name)


def test_set_and_get_printoptions_follow_torch():
    calls = [dict(precision=2), dict(threshold=5, sci_mode=True), dict(linewidth=50),
             dict(profile="full"), dict(profile="nonsense", edgeitems=1), dict()]
    for call in calls:
        torch.set_printoptions(**call)
        set_printoptions(**call)
        assert get_printoptions() == torch._tensor_str.get_printoptions()
    with both_options(precision=1, sci_mode=False):
        check([1.25, 3e-7], "float32")
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    set_printoptions(profile="default")
    assert get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80,
                                      sci_mode=None)


@pytest.mark.parametrize("default", [torch.float64, torch.float16])
@pytest.mark.parametrize("values,dtype_name", [
    ([1.5, 2.0], "float32"), ([1.5, 2.0], "float64"), ([1.5, 2.0], "float16"),
    ([1 + 2j], "complex64"), ([1 + 2j], "complex128"), ([3], "int64"), ([True], "bool"),
    (np.zeros((0,)), "float32"), (np.zeros((0,)), "float64"), (np.zeros((0, 2)), "float16"),
])
def test_default_dtype(default, values, dtype_name):
    check(values, dtype_name, default_dtype=default)


def autograd_cases():
    def leaf(values, dtype=torch.float32):
        return torch.tensor(values, dtype=dtype, requires_grad=True)

    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    return [
        leaf([1.0, 2.0]),
        x + 1,
        x * 2.5,
        x.sum(),
        x.t(),
        leaf([1.0, 2.0], torch.float64) + 1,
        leaf(sample("float", (40,), seed=12).tolist()) + 1,  # suffix wraps onto its own line
        leaf(sample("float", (8,), seed=13).tolist(), torch.float64) * 3,
        leaf(sample("float", (2000,), seed=14).tolist()) - 1,
        leaf([]),
        leaf(2.5) + 1,
    ]


@pytest.mark.parametrize("tensor", autograd_cases(), ids=lambda t: type(t.grad_fn).__name__)
def test_requires_grad_and_grad_fn(tensor):
    grad_fn = type(tensor.grad_fn).__name__ if tensor.grad_fn is not None else None
    got = tensor_repr(tensor.detach().numpy(), str(tensor.dtype).removeprefix("torch."),
                      requires_grad=tensor.requires_grad, grad_fn=grad_fn)
    assert got == repr(tensor)


def test_grad_fn_names_are_printed_verbatim():
    assert tensor_repr(np.ones(2, np.float32), "float32", requires_grad=True,
                       grad_fn="AddBackward0") == "tensor([1., 1.], grad_fn=<AddBackward0>)"


@pytest.mark.parametrize("values,dtype_name,requires_grad", [
    (sample("float", (3, 2), seed=15), "float32", True),
    (np.ones((2, 2)), "float32", True),
    (sample("float", (5,), seed=16), "float64", True),
    (sample("float", (5,), seed=17), "float32", False),
    (np.zeros((0,)), "float32", True),
])
def test_parameter(values, dtype_name, requires_grad):
    parameter = torch.nn.Parameter(to_torch(np.asarray(values).astype(dtype_name), dtype_name),
                                   requires_grad=requires_grad)
    got = tensor_repr(values, dtype_name, requires_grad=requires_grad, is_parameter=True)
    assert got == repr(parameter) == str(parameter)


@pytest.mark.parametrize("values,dtype_name,kwargs,expected", [
    ([1.0, 2.0], "float32", dict(device="cuda:0"), "tensor([1., 2.], device='cuda:0')"),
    ([1, 2], "int32", dict(device="cuda:0"), "tensor([1, 2], device='cuda:0', dtype=torch.int32)"),
    ([1.0, 2.0], "float32", dict(device="cuda:1", requires_grad=True),
     "tensor([1., 2.], device='cuda:1', requires_grad=True)"),
    ([1.0], "float32", dict(device="cpu"), "tensor([1.])"),
    ([1.0], "float32", dict(device=None), "tensor([1.])"),
    (np.zeros((0, 2)), "float64", dict(device="cuda:0"),
     "tensor([], device='cuda:0', size=(0, 2), dtype=torch.float64)"),
])
def test_device_suffix(values, dtype_name, kwargs, expected):
    assert tensor_repr(np.asarray(values), dtype_name, **kwargs) == expected


def test_device_suffix_wraps_like_torch():
    # torch on CPU cannot make a cuda tensor; its own suffix joiner is the reference here.
    t = torch.from_numpy(sample("float", (9,), seed=18))
    suffixes = ["device='cuda:0'", "dtype=torch.float64", "grad_fn=<MulBackward0>"]
    expected = torch._tensor_str._add_suffixes(
        "tensor(" + torch._tensor_str._tensor_str(t, 7), suffixes, 7, False)
    got = tensor_repr(t.numpy(), "float64", device="cuda:0", grad_fn="MulBackward0")
    assert got == expected and "\n" in got


def test_bfloat16_arrives_either_way():
    values = sample("float", (4, 3), seed=19).astype(ml_dtypes.bfloat16)
    assert tensor_repr(values, "bfloat16") == tensor_repr(values.astype(np.float32), "bfloat16")
    check(values, "bfloat16")


float32_elements = st.one_of(
    st.floats(width=32),
    st.floats(-10, 10, width=32),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([0.0, -0.0, 1e-5, 1e9, float("nan"), float("inf")]),
)
float32_arrays = hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0,
                                                         max_side=7), elements=float32_elements)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(float32_arrays)
def test_hypothesis_float32(values):
    check(values, "float32")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    float32_arrays,
    st.fixed_dictionaries({}, optional=dict(
        precision=st.integers(0, 8), sci_mode=st.sampled_from([None, True, False]),
        linewidth=st.integers(10, 120), threshold=st.integers(0, 50),
        edgeitems=st.integers(0, 4))),
)
def test_hypothesis_float32_with_options(values, options):
    with both_options(**options):
        check(values, "float32")
