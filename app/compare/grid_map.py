"""The 2-D sweep's heat map: the final validation loss over the learning rate and a second setting.

:class:`GridMap` draws a ``compare.Sweep2DResult`` cell by cell (log colour scale from the best
loss to :data:`COLOR_SPAN` decades above it, grey where a run diverged, pale where it was not
trained, a star on the best cell), says what the cell under the mouse holds and reports a
clicked cell with ``cell_chosen(i, j)``; the Sweep view (``app.compare.sweep``) turns that into a
choice of optimizer.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.compare.common import DIVERGED_COLOR, fmt, style_plot
from app.plots import EmptyNote
from dlopt_core.studies import compare

SECOND_LABELS = {
    "momentum": "Momentum",
    "beta1": "\u03b21 (Adam family)",
    "batch_size": "Batch size",
}
GRID_KEY = (
    "Grey: diverged \u00b7 pale: not trained \u00b7 star: lowest final validation loss "
    "\u00b7 click a cell to choose it"
)
COLOR_SPAN = math.log10(4.0)  # the heat map's colours span the best loss to 4 times it


class GridMap(QWidget):
    """The heat map of a 2-D sweep with its colour bar and a line about the cell under the mouse."""

    cell_chosen = Signal(int, int)  # row (second setting), column (learning rate)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: compare.Sweep2DResult | None = None
        self.plot = pg.PlotWidget()
        style_plot(self.plot.getPlotItem(), "Final validation loss", "learning rate", "")
        self.plot.setToolTip(
            "Colour: the final validation loss (log scale), from the best "
            "to 4 times the best (worse cells saturate); grey: diverged; "
            "pale: not trained (cancelled); star: the best cell"
        )
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.getViewBox().invertY(False)
        self.back = pg.ImageItem(axisOrder="row-major")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.back)
        self.plot.addItem(self.image)
        self.best = pg.ScatterPlotItem(
            symbol="star", size=16, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(230, 40, 40)
        )
        self.plot.addItem(self.best)
        self.bar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=pg.colormap.get("viridis"),
            interactive=False,
            label="final val loss (log scale)",
        )
        self.bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.bar.axis.setWidth(62)
        self.hover = QLabel(GRID_KEY)
        self.hover.setToolTip("The cell under the mouse")
        self.note = EmptyNote(
            self.plot.getPlotItem(),
            "Run a 2-D sweep: the loss over the rate and a second setting",
        )
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.hover)

    def draw(self, result: compare.Sweep2DResult) -> tuple[int, int] | None:
        """Draw a (partial or final) 2-D sweep; its best cell, if any."""
        self.result = result
        self.note.show(False)
        S, L = result.shape
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(result.final_val_loss)
        shown[~np.isfinite(shown)] = np.nan
        back = np.zeros((S, L, 4), dtype=np.uint8)
        back[result.diverged] = (*DIVERGED_COLOR.getRgb()[:3], 255)
        back[~result.trained] = (240, 240, 240, 255)
        self.back.setImage(back, levels=(0, 255), autoLevels=False)
        self.back.setRect(0, 0, L, S)
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        hi = min(hi, lo + COLOR_SPAN)  # worse cells saturate: the good region keeps its detail
        if hi - lo < 1e-9:
            hi = lo + 1e-3
        self.image.setImage(shown, autoLevels=False, levels=(lo, hi))
        self.image.setRect(0, 0, L, S)
        self.bar.setLevels((lo, hi))
        self.bar.axis.setTicks([[(float(v), f"{10**v:.2g}") for v in np.linspace(lo, hi, 5)], []])
        plot = self.plot.getPlotItem()
        every = max(1, math.ceil(L / 8))
        plot.getAxis("bottom").setTicks(
            [[(j + 0.5, f"{result.lr_values[j]:.2g}") for j in range(0, L, every)], []]
        )
        plot.getAxis("left").setTicks(
            [[(i + 0.5, f"{v:g}") for i, v in enumerate(result.second_values)], []]
        )
        plot.setLabel("left", SECOND_LABELS[result.second_name])
        plot.setTitle(
            "<span style='font-size:10pt;font-weight:600'>Final validation loss: "
            f"{result.optimizer.info.title}</span>"
        )
        self.plot.getViewBox().setRange(xRange=(0, L), yRange=(0, S), padding=0.02)
        best = result.best()
        if best is None:
            self.best.setData([], [])
        else:
            self.best.setData([best[1] + 0.5], [best[0] + 0.5])
        return best

    def cell_text(self, i: int, j: int) -> str:
        """What cell (``i``, ``j``) holds, in words."""
        r = self.result
        if r is None:
            return ""
        where = f"lr {r.lr_values[j]:.3g}, {SECOND_LABELS[r.second_name]} {r.second_values[i]:g}"
        if r.diverged[i, j]:
            return f"{where}: diverged"
        if not r.trained[i, j]:
            return f"{where}: not trained"
        return f"{where}: final val loss {fmt(r.final_val_loss[i, j])}"

    def _cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        r = self.result
        if r is None:
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        i, j = int(math.floor(p.y())), int(math.floor(p.x()))
        S, L = r.shape
        return (i, j) if 0 <= i < S and 0 <= j < L else None

    def _hovered(self, pos: QPointF) -> None:
        cell = self._cell_at(pos)
        self.hover.setText(self.cell_text(*cell) if cell else GRID_KEY)

    def _clicked(self, event) -> None:
        cell = self._cell_at(event.scenePos())
        if cell is not None:
            self.cell_chosen.emit(*cell)
