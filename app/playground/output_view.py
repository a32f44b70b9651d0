"""The output view: the network's decision boundary (or regression surface) under the data."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from app.colors import CLASS_COLORS, class_legend_html
from app.plots import configure_pyqtgraph
from app.snapshots import BoundaryResult, BuildInfo

BACKGROUND = np.array([250.0, 250.0, 248.0])
SHADE = 0.72  # how strongly the heat map takes the class colour at full confidence
REGRESSION_BANDS = 10


def diverging_rgb(t: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Colours for ``t`` in [-1, 1]: orange (-1) through the background (0) to blue (+1)."""
    t = np.clip(np.nan_to_num(t), -1.0, 1.0)
    a = (np.abs(t) ** 0.85 * strength)[..., None]
    end = np.where(t[..., None] < 0.0, CLASS_COLORS[0], CLASS_COLORS[1])
    return BACKGROUND * (1.0 - a) + end * a


def upsample2(values: np.ndarray) -> np.ndarray:
    """Bilinear 2x refinement of a grid (n, n[, k]) -> (2n - 1, 2n - 1[, k]): smoother edges."""
    n0, n1 = values.shape[:2]
    out = np.empty((2 * n0 - 1, 2 * n1 - 1) + values.shape[2:])
    out[0::2, 0::2] = values
    out[1::2, 0::2] = 0.5 * (values[:-1] + values[1:])
    out[:, 1::2] = 0.5 * (out[:, :-1:2] + out[:, 2::2])
    return out


def boundary_rgba(
    values: np.ndarray,
    task: str,
    n_classes: int,
    discrete: bool,
    target_range: tuple[float, float] | None,
) -> np.ndarray:
    """The heat map of network outputs as an RGBA uint8 image (rows as in ``values``)."""
    if task == "multiclass":
        probs = values.reshape(values.shape[0], values.shape[1], -1)
        k = np.argmax(probs, axis=2)
        if discrete:
            conf = np.ones(k.shape)
        else:
            top = np.take_along_axis(probs, k[..., None], axis=2)[..., 0]
            conf = np.clip((top - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0.0, 1.0)
        a = (conf**0.85 * SHADE)[..., None]
        rgb = BACKGROUND * (1.0 - a) + CLASS_COLORS[k % len(CLASS_COLORS)] * a
    elif task == "regression":
        lo, hi = target_range or (float(values.min()), float(values.max()))
        mid, half = 0.5 * (lo + hi), max(0.5 * (hi - lo), 1e-12)
        t = (values - mid) / half
        if discrete:
            t = np.round(np.clip(t, -1, 1) * REGRESSION_BANDS / 2) / (REGRESSION_BANDS / 2)
        rgb = diverging_rgb(t, SHADE)
    else:
        t = 2.0 * values - 1.0
        if discrete:
            t = np.sign(t)
        rgb = diverging_rgb(t, SHADE)
    out = np.empty(rgb.shape[:2] + (4,), dtype=np.uint8)
    out[..., :3] = np.clip(np.rint(rgb), 0, 255)
    out[..., 3] = 255
    return out


def point_brushes(
    labels: np.ndarray, task: str, target_range: tuple[float, float] | None
) -> list[QColor]:
    """One solid colour per data point: its class, or its target value for regression."""
    if task == "regression":
        lo, hi = target_range or (float(labels.min()), float(labels.max()))
        mid, half = 0.5 * (lo + hi), max(0.5 * (hi - lo), 1e-12)
        rgb = diverging_rgb((labels - mid) / half, 1.0)
    else:
        rgb = CLASS_COLORS[labels.astype(np.int64) % len(CLASS_COLORS)]
    cache: dict[tuple[int, int, int], QColor] = {}
    out = []
    for r, g, b in np.clip(np.rint(rgb), 0, 255).astype(int):
        key = (int(r), int(g), int(b))
        if key not in cache:
            cache[key] = pg.mkBrush(*key)
        out.append(cache[key])
    return out


class OutputView(QWidget):
    """Heat map of the network output over the input plane, training and validation points."""

    def __init__(self, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("bottom", "x1")
        item.setLabel("left", "x2")
        for axis in ("left", "bottom"):  # data values as they are: never "x2 (×0.001)"
            item.getAxis(axis).enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(36)
        self.plot.setMinimumSize(240, 220)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.train_points = pg.ScatterPlotItem(size=6.5, pen=pg.mkPen(255, 255, 255, 230, width=1))
        self.val_points = pg.ScatterPlotItem(
            size=6.5, symbol="t", pen=pg.mkPen(30, 30, 30, 220, width=1)
        )
        for it in (self.image, self.train_points, self.val_points):
            item.addItem(it)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(20)
        self.message.setStyleSheet("color: #555; font-size: 11pt;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.plot)
        self.pages.addWidget(self.message)

        self.show_val = QCheckBox("validation points")
        self.show_val.setChecked(True)
        self.show_val.setToolTip("Show the validation points (triangles with a dark outline)")
        self.discrete = QCheckBox("discretize")
        self.discrete.setToolTip(
            "Show only the predicted class (or bands of the predicted value)"
            " instead of the network's confidence"
        )
        self.key = QLabel()
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.show_val.toggled.connect(self.val_points.setVisible)
        self.discrete.toggled.connect(self._recolor)
        opts = QHBoxLayout()
        opts.setContentsMargins(4, 0, 4, 0)
        opts.addWidget(self.key, 1)
        opts.addWidget(self.show_val)
        opts.addWidget(self.discrete)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.pages, 1)
        lay.addLayout(opts)

        self.info: BuildInfo | None = None
        self.result: BoundaryResult | None = None

    def show_message(self, text: str) -> None:
        """A note in place of the plot (e.g. while the kernels compile)."""
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    @property
    def has_plane(self) -> bool:
        """Whether the data are 2-D, so that there is a boundary to draw."""
        return self.info is not None and self.info.bounds is not None

    def set_build(self, info: BuildInfo) -> None:
        """New data set (or network): points, axes and colour key; the boundary comes later."""
        self.info = info
        self.result = None
        self.image.clear()
        if info.bounds is None:
            self.train_points.clear()
            self.val_points.clear()
            self.message.setText(
                f"This data set has {info.n_inputs} input features.\n\nThe output view needs "
                "2-D inputs; follow the curves, the network and the optimizer state instead."
            )
            self.pages.setCurrentWidget(self.message)
            self.key.clear()
            self.show_val.setEnabled(False)
            self.discrete.setEnabled(False)
            return
        self.pages.setCurrentWidget(self.plot)
        self.show_val.setEnabled(True)
        self.discrete.setEnabled(True)
        x0, x1, y0, y1 = info.bounds
        self.plot.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        # regression colours run through white: a dark rim keeps those points visible
        rim = (70, 70, 70, 200) if info.task == "regression" else (255, 255, 255, 230)
        self.train_points.setPen(pg.mkPen(*rim, width=1))
        for scatter, pts, labels in (
            (self.train_points, info.points_train, info.labels_train),
            (self.val_points, info.points_val, info.labels_val),
        ):
            if pts is None or len(pts) == 0:
                scatter.clear()
                continue
            scatter.setData(
                pos=pts, brush=point_brushes(np.ravel(labels), info.task, info.target_range)
            )
        self.key.setText(self._key_html(info))

    def set_boundary(self, result: BoundaryResult) -> None:
        if self.info is None or self.info.bounds is None:
            return
        self.result = result
        self._recolor()

    def _recolor(self) -> None:
        info, result = self.info, self.result
        if info is None or result is None or info.bounds is None:
            return
        rgba = boundary_rgba(
            upsample2(result.values),
            info.task,
            info.n_classes,
            self.discrete.isChecked(),
            info.target_range,
        )
        self.image.setImage(rgba, autoLevels=False, levels=(0, 255))
        x0, x1, y0, y1 = info.bounds
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    @staticmethod
    def _key_html(info: BuildInfo) -> str:
        def swatch(rgb) -> str:
            r, g, b = (int(c) for c in rgb)
            return f"<span style='color: rgb({r},{g},{b}); font-size: 12pt'>\u25a0</span>"

        if info.task == "regression":
            lo, hi = info.target_range or (0.0, 1.0)
            ramp = "".join(swatch(diverging_rgb(np.array(t))) for t in (-1, -0.5, 0, 0.5, 1))
            return (
                f"<span style='color:#444'>{lo:.3g}</span> {ramp} "
                f"<span style='color:#444'>{hi:.3g}</span>"
            )
        return "class&nbsp;&nbsp;" + class_legend_html(max(2, info.n_classes))
