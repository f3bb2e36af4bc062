"""torch.autograd.functional over jtorch's tape: vjp, jvp, vhp, hvp, jacobian, hessian.

Each product is one or two calls of autograd.grad on a fresh graph:

- vjp(v) = grad(f(x), x, v);
- jvp(v) = J v by the double-backward trick: u = grad(f(x), x, w) is linear in a dummy w that
  requires grad, and grad(u, w, v) = J v;
- vhp(v) = grad(g, x, v) where g = grad(f(x), x, create_graph=True);
- hvp(v) = H v, the same trick applied to g;
- jacobian: one backward per output element (the rows of J), stacked into blocks of shape
  output.shape + input.shape. `vectorize=True` and `strategy="forward-mode"` compute the same rows
  (jtorch has no batched tape); like torch they differ in the checks they make and, for
  forward-mode, in the result's containers (lists) and dtype (the output's);
- hessian: the jacobian of the gradient (built with create_graph=True).

The function runs on fresh leaves: detached copies of the inputs, or with create_graph=True views
of the inputs that require grad (so the results stay differentiable with respect to them). The
results are detached unless create_graph=True. As in torch, only tuples count as sequences of
tensors (a list is refused), and `strict=True` refuses results that do not depend on the inputs.
"""
from .._tensor import Tensor
from . import engine
from .grad_mode import enable_grad

_STRATEGIES = ("forward-mode", "reverse-mode")

# strict mode: what refuses a gradient that is missing (None) or constant, per product
_MISSING = {
    "vjp": "The output of the user-provided function is independent of input %d. This is not allowed "
           "in strict mode.",
    "jvp": "The gradient with respect to the input is independent of entry %d in the grad_outputs "
           "when using the double backward trick to compute forward mode gradients. This is not "
           "allowed in strict mode.",
    "vhp": "The jacobian of the user-provided function is independent of input %d. This is not "
           "allowed in strict mode.",
    "hvp": "The hessian of the user-provided function is independent of entry %d in the "
           "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
           "backward trick to replace forward mode AD.",
}
_JACOBIAN_CONSTANT = ("The jacobian of the user-provided function is independent of input %d. This "
                      "is not allowed in strict mode when create_graph=True.")
_HESSIAN_CONSTANT = ("The hessian of the user-provided function is independent of input %d. This is "
                     "not allowed in strict mode when create_graph=True.")
_CONSTANT = {"vjp": _JACOBIAN_CONSTANT, "jvp": _JACOBIAN_CONSTANT, "vhp": _HESSIAN_CONSTANT,
             "hvp": _HESSIAN_CONSTANT}
_NO_GRAD_OUTPUT = ("Output %d of the user-provided function does not require gradients. The outputs "
                   "must be computed in a differentiable manner from the input when running in strict "
                   "mode.")
_NO_GRAD_INPUT_GRAD = ("The gradient with respect to input %d is independent of the inputs of the "
                       "user-provided function. This is not allowed in strict mode.")
_CONSTANT_GRADIENT = ("While computing the hessian, found that the jacobian of the user-provided "
                      "function with respect to input %d is independent of the input. This is not "
                      "allowed in strict mode. You should ensure that your function is twice "
                      "differentiable and that the jacobian depends on the inputs (this would be "
                      "violated by a linear function for example).")
_V_FOR_ONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a "
                    "single Tensor with a single element.")
_V_FOR_ONE_OUTPUT = ("The vector v can only be None if the user-provided function returns a single "
                     "Tensor with a single element.")


# -- arguments and results ------------------------------------------------------------------------

def _tensor_args(value, what, api):
    """(whether `value` was a tuple, its Tensors as a tuple); anything else is a TypeError."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            culprit = "the value at index %d" % i if was_tuple else "the given " + what
            raise TypeError("The %s given to %s must be either a Tensor or a tuple of Tensors but %s "
                            "has type %s." % (what, api, culprit, type(item)))
    return was_tuple, items


def _leaves(tensors, create_graph, requires_grad):
    """What the function runs on: views that keep the graph to inputs that require grad (with
    create_graph), detached copies otherwise."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(requires_grad) for t in tensors)


def _released(tree, create_graph):
    if isinstance(tree, Tensor):
        return tree if create_graph else tree.detach()
    return type(tree)(_released(item, create_graph) for item in tree)


def _unpacked(items, was_tuple):
    return items if was_tuple else items[0]


def _unpacked_grid(grid, outputs_tuple, inputs_tuple):
    """A jacobian's [output][input] blocks, without the levels the caller did not pass as tuples."""
    if not inputs_tuple:
        grid = tuple(row[0] for row in grid)
    return _unpacked(grid, outputs_tuple)


def _call(func, args, api, strict):
    outputs_tuple, outputs = _tensor_args(func(*args), "outputs of the user-provided function", api)
    if strict:
        _require_grad(outputs, _NO_GRAD_OUTPUT)
    return outputs_tuple, outputs


def _require_grad(tensors, message):
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(_MISSING["vjp"] % i)
        if not t.requires_grad:
            raise RuntimeError(message % i)


def _single_scalar(outputs, outputs_tuple, api):
    if outputs_tuple:
        raise RuntimeError("The function given to %s should return a single Tensor" % api)
    if outputs[0].nelement() != 1:
        raise RuntimeError("The Tensor returned by the function given to %s should contain a single "
                           "element" % api)


def _vector(v, api, like, like_tuple, create_graph, if_missing):
    """v checked against `like` (its count and shapes); None only when `like` is one number."""
    if v is None:
        if len(like) != 1 or like[0].nelement() != 1:
            raise RuntimeError(if_missing)
        return None
    v = _leaves(_tensor_args(v, "v", api)[1], create_graph, False)
    if len(v) != len(like):
        if like_tuple:
            raise RuntimeError("v is a tuple of invalid length: should be %d but got %d."
                               % (len(like), len(v)))
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (given, wanted) in enumerate(zip(v, like)):
        if given.size() != wanted.size():
            entry = "Entry %d in " % i if like_tuple else ""
            raise RuntimeError("%sv has invalid size: should be %s but got %s."
                               % (entry, wanted.size(), given.size()))
    return v


# -- gradients ----------------------------------------------------------------------------------

def _grads(outputs, wrt, seeds=None, create_graph=False, retain_graph=None):
    """autograd.grad of the outputs that require grad (None for every input when none does)."""
    if seeds is None:
        seeds = (None,) * len(outputs)
    live = [(out, seed) for out, seed in zip(outputs, seeds) if out is not None and out.requires_grad]
    if not live:
        return (None,) * len(wrt)
    return engine.grad([out for out, _ in live], wrt, [seed for _, seed in live], allow_unused=True,
                       create_graph=create_graph, retain_graph=retain_graph)


def _completed(grads, like, api, strict, create_graph):
    """Missing gradients become zeros; strict mode refuses them, and constant ones under
    create_graph."""
    from ..ops.creation import zeros_like
    done = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[api] % i)
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(_CONSTANT[api] % i)
        done.append(g)
    return tuple(done)


def _dummies(tensors):
    from ..ops.creation import zeros_like
    return tuple(zeros_like(t).requires_grad_(True) for t in tensors)


# -- products -----------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): v has the shape of the outputs."""
    with enable_grad():
        inputs_tuple, inputs = _tensor_args(inputs, "inputs", "vjp")
        inputs = _leaves(inputs, create_graph, True)
        outputs_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _vector(v, "vjp", outputs, outputs_tuple, create_graph, _V_FOR_ONE_OUTPUT)
        result = _completed(_grads(outputs, inputs, v, create_graph), inputs, "vjp", strict,
                            create_graph)
    return (_unpacked(_released(outputs, create_graph), outputs_tuple),
            _unpacked(_released(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): v has the shape of the inputs."""
    with enable_grad():
        inputs_tuple, inputs = _tensor_args(inputs, "inputs", "jvp")
        inputs = _leaves(inputs, create_graph, True)
        v = _vector(v, "jvp", inputs, inputs_tuple, create_graph, _V_FOR_ONE_INPUT)
        outputs_tuple, outputs = _call(func, inputs, "jvp", strict)
        w = _dummies(outputs)
        u = _grads(outputs, inputs, w, create_graph=True)  # w^T J, linear in w
        if strict:
            _require_grad(u, _NO_GRAD_INPUT_GRAD)
        result = _completed(_grads(u, w, v, create_graph), outputs, "jvp", strict, create_graph)
    return (_unpacked(_released(outputs, create_graph), outputs_tuple),
            _unpacked(_released(result, create_graph), outputs_tuple))


def _gradient_of_scalar(func, inputs, v, api, create_graph, strict):
    """The start of vhp and hvp: (leaves, checked v, the function's output, its gradient)."""
    inputs_tuple, inputs = _tensor_args(inputs, "inputs", api)
    inputs = _leaves(inputs, create_graph, True)
    v = _vector(v, api, inputs, inputs_tuple, create_graph, _V_FOR_ONE_INPUT)
    outputs_tuple, outputs = _call(func, inputs, api, strict)
    _single_scalar(outputs, outputs_tuple, api)
    gradient = _grads(outputs, inputs, create_graph=True)
    if strict:
        _require_grad(gradient, _CONSTANT_GRADIENT)
    return inputs_tuple, inputs, v, outputs[0], gradient


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a function returning one number."""
    with enable_grad():
        inputs_tuple, inputs, v, output, gradient = _gradient_of_scalar(func, inputs, v, "vhp",
                                                                        create_graph, strict)
        result = _completed(_grads(gradient, inputs, v, create_graph), inputs, "vhp", strict,
                            create_graph)
    return (_released(output, create_graph),
            _unpacked(_released(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a function returning one number."""
    with enable_grad():
        inputs_tuple, inputs, v, output, gradient = _gradient_of_scalar(func, inputs, v, "hvp",
                                                                        create_graph, strict)
        w = _dummies(inputs)
        u = _grads(gradient, inputs, w, create_graph=True)  # w^T H, linear in w
        result = _completed(_grads(u, w, v, create_graph), inputs, "hvp", strict, create_graph)
    return (_released(output, create_graph),
            _unpacked(_released(result, create_graph), inputs_tuple))


# -- jacobian and hessian ---------------------------------------------------------------------------

def _rows(output, index, inputs, create_graph, strict):
    """The rows of d output / d inputs, one list per input, one row per element of `output`."""
    from ..ops.creation import zeros_like
    rows = [[] for _ in inputs]
    flat = output.reshape(-1)
    for j in range(flat.nelement()):
        grads = _grads((flat[j],), inputs, create_graph=create_graph, retain_graph=True)
        for k, g in enumerate(grads):
            if g is None:
                if strict:
                    raise RuntimeError("Output %d of the user-provided function is independent of "
                                       "input %d. This is not allowed in strict mode." % (index, k))
                g = zeros_like(inputs[k])
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(_JACOBIAN_CONSTANT % index)  # torch names the output here
            rows[k].append(g)
    return rows


def _jacobian(func, inputs, create_graph, strict, vectorize, strategy, attached=False):
    """jacobian(); `attached` (hessian's forward-over-reverse) keeps the graph of the blocks, as
    torch's forward-mode hessian does."""
    import jtorch
    if strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                             'If your function has more outputs than inputs, "forward-mode" tends to '
                             'be more performant. Otherwise, prefer to use "reverse-mode".')
    forward = strategy == "forward-mode"
    if forward and create_graph:
        raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                  '`strategy="forward-mode"` are not supported together (yet). Please '
                                  'either set `create_graph=False` or `strategy="reverse-mode"`.')
    if forward and strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                           '`strategy="forward-mode"` are not supported together (yet). Please either '
                           'set `strict=False` or `strategy="reverse-mode"`.')
    inputs_tuple, inputs = _tensor_args(inputs, "inputs", "jacobian")
    if forward and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian "
                                  "isonly implemented for `vectorize=True`.")
    if forward:
        for t in inputs:
            if not (t.dtype.is_floating_point or t.dtype.is_complex):
                raise ValueError("Expected primal to be floating point or complex, but got: %s"
                                 % t.dtype)
    with enable_grad():
        inputs = _leaves(inputs, create_graph, True)
        produced = func(*inputs)
        if forward:  # torch's forward-mode path names its outputs so
            outputs_tuple, outputs = _tensor_args(produced, "outputs", None)
        else:
            outputs_tuple, outputs = _tensor_args(produced, "outputs of the user-provided function",
                                                  "jacobian")
            if strict:
                _require_grad(outputs, _NO_GRAD_OUTPUT)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` "
                               "are not supported together. Please either set `strict=False` or "
                               "`vectorize=False`.")
        if vectorize and not forward and sum(out.nelement() for out in outputs) == 0:
            raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
        grid = []
        for i, out in enumerate(outputs):
            rows = _rows(out, i, inputs, create_graph or attached, strict)
            blocks = []
            for inp, inp_rows in zip(inputs, rows):
                shape = tuple(out.shape) + tuple(inp.shape)
                if inp_rows or not vectorize:  # stack refuses an output without elements
                    block = jtorch.stack(inp_rows).view(shape)
                else:
                    block = jtorch.zeros(shape, dtype=inp.dtype)
                blocks.append(block.to(out.dtype) if forward else block)
            grid.append(blocks if forward else tuple(blocks))
        grid = grid if forward else tuple(grid)
        grid = _released(grid, create_graph or attached)
    return _unpacked_grid(grid, outputs_tuple, inputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: for each output, a block per input of shape
    output.shape + input.shape."""
    return _jacobian(func, inputs, create_graph, strict, vectorize, strategy)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a function returning one number: the Jacobian of its gradient."""
    inputs_tuple, inputs = _tensor_args(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar(*args):
        outputs_tuple, outputs = _call(func, args, "hessian", strict)
        _single_scalar(outputs, outputs_tuple, "hessian")
        return outputs[0].squeeze()

    def gradient(*args):
        grads = jacobian(scalar, args, create_graph=True)
        if strict:
            _require_grad(grads, _CONSTANT_GRADIENT)
        return grads

    grid = _jacobian(gradient, inputs, create_graph, strict, vectorize, outer_jacobian_strategy,
                     attached=outer_jacobian_strategy == "forward-mode")
    return _unpacked_grid(grid, inputs_tuple, inputs_tuple)
