"""torch.optim.lr_scheduler: the LRScheduler base and the multiplicative / closed-form schedules.

Each scheduler is written from its documented formula in two forms: the chainable `get_lr`
(a per-step multiplier applied to the group's current lr, used by `step()`) and, where torch
offers one, the closed form `_get_closed_form_lr` (used by `step(epoch)`); the two differ in the
last bits, and users see which one ran. The constructor performs torch's initial step and sets 'initial_lr' in each group.
Cyclic schedules live in _lr_cyclic.py, the composite ones and ReduceLROnPlateau in
_lr_composite.py; all are re-exported here.
"""
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from weakref import ref

import jax.numpy as jnp

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR", "LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


def _as_fill_value(val):
    """A Python number (or 0-d tensor) to write into a tensor-valued hyper-parameter."""
    if isinstance(val, Tensor):
        if val.dim() != 0:
            val = val.squeeze()
        val = val.item()
    return val


def _snapshot(value):
    return value.clone() if isinstance(value, Tensor) else value


def _format_param(name, optimizer, param):
    """Return the param as a list with one entry per param group (tensors cloned)."""
    n_groups = len(optimizer.param_groups)
    if not isinstance(param, (list, tuple)):
        return [_snapshot(param) for _ in range(n_groups)]
    if len(param) != n_groups:
        raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                         f"{name} has {len(param)} values, param_groups has {n_groups}.")
    return [_snapshot(item) for item in param]


def _param_groups_val_list(optimizer, key):
    return [_snapshot(group[key]) for group in optimizer.param_groups]


def _update_param_group_val(param_group, key, val):
    """Set a group's value; a Tensor-valued entry is overwritten in place, as torch does."""
    held = param_group[key]
    if not isinstance(held, Tensor):
        param_group[key] = val
        return
    held._write(jnp.full(held._shape, _as_fill_value(val), dtype=held.dtype.np))


def _mark_step_tracking(scheduler):
    """Route optimizer.step through a thin wrapper recording that it ran (`_opt_called`), so the
    first scheduler step can warn about the wrong call order. Wrapping happens once per optimizer."""
    opt = scheduler.optimizer
    if getattr(opt.step, "_wrapped_by_lr_sched", False):
        return
    unbound = opt.step.__func__
    weak_opt = ref(opt)

    def tracked_step(*args, **kwargs):
        owner = weak_opt()
        owner._opt_called = True
        return unbound(owner, *args, **kwargs)

    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(tracked_step, attr, getattr(unbound, attr, None))
    tracked_step.__dict__.update(getattr(unbound, "__dict__", {}))
    tracked_step.__wrapped__ = unbound
    tracked_step._wrapped_by_lr_sched = True
    opt.step = tracked_step


_OVERRIDDEN_STEP_WARNING = (
    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
    "initialization. Please, make sure to call `optimizer.step()` before "
    "`lr_scheduler.step()`. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")
_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
    "will result in PyTorch skipping the first value of the learning rate schedule. "
    "See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")


class _flag_while:
    """Context manager: instance attribute `name` is True inside the block, False after."""

    def __init__(self, obj, name):
        self._obj, self._name = obj, name

    def __enter__(self):
        setattr(self._obj, self._name, True)
        return self

    def __exit__(self, *exc_info):
        setattr(self._obj, self._name, False)


def _enable_get_lr_call(scheduler):
    return _flag_while(scheduler, "_get_lr_called_within_step")


def _initial_mode(scheduler):
    return _flag_while(scheduler, "_is_initial")


class LRScheduler:
    """Adjusts the learning rate of each parameter group during optimization."""

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", _snapshot(group["lr"]))
        else:
            missing = next((i for i, group in enumerate(groups) if "initial_lr" not in group), None)
            if missing is not None:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{missing}] when resuming "
                    "scheduler with last_epoch >= 0.\n"
                    "This typically happens when:\n"
                    "1. You're trying to resume training from a checkpoint but haven't properly "
                    "loaded the optimizer state\n"
                    "2. You're using last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs = _param_groups_val_list(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _mark_step_tracking(self)
        self._initial_step()

    def _initial_step(self):
        """Reset the step count and take the construction step."""
        self._step_count = 0
        with _initial_mode(self):
            self.step()

    def state_dict(self):
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        vars(self).update(state_dict)

    def get_last_lr(self):
        return self._last_lr

    def get_lr(self):
        raise NotImplementedError

    def _warn_call_order(self):
        opt = self.optimizer
        if not getattr(opt.step, "_wrapped_by_lr_sched", False):
            warnings.warn(_OVERRIDDEN_STEP_WARNING, UserWarning, stacklevel=3)
            return
        if not getattr(opt, "_opt_called", False):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=3)

    def step(self, epoch=None):
        if self._step_count == 1:  # the first step after construction
            self._warn_call_order()
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, category=UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        with _enable_get_lr_call(self):
            if epoch is None:
                self.last_epoch += 1
                lrs = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                lrs = closed_form() if closed_form is not None else self.get_lr()
        for group, value in zip(self.optimizer.param_groups, lrs):
            _update_param_group_val(group, "lr", value)
        self._last_lr = self._current()

    # helpers for the schedules below
    def _current(self):
        return [_snapshot(group["lr"]) for group in self.optimizer.param_groups]

    def _scaled(self, factor):
        return [group["lr"] * factor for group in self.optimizer.param_groups]


def _warn_get_lr_called_within_step(scheduler):
    if scheduler._get_lr_called_within_step:
        return
    warnings.warn("To get the last learning rate computed by the scheduler, please use "
                  "`get_last_lr()`.", UserWarning, stacklevel=2)


class _LRScheduler(LRScheduler):
    pass


class _LambdaState:
    """Saving/loading for schedulers holding `lr_lambdas`: a callable object's attributes are
    saved, a plain function is stored as None. Shared by LambdaLR and MultiplicativeLR."""

    def state_dict(self):
        state = {k: v for k, v in vars(self).items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(vars(fn))
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        saved = state_dict.pop("lr_lambdas")
        try:
            vars(self).update(state_dict)
        finally:
            state_dict["lr_lambdas"] = saved
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                vars(fn).update(attrs)

    def _set_lambdas(self, optimizer, lr_lambda):
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda for _ in range(n_groups)]


class LambdaLR(_LambdaState, LRScheduler):
    """lr = initial_lr * lr_lambda(epoch)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self._set_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        epoch = self.last_epoch
        return [base * fn(epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_LambdaState, LRScheduler):
    """lr = previous lr * lr_lambda(epoch), from the first step on."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self._set_lambdas(optimizer, lr_lambda)
        bad = next((fn for fn in self.lr_lambdas if not callable(fn)), None)
        if bad is not None:
            raise TypeError(f"lr_lambda should be a function, but got {type(bad).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial:
            return self._current()
        epoch = self.last_epoch
        return [group["lr"] * fn(epoch) for group, fn in zip(self.optimizer.param_groups, self.lr_lambdas)]


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        at_boundary = self.last_epoch != 0 and self.last_epoch % self.step_size == 0
        return self._scaled(self.gamma) if at_boundary else self._current()

    def _get_closed_form_lr(self):
        decay = self.gamma ** (self.last_epoch // self.step_size)
        return [base * decay for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = initial_lr * gamma ** (number of milestones reached); a repeated milestone counts twice."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        hits = self.milestones.get(self.last_epoch, 0)
        if not hits:
            return self._current()
        return self._scaled(self.gamma ** hits)

    def _get_closed_form_lr(self):
        reached = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        decay = self.gamma ** reached
        return [base * decay for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor until total_iters, initial_lr afterwards."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor < 0 or factor > 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        epoch = self.last_epoch
        if epoch == 0:
            return self._scaled(self.factor)
        if epoch == self.total_iters:
            return self._scaled(1.0 / self.factor)
        return self._current()

    def _get_closed_form_lr(self):
        done = self.last_epoch >= self.total_iters
        multiplier = self.factor + done * (1 - self.factor)
        return [base * multiplier for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = initial_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor <= 0 or start_factor > 1.0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less "
                             "or equal to 1.")
        if end_factor < 0 or end_factor > 1.0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        epoch = self.last_epoch
        if epoch == 0:
            return self._scaled(self.start_factor)
        if self._is_initial or epoch > self.total_iters:
            return self._current()
        # ratio of consecutive factors f(e) / f(e - 1), written as 1 + slope / f(e - 1) * total_iters
        slope = self.end_factor - self.start_factor
        previous = self.total_iters * self.start_factor + (epoch - 1) * slope
        return self._scaled(1.0 + slope / previous)

    def _get_closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch)
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * progress / self.total_iters)
                for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        return self._current() if self._is_initial else self._scaled(self.gamma)

    def _get_closed_form_lr(self):
        decay = self.gamma ** self.last_epoch
        return [base * decay for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def _remaining(self, epoch):
        return 1.0 - epoch / self.total_iters

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        epoch = self.last_epoch
        if self._is_initial or epoch > self.total_iters:
            return self._current()
        ratio = (self._remaining(epoch) / self._remaining(epoch - 1)) ** self.power
        return self._scaled(ratio)

    def _get_closed_form_lr(self):
        decay = self._remaining(min(self.total_iters, self.last_epoch)) ** self.power
        return [base * decay for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, applied step by step."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _wave(self, epoch):
        return 1 + math.cos(math.pi * epoch / self.T_max)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        epoch, floor = self.last_epoch, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and epoch > 0:
            # resumed with last_epoch > 0: nothing to chain from, use the formula directly
            wave = 1 + math.cos(epoch * math.pi / self.T_max)
            return [floor + (base - floor) * wave / 2 for base in self.base_lrs]
        if (epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # leaving a trough: the ratio form would divide by zero, add the first rise instead
            lift = 1 - math.cos(math.pi / self.T_max)
            return [group["lr"] + (base - floor) * lift / 2
                    for base, group in zip(self.base_lrs, self.optimizer.param_groups)]
        ratio = self._wave(epoch) / self._wave(epoch - 1)
        return [ratio * (group["lr"] - floor) + floor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        wave = self._wave(self.last_epoch)
        return [self.eta_min + (base - self.eta_min) * wave / 2 for base in self.base_lrs]


from ._lr_composite import SequentialLR, ChainedScheduler, ReduceLROnPlateau  # noqa: E402
from ._lr_cyclic import CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR  # noqa: E402
