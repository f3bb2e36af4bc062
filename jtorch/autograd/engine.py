"""The backward pass: a dependency-ordered walk of the tape (see NOTE [The tape] in graph.py).

Gradients travel as jax values, or as Tensors with a history of their own when create_graph=True.
"""
from .. import _dtype as D
from .graph import AccumulateGrad
from .grad_mode import set_grad_enabled


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(outputs, grads, create_graph):
    from .._tensor import Tensor
    from ..ops import creation
    result = []
    for i, out in enumerate(outputs):
        g = grads[i] if grads is not None and i < len(grads) else None
        if g is None:
            if not out._requires_grad:
                raise RuntimeError("element %d of tensors does not require grad and does not have a "
                                   "grad_fn" % i)
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but "
                                   "got " + repr(out.dtype))
            g = creation.ones_like(out)
        elif not isinstance(g, Tensor):
            g = creation.tensor(g, dtype=out.dtype)
        elif g._shape != out._shape:
            raise RuntimeError("Mismatch in shape: grad_output[%d] has a shape of %s and output[%d] "
                               "has a shape of %s." % (i, g.shape, i, out.shape))
        if not out._requires_grad:
            raise RuntimeError("element %d of tensors does not require grad and does not have a "
                               "grad_fn" % i)
        result.append(g if create_graph else g._value())
    return result


def _collect(roots):
    """Every node reachable from the roots, and how many edges point at each."""
    deps, seen, stack = {}, set(), list(roots)
    for r in roots:
        seen.add(r)
    while stack:
        n = stack.pop()
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps


def _wrap_grad(value, create_graph, like):
    from .._tensor import Tensor
    if create_graph:
        return value
    return Tensor._from_value(value, device=like._device if like is not None else None)


def run(outputs, grad_outputs, retain_graph, create_graph, capture=None, accumulate=True):
    """Run backward from `outputs`. With `capture` (tensors), return their gradients instead of
    (or as well as, when accumulate) accumulating into leaves' .grad."""
    from .. import _tensor
    if _tensor._recorder is not None:   # jtorch.compile wants to know that a step ran backward
        _tensor._recorder.ran_backward = True
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_outputs, create_graph)
    buffers = {}
    roots = []
    for out, g in zip(outputs, grads):
        node = out._grad_fn if out._grad_fn is not None else _leaf_node(out)
        nr = out._output_nr if out._grad_fn is not None else 0
        buf = buffers.setdefault(node, [None] * node._nout)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        if node not in roots:
            roots.append(node)
    deps = _collect(roots)
    targets = {}
    if capture is not None:
        for i, t in enumerate(capture):
            if t._grad_fn is None:
                targets[(_leaf_node(t), 0)] = i
            else:
                targets[(t._grad_fn, t._output_nr)] = i
        needed = _needed(roots, {n for n, _ in targets})
    else:
        needed = None
    captured = [None] * (len(capture) if capture is not None else 0)
    ready = [r for r in roots if deps.get(r, 0) == 0]
    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            cts = buffers.pop(node, None) or [None] * node._nout
            cts = _run_pre_hooks(node, cts, create_graph)
            if capture is not None:
                for nr in range(len(cts)):
                    i = targets.get((node, nr))
                    if i is not None and cts[nr] is not None:
                        captured[i] = cts[nr]
            if isinstance(node, AccumulateGrad):
                if accumulate and cts[0] is not None:
                    _accumulate(node.variable, cts[0], create_graph)
                continue
            if needed is not None and node not in needed:
                continue
            _retain(node, cts, create_graph)
            if all(c is None for c in cts):
                grads_in = [None] * len(node._diff)
            else:
                grads_in = node._apply(cts, create_graph)
            if not retain_graph:
                node._free()
            if node._hooks:
                for h in node._hooks:
                    h(tuple(_wrap_grad(g, create_graph, None) for g in grads_in),
                      tuple(_wrap_grad(c, create_graph, None) if c is not None else None for c in cts))
            for (pos, edge_index), g in zip(node._diff, grads_in):
                nxt, nr = node.next_functions[edge_index]
                if nxt is None:
                    continue
                buf = buffers.setdefault(nxt, [None] * nxt._nout)
                if g is not None:
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
            for nxt, _ in node.next_functions:
                if nxt is None:
                    continue
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
    if capture is None:
        return None
    return [None if c is None else (c if create_graph else _wrap_grad(c, False, capture[i]))
            for i, c in enumerate(captured)]


def _leaf_node(t):
    from .graph import accumulator
    if not t._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    return accumulator(t)


def _needed(roots, target_nodes):
    """Nodes from which a target can be reached: the only ones autograd.grad must run."""
    memo = {}

    def reach(n):
        if n in memo:
            return memo[n]
        memo[n] = False
        r = n in target_nodes
        for nxt, _ in n.next_functions:
            if nxt is not None and reach(nxt):
                r = True
        memo[n] = r
        return r
    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100000))
    try:
        for r in roots:
            reach(r)
    finally:
        sys.setrecursionlimit(old)
    return {n for n, ok in memo.items() if ok}


def _run_pre_hooks(node, cts, create_graph):
    if not node._pre_hooks:
        return cts
    cts = list(cts)
    for nr, hook in node._pre_hooks:
        if cts[nr] is None:
            continue
        like = node.variable if isinstance(node, AccumulateGrad) else None
        new = hook(_wrap_grad(cts[nr], create_graph, like))
        if new is not None:
            cts[nr] = new if create_graph else new._value()
    return cts


def _retain(node, cts, create_graph):
    if not node._retained:
        return
    for nr, ref in node._retained:
        t = ref()
        if t is not None and cts[nr] is not None:
            g = _wrap_grad(cts[nr], create_graph, t)
            t._grad = g if t._grad is None else t._grad + g


def _accumulate(leaf, g, create_graph):
    from .._tensor import Tensor
    if not create_graph:
        value = g if g.dtype == leaf.dtype.np else g.astype(leaf.dtype.np)
        if leaf._grad is None:
            leaf._grad = Tensor._from_value(value, dtype=leaf.dtype, device=leaf._device)
        else:
            # torch adds into the existing .grad in place (optimizers hold on to it)
            leaf._grad._write(leaf._grad._value() + value)
    else:
        if leaf._grad is None:
            leaf._grad = g
        else:
            leaf._grad = leaf._grad + g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        grads = run(tensors, grad_tensors, retain_graph, create_graph, capture=inputs, accumulate=False)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g if create_graph else g._value(), create_graph)
        return
    run(tensors, grad_tensors, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    from ..ops import creation
    outputs = _as_tuple(outputs)
    single = not isinstance(inputs, (tuple, list))
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = run(outputs, _as_tuple(grad_outputs), retain_graph, create_graph, capture=inputs,
                accumulate=False)
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, g in enumerate(grads):
        if g is None:
            if materialize_grads:
                grads[i] = creation.zeros_like(inputs[i])
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                                   "the graph. Set allow_unused=True if this is the desired behavior.")
    return tuple(grads)
