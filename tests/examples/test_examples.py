"""Examples are tests: every program in examples/ runs on small data and shows that it learned."""
import os
import re
import subprocess
import sys

import pytest

from . import _data

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(script, *args, cwd, env=None):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def numbers(pattern, text):
    return [float(x) for x in re.findall(pattern, text)]


def test_tensors(tmp_path):
    out = run("tensors.py", cwd=tmp_path)
    assert "True" in out and "[2. 2. 2. 2. 2.]" in out


def test_autograd(tmp_path):
    out = run("autograd.py", cwd=tmp_path)
    assert "tensor([[4.5000, 4.5000]," in out and "(tensor([6.], grad_fn=<MulBackward0>),) (tensor([2.]),)" in out


def test_blitz_network_loss_falls(tmp_path):
    out = run("blitz_network.py", "--steps", "20", cwd=tmp_path)
    first, last = map(float, re.search(r"loss ([\d.]+) -> ([\d.]+)", out).groups())
    assert last < 0.5 * first, out


def test_quickstart_learns(tmp_path):
    _data.fashion_mnist(str(tmp_path / "data"))
    out = run("quickstart_fashion_mnist.py", "--data", "data", "--epochs", "2", cwd=tmp_path)
    accuracy = numbers(r"accuracy ([\d.]+)%", out)
    assert accuracy[-1] > 50, out     # ten classes: chance is 10%


def test_cifar10_classifier_learns(tmp_path):
    _data.cifar10(str(tmp_path / "data"))
    out = run("cifar10_classifier.py", "--data", "data", "--epochs", "3", "--limit", "600",
              "--batch-size", "16", "--lr", "0.01", cwd=tmp_path)
    losses = numbers(r"loss: ([\d.]+)", out)
    accuracy = numbers(r"Accuracy of the network on the \d+ test images: ([\d.]+) %", out)
    assert losses[-1] < losses[0], out
    assert accuracy[0] > 20, out


def test_custom_dataset_learns(tmp_path):
    _data.png_csv(str(tmp_path / "img_dir"))
    out = run("custom_dataset.py", "--epochs", "12", cwd=tmp_path)
    acc = numbers(r"train accuracy ([\d.]+)", out)
    assert acc[-1] > 0.5 and acc[-1] > acc[0], out


def test_data_parallel_on_four_host_devices(tmp_path):
    out = run("data_parallel.py", cwd=tmp_path, env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    losses = numbers(r"loss ([\d.]+)", out)
    assert len(losses) == 4 and losses[-1] < losses[0], out


def test_main_job_reaches_95_percent_on_digits(tmp_path):
    pytest.importorskip("sklearn")
    out = run("train_digits.py", "--epochs", "8", "--out", "out", cwd=tmp_path)
    accuracy = numbers(r"test accuracy ([\d.]+)%", out)
    assert accuracy[-1] >= 95.0, out
    assert (tmp_path / "out" / "digits_cnn.pt").exists()
    assert (tmp_path / "out" / "curves.png").exists()
    # the checkpoint loads in real PyTorch
    import torch
    state = torch.load(tmp_path / "out" / "digits_cnn.pt", weights_only=True)
    assert state["model"]["conv1.weight"].shape == (16, 1, 3, 3)
