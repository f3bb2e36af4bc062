"""torch.func over JAX's transformations: functional_call, grad, grad_and_value, vmap, vjp, jvp,
jacrev, jacfwd, hessian.

A jtorch function becomes a JAX function by wrapping the arrays JAX passes in (tracers, under a
transformation) as Tensors and unwrapping the Tensors it returns; JAX then transforms it.
"""
import contextlib
import functools

import jax

from ._tensor import Tensor
from .autograd.grad_mode import no_grad


def _wrap(tree):
    # tracers are jax.Array instances too
    return jax.tree_util.tree_map(lambda a: Tensor._from_value(a) if isinstance(a, jax.Array) else a, tree)


def _unwrap(tree):
    return jax.tree_util.tree_map(lambda t: t._value() if isinstance(t, Tensor) else t, tree,
                                  is_leaf=lambda x: isinstance(x, Tensor))


def _as_arrays(tree):
    return jax.tree_util.tree_map(lambda t: t._value(), tree, is_leaf=lambda x: isinstance(x, Tensor))


def jax_function(fn):
    """fn over Tensors -> the same function over jax arrays (jtorch's own tape stays off)."""
    @functools.wraps(fn)
    def on_arrays(*args, **kwargs):
        with no_grad():
            return _unwrap(fn(*_wrap(args), **_wrap(kwargs)))
    return on_arrays


def _from_arrays(tree, like=None):
    return jax.tree_util.tree_map(lambda a: Tensor._from_value(a), tree)


# -- functional_call ------------------------------------------------------------------------------

@contextlib.contextmanager
def swapped_state(module, tensors):
    """Temporarily make `tensors` ({qualified name: Tensor}) the module's parameters and buffers."""
    saved = []
    try:
        for name, value in tensors.items():
            owner_name, _, attr = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            for table in ("_parameters", "_buffers"):
                entries = owner.__dict__.get(table)
                if entries is not None and attr in entries:
                    saved.append((entries, attr, entries[attr]))
                    entries[attr] = value
                    break
            else:
                raise RuntimeError("Unexpected key(s): '%s'." % name)
        yield
    finally:
        for entries, attr, old in reversed(saved):
            entries[attr] = old


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True,
                    strict=False):
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            merged.update(d)
    else:
        merged = dict(parameter_and_buffer_dicts)
    if strict:
        expected = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing = sorted(expected - set(merged))
        if missing:
            raise RuntimeError("Missing key(s): %s." % ", ".join("'%s'" % k for k in missing))
    if not isinstance(args, tuple):
        args = (args,)
    with swapped_state(module, merged):
        return module(*args, **(kwargs or {}))


# -- transformations ------------------------------------------------------------------------------

def _argnums_tuple(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def grad_and_value(func, argnums=0, has_aux=False):
    def wrapped(*args, **kwargs):
        def scalar(*a):
            out = jax_function(func)(*a, **_as_arrays(kwargs))
            value = out[0] if has_aux else out
            if getattr(value, "ndim", None) != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                                   "got tensor with %d dims. Maybe you wanted to use the vjp or jacrev APIs "
                                   "instead?" % getattr(value, "ndim", 0))
            # jax.grad's aux carries the value back (and, with has_aux, the user's aux beside it)
            return value, ((value, out[1]) if has_aux else value)
        g, value = jax.grad(scalar, argnums=argnums, has_aux=True)(*_as_arrays(args))
        if has_aux:
            value, aux = value
            return _from_arrays(g), (_from_arrays(value), _from_arrays(aux))
        return _from_arrays(g), _from_arrays(value)
    return wrapped


def grad(func, argnums=0, has_aux=False):
    def wrapped(*args, **kwargs):
        g, value = grad_and_value(func, argnums, has_aux)(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapped


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    def wrapped(*args, **kwargs):
        out = jax.vmap(jax_function(func), in_axes=in_dims if isinstance(in_dims, int) else tuple(in_dims),
                       out_axes=out_dims)(*_as_arrays(args), **_as_arrays(kwargs))
        return _from_arrays(out)
    return wrapped


def vjp(func, *primals, has_aux=False):
    out = jax.vjp(jax_function(func), *_as_arrays(primals), has_aux=has_aux)
    if has_aux:
        value, pull, aux = out
    else:
        value, pull = out

    def vjp_fn(*cotangents):
        cts = _as_arrays(cotangents)
        return _from_arrays(pull(cts[0] if len(cts) == 1 else cts))
    if has_aux:
        return _from_arrays(value), vjp_fn, _from_arrays(aux)
    return _from_arrays(value), vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    value, tangent = jax.jvp(jax_function(func), tuple(_as_arrays(primals)), tuple(_as_arrays(tangents)))
    return _from_arrays(value), _from_arrays(tangent)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    def wrapped(*args):
        return _from_arrays(jax.jacrev(jax_function(func), argnums=argnums, has_aux=has_aux)(*_as_arrays(args)))
    return wrapped


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    def wrapped(*args):
        return _from_arrays(jax.jacfwd(jax_function(func), argnums=argnums, has_aux=has_aux)(*_as_arrays(args)))
    return wrapped


def hessian(func, argnums=0):
    def wrapped(*args):
        return _from_arrays(jax.hessian(jax_function(func), argnums=argnums)(*_as_arrays(args)))
    return wrapped
