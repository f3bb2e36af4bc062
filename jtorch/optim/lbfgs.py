"""L-BFGS with torch's interface, defaults, state and trajectory.

The method is Nocedal & Wright's (Numerical Optimization, 2nd ed.): the inverse Hessian is never
formed; the last `history_size` curvature pairs (s = step taken, y = change in gradient) are
applied to the gradient by the two-loop recursion (Algorithm 7.4), scaled by gamma = s.y / y.y
(eq. 7.20). The step length is either the fixed `lr` or the result of a strong-Wolfe line search:
a bracketing phase (Algorithm 3.5) then a zoom phase (Algorithm 3.6), both choosing trial steps
by cubic interpolation (eq. 3.59).

Why this optimizer runs eagerly, unlike the pure update rules of the others: every iteration
branches on values (curvature test, Wolfe tests, tolerances) and calls the closure again.

# NOTE [Following torch's L-BFGS to the last bit]
Where torch leaves freedom to the algorithm we follow torch, because users compare runs: the
same closure calls, losses and checkpoint. Three things decide the bits:
- which quantities are Python floats and which are 0-d tensors. Losses are floats (torch reads
  them with float()); slopes g.d, curvatures s.y, `ro`, `H_diag` and `al` are 0-d tensors, so a
  product such as c1 * t * g.d rounds in the parameters' dtype. Each expression below keeps its
  operands, their kinds and their order; the trial step `t` is whatever kind the arithmetic gives.
- Python's min/max return the first of equal arguments, and a tie between a float and a tensor
  picks the kind of the next step: those calls keep torch's argument order.
- `Tensor.add_(other, alpha=a)` with a tensor `a` reads it as a Python number (torch's argument
  parser does); `_scaled_add_` does that once per call without compiling a kernel per alpha.
The checkpoint format is torch's: the state of the first parameter holds 'func_evals', 'n_iter',
'al' (the two-loop coefficients, `history_size` slots, stale ones kept), then 'd', 't',
'old_dirs', 'old_stps', 'ro', 'H_diag', 'prev_flat_grad', 'prev_loss', in that order."""
from collections import namedtuple

import jax
import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad
from ._rules import cast
from .optimizer import Optimizer

__all__ = ["LBFGS"]

# N&W's constants for the sufficient-decrease and curvature conditions (eqs. 3.7a, 3.7b)
_ARMIJO_C1 = 1e-4
_CURVATURE_C2 = 0.9
# a pair is kept only when y.s is clearly positive, so the update stays positive definite
_MIN_CURVATURE = 1e-10


def _as_number(x):
    return float(x) if isinstance(x, Tensor) else x


@jax.jit
def _axpy(x, y, alpha):
    return x + cast(alpha, x) * y


def _scaled_add_(target, other, alpha):
    """target += alpha * other in place, alpha traced: its value changes at every call."""
    target._write(_axpy(target._value(), other._value(), np.float64(_as_number(alpha))))


# One point of the line search: phi(step) = loss, phi'(step) = slope = grad . direction.
_Probe = namedtuple("_Probe", ["step", "loss", "grad", "slope"])


def _cubic_minimizer(p, q, bounds=None):
    """The minimizer of the cubic that matches loss and slope at probes `p` and `q` (N&W eq. 3.59),
    clipped to `bounds` (by default the interval between the two steps); the middle of the bounds
    when that cubic has no minimizer (negative discriminant)."""
    if bounds is None:
        bounds = (p.step, q.step) if p.step <= q.step else (q.step, p.step)
    low_bound, high_bound = bounds
    d1 = p.slope + q.slope - 3 * (p.loss - q.loss) / (p.step - q.step)
    discriminant = d1 ** 2 - p.slope * q.slope
    if not discriminant >= 0:
        return (low_bound + high_bound) / 2.0
    d2 = discriminant.sqrt()
    # N&W step back from the newer point with sign(q - p) folded into d2; naming the pair by
    # position instead (`right` has the larger step) gives the same arithmetic without the sign.
    left, right = (p, q) if p.step <= q.step else (q, p)
    ratio = (right.slope + d2 - d1) / (right.slope - left.slope + 2 * d2)
    return min(max(right.step - (right.step - left.step) * ratio, low_bound), high_bound)


def _wolfe_line_search(evaluate, direction, origin, step, budget, tolerance_change=1e-9):
    """A step along `direction` that satisfies the strong Wolfe conditions, or the best probe found
    within `budget` evaluations beyond the first. `origin` is the probe at step 0, `evaluate(step)`
    gives (loss, flat gradient) there. Returns (probe, number of evaluations)."""
    c1, c2 = _ARMIJO_C1, _CURVATURE_C2
    reach = direction.abs().max()   # how far one unit of step moves the farthest coordinate

    def probe(t):
        loss, grad = evaluate(t)
        return _Probe(t, loss, grad, grad.dot(direction))

    def too_high(p):                # sufficient decrease fails
        return p.loss > (origin.loss + c1 * p.step * origin.slope)

    def flat_enough(p):             # strong curvature condition holds
        return abs(p.slope) <= -c2 * origin.slope

    # Bracketing (Algorithm 3.5): grow the step until an interval must contain a Wolfe point.
    last, trial = origin, probe(step)
    evals, tries = 1, 0
    bracket, satisfied = None, False
    while tries < budget:
        if too_high(trial) or (tries > 1 and trial.loss >= last.loss):
            bracket = [last, trial]
            break
        if flat_enough(trial):
            bracket, satisfied = [trial], True
            break
        if trial.slope >= 0:
            bracket = [last, trial]
            break
        # extrapolate: at least 1% past the current step, at most ten times it
        bounds = (trial.step + 0.01 * (trial.step - last.step), trial.step * 10)
        last, trial = trial, probe(_cubic_minimizer(last, trial, bounds=bounds))
        evals += 1
        tries += 1
    if tries == budget:
        bracket = [origin, trial]
    if bracket is None:
        raise UnboundLocalError("LBFGS: max_eval leaves the strong-Wolfe line search no evaluation "
                                "(torch fails here with UnboundLocalError too)")

    # Zoom (Algorithm 3.6): shrink the bracket; `low` indexes its end with the lower loss.
    low, high = (0, 1) if bracket[0].loss <= bracket[-1].loss else (1, 0)
    stalled = False
    while not satisfied and tries < budget:
        a, b = bracket
        if abs(b.step - a.step) * reach < tolerance_change:
            break
        t = _cubic_minimizer(a, b)
        right, left = max(a.step, b.step), min(a.step, b.step)
        margin = 0.1 * (right - left)
        # A trial hugging an end of the bracket shrinks it slowly. The first time, accept it;
        # if it happens again (or the trial is at/past an end) move it a tenth of the bracket
        # inside from the nearer end.
        if min(right - t, t - left) < margin:
            if stalled or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        trial = probe(t)
        evals += 1
        tries += 1
        if too_high(trial) or trial.loss >= bracket[low].loss:
            bracket[high] = trial
            low, high = (0, 1) if bracket[0].loss <= bracket[1].loss else (1, 0)
            continue
        if flat_enough(trial):
            satisfied = True
        elif trial.slope * (bracket[high].step - bracket[low].step) >= 0:
            bracket[high] = bracket[low]    # the slope points back past the old low end
        bracket[low] = trial
    return bracket[low], evals


def _two_loop_direction(grad, old_dirs, old_stps, ro, H_diag, al):
    """-H grad for the L-BFGS inverse Hessian H (N&W Algorithm 7.4), in one buffer: `q` is
    overwritten in the first loop and scaled into `r` (the returned direction) for the second.
    `al` receives the first loop's coefficients (torch keeps them in the state)."""
    from .. import mul
    pairs = list(zip(old_stps, old_dirs, ro))
    q = grad.neg()
    for i in reversed(range(len(pairs))):       # newest pair first
        s, y, rho = pairs[i]
        al[i] = s.dot(q) * rho
        _scaled_add_(q, y, -_as_number(al[i]))
    r = mul(q, H_diag)                          # the initial inverse Hessian is H_diag * I
    for i, (s, y, rho) in enumerate(pairs):     # oldest pair first
        beta = y.dot(r) * rho
        _scaled_add_(r, s, al[i] - beta)
    return r


class LBFGS(Optimizer):
    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, max_iter=max_iter,
                        max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._flat_size = None

    # The parameters seen as one flat real vector (complex ones as (real, imag) pairs).

    def _real_views(self):
        from .. import view_as_real
        return [view_as_real(p) if p.is_complex() else p for p in self._params]

    def _flat_numel(self):
        if self._flat_size is None:
            self._flat_size = sum(p.numel() for p in self._real_views())
        return self._flat_size

    def _flat_grad(self):
        from .. import cat, view_as_real, zeros
        pieces = []
        for p in self._params:
            g = zeros(p.numel(), dtype=p.dtype, device=p.device) if p.grad is None else p.grad.view(-1)
            pieces.append(view_as_real(g).view(-1) if g.is_complex() else g)
        return cat(pieces, 0)

    def _move(self, step, direction):
        """params += step * direction, `direction` being flat."""
        start = 0
        for p in self._real_views():
            stop = start + p.numel()
            _scaled_add_(p, direction[start:stop].view_as(p), step)
            start = stop
        if start != self._flat_numel():
            raise AssertionError(f"Expected offset {start} to equal {self._flat_numel()}")

    def _loss_and_grad_at(self, closure, origin, step, direction):
        """Loss and flat gradient at origin + step * direction; the parameters are put back."""
        self._move(step, direction)
        loss = float(closure())
        grad = self._flat_grad()
        for p, saved in zip(self._params, origin):
            p.copy_(saved)
        return loss, grad

    def step(self, closure):
        """Perform a single optimization step (closure: reevaluates the model, returns the loss)."""
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        if len(self.param_groups) != 1:
            raise AssertionError(f"Expected exactly one param_group, but got {len(self.param_groups)}")
        closure = enable_grad()(closure)
        group = self.param_groups[0]
        lr = group["lr"]
        if isinstance(lr, Tensor) and lr.dim() != 0:
            lr = lr.squeeze()       # a 1-element tensor lr stays a tensor, as in torch
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # LBFGS has one global state; torch files it under the first parameter so that
        # load_state_dict casts its tensors like that parameter.
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        flat_grad = self._flat_grad()
        evals = 1
        state["func_evals"] += 1
        if flat_grad.abs().max() <= tolerance_grad:
            return orig_loss

        d, t, H_diag = state.get("d"), state.get("t"), state.get("H_diag")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            first = state["n_iter"] == 1
            if first:               # no curvature known yet: steepest descent
                d = flat_grad.neg()
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d.mul(t)
                ys = y.dot(s)
                if ys > _MIN_CURVATURE:
                    if len(old_dirs) == history_size:   # forget the oldest pair
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                al = state.setdefault("al", [None] * history_size)
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, al)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # The very first step is capped at unit length in the l1 sense of the gradient,
            # since nothing yet tells how far the steepest-descent direction is good for.
            t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if first else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:     # not a descent direction (any more)
                break

            spent = 0
            if line_search_fn is None:
                self._move(t, d)
                # torch skips the evaluation after the last iteration: in a stochastic setting
                # its value would not be used
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._flat_grad()
                    spent = 1
            elif line_search_fn != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            else:
                origin = [p.clone() for p in self._params]
                found, spent = _wolfe_line_search(
                    lambda step: self._loss_and_grad_at(closure, origin, step, d), d,
                    _Probe(0, loss, flat_grad, gtd), t, max_eval - evals)
                t, loss, flat_grad = found.step, found.loss, found.grad
                self._move(t, d)
            evals += spent
            state["func_evals"] += spent

            if n_iter == max_iter or evals >= max_eval:
                break
            if spent and flat_grad.abs().max() <= tolerance_grad:
                break
            if d.mul(t).abs().max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
