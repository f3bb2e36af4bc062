"""Differential tests driven by PyTorch's own op database (OpInfo's `op_db`).

For every OpInfo whose op jtorch has, its sample inputs run through torch and jtorch, and value,
dtype, shape, grad_fn name and (for float samples) the gradient must agree; its error inputs must
raise the same exception class. Every case is gated. Known failures are named in XFAIL with the
cause found: a visible gap, never a loosened comparison; the rows are strict, so an xpass fails
the run and a fix must remove its row. REFUSED names the ops jtorch refuses by design (complex32)
and checks that refusal instead. tests/parity/conftest.py prints the coverage line at the end.
"""
import itertools
import types

import numpy as np
import pytest
import torch

import jtorch
from tests._diff import assert_same

from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

# importing torch's test internals freezes torch.backends flags for the whole process
# (disable_global_flags); other test files in this worker compare setting them against jtorch
# (the flag lives in the globals of the functions that read it, not in the torch.backends module object)
torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
assert not torch.backends.flags_frozen()

# samples per (op, dtype): one keeps this file within its share of the 20-minute CI budget (each
# sample compiles a forward and a backward program); the first sample op_db yields is its basic case
MAX_SAMPLES = {"float32": 1, "float64": 1, "int64": 1, "bool": 1}
MAX_ERRORS = 8
_rng = np.random.default_rng(0)

# op_db namespaces that map onto a jtorch module
_NAMESPACES = {"linalg": "linalg", "special": "special", "nn.functional": "nn.functional",
               "fft": "fft"}
# ops whose values are unspecified (uninitialised memory): only dtype and shape are compared
_UNINITIALISED = {"empty", "empty_like", "new_empty", "empty_strided", "new_empty_strided",
                  "empty_permuted"}


def _full_name(o):
    return o.name + ("." + o.variant_test_name if o.variant_test_name else "")


def _jtorch_module(path):
    mod = jtorch
    for part in path.split("."):
        mod = getattr(mod, part, None)
        if mod is None:
            return None
    return mod


def _rebind(fn):
    """A function from torch's test suite (a lambda like `lambda x: x.T` or `lambda t, eq:
    torch.einsum(eq, t)`) with its global `torch` swapped for jtorch."""
    g = dict(fn.__globals__)
    g["torch"] = jtorch
    if "wrapper_set_seed" in g:
        g["wrapper_set_seed"] = _wrapper_set_seed
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def _wrapper_set_seed(op, *args, **kwargs):
    """torch's wrapper_set_seed (random ops run from seed 42, the global state left as it was),
    seeding jtorch's generator: torch's own would seed torch's only."""
    state = jtorch.get_rng_state()
    try:
        jtorch.manual_seed(42)
        return op(*args, **kwargs)
    finally:
        jtorch.set_rng_state(state)


def resolve(o):
    """jtorch's callable for an OpInfo, or None when jtorch does not have the op."""
    name = o.name
    for prefix, path in _NAMESPACES.items():
        if name.startswith(prefix + "."):
            mod = _jtorch_module(path)
            fn = getattr(mod, name[len(prefix) + 1:], None) if mod is not None else None
            if fn is None:
                return None
            if isinstance(o.op, types.FunctionType) and o.op.__name__ == "<lambda>":
                return _rebind(o.op)
            return fn
    if "." in name:
        return None
    f = o.op
    if isinstance(f, types.FunctionType) and f.__module__.startswith("torch.testing"):
        # a lambda over Tensor methods or torch functions: run it on jtorch
        code_names = set(f.__code__.co_names)
        if not (all(hasattr(jtorch.Tensor, n) or hasattr(jtorch, n) or n == "torch" for n in code_names)
                and (hasattr(jtorch, name) or hasattr(jtorch.Tensor, name))):
            return None
        return _rebind(f)
    if f is getattr(torch, name, None) and hasattr(jtorch, name):
        return getattr(jtorch, name)
    if hasattr(jtorch.Tensor, name):
        method = getattr(jtorch.Tensor, name)
        return lambda self, *args, **kwargs: method(self, *args, **kwargs)
    return None


# -- known failures -------------------------------------------------------------------------------
# "op" or "op@dtype" (dtype: float32 int64 bool float64, or "errors" for the error-input test)
_NUMBER = 'torch rejects a Python number in this argument position (TypeError); jtorch promotes it like any number'
_OVERLAP = ("out= overlapping an input (the input itself, an expanded tensor, a view of the index): torch raises "
            "'unsupported operation: ... refer to a single memory location'; jtorch's out= does not check overlap "
            "(and this harness copies each tensor, so an expanded or view out= reaches jtorch as a plain tensor)")
_OUT_DTYPE = "out= of another dtype is cast into instead of refused (torch demands the result's dtype for this op)"
XFAIL = {
    'gather@errors': _OUT_DTYPE + '; ' + _OVERLAP,
    'cat@errors': _OVERLAP,
    'complex@errors': _OUT_DTYPE + ' (complex64 out= for float64 inputs)',
    'index_select@errors': _OVERLAP,
    'masked_select@errors': _OVERLAP,
    'take@errors': _OVERLAP,
    'topk@int64': 'which index of tied values torch reports is implementation-defined',
    'sort@bool': "torch's default (unstable) sort orders ties its own way",
    'sgn@float32': "torch's gradient is a ZeroTensor, which the harness cannot turn into numpy",
    'rsub@errors': _NUMBER,
    '__radd__@errors': _NUMBER,
    '__rand__@errors': _NUMBER,
    '__rmul__@errors': _NUMBER,
    '__ror__@errors': _NUMBER,
    '__rpow__@int64': 'integer power with a negative exponent: torch raises, jax gives 0',
    '__rxor__@errors': _NUMBER,
    'amax@errors': "an error input reaches jax and raises its ValueError, not torch's class",
    'amin@errors': "an error input reaches jax and raises its ValueError, not torch's class",
    'aminmax@errors': "an error input reaches jax and raises its ValueError, not torch's class",
    'argsort@bool': "torch's default (unstable) sort orders ties its own way",
    'atan2@errors': _NUMBER,
    'clamp_max@errors': _NUMBER,
    'clamp_min@errors': _NUMBER,
    'copysign@errors': _NUMBER,
    'diff@float32': "diff with n=0 is torch's copy (CopyBackwards node); jtorch records SubBackward0",
    'digamma@float32': "values at the poles (0 and negative integers) differ from torch's",
    'einsum@float32': "torch names einsum's node after its decomposition (SumBackward1, BmmBackward0...)",
    'eq@errors': _NUMBER,
    'fmax@errors': _NUMBER,
    'fmin@errors': _NUMBER,
    'fmod@errors': _NUMBER,
    'gcd@errors': _NUMBER,
    'ge@errors': _NUMBER,
    'gt@errors': _NUMBER,
    'hypot@errors': _NUMBER,
    'igamma@errors': _NUMBER,
    'igammac@errors': _NUMBER,
    'isclose@errors': _NUMBER,
    'kthvalue@errors': 'out= tensors of the wrong dtype are cast instead of rejected',
    'kthvalue@int64': 'which index of tied values torch reports is implementation-defined',
    'lcm@errors': _NUMBER,
    'ldexp@errors': _NUMBER,
    'le@errors': _NUMBER,
    'logaddexp2@errors': _NUMBER,
    'logcumsumexp@float32': "gradient or -inf handling differs from torch's",
    'logical_and@errors': _NUMBER,
    'logical_or@errors': _NUMBER,
    'logical_xor@errors': _NUMBER,
    'lt@errors': _NUMBER,
    'max.binary@errors': _NUMBER,
    'maximum@errors': _NUMBER,
    'min.binary@errors': _NUMBER,
    'minimum@errors': _NUMBER,
    'ne@errors': _NUMBER,
    'nextafter@float32': 'jax has no derivative for nextafter (torch records NextafterBackward0)',
    'polygamma.polygamma_n_0@float32': "torch's polygamma(n, x) values differ near poles",
    'polygamma.polygamma_n_1@float32': "torch's polygamma(n, x) values differ near poles",
    'polygamma.polygamma_n_2@float32': "torch's polygamma(n, x) values differ near poles",
    'polygamma.polygamma_n_3@float32': "torch's polygamma(n, x) values differ near poles",
    'polygamma.polygamma_n_4@float32': "torch's polygamma(n, x) values differ near poles",
    'special.polygamma.special_polygamma_n_0@float32': "torch's polygamma(n, x) values differ near poles",
}


# ops jtorch refuses by design: (exception class, a fragment of its message, why). Their test
# checks that torch computes the op and jtorch raises exactly that, so neither side can drift
REFUSED = {
    "chalf": (NotImplementedError, "complex32", "XLA has no complex32: jtorch knows the dtype (promotion yields "
                                                "it as torch's does) but refuses to make tensors of it"),
}


def _xfail_reason(full, tag):
    return XFAIL.get("%s@%s" % (full, tag)) or XFAIL.get(full)


# -- collection -----------------------------------------------------------------------------------

def _dtypes_for(o):
    linalg = o.name.startswith("linalg.")
    wanted = (torch.float64,) if linalg else (torch.float32, torch.int64, torch.bool)
    supported = o.supported_dtypes("cpu")
    return [d for d in wanted if d in supported]


RESOLVED = {}
for _o in op_db:
    _fn = resolve(_o)
    if _fn is not None:
        RESOLVED[_full_name(_o)] = (_o, _fn)
OPDB_NAMES = sorted({_full_name(o) for o in op_db})


def _param(full, tag, *values):
    reason = _xfail_reason(full, tag)
    # strict: an xpass of a listed row fails the run, so a fix must also remove its row
    marks = pytest.mark.xfail(reason=reason, strict=True) if reason else ()
    return pytest.param(full, *values, id="%s-%s" % (full, tag), marks=marks)


def _cases():
    out = []
    for full, (o, _) in sorted(RESOLVED.items()):
        for d in _dtypes_for(o):
            out.append(_param(full, str(d).replace("torch.", ""), d))
    return out


def _error_cases():
    return [_param(full, "errors") for full, (o, _) in sorted(RESOLVED.items())
            if o.error_inputs_func is not None]


# -- converting a SampleInput ---------------------------------------------------------------------

class _Converter:
    """Turns torch sample arguments into fresh torch leaves and matching jtorch tensors."""

    def __init__(self, grad):
        self.memo = {}
        self.grad = grad
        self.t_leaves, self.j_leaves = [], []

    def pair(self, x):
        if isinstance(x, torch.Tensor):
            if id(x) in self.memo:
                return self.memo[id(x)]
            arr = x.detach().resolve_conj().resolve_neg().cpu().numpy().copy()
            t, j = torch.from_numpy(arr.copy()), jtorch.from_numpy(arr.copy())
            if self.grad and x.requires_grad:
                t.requires_grad_(True)
                j.requires_grad_(True)
                self.t_leaves.append(t)
                self.j_leaves.append(j)
            self.memo[id(x)] = (t, j)
            return t, j
        if isinstance(x, torch.Size):
            return x, jtorch.Size(tuple(x))
        if isinstance(x, (list, tuple)):
            pairs = [self.pair(v) for v in x]
            kind = list if isinstance(x, list) else tuple
            return kind(p[0] for p in pairs), kind(p[1] for p in pairs)
        if isinstance(x, dict):
            pairs = {k: self.pair(v) for k, v in x.items()}
            return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
        if isinstance(x, torch.dtype):
            return x, getattr(jtorch, str(x).replace("torch.", ""))
        if isinstance(x, torch.device):
            return x, jtorch.device(str(x))
        if isinstance(x, torch.nn.Module):
            # a stateless module passed as a function (triplet_margin_with_distance_loss's
            # distance_function=PairwiseDistance()): jtorch's module of that class, same attributes
            assert not list(x.parameters()) and not list(x.buffers()), type(x).__name__
            j = getattr(jtorch.nn, type(x).__name__)()
            for k, v in vars(x).items():
                if not k.startswith("_"):
                    setattr(j, k, v)
            return x, j
        return x, x

    def sample(self, s):
        t_in, j_in = self.pair(s.input)
        t_args, j_args = self.pair(tuple(s.args))
        t_kw, j_kw = self.pair(dict(s.kwargs))
        return (t_in, t_args, t_kw), (j_in, j_args, j_kw)


def _flatten(x):
    if isinstance(x, (tuple, list)):
        return [y for v in x for y in _flatten(v)]
    return [x]


def _to_torch(x):
    if isinstance(x, jtorch.Tensor):
        return torch.from_numpy(np.array(x.detach().numpy(force=True)))
    if isinstance(x, (tuple, list)):
        return type(x)(_to_torch(v) for v in x) if not hasattr(x, "_fields") else tuple(_to_torch(v) for v in x)
    return x


def _to_jtorch(x):
    if isinstance(x, torch.Tensor):
        return jtorch.from_numpy(x.detach().numpy().copy())
    if isinstance(x, (tuple, list)):
        return tuple(_to_jtorch(v) for v in x)
    return x


def _is_identity(fn):
    return fn.__name__ == "<lambda>" and fn.__code__.co_filename.endswith("opinfo/core.py")


def _seed():
    torch.manual_seed(0)
    jtorch.manual_seed(0)


def _pick(samples, n):
    if len(samples) <= n:
        return samples
    step = len(samples) / n
    return [samples[int(i * step)] for i in range(n)]


def _grad_fn_names(j_out, t_out):
    for k, (j, t) in enumerate(zip(_flatten(j_out), _flatten(t_out))):
        if isinstance(t, torch.Tensor) and t.grad_fn is not None:
            assert isinstance(j, jtorch.Tensor) and j.grad_fn is not None, \
                "output %d: torch has grad_fn %s, jtorch none" % (k, type(t.grad_fn).__name__)
            assert type(j.grad_fn).__name__ == type(t.grad_fn).__name__, \
                "output %d: grad_fn %s != torch's %s" % (k, type(j.grad_fn).__name__,
                                                        type(t.grad_fn).__name__)


def check_sample(o, jfn, s, grad):
    conv = _Converter(grad)
    (t_in, t_args, t_kw), (j_in, j_args, j_kw) = conv.sample(s)
    _seed()
    try:
        t_out = o.op(t_in, *t_args, **t_kw)
    except Exception as e:
        _seed()
        with pytest.raises(Exception) as info:
            jfn(j_in, *j_args, **j_kw)
        assert isinstance(info.value, type(e)), "torch raised %s(%s), jtorch raised %s(%s)" % (
            type(e).__name__, e, type(info.value).__name__, info.value)
        return
    _seed()
    j_out = jfn(j_in, *j_args, **j_kw)
    process = s.output_process_fn_grad
    if o.name in _UNINITIALISED:
        for a, b in zip(_flatten(j_out), _flatten(t_out)):
            assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
        return
    if _is_identity(process):
        assert_same(j_out, t_out)
    else:
        # outputs with a free sign or phase (svd, eigh): compare what torch's test compares
        assert_same(_to_jtorch(process(_to_torch(j_out))), process(t_out))
    if not conv.t_leaves:
        return
    _grad_fn_names(j_out, t_out)
    if not _is_identity(process):
        process_j = _rebind(process)
        j_processed, t_processed = process_j(j_out), process(t_out)
    else:
        j_processed, t_processed = j_out, t_out
    t_outs = [x for x in _flatten(t_processed) if isinstance(x, torch.Tensor) and x.requires_grad]
    if not t_outs:
        return
    j_outs = [x for x in _flatten(j_processed) if isinstance(x, jtorch.Tensor) and x.requires_grad]
    assert len(j_outs) == len(t_outs), "outputs requiring grad: jtorch %d, torch %d" % (len(j_outs), len(t_outs))
    # drawn in float64 and cast by each library (numpy has no bfloat16): the same rounded values
    cots = [_rng.uniform(-1, 1, size=tuple(x.shape)) for x in t_outs]
    t_cots = [torch.from_numpy(c).to(x.dtype) for c, x in zip(cots, t_outs)]
    j_cots = [jtorch.from_numpy(c.copy()).to(getattr(jtorch, str(x.dtype).replace("torch.", "")))
              for c, x in zip(cots, t_outs)]
    t_grads = torch.autograd.grad(t_outs, conv.t_leaves, t_cots, allow_unused=True)
    j_grads = jtorch.autograd.grad(j_outs, conv.j_leaves, j_cots, allow_unused=True)
    for k, (jg, tg) in enumerate(zip(j_grads, t_grads)):
        if tg is None:
            continue
        assert jg is not None, "gradient %d: torch has one, jtorch has None" % k
        assert_same(jg, tg, what="gradient %d" % k)


# -- the tests ------------------------------------------------------------------------------------

def _expect_refusal(o, jfn, s, error, fragment):
    conv = _Converter(False)
    (t_in, t_args, t_kw), (j_in, j_args, j_kw) = conv.sample(s)
    o.op(t_in, *t_args, **t_kw)   # torch computes it
    with pytest.raises(error, match=fragment):
        jfn(j_in, *j_args, **j_kw)


@pytest.mark.parametrize("full,dtype", _cases())
def test_op(full, dtype, record_property):
    o, jfn = RESOLVED[full]
    refused = REFUSED.get(full)
    if refused:
        record_property("op_db_refused", full)
    grad = (dtype.is_floating_point and o.supports_autograd
            and dtype in o.supported_backward_dtypes("cpu"))
    gen = o.sample_inputs("cpu", dtype, requires_grad=grad)
    samples = _pick(list(itertools.islice(gen, 40)), MAX_SAMPLES[str(dtype).replace("torch.", "")])
    for i, s in enumerate(samples):
        try:
            if refused:
                _expect_refusal(o, jfn, s, refused[0], refused[1])
                continue
            check_sample(o, jfn, s, grad)
        except AssertionError as e:
            raise AssertionError("sample %d %s: %s" % (i, _describe(s), e)) from None


@pytest.mark.parametrize("full", _error_cases())
def test_op_errors(full):
    o, jfn = RESOLVED[full]
    errors = list(o.error_inputs("cpu"))[:MAX_ERRORS]
    for i, e in enumerate(errors):
        conv = _Converter(False)
        _, (j_in, j_args, j_kw) = conv.sample(e.sample_input)
        try:
            jfn(j_in, *j_args, **j_kw)
        except Exception as je:
            assert isinstance(je, e.error_type), "error input %d %s: torch raises %s(%s), jtorch raised %s(%s)" % (
                i, _describe(e.sample_input), e.error_type.__name__, e.error_regex, type(je).__name__, je)
        else:
            raise AssertionError("error input %d %s: torch raises %s(%s), jtorch did not"
                                 % (i, _describe(e.sample_input), e.error_type.__name__, e.error_regex))


def test_inventory(record_property):
    """Records the size of op_db and how many of its ops jtorch has, for the coverage line."""
    record_property("op_db_total", len(OPDB_NAMES))
    record_property("op_db_have", len(RESOLVED))
    assert RESOLVED


def _describe(s):
    def d(x):
        if isinstance(x, torch.Tensor):
            return "T%s:%s" % (list(x.shape), str(x.dtype).replace("torch.", ""))
        if isinstance(x, (list, tuple)):
            return "[%s]" % ", ".join(d(v) for v in x)
        if isinstance(x, dict):
            return "{%s}" % ", ".join("%s=%s" % (k, d(v)) for k, v in x.items())
        return repr(x)
    return "(%s, %s, %s)" % (d(s.input), d(tuple(s.args)), d(s.kwargs))
