"""Anomaly detection: detect_anomaly / set_detect_anomaly.

While enabled, every recorded node remembers the Python stack of the forward call that made it;
when its backward fails, that stack is shown (as a warning, as torch does) before the error
propagates, and with check_nan a backward that produces NaN raises at once.
"""
import traceback
import warnings

_enabled = False      # global, as in torch (not thread-local)
_check_nan = True


def is_anomaly_enabled():
    return _enabled


def is_anomaly_check_nan_enabled():
    return _check_nan


def _set(mode, check_nan):
    global _enabled, _check_nan
    _enabled, _check_nan = bool(mode), bool(check_nan)


def remember_forward(node):
    node._extra().trace = "".join(traceback.format_stack()[:-3])


def forward_trace_warning(node):
    x = node._x
    trace = x.trace if x is not None else None
    if trace is None:
        warnings.warn("Error detected in %s. No forward pass information available. Enable detect "
                      "anomaly during forward pass for more information." % node.name())
    else:
        warnings.warn("Error detected in %s. Traceback of forward call that caused the error:\n%s"
                      % (node.name(), trace))


class detect_anomaly:
    """Context manager and decorator that enables anomaly detection inside."""

    def __init__(self, check_nan=True):
        self.prev = _enabled
        self.check_nan = check_nan
        self.prev_check_nan = _check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and "
                      "should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(self.prev, self.prev_check_nan)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapped


class set_detect_anomaly:
    """Sets anomaly detection on or off at once; as a context manager, restores it on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = _enabled
        self.prev_check_nan = _check_nan
        _set(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(self.prev, self.prev_check_nan)
