"""The pieces of the trainability map's plot: its axes, its view and its legend bars.

:class:`PowerAxis` writes a log10 coordinate as the values themselves, :class:`MapViewBox` zooms
by a dragged rectangle (and ignores the wheel, so that scrolling the page never zooms by
accident), :func:`gradient_bar` draws the shading of one kind of pixel for the legend.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPixmap


class PowerAxis(pg.AxisItem):
    """Ticks of a log10 coordinate written as the values themselves (1e-03, 1, 1e+04)."""

    log = True

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        if not self.log:
            return super().tickStrings(values, scale, spacing)
        return [f"{10.0**v:.3g}" for v in values]


class MapViewBox(pg.ViewBox):
    """A view that zooms by a dragged rectangle: ``zoom_rect(QRectF)`` in map coordinates."""

    zoom_rect = Signal(object)

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(False, False)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isFinish():
            self.rbScaleBox.hide()
            rect = QRectF(self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos()))
            self.zoom_rect.emit(rect.normalized())
        else:
            self.updateScaleBox(ev.buttonDownPos(), ev.pos())

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        ev.ignore()


def gradient_bar(deep: tuple[int, int, int], pale: tuple[int, int, int]) -> QPixmap:
    """A small bar shading from ``deep`` to ``pale`` (the legend of one kind of pixel)."""
    pix = QPixmap(90, 12)
    painter = QPainter(pix)
    grad = QLinearGradient(0, 0, 90, 0)
    grad.setColorAt(0.0, QColor(*deep))
    grad.setColorAt(1.0, QColor(*pale))
    painter.fillRect(pix.rect(), grad)
    painter.end()
    return pix
