"""Per-op eager speed: jtorch against raw jax.numpy eager and torch eager, on a 16x16 and a
1000x1000 float32 input.

    python bench/eager_ops.py [--repeats 7] [--iters 200]

Everything is pinned to one thread (set below, before any library is imported) so the ratios
measure per-op overhead rather than core counts. Prints the median microseconds per call of
several runs and the ratios jtorch/jax and jtorch/torch. Target (issue 3): jtorch eager no slower
than raw jax.numpy eager on the small input. Each timed call waits for its result.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import torch  # noqa: E402

import jtorch  # noqa: E402

torch.set_num_threads(1)

# name -> (jtorch call, jax.numpy call, torch call); x, y are the library's own arrays
OPS = {
    "add": (lambda x, y: x + y, lambda x, y: x + y, lambda x, y: x + y),
    "mul": (lambda x, y: x * y, lambda x, y: x * y, lambda x, y: x * y),
    "mul_scalar": (lambda x, y: x * 2.5, lambda x, y: x * 2.5, lambda x, y: x * 2.5),
    "exp": (lambda x, y: jtorch.exp(x), lambda x, y: jnp.exp(x), lambda x, y: torch.exp(x)),
    "relu": (lambda x, y: jtorch.relu(x), lambda x, y: jax.nn.relu(x), lambda x, y: torch.relu(x)),
    "sum": (lambda x, y: x.sum(), lambda x, y: jnp.sum(x), lambda x, y: x.sum()),
    "sum_dim": (lambda x, y: x.sum(1), lambda x, y: jnp.sum(x, 1), lambda x, y: x.sum(1)),
    "max_dim": (lambda x, y: x.max(1), lambda x, y: (jnp.max(x, 1), jnp.argmax(x, 1)), lambda x, y: x.max(1)),
    "softmax": (lambda x, y: x.softmax(1), lambda x, y: jax.nn.softmax(x, 1), lambda x, y: x.softmax(1)),
    "matmul": (lambda x, y: x @ y, lambda x, y: x @ y, lambda x, y: x @ y),
    "where": (lambda x, y: jtorch.where(x > 0, x, y), lambda x, y: jnp.where(x > 0, x, y),
              lambda x, y: torch.where(x > 0, x, y)),
}


def _block(out):
    if isinstance(out, jtorch.Tensor):
        out._value().block_until_ready()
    elif isinstance(out, torch.Tensor):
        pass
    elif isinstance(out, (tuple, list)):
        for o in out:
            _block(o)
    else:
        out.block_until_ready()


def _time(fn, x, y, iters, repeats):
    for _ in range(5):
        _block(fn(x, y))
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(iters):
            _block(fn(x, y))
        runs.append((time.perf_counter() - t) / iters * 1e6)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iters", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print("median us per call (one thread); ratios jtorch/jax and jtorch/torch")
    print("%-11s %6s %10s %10s %10s %9s %9s" % ("op", "size", "jtorch", "jax", "torch", "j/jax", "j/torch"))
    for n in (16, 1000):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        jx, jy = jtorch.from_numpy(a.copy()) * 1, jtorch.from_numpy(b.copy()) * 1
        ax, ay = jnp.asarray(a), jnp.asarray(b)
        tx, ty = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
        iters = args.iters if n <= 16 else max(args.iters // 20, 3)
        for name, (fj, fa, ft) in OPS.items():
            tj = _time(fj, jx, jy, iters, args.repeats)
            ta = _time(fa, ax, ay, iters, args.repeats)
            tt = _time(ft, tx, ty, iters, args.repeats)
            print("%-11s %6s %10.1f %10.1f %10.1f %9.2f %9.2f" % (name, "%dx%d" % (n, n), tj, ta, tt,
                                                                  tj / ta, tj / tt))


if __name__ == "__main__":
    main()
