"""`python -m jtorch`: run unchanged PyTorch scripts on jtorch, and compare them with PyTorch.

    python -m jtorch run SCRIPT [ARGS...]      SCRIPT as `python SCRIPT ARGS...` would run it, with
                                               `import torch` / `import torchvision` giving jtorch
    python -m jtorch compare SCRIPT [ARGS...]  run SCRIPT under PyTorch and under jtorch; report the
                                               first output line that differs beyond float tolerance
                                               (relative 1e-3, absolute 1e-4); exit 0 when they agree
    python -m jtorch torchrun [OPTIONS] SCRIPT [ARGS...]
                                               jtorch's torchrun (jtorch.distributed.run), when present

Subcommands live in COMMANDS (name -> function(argv) -> exit status); others can be added there.
"""
import os
import re
import runpy
import subprocess
import sys

__all__ = ["main", "run_script", "compare", "lines_agree", "COMMANDS"]


def run_script(path, args=()):
    """Run `path` as __main__ with sys.argv = [path, *args] and the import hook installed."""
    from . import _import_hook
    _import_hook.install()
    script_dir = os.path.dirname(os.path.abspath(path))
    sys.argv = [path] + list(args)
    sys.path[0:1] = [script_dir]  # python SCRIPT puts the script's folder first; -m put the cwd there
    runpy.run_path(path, run_name="__main__")


def _run(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m jtorch run SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    path = argv[0]
    if path == "torchrun" and not os.path.isfile(path):     # python -m jtorch run torchrun [OPTIONS] SCRIPT
        return _torchrun(argv[1:])
    if not os.path.isfile(path):
        print("python -m jtorch run: can't open file %r: [Errno 2] No such file or directory" % path,
              file=sys.stderr)
        return 2
    run_script(path, argv[1:])
    return 0


# -- compare ------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _tokens(line):
    line = _ADDRESS.sub(" at 0x", line)
    out, pos = [], 0
    for m in _NUMBER.finditer(line):
        out.append(line[pos:m.start()])
        out.append(float(m.group(0)))
        pos = m.end()
    out.append(line[pos:])
    return out


def lines_agree(a, b, rtol=1e-3, atol=1e-4):
    """The same words, and numbers within atol + rtol * |expected| (the acceptance harness's rule)."""
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb):
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) > atol + rtol * abs(y):
                return False
        elif isinstance(x, float) or isinstance(y, float) or x.strip() != y.strip():
            return False
    return True


def first_difference(actual, expected):
    """(line number, jtorch line, torch line) of the first disagreement, or None."""
    a, e = actual.splitlines(), expected.splitlines()
    for i in range(max(len(a), len(e))):
        x = a[i] if i < len(a) else None
        y = e[i] if i < len(e) else None
        if x is None or y is None or not lines_agree(x, y):
            return i + 1, x, y
    return None


def _torch_available(python):
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('torch') else 1)"
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def compare(path, args=(), python=None, timeout=None):
    """Run the script under PyTorch and under jtorch; print the verdict; 0 when the outputs agree."""
    python = python or sys.executable
    if not _torch_available(python):
        print("jtorch compare: PyTorch is not importable by %s; install torch to compare against it" % python,
              file=sys.stderr)
        return 1
    env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
    runs = {}
    for name, cmd in (("torch", [python, path]), ("jtorch", [python, "-m", "jtorch", "run", path])):
        proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, timeout=timeout)
        runs[name] = proc
    t, j = runs["torch"], runs["jtorch"]
    ok = True
    if t.returncode != j.returncode:
        ok = False
        print("exit status differs: torch %d, jtorch %d" % (t.returncode, j.returncode))
        for name, proc in (("torch", t), ("jtorch", j)):
            tail = [l for l in proc.stderr.strip().splitlines() if l.strip()]
            if proc.returncode and tail:
                print("  %s: %s" % (name, tail[-1]))
    diff = first_difference(j.stdout, t.stdout)
    if diff is not None:
        ok = False
        line, ours, theirs = diff
        print("line %d differs:" % line)
        print("  torch:  %s" % ("(no line)" if theirs is None else theirs))
        print("  jtorch: %s" % ("(no line)" if ours is None else ours))
    if ok:
        print("outputs agree (%d lines)" % len(t.stdout.splitlines()))
    return 0 if ok else 1


def _compare(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m jtorch compare SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    return compare(argv[0], argv[1:])


def _torchrun(argv):
    try:
        from .distributed import run as launcher
    except ImportError:
        print("python -m jtorch torchrun: jtorch.distributed.run is not available in this jtorch", file=sys.stderr)
        return 2
    result = launcher.main(argv)
    return result if isinstance(result, int) else 0


COMMANDS = {"run": _run, "compare": _compare, "torchrun": _torchrun}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])
