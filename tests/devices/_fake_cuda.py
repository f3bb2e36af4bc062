"""Run in a subprocess with 4 host devices, of which 1..3 pose as "cuda:0..2" (jtorch's
accelerator list is patched): the CUDA code paths that need no GPU to be exercised. Prints one
line per check: NAME PASS|FAIL detail."""
import sys
import traceback

import jax

import jtorch as torch
from jtorch import _device

_device._accelerators = lambda: tuple(jax.local_devices(backend="cpu")[1:])
HOSTS = jax.local_devices(backend="cpu")
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def raises(fn, cls, message):
    try:
        fn()
    except cls as e:
        assert str(e) == message, "message %r, expected %r" % (str(e), message)
        return
    raise AssertionError("did not raise %s" % cls.__name__)


def on(t, host):
    """The tensor's value really lives on host device `host`."""
    return t._value().devices() == {HOSTS[host]}


@check
def cuda_api():
    assert torch.cuda.is_available() and torch.cuda.device_count() == 3
    assert torch.cuda.current_device() == 0 and torch.cuda.get_device_name(1) == HOSTS[2].device_kind
    torch.cuda.set_device(2)
    assert torch.cuda.current_device() == 2 and torch.ones(1).cuda().device == torch.device("cuda:2")
    with torch.cuda.device(1):
        assert torch.zeros(1, device="cuda").device == torch.device("cuda", 1)
    assert torch.cuda.current_device() == 2
    torch.cuda.set_device(0)
    torch.cuda.synchronize()
    assert isinstance(torch.cuda.memory_allocated(), int)
    raises(lambda: torch.zeros(1, device="cuda:3"), RuntimeError,
           "CUDA error: invalid device ordinal (asked for cuda:3; this process has cuda:0, cuda:1, cuda:2)")
    assert torch.device(1) == torch.device("cuda", 1)


@check
def moves_and_gradients():
    x = torch.ones(3, requires_grad=True)
    y = x.cuda()
    assert y.device == torch.device("cuda:0") and y.is_cuda and y.get_device() == 0 and on(y, 1)
    assert type(y.grad_fn).__name__ == "ToCopyBackward0"
    z = (y * 3).to("cuda:2")
    assert z.device == torch.device("cuda:2") and on(z, 3)
    w = z.cpu()
    assert w.device == torch.device("cpu") and on(w, 0) and w.tolist() == [3.0, 3.0, 3.0]
    (w * torch.arange(3.0)).sum().backward()
    assert x.grad.device == torch.device("cpu") and x.grad.tolist() == [0.0, 3.0, 6.0]
    assert repr(y) == "tensor([1., 1., 1.], device='cuda:0', grad_fn=<ToCopyBackward0>)", repr(y)
    raises(lambda: y.detach().numpy(), TypeError, "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to "
                                         "copy the tensor to host memory first.")
    assert y.to("cuda:0") is y and y.to("cuda:0", copy=True) is not y
    assert y.to("cuda", non_blocking=True) is y


@check
def results_keep_their_device():
    a = torch.randn(4, 3, device="cuda:1")
    b = torch.zeros(3, device="cuda:1")
    for r in (a + b, a @ b, a.sum(0), torch.cat([a, a]), a[1:], a.t(), torch.relu(a), a.mean(), a.max(1).values):
        assert r.device == torch.device("cuda:1") and on(r, 2), r.device
    assert torch.zeros_like(a).device == torch.device("cuda:1") and a.new_ones(2).device == torch.device("cuda:1")


@check
def mixed_devices_raise():
    g, c = torch.ones(2, device="cuda"), torch.ones(2)
    msg = "Expected all tensors to be on the same device, but found at least two devices, %s and %s!"
    raises(lambda: g + c, RuntimeError, msg % ("cuda:0", "cpu"))
    raises(lambda: c + g, RuntimeError, msg % ("cuda:0", "cpu"))
    raises(lambda: g.to("cuda:1") * g, RuntimeError, msg % ("cuda:1", "cuda:0"))
    raises(lambda: torch.cat([g, c]), RuntimeError, msg % ("cuda:0", "cpu"))
    # a 0-dim CPU tensor joins an accelerator's op, as torch's CPU scalars do
    s = torch.tensor(2.0)
    for r, value in ((g + s, 3.0), (s * g, 2.0)):
        assert r.device == torch.device("cuda:0") and on(r, 1) and r.tolist() == [value, value]


@check
def modules_and_optimizers():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ref.load_state_dict(net.state_dict())
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    assert net.to("cuda") is net
    assert all(p.device == torch.device("cuda:0") and on(p, 1) for p in net.parameters())
    ropt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(5, 3)
    for _ in range(2):
        for model, o, inp in ((net, opt, x.cuda()), (ref, ropt, x)):
            o.zero_grad()
            model(inp).pow(2).mean().backward()
            o.step()
    assert all(p.grad.device == torch.device("cuda:0") for p in net.parameters())
    assert all(torch.allclose(p.cpu(), q, atol=1e-6) for p, q in zip(net.parameters(), ref.parameters()))
    assert net.cpu().state_dict()["0.weight"].device == torch.device("cpu")


@check
def data_parallel_on_accelerators():
    torch.manual_seed(0)
    plain = torch.nn.Linear(5, 2)
    dp = torch.nn.DataParallel(plain)
    assert dp.device_ids == [0, 1, 2] and dp.output_device == 0 and dp.src_device_obj == torch.device("cuda:0")
    raises(lambda: dp(torch.randn(6, 5)), RuntimeError, "module must have its parameters and buffers on device "
           "cuda:0 (device_ids[0]) but found one of them on device: cpu")
    dp.to("cuda:0")
    x = torch.randn(7, 5)                      # chunks of 3, 3, 1: cuda:0 and cuda:1 share a program, cuda:2 its own
    out = dp(x)
    assert out.device == torch.device("cuda:0") and on(out, 1) and type(out.grad_fn).__name__ == "GatherBackward"
    assert torch.allclose(out.cpu(), plain(x.cuda()).cpu(), atol=1e-6)
    out.pow(2).sum().backward()
    g = plain.weight.grad.clone()
    assert g.device == torch.device("cuda:0") and on(g, 1)
    plain.zero_grad()
    plain(x.cuda()).pow(2).sum().backward()
    assert torch.allclose(g.cpu(), plain.weight.grad.cpu(), atol=1e-5)
    on2 = torch.nn.DataParallel(plain, device_ids=[0, 2], output_device=2)
    assert on2(x).device == torch.device("cuda:2")


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
            print(fn.__name__, "PASS", flush=True)
        except Exception:  # noqa: BLE001 - reported to the test
            failed += 1
            print(fn.__name__, "FAIL", traceback.format_exc().replace("\n", " | "), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
