"""Running check scripts in subprocesses (multi-device code needs XLA_FLAGS before JAX starts)."""
import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def env(devices=None, **extra):
    e = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra)
    if devices:
        e["XLA_FLAGS"] = "--xla_force_host_platform_device_count=%d" % devices
    return e


def run_checks(script, devices, timeout=600):
    """{check name: (PASS|FAIL, detail)} from a script printing `NAME PASS|FAIL detail` lines."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, script)], capture_output=True, text=True,
                          env=env(devices), timeout=timeout)
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[1] in ("PASS", "FAIL"):
            out[parts[0]] = (parts[1], parts[2].replace(" | ", "\n") if len(parts) > 2 else "")
    out["__stderr__"] = proc.stderr[-3000:]
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
