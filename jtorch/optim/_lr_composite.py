"""Schedulers built from other schedulers (SequentialLR, ChainedScheduler) and ReduceLROnPlateau.

Attribute names that `state_dict()` exposes (`_schedulers`, `_milestones`, `num_bad_epochs`,
`min_lrs`, ...) are the checkpoint layout shared with torch and stay fixed.
"""
import warnings
from bisect import bisect_right
from math import inf

from .optimizer import Optimizer
from .lr_scheduler import (EPOCH_DEPRECATION_WARNING, LRScheduler, _param_groups_val_list,
                           _update_param_group_val)


def _validate_members(owner_cls, optimizer, members):
    """Every member must be a plain (step()-able) scheduler driving `optimizer`."""
    owner = owner_cls.__name__
    for position, member in enumerate(members):
        if not hasattr(member, "optimizer"):
            raise TypeError(f"{owner} at index {position} should have `optimizer` as its attribute.")
        if isinstance(member, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires "
                             "additional kwargs to be specified when calling `step`, but got one at "
                             f"index {position} in the given schedulers sequence.")
        if member.optimizer != optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, but got "
                             f"scheduler {type(member).__name__} at index {position} has "
                             f"{member.optimizer}, which is different from {type(optimizer).__name__}.")


def _current_lrs(optimizer):
    return _param_groups_val_list(optimizer, "lr")


class _Composite:
    """Saving/loading for a scheduler that owns `_schedulers`: its own fields plus each member's
    state, in order."""

    def state_dict(self):
        own = {k: v for k, v in vars(self).items() if k != "optimizer" and k != "_schedulers"}
        own["_schedulers"] = [member.state_dict() for member in self._schedulers]
        return own

    def load_state_dict(self, state_dict):
        members_state = state_dict.pop("_schedulers")
        try:
            vars(self).update(state_dict)
        finally:
            state_dict["_schedulers"] = members_state  # leave the caller's dict as it was
        for member, saved in zip(self._schedulers, members_state):
            member.load_state_dict(saved)


class SequentialLR(_Composite, LRScheduler):
    """Hands control to the next scheduler at each milestone."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if not schedulers:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler, but got no scheduler.")
        _validate_members(type(self), optimizer, schedulers)
        if len(schedulers) - 1 != len(milestones):
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than the "
                f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                f"number of milestones to be equal to {len(milestones)}")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # every member already took its construction step: put the lrs back where they started,
        # rewind the members' counters, then let only the scheduler active at step 0 take it
        for group in optimizer.param_groups:
            _update_param_group_val(group, "lr", group["initial_lr"])
        self.recursive_undo()
        first = self._schedulers[self._active_index(0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _active_index(self, epoch):
        return bisect_right(self._milestones, epoch)

    def recursive_undo(self, sched=None):
        """Step back the epoch counter of every (possibly nested) member scheduler."""
        target = self if sched is None else sched
        nested = getattr(target, "_schedulers", None)
        if nested is not None:
            for inner in nested:
                self.recursive_undo(inner)
        elif hasattr(target, "last_epoch"):
            target.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        where = self._active_index(self.last_epoch)
        current = self._schedulers[where]
        just_switched = where > 0 and self.last_epoch == self._milestones[where - 1]
        if just_switched:
            current._update_lr(0)  # a newly active scheduler starts from its own epoch 0
        else:
            current.step()
        self._last_lr = current.get_last_lr()


class ChainedScheduler(_Composite, LRScheduler):
    """Steps every member in order on each call, so their effects compose."""

    def __init__(self, schedulers, optimizer=None):
        if not schedulers:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler to be chained, "
                             "but got no scheduler.")
        if not optimizer:
            optimizer = schedulers[0].optimizer
        _validate_members(type(self), optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _current_lrs(schedulers[-1].optimizer)

    def step(self):
        for member in self._schedulers:
            member.step()
        self._last_lr = _current_lrs(self._schedulers[-1].optimizer)


class ReduceLROnPlateau(LRScheduler):
    """Multiplies the lr by `factor` once the metric has not improved for `patience` steps."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if n_groups != len(min_lr):
                raise ValueError(f"expected {n_groups} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr for _ in range(n_groups)]
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _current_lrs(optimizer)
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics, epoch=None):
        value = float(metrics)
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        else:
            epoch = self.last_epoch + 1
        self.last_epoch = epoch

        improved = self._is_better(value, self.best)
        if improved:
            self.best = value
        self.num_bad_epochs = 0 if improved else self.num_bad_epochs + 1
        if self.in_cooldown:
            # stagnation during a cooldown does not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _current_lrs(self.optimizer)

    def _floors(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) == len(groups):
            return self.min_lrs
        if self.default_min_lr is None:
            raise RuntimeError(
                f"The number of param groups in the `optimizer` ({len(groups)}) differs from when "
                f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to a new param "
                "group being added to the optimizer. Please modify the `min_lrs` field to match the "
                "length of the `optimizer` param groups.")
        # a single floor was given: it applies to groups added since
        self.min_lrs = [self.default_min_lr for _ in groups]
        return self.min_lrs

    def _reduce_lr(self, epoch):
        floors = self._floors()
        for group, floor in zip(self.optimizer.param_groups, floors):
            before = float(group["lr"])
            after = max(before * self.factor, floor)
            if before - after > self.eps:  # skip changes too small to matter
                _update_param_group_val(group, "lr", after)

    def _is_better(self, a, best):
        if self.threshold_mode == "rel":
            if self.mode == "min":
                return a < best * (1.0 - self.threshold)
            return a > best * (self.threshold + 1.0)
        if self.mode == "min":
            return a < best - self.threshold
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        # attribute order is the order torch's state_dict lists them in
        self.mode_worse = -inf if mode == "max" else inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        vars(self).update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)
