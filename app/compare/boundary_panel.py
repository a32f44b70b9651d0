"""The Race's decision boundaries: one small picture per configuration, side by side.

:class:`BoundaryPanel` draws the ``app.compare.jobs.BoundaryImages`` of a race on 2-D
classification data (pale where a network is unsure) with the training points on top, each
picture equal in size under its configuration's name in its colour, and the class legend.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.colors import class_legend_html
from app.compare.common import color, configure_pyqtgraph
from app.compare.jobs import RaceSnapshot


class BoundaryPanel(QWidget):
    """One small decision-boundary picture per configuration, side by side, equal in size."""

    def __init__(self, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.setToolTip(
            "Decision boundary of each configuration after its last step "
            "(pale where the network is unsure); dots: the training data"
        )
        self.images: list[pg.ImageItem] = []
        self.boxes: list[pg.ViewBox] = []
        self._points: list[pg.ScatterPlotItem] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)
        outer.addLayout(self._row, 1)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(
            "The colours of the classes, as in the Playground; the title "
            "of each picture has the colour of its configuration"
        )
        outer.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)

    def setup(self, labels: tuple[str, ...]) -> None:
        while self._row.count():
            widget = self._row.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.images, self.boxes, self._points = [], [], []
        for m, label in enumerate(labels):
            cell = QWidget()
            cell_lay = QVBoxLayout(cell)
            cell_lay.setContentsMargins(0, 0, 0, 0)
            cell_lay.setSpacing(1)
            title = QLabel(label)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setStyleSheet(f"color: {color(m).name()}; font-size: 8pt;")
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            title.setToolTip(label)
            view = pg.GraphicsLayoutWidget()
            view.ci.setContentsMargins(1, 1, 1, 1)
            box = view.addViewBox(lockAspect=True, enableMouse=False)
            box.setMenuEnabled(False)
            img = pg.ImageItem(axisOrder="row-major")
            box.addItem(img)
            pts = pg.ScatterPlotItem(size=4, pen=pg.mkPen(40, 40, 40, 170, width=0.6))
            box.addItem(pts)
            view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
            view.setToolTip(f"Decision boundary of {label}")
            cell_lay.addWidget(title)
            cell_lay.addWidget(view, 1)
            self._row.addWidget(cell, 1)
            self.images.append(img)
            self.boxes.append(box)
            self._points.append(pts)

    def show_images(self, snap: RaceSnapshot) -> None:
        b = snap.boundaries
        if b is None:
            return
        self.legend.setText(
            "<span style='color:#444'>class</span>&nbsp;&nbsp;"
            + class_legend_html(b.n_classes, size_pt=10)
        )
        x0, x1, y0, y1 = b.bounds
        brushes = [pg.mkBrush(*c) for c in b.point_colors]
        for m, (img, box, pts) in enumerate(
            zip(self.images, self.boxes, self._points, strict=False)
        ):
            if m >= len(b.images):
                break
            first = img.image is None
            img.setImage(b.images[m], autoLevels=False, levels=(0, 255))
            img.setRect(x0, y0, x1 - x0, y1 - y0)
            if first:
                pts.setData(b.points[:, 0], b.points[:, 1], brush=brushes)
                box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
