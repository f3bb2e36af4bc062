"""Cyclic schedules: CyclicLR, OneCycleLR (both may also cycle momentum / Adam's beta1) and
CosineAnnealingWarmRestarts.

Each schedule is written from its documented formula. Attribute names that end up in
`state_dict()` (`total_size`, `step_ratio`, `_schedule_phases`, `T_cur`, ...) are the checkpoint
layout shared with torch and therefore fixed; the helpers around them are jtorch's own.
"""
import math
import types

from .optimizer import Optimizer
from .lr_scheduler import (LRScheduler, _enable_get_lr_call, _format_param, _param_groups_val_list,
                           _update_param_group_val, _warn_get_lr_called_within_step)

_BUILTIN_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


# ---------------------------------------------------------------------------------------------
# momentum plumbing shared by CyclicLR and OneCycleLR
# ---------------------------------------------------------------------------------------------

def _require_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _momentum_key(optimizer):
    """Which hyper-parameter plays 'momentum': SGD-style `momentum`, or `betas[0]` for Adam-likes.
    Returns True when it is beta1."""
    defaults = optimizer.defaults
    if "momentum" not in defaults and "betas" not in defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in defaults


def _write_momentum(group, value, via_beta1):
    if via_beta1:
        rest = tuple(group["betas"])[1:]
        group["betas"] = (value,) + rest
    else:
        group["momentum"] = value


def _seed_momentum_bounds(optimizer, upper, lower, via_beta1):
    """Fresh start: every group begins at its upper momentum and remembers both bounds."""
    for group, hi, lo in zip(optimizer.param_groups, upper, lower):
        _write_momentum(group, hi, via_beta1)
        group["max_momentum"] = hi
        group["base_momentum"] = lo


# ---------------------------------------------------------------------------------------------
# CyclicLR
# ---------------------------------------------------------------------------------------------

class CyclicLR(LRScheduler):
    """Triangular cycles between `base_lr` and `max_lr` (Smith, 2017); momentum moves inversely."""

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _require_optimizer(optimizer)
        self.optimizer = optimizer
        floors = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, value in zip(optimizer.param_groups, floors):
                _update_param_group_val(group, "lr", value)
        peaks = _format_param("max_lr", optimizer, max_lr)
        self.max_lrs = peaks

        rise = float(step_size_up)
        fall = rise if step_size_down is None else float(step_size_down)
        self.total_size = rise + fall
        self.step_ratio = rise / self.total_size

        if scale_fn is None and mode not in _BUILTIN_CYCLIC_MODES:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._sync_scale_mode()

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            self.base_momentums = _format_param("base_momentum", optimizer, base_momentum)
            ceilings = _format_param("max_momentum", optimizer, max_momentum)
            self.max_momentums = ceilings
            if last_epoch == -1:
                _seed_momentum_bounds(optimizer, self.max_momentums, self.base_momentums, self.use_beta1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = floors

    def _sync_scale_mode(self):
        # the built-in amplitude policies fix what they are evaluated on
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """Amplitude multiplier for cycle number / iteration `x`."""
        custom = self._scale_fn_custom
        if custom is not None:
            return custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _phase(self):
        """(cycle number counted from 1, 0..1 ramp: 0 at base_lr, 1 at the peak)."""
        progress = self.last_epoch / self.total_size
        cycle = math.floor(1 + progress)
        where = 1.0 + progress - cycle
        if where <= self.step_ratio:
            ramp = where / self.step_ratio
        else:
            ramp = (where - 1) / (self.step_ratio - 1)
        return cycle, ramp

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        cycle, ramp = self._phase()
        amplitude = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [lo + (hi - lo) * ramp * amplitude for lo, hi in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, lo, hi in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _write_momentum(group, hi - (hi - lo) * ramp * amplitude, self.use_beta1)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        custom = state.pop("_scale_fn_custom")
        # plain functions are not saved; callable objects keep their attributes
        keep = custom is not None and not isinstance(custom, types.FunctionType)
        state["_scale_fn_custom"] = dict(vars(custom)) if keep else None
        return state

    def load_state_dict(self, state_dict):
        saved_custom = state_dict.pop("_scale_fn_custom")
        super().load_state_dict(state_dict)
        if saved_custom is not None:
            vars(self._scale_fn_custom).update(saved_custom)
        self._sync_scale_mode()


# ---------------------------------------------------------------------------------------------
# CosineAnnealingWarmRestarts (SGDR)
# ---------------------------------------------------------------------------------------------

def _restart_position(epoch, first_period, growth):
    """Locate `epoch` in SGDR's run of periods first_period * growth**k.

    Returns (epochs since the last restart, length of the current period)."""
    if epoch < first_period:
        return epoch, first_period
    if growth == 1:
        return epoch % first_period, first_period
    # periods before the current one sum to first_period * (growth**k - 1) / (growth - 1)
    k = int(math.log((epoch / first_period * (growth - 1) + 1), growth))
    elapsed = first_period * (growth ** k - 1) / (growth - 1)
    return epoch - elapsed, first_period * growth ** k


class CosineAnnealingWarmRestarts(LRScheduler):
    """eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, restarting when T_cur hits T_i."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (int, float)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        wave = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (top - self.eta_min) * wave / 2 for top in self.base_lrs]

    def _advance_one(self):
        self.T_cur = self.T_cur + 1
        if self.T_cur >= self.T_i:
            self.T_cur = self.T_cur % self.T_i
            self.T_i = self.T_i * self.T_mult
        return self.last_epoch + 1

    def step(self, epoch=None):
        if epoch is None:
            if self.last_epoch < 0:
                epoch = 0
                self.T_i, self.T_cur = self.T_0, 0
            else:
                epoch = self._advance_one()
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            since_restart, period = _restart_position(epoch, self.T_0, self.T_mult)
            self.T_cur = since_restart
            if self.T_mult != 1 or epoch < self.T_0:
                self.T_i = period
        self.last_epoch = math.floor(epoch)
        opt = self.optimizer
        with _enable_get_lr_call(self):
            fresh = self.get_lr()
        for group, value in zip(opt.param_groups, fresh):
            _update_param_group_val(group, "lr", value)
        self._last_lr = _param_groups_val_list(opt, "lr")


# ---------------------------------------------------------------------------------------------
# OneCycleLR
# ---------------------------------------------------------------------------------------------

def _phase_entry(end_step, lr_from, lr_to, momentum_from, momentum_to):
    # key names are part of the saved state (`_schedule_phases`), shared with torch checkpoints
    return {"end_step": end_step, "start_lr": lr_from, "end_lr": lr_to,
            "start_momentum": momentum_from, "end_momentum": momentum_to}


def _cosine_between(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _linear_between(start, end, pct):
    return (end - start) * pct + start


_ANNEALERS = {"cos": _cosine_between, "linear": _linear_between}


class OneCycleLR(LRScheduler):
    """1cycle policy: warm up from max_lr/div_factor to max_lr, then anneal far below the start
    (optionally with a symmetric cool-down phase first); momentum moves the opposite way."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _require_optimizer(optimizer)
        self.optimizer = optimizer
        self.total_steps = self._count_steps(total_steps, epochs, steps_per_epoch)

        last = self.total_steps - 1
        warm_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase_entry(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase_entry(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                _phase_entry(last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                _phase_entry(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase_entry(last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]

        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in _ANNEALERS:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy

        peaks = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, peak in zip(optimizer.param_groups, peaks):
                start = peak / div_factor
                group["initial_lr"] = start
                group["max_lr"] = peak
                group["min_lr"] = start / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_key(optimizer)
            upper = _format_param("max_momentum", optimizer, max_momentum)
            lower = _format_param("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                _seed_momentum_bounds(optimizer, upper, lower, self.use_beta1)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _count_steps(total_steps, epochs, steps_per_epoch):
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            return total_steps
        if epochs is None or steps_per_epoch is None:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not (isinstance(epochs, int) and epochs > 0):
            raise ValueError(f"Expected positive integer epochs, but got {epochs}")
        if not (isinstance(steps_per_epoch, int) and steps_per_epoch > 0):
            raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
        return epochs * steps_per_epoch

    def _interpolate(self, start, end, pct):
        kind = getattr(self, "_anneal_func_type", None)
        if kind is None:  # objects unpickled from old checkpoints carry a bound `anneal_func`
            return self.anneal_func(start, end, pct)
        if kind not in _ANNEALERS:
            raise ValueError(f"Unknown _anneal_func_type: {kind}")
        return _ANNEALERS[kind](start, end, pct)

    def _active_phase(self, step):
        """(phase dict, step at which it began); the last phase also absorbs any overshoot."""
        began = 0.0
        final = len(self._schedule_phases) - 1
        for index, phase in enumerate(self._schedule_phases):
            if index == final or step <= phase["end_step"]:
                return phase, began
            began = phase["end_step"]

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}")
        phase, began = self._active_phase(step)
        pct = (step - began) / (phase["end_step"] - began)
        lrs = []
        groups = self.optimizer.param_groups
        for group in groups:
            lrs.append(self._interpolate(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._interpolate(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                _write_momentum(group, momentum, self.use_beta1)
        return lrs
