"""gradcheck / gradgradcheck: compare autograd's Jacobian with central finite differences.

Differs from torch: the slow (full Jacobian) algorithm is used even when fast_mode=True (the
verdict is the same; only the cost differs), complex inputs are compared as torch's slow mode
does for real ones only, and the batched/forward-AD checks are not run.
"""
import warnings

import jax.numpy as jnp
import numpy as np

from .. import _tensor as _T
from . import engine


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when the check fails."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if isinstance(o, _T.Tensor) and o.requires_grad)


def _numerical_jacobian(fn, inputs, diff_idx, outputs, eps):
    """jac[i][j]: (numel(input i), numel(output j)), by central differences (torch's layout)."""
    out_shapes = [o.shape for o in outputs]
    jac = []
    for i in diff_idx:
        x = inputs[i]
        base = np.array(x.detach()._value())
        flat = base.reshape(-1)
        cols = [np.zeros((flat.size, int(np.prod(s, dtype=np.int64))), dtype=base.dtype) for s in out_shapes]
        for k in range(flat.size):
            vals = []
            for sign in (1, -1):
                pert = flat.copy()
                pert[k] = pert[k] + sign * eps
                args = list(inputs)
                args[i] = _T.Tensor._from_value(jnp.asarray(pert.reshape(base.shape)), dtype=x.dtype,
                                               device=x._device).requires_grad_(x.requires_grad)
                outs = [o for o in _as_tuple(fn(*args)) if isinstance(o, _T.Tensor)]
                vals.append([np.array(o.detach()._value(), dtype=np.float64) for o in outs])
            for j in range(len(out_shapes)):
                d = (vals[0][j] - vals[1][j]) / (2 * eps)
                cols[j][k] = d.reshape(-1)
        jac.append(cols)
    return jac


def _analytical_jacobian(inputs, diff_idx, outputs):
    jac = [[np.zeros((inputs[i].numel(), o.numel()), dtype=np.array(inputs[i].detach()._value()).dtype)
            for o in outputs] for i in diff_idx]
    from ..ops import creation
    diff_inputs = [inputs[i] for i in diff_idx]
    for j, o in enumerate(outputs):
        n = o.numel()
        for k in range(n):
            go = np.zeros(n, dtype=o.dtype.np)
            go[k] = 1
            grads = engine.grad(o, diff_inputs, creation.tensor(go.reshape(tuple(o.shape)), dtype=o.dtype),
                                retain_graph=True, allow_unused=True)
            for a, g in enumerate(grads):
                if g is not None:
                    jac[a][j][:, k] = np.array(g.detach()._value()).reshape(-1)
    return jac


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True if the analytical Jacobian of func matches central finite differences (module doc)."""
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, _T.Tensor) and t.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the "
                         "them have requires_grad=True.")
    for i in diff_idx:
        t = inputs[i]
        if t.dtype.name not in ("float64", "complex128"):
            warnings.warn("Input #%d requires gradient and is not a double precision floating point or "
                          "complex. This check will likely fail if all the inputs are not of double "
                          "precision floating point or complex. " % i)
    out = func(*inputs)
    outputs = _differentiable_outputs(out)
    if not outputs:
        # torch: with no differentiable output, the numerical Jacobian must be zero
        all_outs = [o for o in _as_tuple(out) if isinstance(o, _T.Tensor)]
        num = _numerical_jacobian(func, inputs, diff_idx, all_outs, eps)
        for cols in num:
            for c in cols:
                if not np.allclose(c, 0, atol=atol, rtol=rtol):
                    return _fail("Numerical gradient for function expected to be zero", raise_exception)
        return True
    if not check_backward_ad:
        return True
    num = _numerical_jacobian(func, inputs, diff_idx, outputs, eps)
    ana = _analytical_jacobian(inputs, diff_idx, outputs)
    for a, i in enumerate(diff_idx):
        for j in range(len(outputs)):
            n, an = num[a][j], ana[a][j]
            if not np.allclose(an, n, rtol=rtol, atol=atol):
                return _fail("Jacobian mismatch for output %d with respect to input %d,\nnumerical:%s\n"
                             "analytical:%s\n" % (j, i, _fmt(n), _fmt(an)), raise_exception)
    # reentrant check: a second backward must give the same Jacobian
    ana2 = _analytical_jacobian(inputs, diff_idx, outputs)
    for a in range(len(diff_idx)):
        for j in range(len(outputs)):
            if not np.allclose(ana[a][j], ana2[a][j], rtol=0, atol=nondet_tol):
                return _fail("Backward is not reentrant, i.e., running backward with same input and "
                             "grad_output multiple times gives different values, although analytical "
                             "gradient matches numerical gradient.The tolerance for nondeterminism was "
                             "%s." % nondet_tol, raise_exception)
    return True


def _fmt(a):
    from .. import _printing
    try:
        return _printing.tensor_repr(np.asarray(a), str(a.dtype), default_dtype_name="float32")
    except Exception:
        return repr(a)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradient of func: second derivatives against finite differences."""
    from ..ops import creation
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*tupled_inputs))
        rng = np.random.default_rng(0)
        tupled_grad_outputs = tuple(
            creation.tensor(rng.standard_normal(tuple(o.shape)).astype(o.dtype.np), dtype=o.dtype,
                            requires_grad=True) for o in outs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_args_indices = [i for i, x in enumerate(tupled_inputs)
                               if isinstance(x, _T.Tensor) and x.requires_grad]
    diff_grad_output_indices = [i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad]

    def new_func(*args):
        input_args = args[:-num_outputs] if num_outputs else args
        grad_outs = args[-num_outputs:] if num_outputs else ()
        outputs = _differentiable_outputs(func(*input_args))
        input_args = tuple(x for x in input_args if isinstance(x, _T.Tensor) and x.requires_grad)
        grad_inputs = engine.grad(outputs, input_args, grad_outs, create_graph=True, allow_unused=True)
        return tuple(g for g in grad_inputs if g is not None)

    _ = (diff_input_args_indices, diff_grad_output_indices)
    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     fast_mode=fast_mode)
