"""The speed suite of issue 8: training-step time of jtorch eager, jtorch compiled, torch eager,
torch.compile and hand-written JAX (jax.jit(value_and_grad) + optax), on the quickstart MLP
(784-512-512-10, batch 64) and the blitz LeNet (batch 64), and one quickstart epoch end to end.

    taskset -c 1 python bench/compile_suite.py [--repeats 5] [--steps 30] [--no-torch-compile]

Pinned to one thread for like-for-like figures; prints medians (ms per step) and ratios.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402


def timed(step, steps, repeats, warmup=3):
    for _ in range(warmup):
        step()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        runs.append((time.perf_counter() - t) / steps * 1e3)
    return statistics.median(runs)


def make_models(lib):
    nn, F = lib.nn, lib.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 6 * 6, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.reshape(x.shape[0], -1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return {"mlp": (mlp, (64, 1, 28, 28)), "lenet": (LeNet, (64, 1, 32, 32))}


def lib_step(lib, name, compiled):
    make, shape = make_models(lib)[name]
    lib.manual_seed(0)
    model = make()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.randn(*shape)
    y = lib.randint(0, 10, (shape[0],))
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if compiled:
        step = lib.compile(step)

    def run():
        out = step()
        if lib.__name__ == "jtorch":
            out._value().block_until_ready()
    return run


def jax_step(name):
    """The same networks written directly in JAX: one jitted value_and_grad + optax SGD step."""
    update, state, shape, rng = jax_network(name)
    x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
    y = jnp.asarray(rng.integers(0, 10, shape[0]))

    def run():
        state[0], state[1], loss = update(state[0], state[1], x, y)
        loss.block_until_ready()
    return run


def jax_network(name):
    """(update(params, opt_state, x, y) jitted, [params, opt_state], input shape, rng)."""
    rng = np.random.default_rng(0)

    def dense(i, o):
        bound = 1 / np.sqrt(i)
        return (jnp.asarray(rng.uniform(-bound, bound, (i, o)), jnp.float32),
                jnp.asarray(rng.uniform(-bound, bound, (o,)), jnp.float32))

    def conv(i, o):
        bound = 1 / np.sqrt(i * 9)
        return (jnp.asarray(rng.uniform(-bound, bound, (o, i, 3, 3)), jnp.float32),
                jnp.asarray(rng.uniform(-bound, bound, (o,)), jnp.float32))

    def pool(x):
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def c2d(x, w, b):
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + b[None, :, None, None]
    if name == "mlp":
        params = [dense(784, 512), dense(512, 512), dense(512, 10)]
        shape = (64, 1, 28, 28)

        def forward(p, x):
            h = x.reshape(x.shape[0], -1)
            for w, b in p[:-1]:
                h = jax.nn.relu(h @ w + b)
            return h @ p[-1][0] + p[-1][1]
    else:
        params = [conv(1, 6), conv(6, 16), dense(576, 120), dense(120, 84), dense(84, 10)]
        shape = (64, 1, 32, 32)

        def forward(p, x):
            h = pool(jax.nn.relu(c2d(x, *p[0])))
            h = pool(jax.nn.relu(c2d(h, *p[1])))
            h = h.reshape(h.shape[0], -1)
            for w, b in p[2:4]:
                h = jax.nn.relu(h @ w + b)
            return h @ p[4][0] + p[4][1]
    tx = optax.sgd(0.01, momentum=0.9)

    def loss_fn(p, x, y):
        logits = forward(p, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def update(p, s, x, y):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        upd, s = tx.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss
    return update, [params, tx.init(params)], shape, rng


def jax_quickstart_epoch(n=60000, batch=64):
    """The quickstart epoch in plain JAX: numpy shuffling and batching, one jitted step per batch."""
    update, state, _, rng = jax_network("mlp")
    images = rng.random((n, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, n)
    t = time.perf_counter()
    order = rng.permutation(n)
    for i in range(0, n - batch + 1, batch):
        idx = order[i:i + batch]
        state[0], state[1], loss = update(state[0], state[1], jnp.asarray(images[idx]), jnp.asarray(labels[idx]))
    float(loss)
    return time.perf_counter() - t


def quickstart_epoch(lib, compiled, n=60000, batch=64):
    """One epoch of the quickstart MLP over an in-memory 60,000-image dataset, DataLoader included."""
    DataLoader, TensorDataset = lib.utils.data.DataLoader, lib.utils.data.TensorDataset
    make, _ = make_models(lib)["mlp"]
    lib.manual_seed(0)
    images = lib.rand(n, 1, 28, 28)
    labels = lib.randint(0, 10, (n,))
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch, shuffle=True, drop_last=True)
    model = make()
    opt = lib.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if compiled:
        step = lib.compile(step)
    t = time.perf_counter()
    for x, y in loader:
        loss = step(x, y)
    loss.item()
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--no-torch-compile", action="store_true")
    p.add_argument("--no-epoch", action="store_true")
    args = p.parse_args()
    import torch
    import jtorch
    torch.set_num_threads(1)
    print("ms per training step (median of %d x %d steps), one thread" % (args.repeats, args.steps))
    print("%-8s %12s %14s %12s %14s %12s   %s" % ("net", "torch eager", "torch.compile", "jax.jit",
                                                 "jtorch eager", "jtorch comp.", "compiled/jax  compiled/torch"))
    for name in ("mlp", "lenet"):
        t_eager = timed(lib_step(torch, name, False), args.steps, args.repeats)
        t_comp = float("nan") if args.no_torch_compile else timed(lib_step(torch, name, True), args.steps,
                                                                  args.repeats)
        t_jax = timed(jax_step(name), args.steps, args.repeats)
        j_eager = timed(lib_step(jtorch, name, False), args.steps, args.repeats)
        j_comp = timed(lib_step(jtorch, name, True), args.steps, args.repeats)
        print("%-8s %12.2f %14.2f %12.2f %14.2f %12.2f   %10.2fx %10.2fx   (eager jtorch/torch %.2fx)"
              % (name, t_eager, t_comp, t_jax, j_eager, j_comp, j_comp / t_jax, j_comp / t_eager,
                 j_eager / t_eager))
    if not args.no_epoch:
        te = quickstart_epoch(torch, False)
        tx = jax_quickstart_epoch()
        tj = quickstart_epoch(jtorch, True)
        print("quickstart epoch (60,000 images, batch 64): torch eager %.2f s, jax.jit %.2f s, jtorch compiled "
              "%.2f s (%.2fx torch, %.2fx jax)" % (te, tx, tj, tj / te, tj / tx))


if __name__ == "__main__":
    main()
