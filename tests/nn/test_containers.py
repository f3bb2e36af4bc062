"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict against torch: each row of
SCENARIOS runs on both libraries and its results must agree - the children (keys, types, which
entries are the same object), values, lengths, reprs, and every error's class and message
(collected with `attempt`, so one scenario checks many calls, including the state a failed call
leaves behind). Pickles of the containers load across the two libraries."""
import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import jtorch
from tests.nn.test_module import same


def attempt(fn):
    """The result of fn() or the exception it raised (class name and message; a class named in
    the message is named by its torch path, e.g. `<class 'torch.nn.modules.module.Module'>`)."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return ("raised", type(e).__name__, str(e).replace("'jtorch.", "'torch."))


def layout(container):
    """(key, class name, position of the first child that is the same object) for each child."""
    firsts = {}
    return [(k, type(m).__name__, firsts.setdefault(id(m), i))
            for i, (k, m) in enumerate(container._modules.items())]


def _mods(nn):
    return [nn.Linear(1, 2), nn.ReLU(), nn.Tanh(), nn.Identity(), nn.Sigmoid()]


def _seq(nn, n=3):
    return nn.Sequential(*_mods(nn)[:n])


def _named(nn):
    a, b, c = _mods(nn)[:3]
    return nn.Sequential(OrderedDict([("first", a), ("mid", b), ("last", c)]))


def seq_indexing(lib):
    nn = lib.nn
    s = _seq(nn)
    out = [type(s[i]).__name__ for i in (0, 1, 2, -1, -2, -3)]
    out += [attempt(lambda i=i: s[i]) for i in (3, -4, 100, "0", 1.0, None)]
    out.append(type(s[np.int64(1)]).__name__)
    for sl in (slice(1, None), slice(None, None, -1), slice(0, 0), slice(5, 9), slice(-2, None), slice(0, 3, 2)):
        sub = s[sl]
        out.append((type(sub).__name__, layout(sub)))
    named = _named(nn)
    out += [layout(named[1:]), type(named[-1]).__name__, attempt(lambda: named["mid"])]
    return out


def seq_setitem_delitem(lib):
    nn = lib.nn
    s = _seq(nn, 5)
    s[0] = nn.Identity()
    s[-1] = nn.Tanh()
    out = [layout(s), attempt(lambda: s.__setitem__(5, nn.ReLU())),
           attempt(lambda: s.__setitem__(-6, nn.ReLU())), attempt(lambda: s.__setitem__(0, 3))]
    del s[1]
    out.append(layout(s))
    del s[-1]
    out.append(layout(s))
    out.append(attempt(lambda: s.__delitem__(7)))
    s = _seq(nn, 5)
    del s[1:4:2]
    out.append(layout(s))
    del s[::-1]
    out.append(layout(s))
    named = _named(nn)
    del named[0]                 # the survivors are renumbered, names and all
    out.append(layout(named))
    named = _named(nn)
    del named[:1]
    out.append(layout(named))
    return out


def seq_insert_append_extend_pop(lib):
    nn = lib.nn
    out = []
    for index in (0, 1, 3, -1, -3, 4, -4):
        s = _seq(nn)
        out.append((index, attempt(lambda s=s, index=index: layout(s.insert(index, nn.Sigmoid()))), layout(s)))
    s = _seq(nn)
    out.append(attempt(lambda: s.insert(0, "not a module")))
    named = _named(nn)
    out.append(attempt(lambda: layout(named.insert(3, nn.Sigmoid()))))
    out.append(attempt(lambda: named.insert(1, nn.Sigmoid())))
    out.append(layout(named))    # what the failed shift left behind
    s = _seq(nn, 2)
    out.append(layout(s.append(nn.Sigmoid())))
    out.append(layout(s.extend([nn.Identity(), nn.ReLU()])))
    out.append(layout(s.extend(_seq(nn, 2))))
    out.append(layout(s.extend(m for m in [nn.Tanh()])))
    out.append(attempt(lambda: s.append(3)))
    out.append(type(s.pop(0)).__name__)
    out.append(type(s.pop(-1)).__name__)
    popped = s.pop(slice(1, 3))
    out += [type(popped).__name__, layout(popped), layout(s), attempt(lambda: s.pop(50))]
    return out


def seq_add_mul(lib):
    nn = lib.nn
    a, b = _seq(nn, 2), _named(nn)
    out = [layout(a + b), layout(b + a), attempt(lambda: a + [nn.ReLU()]), attempt(lambda: a + nn.ModuleList())]
    c = _seq(nn, 2)
    c += b
    out.append(layout(c))
    out.append(attempt(lambda: c.__iadd__([nn.ReLU()])))
    for factor in (1, 2, 3, True):
        out.append(attempt(lambda f=factor: layout(a * f)))
        out.append(attempt(lambda f=factor: layout(f * a)))
    for factor in (0, -1, False, 1.5, "2", None):
        out.append(attempt(lambda f=factor: a * f))
        out.append(attempt(lambda f=factor: a.__imul__(f)))
    d = _seq(nn, 2)
    d *= 3
    out.append(layout(d))
    e = _seq(nn, 2)
    e *= 1
    out.append(layout(e))
    n1, n2 = _named(nn), _named(nn)
    n1 *= 1
    out += [layout(n1), attempt(lambda: n2.__imul__(2)), layout(n2), layout(n2 * 2)]
    return out


def seq_misc(lib):
    nn = lib.nn
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    s.extra = nn.Tanh()
    x = lib.tensor([[0.5, -1.0]])
    return [len(s), [type(m).__name__ for m in s], sorted(k for k in dir(s) if k in ("0", "1", "extra", "forward")),
            s(x), repr(nn.Sequential()), len(nn.Sequential()), repr(_named(nn)),
            layout(nn.Sequential(OrderedDict())), attempt(lambda: nn.Sequential({"a": nn.ReLU()})),
            attempt(lambda: nn.Sequential(nn.ReLU(), 5))]


def modulelist_ops(lib):
    nn = lib.nn
    ml = nn.ModuleList(_mods(nn))
    out = [len(ml), [type(ml[i]).__name__ for i in (0, -1, -5, 2)]]
    out += [attempt(lambda i=i: ml[i]) for i in (5, -6, "1", 1.5)]
    for sl in (slice(1, 3), slice(None, None, -2), slice(4, 1), slice(-2, None)):
        out.append((type(ml[sl]).__name__, layout(ml[sl])))
    ml[-1] = nn.ReLU()
    ml[0] = nn.Tanh()
    out += [layout(ml), attempt(lambda: ml.__setitem__(9, nn.ReLU())), attempt(lambda: ml.__setitem__(1, "x"))]
    del ml[-2]
    out.append(layout(ml))
    del ml[::2]
    out.append(layout(ml))
    out.append(attempt(lambda: ml.__delitem__(4)))
    for index in (0, 1, 2, 5, -1):
        m = nn.ModuleList([nn.ReLU(), nn.Tanh()])
        out.append((index, attempt(lambda m=m, index=index: m.insert(index, nn.Sigmoid())), layout(m)))
    m = nn.ModuleList()
    out.append(layout(m.append(nn.ReLU()).extend([nn.Tanh(), nn.Identity()])))
    out.append(layout(m.extend(iter([nn.Sigmoid()]))))
    out += [attempt(lambda: m.extend(5)), attempt(lambda: m.extend(nn.ReLU())), attempt(lambda: m.append(1))]
    out += [type(m.pop(1)).__name__, type(m.pop(-1)).__name__, layout(m)]
    p = m.pop(slice(0, 1))
    out += [type(p).__name__, layout(p), layout(m)]
    both = m + [nn.ReLU(), nn.ReLU()]
    out += [type(both).__name__, layout(both), layout(m + nn.ModuleList([nn.Tanh()])), attempt(lambda: m + 5)]
    m += [nn.Identity()]
    out.append(layout(m))
    out += [attempt(lambda: nn.ModuleList(5)), layout(nn.ModuleList(None)), layout(nn.ModuleList(nn.ReLU() for _ in range(2)))]
    out.append(sorted(k for k in dir(m) if k in ("0", "1", "append")))
    out.append(attempt(lambda: m(lib.ones(1))))
    return out


def modulelist_repr(lib):
    nn = lib.nn
    lin = nn.Linear(2, 2)
    return [repr(nn.ModuleList()), repr(nn.ModuleList([nn.ReLU()] * 3 + [lin, nn.Linear(2, 2), nn.ReLU()])),
            repr(nn.ModuleList([nn.Sequential(nn.ReLU(), nn.Tanh())] * 2 + [nn.Tanh()]))]


def moduledict_ops(lib):
    nn = lib.nn
    out = []
    for src in (lambda: {"b": nn.ReLU(), "a": nn.Tanh()},
                lambda: OrderedDict([("b", nn.ReLU()), ("a", nn.Tanh())]),
                lambda: [("b", nn.ReLU()), ["a", nn.Tanh()]],
                lambda: (("z", m) for m in [nn.ReLU()]),
                lambda: nn.ModuleDict({"q": nn.ReLU(), "p": nn.Tanh()}),
                lambda: 5, lambda: [nn.ReLU()], lambda: [("a",)], lambda: [("a", nn.ReLU(), 1)],
                lambda: [("ok", nn.ReLU()), 3], lambda: {"a": 1}, lambda: {1: nn.ReLU()},
                lambda: {"a.b": nn.ReLU()}, lambda: {"": nn.ReLU()}):
        out.append(attempt(lambda src=src: layout(nn.ModuleDict(src()))))
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    md["c"] = nn.Identity()
    md["b"] = nn.Sigmoid()        # replaces in place, keeps the position
    md.update([("d", nn.ReLU())])
    out += [layout(md), list(md.keys()), [type(v).__name__ for v in md.values()],
            [(k, type(v).__name__) for k, v in md.items()], list(md), "a" in md, "zz" in md, len(md)]
    out += [type(md.pop("a")).__name__, attempt(lambda: md.pop("a")), attempt(lambda: md["zz"])]
    del md["c"]
    out += [layout(md), attempt(lambda: md.__delitem__("c")), attempt(lambda: md.__setitem__("x", 3))]
    md.clear()
    out += [layout(md), repr(md), attempt(lambda: md(1))]
    return out


def _plist(lib):
    nn = lib.nn
    return nn.ParameterList([nn.Parameter(lib.ones(2)), lib.zeros(3), "text", lib.ones(2, dtype=lib.float64)])


def parameterlist_ops(lib):
    nn = lib.nn
    pl = _plist(lib)
    out = [len(pl), [type(p).__name__ for p in pl], repr(pl), vars(pl)["_size"]]
    out += [pl[1], pl[-1], attempt(lambda: pl[4]), attempt(lambda: pl[-5]), attempt(lambda: pl["0"])]
    sub = pl[1:3]
    out += [type(sub).__name__, len(sub), [type(p).__name__ for p in sub], len(pl[::-1]), len(pl[9:])]
    pl[0] = lib.full((2,), 3.0)
    pl[-2] = 7
    out += [pl[0], type(pl[0]).__name__, pl[2], attempt(lambda: pl.__setitem__(4, lib.ones(1)))]
    pl.append(lib.ones(1))
    pl.extend([lib.zeros(1), None])
    pl += (lib.ones(3),)
    out += [len(pl), [type(p).__name__ for p in pl], attempt(lambda: pl.extend(lib.ones(2))),
            attempt(lambda: pl.extend(5)), attempt(lambda: pl())]
    m = nn.Module()
    m.pl = pl
    out.append([(n, tuple(p.shape)) for n, p in m.named_parameters()])
    out.append(sorted(k for k in dir(pl) if k in ("0", "1", "append")))
    out.append(attempt(lambda: pl.__delitem__(0)))
    return out


def parameterdict_ops(lib):
    nn = lib.nn
    out = []
    for src in (lambda: {"b": lib.ones(1), "a": lib.zeros(2)},              # a plain mapping is sorted
                lambda: OrderedDict([("b", lib.ones(1)), ("a", lib.zeros(2))]),
                lambda: [("b", lib.ones(1)), ["a", nn.Parameter(lib.zeros(2))]],
                lambda: nn.ParameterDict(OrderedDict([("q", lib.ones(1)), ("p", "s")])),
                lambda: 5, lambda: [3], lambda: [("a",)], lambda: [("a", 1, 2)], lambda: {1: lib.ones(1)}):
        out.append(attempt(lambda src=src: [(k, type(v).__name__) for k, v in nn.ParameterDict(src()).items()]))
    pd = nn.ParameterDict({"x": lib.ones(2)})
    pd["y"] = nn.Parameter(lib.zeros(1))
    pd["z"] = 4
    out += [list(pd.keys()), [type(v).__name__ for v in pd.values()], list(pd), list(reversed(pd)),
            "x" in pd, "w" in pd, len(pd), pd["x"], pd.get("w"), pd.get("w", 5), type(pd.get("x")).__name__]
    out += [attempt(lambda: pd[0]), attempt(lambda: pd["missing"]), attempt(lambda: pd.__delitem__("missing"))]
    bad = nn.ParameterDict()
    out += [attempt(lambda: bad.__setitem__(0, lib.ones(1))), list(bad.keys()), len(bad)]  # the key stays
    out += [type(pd.setdefault("x", lib.zeros(1))).__name__, pd.setdefault("s", lib.zeros(1)), pd.setdefault("n")]
    out += [type(pd.pop("y")).__name__, attempt(lambda: pd.pop("y")), pd.popitem(), list(pd.keys())]
    cp = pd.copy()
    cp["extra"] = lib.ones(1)
    out += [type(cp).__name__, list(cp.keys()), list(pd.keys()), cp["x"] is pd["x"]]
    fk = pd.fromkeys(["k2", "k1"], lib.ones(1))
    out += [type(fk).__name__, list(fk.keys()), list(pd.fromkeys(["a"]).items())]
    merged = pd | {"m": lib.ones(1), "a": lib.ones(1)}
    rmerged = {"r": lib.ones(1)} | pd
    out += [type(merged).__name__, list(merged.keys()), type(rmerged).__name__, list(rmerged)]
    pd |= [("late", lib.ones(1))]
    out += [list(pd.keys()), attempt(lambda: pd.update(3)), attempt(lambda: pd(1)), repr(pd)]
    m = nn.Module()
    m.pd = pd
    out.append([(n, tuple(p.shape)) for n, p in m.named_parameters()])
    pd.clear()
    out += [list(pd.keys()), len(pd), repr(pd), attempt(pd.popitem)]
    return out


def container_deprecated(lib):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = lib.nn.Container(a=lib.nn.ReLU(), b=lib.nn.Tanh())
        made = len(caught)

        class Mine(lib.nn.Container):           # subclassing warns, making a subclass does not
            pass
        subclassed = len(caught)
        Mine(x=lib.nn.ReLU())
    return layout(c), made, subclassed, len(caught), [(w.category.__name__, str(w.message)) for w in caught]


SCENARIOS = [seq_indexing, seq_setitem_delitem, seq_insert_append_extend_pop, seq_add_mul, seq_misc,
             modulelist_ops, modulelist_repr, moduledict_ops, parameterlist_ops, parameterdict_ops,
             container_deprecated]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f.__name__ for f in SCENARIOS])
def test_container_scenario(scenario):
    same(scenario)


def _model(lib):
    lib.manual_seed(0)
    nn = lib.nn
    m = nn.Module()
    m.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    m.ml = nn.ModuleList([nn.Linear(2, 1), nn.Tanh()])
    m.md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    m.pl = nn.ParameterList([lib.ones(2), nn.Parameter(lib.zeros(1))])
    m.pd = nn.ParameterDict({"w": lib.full((2,), 0.5)})
    return m


def _state(m):
    """What a container module carries: its own attributes (beyond the Module base) and children."""
    def node(x):
        extra = {k: v for k, v in vars(x).items() if k in ("_size", "_keys")}
        return (type(x).__name__, extra, list(x._parameters), [(k, node(c)) for k, c in x._modules.items()])
    return node(m)


@pytest.mark.parametrize("src,dst", [(torch, jtorch), (jtorch, torch)], ids=["torch-to-jtorch", "jtorch-to-torch"])
def test_container_pickles_cross_load(src, dst):
    """A whole model of containers saved by one library loads in the other with the same attributes
    (ParameterList's `_size`, ParameterDict's `_keys`), children and parameters, and keeps working."""
    buf = io.BytesIO()
    src.save(_model(src), buf)
    got = dst.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert _state(got) == _state(_model(dst))
    fresh = _model(dst)
    for m in (got, fresh):
        m.pl.append(dst.ones(3))
        m.pd["v"] = dst.ones(1)
    names = [n for n, _ in got.named_parameters()]
    assert names == [n for n, _ in fresh.named_parameters()] and "pl.2" in names and "pd.v" in names
    assert len(pickle.loads(pickle.dumps(got.pl))) == 3
