"""Random sampling with PyTorch's CPU generator (DESIGN 6): numbers are drawn in numpy by
_random.Generator, bit for bit as torch draws them, then placed as tensors."""
import builtins
import contextlib

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as D
from .. import _random
from .._tensor import Tensor
from .creation import _dtype_or_default, _place, _size, function
from ._registry import METHODS


class Generator:
    """torch.Generator: a handle on a numpy-level mt19937 that draws as torch's CPU generator."""

    def __init__(self, device="cpu"):
        from .. import _device
        self.device = _device.device(device)
        self._core = _random.Generator()

    def manual_seed(self, seed):
        self._core.manual_seed(int(seed))
        return self

    def seed(self):
        return self._core.seed()

    def initial_seed(self):
        return self._core.initial_seed()

    def get_state(self):
        return Tensor._from_host(np.array(self._core.get_state(), dtype=np.uint8))

    def set_state(self, new_state):
        self._core.set_state(np.asarray(new_state._value() if isinstance(new_state, Tensor) else new_state,
                                        dtype=np.uint8))
        return self


default_generator = Generator()
default_generator._core = _random.default_generator


class _TracedDraws:
    """Inside a jtorch.compile trace, draws come from a JAX key (a traced input derived from the
    generator at each call) instead of numpy, so each replay draws new numbers."""

    def __init__(self, seed):
        self.key = jax.random.key(seed)

    def _next(self):
        global _traced_used
        _traced_used = True
        self.key, sub = jax.random.split(self.key)
        return sub

    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32):
        return jax.random.uniform(self._next(), shape, jnp.dtype(dtype), low, high)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32):
        return mean + std * jax.random.normal(self._next(), shape, jnp.dtype(dtype))

    def normal_tensor(self, mean, std, dtype):
        shape = jnp.broadcast_shapes(jnp.shape(mean), jnp.shape(std))
        return (mean + std * jax.random.normal(self._next(), shape, jnp.dtype(dtype))).astype(dtype)

    def randint(self, low, high, shape, dtype=np.int64):
        return jax.random.randint(self._next(), shape, low, high, jnp.int64).astype(dtype)

    def random_(self, shape, dtype):
        return self.randint(0, 2 ** 24 if np.dtype(dtype).kind == "f" else 2 ** 31 - 1, shape, dtype)

    def randperm(self, n, dtype=np.int64):
        return jax.random.permutation(self._next(), n).astype(dtype)

    def bernoulli(self, p, shape, dtype=np.float32):
        return jax.random.bernoulli(self._next(), p, shape).astype(dtype)

    def exponential(self, shape, lambd=1.0, dtype=np.float32):
        return (jax.random.exponential(self._next(), shape, jnp.dtype(dtype)) / lambd).astype(dtype)

    def multinomial(self, probs, num_samples, replacement=False):
        logits = jnp.log(probs)
        if replacement:
            return jax.random.categorical(self._next(), logits, shape=(num_samples,) + logits.shape[:-1]).T
        g = jax.random.gumbel(self._next(), logits.shape)
        return jnp.argsort(-(logits + g), axis=-1)[..., :num_samples].astype(jnp.int64)


_traced = None
_traced_used = False     # whether the current trace drew any random numbers


@contextlib.contextmanager
def traced_randomness(seed):
    global _traced, _traced_used
    prev, _traced = _traced, _TracedDraws(seed)
    _traced_used = False
    try:
        yield
    finally:
        _traced = prev


def compile_seed(peek=False):
    """A fresh seed for one compiled call, drawn from (and, unless peek, advancing) the default
    generator."""
    core = default_generator._core
    state = core.get_state() if peek else None
    seed = np.uint32(core.randint(0, 2 ** 31, (), np.int64))
    if peek:
        core.set_state(state)
    return seed


def _core(generator):
    if _traced is not None:
        return _traced
    return (generator or default_generator)._core


@function
def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


@function
def seed():
    return default_generator.seed()


@function
def initial_seed():
    return default_generator.initial_seed()


@function
def get_rng_state():
    return default_generator.get_state()


@function
def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _make(values, dtype, device, requires_grad, out=None):
    return _place(jnp.asarray(values), dtype, device, requires_grad, out)


@function
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    dtype = _dtype_or_default(dtype)
    return _make(_core(generator).uniform(_size(size), 0.0, 1.0, dtype.np), dtype, device, requires_grad, out)


@function
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    dtype = _dtype_or_default(dtype)
    return _make(_core(generator).normal(_size(size), 0.0, 1.0, dtype.np), dtype, device, requires_grad, out)


@function
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    if size is None:   # randint(high, size)
        low, high, size = 0, low, high
    dtype = dtype or D.int64
    if high <= low:
        raise RuntimeError("random_ expects 'from' to be less than 'to', but got from=%d >= to=%d" % (low, high))
    return _make(_core(generator).randint(low, high, _size((size,)), dtype.np), dtype, device, requires_grad, out)


@function
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    dtype = dtype or D.int64
    return _make(_core(generator).randperm(int(n), dtype.np), dtype, device, requires_grad, out)


@function
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(input._shape, dtype=dtype or input.dtype, device=device or input._device,
                requires_grad=requires_grad)


@function
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(input._shape, dtype=dtype or input.dtype, device=device or input._device,
                 requires_grad=requires_grad)


@function
def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input._shape, dtype=dtype or input.dtype, device=device or input._device)


def _np(x):
    return np.asarray(x._value()) if isinstance(x, Tensor) else x


@function
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    g = _core(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        if isinstance(std, Tensor) and builtins.bool((_np(std) < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        # a Python number stays a float: torch draws differently for a float and a tensor std
        as_arg = lambda v: np.asarray(_np(v), dtype=like.dtype.np) if isinstance(v, Tensor) else float(v)
        values = g.normal_tensor(as_arg(mean), as_arg(std), like.dtype.np)
        return _make(values, like.dtype, like._device, requires_grad, out)
    dtype = _dtype_or_default(dtype)
    return _make(g.normal(_size((size,)), mean, std, dtype.np), dtype, device, requires_grad, out)


@function(method=True)
def bernoulli(input, p=None, *, generator=None, out=None):
    probs = _np(input) if p is None else p
    values = _core(generator).bernoulli(probs, input._shape, input.dtype.np)
    return _make(values, input.dtype, input._device, False, out)


@function(method=True)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    if not replacement and num_samples > input._shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    values = _core(generator).multinomial(_np(input), num_samples, replacement)
    return _make(values, D.int64, input._device, False, out)


@function
def poisson(input, generator=None):
    rng = np.random.default_rng(_core(generator).randint(0, 2 ** 31, (1,), np.int64)[0])
    return _make(rng.poisson(_np(input)).astype(input.dtype.np), input.dtype, input._device, False)


# -- in-place fills: Tensor.uniform_, normal_, ... --------------------------------------------------

def _fill(self, values):
    from ..autograd.grad_mode import no_grad
    if self._requires_grad and self._grad_fn is None and _grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    self._write(jnp.asarray(values))
    return self


def _grad_enabled():
    from ..autograd.grad_mode import is_grad_enabled
    return is_grad_enabled()


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill(self, _core(generator).uniform(self._shape, a, b, self.dtype.np))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill(self, _core(generator).normal(self._shape, mean, std, self.dtype.np))


def random_(self, from_=0, to=None, *, generator=None):
    g = _core(generator)
    if to is None and from_ == 0:
        return _fill(self, g.random_(self._shape, self.dtype.np))
    if to is None:
        from_, to = 0, from_
    return _fill(self, g.randint(from_, to, self._shape, self.dtype.np))


def bernoulli_(self, p=0.5, *, generator=None):
    return _fill(self, _core(generator).bernoulli(_np(p), self._shape, self.dtype.np))


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill(self, _core(generator).exponential(self._shape, lambd, self.dtype.np))


METHODS.update(uniform_=uniform_, normal_=normal_, random_=random_, bernoulli_=bernoulli_,
               exponential_=exponential_)
