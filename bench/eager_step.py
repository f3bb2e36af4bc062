"""Eager forward+backward speed: jtorch against torch eager and hand-written jax.value_and_grad.

    taskset -c 1 python bench/eager_step.py [--repeats 7] [--iters 20]

Two workloads, each a full step (forward, backward, a gradient's sum read back):
  mlp    784-512-512-10 MLP, batch 64, relu, log_softmax + gather NLL loss
  chain  100 small elementwise ops on a (16,) tensor, then sum().backward()
Everything is pinned to one thread (set below, before any library is imported) so the ratio
measures per-op overhead rather than how many cores each library grabs. Prints the median
milliseconds per step of several runs and the ratios jtorch/torch and jtorch/jax.
Targets (issue 4): mlp <= 1.5x torch eager, chain <= 4x torch eager.
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


def _data(seed=0):
    rs = np.random.RandomState(seed)
    shapes = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
    params = [(rs.randn(*s) * 0.05).astype(np.float32) for s in shapes]
    x = rs.randn(64, 784).astype(np.float32)
    y = rs.randint(0, 10, size=(64,)).astype(np.int64)
    return params, x, y


def _mlp_step_torchlike(lib, params, x, y):
    """One step written with torch ops only, so the same code runs on torch and jtorch."""
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1.t() + b1).relu()
    h = (h @ w2.t() + b2).relu()
    logits = h @ w3.t() + b3
    loss = -logits.log_softmax(1).gather(1, y.unsqueeze(1)).mean()
    for p in params:
        p.grad = None
    loss.backward()
    return loss, [p.grad for p in params]


def _chain_step_torchlike(lib, x):
    y = x
    for i in range(25):
        y = y * 1.01
        y = y + 0.5
        y = y.tanh()
        y = y - 0.25
    x.grad = None
    y.sum().backward()
    return x.grad


def make_lib_cases(lib):
    params, x, y = _data()
    P = [lib.tensor(p, requires_grad=True) for p in params]
    X, Y = lib.tensor(x), lib.tensor(y)
    C = lib.tensor(np.linspace(-1, 1, 16).astype(np.float32), requires_grad=True)

    def mlp():
        loss, grads = _mlp_step_torchlike(lib, P, X, Y)
        loss.item()
        grads[-1].sum().item()   # waits for the backward (jtorch dispatches asynchronously)

    def chain():
        g = _chain_step_torchlike(lib, C)
        g.sum().item()
    return {"mlp": mlp, "chain": chain}


def make_jax_cases():
    import jax
    import jax.numpy as jnp
    params, x, y = _data()
    P = [jnp.asarray(p) for p in params]
    X, Y = jnp.asarray(x), jnp.asarray(y)
    C = jnp.asarray(np.linspace(-1, 1, 16).astype(np.float32))

    def loss_fn(ps):
        w1, b1, w2, b2, w3, b3 = ps
        h = jax.nn.relu(X @ w1.T + b1)
        h = jax.nn.relu(h @ w2.T + b2)
        logits = h @ w3.T + b3
        return -jnp.take_along_axis(jax.nn.log_softmax(logits, 1), Y[:, None], 1).mean()

    def chain_fn(c):
        yv = c
        for i in range(25):
            yv = jnp.tanh(yv * 1.01 + 0.5) - 0.25
        return yv.sum()
    vg_mlp = jax.value_and_grad(loss_fn)
    vg_chain = jax.grad(chain_fn)

    def mlp():
        loss, grads = vg_mlp(P)
        float(loss)
        float(grads[-1].sum())

    def chain():
        float(vg_chain(C).sum())
    return {"mlp": mlp, "chain": chain}


_clock = time.perf_counter


def timeit(fn, iters, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        t0 = _clock()
        for _ in range(iters):
            fn()
        runs.append((_clock() - t0) / iters * 1e3)
    return statistics.median(runs)


def check_same_grads():
    """The benchmark only means something if the steps compute the same thing."""
    import torch
    import jtorch
    params, x, y = _data()
    out = []
    for lib in (torch, jtorch):
        P = [lib.tensor(p, requires_grad=True) for p in params]
        loss, grads = _mlp_step_torchlike(lib, P, lib.tensor(x), lib.tensor(y))
        out.append((loss.item(), [g.detach().numpy().copy() for g in grads]))
    assert abs(out[0][0] - out[1][0]) < 1e-4, (out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", choices=["mlp", "chain"], default=None)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: process CPU time (all threads; steadier on a loaded machine)")
    args = ap.parse_args()
    global _clock
    _clock = time.process_time if args.clock == "cpu" else time.perf_counter
    import torch
    torch.set_num_threads(1)
    import jtorch
    check_same_grads()
    libs = {"torch": make_lib_cases(torch), "jtorch": make_lib_cases(jtorch), "jax": make_jax_cases()}
    names = ["mlp", "chain"] if args.only is None else [args.only]
    print("median ms/step (%s clock) over %d runs of %d steps (one thread); ratios are medians of "
          "per-run ratios, the libraries alternating run by run so that machine load hits all alike"
          % (args.clock, args.repeats, args.iters))
    for name in names:
        for cases in libs.values():
            for _ in range(3):
                cases[name]()
        runs = {lib: [] for lib in libs}
        for _ in range(args.repeats):
            for lib, cases in libs.items():
                runs[lib].append(timeit(cases[name], args.iters, 1, warmup=0))
        ms = {lib: statistics.median(v) for lib, v in runs.items()}
        r_torch = statistics.median(j / t for j, t in zip(runs["jtorch"], runs["torch"]))
        r_jax = statistics.median(j / t for j, t in zip(runs["jtorch"], runs["jax"]))
        print("%-6s torch %8.3f  jtorch %8.3f  jax(no jit) %8.3f   jtorch/torch %5.2fx  jtorch/jax %5.2fx"
              % (name, ms["torch"], ms["jtorch"], ms["jax"], r_torch, r_jax))


if __name__ == "__main__":
    main()
