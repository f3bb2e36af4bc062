"""nn.DataParallel on 1, 2, 4 and 8 host devices (one subprocess with 8; device_ids picks the
count), against the plain module and torch: outputs, parameter and input gradients, uneven
chunks, batches smaller than the device count, BatchNorm per chunk, dim=1. One CPU device (this
process): a pass-through, as torch's on a CPU-only machine."""
import pytest
import torch

import jtorch

from ._util import run_checks

CHECKS = ["surface"] + ["plain_%s_n%d_b%d" % c for c in [
    ("Mlp", 1, 30), ("Mlp", 2, 30), ("Mlp", 2, 1), ("Mixed", 2, 30), ("Mlp", 4, 30), ("Mlp", 4, 3), ("Conv", 4, 30),
    ("Mlp", 8, 30), ("Mlp", 8, 5), ("Mixed", 8, 30), ("Conv", 8, 16)]] + ["torch_n8", "batchnorm_n4", "dim1_n8"]


def test_on_eight_host_devices():
    """One subprocess for all checks (xdist would start one per worker for a parametrized test)."""
    results = run_checks("_dp_check.py", devices=8)
    problems = ["%s did not run" % n if n not in results else "%s:\n%s" % (n, results[n][1])
                for n in CHECKS if n not in results or results[n][0] != "PASS"]
    assert not problems, "\n\n".join(problems) + "\n" + results["__stderr__"]



@pytest.mark.parametrize("expr", [
    "repr(t.nn.DataParallel(t.nn.Linear(2, 3)))",
    "t.nn.DataParallel(t.nn.Linear(2, 3)).device_ids",
    "list(t.nn.DataParallel(t.nn.Sequential(t.nn.Linear(2, 3), t.nn.BatchNorm1d(3))).state_dict())",
    "t.nn.DataParallel(t.nn.Linear(2, 3), device_ids=[0, 1]).device_ids",
    "t.nn.DataParallel(t.nn.Linear(2, 3)).output_device",
    "type(t.nn.DataParallel(t.nn.Linear(2, 3)).module).__name__",
    "t.nn.parallel.DataParallel is t.nn.DataParallel",
    "t.nn.parallel.DistributedDataParallel(t.nn.Linear(2, 3))",
])
def test_one_device_is_a_pass_through(expr):
    def run(t):
        try:
            return "ok", repr(eval(expr, {"t": t}))
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
    assert run(jtorch) == run(torch)


def test_pass_through_calls_the_module(capsys):
    class Loud(jtorch.nn.Linear):
        def forward(self, x):
            print("in forward", tuple(x.shape))
            return super().forward(x)
    m = Loud(3, 2)
    dp = jtorch.nn.DataParallel(m)
    x = jtorch.randn(5, 3)
    assert jtorch.equal(dp(x), m(x))
    assert capsys.readouterr().out == "in forward (5, 3)\nin forward (5, 3)\n"
