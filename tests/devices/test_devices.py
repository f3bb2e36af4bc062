"""Devices on a CPU-only machine, differential against torch (a CPU build): torch.device,
torch.cuda, torch.backends, tensor and module device methods, the errors CUDA paths raise."""
import pickle

import pytest
import torch

import jtorch

# each row: an expression over `t` (the library); results compared by repr, or exception class and message
DEVICE_ROWS = [
    't.device("cpu")', 't.device("cuda")', 't.device("cuda:1")', 't.device("cuda", 1)', 't.device("cpu", 0)',
    't.device("cpu:0")', 't.device("cuda:-1")', 't.device("cuda", -1)', 't.device("gpu")', 't.device("cuda:a")',
    't.device("cuda:1", 1)', 't.device(None)', 't.device(1.5)', 't.device(" cpu")', 't.device("CPU")',
    't.device("cuda:01")', 't.device(type="cuda", index=2)', 't.device("cuda", None)', 't.device(device="cpu")',
    't.device(t.device("cuda:1"))', 't.device("mps")', 't.device("meta")', 't.device("xla")', 't.device(0)',
    't.device("cpu") == "cpu"', '"cpu" == t.device("cpu")', 't.device("cuda:0") == t.device("cuda")',
    't.device("cpu") == t.device("cpu", 0)', 't.device("cuda", 0) == t.device("cuda:0")', 't.device("cpu") != t.device("cpu")',
    't.device("cpu") == 1', 'str(t.device("cuda", 2))', 'str(t.device("cpu", 0))', 't.device("cuda:3").index',
    't.device("cpu").type', 'hash(t.device("cuda:1")) == hash(t.device("cuda", 1))',
    '{t.device("cpu"): 1}[t.device("cpu")]', 'len({t.device("cuda:0"), t.device("cuda", 0), t.device("cuda")})',
]

CUDA_ROWS = [
    't.cuda.is_available()', 't.cuda.device_count()', 't.cuda.current_device()', 't.cuda.synchronize()',
    't.cuda.manual_seed(1)', 't.cuda.manual_seed_all(1)', 't.cuda.get_device_name()', 't.cuda.get_device_name(0)',
    't.cuda.memory_allocated()', 't.cuda.max_memory_allocated()', 't.cuda.memory_reserved()', 't.cuda.empty_cache()',
    't.cuda.set_device("cpu")', 't.cuda.get_device_properties(0)', 't.cuda.get_device_capability()',
    't.cuda.is_initialized()', 't.cuda.mem_get_info()', 't.cuda.init()', 't.cuda.is_bf16_supported()',
    'exec("with t.cuda.device(-1): pass")', 'exec("with t.cuda.device(0): pass")', 'exec("with t.cuda.device(\'cpu\'): pass")',
    'exec("with t.device(\'cuda\'): t.zeros(2)")', '[t.zeros(1).device for _ in [0] if exec("with t.device(\'cpu\'): pass") is None]',
    't.get_default_device()',
]

BACKEND_ROWS = [
    't.backends.mps.is_available()', 't.backends.mps.is_built()', 't.backends.cudnn.benchmark',
    't.backends.cudnn.deterministic', 't.backends.cudnn.enabled', 't.backends.cudnn.is_available()',
    't.backends.cudnn.allow_tf32', 't.backends.cudnn.version()', 't.backends.cuda.is_built()',
    't.backends.cuda.matmul.allow_tf32', 't.backends.cuda.matmul.allow_fp16_reduced_precision_reduction',
    't.backends.mkldnn.is_available()', 't.backends.openmp.is_available()', 't.get_float32_matmul_precision()',
    't.backends.cuda.flash_sdp_enabled()', 't.backends.mps.is_macos13_or_newer()',
    '[setattr(t.backends.cudnn, "benchmark", True), t.backends.cudnn.benchmark, setattr(t.backends.cudnn, "benchmark", False)]',
    '[setattr(t.backends.cuda.matmul, "allow_tf32", True), t.get_float32_matmul_precision(), '
    'setattr(t.backends.cuda.matmul, "allow_tf32", False), t.get_float32_matmul_precision()]',
    '[t.set_float32_matmul_precision("high"), t.backends.cuda.matmul.allow_tf32, t.set_float32_matmul_precision("highest")]',
    't.set_float32_matmul_precision("fast")',
    '[t.backends.cudnn.enabled for _ in [0] if t.backends.cudnn.flags(enabled=False).__enter__() is None] + '
    '[t.backends.cudnn.flags(enabled=True).__enter__()]',
]

TENSOR_ROWS = [
    't.zeros(2).device', 't.zeros(2).is_cuda', 't.zeros(2).is_cpu', 't.zeros(2).get_device()',
    't.zeros(2, device="cpu:0").device', 't.zeros(2, device=t.device("cpu")).device', 't.zeros(2, device="cuda")',
    't.zeros(2).cuda()', 't.zeros(2).cuda(non_blocking=True)', 't.zeros(2).cuda(1)', 't.zeros(2).to("cuda")',
    't.zeros(2).to("cuda:1")', 't.zeros(2).to(0)', 't.zeros(2).to("cpu", non_blocking=True).device',
    't.zeros(2).to(t.device("cpu")).device', 't.zeros(2).to("cpu:0").device', 't.zeros(2).to("mps")',
    't.zeros(2).to(t.zeros(1, dtype=t.float64)).dtype', 't.zeros(2).to("cpu", t.float64, True).dtype',
    't.zeros(2).to(device="cpu", dtype=t.float16).dtype', 't.zeros(2).cpu().device', 't.zeros(2).new_zeros(2).device',
    't.randn(3, device="cpu").device', 't.arange(3, device="cpu").device', 't.tensor([1.0], device="cpu").device',
    't.ones(2, requires_grad=True).to("cpu", copy=True).grad_fn.name()', 't.zeros(2).type()',
    't.nn.Linear(2, 2).to("cuda")', 't.nn.Linear(2, 2).cuda()', 't.nn.Linear(2, 2).to("cpu").weight.device',
    't.nn.Linear(2, 2).to(t.device("cpu"), t.float64).weight.dtype', 't.nn.Linear(2, 2).cpu().bias.device',
]


def _run(expr, lib):
    try:
        return "ok", eval(expr, {"t": lib})
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return "raised", e


def _same(expr, messages=True):
    kind_t, t = _run(expr, torch)
    kind_j, j = _run(expr, jtorch)
    assert kind_j == kind_t, "%s: torch %s %r, jtorch %s %r" % (expr, kind_t, t, kind_j, j)
    if kind_t == "raised":
        assert type(j).__name__ == type(t).__name__, "%s: torch raises %r, jtorch %r" % (expr, t, j)
        if messages:
            first = str(t).split("\n")[0]
            assert str(j).split("\n")[0] == first, "%s: torch says %r, jtorch %r" % (expr, first, str(j))
    else:
        assert repr(j).replace("jtorch", "torch") == repr(t), "%s: torch %r, jtorch %r" % (expr, t, j)


@pytest.mark.parametrize("expr", DEVICE_ROWS)
def test_device(expr):
    _same(expr)


@pytest.mark.parametrize("expr", CUDA_ROWS + BACKEND_ROWS)
def test_cuda_and_backends(expr):
    _same(expr, messages="get_device_properties" not in expr)


@pytest.mark.parametrize("expr", TENSOR_ROWS)
def test_tensor_devices(expr):
    _same(expr)


@pytest.mark.parametrize("dev", ["cpu", "cuda", "cuda:3", "cpu:0"])
def test_device_pickles_and_copies(dev):
    import copy
    d = jtorch.device(dev)
    for other in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        assert other == d and repr(other) == repr(torch.device(dev)) and hash(other) == hash(d)
    # a device pickled by jtorch is read by torch as torch's device (and back)
    assert torch.device(str(d)) == pickle.loads(pickle.dumps(torch.device(dev)))


def test_ops_keep_the_cpu_device_and_results_have_it():
    x = jtorch.ones(3, requires_grad=True)
    y = (x * 2 + jtorch.tensor(1.0)).sum()
    assert y.device == jtorch.device("cpu")
    y.backward()
    assert x.grad.device == jtorch.device("cpu")
