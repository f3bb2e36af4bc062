"""Optimizers and clipping on accelerator devices, on a machine without a GPU: a subprocess with
3 host devices of which 1..2 pose as cuda:0..1 (_fake_cuda_optim.py). Real GPUs are not
exercised here."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_result = {}


def _lines():
    if not _result:
        env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=3")
        proc = subprocess.run([sys.executable, os.path.join(HERE, "_fake_cuda_optim.py")],
                              capture_output=True, text=True, env=env, timeout=300)
        _result.update({line.split(" ", 1)[0]: line for line in proc.stdout.splitlines() if " " in line})
        _result["__stderr__"] = proc.stderr
    return _result


@pytest.mark.parametrize("name", ["state_beside_params", "cpu_state_dict_loads_onto_accelerator",
                                  "clipping_on_accelerator"])
def test_fake_cuda(name):
    lines = _lines()
    assert name in lines, "check %s did not run; stderr: %s" % (name, lines["__stderr__"][-2000:])
    assert lines[name].split(" ")[1] == "PASS", lines[name].replace(" | ", "\n")
