"""Switching a pyqtgraph plot's y axis between linear and log scale without a runaway range.

In log mode pyqtgraph reads the view's y range as powers of ten. A range left over from linear
mode (1e20 to 1e21 after a divergence) would then span 10^(1e20) and ask the axis for ~1e21 tick
marks, which exhausts memory. :func:`set_log_y` converts the range to the new units before it
switches; :func:`finite_range` gives a usable range for any pair of values.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

DEFAULT_RANGE = (0.0, 1.0)  # linear 0..1, or 1..10 in log mode
MAX_DECADE = 300.0  # powers of ten that stay finite both ways


def finite_range(
    lo: float, hi: float, default: tuple[float, float] = DEFAULT_RANGE
) -> tuple[float, float]:
    """``(lo, hi)`` if both are finite and ``lo < hi``, else ``default`` (a NaN, an infinity
    or an empty span never reaches pyqtgraph)."""
    if math.isfinite(lo) and math.isfinite(hi) and lo < hi and math.isfinite(hi - lo):
        return float(lo), float(hi)
    return default


def to_log_range(lo: float, hi: float) -> tuple[float, float]:
    """A linear range in decades: its positive part, or the default when it has none."""
    if not (math.isfinite(hi) and hi > 0.0):
        return DEFAULT_RANGE
    top = min(math.log10(hi), MAX_DECADE)
    bottom = math.log10(lo) if math.isfinite(lo) and lo > 0.0 else top - 3.0
    return finite_range(max(bottom, -MAX_DECADE), top, (top - 1.0, top))


def to_linear_range(lo: float, hi: float) -> tuple[float, float]:
    """A range in decades as linear values (exponents clipped to +-MAX_DECADE)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return DEFAULT_RANGE
    lo, hi = (min(max(v, -MAX_DECADE), MAX_DECADE) for v in (lo, hi))
    return finite_range(10.0**lo, 10.0**hi)


def is_log_y(item: pg.PlotItem) -> bool:
    return bool(item.ctrl.logYCheck.isChecked())


def set_log_y(item: pg.PlotItem, on: bool) -> None:
    """Switch ``item``'s y axis to log (``on``) or linear scale, keeping the shown values."""
    if on == is_log_y(item):
        return
    vb = item.getViewBox()
    lo, hi = vb.viewRange()[1]
    vb.setYRange(*(to_log_range(lo, hi) if on else to_linear_range(lo, hi)), padding=0.0)
    item.setLogMode(y=on)
