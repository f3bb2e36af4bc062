"""Tensor printing: the exact text PyTorch's ``repr(tensor)`` produces, computed with numpy.

The spec is ``torch/_tensor_str.py``; this file re-derives its rules rather than copying it.

NOTE [How torch lays out a printed tensor]
A tensor is written with one column style shared by every element: a single width, and one
notation chosen from the elements that matter (nonzero finite values of the elements that are
actually shown):
  * integers and bools: ``str(value)``, right-aligned to the widest;
  * floats whose shown values are all whole numbers: ``"1."`` (``.0f`` plus a dot), width one
    more than the widest digits;
  * otherwise fixed point with ``precision`` decimals, or scientific notation with ``precision``
    decimals when the magnitudes span more than 1000x, exceed 1e8 or fall below 1e-4 (or when
    ``sci_mode`` forces it either way).
nan, inf and -0. never take part in choosing the width or notation; they are padded to the width
chosen from the others and may overflow it (``tensor([0.5000, -0.0000])``).
Complex tensors get one such style for the real parts and another for the imaginary parts.

Tensors with more than ``threshold`` elements are summarised: each dimension longer than
``2 * edgeitems`` shows its first and last ``edgeitems`` entries around ``...``; the style is
chosen from the shown entries only. 1-D rows wrap to fit ``linewidth``; the suffixes
(device, dtype, grad) wrap onto their own line when the last line would pass ``linewidth``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set options for printing tensors, as ``torch.set_printoptions``.

    As in torch: a profile (``"default"``, ``"short"``, ``"full"``) is applied first and the
    explicit options override it, an unknown profile is ignored, and ``sci_mode`` is always
    assigned, so any call that omits it turns automatic notation back on.
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    explicit = dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                    linewidth=linewidth)
    for name, value in explicit.items():
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments that ``set_printoptions`` accepts."""
    return dataclasses.asdict(_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Change the print options inside a ``with`` block, restoring them afterwards."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def _is_floating(dtype_name: str) -> bool:
    # float16/32/64, bfloat16 and the float8 family; complex is handled as two float parts.
    return dtype_name.startswith(("float", "bfloat"))


class _Column:
    """The shared width and notation for every element of one real tensor (see NOTE above)."""

    def __init__(self, shown: np.ndarray, floating: bool):
        self.floating = floating
        self.width = 1
        self.whole = True  # every shown nonzero finite value is a whole number
        self.sci = False
        self.precision = _OPTIONS.precision
        if not floating:
            self.width = max([1] + [len(str(v)) for v in shown.ravel().tolist()])
            return
        flat = shown.ravel()
        chosen = flat[np.isfinite(flat) & (flat != 0)]
        if chosen.size == 0:
            return
        magnitude = np.abs(chosen)
        low, high = magnitude.min(), magnitude.max()
        self.whole = bool(np.all(chosen == np.ceil(chosen)))
        if _OPTIONS.sci_mode is None:
            with np.errstate(over="ignore"):
                self.sci = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        else:
            self.sci = _OPTIONS.sci_mode
        if self.sci:
            spec, extra = f".{self.precision}e", 0
        elif self.whole:
            spec, extra = ".0f", 1  # room for the trailing "." of "1."
        else:
            spec, extra = f".{self.precision}f", 0
        self.width = max([1] + [len(format(v, spec)) + extra for v in chosen.tolist()])

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci:
            text = format(value, f"{self.width}.{self.precision}e")
        elif self.whole:
            text = format(value, ".0f")
            if math.isfinite(value):
                text += "."
        else:
            text = format(value, f".{self.precision}f")
        return text.rjust(self.width)


class _Layout:
    """Writes the bracketed body of a non-empty tensor with one or two columns."""

    def __init__(self, values: np.ndarray, kind: str):
        self.summarize = values.size > _OPTIONS.threshold
        self.edge = _OPTIONS.edgeitems
        shown = self._shown(values) if self.summarize else values
        if kind == "complex":
            self.columns = (_Column(shown.real, True), _Column(shown.imag, True))
        else:
            self.columns = (_Column(shown, kind == "float"),)

    def _shown(self, values: np.ndarray) -> np.ndarray:
        """The elements a summarised print displays, which alone choose the column style."""
        edge = self.edge
        if values.ndim == 0:
            return values
        if values.ndim == 1:
            if values.shape[0] <= 2 * edge:
                return values
            # With edge == 0 torch takes values[:0] and values[-0:], i.e. everything.
            return np.concatenate([values[:edge], values[-edge:]])
        if not edge:
            return values[(slice(0, 0),) * values.ndim]
        keep = [np.r_[0:edge, n - edge:n] if n > 2 * edge else np.arange(n)
                for n in values.shape]
        return values[np.ix_(*keep)]

    def cell(self, value) -> str:
        if len(self.columns) == 1:
            return self.columns[0].format(value)
        real_col, imag_col = self.columns
        real = real_col.format(value.real)
        imag = (imag_col.format(value.imag) + "j").lstrip()
        # A negative imaginary part (or -0.) brings its own sign; otherwise join with "+".
        return real + imag if imag[0] in "+-" else real + "+" + imag

    def body(self, values: np.ndarray, indent: int) -> str:
        if values.ndim == 0:
            return self.cell(values.item())
        if values.ndim == 1:
            return self._row(values, indent)
        n, edge = values.shape[0], self.edge
        if self.summarize and n > 2 * edge:
            parts = ([self.body(values[i], indent + 1) for i in range(edge)] + ["..."]
                     + [self.body(values[i], indent + 1) for i in range(n - edge, n)])
        else:
            parts = [self.body(sub, indent + 1) for sub in values]
        separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
        return "[" + separator.join(parts) + "]"

    def _row(self, row: np.ndarray, indent: int) -> str:
        cell_width = sum(c.width for c in self.columns) + 2  # ", " between cells
        if len(self.columns) == 2:
            cell_width += 1  # the "j"
        per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / cell_width))
        edge = self.edge
        if self.summarize and not edge:
            cells = ["..."]
        elif self.summarize and row.shape[0] > 2 * edge:
            cells = ([self.cell(v) for v in row[:edge].tolist()] + [" ..."]
                     + [self.cell(v) for v in row[-edge:].tolist()])
        else:
            cells = [self.cell(v) for v in row.tolist()]
        lines = [", ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _as_numpy(values, dtype_name: str) -> tuple[np.ndarray, str]:
    """Values as float64, complex128, bool or an integer array, plus their kind.

    Widening is exact for every float dtype, so formatting the widened value prints the same
    digits torch prints from ``tensor.item()``.
    """
    array = np.asarray(values)
    if dtype_name.startswith("complex"):
        return array.astype(np.complex128), "complex"
    if _is_floating(dtype_name):
        return array.astype(np.float64), "float"
    if dtype_name == "bool":
        return array.astype(bool), "int"
    if array.dtype.kind not in "iu":
        array = array.astype(np.dtype(dtype_name))
    return array, "int"


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    pieces = [text]
    # torch counts the last line this way (one more than its visible length); kept for parity.
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTIONS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(pieces) + ")"


def tensor_repr(values: np.ndarray, dtype_name: str, *, default_dtype_name: str = "float32",
                device: str | None = None, requires_grad: bool = False,
                grad_fn: str | None = None, is_parameter: bool = False) -> str:
    """``repr(tensor)`` (equally ``str(tensor)``) of a dense tensor holding ``values``.

    ``dtype_name`` is torch's name without ``torch.``; bfloat16 values may arrive as
    ``ml_dtypes.bfloat16`` or exactly-representable float32. A device of ``None`` or type
    ``cpu`` is not shown. ``grad_fn`` (a node class name) wins over ``requires_grad``, as in torch.
    ``is_parameter`` adds torch's ``"Parameter containing:\\n"`` header; the
    ``requires_grad=True`` suffix still comes from ``requires_grad``, because a Parameter made
    with ``requires_grad=False`` prints without it.
    """
    array, kind = _as_numpy(values, dtype_name)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if device is not None and device.split(":")[0] != "cpu":
        suffixes.append(f"device='{device}'")
    size = "size=" + str(tuple(int(n) for n in array.shape))
    if array.size == 0:
        # numpy prints the shape of any empty array that is not (0,); with no element to
        # hint at it, every dtype but the default one is named.
        if array.ndim != 1:
            suffixes.append(size)
        if dtype_name != default_dtype_name:
            suffixes.append(f"dtype=torch.{dtype_name}")
        body = "[]"
    else:
        if not _OPTIONS.edgeitems:
            suffixes.append(size)
        default_complex = "complex128" if default_dtype_name == "float64" else "complex64"
        if dtype_name not in (default_dtype_name, default_complex, "int64", "bool"):
            suffixes.append(f"dtype=torch.{dtype_name}")
        body = _Layout(array, kind).body(array, indent)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = _add_suffixes(prefix + body, suffixes, indent)
    return "Parameter containing:\n" + text if is_parameter else text
