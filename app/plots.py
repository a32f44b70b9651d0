"""Live training curves with pyqtgraph: loss, error, learning rate and gradient norm.

Plot items are created once and updated with ``setData``; curves clip to the view. A long history
is reduced by step before drawing: the steps are cut into equal spans and each span keeps its
first, last, lowest and highest points at the steps where they were recorded, so a change of
rate is drawn where it happened and spikes stay. Where the history kept a minimum and maximum per
row (a long run, see ``dlopt_core.train.engine.History``), they are drawn as a faint band around the
curve. The view follows the data with ranges set before painting (pyqtgraph's own auto-range costs
a second repaint per update). Smoothing (an exponential moving average) and the logarithmic axis
change the display only: the raw values are kept and the hover read-out shows them. One-pixel
pens: antialiased wider lines are several times slower to draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QGraphicsPathItem,
    QGridLayout,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from app.log_axis import DEFAULT_RANGE, set_log_y

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


def _spans(x: np.ndarray, n_spans: int) -> np.ndarray:
    """The span (0 .. n_spans-1) of each step when [x[0], x[-1]] is cut into equal spans."""
    width = float(x[-1] - x[0])
    if width <= 0.0:
        return np.zeros(len(x), dtype=np.int64)
    return np.minimum(((x - x[0]) * (n_spans / width)).astype(np.int64), n_spans - 1)


def _firsts_and_lasts(mask: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Indices of the first and the last True of ``mask`` within each span."""
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return pos
    s = span[pos]
    change = s[1:] != s[:-1]
    return np.r_[pos[np.r_[True, change]], pos[np.r_[change, True]]]


def _span_starts(span: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, span[1:] != span[:-1]])


def _curve_points(
    x: np.ndarray, y: np.ndarray, span: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per span (``span``: non-decreasing, one per point), the first, last, lowest and highest
    points at their own steps, in step order: ``(x, y, span)`` of the points kept."""
    n = len(x)
    starts = _span_starts(span)
    counts = np.diff(np.r_[starts, n])
    lo = np.repeat(np.minimum.reduceat(y, starts), counts)
    hi = np.repeat(np.maximum.reduceat(y, starts), counts)
    keep = np.unique(
        np.r_[
            starts,
            starts + counts - 1,
            _firsts_and_lasts(y == lo, span),
            _firsts_and_lasts(y == hi, span),
        ]
    )
    return x[keep], y[keep], span[keep]


def _band_points(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, span: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per span, the lowest ``lo`` and the highest ``hi``, held from the span's first step to
    its last: ``(x, low, high, span)`` of the band's corners."""
    starts = _span_starts(span)
    ends = np.r_[starts[1:], len(x)] - 1
    xs = np.column_stack([x[starts], x[ends]]).ravel()
    return (
        xs,
        np.repeat(np.minimum.reduceat(lo, starts), 2),
        np.repeat(np.maximum.reduceat(hi, starts), 2),
        np.repeat(span[starts], 2),
    )


def decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """About ``max_points`` points drawn like all of them: the steps ``x`` (increasing) are cut
    into equal spans, and each span keeps its first, last, lowest and highest points, at their
    own steps and in step order (of equal values, the first and the last). Spikes stay, and a
    jump is drawn between the two recorded steps where it happened."""
    if len(x) <= max_points:
        return x, y
    return _curve_points(x, y, _spans(x, max(1, max_points // 4)))[:2]


def decimate_band(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A min/max band reduced like :func:`decimate`: per span of steps, the lowest ``lo`` and
    the highest ``hi``, held from the span's first step to its last."""
    if len(x) <= max_points:
        return x, lo, hi
    return _band_points(x, lo, hi, _spans(x, max(1, max_points // 2)))[:3]


def span_width(extent: float, n_spans: int) -> float:
    """The smallest power of two that cuts ``extent`` into at most ``n_spans`` spans (and one
    more for the end point)."""
    if extent <= 0.0:
        return 1.0
    return 2.0 ** math.ceil(math.log2(extent / n_spans))


class LiveReduction:
    """:func:`decimate` (or, with ``band``, :func:`decimate_band`) for a series that grows at
    its end, as a live run's history does, redoing only its newest span.

    The spans are aligned at multiples of a power-of-two width from the first step, so a
    finished span stays as it is while the run goes on; its reduced points are kept. All is
    reduced anew only when the width doubles (the run doubled in length) or when the rows
    before the newest span changed (the history halved, the log axis dropped values, a new
    run): the inputs are compared with the last ones, so no caller has to say so.
    """

    def __init__(self, max_points: int = 0, band: bool = False) -> None:
        self.max_points = max_points or MAX_DRAWN
        self.band = band
        self.n_spans = max(1, self.max_points // (2 if band else 4))
        self._clear()

    def _clear(self) -> None:
        self._inputs: tuple[np.ndarray, ...] = ()
        self._rows = 0  # the rows of the inputs whose spans are finished and kept reduced
        self._width = 0.0
        self._done: tuple[np.ndarray, ...] = ()
        self.reused_rows = 0  # rows of the last call taken from the kept part (tests, benchmarks)

    def _still_valid(self, arrays: tuple[np.ndarray, ...], width: float) -> bool:
        rows = self._rows
        return (
            rows > 0
            and width == self._width
            and len(arrays[0]) > rows
            and all(
                np.array_equal(a[:rows], b[:rows], equal_nan=True)
                for a, b in zip(arrays, self._inputs, strict=True)
            )
        )

    def __call__(self, x: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
        """The reduced ``(x, *values)``: ``(x, y)`` for a curve, ``(x, low, high)`` for a band."""
        arrays = (x, *values)
        if len(x) <= self.max_points:
            self._clear()
            return arrays
        width = span_width(float(x[-1] - x[0]), self.n_spans)
        if not self._still_valid(arrays, width):
            self._clear()
            self._width = width
        rows = self._rows
        self.reused_rows = rows
        span = ((x[rows:] - x[0]) // width).astype(np.int64)
        tail = tuple(a[rows:] for a in arrays)
        reduced = _band_points(*tail, span) if self.band else _curve_points(*tail, span)
        *cols, point_span = reduced
        done = point_span < span[-1]
        if not self._done:
            self._done = tuple(c[:0] for c in cols)
        self._done = tuple(
            np.concatenate([kept, c[done]]) for kept, c in zip(self._done, cols, strict=True)
        )
        self._rows = rows + int(np.searchsorted(span, span[-1]))
        self._inputs = arrays
        return tuple(
            np.concatenate([kept, c[~done]]) for kept, c in zip(self._done, cols, strict=True)
        )


def blowup_range(values: np.ndarray, start: float, log: bool = False) -> tuple[float, float]:
    """The y range for a run that diverged, whose last values would flatten the rest of the
    curve. Linear: min and max of the values up to 1000 times ``start`` (the first value), at
    least ten times ``start``, so the first steps of the blow-up stay in view and the curve
    leaves the plot at the top. Log (``values`` and ``start`` as log10): every value, since a
    logarithmic axis shows a blow-up of any size as a line."""
    if log:
        return float(np.min(values)), max(float(np.max(values)), start + 1.0)
    limit = start + 1000.0 * max(abs(start), 1e-12)
    ordinary = values[values <= limit]
    if len(ordinary) == 0:
        ordinary = values
    top = start + 9.0 * max(abs(start), 1e-12)
    return float(np.min(ordinary)), max(float(np.max(ordinary)), top)


MAX_DRAWN = 1200  # points per curve handed to pyqtgraph; a plot is rarely wider than 600 px
KEEP_FILL = 0.8  # a followed y range stays while the data fill at least this much of it


def followed_steps(last: float) -> tuple[float, float]:
    """The steps in view while a plot follows a run up to step ``last``: from 0 to a round
    number a little past it, so that the axis moves a few times per doubling of the run
    instead of every frame (a moved axis is drawn anew, labels and grid)."""
    top = max(last * 1.01, 1.0)
    quantum = 10.0 ** math.floor(math.log10(top)) / 5.0
    top = math.ceil(top / quantum) * quantum
    return -0.01 * top, top


def kept_range(
    current: tuple[float, float],
    lo: float,
    hi: float,
    fresh: tuple[float, float],
    refit: bool = False,
) -> tuple[float, float]:
    """The y range for values from ``lo`` to ``hi``: ``current`` while it holds them and they
    fill at least :data:`KEEP_FILL` of it, else ``fresh`` (the values with their margins), so
    that the axis is not drawn anew every frame while a loss creeps down; ``refit`` takes
    ``fresh`` in any case."""
    c0, c1 = current
    if not refit and c0 <= lo and hi <= c1 and hi > lo and hi - lo >= KEEP_FILL * (c1 - c0):
        return c0, c1
    return fresh


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


def _fmt_percent(v: float) -> str:
    return f"{v:.1f}%"


ERROR_TITLES = {False: "Error (misclassified %)", True: "Error (RMSE)"}
SHARPNESS_TIP = (
    "Sharpness \u03bbmax: the largest eigenvalue of the training loss's Hessian at the current "
    "parameters, by power iteration on Hessian-vector products (in the training thread, every "
    "50 steps at first, less often as a long run goes on; training is slower meanwhile). The "
    "dashed line is the edge of stability of gradient descent, 2/\u03b7 (2(1 + \u03bc)/\u03b7 "
    "with momentum; none for adaptive rules): on a quadratic, a curvature above it diverges."
)
BAND_FIELDS = {"train": ("train_loss", "train_error"), "val": ("val_loss", "val_error")}


class CurvesPanel(QWidget):
    """Loss and error (train and validation) over steps, with learning-rate and gradient plots.

    After a divergence whose values span more than three decades, the loss, error and gradient
    plots switch to a logarithmic axis (and tick "log scale"), the only scale that shows both the
    run and its blow-up; the user's choice comes back with the next run.
    """

    optionsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        def train_val() -> list[CurveSpec]:
            return [
                CurveSpec("train", "train", TRAIN_COLOR),
                CurveSpec("val", "validation", VAL_COLOR),
            ]

        self.loss = MetricPlot("Loss", train_val())
        self.error = MetricPlot(ERROR_TITLES[False], train_val(), legend=False)
        self.lr = MetricPlot(
            "Learning rate",
            [CurveSpec("lr", "lr", LR_COLOR)],
            legend=False,
            compact=True,
            floor_zero=True,
        )
        self.grad = MetricPlot(
            "Gradient norm \u2016g\u2016",
            [CurveSpec("grad", "\u2016g\u2016", GRAD_COLOR)],
            legend=False,
            compact=True,
        )
        self.sharpness = MetricPlot(
            "Sharpness \u03bb<sub>max</sub>",
            [
                CurveSpec("sharpness", "\u03bbmax", SHARPNESS_COLOR),
                CurveSpec("edge", "edge of stability 2/\u03b7", EDGE_COLOR, dashed=True),
            ],
            compact=True,
        )
        self.sharpness.set_value_format(lambda v: f"{v:.4g}")
        self.sharpness.setToolTip(SHARPNESS_TIP)
        self.sharpness.hide()
        self.plots = (self.loss, self.error, self.lr, self.grad, self.sharpness)
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
        self.smooth_box.setToolTip(
            "Show an exponential moving average (display only; the raw "
            "values stay in the read-out and the CSV export)"
        )
        self.log_box.toggled.connect(self._set_log)
        self.smooth_box.toggled.connect(self._set_smooth)
        self.sharpness_box = QCheckBox("sharpness")
        self.sharpness_box.setToolTip(SHARPNESS_TIP)
        self.sharpness_box.toggled.connect(self._show_sharpness_plot)
        self.log_box.toggled.connect(self.optionsChanged)
        self.smooth_box.toggled.connect(self.optionsChanged)
        self.sharpness_box.toggled.connect(self.optionsChanged)
        self._log_before_divergence: bool | None = None  # the user's choice while auto-log is on

        # the display options, for the caller to place (e.g. in a section title)
        self.options = QWidget()
        head = QHBoxLayout(self.options)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.log_box)
        head.addWidget(self.smooth_box)
        head.addWidget(self.sharpness_box)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.loss, 0, 0, 1, 2)
        grid.addWidget(self.error, 1, 0, 1, 2)
        grid.addWidget(self.lr, 2, 0)
        grid.addWidget(self.grad, 2, 1)
        grid.addWidget(self.sharpness, 3, 0, 1, 2)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)
        grid.setRowStretch(2, 3)
        self._grid = grid
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(grid, 1)
        self._regression = False
        self._steps = np.empty(0)
        self._data: dict[str, np.ndarray] = {}

    def set_eval_note(self, note: str) -> None:
        """The loss and error plots' tooltip: what their values are evaluated on (``note``, e.g.
        "evaluated on a sample of 20,000 of 800,000 training rows"; "" for every row)."""
        for plot in (self.loss, self.error):
            plot.setToolTip(
                f"Training and validation values {note}, the same rows at every step"
                if note
                else ""
            )

    def set_task(self, regression: bool) -> None:
        self._regression = regression
        self.error.set_title(ERROR_TITLES[regression])
        self.error.set_value_format((lambda v: f"{v:.4g}") if regression else _fmt_percent)

    def clear(self) -> None:
        self._steps = np.empty(0)
        self._data = {}
        for plot in self.plots:
            plot.clear_data()
        self.show_diverged(False)

    def show_history(
        self,
        steps: np.ndarray,
        data: Mapping[str, np.ndarray],
        small: bool = True,
        bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Draw a run's history: ``data`` maps engine FIELDS to arrays aligned with ``steps``,
        ``bands`` (optional) maps fields to their (lowest, highest) values behind each step.

        ``small=False`` leaves the learning-rate and gradient plots as they are (to save time).
        """
        self._steps = steps
        self._data = data
        bands = bands or {}
        scale = 1.0 if self._regression else 100.0
        for plot, field, factor in ((self.loss, 0, 1.0), (self.error, 1, scale)):
            series, plot_bands = {}, {}
            for key, fields in BAND_FIELDS.items():
                name = fields[field]
                series[key] = data[name] * factor
                if name in bands:
                    plot_bands[key] = (bands[name][0] * factor, bands[name][1] * factor)
            plot.set_series(steps, series, plot_bands)
        if small:
            self.show_small(steps, data, bands)

    def show_small(
        self,
        steps: np.ndarray,
        data: Mapping[str, np.ndarray],
        bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Only the learning-rate and gradient-norm plots."""
        self.lr.set_series(steps, {"lr": data["lr"]})
        grad_band = (bands or {}).get("grad_norm")
        self.grad.set_series(
            steps,
            {"grad": data["grad_norm"]},
            {"grad": grad_band} if grad_band is not None else None,
        )

    def _show_sharpness_plot(self, on: bool) -> None:
        self.sharpness.setVisible(on)
        self._grid.setRowStretch(3, 4 if on else 0)  # hidden, it leaves no empty row

    def show_sharpness(self, rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        """The sharpness measured so far: ``(steps, lambda_max, edge of stability)``, or None
        (nothing measured)."""
        if rows is None:
            self.sharpness.clear_data()
            return
        steps, values, edges = rows
        self.sharpness.set_series(steps, {"sharpness": values, "edge": edges})

    def show_diverged(self, diverged: bool) -> None:
        """After a divergence that spans more than three decades, switch to the log axis (once);
        ``False`` gives the user's own choice back."""
        if diverged and self._log_before_divergence is None:
            finite = [
                v[np.isfinite(v) & (v > 0)]
                for v in (self._data.get("train_loss"), self._data.get("val_loss"))
                if v is not None
            ]
            values = np.concatenate(finite) if finite else np.empty(0)
            if len(values) and values.max() > 1000.0 * values.min():
                self._log_before_divergence = self.log_box.isChecked()
                self.log_box.setChecked(True)
                self.log_box.setToolTip(
                    "Logarithmic y axis, switched on because the run "
                    "diverged: only a log axis shows both the run and "
                    "its blow-up"
                )
        elif not diverged and self._log_before_divergence is not None:
            self.log_box.setChecked(self._log_before_divergence)
            self._log_before_divergence = None
            self.log_box.setToolTip("Logarithmic y axis for loss, error and gradient norm")

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
