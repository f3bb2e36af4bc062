"""Functions whose derivative in torch differs from JAX's built-in one, defined with
`jax.custom_jvp` so that eager backward, compiled steps and torch.func all follow torch.

JAX and torch agree on a derivative away from the points where the function is not smooth; at
those points each library picks a subgradient, and at NaN each has its own rule:
- abs: torch's derivative is sign(x), so 0 at x == 0 (JAX: 1) and 0 at NaN (JAX: -1).
- maximum/minimum: torch splits the gradient in half on ties, as JAX does, but when one side is
  NaN both sides receive it (JAX gives it to neither).
- max()/min()/median() over all elements: torch shares the gradient evenly among the elements
  equal to the result, and among the NaNs when the result is NaN (JAX: among none).
- relu and clamp_min: the gradient is the mask of torch's backward (x > 0 or NaN for relu,
  x >= low for clamp_min), never jnp.maximum's half at a tie, and values keep NaN and -0.0.
  Losses with a hinge (margin ranking, hinge embedding, triplet) are clamp_min in torch.
"""
import jax
import jax.numpy as jnp


def sign(x):
    """torch.sign for real numbers: 0 for NaN and for both zeros (jnp.sign keeps NaN and -0.0)."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


@jax.custom_jvp
def _real_abs(x):
    return jnp.abs(x)


@_real_abs.defjvp
def _real_abs_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return jnp.abs(x), sign(x) * dx


def abs(x):  # noqa: A001 - the op's name
    return jnp.abs(x) if jnp.iscomplexobj(x) else _real_abs(x)


def relu(x):
    """torch.relu: NaN and -0.0 pass through; the gradient is 1 where x > 0 or x is NaN."""
    keep = (x > 0) | jnp.isnan(x)
    return jnp.where(keep, x, jax.lax.stop_gradient(jnp.where(x < 0, jnp.zeros_like(x), x)))


def clamp_min(x, low):
    """torch.clamp_min: NaN passes through; the gradient reaches x where x >= low, `low` where x < low."""
    return jnp.where(x < low, low, jnp.where(x >= low, x, jax.lax.stop_gradient(x)))


def clamp_max(x, high):
    """torch.clamp_max: clamp_min's mirror (the gradient reaches x where x <= high)."""
    return jnp.where(x > high, high, jnp.where(x <= high, x, jax.lax.stop_gradient(x)))


def _binary_chooser(choose, loses):
    """maximum/minimum: `loses(a, b)` is where a gives way to b; ties split, NaN reaches both."""
    @jax.custom_jvp
    def f(a, b):
        return choose(a, b)

    @f.defjvp
    def jvp(primals, tangents):
        (a, b), (da, db) = primals, tangents
        out = choose(a, b)
        dtype = out.dtype

        def weight(mine, theirs):
            tie = mine == theirs
            return jnp.where(tie, 0.5, jnp.where(loses(mine, theirs), 0.0, 1.0)).astype(dtype)
        return out, weight(a, b) * da + weight(b, a) * db
    return f


def _propagating(pick_b):
    """torch's CPU maximum/minimum values: NaN from either side, else `a` unless b wins strictly
    (so maximum(-0.0, 0.0) is -0.0, where jnp.maximum gives 0.0)."""
    def choose(a, b):
        return jnp.where(jnp.isnan(a), a, jnp.where(jnp.isnan(b), b, jnp.where(pick_b(a, b), b, a)))
    return choose


maximum = _binary_chooser(_propagating(jnp.less), jnp.less)
minimum = _binary_chooser(_propagating(jnp.greater), jnp.greater)


def log_sigmoid(x):
    """torch's log_sigmoid formula, min(x, 0) - log1p(exp(-|x|)), with torch's derivative 1/2 at
    x == 0 (JAX's tie rule for min and its derivative of |x| at 0 would add up to 1)."""
    return minimum(x, jnp.zeros_like(x)) - jnp.log1p(jnp.exp(-abs(x)))


def spread_reduce(reduce):
    """A reduction of all elements to one of them (max, min, median) whose gradient is shared
    evenly among the elements equal to the result, or among the NaNs when the result is NaN."""
    @jax.custom_jvp
    def f(x):
        return reduce(x)

    @f.defjvp
    def jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        value = f(x)
        chosen = jnp.where(jnp.isnan(value), jnp.isnan(x), x == value)
        count = jnp.sum(chosen).astype(dx.dtype)
        return value, jnp.sum(jnp.where(chosen, dx, jnp.zeros_like(dx))) / count
    return f


max_all = spread_reduce(jnp.max)
min_all = spread_reduce(jnp.min)
