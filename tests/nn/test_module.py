"""The nn.Module surface against torch: registration, enumeration, state_dict and its errors,
containers, conversion, modes, hooks and reprs. Each scenario runs on both libraries and its
results (strings, names, shapes, values, exception classes and messages) are compared."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import torch

import jtorch


def _plain(x):
    if isinstance(x, (torch.Tensor, jtorch.Tensor)):
        # float results are compared to 6 significant digits (matmul summation order may differ)
        v = x.detach().numpy()
        if v.dtype.kind == "f":
            v = np.array([float("%.6g" % e) for e in v.ravel()]).reshape(v.shape)
        return ("tensor", str(x.dtype), tuple(x.shape), v.tolist())
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [_plain(v) for v in x]
    if isinstance(x, dict):
        return [(k, _plain(v)) for k, v in x.items()]
    return x


def same(fn):
    """Run fn(lib) on torch and jtorch; results (or exception class and message) must agree."""
    out = {}
    for lib in (torch, jtorch):
        lib.manual_seed(0)
        try:
            out[lib.__name__] = ("ok", _plain(fn(lib)))
        except Exception as e:  # noqa: BLE001
            out[lib.__name__] = ("raised", type(e).__name__, str(e))
    assert out["jtorch"] == out["torch"]
    return out["torch"]


def lenet(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 6 * 6, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, 576)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return Net()


def nested(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(OrderedDict([("conv", nn.Conv2d(2, 4, 3, padding=1, bias=False)),
                                                   ("bn", nn.BatchNorm2d(4)), ("act", nn.ReLU(inplace=True))]))
            self.heads = nn.ModuleList([nn.Linear(4, 2) for _ in range(3)] + [nn.Identity()])
            self.extra = nn.ModuleDict({"drop": nn.Dropout(0.25), "pool": nn.AdaptiveAvgPool2d(1)})
            self.scale = nn.Parameter(lib.ones(1))
            self.register_buffer("steps", lib.zeros((), dtype=lib.long))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
    return Block()


def test_reprs():
    same(lambda lib: repr(lenet(lib)))
    same(lambda lib: repr(nested(lib)))
    same(lambda lib: str(lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Tanh(), lib.nn.ReLU()))))
    same(lambda lib: repr(lib.nn.ModuleList()))
    same(lambda lib: repr(lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])))
    same(lambda lib: repr(lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(2)), "a": lib.zeros(3)})))
    same(lambda lib: repr(lib.nn.Parameter(lib.ones(2, 2))))
    same(lambda lib: repr(lib.nn.Parameter(lib.ones(2), requires_grad=False)))
    same(lambda lib: repr(lib.nn.Linear(4, 3).weight))


def test_named_members():
    same(lambda lib: [(n, tuple(p.shape)) for n, p in lenet(lib).named_parameters()])
    same(lambda lib: [(n, tuple(p.shape)) for n, p in nested(lib).named_parameters(prefix="m", recurse=True)])
    same(lambda lib: [n for n, _ in nested(lib).named_parameters(recurse=False)])
    same(lambda lib: [n for n, _ in nested(lib).named_buffers()])
    same(lambda lib: [n for n, _ in nested(lib).named_modules()])
    same(lambda lib: [n for n, _ in nested(lib).named_children()])
    same(lambda lib: [type(m).__name__ for m in nested(lib).modules()])
    same(lambda lib: len(list(lenet(lib).parameters())))


def test_shared_parameters_and_modules():
    def scenario(lib):
        nn = lib.nn
        lin = nn.Linear(3, 3)
        seq = nn.Sequential(lin, nn.ReLU(), lin)
        seq.extra = nn.Linear(3, 1)
        seq.extra.weight = seq[0].weight if False else seq.extra.weight
        return ([n for n, _ in seq.named_parameters()], [n for n, _ in seq.named_parameters(remove_duplicate=False)],
                [n for n, _ in seq.named_modules(remove_duplicate=False)], list(seq.state_dict()))
    same(scenario)


def test_state_dict_layout():
    same(lambda lib: list(nested(lib).state_dict().keys()))
    same(lambda lib: dict(nested(lib).state_dict()._metadata))
    same(lambda lib: list(nested(lib).state_dict(prefix="p.", keep_vars=True).keys()))
    same(lambda lib: [v.requires_grad for v in lenet(lib).state_dict().values()])
    same(lambda lib: [type(v).__name__ for v in lenet(lib).state_dict(keep_vars=True).values()])


def test_state_dict_round_trip():
    def scenario(lib):
        a, b = lenet(lib), lenet(lib)
        result = b.load_state_dict(a.state_dict())
        same_values = all(bool((x == y).all()) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
        return repr(result), same_values
    status, (_, (result, same_values)) = same(scenario)
    assert status == "ok" and same_values is True and result == "<All keys matched successfully>"
    j = lenet(jtorch)
    sd = {k: jtorch.zeros(v.shape) for k, v in j.state_dict().items()}
    j.load_state_dict(sd)
    assert all(float(p.abs().sum()) == 0 for p in j.parameters())
    assert all(p.requires_grad and p.is_leaf for p in j.parameters())


def test_load_errors():
    def missing_unexpected(lib):
        m = lenet(lib)
        sd = m.state_dict()
        del sd["fc1.bias"]
        sd["fc9.weight"] = lib.zeros(1)
        sd["conv1.extra"] = lib.zeros(1)
        return m.load_state_dict(sd)
    same(missing_unexpected)

    def non_strict(lib):
        m = lenet(lib)
        sd = m.state_dict()
        del sd["fc1.bias"]
        sd["fc9.weight"] = lib.zeros(1)
        return repr(m.load_state_dict(sd, strict=False))
    same(non_strict)

    def size_mismatch(lib):
        m = lenet(lib)
        sd = m.state_dict()
        sd["fc3.weight"] = lib.zeros(3, 84)
        sd["conv1.bias"] = lib.zeros(7)
        return m.load_state_dict(sd)
    same(size_mismatch)
    same(lambda lib: lenet(lib).load_state_dict([1, 2]))
    same(lambda lib: lenet(lib).load_state_dict({"conv1.weight": 3}, strict=False))

    def assign(lib):
        m = lib.nn.Linear(2, 2)
        w = lib.ones(2, 2)
        m.load_state_dict({"weight": w, "bias": lib.zeros(2)}, assign=True)
        return type(m.weight).__name__, m.weight.requires_grad, m.weight.tolist()
    same(assign)

    def scalar_from_one(lib):
        m = lib.nn.BatchNorm1d(2)
        sd = m.state_dict()
        sd["num_batches_tracked"] = lib.tensor([5])
        m.load_state_dict(sd)
        return int(m.num_batches_tracked)
    same(scalar_from_one)


def test_registration_errors():
    def bad(fn):
        def scenario(lib):
            return fn(lib, lib.nn.Linear(2, 2))
        same(scenario)
    bad(lambda lib, m: setattr(m, "weight", lib.ones(2, 2)))
    bad(lambda lib, m: m.register_parameter("a.b", None))
    bad(lambda lib, m: m.register_buffer("weight", lib.ones(1)))
    bad(lambda lib, m: m.register_buffer("x", 3))
    bad(lambda lib, m: m.register_parameter("x", lib.ones(1)))
    bad(lambda lib, m: m.add_module("", lib.nn.ReLU()))
    bad(lambda lib, m: m.add_module("x", 3))
    bad(lambda lib, m: m.register_parameter("y", lib.nn.Parameter(lib.ones(1)) * 2))
    bad(lambda lib, m: m.nonexistent)
    bad(lambda lib, m: (delattr(m, "bias"), [n for n, _ in m.named_parameters()])[1])
    bad(lambda lib, m: (setattr(m, "bias", None), [n for n, _ in m.named_parameters()], list(m.state_dict()))[1:])


def test_submodule_access():
    same(lambda lib: repr(nested(lib).get_submodule("body.bn")))
    same(lambda lib: nested(lib).get_submodule("body.nope"))
    same(lambda lib: nested(lib).get_submodule("scale"))
    same(lambda lib: tuple(nested(lib).get_parameter("heads.1.bias").shape))
    same(lambda lib: tuple(nested(lib).get_buffer("body.bn.running_var").shape))
    same(lambda lib: nested(lib).get_buffer("scale"))

    def set_sub(lib):
        m = nested(lib)
        m.set_submodule("body.act", lib.nn.Tanh())
        return repr(m.body)
    same(set_sub)


def test_modes_and_conversion():
    def modes(lib):
        m = nested(lib)
        m.eval()
        flags = [x.training for x in m.modules()]
        m.train()
        return flags, [x.training for x in m.modules()]
    same(modes)
    same(lambda lib: lenet(lib).train("yes"))

    def double(lib):
        m = nested(lib)
        w = m.heads[0].weight
        m.double()
        return (w is m.heads[0].weight, [str(t.dtype) for t in m.state_dict().values()])
    same(double)
    same(lambda lib: nested(lib).to(lib.float64).heads[0].weight.dtype == lib.float64)
    same(lambda lib: lenet(lib).to(lib.int32))

    def requires_grad(lib):
        m = lenet(lib).requires_grad_(False)
        return [p.requires_grad for p in m.parameters()]
    same(requires_grad)

    def apply_init(lib):
        m = lenet(lib)

        def init(mod):
            if isinstance(mod, lib.nn.Linear):
                lib.nn.init.xavier_uniform_(mod.weight)
                lib.nn.init.zeros_(mod.bias)
        m.apply(init)
        return [p.detach().numpy().sum() for p in m.parameters()]
    out = same(apply_init)
    assert out[0] == "ok"


def test_zero_grad():
    def scenario(lib):
        m = lib.nn.Linear(3, 2)
        m(lib.ones(1, 3)).sum().backward()
        g = m.weight.grad
        m.zero_grad(set_to_none=False)
        kept = (m.weight.grad is g, m.weight.grad.tolist())
        m.zero_grad()
        return kept, m.weight.grad
    same(scenario)


def test_training_lenet_grads():
    def scenario(lib):
        net = lenet(lib)
        out = net(lib.randn(2, 1, 32, 32))
        loss = lib.nn.functional.cross_entropy(out, lib.tensor([3, 7]))
        loss.backward()
        return [p.grad for p in net.parameters()]
    a = {}
    for lib in (torch, jtorch):
        lib.manual_seed(0)
        a[lib.__name__] = [g.numpy() for g in scenario(lib)]
    for jg, tg in zip(a["jtorch"], a["torch"]):
        np.testing.assert_allclose(jg, tg, rtol=1e-4, atol=1e-6)


def test_containers():
    def seq_ops(lib):
        nn = lib.nn
        s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        out = [len(s), repr(s[0]), repr(s[-1]), repr(s[1:]), type(s[:2]).__name__]
        s.append(nn.Sigmoid())
        s.insert(1, nn.Tanh())
        s.extend([nn.Identity()])
        out.append(repr(s))
        del s[2]
        out.append(list(s._modules))
        s[0] = nn.Linear(2, 3, bias=False)
        out.append(repr(s + nn.Sequential(nn.ReLU())))
        out.append(repr(s.pop(0)))
        out.append(repr(nn.Sequential(nn.ReLU()) * 2))
        return out
    same(seq_ops)
    same(lambda lib: lib.nn.Sequential(lib.nn.ReLU())[3])

    def list_ops(lib):
        nn = lib.nn
        ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
        ml.append(nn.ReLU())
        ml.extend([nn.ReLU(), nn.ReLU()])
        ml.insert(0, nn.Tanh())
        out = [len(ml), repr(ml), repr(ml[1:3]), repr(ml[-1])]
        del ml[0]
        out.append(repr(ml))
        ml[0] = nn.Identity()
        out.append([type(m).__name__ for m in ml])
        return out
    same(list_ops)
    same(lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[5])

    def dict_ops(lib):
        nn = lib.nn
        md = nn.ModuleDict([("b", nn.ReLU()), ("a", nn.Tanh())])
        md["c"] = nn.Linear(1, 1)
        md.update({"d": nn.Identity()})
        out = [list(md.keys()), "a" in md, len(md), repr(md.pop("b")), repr(md)]
        return out
    same(dict_ops)

    def param_containers(lib):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.ones(2)), lib.zeros(3)])
        pl.append(lib.ones(1))
        pd = nn.ParameterDict({"x": lib.ones(2)})
        pd["y"] = nn.Parameter(lib.zeros(1))
        m = nn.Module()
        m.pl, m.pd = pl, pd
        return [n for n, _ in m.named_parameters()], [type(p).__name__ for p in pl], list(pd.keys()), len(pl)
    same(param_containers)


def test_forward_hooks():
    def scenario(lib):
        m = lib.nn.Linear(3, 2)
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_hook(lambda mod, args, kwargs, out: log.append(sorted(kwargs)), with_kwargs=True)
        x = lib.ones(1, 3)
        a = m(x)
        h1.remove()
        b = m(x)
        h2.remove()
        h3.remove()
        c = m(x)
        return a, b, c, log
    same(scenario)


def test_full_backward_hooks():
    def scenario(lib):
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        seen = []

        def hook(mod, grad_input, grad_output):
            seen.append(([None if g is None else g.clone() for g in grad_input],
                         [None if g is None else g.clone() for g in grad_output]))
            return (grad_input[0] * 3,)

        def pre(mod, grad_output):
            seen.append(("pre", grad_output[0].clone()))
        m[1].register_full_backward_hook(hook)
        m[1].register_full_backward_pre_hook(pre)
        x = lib.randn(2, 3, requires_grad=True)
        m(x).sum().backward()
        return seen, x.grad, m[0].weight.grad
    t, j = {}, {}
    for lib, store in ((torch, t), (jtorch, j)):
        lib.manual_seed(0)
        store["r"] = scenario(lib)
    assert len(j["r"][0]) == len(t["r"][0]) == 2
    np.testing.assert_allclose(j["r"][0][0][1].numpy(), t["r"][0][0][1].numpy(), rtol=1e-5)
    (jin, jout), (tin, tout) = j["r"][0][1], t["r"][0][1]
    assert len(jin) == len(tin) == 1 and len(jout) == len(tout) == 1
    np.testing.assert_allclose(jin[0].numpy(), tin[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(jout[0].numpy(), tout[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(j["r"][1].numpy(), t["r"][1].numpy(), rtol=1e-5)
    np.testing.assert_allclose(j["r"][2].numpy(), t["r"][2].numpy(), rtol=1e-5)


def test_backward_hook_no_input_grad():
    def scenario(lib):
        m = lib.nn.Linear(3, 2)
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))
        m(lib.ones(1, 3)).sum().backward()
        return [(list(gi), tuple(s)) for gi, s in seen]
    same(scenario)


def test_state_dict_hooks():
    def scenario(lib):
        m = lib.nn.Linear(2, 2)
        calls = []
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: calls.append(("pre", prefix)))
        m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: calls.append(("post", list(sd))))
        m.register_load_state_dict_post_hook(lambda mod, keys: calls.append(("load", list(keys.missing_keys))))
        sd = m.state_dict()
        m.load_state_dict(sd)
        return calls
    same(scenario)


def test_extra_state():
    def scenario(lib):
        class WithState(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.value = 1

            def get_extra_state(self):
                return {"value": self.value}

            def set_extra_state(self, state):
                self.value = state["value"]
        a, b = WithState(), WithState()
        a.value = 7
        sd = a.state_dict()
        b.load_state_dict(sd)
        return list(sd), b.value
    same(scenario)


def test_deepcopy_and_pickle():
    m = lenet(jtorch)
    c = copy.deepcopy(m)
    assert repr(c) == repr(m)
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), c.named_parameters()):
        assert n1 == n2 and p1 is not p2 and isinstance(p2, jtorch.nn.Parameter)
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    with jtorch.no_grad():
        c.fc1.bias.add_(1)
    assert not np.array_equal(m.fc1.bias.detach().numpy(), c.fc1.bias.detach().numpy())
    p = pickle.loads(pickle.dumps(jtorch.nn.Parameter(jtorch.ones(2), requires_grad=False)))
    assert isinstance(p, jtorch.nn.Parameter) and not p.requires_grad and p.tolist() == [1.0, 1.0]


def test_parameter_is_a_leaf_tensor():
    same(lambda lib: (lib.nn.Parameter(lib.ones(2)).requires_grad, lib.nn.Parameter(lib.ones(2)).is_leaf,
                      isinstance(lib.nn.Parameter(lib.ones(2)), lib.Tensor), type(lib.nn.Parameter(lib.ones(2)) * 2)
                      .__name__))
    same(lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.long)))
    same(lambda lib: tuple(lib.nn.Parameter().shape))


def test_dir_and_call_without_forward():
    same(lambda lib: [k for k in dir(lenet(lib)) if k in ("conv1", "fc3", "forward", "training")])
    same(lambda lib: lib.nn.Module()(1))
    same(lambda lib: lib.nn.Module(3))
