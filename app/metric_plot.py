"""One plot of live curves over steps (:class:`MetricPlot`), with their bands and legend.

Plot items are created once and updated with ``setData``; curves clip to the view. A long history
is reduced by step before drawing (``app.curve_reduction``). Where the history kept a minimum and
maximum per row (a long run, see ``dlopt_core.train.engine.History``), they are drawn as a faint
band around the curve (:class:`Band`). Smoothing and the logarithmic axis change the display
only: the raw values are kept and the hover read-out shows them. One-pixel pens: antialiased
wider lines are several times slower to draw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QWidget

from app.curve_reduction import (
    MAX_DRAWN,
    LiveReduction,
    blowup_range,
    decimate,
    ema,
    followed_steps,
    kept_range,
)
from app.log_axis import DEFAULT_RANGE, set_log_y
from app.plots import BAND_ALPHA, MARKER_COLORS, LogAxis, configure_pyqtgraph, small_axes


class Band:
    """A faint fill between the lowest and the highest value behind each point of a curve (a
    long run's ``History`` keeps them), reduced like the curve; shown only where it is wider
    than the curve itself, i.e. where rows were merged. One closed path built from the arrays
    (pyqtgraph's FillBetweenItem rebuilds it from two curves' paths, ten times slower)."""

    def __init__(self, item: pg.PlotItem, color: QColor) -> None:
        fill_color = QColor(color)
        fill_color.setAlpha(BAND_ALPHA)
        self.fill = QGraphicsPathItem()
        self.fill.setPen(QPen(Qt.PenStyle.NoPen))
        self.fill.setBrush(QBrush(fill_color))
        self.fill.setVisible(False)
        item.addItem(self.fill, ignoreBounds=True)
        self._reduce = LiveReduction(MAX_DRAWN, band=True)
        self._shown = (np.empty(0), np.empty(0), np.empty(0))
        self._enabled = True
        self._drawn = False

    def show(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, log: bool = False) -> None:
        """Draw the band (log10 of the values on a log axis); hidden where there is none."""
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if log:
            ok &= lo > 0.0
        if len(lo) != len(x) or not np.any(hi[ok] > lo[ok]):
            self.hide()
            return
        xb, lb, hb = self._reduce(np.asarray(x, dtype=np.float64)[ok], lo[ok], hi[ok])
        if log:
            lb, hb = np.log10(lb), np.log10(hb)
        path = pg.arrayToQPath(np.r_[xb, xb[::-1]], np.r_[lb, hb[::-1]], connect="all")
        path.closeSubpath()
        self.fill.setPath(path)
        self._shown = (xb, lb, hb)
        self._drawn = True
        self.fill.setVisible(self._enabled)

    def hide(self) -> None:
        self._drawn = False
        self.fill.setVisible(False)

    def set_enabled(self, on: bool) -> None:
        """Show or hide with its curve (a drawn band comes back when enabled again)."""
        self._enabled = on
        self.fill.setVisible(on and self._drawn)

    @property
    def visible(self) -> bool:
        return self.fill.isVisible()

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, low, high) as drawn; empty when the band is hidden."""
        if not self.visible:
            return np.empty(0), np.empty(0), np.empty(0)
        return self._shown


@dataclass(frozen=True)
class CurveSpec:
    key: str
    name: str
    color: QColor
    dashed: bool = False  # a reference line (the edge of stability), not a measured curve


def legend_html(specs: Sequence[CurveSpec]) -> str:
    """Coloured line keys ("— train  — validation") for a plot's title: a legend that never sits
    on the curves."""
    solid, dashed = "\u2501\u2501", "\u254d\u254d"
    return "&nbsp;&nbsp;".join(
        f"<span style='color:{s.color.name()}'>{dashed if s.dashed else solid}</span>&nbsp;{s.name}"
        for s in specs
    )


class MetricPlot(pg.PlotWidget):
    """A plot of named curves over training steps, with min/max bands, markers and a hover
    read-out. The title names the quantity (and, with ``legend``, shows the curves' colours), so
    no axis title competes with the tick labels for room."""

    def __init__(
        self,
        title: str,
        curves: Sequence[CurveSpec],
        *,
        legend: bool = True,
        compact: bool = False,
        floor_zero: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent, axisItems={"left": LogAxis("left")})
        self.setMinimumHeight(70 if compact else 110)
        self.specs = list(curves)
        self._legend = legend
        item = self.getPlotItem()
        self.set_title(title)
        item.showGrid(x=True, y=True, alpha=0.15)
        if not compact:
            item.setLabel("bottom", "step")
        self._floor_zero = floor_zero
        item.setMenuEnabled(False)
        item.hideButtons()
        small_axes(item, left_width=52)
        for name in ("left", "bottom", "top", "right"):
            axis = item.getAxis(name)
            axis.enableAutoSIPrefix(False)  # hidden ones too: each range would re-set their label
            # axes, grid and title come from a pixmap of their own until their range or text
            # changes (they cost most of a paint, the curves little)
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        item.titleLabel.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        vb = self.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        # The view follows the data through _fit_view: pyqtgraph's own auto-range would repaint
        # every plot twice per update. Zooming or panning stops following; a double click resumes.
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._stop_following)
        self._follow = True
        self._refit = True  # the next fit sets the range afresh (new units, or cleared)
        self._stale = False  # data came while the plot was not shown: drawn when it is
        self._log = False
        self._smooth = False
        self._fmt: Callable[[float], str] = lambda v: f"{v:.4g}"
        self._steps = np.empty(0)
        self._raw: dict[str, np.ndarray] = {}
        self._bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._counts: dict[str, int] = {}
        self._faint: dict[str, pg.PlotDataItem] = {}
        self._main: dict[str, pg.PlotDataItem] = {}
        self._band_items: dict[str, Band] = {}
        self._dots: set[str] = set()  # curves of a single point, drawn as a dot
        # the recorded values, reduced for drawing a piece at a time as the run grows
        self._reduce = {spec.key: LiveReduction(MAX_DRAWN) for spec in self.specs}
        for spec in self.specs:
            faint_color = QColor(spec.color)
            faint_color.setAlpha(60)
            faint = pg.PlotDataItem(pen=pg.mkPen(faint_color, width=1))
            # one-pixel pens: antialiased wider lines cost ~6x more to draw (QPainter strokes them)
            style = Qt.PenStyle.DashLine if spec.dashed else Qt.PenStyle.SolidLine
            main = pg.PlotDataItem(pen=pg.mkPen(spec.color, width=1, style=style), name=spec.name)
            for curve in (faint, main):
                curve.setClipToView(True)
            faint.setVisible(False)
            self._band_items[spec.key] = Band(item, spec.color)
            item.addItem(faint)
            item.addItem(main)
            self._faint[spec.key] = faint
            self._main[spec.key] = main
        self._markers: dict[str, pg.InfiniteLine] = {}
        self._cursor = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(120, 120, 120, 160, width=1)
        )
        self._cursor.setVisible(False)
        item.addItem(self._cursor, ignoreBounds=True)
        self._readout = pg.TextItem(
            anchor=(0, 0), color="#222222", fill=pg.mkBrush(255, 255, 255, 215)
        )
        self._readout.setParentItem(self.getViewBox())
        self._readout.setPos(4, 2)
        self._readout.setVisible(False)
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=40, slot=self._hover)

    # -- data -------------------------------------------------------------------------------------
    def set_title(self, title: str) -> None:
        """The plot's title, followed by the curves' colour keys when it has a legend."""
        self.title = title
        keys = (
            f"&nbsp;&nbsp;&nbsp;<span style='font-size:8pt'>{legend_html(self.specs)}</span>"
            if self._legend
            else ""
        )
        self.getPlotItem().setTitle(
            f"<span style='font-size:10pt;font-weight:600'>{title}</span>{keys}"
        )

    def set_value_format(self, fmt: Callable[[float], str]) -> None:
        self._fmt = fmt

    def set_series(
        self,
        steps: np.ndarray,
        series: Mapping[str, np.ndarray],
        bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """New data: ``series[key]`` holds one value per entry of ``steps`` (NaN: missing);
        ``bands[key]``, where given, the lowest and highest value behind each of them."""
        self._steps = np.asarray(steps, dtype=np.float64)
        self._raw = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
        self._bands = {
            k: (np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
            for k, (lo, hi) in (bands or {}).items()
        }
        self._redraw()

    def _hidden_in_shown_window(self) -> bool:
        """Hidden by the user (the sharpness plot) or on a tab that is not shown: then new data
        waits until the plot shows (a plot never shown, as in a test, draws at once)."""
        return self.window().isVisible() and not self.isVisible()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._draw_waiting()

    def clear_data(self) -> None:
        self._refit = True
        self.set_series(np.empty(0), {})
        for key in list(self._markers):
            self.set_marker(key, None)

    def _draw_waiting(self) -> None:
        if self._stale:
            self._draw()

    def point_count(self, key: str) -> int:
        """Recorded points of curve ``key`` on the plot (finite values, before decimation)."""
        self._draw_waiting()
        return self._counts.get(key, 0)

    def curve_data(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (steps, values) drawn for curve ``key`` (after decimation and smoothing)."""
        self._draw_waiting()
        x, y = self._main[key].getOriginalDataset()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

    def band_data(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (steps, low, high) of curve ``key``'s band as drawn (log10 on a log axis); empty
        when no band is shown."""
        self._draw_waiting()
        return self._band_items[key].data()

    @property
    def log(self) -> bool:
        return self._log

    def set_log(self, on: bool) -> None:
        if on != self._log:
            self._log = on
            self._refit = True
            set_log_y(self.getPlotItem(), on)
            self._redraw()

    def set_smoothing(self, on: bool) -> None:
        if on != self._smooth:
            self._smooth = on
            self._redraw()

    def _set_curve(self, key: str, curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        """``curve.setData``; a single point is drawn as a dot (a line of one point is not)."""
        dot = len(x) == 1 and curve is self._main[key]
        if dot != (key in self._dots):
            self._dots.symmetric_difference_update({key})
            color = next(s.color for s in self.specs if s.key == key)
            curve.setSymbol("o" if dot else None)
            curve.setSymbolSize(5)
            curve.setSymbolPen(None)
            curve.setSymbolBrush(color)
        curve.setData(x, y)

    def _redraw(self) -> None:
        if self._hidden_in_shown_window():
            self._stale = True
        else:
            self._draw()

    def _draw(self) -> None:
        self._stale = False
        steps = self._steps
        span = max(3.0, len(steps) / 80.0)
        for spec in self.specs:
            y = self._raw.get(spec.key)
            main, faint = self._main[spec.key], self._faint[spec.key]
            if y is None or len(y) == 0:
                self._set_curve(spec.key, main, np.empty(0), np.empty(0))
                faint.setData([], [])
                faint.setVisible(False)
                self._band_items[spec.key].hide()
                self._counts[spec.key] = 0
                continue
            ok = np.isfinite(y)
            if self._log:
                ok &= y > 0.0
            x, yv = steps[ok], y[ok]
            self._counts[spec.key] = len(x)
            raw = self._reduce[spec.key](x, yv)
            if self._smooth and len(yv) > 2:
                sm = ema(np.log(yv), span) if self._log else ema(yv, span)
                self._set_curve(
                    spec.key, main, *decimate(x, np.exp(sm) if self._log else sm, MAX_DRAWN)
                )
                faint.setData(*raw)
                faint.setVisible(True)
            else:
                self._set_curve(spec.key, main, *raw)
                faint.setVisible(False)
            band = self._bands.get(spec.key)
            if band is None:
                self._band_items[spec.key].hide()
            else:
                self._band_items[spec.key].show(steps, *band, log=self._log)
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
        starts = [p[0] for p in parts]
        for band in self._band_items.values():
            if band.visible:  # the band's edges are in display units already
                parts += list(band.data()[1:])
        for line in self._markers.values():
            if line.isVisible():
                x_hi = max(x_hi, float(line.value()))
        values = np.clip(np.concatenate(parts), -1e300, 1e300)  # spans stay finite
        if self.marker("diverged") is not None:
            lo, hi = blowup_range(values, max(starts), self._log)
        else:
            lo, hi = float(np.min(values)), float(np.max(values))
        vb = self.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        if self._floor_zero and not self._log:
            y_range = kept_range((y0, y1), 0.0, hi, (0.0, max(hi * 1.15, 1e-12)), self._refit)
        else:
            pad = 0.06 * (hi - lo) if hi > lo else max(abs(hi) * 0.1, 1e-9)
            y_range = kept_range((y0, y1), lo, hi, (lo - pad, hi + pad), self._refit)
        x_range = followed_steps(x_hi)
        self._refit = False
        if (x_range, y_range) != ((x0, x1), (y0, y1)):  # most frames keep the range
            vb.setRange(xRange=x_range, yRange=y_range, padding=0.0)
            vb.updateMatrix()  # now, not in the next paint, which would then schedule another

    def _stop_following(self, *args) -> None:
        self._follow = False

    def follow(self) -> None:
        """Show the whole run again and keep following new data."""
        self._follow = True
        self._refit = True
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
                angle=90,
                movable=False,
                pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                label=label,
                labelOpts={
                    "position": 0.6,
                    "color": color,
                    "anchors": [(1, 0.5), (1, 0.5)],
                    "fill": pg.mkBrush(255, 255, 255, 200),
                },
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
                band = self._bands.get(spec.key)
                if band is not None and i < len(band[0]) and band[0][i] < band[1][i]:
                    value += f" ({self._fmt(band[0][i])} to {self._fmt(band[1][i])})"
                parts.append(f"{spec.name} {value}")
        text = "   ".join(parts)
        self._cursor.setPos(steps[i])
        self._cursor.setVisible(True)
        self._readout.setText(text)
        self._readout.setVisible(True)
        return text

    def hover_at_step(self, step: float) -> str:
        """Show the read-out as if the mouse were at ``step`` (tests and keyboard use)."""
        self._draw_waiting()
        if len(self._steps) == 0:
            return ""
        return self._show_readout(step)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._cursor.setVisible(False)
        self._readout.setVisible(False)
        super().leaveEvent(event)
