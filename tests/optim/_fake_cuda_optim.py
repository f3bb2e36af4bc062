"""Run in a subprocess with 3 host devices, of which 1..2 pose as "cuda:0..1" (as in
tests/devices/_fake_cuda.py): optimizer state lives beside its parameter, groups that span
devices step per device, state dicts from CPU load onto accelerator parameters, clipping keeps
gradients on their device. Prints one line per check: NAME PASS|FAIL detail."""
import sys
import traceback

import jax
import numpy as np

import jtorch as torch
from jtorch import _device

_device._accelerators = lambda: tuple(jax.local_devices(backend="cpu")[1:])
HOSTS = jax.local_devices(backend="cpu")
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def on(t, host):
    return t._value().devices() == {HOSTS[host]}


def _param(values, device):
    return torch.nn.Parameter(torch.tensor(values, dtype=torch.float32).to(device))


@check
def state_beside_params():
    a, b = _param([1.0, 2.0], "cuda:0"), _param([3.0], "cpu")
    c = _param([[1.0, -1.0]], "cuda:1")
    ref = [_param(v, "cpu") for v in ([1.0, 2.0], [3.0], [[1.0, -1.0]])]
    opt, ropt = torch.optim.Adam([a, b, c], lr=0.1, amsgrad=True), torch.optim.Adam(ref, lr=0.1, amsgrad=True)
    for _ in range(3):
        for ps, o in (((a, b, c), opt), (ref, ropt)):
            o.zero_grad()
            for p in ps:
                p.grad = (p.detach() * 2).clone()
            o.step()
    for p, host in ((a, 1), (b, 0), (c, 2)):
        assert on(p, host), "parameter moved"
        for k, v in opt.state[p].items():
            assert v.device == p.device and on(v, host), "state %s on %s" % (k, v.device)
    for p, r in zip((a, b, c), ref):
        np.testing.assert_allclose(p.detach().cpu().numpy(), r.detach().numpy(), rtol=1e-6)


@check
def cpu_state_dict_loads_onto_accelerator():
    src = [_param([1.0, 2.0], "cpu")]
    sopt = torch.optim.SGD(src, lr=0.1, momentum=0.9)
    src[0].grad = torch.tensor([0.5, -0.5])
    sopt.step()
    dst = [_param([1.0, 2.0], "cuda:1")]
    dopt = torch.optim.SGD(dst, lr=0.1, momentum=0.9)
    dopt.load_state_dict(sopt.state_dict())
    buf = dopt.state[dst[0]]["momentum_buffer"]
    assert buf.device == torch.device("cuda:1") and on(buf, 2)
    dst[0].grad = torch.tensor([0.5, -0.5]).to("cuda:1")
    dopt.step()
    assert on(dst[0], 2)
    a = torch.optim.Adam([_param([1.0], "cpu")])
    a.param_groups[0]["params"][0].grad = torch.tensor([1.0])
    a.step()
    d = torch.optim.Adam([_param([1.0], "cuda:0")])
    d.load_state_dict(a.state_dict())
    step = d.state[d.param_groups[0]["params"][0]]["step"]
    assert step.dtype == torch.float32 and on(step, 1), "step on %s" % step.device


@check
def clipping_on_accelerator():
    ps = [_param([3.0, 4.0], "cuda:0"), _param([12.0], "cuda:0")]
    for p in ps:
        p.grad = p.detach().clone()
    norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    assert norm.device == torch.device("cuda:0") and on(norm, 1)
    assert abs(float(norm.cpu()) - 13.0) < 1e-5
    assert all(on(p.grad, 1) for p in ps)
    torch.nn.utils.clip_grad_value_(ps, 0.01)
    assert all(on(p.grad, 1) for p in ps)


for fn in CHECKS:
    try:
        fn()
        print(fn.__name__, "PASS")
    except Exception:
        print(fn.__name__, "FAIL", traceback.format_exc().replace("\n", " | "))
sys.stdout.flush()
