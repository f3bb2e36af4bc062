"""The constructor checks the built-in optimizers share: torch's accepted ranges and messages,
kept in one table instead of spelled out in every constructor."""
from .._tensor import Tensor


def _at_least_zero(v):
    return 0.0 <= v


# name -> (accepts(value), message). Written as `0.0 <= v` so a NaN is rejected, as torch's are.
_RANGES = {
    "lr": (_at_least_zero, "Invalid learning rate: {}"),
    "lr_decay": (_at_least_zero, "Invalid lr_decay value: {}"),
    "eps": (_at_least_zero, "Invalid epsilon value: {}"),
    "rho": (lambda v: 0.0 <= v <= 1.0, "Invalid rho value: {}"),
    "momentum": (_at_least_zero, "Invalid momentum value: {}"),
    "alpha": (_at_least_zero, "Invalid alpha value: {}"),
    "weight_decay": (_at_least_zero, "Invalid weight_decay value: {}"),
    "initial_accumulator_value": (_at_least_zero, "Invalid initial_accumulator_value value: {}"),
    "momentum_decay": (_at_least_zero, "Invalid momentum_decay value: {}"),
}


def check_ranges(lr, **values):
    """torch's ValueError for a learning-rate tensor of more than one element, or for the first
    value out of its range, checked in the order the caller lists them (each torch constructor
    has its own order, which decides the message when several values are wrong)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for name, value in (("lr", lr),) + tuple(values.items()):
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= value[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {value[i]}")
            continue
        accepts, message = _RANGES[name]
        if not accepts(value):
            raise ValueError(message.format(value))


def check_fused(fused, differentiable, foreach):
    """The flags that cannot go with fused=True (checked after the groups are built, as torch does)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
