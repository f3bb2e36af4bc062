"""The backward pass: a dependency-ordered walk of the tape (see NOTE [The tape] in graph.py).

Order is torch's: among the nodes whose gradients are complete, the most recently created runs
first, and a leaf's AccumulateGrad runs as soon as it is ready. Gradients travel as jax values,
or as Tensors with a history of their own when create_graph=True. Fan-in sums and accumulation
into .grad use one cached jitted add rather than eager jax ops. A plain backward whose graph
structure keeps repeating (a training loop) runs as one compiled program instead of this walk
(NOTE [Fused backward] in _fused.py).
"""
import heapq

import jax
import jax.numpy as jnp

from . import anomaly_mode
from ._fused import fused_backward, _wrap_leaf_grad
from .graph import AccumulateGrad, accumulator
from .grad_mode import set_grad_enabled


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


@jax.jit
def _add(a, b):
    return a + b


@jax.jit
def _accumulate_add(acc, g):
    return acc + g.astype(acc.dtype)


def _sum(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, jax.Array) and isinstance(b, jax.Array) and a.dtype == b.dtype:
        return _add(a, b)
    return a + b


def _root_grads(outputs, grads, create_graph):
    from .._tensor import Tensor
    from ..ops import creation
    result = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError("backward(): argument 'tensors' must contain Tensors, not %s"
                            % type(out).__name__)
        g = grads[i] if grads is not None and i < len(grads) else None
        if not out._requires_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have a "
                               "grad_fn" % i)
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but "
                                   "got " + str(out.dtype))
            if not create_graph:
                result.append(_ones(out))
                continue
            g = creation.ones_like(out)
        elif not isinstance(g, Tensor):
            raise TypeError("gradients can be either Tensors or None, but got %s" % type(g).__name__)
        elif g._shape != out._shape:
            raise RuntimeError("Mismatch in shape: grad_output[%d] has a shape of %s and output[%d] "
                               "has a shape of %s." % (i, g.shape, i, out.shape))
        elif out.dtype.is_complex != g.dtype.is_complex:
            raise RuntimeError("For complex Tensors, both grad_output and output are required to have "
                               "the same dtype. Mismatch in dtype: grad_output[%d] has a dtype of %s and "
                               "output[%d] has a dtype of %s." % (i, g.dtype, i, out.dtype))
        if create_graph:
            result.append(g if g.dtype is out.dtype else g.to(out.dtype))
        else:
            v = g._value()
            result.append(v if v.dtype == out.dtype.np else v.astype(out.dtype.np))
    return result


_ONES = {}


def _ones(out):
    """The implicit gradient of a scalar output: one cached (immutable) jax array per kind."""
    key = (out._shape, out.dtype, out._device)
    v = _ONES.get(key)
    if v is None:
        from ..ops import creation
        v = _ONES[key] = creation.ones_like(out)._value()
    return v


def _wrap(value, like=None):
    from .._tensor import Tensor
    return Tensor._from_value(value, device=like._device if like is not None else None)


def _as_grad(value, create_graph, like=None):
    """A gradient as the user sees it: a Tensor."""
    if value is None or create_graph:
        return value
    return _wrap(value, like)


def _from_user(value, create_graph, what, like_value):
    """A gradient a hook returned, back into the engine's representation."""
    from .._tensor import Tensor
    if not isinstance(value, Tensor):
        raise TypeError("%s must return None or a Tensor, got %s" % (what, type(value).__name__))
    like_shape = None if like_value is None else (
        like_value._shape if isinstance(like_value, Tensor) else tuple(like_value.shape))
    if like_shape is not None and value._shape != like_shape:
        raise RuntimeError("hook '%s' has changed the size of value" % what)
    return value if create_graph else value._value()


_runs = []    # (run token, callbacks) of the backward calls in progress, innermost last


def current_run():
    return _runs[-1][0] if _runs else None


def queue_callback(fn):
    """fn() when the current backward call finishes (Variable._execution_engine.queue_callback)."""
    if not _runs:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _runs[-1][1].append(fn)


def run(outputs, grad_outputs, retain_graph, create_graph, capture=None, accumulate=True):
    """Run backward from `outputs`. With `capture` (tensors), return their gradients; `accumulate`
    says whether leaves' .grad receive theirs (backward) or not (autograd.grad)."""
    token = (object(), [])
    _runs.append(token)
    try:
        result = _run(outputs, grad_outputs, retain_graph, create_graph, capture, accumulate)
    finally:
        _runs.pop()
    for fn in token[1]:
        fn()
    return result


def _run(outputs, grad_outputs, retain_graph, create_graph, capture, accumulate):
    from .. import _tensor
    if _tensor._recorder is not None:   # jtorch.compile wants to know that a step ran backward
        _tensor._recorder.ran_backward = True
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_outputs, create_graph)
    buffers = {}
    roots = []
    for out, g in zip(outputs, grads):
        if out._gver is not None:
            out._refresh_grad_fn()
        node = out._grad_fn if out._grad_fn is not None else accumulator(out)
        nr = out._output_nr if out._grad_fn is not None else 0
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._nout
            roots.append(node)
        buf[nr] = _sum(buf[nr], g)
    if capture is None and accumulate and not create_graph and not anomaly_mode._enabled and \
            _tensor._recorder is None and fused_backward(roots, buffers, retain_graph):
        return None
    deps = _dependencies(roots)
    targets = None
    captured = None
    needed = None
    if capture is not None:
        targets = {}
        for i, t in enumerate(capture):
            if t._gver is not None:
                t._refresh_grad_fn()
            key = (t._grad_fn, t._output_nr) if t._grad_fn is not None else (accumulator(t), 0)
            targets.setdefault(key, []).append(i)
        captured = [None] * len(capture)
        needed = _needed(roots, {n for n, _ in targets})
    ready = [(-n._seq, n) for n in roots if n not in deps]
    heapq.heapify(ready)
    check_nan = anomaly_mode._enabled and anomaly_mode._check_nan
    with set_grad_enabled(create_graph):
        while ready:
            node = heapq.heappop(ready)[1]
            cts = buffers.pop(node, None) or [None] * node._nout
            if needed is not None and node not in needed:
                continue    # autograd.grad: nothing it asked for lies below this node
            if node._x is not None:
                cts = _pre_hooks(node, cts, create_graph)
            if targets is not None:
                for nr in range(len(cts)):
                    idx = targets.get((node, nr))
                    if idx is not None and cts[nr] is not None:
                        for i in idx:
                            captured[i] = cts[nr]
            if node.__class__ is AccumulateGrad:
                if accumulate and cts[0] is not None:
                    _accumulate(node.variable, cts[0], create_graph)
                continue
            if any(c is not None for c in cts):
                if anomaly_mode._enabled:
                    grads_in = _apply_anomalous(node, cts, create_graph, check_nan)
                else:
                    grads_in = node._apply(cts, create_graph)
            else:
                grads_in = [None] * len(node._diff)
            if not retain_graph:
                node._free()
            x = node._x
            if x is not None and x.hooks:
                grads_in = _post_hooks(node, grads_in, cts, create_graph)
            nexts = node.next_functions
            for (_, ei), g in zip(node._diff, grads_in):
                if g is None:
                    continue
                nxt, nr = nexts[ei]
                if nxt is None:
                    continue
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt._nout
                buf[nr] = g if buf[nr] is None else _sum(buf[nr], g)
            for nxt, _ in nexts:
                if nxt is None:
                    continue
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    heapq.heappush(ready, (-nxt._seq, nxt))
    if capture is None:
        return None
    return [None if c is None else _as_grad(c, create_graph, capture[i]) for i, c in enumerate(captured)]


def _dependencies(roots):
    """How many edges point at each node reachable from the roots."""
    deps, stack = {}, list(roots)
    seen = set(roots)
    while stack:
        n = stack.pop()
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps


def _needed(roots, target_nodes):
    """Nodes from which a target can be reached: the only ones autograd.grad must run."""
    # iterative post-order over the graph
    memo = {}
    for r in roots:
        stack = [(r, False)]
        while stack:
            n, done = stack.pop()
            if done:
                ok = n in target_nodes
                for nxt, _ in n.next_functions:
                    if nxt is not None and memo.get(nxt):
                        ok = True
                memo[n] = ok
                continue
            if n in memo:
                continue
            memo[n] = False
            stack.append((n, True))
            for nxt, _ in n.next_functions:
                if nxt is not None and nxt not in memo:
                    stack.append((nxt, False))
    return {n for n, ok in memo.items() if ok}


def _apply_anomalous(node, cts, create_graph, check_nan):
    try:
        grads_in = node._apply(cts, create_graph)
    except Exception:
        anomaly_mode.forward_trace_warning(node)
        raise
    if check_nan:
        for i, g in enumerate(grads_in):
            v = g._value() if create_graph and g is not None else g
            if v is not None and bool(jnp.isnan(v).any()):
                anomaly_mode.forward_trace_warning(node)
                raise RuntimeError("Function '%s' returned nan values in its %dth output."
                                   % (node.name(), i))
    return grads_in


def _pre_hooks(node, cts, create_graph):
    """Tensor hooks, then retain_grad, then Node pre-hooks: torch's order."""
    x = node._x
    if not (x.tensor_pre_hooks or x.retained or x.pre_hooks):
        return cts
    cts = list(cts)
    like = node.variable if node.__class__ is AccumulateGrad else None
    for nr, hook in list(x.tensor_pre_hooks):
        if cts[nr] is None:
            continue
        new = hook(_as_grad(cts[nr], create_graph, like))
        if new is not None:
            cts[nr] = _from_user(new, create_graph, "hook", cts[nr])
    for nr, ref in x.retained:
        t = ref()
        if t is not None and cts[nr] is not None:
            g = _as_grad(cts[nr], create_graph, t)
            if t._grad is None:
                t._grad = g if not create_graph else g.clone()
            else:
                t._grad = t._grad + g
    if x.pre_hooks:
        for hook in list(x.pre_hooks):
            res = hook(tuple(_as_grad(c, create_graph) for c in cts))
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(cts):
                    raise RuntimeError("Prehook returned an invalid number of grads, got %d, but "
                                       "expected %d" % (len(res), len(cts)))
                cts = [None if r is None else _from_user(r, create_graph, "prehook", c)
                       for r, c in zip(res, cts)]
    return cts


def _post_hooks(node, grads_in, cts, create_graph):
    """Node.register_hook: fn(grad_inputs, grad_outputs), one grad_input per next_functions edge."""
    n = len(node.next_functions)
    full = [None] * n
    for (_, ei), g in zip(node._diff, grads_in):
        full[ei] = g
    for hook in list(node._x.hooks):
        res = hook(tuple(_as_grad(g, create_graph) for g in full),
                   tuple(_as_grad(c, create_graph) for c in cts))
        if res is not None:
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != n:
                raise RuntimeError("hook returned an invalid number of grads, got %d, but expected %d"
                                   % (len(res), n))
            full = [None if r is None else _from_user(r, create_graph, "hook", f)
                    for r, f in zip(res, full)]
    return [full[ei] for _, ei in node._diff]


def _accumulate(leaf, g, create_graph):
    """AccumulateGrad: the first gradient becomes .grad, later ones are added into it in place
    (optimizers hold on to .grad), or out of place with create_graph, as torch does."""
    if not create_graph:
        grad = leaf._grad
        if grad is None:
            if g.dtype != leaf.dtype.np:
                g = g.astype(leaf.dtype.np)
            leaf._grad = _wrap_leaf_grad(g, leaf)
        else:
            grad._write(_accumulate_add(grad._value(), g))
    else:
        if g.dtype is not leaf.dtype:
            g = g.to(leaf.dtype)
        leaf._grad = g if leaf._grad is None else leaf._grad + g
    hooks = leaf._hooks
    if hooks:
        for hook in list(hooks):
            hook(leaf)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """torch.autograd.backward: accumulate d(tensors)/d(leaves) into the leaves' .grad."""
    from .._tensor import Tensor
    if grad_variables is not None:
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError("got %d tensors and %d gradients" % (len(tensors), len(grad_tensors)))
    if inputs is not None:
        inputs = _as_tuple(inputs) if not isinstance(inputs, Tensor) else (inputs,)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        for t in inputs:
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
        grads = run(tensors, grad_tensors, retain_graph, create_graph, capture=inputs, accumulate=False)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g if create_graph else g._value(), create_graph)
        return
    run(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs, as a tuple."""
    from .._tensor import Tensor
    from ..ops import creation
    outputs = _as_tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if not outputs:
        raise RuntimeError("grad requires non-empty inputs.")
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError("grad(): argument 'inputs' must be tuple of Tensors, not %s" % type(t).__name__)
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grad_outputs = _as_tuple(grad_outputs)
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError("grad requires grad_outputs to be the same length as outputs: got %d and %d"
                           % (len(grad_outputs), len(outputs)))
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    grads = run(outputs, grad_outputs, retain_graph, create_graph, capture=inputs, accumulate=False)
    for i, g in enumerate(grads):
        if g is None:
            if materialize_grads:
                grads[i] = creation.zeros_like(inputs[i])
            elif not allow_unused:
                raise RuntimeError("The differentiated Tensor at index %d appears to not have been used "
                                   "in the graph. Set allow_unused=True if this is the desired behavior." % i)
    return tuple(grads)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """is_grads_batched=True: one backward per slice of the leading dimension of grad_outputs,
    stacked (torch vmaps this; the results are the same)."""
    from ..ops import creation
    import jtorch
    n = grad_outputs[0].shape[0]
    rows = []
    for b in range(n):
        rows.append(grad(outputs, inputs, [g[b] for g in grad_outputs], retain_graph=True,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    out = []
    for i in range(len(inputs)):
        col = [r[i] for r in rows]
        if all(c is None for c in col):
            out.append(None)
        else:
            col = [c if c is not None else creation.zeros_like(inputs[i]) for c in col]
            out.append(jtorch.stack(col))
    return tuple(out)
