"""The plot basics every tab shares: colours, pyqtgraph's theme, compact axes, a plot with a
logarithmic axis and the note an empty plot shows.

The live curves themselves are drawn by ``app.metric_plot.MetricPlot`` (reduced for drawing by
``app.curve_reduction``), and the Playground's panel of them is ``app.playground.curves``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

TRAIN_COLOR = QColor(36, 110, 196)
VAL_COLOR = QColor(232, 118, 28)
LR_COLOR = QColor(96, 70, 160)
GRAD_COLOR = QColor(40, 140, 100)
SHARPNESS_COLOR = QColor(178, 50, 110)
EDGE_COLOR = QColor(80, 80, 80)
MARKER_COLORS = {
    "diverged": QColor(200, 40, 40),
    "early_stopped": QColor(60, 140, 60),
    "stop": QColor(90, 90, 160),
}
BAND_ALPHA = 45  # the min/max band around a curve: faint, the curve stays the thing to read

_configured = False


def configure_pyqtgraph() -> None:
    """Light theme and antialiased lines for every plot of the app (once)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(background="w", foreground="#333333", antialias=True)
        _configured = True


def small_axes(item: pg.PlotItem, left_width: int | None = None) -> None:
    """8-point tick labels without SI prefixes on the left and bottom axes of ``item``."""
    font = QFont()
    font.setPointSizeF(8.0)
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTickFont(font)
        item.getAxis(axis).enableAutoSIPrefix(False)
    if left_width is not None:
        item.getAxis("left").setWidth(left_width)


class LogAxis(pg.AxisItem):
    """An axis whose log-mode labels stay legible: decades only, plus 2 and 5 when few decades
    are in view (pyqtgraph labels every minor tick, and they run together). Less than a decade
    in view (a loss between 0.68 and 0.75) holds no decade and few 2s or 5s, often none: then
    the ticks sit at round values of the data, labelled as on a linear axis."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802 - pyqtgraph API
        if maxVal - minVal >= 1.0:
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        lo, hi = 10.0**minVal, 10.0**maxVal
        levels = []
        seen = np.zeros(0)
        for spacing, offset in self.tickSpacing(lo, hi, size):
            start = math.ceil((lo - offset) / spacing) * spacing + offset
            values = start + spacing * np.arange(int((hi - start) / spacing) + 1)
            values = values[values > 0.0]
            if seen.size:  # a tick of a coarser level is not repeated
                values = values[
                    ~np.isclose(values[:, None], seen[None, :], rtol=0.0, atol=spacing * 0.01).any(
                        axis=1
                    )
                ]
            seen = np.concatenate([seen, values])
            levels.append((spacing, np.log10(values).tolist()))
        return levels

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        lo, hi = self.range
        if abs(hi - lo) < 1.0 and spacing:  # the linear ticks of logTickValues
            places = max(0, math.ceil(-math.log10(spacing)))
            return [
                f"{10.0**v:.{places}f}" if 1e-3 <= 10.0**v < 1e4 else f"{10.0**v:g}" for v in values
            ]
        few = abs(hi - lo) < 2.5
        out = []
        for v in values:
            x = 10.0**v
            mantissa = round(x / 10.0 ** math.floor(v + 1e-9), 6)
            decade = abs(v - round(v)) < 1e-6
            out.append(f"{x:g}" if decade or (few and mantissa in (2.0, 5.0)) else "")
        return out


def log_plot_widget() -> pg.PlotWidget:
    """A PlotWidget with :class:`LogAxis` on the left and at the bottom."""
    configure_pyqtgraph()
    return pg.PlotWidget(axisItems={"bottom": LogAxis("bottom"), "left": LogAxis("left")})


class EmptyNote:
    """A grey note in the middle of an empty plot, whose axes then show no numbers (instead of
    pyqtgraph's placeholder range 0 to 1)."""

    def __init__(
        self, item: pg.PlotItem, text: str, axes: Sequence[str] = ("left", "bottom")
    ) -> None:
        self.item = item
        self.axes = tuple(axes)
        self.label = pg.TextItem(text, color="#888888", anchor=(0.5, 0.5))
        self.label.setParentItem(item.getViewBox())
        item.getViewBox().sigResized.connect(self._center)
        self.show(True)

    def set_text(self, text: str) -> None:
        self.label.setText(text, color="#888888")
        self._center()

    def show(self, empty: bool) -> None:
        """Show the note and hide the axes' numbers (``empty``), or the other way round."""
        self.label.setVisible(empty)
        for name in self.axes:
            axis = self.item.getAxis(name)
            if axis.style["showValues"] == empty:
                axis.setStyle(showValues=not empty)
        self._center()

    @property
    def shown(self) -> bool:
        return self.label.isVisible()

    def _center(self, *args) -> None:
        self.label.setPos(self.item.getViewBox().boundingRect().center())
