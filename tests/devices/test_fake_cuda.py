"""CUDA code paths on a machine without a GPU: a subprocess with 4 host devices whose devices 1..3
pose as cuda:0..2 (see _fake_cuda.py). Real GPUs are not exercised here."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS = ["cuda_api", "moves_and_gradients", "results_keep_their_device", "mixed_devices_raise",
          "modules_and_optimizers", "data_parallel_on_accelerators"]


def test_fake_cuda():
    """One subprocess for all checks (xdist would start one per worker for a parametrized test)."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "_fake_cuda.py")], capture_output=True, text=True,
                          env=env, timeout=600)
    lines = {line.split(" ", 1)[0]: line for line in proc.stdout.splitlines() if " " in line}
    problems = []
    for name in CHECKS:
        if name not in lines:
            problems.append("%s did not run" % name)
        elif lines[name].split(" ")[1] != "PASS":
            problems.append(lines[name].replace(" | ", "\n"))
    assert not problems, "\n\n".join(problems) + "\n" + proc.stderr[-2000:]
