"""CUDA code paths on a machine without a GPU: a subprocess with 4 host devices whose devices 1..3
pose as cuda:0..2 (see _fake_cuda.py). Real GPUs are not exercised here."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_result = {}


def _lines():
    if not _result:
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
        proc = subprocess.run([sys.executable, os.path.join(HERE, "_fake_cuda.py")], capture_output=True, text=True,
                              env=env, timeout=300)
        _result.update({line.split(" ", 1)[0]: line for line in proc.stdout.splitlines() if " " in line})
        _result["__stderr__"] = proc.stderr
    return _result


@pytest.mark.parametrize("name", ["cuda_api", "moves_and_gradients", "results_keep_their_device",
                                  "mixed_devices_raise", "modules_and_optimizers", "data_parallel_on_accelerators"])
def test_fake_cuda(name):
    lines = _lines()
    assert name in lines, "check %s did not run; stderr: %s" % (name, lines["__stderr__"][-2000:])
    assert lines[name].split(" ")[1] == "PASS", lines[name].replace(" | ", "\n")
