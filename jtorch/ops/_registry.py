"""The op table: every operation declared once, everything else generated from it.

An op is a JAX function with torch's signature, declared with `@op(...)`:

    @op(tensors="input other", promote=P.promote, inplace=True, dunder="add", node="AddBackward0")
    def add(input, other, *, alpha=1):
        return input + alpha * other

From that one declaration come `torch.add`, `Tensor.add`, `Tensor.add_`, `out=`, the dunders
`__add__ __radd__ __iadd__`, argument conversion, type promotion and autograd recording.

Dispatch (NOTE [Op dispatch]): an eager call turns its Python arguments into a cache key
(static arguments, which tensor slots hold Python numbers, the compute dtype) and runs one
cached `jax.jit` per key; jit's own cache then keys on shapes and dtypes. Python numbers are
baked into the compiled function while an op sees few distinct ones (`x * 2`, `lr`), and are
passed as traced arrays once it has seen many, so a loop over changing numbers never
recompiles per value.
"""
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from .. import _device as _dev
from .. import _dtype as D
from .._tensor import Tensor
from ..autograd import graph as _graph
from . import _promotion as P

OPS = {}          # name -> Op, the table itself
TORCH = {}        # public name -> function, for the `torch` namespace
NAMESPACES = {}   # namespace ("nn.functional", "linalg", "special") -> {name: function}
METHODS = {}      # Tensor method name -> function
_STATIC_NUMBER_LIMIT = 16
_STATIC_RULE = P.StaticRule


class Op:
    __slots__ = ("name", "impl", "params", "tensor_params", "list_params", "static_params",
                 "promote", "promoted", "node", "differentiable", "saves", "view",
                 "returns", "cache", "numbers_seen", "dynamic_numbers", "out_dtype", "check")

    def __repr__(self):
        return "<op %s>" % self.name


def _split_names(names):
    return tuple(names.split()) if isinstance(names, str) else tuple(names)


def op(tensors="input", lists=(), promote=P.keep, promote_args=None, function=True, method=True,
       inplace=False, dunder=None, rdunder=True, node=None, differentiable=True, saves=None,
       view=None, returns=None, namespace=None, name=None, aliases=(), out=True, out_dtype=None, check=None):
    """Declare an op; see the module docstring.

    tensors:      parameters that take tensors (or Python numbers, promoted like torch)
    lists:        parameters that take a sequence of tensors (cat, stack)
    promote:      a rule from _promotion; promote_args limits it to some tensor parameters
    node:         PyTorch's grad_fn class name, or a function of the static arguments giving it
    saves:        tensor parameters whose in-place modification breaks backward (torch's saved
                  tensors); default all of them, () for ops whose gradient needs no input
    view:         for view ops, fn(shape, stride, offset, *static) -> (shape, stride, offset)
    returns:      a namedtuple class for multi-output ops (torch.return_types.max ...)
    out_dtype:    fn(compute dtype, static kwargs) -> output dtype to cast to, when not the JAX result's
    check:        fn(**arguments) run on the Tensors before dispatch, for errors that depend on values
                  (an index out of range): JAX would clamp silently, torch raises
    """
    def declare(impl):
        o = Op()
        o.name = name or impl.__name__
        if o.name in OPS:
            raise RuntimeError("op %r is registered twice" % o.name)
        o.impl = impl
        o.params = list(inspect.signature(impl).parameters.values())
        o.tensor_params = _split_names(tensors)
        o.list_params = _split_names(lists)
        names = [p.name for p in o.params]
        for n in o.tensor_params + o.list_params:
            if n not in names:
                raise TypeError("op %s declares tensor parameter %r it does not have" % (o.name, n))
        o.static_params = tuple(n for n in names if n not in o.tensor_params + o.list_params)
        o.promote = promote
        promoted = _split_names(promote_args) if promote_args is not None else o.tensor_params + o.list_params
        o.promoted = tuple(n in promoted for n in o.tensor_params + o.list_params)
        o.node = node or (o.name.capitalize() + "Backward0")
        o.differentiable = differentiable
        o.saves = _split_names(saves) if saves is not None else None
        o.view = view
        o.returns = returns
        o.cache = {}
        o.numbers_seen = set()
        o.dynamic_numbers = False
        o.out_dtype = out_dtype
        o.check = check
        OPS[o.name] = o
        fn = _generate(o, out=out)
        if function:
            table = TORCH if namespace is None else NAMESPACES.setdefault(namespace, {})
            for n in (o.name,) + tuple(aliases):
                table[n] = fn
        if method:
            for n in (o.name,) + tuple(aliases):
                METHODS[n] = fn
        if inplace:
            METHODS[o.name + "_"] = _generate(o, inplace=True)
        if dunder:
            METHODS["__%s__" % dunder] = fn
            if rdunder:
                METHODS["__r%s__" % dunder] = _reflected(fn)
            if inplace:
                METHODS["__i%s__" % dunder] = METHODS[o.name + "_"]
        return fn
    return declare


def _reflected(fn):
    def reflected(self, other):
        # `2 - x`: the number takes the left slot; dispatch promotes it as torch does
        # `t.__radd__(u)` called directly with a tensor computes u + t, as torch's does
        if not isinstance(other, (int, float, complex, bool, np.number)) and \
                type(other).__name__ != "Tensor" and not hasattr(other, "_value"):
            return NotImplemented
        return fn(other, self)
    return reflected


def _generate(o, out=True, inplace=False):
    """A Python function with the op's exact signature that forwards to dispatch."""
    params = list(o.params)
    if inplace:
        params[0] = params[0].replace(name="self")
    parts, star_done, env = [], False, {"_op": o, "_d": dispatch, "_i": dispatch_inplace}
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind is p.VAR_POSITIONAL:
            parts.append("*" + p.name)
            star_done = True
            continue
        if p.default is p.empty:
            parts.append(p.name)
        else:
            env["_default_" + p.name] = p.default
            parts.append("%s=_default_%s" % (p.name, p.name))
    if out and not inplace:
        if not star_done:
            parts.append("*")
        parts.append("out=None")
    names = [p.name for p in params]
    tensor_names = [names[[q.name for q in o.params].index(n)] for n in o.tensor_params + o.list_params]
    static = [names[[q.name for q in o.params].index(n)] for n in o.static_params]
    targs = "(%s)" % "".join(n + ", " for n in tensor_names)
    sargs = "(%s)" % "".join(n + ", " for n in static)
    if inplace:
        body = "return _i(_op, %s, %s)" % (targs, sargs)
    else:
        body = "return _d(_op, %s, %s, %s)" % (targs, sargs, "out" if out else "None")
    fname = o.name + ("_" if inplace else "")
    src = "def %s(%s):\n    %s\n" % (fname, ", ".join(parts), body)
    exec(src, env)
    fn = env[fname]
    fn.__doc__ = o.impl.__doc__
    fn.__qualname__ = fname
    fn._op = o
    return fn


# -- dispatch ---------------------------------------------------------------------------------

class _Entry:
    """One compiled form of an op: its pure function, the jitted forward, jitted backwards."""
    __slots__ = ("fn", "fwd", "bwd")

    def __init__(self, fn):
        self.fn = fn
        self.fwd = jax.jit(fn)
        self.bwd = {}


def _number_kind(x):
    return type(x) in (int, float, bool, complex)


def _freeze(x):
    """Lists in static arguments (`flip(x, [0])`) become tuples, so they can key the jit cache."""
    if isinstance(x, list):
        return tuple(_freeze(v) for v in x)
    if type(x) is tuple and any(isinstance(v, (list, tuple)) for v in x):
        return tuple(_freeze(v) for v in x)
    return x


def dispatch(o, targs, sargs, out=None):
    # (module-level imports on this path: a function-level import costs about a microsecond a call)
    if any(isinstance(a, (list, tuple)) for a in sargs):
        sargs = _freeze(sargs)
    if o.check is not None:
        o.check(**dict(zip(o.tensor_params + o.list_params + o.static_params, tuple(targs) + tuple(sargs))))
    result, inputs, entry, arrays = _forward(o, targs, sargs)
    outputs = _wrap(o, result, inputs, sargs, entry)
    if _graph.should_record(o, inputs):
        # a node function marked `static` also sees the static arguments (SumBackward1 when dim is given)
        _graph.record(o, entry, arrays, inputs, outputs,
                      name=o.node(arrays, inputs, sargs) if getattr(o.node, "static", False) else None)
    if o.returns is not None:
        outputs = o.returns(*outputs)
    elif len(outputs) == 1 and not isinstance(result, (tuple, list)):
        outputs = outputs[0]
    if out is not None:
        return _write_out(o, outputs, out)
    return outputs


_COMPUTE_DTYPES = {}
_UNSEEN = object()


def _forward(o, targs, sargs):
    """Runs the op on the values of its arguments. Returns (raw result, input tensors, entry, arrays)."""
    inputs = []           # (slot, Tensor) for autograd and devices
    arrays = []           # what the jitted function receives
    dims, zero_dims, numbers = [], [], []
    number_slots = []
    promoted = o.promoted
    for i, a in enumerate(targs):
        if isinstance(a, Tensor):
            inputs.append((i, a))
            arrays.append(a._value())
            if promoted[i]:
                (dims if a._shape else zero_dims).append(a.dtype)
        elif a is None:
            arrays.append(None)
        elif _number_kind(a) or isinstance(a, np.number):
            if isinstance(a, np.number):
                a = a.item()
            number_slots.append((i, type(a), a))
            arrays.append(None)
            if promoted[i]:
                numbers.append(a)
        elif i >= len(o.tensor_params):
            # a list parameter (cat's tensors)
            if isinstance(a, Tensor) or not isinstance(a, (list, tuple)):
                raise TypeError("%s(): argument '%s' must be tuple of Tensors, not %s"
                                % (o.name, o.list_params[i - len(o.tensor_params)], type(a).__name__))
            vals = []
            for t in a:
                if not isinstance(t, Tensor):
                    raise TypeError("expected Tensor as element %d in argument 0, but got %s"
                                    % (len(vals), type(t).__name__))
                inputs.append((i, t))
                vals.append(t._value())
                (dims if t._shape else zero_dims).append(t.dtype)
            arrays.append(tuple(vals))
        else:
            raise TypeError("%s(): argument '%s' (position %d) must be Tensor, not %s"
                            % (o.name, o.tensor_params[i], i + 1, type(a).__name__))
    if not inputs and number_slots and not o.list_params:
        # torch.add(2, 3): some argument must be a tensor
        raise TypeError("%s(): argument '%s' (position 1) must be Tensor, not %s"
                        % (o.name, o.tensor_params[0], number_slots[0][1].__name__))
    if len(inputs) > 1 and _dev.accelerator_used:
        _same_device(inputs, arrays)
    if not (dims or zero_dims or numbers):
        compute = None
    elif o.promote.__class__ is _STATIC_RULE:
        # a rule that depends on static arguments too (div's rounding_mode, sum's dtype)
        compute = o.promote(dims, zero_dims, numbers, dict(zip(o.static_params, sargs)))
    else:
        # a rule depends only on the dtypes, the number types and the default dtype: memoised
        key = (o.promote, tuple(dims), tuple(zero_dims), tuple(map(type, numbers)), D._default_float)
        compute = _COMPUTE_DTYPES.get(key, _UNSEEN)
        if compute is _UNSEEN:
            compute = _COMPUTE_DTYPES[key] = o.promote(dims, zero_dims, numbers)
    if compute is D.complex32:
        raise D.unsupported(compute)
    static_numbers = ()
    if number_slots:
        if not o.dynamic_numbers:
            static_numbers = tuple(number_slots)
            if static_numbers not in o.numbers_seen:
                o.numbers_seen.add(static_numbers)
                if len(o.numbers_seen) > _STATIC_NUMBER_LIMIT:
                    o.dynamic_numbers = True
                    static_numbers = ()
        if not static_numbers:
            for i, _, v in number_slots:
                arrays[i] = np.asarray(v, dtype=(compute or D.scalar_dtype(v)).np)
    casts = None
    if compute is not None:
        casts = tuple(compute.np if p else None for p in promoted)
    key = (sargs, static_numbers, casts)
    try:
        entry = o.cache.get(key)
    except TypeError:
        raise TypeError("%s(): unhashable argument in %r" % (o.name, sargs)) from None
    if entry is None:
        entry = o.cache[key] = _Entry(_build(o, sargs, static_numbers, casts))
    try:
        result = entry.fwd(*arrays)
    except (TypeError, ValueError) as e:
        raise _user_error(o, targs, sargs, e) from None
    return result, inputs, entry, arrays


def _same_device(inputs, arrays):
    """torch's check that an op's tensors share a device; a 0-dim CPU tensor may join an accelerator's
    (torch's CPU scalars), and is moved there. Returns that common device."""
    common = next((t._device for _, t in inputs if t._device is not _dev.CPU), _dev.CPU)
    for slot, t in inputs:
        if t._device is common:
            continue
        if t._device is _dev.CPU and not t._shape and type(arrays[slot]) is not tuple:
            arrays[slot] = jax.device_put(arrays[slot], _dev.jax_device(common))
            continue
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           "%s and %s!" % (common, t._device))
    return common


def _build(o, sargs, static_numbers, casts):
    static = dict(zip(o.static_params, sargs))
    slots = {n: i for i, n in enumerate(o.tensor_params + o.list_params)}
    impl = o.impl
    numbers = {i: v for i, _, v in static_numbers}

    def fn(*arrays):
        args = list(arrays)
        for i, v in numbers.items():
            args[i] = v if casts is None else jnp.asarray(v, dtype=casts[i] or None)
        if casts is not None:
            for i, c in enumerate(casts):
                a = args[i]
                if c is None or a is None:
                    continue
                if isinstance(a, tuple):
                    args[i] = tuple(x.astype(c) if x.dtype != c else x for x in a)
                elif a.dtype != c:
                    args[i] = a.astype(c)
        positional, keywords = [], {}
        for p in o.params:
            value = args[slots[p.name]] if p.name in slots else static[p.name]
            if p.kind is p.VAR_POSITIONAL:
                positional.extend(value)
            elif p.kind is p.KEYWORD_ONLY:
                keywords[p.name] = value
            else:
                positional.append(value)
        return impl(*positional, **keywords)
    return fn


def _user_error(o, targs, sargs, e):
    """A JAX error while tracing an op, restated in the user's terms."""
    from .._tensor import Tensor
    def show(a):
        if isinstance(a, Tensor):
            return "x".join(map(str, a.shape)) or "[]"
        if isinstance(a, (list, tuple)):   # a list parameter: never repr its tensors (they may be traced)
            return "[%s]" % ", ".join(show(x) for x in a)
        return repr(a)
    shapes = ", ".join(show(a) for a in targs)
    if isinstance(e, (RuntimeError, IndexError)):
        return e
    msg = str(e).split("\n")[0]
    return RuntimeError("%s(): %s (arguments: %s)" % (o.name, msg, shapes))


def _wrap(o, result, inputs, sargs, entry):
    device = inputs[0][1]._device if inputs else None
    if device is _dev.CPU and len(inputs) > 1 and _dev.accelerator_used:
        device = next((t._device for _, t in inputs if t._device is not _dev.CPU), device)
    results = result if isinstance(result, (tuple, list)) else (result,)
    outs = []
    for r in results:
        outs.append(Tensor._from_value(r, device=device))
    if o.view is not None and inputs:
        src = inputs[0][1]
        for i, t in enumerate(outs):
            t._make_view_of(src, o, sargs, i, entry)
    return outs


def _write_out(o, result, out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        out._assign(result)
        return out
    if isinstance(result, tuple) and isinstance(out, (tuple, list)) and len(out) == len(result):
        for dst, src in zip(out, result):
            dst._assign(src)
        return o.returns(*out) if o.returns is not None else tuple(out)
    raise TypeError("%s(): argument 'out' must be Tensor, not %s" % (o.name, type(out).__name__))


def dispatch_inplace(o, targs, sargs):
    """`t.op_(...)`: compute out of place, check the dtype can be written back, write into t."""
    self = targs[0]
    result = dispatch(o, targs, sargs)
    if not D.can_cast(result.dtype, self.dtype):
        raise RuntimeError("result type %s can't be cast to the desired output type %s"
                           % (result.dtype._legacy, self.dtype._legacy))
    if result._shape != self._shape:
        raise RuntimeError("output with shape %s doesn't match the broadcast shape %s"
                           % (list(self._shape), list(result._shape)))
    self._inplace_update(result)
    return self


_function_cache = {}


def apply_function(fn, tensors, node, key=None):
    """Run a pure JAX function on tensors as one differentiable op named `node`.

    For machinery that is not a table op (a backward run with create_graph, a write through a
    view). With `key`, the compiled function is cached under it; without, it is compiled per call.
    """
    from .._tensor import Tensor
    from ..autograd import graph
    entry = _function_cache.get(key) if key is not None else None
    if entry is None:
        entry = _Entry(fn)
        if key is not None:
            _function_cache[key] = entry
    arrays = [t._value() for t in tensors]
    result = entry.fwd(*arrays)
    device = tensors[0]._device if tensors else None
    outs = [Tensor._from_value(r, device=device)
            for r in (result if isinstance(result, (tuple, list)) else (result,))]
    inputs = list(enumerate(tensors))
    if graph.should_record(None, inputs):
        graph.record(None, entry, arrays, inputs, outs, name=node)
    return outs
