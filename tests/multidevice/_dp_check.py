"""DataParallel against the plain module (and torch), run in a subprocess whose XLA_FLAGS give
several host devices. Prints one line per check: NAME PASS|FAIL detail."""
import copy
import sys
import traceback

import numpy as np
import torch

import jtorch
import jtorch.nn as nn

N = len(__import__("jax").local_devices(backend="cpu"))
RESULTS = []


def report(name, fn):
    try:
        fn()
        RESULTS.append(name)
        print(name, "PASS", flush=True)
    except Exception:  # noqa: BLE001 - reported to the test
        print(name, "FAIL", traceback.format_exc().replace("\n", " | "), flush=True)


def close(a, b, tol=1e-5, what=""):
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, "%s: shapes %s vs %s" % (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 16), nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(jtorch.tanh(self.fc1(x)))


class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.head = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.head(nn.functional.max_pool2d(jtorch.relu(self.conv(x)), 2).flatten(1))


class Mixed(nn.Module):
    """An int input, a keyword tensor, a Python constant, and a dict with a tuple for output."""
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 4)
        self.lin = nn.Linear(4, 2)

    def forward(self, ids, weight=None, scale=1.0):
        h = self.lin(self.emb(ids).mean(1)) * scale
        return {"logits": h, "extra": (h.sum(1), weight * h[:, :1])}


def make(cls, seed=0):
    jtorch.manual_seed(seed)
    return cls()


def inputs(cls, batch):
    g = np.random.default_rng(batch)
    if cls is Mlp:
        return (jtorch.tensor(g.normal(size=(batch, 6)).astype(np.float32), requires_grad=True),), {}
    if cls is Conv:
        return (jtorch.tensor(g.normal(size=(batch, 2, 8, 8)).astype(np.float32), requires_grad=True),), {}
    ids = jtorch.tensor(g.integers(0, 11, size=(batch, 3)))
    return (ids,), {"weight": jtorch.tensor(g.normal(size=(batch, 1)).astype(np.float32), requires_grad=True),
                    "scale": 0.5}


def loss_of(out):
    leaves = [out] if isinstance(out, jtorch.Tensor) else [out["logits"], *out["extra"]]
    return sum((x * x).sum() for x in leaves)


def flat(out):
    return [out] if isinstance(out, jtorch.Tensor) else [out["logits"], *out["extra"]]


def against_plain(cls, n, batch):
    plain = make(cls)
    twin = copy.deepcopy(plain)
    dp = nn.DataParallel(twin, device_ids=list(range(n)))
    args, kwargs = inputs(cls, batch)
    args2 = tuple(a.detach().requires_grad_(a.requires_grad) for a in args)
    kwargs2 = {k: v.detach().requires_grad_(v.requires_grad) if isinstance(v, jtorch.Tensor) else v
               for k, v in kwargs.items()}
    out, ref = dp(*args2, **kwargs2), plain(*args, **kwargs)
    for a, b in zip(flat(out), flat(ref)):
        close(a, b, what="output")
    chunks = -(-batch // -(-batch // n)) if n > 1 else 1
    if chunks > 1:
        assert type(flat(out)[0].grad_fn).__name__ == "GatherBackward", flat(out)[0].grad_fn
    loss_of(out).backward()
    loss_of(ref).backward()
    for (name, p), q in zip(plain.named_parameters(), twin.parameters()):
        close(q.grad, p.grad, tol=1e-4, what="grad of " + name)
    for a, b in zip(list(args2) + list(kwargs2.values()), list(args) + list(kwargs.values())):
        if isinstance(a, jtorch.Tensor) and a.requires_grad:
            close(a.grad, b.grad, tol=1e-4, what="input grad")
    if cls is Mixed:
        with jtorch.no_grad():
            o = dp(*args2, **kwargs2)
            assert all(x.grad_fn is None for x in flat(o))
            close(flat(o)[0], flat(ref)[0], what="output without grad")


def against_torch(n):
    """The MLP's DataParallel outputs and gradients equal torch's plain module's."""
    plain = make(Mlp)
    dp = nn.DataParallel(plain, device_ids=list(range(n)))
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    tm.load_state_dict({"0.weight": torch.tensor(plain.fc1.weight.detach().numpy()),
                        "0.bias": torch.tensor(plain.fc1.bias.detach().numpy()),
                        "2.weight": torch.tensor(plain.fc2.weight.detach().numpy()),
                        "2.bias": torch.tensor(plain.fc2.bias.detach().numpy())})
    x = np.random.default_rng(1).normal(size=(30, 6)).astype(np.float32)
    out = dp(jtorch.tensor(x))
    tout = tm(torch.tensor(x))
    close(out, tout, what="output vs torch")
    out.pow(2).mean().backward()
    tout.pow(2).mean().backward()
    close(plain.fc1.weight.grad, tm[0].weight.grad, tol=1e-5, what="fc1 grad vs torch")
    close(plain.fc2.bias.grad, tm[2].bias.grad, tol=1e-5, what="fc2 bias grad vs torch")


def batchnorm(n):
    """Each replica normalises its own chunk (torch's semantics); running stats come from replica 0."""
    jtorch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    start = copy.deepcopy(net)
    dp = nn.DataParallel(net, device_ids=list(range(n)))
    x = jtorch.randn(30, 3)
    out = dp(x)
    size = -(-30 // n)
    pieces = [copy.deepcopy(start)(c) for c in x.split(size)]
    close(out, jtorch.cat(pieces), what="per-chunk batch norm")
    first = copy.deepcopy(start)
    first(x[:size])
    close(net[1].running_mean, first[1].running_mean, what="running_mean")
    close(net[1].running_var, first[1].running_var, what="running_var")
    assert int(net[1].num_batches_tracked) == 1


def dim1(n):
    lin = make(Mlp)
    dp = nn.DataParallel(lin, device_ids=list(range(n)), dim=1)
    x = jtorch.randn(2, 13, 6, requires_grad=True)
    close(dp(x), lin(x), what="dim=1")
    dp(x).sum().backward()
    g = x.grad.clone()
    x.grad = None
    lin(x).sum().backward()
    close(g, x.grad, tol=1e-4, what="dim=1 input grad")


def surface():
    tm = torch.nn.DataParallel(torch.nn.Linear(2, 3))
    jm = nn.DataParallel(nn.Linear(2, 3))
    assert repr(jm) == repr(tm), repr(jm)
    assert list(jm.state_dict()) == ["module.weight", "module.bias"]
    jm.load_state_dict({k: jtorch.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    close(jm.module.weight, tm.module.weight)
    assert jm.device_ids == list(range(N)) and jm.output_device == 0 and jm.dim == 0
    assert jm.src_device_obj == jtorch.device("cpu")
    assert isinstance(jm.module, nn.Linear)


# (device count, model, batch): uneven last chunks (30 on 4: 8,8,8,6; on 8: 4 x 7 and 2), batches smaller
# than the device count (fewer chunks), one row (a pass-through), and one device (a pass-through)
CASES = [(1, Mlp, 30), (2, Mlp, 30), (2, Mlp, 1), (2, Mixed, 30), (4, Mlp, 30), (4, Mlp, 3), (4, Conv, 30),
         (8, Mlp, 30), (8, Mlp, 5), (8, Mixed, 30), (8, Conv, 16)]


def main():
    report("surface", surface)
    for n, cls, batch in CASES:
        if n <= N:
            report("plain_%s_n%d_b%d" % (cls.__name__, n, batch), lambda: against_plain(cls, n, batch))
    n = N
    report("torch_n%d" % n, lambda: against_torch(n))
    report("batchnorm_n%d" % min(n, 4), lambda: batchnorm(min(n, 4)))
    report("dim1_n%d" % n, lambda: dim1(n))
    print("DONE", len(RESULTS), flush=True)


if __name__ == "__main__":
    main()
