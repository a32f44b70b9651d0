"""Pieces shared by the Landscape views: colours, contour lines, a heat-map plot and layout helpers.

``contour_segments`` is a vectorised marching-squares: it turns a sampled field into the line
segments of its level sets, which one ``PlotDataItem`` draws with ``connect="pairs"`` (one item for
all levels, updated with ``setData`` like every other curve of the app).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QWidget,
)

from app.plots import configure_pyqtgraph, log_plot_widget, small_axes

# Saturated colours that stand out on the pale heat map, one per run (optimizer or challenge run).
PALETTE = (
    QColor(214, 39, 40),  # red
    QColor(31, 96, 196),  # blue
    QColor(44, 160, 44),  # green
    QColor(255, 127, 14),  # orange
    QColor(148, 52, 190),  # purple
    QColor(0, 0, 0),  # black
    QColor(227, 64, 180),  # magenta
    QColor(140, 86, 45),  # brown
    QColor(0, 150, 160),  # teal
    QColor(188, 170, 0),  # olive
    QColor(120, 120, 120),  # grey
)

# Low values dark slate, high values almost white: coloured paths stay visible everywhere.
HEAT_MAP = pg.ColorMap(
    np.array([0.0, 0.35, 0.7, 1.0]),
    [QColor(86, 108, 146), QColor(163, 186, 212), QColor(222, 230, 236), QColor(252, 250, 244)],
)
CONTOUR_PEN = pg.mkPen(QColor(40, 50, 70, 110), width=1)


def color_of(index: int) -> QColor:
    """The palette colour of run ``index`` (cycling)."""
    return PALETTE[index % len(PALETTE)]


def contour_segments(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Line segments of the level sets ``Z = level`` by marching squares.

    ``Z[i, j]`` is the value at ``(xs[j], ys[i])``. Returns ``(x, y)`` with the two ends of
    segment k at indices 2k and 2k + 1 (for ``connect="pairs"``). Cells touching a non-finite
    value are skipped; an ambiguous (saddle) cell is resolved by the mean of its corners.
    """
    Z = np.asarray(Z, dtype=np.float64)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if Z.ndim != 2 or Z.shape != (len(ys), len(xs)) or min(Z.shape) < 2:
        return np.empty(0), np.empty(0)
    v00, v01, v10, v11 = Z[:-1, :-1], Z[:-1, 1:], Z[1:, :-1], Z[1:, 1:]
    shape = v00.shape
    x0 = np.broadcast_to(xs[:-1][None, :], shape)
    x1 = np.broadcast_to(xs[1:][None, :], shape)
    y0 = np.broadcast_to(ys[:-1][:, None], shape)
    y1 = np.broadcast_to(ys[1:][:, None], shape)
    finite = np.isfinite(v00) & np.isfinite(v01) & np.isfinite(v10) & np.isfinite(v11)
    out_x: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    # edges: 0 bottom (v00-v01), 1 right (v01-v11), 2 top (v10-v11), 3 left (v00-v10)
    ends = ((v00, v01), (v01, v11), (v10, v11), (v00, v10))
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in levels:
            below = [a < level for a in (v00, v01, v10, v11)]
            b00, b01, b10, b11 = below
            cross = np.stack([b00 != b01, b01 != b11, b10 != b11, b00 != b10]) & finite
            count = cross.sum(axis=0)
            if not np.any(count >= 2):
                continue
            t = [np.clip((level - a) / (b - a), 0.0, 1.0) for a, b in ends]
            px = np.stack([x0 + t[0] * (x1 - x0), x1, x0 + t[2] * (x1 - x0), x0])
            py = np.stack([y0, y0 + t[1] * (y1 - y0), y1, y0 + t[3] * (y1 - y0)])
            two = count == 2
            if np.any(two):
                order = np.argsort(~cross[:, two], axis=0, kind="stable")[:2]
                sx = np.take_along_axis(px[:, two], order, axis=0)
                sy = np.take_along_axis(py[:, two], order, axis=0)
                out_x.append(sx.T.ravel())
                out_y.append(sy.T.ravel())
            four = count == 4
            if np.any(four):
                centre = 0.25 * (v00 + v01 + v10 + v11)[four]
                joined = (centre < level) == b00[four]  # v00 joined to the centre
                cols = np.arange(int(four.sum()))
                first = np.zeros_like(cols), np.where(joined, 1, 3)
                second = np.where(joined, 3, 1), np.full_like(cols, 2)
                for a_edge, b_edge in (first, second):
                    fx, fy = px[:, four], py[:, four]
                    seg_x = np.stack([fx[a_edge, cols], fx[b_edge, cols]], axis=1).ravel()
                    seg_y = np.stack([fy[a_edge, cols], fy[b_edge, cols]], axis=1).ravel()
                    out_x.append(seg_x)
                    out_y.append(seg_y)
    if not out_x:
        return np.empty(0), np.empty(0)
    return np.concatenate(out_x), np.concatenate(out_y)


def spread_levels(shown: np.ndarray, count: int = 14) -> np.ndarray:
    """``count`` contour levels spread evenly over the bulk (2nd to 97th percentile) of a field."""
    finite = shown[np.isfinite(shown)]
    if finite.size == 0:
        return np.empty(0)
    lo, hi = np.percentile(finite, [2.0, 97.0])
    if not hi > lo:
        return np.empty(0)
    return np.linspace(lo, hi, count + 2)[1:-1]


def log_field(Z: np.ndarray, floor: float | None = None, eps: float | None = None) -> np.ndarray:
    """``log10(Z - floor + eps)`` with eps a small fraction of the field's range (unless given,
    e.g. that of another region to keep its look): the heat map's shading, which shows narrow
    valleys and wide plateaus alike."""
    Z = np.asarray(Z, dtype=np.float64)
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return np.zeros_like(Z)
    low = (
        float(finite.min()) if floor is None or not np.isfinite(floor) else min(floor, finite.min())
    )
    if eps is None:
        eps = max(float(finite.max() - low) * 1e-4, 1e-12)
    with np.errstate(invalid="ignore"):
        out = np.log10(np.maximum(Z - low, 0.0) + eps)
    return np.where(np.isfinite(out), out, np.nanmax(out[np.isfinite(out)]))


class HeatMap(pg.PlotWidget):
    """A field on a grid drawn as an image with contour lines, a colour bar and a hover read-out.

    ``clicked(x, y)`` reports a left click inside the plot in data coordinates.
    """

    clicked = Signal(float, float)

    def __init__(
        self, x_label: str, y_label: str, bar_label: str, parent: QWidget | None = None
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        small_axes(item)
        item.layout.setContentsMargins(1, 9, 1, 1)  # room for the top tick's label (no title)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(HEAT_MAP)
        item.addItem(self.image)
        self.contours = pg.PlotDataItem(pen=CONTOUR_PEN, connect="pairs")
        item.addItem(self.contours)
        self.bar = pg.ColorBarItem(
            colorMap=HEAT_MAP, interactive=False, width=12, label=bar_label, colorMapMenu=False
        )
        self.bar.setImageItem(self.image, insert_in=item)
        self._xs = np.empty(0)
        self._ys = np.empty(0)
        self._raw = np.empty((0, 0))
        self.value_name = "f"
        self.readout = pg.TextItem(
            anchor=(0, 0), color="#222222", fill=pg.mkBrush(255, 255, 255, 215)
        )
        self.readout.setParentItem(self.getViewBox())
        self.readout.setPos(4, 2)
        self.readout.setVisible(False)
        self.scene().sigMouseClicked.connect(self._on_click)
        self._proxy = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=30, slot=self._hover)

    # -- data -------------------------------------------------------------------------------------
    def set_field(
        self,
        xs: np.ndarray,
        ys: np.ndarray,
        raw: np.ndarray,
        shown: np.ndarray,
        levels: Sequence[float] | None = None,
        color_range: tuple[float, float] | None = None,
    ) -> None:
        """Draw ``shown[i, j]`` at ``(xs[j], ys[i])`` with contours; hover reads ``raw``.

        ``levels`` (contours) and ``color_range`` (the colour bar) default to the field's own;
        give them to keep a field's look when it is redrawn over another region."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        self._xs, self._ys, self._raw = xs, ys, np.asarray(raw, dtype=np.float64)
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if color_range is not None:
            lo, hi = color_range
        if not hi > lo:
            hi = lo + 1.0
        self.image.setImage(np.nan_to_num(shown, nan=hi, posinf=hi, neginf=lo), autoLevels=False)
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        self.bar.setLevels((lo, hi))
        levels = spread_levels(shown) if levels is None else np.asarray(levels)
        cx, cy = contour_segments(xs, ys, shown, levels)
        self.contours.setData(cx, cy)

    def set_bar_label(self, text: str) -> None:
        self.bar.getAxis("left").setLabel(text)

    def contour_count(self) -> int:
        x, _ = self.contours.getData()
        return 0 if x is None else len(x) // 2

    def show_bounds(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def view_to_widget(self, x: float, y: float) -> QPoint:
        """The widget pixel where data point ``(x, y)`` is drawn (for clicks in tests)."""
        scene = self.getViewBox().mapViewToScene(QPointF(x, y))
        return self.mapFromScene(scene)

    def value_at(self, x: float, y: float) -> float:
        """The raw field at the grid point nearest to ``(x, y)`` (NaN outside the grid)."""
        if self._raw.size == 0:
            return float("nan")
        if not (self._xs[0] <= x <= self._xs[-1] and self._ys[0] <= y <= self._ys[-1]):
            return float("nan")
        j = int(np.clip(np.searchsorted(self._xs, x), 0, len(self._xs) - 1))
        i = int(np.clip(np.searchsorted(self._ys, y), 0, len(self._ys) - 1))
        return float(self._raw[i, j])

    # -- mouse ------------------------------------------------------------------------------------
    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        vb = self.getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        event.accept()
        self.clicked.emit(float(p.x()), float(p.y()))

    def _hover(self, event) -> None:
        pos = event[0]
        vb = self.getViewBox()
        if not vb.sceneBoundingRect().contains(pos) or self._raw.size == 0:
            self.readout.setVisible(False)
            return
        p = vb.mapSceneToView(pos)
        value = self.value_at(p.x(), p.y())
        text = f"({p.x():.3g}, {p.y():.3g})"
        if np.isfinite(value):
            text += f"   {self.value_name} = {value:.4g}"
        self.readout.setText(text)
        self.readout.setVisible(True)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.readout.setVisible(False)
        super().leaveEvent(event)


def small_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    """A plot in the app's style: light grid, small tick font, no context menu."""
    plot = log_plot_widget()  # legible labels when an axis is logarithmic
    item = plot.getPlotItem()
    item.setTitle(f"<span style='font-size:10pt;font-weight:600'>{title}</span>")
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.setMenuEnabled(False)
    item.hideButtons()
    small_axes(item)  # the left axis sizes itself to its labels: the title never overlaps them
    plot.setMinimumHeight(120)
    return plot


def narrow(combo: QComboBox, chars: int = 12) -> QComboBox:
    """Let a combo box shrink to about ``chars`` characters (its list still shows full items)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


def hbox(*widgets: QWidget, stretch_last: bool = False) -> QHBoxLayout:
    lay = QHBoxLayout()
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    for w in widgets:
        lay.addWidget(w)
    if not stretch_last:
        lay.addStretch(1)
    return lay
