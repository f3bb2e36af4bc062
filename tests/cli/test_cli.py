"""`python -m jtorch run` / `compare` on small scripts in a temporary folder, and the import hook."""
import os
import subprocess
import sys
import textwrap

import pytest

import jtorch
from jtorch._import_hook import NotImplementedByJtorch, torch_name

PY = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(args, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONHASHSEED="0")
    return subprocess.run([PY] + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=300, **kw)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


SCRIPT = """
    import sys
    import torch
    import torch.nn as nn
    import torch.utils.data
    from torch.utils.data import DataLoader, Dataset
    from torchvision import datasets, transforms
    import torchvision.transforms.functional as TF
    import jtorch, jtorch.vision
    import helper  # the script's own folder is on sys.path, as with `python script.py`

    print("argv", sys.argv[1:], __name__)
    print("aliases", torch is jtorch, nn is jtorch.nn, torch.utils.data is jtorch.utils.data,
          datasets is jtorch.vision.datasets, TF is jtorch.vision.transforms.functional)
    print("names", torch.__name__, nn.__name__, torch.__spec__.name)
    print("hasattr", hasattr(torch, "definitely_not_an_api"))
    try:
        torch.definitely_not_an_api
    except NotImplementedError as e:
        print("missing", type(e).__name__, e)
    try:
        from torch import definitely_not_an_api
    except ImportError as e:
        print("from-import", type(e).__name__)
    try:
        import torch.definitely_not_a_module
    except ModuleNotFoundError as e:
        print("module", e.name, "|", e)


    class Squares(Dataset):  # defined in __main__: workers get it by value, and `torch` through the hook
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return torch.tensor([float(i)]), i * i


    if __name__ == "__main__":
        torch.manual_seed(0)
        for x, y in DataLoader(Squares(), batch_size=3, shuffle=True, num_workers=1):
            print("batch", x.view(-1).tolist(), y.tolist())
        print(helper.VALUE)
        sys.exit(3)
"""


def test_run_unchanged_script(tmp_path):
    write(tmp_path, "helper.py", "VALUE = 'helper ok'\n")
    path = write(tmp_path, "script.py", SCRIPT)
    proc = run(["-m", "jtorch", "run", path, "a", "--b"], cwd=str(tmp_path.parent))
    out = proc.stdout.splitlines()
    assert proc.returncode == 3, proc.stderr
    assert out[0] == "argv ['a', '--b'] __main__"
    assert out[1] == "aliases True True True True True"
    assert out[2] == "names jtorch jtorch.nn jtorch"
    assert out[3] == "hasattr False"
    assert out[4] == "missing NotImplementedByJtorch torch.definitely_not_an_api is not implemented by jtorch"
    assert out[5] == "from-import ImportError"
    assert out[6].startswith("module torch.definitely_not_a_module | No module named 'torch.definitely_not_a_module'")
    import torch
    torch.manual_seed(0)  # torch's shuffled order for the same seed
    order = [i for b in torch.utils.data.DataLoader(list(range(6)), batch_size=3, shuffle=True) for i in b.tolist()]
    assert out[7] == "batch %s %s" % ([float(i) for i in order[:3]], [i * i for i in order[:3]])
    assert out[8] == "batch %s %s" % ([float(i) for i in order[3:]], [i * i for i in order[3:]])
    assert out[9] == "helper ok"


def test_run_errors(tmp_path, capsys):
    path = write(tmp_path, "boom.py", "import torch\nraise ValueError('boom')\n")
    proc = run(["-m", "jtorch", "run", path], cwd=str(tmp_path))
    assert proc.returncode == 1 and "ValueError: boom" in proc.stderr and "boom.py" in proc.stderr
    from jtorch import _cli
    assert _cli.main(["run", str(tmp_path / "missing.py")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert _cli.main(["frobnicate"]) == 2
    assert "python -m jtorch run SCRIPT" in capsys.readouterr().err


def test_install_as_torch(tmp_path):
    code = textwrap.dedent("""
        import jtorch
        jtorch.install_as_torch()
        import torch, torch.nn.functional as F, torchvision.io
        print(torch is jtorch, F is jtorch.nn.functional, torchvision.io is jtorch.vision.io)
    """)
    proc = run(["-c", code], cwd=str(tmp_path))
    assert proc.stdout.split() == ["True", "True", "True"], proc.stderr
    import torch  # noqa: F401  (this process has the real torch: too late to alias it)
    with pytest.raises(RuntimeError, match="install_as_torch\\(\\) must run before torch is imported"):
        jtorch.install_as_torch()


def test_module_getattr_in_process():
    import jtorch.vision.transforms  # noqa: F401  (like torchvision, not imported by `import jtorch`)
    with pytest.raises(NotImplementedByJtorch, match=r"^torch\.not_an_api is not implemented by jtorch$"):
        jtorch.not_an_api
    with pytest.raises(NotImplementedError, match=r"torchvision\.transforms\.NotATransform is not implemented"):
        jtorch.vision.transforms.NotATransform
    with pytest.raises(AttributeError):
        jtorch.utils.data.NotALoader
    assert getattr(jtorch, "not_an_api", "default") == "default"
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'"):
        jtorch.__wrapped__
    assert torch_name("jtorch.vision.io") == "torchvision.io" and torch_name("jtorch.nn") == "torch.nn"


COMPARE_OK = """
    import torch
    torch.manual_seed(0)
    x = torch.rand(3, 2)
    print(x)
    print(x.sum().item(), x.shape)
"""


def test_compare(tmp_path):
    ok = run(["-m", "jtorch", "compare", write(tmp_path, "ok.py", COMPARE_OK)], cwd=str(tmp_path))
    assert ok.returncode == 0 and ok.stdout.startswith("outputs agree (4 lines)"), ok.stdout + ok.stderr


def test_first_difference():
    from jtorch._cli import first_difference
    assert first_difference("a 1.0\nb 2.0\n", "a 1.00001\nb 2.0") is None
    assert first_difference("a 1.0\nb 2.0\n", "a 1.0\nb 2.1\n") == (2, "b 2.0", "b 2.1")
    assert first_difference("a\n", "a\nb\n") == (2, None, "b")


def test_lines_agree_matches_acceptance_rule():
    import importlib.util
    spec = importlib.util.spec_from_file_location("accept_run", "/work/shared/acceptance/run.py")
    accept = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(accept)
    from jtorch._cli import lines_agree
    pairs = [("loss 0.12345", "loss 0.12350"), ("loss 0.1235", "loss 0.1240"), ("a 1e-5", "a 0"), ("x", "y"),
             ("tensor([1., 2.])", "tensor([1., 2.0001])"), ("at 0x7f00", "at 0x8e11"), ("1 2", "1 2 3")]
    for a, b in pairs:
        assert lines_agree(a, b) == accept.lines_agree(a, b), (a, b)
