"""Live training curves with pyqtgraph: loss, error, learning rate and gradient norm.

Plot items are created once and updated with ``setData``; curves clip to the view and downsample
automatically, and a long history is first reduced to per-bucket minima and maxima, so a long run
stays cheap to draw. The view follows the data with ranges set before painting (pyqtgraph's own
auto-range costs a second repaint per update). Smoothing (an exponential moving average) and the
logarithmic axis change the display only: the raw values are kept and the hover read-out shows
them. One-pixel pens: antialiased wider lines are several times slower to draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from app.log_axis import DEFAULT_RANGE, set_log_y

TRAIN_COLOR = QColor(36, 110, 196)
VAL_COLOR = QColor(232, 118, 28)
LR_COLOR = QColor(96, 70, 160)
GRAD_COLOR = QColor(40, 140, 100)
MARKER_COLORS = {"diverged": QColor(200, 40, 40), "early_stopped": QColor(60, 140, 60),
                 "stop": QColor(90, 90, 160)}

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


def ema(values: np.ndarray, span: float) -> np.ndarray:
    """Exponential moving average with time constant ``span`` points, debiased at the start.

    Computed as a truncated convolution, which is vectorised and exact to 1e-6 of the weight.
    """
    n = len(values)
    if n < 3 or span <= 1.0:
        return values.copy()
    a = 1.0 - 1.0 / span
    length = min(n, int(math.ceil(math.log(1e-6) / math.log(a))) + 1)
    kernel = a ** np.arange(length)
    num = np.convolve(values, kernel)[:n]
    den = np.convolve(np.ones(n), kernel)[:n]
    return num / den


def decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points that keep every bucket's minimum and maximum (spikes stay)."""
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    starts = np.linspace(0, n, buckets, endpoint=False).astype(np.int64)
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    xs = np.repeat(x[starts], 2)
    ys = np.empty(2 * buckets)
    ys[0::2], ys[1::2] = lo, hi
    return xs, ys


def blowup_range(values: np.ndarray, start: float, log: bool = False) -> tuple[float, float]:
    """Min and max of the values up to 1000 times (log: 3 decades above) ``start``, the first
    value; for a run that diverged, whose last values would flatten the rest of the curve. The
    curve itself is not changed: it leaves the plot at the top."""
    limit = start + 3.0 if log else start + 1000.0 * max(abs(start), 1e-12)
    ordinary = values[values <= limit]
    if len(ordinary) == 0:
        ordinary = values
    # at least ten times the start (one decade): the first steps of the blow-up stay in view
    top = start + 1.0 if log else start + 9.0 * max(abs(start), 1e-12)
    return float(np.min(ordinary)), max(float(np.max(ordinary)), top)


MAX_DRAWN = 1200  # points per curve handed to pyqtgraph; a plot is rarely wider than 600 px


@dataclass(frozen=True)
class CurveSpec:
    key: str
    name: str
    color: QColor


class MetricPlot(pg.PlotWidget):
    """A plot of named curves over training steps, with markers and a hover read-out."""

    def __init__(self, title: str, y_label: str, curves: Sequence[CurveSpec], *,
                 legend: bool = True, compact: bool = False, floor_zero: bool = False,
                 parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setMinimumHeight(70 if compact else 110)
        item = self.getPlotItem()
        item.setTitle(f"<span style='font-size:10pt;font-weight:600'>{title}</span>")
        item.showGrid(x=True, y=True, alpha=0.15)
        if not compact:
            item.setLabel("left", y_label)
            item.setLabel("bottom", "step")
        self._floor_zero = floor_zero
        item.setMenuEnabled(False)
        item.hideButtons()
        small_axes(item, left_width=52)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        # The view follows the data through _fit_view: pyqtgraph's own auto-range would repaint
        # every plot twice per update. Zooming or panning stops following; a double click resumes.
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._stop_following)
        self._follow = True
        self.specs = list(curves)
        self._log = False
        self._smooth = False
        self._fmt: Callable[[float], str] = lambda v: f"{v:.4g}"
        self._steps = np.empty(0)
        self._raw: dict[str, np.ndarray] = {}
        self._counts: dict[str, int] = {}
        self._faint: dict[str, pg.PlotDataItem] = {}
        self._main: dict[str, pg.PlotDataItem] = {}
        if legend:
            leg = item.addLegend(offset=(-6, 4), labelTextSize="8pt", colCount=len(curves),
                                 horSpacing=12)
            leg.setBrush(pg.mkBrush(255, 255, 255, 210))
        for spec in self.specs:
            faint_color = QColor(spec.color)
            faint_color.setAlpha(60)
            faint = pg.PlotDataItem(pen=pg.mkPen(faint_color, width=1))
            # one-pixel pens: antialiased wider lines cost ~6x more to draw (QPainter strokes them)
            main = pg.PlotDataItem(pen=pg.mkPen(spec.color, width=1), name=spec.name)
            for curve in (faint, main):
                curve.setClipToView(True)
                curve.setDownsampling(auto=True, method="peak")
            faint.setVisible(False)
            item.addItem(faint)
            item.addItem(main)
            self._faint[spec.key] = faint
            self._main[spec.key] = main
        self._markers: dict[str, pg.InfiniteLine] = {}
        self._cursor = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(120, 120, 120, 160, width=1))
        self._cursor.setVisible(False)
        item.addItem(self._cursor, ignoreBounds=True)
        self._readout = pg.TextItem(anchor=(0, 0), color="#222222",
                                    fill=pg.mkBrush(255, 255, 255, 215))
        self._readout.setParentItem(self.getViewBox())
        self._readout.setPos(4, 2)
        self._readout.setVisible(False)
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=40, slot=self._hover)

    # -- data -------------------------------------------------------------------------------------
    def set_value_format(self, fmt: Callable[[float], str]) -> None:
        self._fmt = fmt

    def set_y_label(self, text: str) -> None:
        self.getPlotItem().setLabel("left", text)

    def set_series(self, steps: np.ndarray, series: dict[str, np.ndarray]) -> None:
        """New data: ``series[key]`` holds one value per entry of ``steps`` (NaN: missing)."""
        self._steps = np.asarray(steps, dtype=np.float64)
        self._raw = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        self._redraw()

    def clear_data(self) -> None:
        self.set_series(np.empty(0), {})
        for key in list(self._markers):
            self.set_marker(key, None)

    def point_count(self, key: str) -> int:
        """Recorded points of curve ``key`` on the plot (finite values, before decimation)."""
        return self._counts.get(key, 0)

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._main[key].getOriginalDataset()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

    def set_log(self, on: bool) -> None:
        if on != self._log:
            self._log = on
            set_log_y(self.getPlotItem(), on)
            self._redraw()

    def set_smoothing(self, on: bool) -> None:
        if on != self._smooth:
            self._smooth = on
            self._redraw()

    def _redraw(self) -> None:
        steps = self._steps
        span = max(3.0, len(steps) / 80.0)
        for spec in self.specs:
            y = self._raw.get(spec.key)
            main, faint = self._main[spec.key], self._faint[spec.key]
            if y is None or len(y) == 0:
                main.setData([], [])
                faint.setData([], [])
                faint.setVisible(False)
                self._counts[spec.key] = 0
                continue
            ok = np.isfinite(y)
            if self._log:
                ok &= y > 0.0
            x, yv = steps[ok], y[ok]
            self._counts[spec.key] = len(x)
            if self._smooth and len(yv) > 2:
                sm = ema(np.log(yv), span) if self._log else ema(yv, span)
                main.setData(*decimate(x, np.exp(sm) if self._log else sm, MAX_DRAWN))
                faint.setData(*decimate(x, yv, MAX_DRAWN))
                faint.setVisible(True)
            else:
                main.setData(*decimate(x, yv, MAX_DRAWN))
                faint.setVisible(False)
        if self._follow:
            self._fit_view()

    def _fit_view(self) -> None:
        """Show all steps and all drawn values (from 0 with ``floor_zero``)."""
        x_hi = 0.0
        parts = []
        faint = [c for c in self._faint.values() if c.isVisible()]
        for curve in (*self._main.values(), *faint):
            x, y = curve.getOriginalDataset()
            if x is None or len(x) == 0:
                continue
            x_hi = max(x_hi, float(x[-1]))
            parts.append(np.log10(np.maximum(y, 1e-300)) if self._log else np.asarray(y))
        if not parts:  # nothing finite to show: a default range, never an old one
            self.getViewBox().setRange(xRange=DEFAULT_RANGE, yRange=DEFAULT_RANGE, padding=0.0)
            return
        for line in self._markers.values():
            if line.isVisible():
                x_hi = max(x_hi, float(line.value()))
        values = np.clip(np.concatenate(parts), -1e300, 1e300)  # spans stay finite
        if self.marker("diverged") is not None:
            lo, hi = blowup_range(values, max(p[0] for p in parts), self._log)
        else:
            lo, hi = float(np.min(values)), float(np.max(values))
        if self._floor_zero and not self._log:
            lo, hi = 0.0, max(hi * 1.15, 1e-12)
        pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi) * 0.1, 1e-9)
        y_range = (lo, hi) if self._floor_zero and not self._log else (lo - pad, hi + pad)
        x_range = (-0.01 * x_hi, max(x_hi * 1.01, 1.0))
        vb = self.getViewBox()
        vb.setRange(xRange=x_range, yRange=y_range, padding=0.0)
        vb.updateMatrix()  # now, not in the next paint, which would then schedule a second one

    def _stop_following(self, *args) -> None:
        self._follow = False

    def follow(self) -> None:
        """Show the whole run again and keep following new data."""
        self._follow = True
        self._fit_view()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.follow()
        super().mouseDoubleClickEvent(event)

    # -- markers ----------------------------------------------------------------------------------
    def set_marker(self, key: str, step: float | None, label: str = "") -> None:
        """A labelled vertical line at ``step`` (None hides it)."""
        line = self._markers.get(key)
        if step is None:
            if line is not None:
                line.setVisible(False)
            return
        if line is None:
            color = MARKER_COLORS.get(key, QColor(90, 90, 90))
            line = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                label=label, labelOpts={"position": 0.6, "color": color, "anchors": [(1, 0.5),
                                                                                   (1, 0.5)],
                                        "fill": pg.mkBrush(255, 255, 255, 200)},
            )
            self.getPlotItem().addItem(line, ignoreBounds=True)
            self._markers[key] = line
        elif line.label is not None and line.label.format != label:
            line.label.setFormat(label)
        line.setPos(step)
        line.setVisible(True)
        if self._follow:
            self._fit_view()

    def marker(self, key: str) -> tuple[float, str] | None:
        line = self._markers.get(key)
        if line is None or not line.isVisible():
            return None
        return float(line.value()), line.label.format if line.label is not None else ""

    # -- hover read-out ---------------------------------------------------------------------------
    def _hover(self, event) -> None:
        pos: QPointF = event[0]
        vb = self.getViewBox()
        if not vb.sceneBoundingRect().contains(pos) or len(self._steps) == 0:
            self._cursor.setVisible(False)
            self._readout.setVisible(False)
            return
        x = vb.mapSceneToView(pos).x()
        self._show_readout(x)

    def _show_readout(self, x: float) -> str:
        steps = self._steps
        i = int(np.clip(np.searchsorted(steps, x), 0, len(steps) - 1))
        if i > 0 and abs(steps[i - 1] - x) < abs(steps[i] - x):
            i -= 1
        parts = [f"step {int(steps[i]):,}"]
        for spec in self.specs:
            y = self._raw.get(spec.key)
            if y is not None and i < len(y):
                value = self._fmt(y[i]) if np.isfinite(y[i]) else "\u2013"
                parts.append(f"{spec.name} {value}")
        text = "   ".join(parts)
        self._cursor.setPos(steps[i])
        self._cursor.setVisible(True)
        self._readout.setText(text)
        self._readout.setVisible(True)
        return text

    def hover_at_step(self, step: float) -> str:
        """Show the read-out as if the mouse were at ``step`` (tests and keyboard use)."""
        if len(self._steps) == 0:
            return ""
        return self._show_readout(step)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._cursor.setVisible(False)
        self._readout.setVisible(False)
        super().leaveEvent(event)


def _fmt_percent(v: float) -> str:
    return f"{v:.1f}%"


class CurvesPanel(QWidget):
    """Loss and error (train and validation) over steps, with learning-rate and gradient plots."""

    optionsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        train_val = lambda: [CurveSpec("train", "train", TRAIN_COLOR),  # noqa: E731
                             CurveSpec("val", "validation", VAL_COLOR)]
        self.loss = MetricPlot("Loss", "loss", train_val())
        self.error = MetricPlot("Error", "error (%)", train_val(), legend=False)
        self.lr = MetricPlot("Learning rate", "lr", [CurveSpec("lr", "lr", LR_COLOR)],
                             legend=False, compact=True, floor_zero=True)
        self.grad = MetricPlot("Gradient norm", "\u2016g\u2016",
                               [CurveSpec("grad", "\u2016g\u2016", GRAD_COLOR)],
                               legend=False, compact=True)
        self.plots = (self.loss, self.error, self.lr, self.grad)
        self.error.setXLink(self.loss)  # stacked with equal axes: the same steps line up
        loss_item = self.loss.getPlotItem()
        loss_item.setLabel("bottom", "")
        loss_item.getAxis("bottom").setStyle(showValues=False)
        loss_item.getAxis("bottom").setHeight(6)
        self.error.set_value_format(_fmt_percent)
        self.lr.set_value_format(lambda v: f"{v:.3g}")
        self.grad.set_value_format(lambda v: f"{v:.3g}")

        self.log_box = QCheckBox("log scale")
        self.log_box.setToolTip("Logarithmic y axis for loss, error and gradient norm")
        self.smooth_box = QCheckBox("smooth")
        self.smooth_box.setToolTip("Show an exponential moving average (display only; the raw "
                                   "values stay in the read-out and the CSV export)")
        self.log_box.toggled.connect(self._set_log)
        self.smooth_box.toggled.connect(self._set_smooth)
        self.log_box.toggled.connect(self.optionsChanged)
        self.smooth_box.toggled.connect(self.optionsChanged)

        # the display options, for the caller to place (e.g. in a section title)
        self.options = QWidget()
        head = QHBoxLayout(self.options)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.log_box)
        head.addWidget(self.smooth_box)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.loss, 0, 0, 1, 2)
        grid.addWidget(self.error, 1, 0, 1, 2)
        grid.addWidget(self.lr, 2, 0)
        grid.addWidget(self.grad, 2, 1)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)
        grid.setRowStretch(2, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(grid, 1)
        self._regression = False
        self._steps = np.empty(0)
        self._data: dict[str, np.ndarray] = {}

    def set_task(self, regression: bool) -> None:
        self._regression = regression
        self.error.set_y_label("RMSE" if regression else "error (%)")
        self.error.getPlotItem().setTitle(
            "<span style='font-size:10pt;font-weight:600'>"
            f"{'Error (RMSE)' if regression else 'Error (misclassified %)'}</span>")
        self.error.set_value_format((lambda v: f"{v:.4g}") if regression else _fmt_percent)

    def clear(self) -> None:
        self._steps = np.empty(0)
        self._data = {}
        for plot in self.plots:
            plot.clear_data()

    def show_history(self, steps: np.ndarray, data: dict[str, np.ndarray],
                     small: bool = True) -> None:
        """Draw a run's history: ``data`` maps engine FIELDS to arrays aligned with ``steps``.

        ``small=False`` leaves the learning-rate and gradient plots as they are (to save time).
        """
        self._steps = steps
        self._data = data
        err_scale = 1.0 if self._regression else 100.0
        self.loss.set_series(steps, {"train": data["train_loss"], "val": data["val_loss"]})
        self.error.set_series(steps, {"train": data["train_error"] * err_scale,
                                      "val": data["val_error"] * err_scale})
        if small:
            self.show_small(steps, data)

    def show_small(self, steps: np.ndarray, data: dict[str, np.ndarray]) -> None:
        """Only the learning-rate and gradient-norm plots."""
        self.lr.set_series(steps, {"lr": data["lr"]})
        self.grad.set_series(steps, {"grad": data["grad_norm"]})

    def set_markers(self, markers: dict[str, tuple[float, str] | None]) -> None:
        """``markers[key] = (step, label)`` or None, drawn on the loss, error and gradient plots."""
        for key, value in markers.items():
            for plot in (self.loss, self.error, self.grad):
                if value is None:
                    plot.set_marker(key, None)
                else:
                    plot.set_marker(key, value[0], value[1])

    def _set_log(self, on: bool) -> None:
        for plot in (self.loss, self.error, self.grad):
            plot.set_log(on)

    def _set_smooth(self, on: bool) -> None:
        for plot in (self.loss, self.error, self.grad):
            plot.set_smoothing(on)
