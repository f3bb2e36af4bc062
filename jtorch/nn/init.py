"""torch.nn.init: parameter initialisation drawing from jtorch's generator, with torch's formulas
evaluated in the same order on Python floats, so that a seeded layer gets torch's weights bit
for bit (the draws themselves are torch's: see NOTE [Matching torch's CPU random numbers])."""
import math
import warnings

import jax.numpy as jnp
import numpy as np

from ..autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]


def _core(generator):
    from ..ops.random import _core as core
    return core(generator)


def _set(tensor, values):
    """Write numpy/jax values into a tensor in place, outside autograd (torch runs init under no_grad)."""
    tensor._write(jnp.asarray(values, dtype=tensor.dtype.np).reshape(tensor._shape))
    return tensor


def _draw(tensor, method, *args, generator=None):
    """tensor.<method>_(*args) without recording history (uniform_/normal_ fills)."""
    with no_grad():
        return getattr(tensor, method)(*args, generator=generator)


def _fill(tensor, value):
    with no_grad():
        return _set(tensor, np.full(tensor._shape, value))


def _std_normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _trunc_normal_values(g, shape, dt, mean, std, a, b):
    """Draws of N(mean, std) restricted to [a, b], consuming the generator as torch does."""
    inside = _std_normal_cdf((b - mean) / std) - _std_normal_cdf((a - mean) / std)
    if inside > 0.3:
        # most normal draws land in range: refill the out-of-range slots from fresh full normal fills
        lo, hi = float(np.asarray(a, dt)), float(np.asarray(b, dt))
        values = g.normal(shape, mean, std, dt)
        outside = (values < lo) | (values > hi)
        while outside.any():
            values = np.where(outside, g.normal(shape, mean, std, dt), values)
            outside = (values < lo) | (values > hi)
        return values
    # narrow window: uniform proposals on [a, b], each kept with probability density / peak density,
    # where the peak is at the point of [a, b] nearest the mean
    ft = np.float64 if dt == np.float64 else np.float32
    nearest = max(a, min(mean, b))
    log_peak = -0.5 * ((nearest - mean) / std) ** 2

    def log_ratio(x):
        z = (x.astype(ft) - ft(mean)) / ft(std)
        return z ** 2 * ft(-0.5) - ft(log_peak)

    def rejected(x):
        return np.log(g.uniform(shape, 0.0, 1.0, dt)) > log_ratio(x)

    values = g.uniform(shape, a, b, dt)
    todo = rejected(values)
    while todo.any():
        proposal = g.uniform(shape, a, b, dt)
        values = np.where(todo, proposal, values)
        todo = np.where(todo, rejected(proposal), todo)
    return values


_GAINS = {"sigmoid": 1, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in _LINEAR_LIKE:
        return 1
    if isinstance(nonlinearity, str) and nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    if nonlinearity != "leaky_relu":
        raise ValueError("Unsupported nonlinearity %s" % nonlinearity)
    slope = 0.01 if param is None else param
    if isinstance(slope, bool) or not isinstance(slope, (int, float)):
        raise ValueError("negative_slope %s not a valid number" % param)
    return math.sqrt(2.0 / (1 + slope ** 2))


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _draw(tensor, "uniform_", a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _draw(tensor, "normal_", mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    lowest, highest = a - 2 * std, b + 2 * std
    if mean < lowest or mean > highest:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may "
                      "be incorrect.", stacklevel=1)
    values = _trunc_normal_values(_core(generator), tensor._shape, tensor.dtype.np, mean, std, a, b)
    with no_grad():
        return _set(tensor, values)


def constant_(tensor, val):
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1.0)


def zeros_(tensor):
    return _fill(tensor, 0.0)


def eye_(tensor):
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return _set(tensor, np.eye(*tensor._shape))


def dirac_(tensor, groups=1):
    dimensions = tensor.ndimension()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.size()
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    values = np.zeros(tuple(sizes))
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return _set(tensor, values)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (dim 1, dim 0), each times the product of the remaining (kernel) dims."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    out_maps, in_maps, *kernel = tensor.shape
    kernel_size = math.prod(kernel)
    return in_maps * kernel_size, out_maps * kernel_size


def _xavier_std(tensor, gain):
    fan_sum = sum(_calculate_fan_in_and_fan_out(tensor))
    return gain * math.sqrt(2.0 / float(fan_sum))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)   # a uniform on [-b, b] has std b / sqrt(3)
    return _draw(tensor, "uniform_", -bound, bound, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    return _draw(tensor, "normal_", 0.0, _xavier_std(tensor, gain), generator=generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    """None for an empty tensor (after torch's warning), else gain / sqrt(fan of the chosen mode)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    modes = ["fan_in", "fan_out"]
    mode = mode.lower()
    if mode not in modes:
        raise ValueError("Mode %s not supported, please use one of %s" % (mode, modes))
    fan = _calculate_fan_in_and_fan_out(tensor)[modes.index(mode)]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _draw(tensor, "uniform_", -bound, bound, generator=generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _draw(tensor, "normal_", 0, std, generator=generator)


def orthogonal_(tensor, gain=1, generator=None):
    """orthogonal_: normal draws (torch's), then Q of their QR with the signs of R's diagonal. The QR
    is numpy's LAPACK (torch's too), so Q matches torch's to rounding, not bit for bit."""
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    dt = tensor.dtype.np
    flat = _core(generator).normal((rows, cols), 0.0, 1.0, dt)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        return _set(tensor, (q.astype(dt) * dt.type(gain)).astype(dt))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    g = _core(generator)
    values = g.normal((rows, cols), 0.0, std, tensor.dtype.np)
    for col in range(cols):
        # torch draws each column's permutation from the default generator
        zero_rows = _core(None).randperm(rows)[:num_zeros]
        values[zero_rows, col] = 0
    with no_grad():
        return _set(tensor, values)


def _deprecated_alias(fn):
    """The pre-0.4 name (without the trailing underscore) that warns and forwards to fn."""
    old = fn.__name__.rstrip("_")

    def alias(*args, **kwargs):
        warnings.warn("`nn.init.%s` is now deprecated in favor of `nn.init.%s`." % (old, fn.__name__),
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    alias.__name__ = old
    return alias


for _fn in (uniform_, normal_, constant_, eye_, dirac_, xavier_uniform_, xavier_normal_, kaiming_uniform_,
            kaiming_normal_, orthogonal_, sparse_):
    globals()[_fn.__name__[:-1]] = _deprecated_alias(_fn)
del _fn
