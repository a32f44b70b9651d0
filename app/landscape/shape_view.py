"""The shape of a network's loss: the straight line from initial to trained parameters, and a 2-D
slice of the loss around the trained parameters with the training path drawn on it.

Goodfellow, Vinyals & Saxe (2015) found the loss along the line falls smoothly for many networks:
the obstacles of training are not barriers between start and solution. Li et al. (2018) slice the
loss on a plane; here the plane is spanned by the two principal directions of the training path
(or two random filter-normalised directions) so the path can be drawn on it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.landscape.common import HeatMap, log_field, narrow, small_plot
from app.landscape.shape_worker import ShapeController, ShapeJob
from app.log_axis import set_log_y
from app.plots import TRAIN_COLOR, VAL_COLOR, EmptyNote
from app.widgets.banner import Banner
from app.widgets.layout import control_section, scroll_area
from dlopt_core.data.resources import ResourceError
from dlopt_core.studies import landscape as ls
from dlopt_core.studies.loss_shape import DIRECTIONS, ShapeResult, ShapeSource
from dlopt_core.train.network import Network

USER = "__user__"
LEFT_WIDTH = 320
PATH_COLOR = QColor(214, 39, 40)


PLATEAU_ALPHA = 0.25  # a first tenth of the fall reached later than this is "a plateau"


def line_summary(result: ShapeResult) -> str:
    """One sentence on the loss along the line, read off this run: its values at 0 and 1,
    whether it falls monotonically between them, and whether it starts with a plateau."""
    a, train = result.alphas, result.train_loss
    i0 = int(np.argmin(np.abs(a))), int(np.argmin(np.abs(a - 1.0)))
    text = f"train loss {train[i0[0]]:.3g} at \u03b1 = 0 \u2192 {train[i0[1]]:.3g} at \u03b1 = 1"
    try:
        shape = ls.line_shape(a, train)
    except ValueError:  # fewer than two finite points in [0, 1]
        shape = None
    if shape is not None:
        if shape.monotone and shape.max_rise == 0.0:
            text += ", falling monotonically (no barrier on the way)"
        elif shape.monotone:
            text += (
                f", falling without a barrier (it climbs back by {shape.max_rise:.2g} at "
                f"most, under {100 * shape.tolerance:g} % of its fall)"
            )
        elif shape.fall > 0.0:
            text += (
                f", with a bump: it climbs back by up to {shape.max_rise:.3g} on the way "
                f"({100 * shape.max_rise / shape.fall:.0f} % of its fall)"
            )
        else:
            text += ", not falling: the trained parameters are no better on this line"
        at = f"\u03b1 = {shape.plateau_end:.2f}"
        if shape.plateau_end >= PLATEAU_ALPHA:
            text += f"; a plateau first: only by {at} has it made a tenth of its fall"
        elif np.isfinite(shape.plateau_end):
            text += f"; it falls from the start (a tenth of its fall by {at})"
    val = result.val_loss
    if np.any(np.isfinite(val)):
        k = int(np.nanargmin(val))
        text += f"; validation loss lowest at \u03b1 = {a[k]:.2f} ({val[k]:.3g})"
    return text + "."


class ShapeView(QWidget):
    """Controls on the left; the line plot and the slice map on the right."""

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        problem = ""
        try:
            self.situations = ls.paper_situations()
        except ResourceError as exc:  # the user's own network can still be looked at
            self.situations = {}
            problem = f"The paper's situations cannot be shown until the file is mended: {exc}"
        self.controller = ShapeController(self)
        self.result: ShapeResult | None = None
        self.user_source: ShapeSource | None = None
        self._job: ShapeJob | None = None
        self.busy = False
        self._build()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(4)
        lay.addWidget(scroll_area(self.controls, width=LEFT_WIDTH, horizontal=False))
        lay.addWidget(self.right, 1)
        self.controller.progressed.connect(self._on_progress)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(self._on_failed)
        self.controller.cancelled.connect(self._on_cancelled)
        self._on_situation()
        if problem:
            self._show_error(problem)

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = QWidget()
        col = QVBoxLayout(self.controls)
        col.setContentsMargins(6, 6, 6, 6)
        col.setSpacing(8)

        self.situation = QComboBox()
        for key, s in self.situations.items():
            self.situation.addItem(s.title, key)
        self.situation.addItem("Your network (from the Playground)", USER)
        self._set_user_enabled(False)
        narrow(self.situation)
        self.situation.setToolTip(
            "A small version of a setting of Goodfellow, Vinyals & Saxe "
            "(2015), or the network you last trained in the Playground"
        )
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: #555; font-size: 8pt;")
        box, lay = control_section("Situation", tooltip="Which network to look at")
        lay.addWidget(self.situation)
        lay.addWidget(self.explanation)
        lay.addWidget(self.description)
        col.addWidget(box)

        self.steps = QSpinBox()
        self.steps.setRange(10, 100_000)
        self.steps.setSingleStep(500)
        self.steps.setToolTip("Training steps before looking at the loss")
        self.snapshots = QSpinBox()
        self.snapshots.setRange(5, 400)
        self.snapshots.setValue(40)
        self.snapshots.setToolTip(
            "Parameter snapshots recorded along the training path (the "
            "dots of the path on the slice)"
        )
        box, lay = control_section(
            "Training", tooltip="Train the chosen situation in the background"
        )
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("steps", self.steps)
        form.addRow("snapshots", self.snapshots)
        lay.addLayout(form)
        col.addWidget(box)

        self.resolution = QSpinBox()
        self.resolution.setRange(11, 151)
        self.resolution.setSingleStep(10)
        self.resolution.setValue(61)
        self.resolution.setToolTip(
            "Grid points per axis of the slice (the cost grows with the square)"
        )
        self.directions = QComboBox()
        for key, text in DIRECTIONS.items():
            self.directions.addItem(text, key)
        narrow(self.directions)
        self.directions.setToolTip(
            "Principal directions of the path: the plane the path moves in most (the path is "
            "drawn faithfully). Random filter-normalised directions (Li et al. 2018): a typical "
            "plane through the solution"
        )
        self.seed = QSpinBox()
        self.seed.setRange(0, 99999)
        self.seed.setToolTip("Seed of the random directions")
        box, lay = control_section("Slice", tooltip="The plane on which the loss is drawn")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("grid", self.resolution)
        form.addRow("directions", self.directions)
        form.addRow("seed", self.seed)
        lay.addLayout(form)
        col.addWidget(box)

        self.train_button = QPushButton("Train and compute")
        self.train_button.setToolTip(
            "Train the situation from scratch in the background, then "
            "compute the line and the slice"
        )
        self.train_button.setStyleSheet("font-weight: 600;")
        self.recompute_button = QPushButton("Recompute slice")
        self.recompute_button.setToolTip(
            "Compute the line and the slice again for the network "
            "already trained (new grid or directions)"
        )
        self.recompute_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the computation under way")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setToolTip("Progress of the training and of the loss computations")
        self.state = QLabel("Press \u201cTrain and compute\u201d.")
        self.state.setWordWrap(True)
        self.state.setStyleSheet("color: #444;")
        box, lay = control_section("Run", tooltip="Everything runs in a background thread")
        lay.addWidget(self.train_button)
        row = QHBoxLayout()
        row.addWidget(self.recompute_button)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.state)
        col.addWidget(box)
        col.addStretch(1)

        self.banner = Banner()
        self.banner.label.setStyleSheet("font-size: 10pt; font-weight: normal;")
        self.line_plot = small_plot(
            "Loss along the line from initial to trained parameters",
            "\u03b1   (\u03b8 = (1 \u2212 \u03b1) \u03b8\u2080 + \u03b1 \u03b8\u2081)",
            "loss",
        )
        item = self.line_plot.getPlotItem()
        legend = item.addLegend(labelTextSize="8pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 215))
        legend.anchor(itemPos=(0.5, 0.0), parentPos=(0.5, 0.0), offset=(0, 6))  # top centre
        self.train_curve = pg.PlotDataItem(
            pen=pg.mkPen(TRAIN_COLOR, width=2),
            symbol="o",
            symbolSize=4,
            symbolBrush=TRAIN_COLOR,
            symbolPen=None,
            name="train loss",
        )
        self.val_curve = pg.PlotDataItem(
            pen=pg.mkPen(VAL_COLOR, width=2),
            symbol="o",
            symbolSize=4,
            symbolBrush=VAL_COLOR,
            symbolPen=None,
            name="validation loss",
        )
        item.addItem(self.train_curve)
        item.addItem(self.val_curve)
        for x in (0.0, 1.0):
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                movable=False,
                pen=pg.mkPen(120, 120, 120, 160, width=1, style=Qt.PenStyle.DashLine),
            )
            item.addItem(line, ignoreBounds=True)
        item.getAxis("bottom").setTicks(
            [
                [
                    (-0.5, "\u22120.5"),
                    (0.0, "0: initial"),
                    (0.5, "0.5"),
                    (1.0, "1: trained"),
                    (1.5, "1.5"),
                ]
            ]
        )
        self.log_box = QCheckBox("log scale")
        self.log_box.setToolTip("Logarithmic loss axis")
        self.line_plot.setToolTip(
            "Train and validation loss at (1 \u2212 \u03b1) \u03b8\u2080 + "
            "\u03b1 \u03b8\u2081: \u03b8\u2080 the initial, \u03b8\u2081 the "
            "trained parameters (Goodfellow, Vinyals & Saxe 2015)"
        )
        self.log_box.toggled.connect(lambda on: set_log_y(item, on))

        self.map = HeatMap("a (direction 1)", "b (direction 2)", "log\u2081\u2080 loss")
        self.map.value_name = "loss"
        self.map.setToolTip(
            "Training loss on a plane through the trained parameters; hover to "
            "read it. The red path is the training trajectory projected on it"
        )
        self.map.setMinimumSize(320, 300)
        mitem = self.map.getPlotItem()
        self.path = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOR, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=PATH_COLOR,
            symbolPen=pg.mkPen("w", width=0.8),
        )
        self.path_ends = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#111", width=1.5))
        mitem.addItem(self.path)
        mitem.addItem(self.path_ends)
        map_legend = pg.LegendItem(offset=(-6, 6), labelTextSize="8pt")
        map_legend.setParentItem(mitem.getViewBox())
        map_legend.setBrush(pg.mkBrush(255, 255, 255, 215))
        map_legend.addItem(self.path, "training path")
        self._empty = [
            EmptyNote(plot.getPlotItem(), "Press \u201cTrain and compute\u201d")
            for plot in (self.line_plot, self.map)
        ]
        self.map_title = QLabel()
        self.map_title.setStyleSheet("font-weight: 600;")
        self.map_title.setWordWrap(True)

        line_box = QWidget()
        ll = QVBoxLayout(line_box)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.line_plot, 1)
        ll.addWidget(self.log_box)
        map_box = QWidget()
        ml = QVBoxLayout(map_box)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.map_title)
        ml.addWidget(self.map, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(line_box)
        split.addWidget(map_box)
        split.setChildrenCollapsible(False)
        split.setSizes([450, 550])
        self.right = QWidget()
        rl = QVBoxLayout(self.right)
        rl.setContentsMargins(0, 4, 0, 0)
        rl.setSpacing(4)
        rl.addWidget(self.banner)
        rl.addWidget(split, 1)

        self.situation.currentIndexChanged.connect(self._on_situation)
        self.train_button.clicked.connect(self.train)
        self.recompute_button.clicked.connect(self.recompute)
        self.cancel_button.clicked.connect(self.cancel)
        self.directions.currentIndexChanged.connect(
            lambda: self.seed.setEnabled(self.directions.currentData() == "random")
        )
        self.seed.setEnabled(False)

    def _set_user_enabled(self, on: bool) -> None:
        model = self.situation.model()
        item = model.item(self.situation.findData(USER))
        item.setEnabled(on)
        item.setToolTip("" if on else "Train a network in the Playground first")

    # -- actions ----------------------------------------------------------------------------------
    def _on_situation(self) -> None:
        key = self.situation.currentData()
        if key == USER:
            src = self.user_source
            self.explanation.setText(
                "The network you trained in the Playground: its initial "
                "and final parameters and the path between them."
            )
            self.description.setText(
                ""
                if src is None
                else f"{'-'.join(map(str, src.network.layer_sizes))} "
                f"{src.network.activation} network, {src.network.loss} loss,"
                f" {len(src.thetas)} snapshots"
            )
            self.train_button.setEnabled(False)
            self.steps.setEnabled(False)
            self.snapshots.setEnabled(False)
            return
        s = self.situations[key]
        self.explanation.setText(s.explanation)
        self.description.setText(s.describe())
        self.steps.setValue(s.steps)
        self.train_button.setEnabled(not self.busy)
        self.steps.setEnabled(True)
        self.snapshots.setEnabled(True)

    def select_situation(self, key: str) -> None:
        index = self.situation.findData(key)
        if index < 0:
            raise ValueError(
                f"unknown situation {key!r}; choose one of {', '.join(self.situations)}"
            )
        self.situation.setCurrentIndex(index)

    def _slice_fields(self) -> dict:
        return {
            "resolution": int(self.resolution.value()),
            "directions": str(self.directions.currentData()),
            "seed": int(self.seed.value()),
        }

    def train(self) -> None:
        """Train the chosen paper situation in the worker, then compute line and slice."""
        key = self.situation.currentData()
        if key == USER:
            self.recompute()
            return
        s = self.situations[key]
        job = self.controller.compute(
            title=s.title,
            situation=s,
            steps=int(self.steps.value()),
            snapshots=int(self.snapshots.value()),
            explanation=s.explanation,
            **self._slice_fields(),
        )
        self._started(job, f"training {s.title}\u2026")

    def recompute(self) -> None:
        """Line and slice again for the network last shown (or the Playground's)."""
        source = self.user_source if self.situation.currentData() == USER else None
        if source is None and self.result is not None:
            source = self.result.source
        if source is None:
            self._show_error("Nothing to recompute yet: train a situation first.")
            return
        job = self.controller.compute(
            title=source.title,
            source=source,
            explanation=source.explanation,
            **self._slice_fields(),
        )
        self._started(job, "computing the line and the slice\u2026")

    def set_trained_network(
        self,
        network: Network,
        theta_init: np.ndarray,
        theta_final: np.ndarray,
        thetas_path: np.ndarray | None,
        X: np.ndarray,
        y: np.ndarray,
        Xv: np.ndarray | None = None,
        yv: np.ndarray | None = None,
    ) -> None:
        """Look at a network trained elsewhere: interpolation and slice start at once."""
        theta_init = np.array(theta_init, dtype=np.float64).ravel()
        theta_final = np.array(theta_final, dtype=np.float64).ravel()
        if theta_init.shape != (network.n_params,) or theta_final.shape != theta_init.shape:
            self._show_error(
                f"the parameters do not fit the network: expected "
                f"{network.n_params} values, got {theta_init.size} and "
                f"{theta_final.size}"
            )
            return
        path = None if thetas_path is None else np.asarray(thetas_path, dtype=np.float64)
        if path is None or path.ndim != 2 or path.shape[0] < 2 or path.shape[1] != network.n_params:
            path = np.stack([theta_init, theta_final])
        if not np.array_equal(path[-1], theta_final):
            path = np.vstack([path, theta_final])
        has_val = Xv is not None and yv is not None and len(Xv) > 0
        self.user_source = ShapeSource(
            title="Your network",
            network=network,
            theta_init=theta_init,
            theta_final=theta_final,
            thetas=path.copy(),
            X=np.array(X, dtype=np.float64),
            y=np.array(y, dtype=np.float64),
            Xv=np.array(Xv, dtype=np.float64) if has_val else None,
            yv=np.array(yv, dtype=np.float64) if has_val else None,
            explanation="The network you trained in the Playground.",
        )
        self._set_user_enabled(True)
        self.situation.blockSignals(True)
        self.situation.setCurrentIndex(self.situation.findData(USER))
        self.situation.blockSignals(False)
        self._on_situation()
        self.recompute()

    def cancel(self) -> None:
        self.controller.cancel()
        self.state.setText("cancelling\u2026")

    def shutdown(self) -> bool:
        """Stop the worker thread (within about a second)."""
        return self.controller.stop(1000)

    # -- worker answers -------------------------------------------------------------------------
    def _started(self, job: ShapeJob, text: str) -> None:
        self._job = job
        self.busy = True
        self.cancel_button.setEnabled(True)
        self.train_button.setEnabled(False)
        self.recompute_button.setEnabled(False)
        self.progress.setValue(0)
        self.state.setText(text)
        self.state.setStyleSheet("color: #444;")
        self.status_message.emit(text)

    def _finished_any(self) -> None:
        self.busy = False
        self.cancel_button.setEnabled(False)
        self.train_button.setEnabled(self.situation.currentData() != USER)
        self.recompute_button.setEnabled(self.result is not None or self.user_source is not None)

    def _on_progress(self, job: ShapeJob, fraction: float, text: str) -> None:
        if job is not self._job:
            return
        self.progress.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        self.state.setText(text)

    def _on_failed(self, job: ShapeJob, message: str) -> None:
        if job is not self._job:
            return
        self._finished_any()
        self._show_error(message)

    def _on_cancelled(self, job: ShapeJob, _partial: object) -> None:
        if job is not self._job:
            return
        self._finished_any()
        self.progress.setValue(0)
        self.state.setText("cancelled")

    def _show_error(self, message: str) -> None:
        self.state.setText(message)
        self.state.setStyleSheet("color: #b3261e;")
        self.banner.show_message("error", message)
        self.status_message.emit(message)

    def _on_finished(self, job: ShapeJob, result: ShapeResult) -> None:
        if job is not self._job:
            return
        self.result = result
        self._finished_any()
        self.progress.setValue(1000)
        self.state.setText(f"done in {result.seconds:.1f} s")
        self._draw(result)

    def _draw(self, r: ShapeResult) -> None:
        for note in self._empty:
            note.show(False)
        self.train_curve.setData(r.alphas, r.train_loss)
        has_val = bool(np.any(np.isfinite(r.val_loss)))
        self.val_curve.setData(r.alphas if has_val else [], r.val_loss if has_val else [])
        shown = log_field(r.slice_loss, 0.0)
        self.map.set_field(r.slice_a, r.slice_b, r.slice_loss, shown)
        a, b = r.slice_a, r.slice_b
        self.map.show_bounds(a[0], a[-1], b[0], b[-1])
        self.path.setData(r.coords[:, 0], r.coords[:, 1])
        self.path_ends.setData(
            [r.coords[0, 0], r.coords[-1, 0]],
            [r.coords[0, 1], r.coords[-1, 1]],
            symbol=["o", "star"],
            brush=[pg.mkBrush(255, 255, 255), pg.mkBrush(255, 215, 0)],
        )
        if r.directions == "path" and np.all(np.isfinite(r.explained)):
            e1, e2 = 100 * r.explained
            self.map.getPlotItem().setLabel(
                "bottom", f"a: first principal direction ({e1:.1f}% of the path's movement)"
            )
            self.map.getPlotItem().setLabel("left", f"b: second ({e2:.1f}%)")
        else:
            self.map.getPlotItem().setLabel("bottom", "a: random direction 1")
            self.map.getPlotItem().setLabel("left", "b: random direction 2")
        self.map_title.setText(
            "Training loss around the trained parameters \u2605, and the training path from \u25cb"
        )
        src = r.source
        steps = f" after {src.steps:,} steps" if src.steps else ""
        head = f"<b>{src.title}{steps}:</b> {line_summary(r)}"
        if src.findings:
            head += f" {src.findings}"
        if src.explanation:
            head += f"<br>{src.explanation}"
        for note in r.notes:
            head += f"<br><i>{note}</i>"
        self.banner.show_message("info", head)
        self.status_message.emit(f"{src.title}: line and slice ready")

    def line_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The train-loss curve drawn (alphas, losses)."""
        x, y = self.train_curve.getData()
        return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))
