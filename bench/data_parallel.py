"""nn.DataParallel against hand-written jax.pmap: the MLP (784-512-512-10) training step.

    python bench/data_parallel.py [--devices 1 2 4 8] [--batch 512] [--steps 20]

Each device count runs in its own subprocess (XLA_FLAGS=--xla_force_host_platform_device_count=N
on a CPU machine; the accelerators where JAX has several). One step = forward, cross-entropy,
backward, SGD update, on a global batch split over the devices.

  jtorch     nn.DataParallel(model), F.cross_entropy, loss.backward(), optim.SGD.step(): torch's
             loop as written, parameters broadcast to the replicas at every forward (as torch does)
  pmap       one jax.pmap of grad + pmean + update, parameters kept replicated across steps; the
             batch comes from host memory at every step, as a training loop's batches do (and as
             the jtorch loop's do)

Prints ms per step for both (wall time, and CPU time of all threads, which a busy machine
distorts less) and the ratios (target: jtorch within 1.2x of pmap), then the scaling of each
against its own one-device time. With one device DataParallel calls the module itself, so that
row compares jtorch's eager step with one fused XLA program.
"""
import argparse
import json
import os
import subprocess
import sys
import time

SIZES = (784, 512, 512, 10)


def _time_interleaved(methods, steps, rounds=7, warmup=3):
    """(wall ms, CPU ms) per step of each (step, sync) method: rounds alternate between the methods
    and each keeps its best round, so a busy machine slows both alike. CPU time (all threads of
    this process) measures the work done, which a loaded machine distorts less than wall time."""
    for step, sync in methods.values():
        for _ in range(warmup):
            step()
        sync()
    best = {name: [float("inf"), float("inf")] for name in methods}
    for _ in range(rounds):
        for name, (step, sync) in methods.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                step()
            sync()
            b = best[name]
            b[0] = min(b[0], (time.perf_counter() - wall) / steps * 1000)
            b[1] = min(b[1], (time.process_time() - cpu) / steps * 1000)
    return best


def child(batch, steps):
    import jax
    import jax.numpy as jnp
    import numpy as np

    import jtorch as torch
    import jtorch.nn as nn
    import jtorch.nn.functional as F

    n = len(jax.devices()) if jax.default_backend() != "cpu" else len(jax.local_devices(backend="cpu"))
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(batch, SIZES[0])).astype(np.float32)
    y_np = rng.integers(0, SIZES[-1], size=(batch,))
    lr = 0.01

    # -- jtorch: torch's DataParallel loop --------------------------------------------------------
    torch.manual_seed(0)
    layers = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    dp = nn.DataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)

    def jtorch_step():
        opt.zero_grad()
        loss = F.cross_entropy(dp(x), y)
        loss.backward()
        opt.step()

    def jtorch_sync():
        jax.block_until_ready([p._value() for p in model.parameters()])

    # -- hand-written pmap ------------------------------------------------------------------------
    params = [(jnp.asarray(l.weight.detach().cpu().numpy()), jnp.asarray(l.bias.detach().cpu().numpy()))
              for l in model if isinstance(l, nn.Linear)]

    def forward(params, x):
        for i, (w, b) in enumerate(params):
            x = x @ w.T + b
            if i < len(params) - 1:
                x = jax.nn.relu(x)
        return x

    def loss_fn(params, x, y):
        logits = forward(params, x)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    devices = jax.devices() if jax.default_backend() != "cpu" else jax.local_devices(backend="cpu")

    def step(params, x, y):
        g = jax.lax.pmean(jax.grad(loss_fn)(params, x, y), "d")
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, g)
    pstep = jax.pmap(step, axis_name="d", devices=devices)
    rep = jax.tree_util.tree_map(lambda a: np.broadcast_to(np.asarray(a), (n,) + a.shape), params)
    xs, ys = x_np.reshape(n, batch // n, -1), y_np.reshape(n, batch // n)
    state = [pstep(rep, xs, ys)]            # from here on the parameters stay replicated on the devices

    def pmap_step():
        state[0] = pstep(state[0], xs, ys)
    times = _time_interleaved({"jtorch": (jtorch_step, jtorch_sync),
                               "pmap": (pmap_step, lambda: jax.block_until_ready(state[0]))}, steps)
    print(json.dumps({"devices": n, "jtorch_ms": times["jtorch"][0], "pmap_ms": times["pmap"][0],
                      "jtorch_cpu_ms": times["jtorch"][1], "pmap_cpu_ms": times["pmap"][1],
                      "platform": devices[0].platform}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, nargs="*", default=[1, 2, 4, 8])
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.batch, args.steps)
        return 0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for n in args.devices:
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=%d" % n).strip()
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--batch", str(args.batch),
                              "--steps", str(args.steps)], env=env, capture_output=True, text=True)
        if out.returncode:
            print("devices=%d failed:\n%s" % (n, out.stderr[-3000:]))
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("MLP %s training step, global batch %d, on %s devices (%d CPU cores)"
          % ("-".join(map(str, SIZES)), args.batch, rows[0]["platform"] if rows else "?", os.cpu_count()))
    print("%8s %10s %10s %7s %10s %10s %7s %13s %11s" % ("devices", "jtorch ms", "pmap ms", "ratio", "jtorch cpu",
                                                         "pmap cpu", "ratio", "jtorch scale", "pmap scale"))
    for r in rows:
        print("%8d %10.2f %10.2f %7.2f %10.2f %10.2f %7.2f %13.2f %11.2f" % (
            r["devices"], r["jtorch_ms"], r["pmap_ms"], r["jtorch_ms"] / r["pmap_ms"], r["jtorch_cpu_ms"],
            r["pmap_cpu_ms"], r["jtorch_cpu_ms"] / r["pmap_cpu_ms"], rows[0]["jtorch_ms"] / r["jtorch_ms"],
            rows[0]["pmap_ms"] / r["pmap_ms"]))
    print("ratio: jtorch / pmap (wall, then CPU time of all threads); scale: one-device time / this time (wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
