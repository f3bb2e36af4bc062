"""torch.compile over jax.jit: compiled training equals eager training, guards retrace, code that
needs concrete values falls back to eager with a warning, state nobody declared is found."""
import warnings

import numpy as np
import pytest

import jtorch as torch
import jtorch.nn as nn
import jtorch.nn.functional as F


class LeNet(nn.Module):
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
        x = x.view(-1, 16 * 6 * 6)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _train(make_model, make_opt, x, y, steps, compiled, loss_fn=F.cross_entropy):
    torch.manual_seed(0)
    model = make_model()
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if compiled:
        step = torch.compile(step)
    losses = [step(x, y).item() for _ in range(steps)]
    return losses, model


CASES = [
    ("lenet_sgd", LeNet, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), (8, 1, 32, 32)),
    ("mlp_sgd", mlp, lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9), (16, 1, 28, 28)),
    ("mlp_adam", mlp, lambda p: torch.optim.Adam(p, lr=1e-3), (16, 1, 28, 28)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_compiled_training_equals_eager(case):
    _, make_model, make_opt, shape = case
    torch.manual_seed(1)
    x, y = torch.randn(*shape), torch.randint(0, 10, (shape[0],))
    torch.compile.reset_stats()
    eager, m_eager = _train(make_model, make_opt, x, y, 20, compiled=False)
    compiled, m_comp = _train(make_model, make_opt, x, y, 20, compiled=True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-5)
    assert eager[-1] < eager[0]
    stats = torch.compile.stats()
    assert stats["traces"] == 1, stats
    assert stats["cache_hits"] == 20 - 3, stats
    for (name, a), b in zip(m_eager.named_parameters(), m_comp.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def _train_with_schedule(compiled, scheduler_inside):
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    torch.manual_seed(1)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def train_and_schedule():
        loss = train()
        sched.step()
        return loss
    step = train_and_schedule if scheduler_inside else train
    if compiled:
        step = torch.compile(step)
    losses = []
    for _ in range(10):
        losses.append(step().item())
        if not scheduler_inside:
            sched.step()
    return losses, opt.param_groups[0]["lr"]


def test_learning_rate_is_an_input_so_a_scheduler_never_retraces():
    """A scheduler outside the compiled step changes lr on every call: lr is fed to the program,
    not guarded, so one trace serves every value and losses equal eager training's."""
    eager, lr_eager = _train_with_schedule(False, False)
    torch.compile.reset_stats()
    compiled, lr_comp = _train_with_schedule(True, False)
    assert torch.compile.stats()["traces"] == 1, torch.compile.stats()
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)
    assert lr_comp == lr_eager and isinstance(lr_comp, float)


def test_scheduler_inside_the_compiled_step_runs_eagerly_with_a_warning():
    eager, lr_eager = _train_with_schedule(False, True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, lr_comp = _train_with_schedule(True, True)
    assert any("sets a learning rate" in str(w.message) for w in caught), [str(w.message) for w in caught]
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)
    assert lr_comp == lr_eager and isinstance(lr_comp, float)


def test_new_input_shape_retraces_and_fixed_shape_does_not():
    lin = nn.Linear(4, 2)
    f = torch.compile(lambda x: lin(x).sum())
    torch.compile.reset_stats()
    for _ in range(4):
        f(torch.randn(3, 4))
    assert torch.compile.stats()["traces"] == 1
    out = f(torch.randn(5, 4))
    assert torch.compile.stats()["traces"] == 2
    x = torch.randn(5, 4)
    np.testing.assert_allclose(f(x).item(), lin(x).sum().item(), rtol=1e-6)


def test_changed_python_constant_retraces():
    w = torch.ones(3)
    torch.compile.reset_stats()
    g = torch.compile(lambda x, k: x * w * k)
    x = torch.ones(3)
    for _ in range(3):
        assert g(x, 2.0).tolist() == [2.0, 2.0, 2.0]
    assert g(x, 3.0).tolist() == [3.0, 3.0, 3.0]
    assert torch.compile.stats()["traces"] == 2


def test_item_and_print_fall_back_to_eager_with_one_warning(capsys):
    def f(x):
        if x.sum().item() > 0:      # a value-dependent Python branch
            return x * 2
        return x * 3
    cf = torch.compile(f)
    for _ in range(2):
        cf(torch.ones(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cf(torch.ones(2)).tolist() == [2.0, 2.0]
        assert cf(-torch.ones(2)).tolist() == [-3.0, -3.0]
    assert any("eagerly" in str(w.message) for w in caught)

    def p(x):
        y = x + 1
        print(y)
        return y
    cp = torch.compile(p)
    for _ in range(3):
        cp(torch.zeros(2))
    assert capsys.readouterr().out.count("tensor([1., 1.])") == 3


def test_state_first_touched_later_is_found_and_reported():
    scale = torch.ones(2)
    extra = torch.full((2,), 5.0)
    use_extra = [False]

    def f(x):
        return x * scale + (extra if use_extra[0] else 0)
    cf = torch.compile(f)
    for _ in range(3):
        cf(torch.ones(2))
    use_extra[0] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cf(torch.ones(2))
    # the closure's list is guarded; the retrace meets `extra`, which is then made state
    assert out.tolist() == [6.0, 6.0]
    assert any("did not touch" in str(w.message) for w in caught)
    extra.add_(1)
    assert cf(torch.ones(2)).tolist() == [7.0, 7.0]


def test_in_place_update_of_closure_tensor_is_written_back():
    counter = torch.zeros(())

    def tick(x):
        counter.add_(1)
        return x + counter
    ct = torch.compile(tick)
    results = [ct(torch.zeros(())).item() for _ in range(5)]
    assert results == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert counter.item() == 5.0


def test_compiled_module_forward_backward_equals_eager():
    torch.manual_seed(0)
    net = LeNet()
    compiled = torch.compile(net)
    x = torch.randn(2, 1, 32, 32)
    for _ in range(3):
        out = compiled(x)
    ref = net(x)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    g_compiled = net.conv1.weight.grad.clone()
    net.zero_grad()
    net(x).sum().backward()
    np.testing.assert_allclose(g_compiled.numpy(), net.conv1.weight.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "_orig_mod.conv1.weight" in compiled.state_dict()


def test_dropout_in_compiled_step_draws_new_masks():
    torch.manual_seed(0)
    drop = nn.Dropout(0.5)
    f = torch.compile(lambda x: drop(x))
    x = torch.ones(64)
    masks = [f(x).numpy().copy() for _ in range(5)]
    assert not np.array_equal(masks[3], masks[4])
    for m in masks:
        assert set(np.unique(m)) <= {0.0, 2.0}


def test_decorator_forms_and_jit_trace():
    @torch.compile
    def f(x):
        return x.sin()

    @torch.compile(mode="max-autotune", fullgraph=True)
    def g(x):
        return x.cos()
    x = torch.linspace(0, 1, 5)
    for _ in range(3):
        np.testing.assert_allclose(f(x).numpy(), np.sin(x.numpy()), rtol=1e-6)
        np.testing.assert_allclose(g(x).numpy(), np.cos(x.numpy()), rtol=1e-6)
    lin = nn.Linear(4, 2)
    traced = torch.jit.trace(lin, torch.randn(1, 4))
    data = torch.randn(3, 4)
    assert torch.allclose(traced(data), lin(data))
