"""The Trainability-map view: which pairs of hyper-parameters train a network, and the fractal
edge between training and diverging (Sohl-Dickstein 2024).

The map is computed tile by tile in the Compare tab's worker thread
(``dlopt_core.studies.trainability``),
in this process or on a Dask cluster; the first tile is a coarse picture of the whole map and
each later one sharpens it. Drag a rectangle on the map to zoom in (the zoom is computed anew at
full resolution), Back and Forward walk through the zooms, hovering reads a pixel out, and a
click trains that pixel's run again and plots its loss. When the map is complete the side plot
shows the box counts of its edge and the fitted fractal dimension.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QStandardPaths, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import style_plot
from app.compare.host import Host
from app.compare.map_plot import MapViewBox, PowerAxis, gradient_bar
from app.plots import EmptyNote, configure_pyqtgraph, log_plot_widget
from app.settings import make_settings
from app.threads import WorkerThread
from app.warmup import WARMER, WarmItem
from app.widgets.controls import IntSpinBox
from app.widgets.layout import scroll_area
from dlopt_core.studies import trainability as tm
from dlopt_core.studies.executors import make_executor
from dlopt_core.studies.map_image import DIVERGENT, TRAINABLE, map_colors, picture, write_png
from dlopt_core.train import backends
from dlopt_core.train.engine import TrainConfig
from dlopt_core.train.experiment import DataSpec, Experiment, NetworkSpec
from dlopt_core.train.optimizers import make_optimizer

MAP_KERNELS = WarmItem(
    "call", "dlopt_core.studies.trainability:warm_up", "the trainability kernels"
)
APP_TILE = 8  # 64 runs a tile: the first coarse picture comes within about a second
SEND_TIP = (
    "Open the clicked pixel's run in the Playground: the problem's data (all of it for "
    "training, unscaled), the mean-field tanh network of the same width without biases, full "
    "batch, the pixel's optimizer, a base learning rate of 1 with the pixel's two rates as the "
    "layer factors (W1, W2), and the map's number of steps. Not carried: the problem's initial "
    "weights (the Playground draws them from its seed, standard normal, so the run starts "
    "elsewhere) and a map's mini-batches (the Playground trains on full batches)."
)
RUN_ON = (
    ("inprocess", "This process"),
    ("local", "Dask: a local cluster"),
    ("address", "Dask: the scheduler at"),
)
SCHEDULER_KEY = "trainability/scheduler"

# the paper's configurations: (name, tooltip, MapSpec fields)
PRESETS = (
    (
        "Per-layer learning rates (paper)",
        "Full-batch gradient descent, one learning rate for "
        "W1 and one for W2, each from 10^-3 to 10^6 (the paper's first figure)",
        {"axes": ("lr1", "lr2"), "ranges": ((-3.0, 6.0), (-3.0, 6.0)), "optimizer": "gd"},
    ),
    (
        "Zoom: the corner of the edge",
        "The region where both learning rates matter, where the edge folds most",
        {"axes": ("lr1", "lr2"), "ranges": ((4.0, 6.0), (1.5, 3.0)), "optimizer": "gd"},
    ),
    (
        "Learning rate vs W1 offset",
        "One learning rate for both layers against a number added "
        "to W1's initial values (the paper's second set-up)",
        {"axes": ("offset", "lr"), "ranges": ((-3.0, 3.0), (-1.0, 4.0)), "optimizer": "gd"},
    ),
    (
        "Learning rate vs momentum",
        "Heavy-ball momentum (PyTorch's SGD) against the learning rate",
        {"axes": ("lr", "momentum"), "ranges": ((-1.0, 4.0), (0.0, 0.99)), "optimizer": "momentum"},
    ),
    (
        "Learning rate vs Adam's \u03b21",
        "Adam's first-moment decay against the learning rate",
        {"axes": ("lr", "beta1"), "ranges": ((-4.0, 2.0), (0.0, 0.99)), "optimizer": "adam"},
    ),
)


class _ExecutorCache:
    """One executor kept between maps (a Dask cluster takes seconds to start); used by the
    worker thread, closed with the view."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._where: str | None = None
        self._executor = None

    def get(self, where: str | None):
        with self._lock:
            if self._executor is None or self._where != where:
                self._close()
                self._executor = make_executor(where)
                self._where = where
            return self._executor

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._executor is not None:
            try:
                self._executor.close()
            except Exception:  # a cluster already gone: nothing left to release
                pass
        self._executor = None
        self._where = None


class TrainabilityMapView(QWidget):
    """The page: controls on the left, the map in the middle, fractal fit and run on the right."""

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        configure_pyqtgraph()
        self.host = host
        self.settings = make_settings()
        self.result: tm.MapResult | None = None
        self.problem: tm.Problem | None = None
        self.history: list[tm.MapSpec] = []
        self.position = -1
        self.selected: tuple[int, int] | None = None
        self.executors = _ExecutorCache()
        self.curve_runner = WorkerThread(self._train_pixel, "dlopt-map-pixel", self)
        self.curve_runner.finished.connect(self._show_curve)
        self.curve_runner.failed.connect(lambda _req, msg: self.host.notify("error", msg))
        self._build_controls()
        self._build_plots()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.controls_area)
        splitter.addWidget(self.map_panel)
        splitter.addWidget(self.side_panel)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([self.controls_area.minimumWidth(), 620, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(splitter)
        self.apply_preset(0)
        self._update_buttons()

    # -- controls ---------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.preset = QComboBox()
        for k, (name, tip, _) in enumerate(PRESETS):
            self.preset.addItem(name)
            self.preset.setItemData(k, tip, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("The paper's configurations; choosing one fills in the fields")
        self.preset.activated.connect(self.apply_preset)
        self.axis_boxes: list[QComboBox] = []
        self.lo_boxes: list[QDoubleSpinBox] = []
        self.hi_boxes: list[QDoubleSpinBox] = []
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        for k, which in enumerate(("Across", "Up")):
            combo = QComboBox()
            for name, axis in tm.AXES.items():
                combo.addItem(axis.label, name)
            direction = "horizontal" if k == 0 else "vertical"
            combo.setToolTip(f"The hyper-parameter along the map's {direction} axis")
            combo.currentIndexChanged.connect(lambda _i, k=k: self._axis_changed(k))
            lo, hi = QDoubleSpinBox(), QDoubleSpinBox()
            for box, end in ((lo, "lowest"), (hi, "highest")):
                box.setDecimals(4)
                box.setKeyboardTracking(False)
                box.setToolTip(
                    f"The {end} value of this axis (log10 for learning rates: 2 means 100)"
                )
            row = QHBoxLayout()
            row.addWidget(lo)
            row.addWidget(QLabel("to"))
            row.addWidget(hi)
            form.addRow(which, combo)
            form.addRow("", row)
            self.axis_boxes.append(combo)
            self.lo_boxes.append(lo)
            self.hi_boxes.append(hi)
        self.res = IntSpinBox()
        self.res.setRange(8, 1024)
        self.res.setValue(64)
        self.res.setToolTip("Pixels along each axis; every pixel is one training run")
        self.steps = IntSpinBox()
        self.steps.setRange(20, 5000)
        self.steps.setValue(200)
        self.steps.setToolTip(
            "Full-batch steps per run (the paper uses 500 to 1000 for final pictures)"
        )
        self.optimizer = QComboBox()
        for name, title in (("gd", "Gradient descent"), ("momentum", "Momentum"), ("adam", "Adam")):
            self.optimizer.addItem(title, name)
        self.optimizer.setToolTip("The optimizer (an axis of momentum or \u03b21 decides it)")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 0.999)
        self.beta.setDecimals(3)
        self.beta.setValue(0.9)
        self.beta.setToolTip("Momentum or Adam's \u03b21 when neither is an axis")
        self.batch = IntSpinBox()
        self.batch.setRange(0, 100_000)
        self.batch.setSpecialValueText("full batch")
        self.batch.setToolTip(
            "Rows of each step's gradient, drawn anew each step (the same "
            "draws for every run); the loss is always the whole data set's"
        )
        self.width = IntSpinBox()
        self.width.setRange(2, 64)
        self.width.setValue(16)
        self.width.setToolTip(
            "Width d of the network (and of the data): d*d + d parameters, as many data points"
        )
        self.seed = IntSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the random data and initial weights")
        self.run_on = QComboBox()
        for key, title in RUN_ON:
            self.run_on.addItem(title, key)
        self.run_on.setToolTip(
            "Where the tiles train: in this process (all cores), on a Dask "
            "cluster of worker processes here, or on a running Dask cluster"
        )
        self.address = QLineEdit(str(self.settings.value(SCHEDULER_KEY, "")))
        self.address.setPlaceholderText("tcp://host:8786")
        self.address.setToolTip("The address of a running Dask scheduler (kept between sessions)")
        self.address.editingFinished.connect(
            lambda: self.settings.setValue(SCHEDULER_KEY, self.address.text().strip())
        )
        form.addRow("Resolution", self.res)
        form.addRow("Steps", self.steps)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Momentum/\u03b21", self.beta)
        form.addRow("Mini-batch", self.batch)
        form.addRow("Width", self.width)
        form.addRow("Seed", self.seed)
        form.addRow("Run on", self.run_on)
        form.addRow("", self.address)
        self.compute_button = QPushButton("Compute map")
        self.compute_button.setToolTip("Train every pixel's run (Ctrl+Return)")
        self.compute_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.compute_button.clicked.connect(self.compute)
        self.back_button = QPushButton("\u2190 Back")
        self.back_button.setToolTip("The map before the last zoom (Alt+Left)")
        self.back_button.setShortcut(QKeySequence("Alt+Left"))
        self.back_button.clicked.connect(lambda: self.go(-1))
        self.forward_button = QPushButton("Forward \u2192")
        self.forward_button.setToolTip("The next zoom again (Alt+Right)")
        self.forward_button.setShortcut(QKeySequence("Alt+Right"))
        self.forward_button.clicked.connect(lambda: self.go(1))
        self.png_button = QPushButton("Export PNG\u2026")
        self.png_button.setToolTip("Save the map as a picture")
        self.png_button.clicked.connect(self.export_png)
        self.npz_button = QPushButton("Export npz\u2026")
        self.npz_button.setToolTip(
            "Save the values, the axes, the converged mask and the fractal dimension (NumPy's .npz)"
        )
        self.npz_button.clicked.connect(self.export_npz)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.forward_button)
        export = QHBoxLayout()
        export.addWidget(self.png_button)
        export.addWidget(self.npz_button)
        box = QGroupBox("Map")
        inner = QVBoxLayout(box)
        inner.addLayout(form)
        inner.addWidget(self.compute_button)
        inner.addLayout(nav)
        inner.addLayout(export)
        inner.addStretch(1)
        self.controls_area = scroll_area(box, horizontal=False, framed=True)
        # the box's size hint once it is in the area (its style comes from there)
        self.controls_area.setMinimumWidth(box.sizeHint().width() + 24)

    def _axis_changed(self, k: int) -> None:
        axis = tm.AXES[self.axis_boxes[k].currentData()]
        for box, value in (
            (self.lo_boxes[k], axis.default[0]),
            (self.hi_boxes[k], axis.default[1]),
        ):
            box.setRange(axis.lo, axis.hi)
            box.setSingleStep(0.5 if axis.log else 0.05)
            box.setValue(value)
        self.axes_items[k].log = axis.log

    def apply_preset(self, index: int) -> None:
        """Fill the fields with preset ``index`` of :data:`PRESETS`."""
        _, _, fields = PRESETS[index]
        self.preset.setCurrentIndex(index)
        for k in range(2):
            self.axis_boxes[k].setCurrentIndex(self.axis_boxes[k].findData(fields["axes"][k]))
            self._axis_changed(k)
            self.lo_boxes[k].setValue(fields["ranges"][k][0])
            self.hi_boxes[k].setValue(fields["ranges"][k][1])
        self.optimizer.setCurrentIndex(self.optimizer.findData(fields["optimizer"]))

    def spec(self) -> tm.MapSpec:
        """The map the fields describe (MapError when they do not make one)."""
        return tm.MapSpec(
            axes=(self.axis_boxes[0].currentData(), self.axis_boxes[1].currentData()),
            ranges=(
                (self.lo_boxes[0].value(), self.hi_boxes[0].value()),
                (self.lo_boxes[1].value(), self.hi_boxes[1].value()),
            ),
            res=(self.res.value(), self.res.value()),
            steps=self.steps.value(),
            optimizer=self.optimizer.currentData(),
            beta=self.beta.value(),
            tile=APP_TILE,
            batch=self.batch.value(),
        )

    def _show_spec(self, spec: tm.MapSpec) -> None:
        for k in range(2):
            self.axis_boxes[k].blockSignals(True)
            self.axis_boxes[k].setCurrentIndex(self.axis_boxes[k].findData(spec.axes[k]))
            self.axis_boxes[k].blockSignals(False)
            axis = tm.AXES[spec.axes[k]]
            self.axes_items[k].log = axis.log
            for box, value in (
                (self.lo_boxes[k], spec.ranges[k][0]),
                (self.hi_boxes[k], spec.ranges[k][1]),
            ):
                box.setRange(axis.lo, axis.hi)
                box.setValue(value)

    def map_backend(self) -> str:
        """``cuda`` when the tab's backend (the window's setting) resolves to a GPU, else
        ``cpu``."""
        try:
            return "cuda" if backends.resolve(self.host.backend).name == "cuda" else "cpu"
        except backends.BackendError:
            return "cpu"

    def where(self) -> str | None:
        """The executor the "Run on" field names (see
        ``dlopt_core.studies.executors.make_executor``).
        """
        key = self.run_on.currentData()
        if key == "inprocess":
            return None
        if key == "local":
            return "local"
        address = self.address.text().strip()
        if not address:
            raise tm.MapError(
                "type the Dask scheduler's address (e.g. tcp://host:8786) or run in this process"
            )
        return address

    # -- plots ------------------------------------------------------------------------------------
    def _build_plots(self) -> None:
        self.axes_items = [PowerAxis("bottom"), PowerAxis("left")]
        self.view = MapViewBox()
        self.map_widget = pg.PlotWidget(
            viewBox=self.view, axisItems={"bottom": self.axes_items[0], "left": self.axes_items[1]}
        )
        self.map_plot = self.map_widget.getPlotItem()
        style_plot(self.map_plot, "Trainability map", "", "")
        self.map_plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.map_plot.addItem(self.image)
        self.marker = pg.ScatterPlotItem(
            size=11, symbol="o", pen=pg.mkPen("k", width=2), brush=None
        )
        self.map_plot.addItem(self.marker)
        self.map_note = EmptyNote(self.map_plot, "Choose a preset and press Compute map")
        self.view.zoom_rect.connect(self.zoom)
        self.map_widget.scene().sigMouseMoved.connect(self._hover)
        self.map_widget.scene().sigMouseClicked.connect(self._clicked)
        self.readout = QLabel(
            "Hover over the map to read a pixel; drag a rectangle to zoom; "
            "click a pixel for its run"
        )
        self.readout.setWordWrap(True)
        legend = QHBoxLayout()
        for deep_pale, text in (
            (TRAINABLE, "trains (deep: fast, pale: slow)"),
            (DIVERGENT, "diverges (deep: fast, pale: slow)"),
        ):
            bar = QLabel()
            bar.setPixmap(gradient_bar(*deep_pale))
            legend.addWidget(bar)
            legend.addWidget(QLabel(text))
        legend.addStretch(1)
        self.map_panel = QWidget()
        lay = QVBoxLayout(self.map_panel)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.map_widget, 1)
        lay.addLayout(legend)
        lay.addWidget(self.readout)

        self.fractal_widget = log_plot_widget()
        self.fractal_plot = self.fractal_widget.getPlotItem()
        style_plot(
            self.fractal_plot,
            "Fractal dimension of the edge",
            "box size (pixels)",
            "boxes on the edge",
        )
        self.fractal_plot.setLogMode(x=True, y=True)
        self.fractal_points = pg.PlotDataItem(
            pen=None, symbol="o", symbolSize=8, symbolBrush=pg.mkBrush(60, 60, 60)
        )
        self.fractal_line = pg.PlotDataItem(pen=pg.mkPen((200, 60, 30), width=2))
        self.fractal_plot.addItem(self.fractal_points)
        self.fractal_plot.addItem(self.fractal_line)
        self.fractal_note = EmptyNote(self.fractal_plot, "Box counts of the finished map")
        self.curve_widget = log_plot_widget()
        self.curve_plot = self.curve_widget.getPlotItem()
        style_plot(self.curve_plot, "The run at the clicked pixel", "step", "loss / first loss")
        self.curve_plot.setLogMode(y=True)
        self.curve = pg.PlotDataItem(pen=pg.mkPen((30, 80, 160), width=2))
        self.curve_plot.addItem(self.curve)
        self.curve_note = EmptyNote(self.curve_plot, "Click a pixel of the map")
        self.send_button = QPushButton("Send to Playground")
        self.send_button.setToolTip(SEND_TIP)
        self.send_button.clicked.connect(self.send_to_playground)
        self.side_panel = QWidget()
        side = QVBoxLayout(self.side_panel)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.fractal_widget, 1)
        side.addWidget(self.curve_widget, 1)
        side.addWidget(self.send_button)

    # -- computing --------------------------------------------------------------------------------
    def compute(self) -> bool:
        """Compute the map the fields describe (a new entry in the zoom history)."""
        try:
            spec = self.spec()
        except tm.MapError as exc:
            self.host.notify("error", f"The map cannot be computed: {exc}")
            return False
        return self._start(spec, new_entry=True)

    def zoom(self, rect: QRectF) -> None:
        """Compute the part of the map inside ``rect`` (map coordinates) at full resolution."""
        if self.result is None or self.host.runner.busy:
            return
        spec = self.result.spec
        steps = [(hi - lo) / (n - 1) for (lo, hi), n in zip(spec.ranges, spec.res, strict=True)]
        if rect.width() < 2 * steps[0] or rect.height() < 2 * steps[1]:
            return  # a click or a sliver: not a zoom
        ranges = ((rect.left(), rect.right()), (rect.top(), rect.bottom()))
        ranges = tuple(
            (max(lo, tm.AXES[a].lo), min(hi, tm.AXES[a].hi))
            for (lo, hi), a in zip(ranges, spec.axes, strict=True)
        )
        try:
            new = spec.zoomed(ranges)
        except tm.MapError as exc:
            self.host.notify("warning", f"This zoom cannot be computed: {exc}")
            return
        self._show_spec(new)
        self._start(new, new_entry=True)

    def go(self, delta: int) -> None:
        """Back (-1) or forward (+1) through the zooms; the map is computed again."""
        k = self.position + delta
        if not 0 <= k < len(self.history) or self.host.runner.busy:
            return
        self.position = k
        self._show_spec(self.history[k])
        self._start(self.history[k], new_entry=False)

    def _start(self, spec: tm.MapSpec, new_entry: bool) -> bool:
        if self.host.runner.busy:
            self.host.notify("warning", "Another comparison is running; cancel it first.")
            return False
        try:
            where = self.where()
            problem = tm.Problem.paper(self.width.value(), self.seed.value())
        except tm.MapError as exc:
            self.host.notify("error", str(exc))
            return False
        if new_entry:
            del self.history[self.position + 1 :]
            self.history.append(spec)
            self.position = len(self.history) - 1
        backend = self.map_backend()
        self.problem = problem
        self.result = None
        self.selected = None
        self.marker.setData([], [])
        self._clear_fractal()
        executors = self.executors

        def job(report, should_stop):
            WARMER.ensure([MAP_KERNELS], cancelled=should_stop)
            executor = executors.get(where)
            return tm.trainability_map(
                problem, spec, executor, progress=report, should_stop=should_stop, backend=backend
            )

        started = self.host.runner.start("trainability map", job, self._show, self._finished)
        self._update_buttons()
        return started

    def _finished(self, result: tm.MapResult) -> None:
        self._show(result)
        self._update_buttons()
        if result.complete:
            self._show_fractal(result.fractal)

    def _update_buttons(self) -> None:
        busy = self.host.runner.busy
        self.back_button.setEnabled(self.position > 0 and not busy)
        self.forward_button.setEnabled(self.position < len(self.history) - 1 and not busy)
        done = self.result is not None
        self.png_button.setEnabled(done)
        self.npz_button.setEnabled(done)
        self.send_button.setEnabled(self.selected is not None)

    # -- drawing ----------------------------------------------------------------------------------
    def _show(self, result: tm.MapResult) -> None:
        """Draw a partial or complete map (pixels not computed show their computed neighbour)."""
        self.result = result
        spec = result.spec
        self.image.setImage(map_colors(result.filled()), autoLevels=False, levels=(0, 255))
        (lo0, hi0), (lo1, hi1) = spec.ranges
        d0, d1 = (hi0 - lo0) / (spec.res[0] - 1), (hi1 - lo1) / (spec.res[1] - 1)
        self.image.setRect(QRectF(lo0 - d0 / 2, lo1 - d1 / 2, spec.res[0] * d0, spec.res[1] * d1))
        self.view.setRange(
            xRange=(lo0 - d0 / 2, hi0 + d0 / 2), yRange=(lo1 - d1 / 2, hi1 + d1 / 2), padding=0.0
        )
        for k, pos in enumerate(("bottom", "left")):
            axis = tm.AXES[spec.axes[k]]
            self.map_plot.setLabel(pos, axis.label + (" (log scale)" if axis.log else ""))
        self.map_note.show(False)
        share = result.converged[result.done].mean() if result.done.any() else 0.0
        state = (
            "complete" if result.complete else f"{result.tiles_done} of {result.tiles_total} tiles"
        )
        self.map_plot.setTitle(
            f"<span style='font-size:10pt;font-weight:600'>{spec.res[0]} \u00d7 {spec.res[1]} "
            f"runs, {spec.steps} steps: {share:.0%} train ({state})</span>"
        )

    def _clear_fractal(self) -> None:
        self.fractal_points.setData([], [])
        self.fractal_line.setData([], [])
        self.fractal_note.set_text("Box counts of the finished map")
        self.fractal_note.show(True)

    def _show_fractal(self, fit: tm.FractalFit) -> None:
        use = fit.counts > 0
        if not use.any():
            self.fractal_note.set_text("No edge in this map: every run trains, or none")
            return
        self.fractal_points.setData(fit.sizes[use].astype(float), fit.counts[use].astype(float))
        if fit.ok:
            lo, hi = fit.fit_range
            sizes = np.array([lo, hi], dtype=float)
            self.fractal_line.setData(sizes, np.exp(fit.intercept) * sizes**-fit.dimension)
            title = f"Fractal dimension {fit.dimension:.2f} (boxes of {lo} to {hi} pixels)"
        else:
            title = "Too few box sizes for a fractal dimension"
        self.fractal_plot.setTitle(f"<span style='font-size:10pt;font-weight:600'>{title}</span>")
        self.fractal_note.show(False)

    def pixel_at(self, point: QPointF) -> tuple[int, int] | None:
        """The map pixel under ``point`` (map coordinates), or None outside the map."""
        if self.result is None:
            return None
        spec = self.result.spec
        out = []
        for k, x in enumerate((point.x(), point.y())):
            lo, hi = spec.ranges[k]
            i = int(round((x - lo) / (hi - lo) * (spec.res[k] - 1)))
            if not 0 <= i < spec.res[k]:
                return None
            out.append(i)
        return out[0], out[1]

    def describe_pixel(self, i: int, j: int) -> str:
        result = self.result
        assert result is not None
        spec = result.spec
        names = [
            f"{spec.axes[k]} = {v[n]:.4g}"
            for k, (v, n) in enumerate(((result.values0, i), (result.values1, j)))
        ]
        if not result.done[i, j]:
            return f"{', '.join(names)}: not computed yet"
        value = result.value[i, j]
        outcome = "trains" if result.converged[i, j] else "diverges"
        return f"{', '.join(names)}: {outcome} (value {value:.4g})"

    def _hover(self, pos) -> None:
        if not self.map_plot.sceneBoundingRect().contains(pos):
            return
        pixel = self.pixel_at(self.view.mapSceneToView(pos))
        if pixel is not None:
            self.readout.setText(self.describe_pixel(*pixel))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        pixel = self.pixel_at(self.view.mapSceneToView(ev.scenePos()))
        if pixel is not None:
            self.select(*pixel)

    def select(self, i: int, j: int) -> None:
        """Train pixel (i, j)'s run again (in a thread) and plot its loss."""
        if self.result is None or self.problem is None:
            return
        self.selected = (i, j)
        spec = self.result.spec
        x = np.linspace(*spec.ranges[0], spec.res[0])[i]
        y = np.linspace(*spec.ranges[1], spec.res[1])[j]
        self.marker.setData([x], [y])
        self.readout.setText(self.describe_pixel(i, j))
        self._update_buttons()
        self.curve_runner.submit((self.problem, spec, i, j))

    @staticmethod
    def _train_pixel(request, _report, cancelled) -> np.ndarray:
        problem, spec, i, j = request
        WARMER.ensure([MAP_KERNELS], cancelled=cancelled)
        return tm.pixel_losses(problem, spec, i, j)

    def _show_curve(self, request, losses: np.ndarray) -> None:
        _, spec, i, j = request
        v = tm.normalised_losses(losses)
        steps = np.arange(len(v), dtype=float)
        self.curve.setData(steps, v)
        value, conv = tm.values_from_losses(losses[:, None])
        outcome = "trains" if conv[0] else "diverges"
        hyper = tm.pixel_hyper(spec, i, j)
        names = ", ".join(
            f"{a} = {hyper[a] if a in hyper else hyper['beta']:.4g}" for a in spec.axes
        )
        self.curve_plot.setTitle(
            f"<span style='font-size:10pt;font-weight:600'>{names}: {outcome}</span>"
        )
        self.curve_note.show(False)

    # -- export and hand-over ---------------------------------------------------------------------
    def _save_path(self, title: str, suffix: str, filter_text: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, f"trainability-map{suffix}", filter_text)
        if not path:
            return None
        return path if path.endswith(suffix) else path + suffix

    def export_png(self, path: str | None = None) -> bool:
        """Save the map as a PNG (asks where when ``path`` is None)."""
        if self.result is None:
            return False
        path = path or self._save_path("Export the map as PNG", ".png", "PNG pictures (*.png)")
        if not path:
            return False
        try:
            write_png(path, picture(self.result.filled()), max(1, 512 // max(self.result.spec.res)))
        except OSError as exc:
            self.host.notify("error", f"The picture cannot be written: {exc.strerror or exc}")
            return False
        self.host.notify("info", f"Map written to {path}")
        return True

    def export_npz(self, path: str | None = None) -> bool:
        """Save the map's arrays as .npz (asks where when ``path`` is None)."""
        if self.result is None:
            return False
        path = path or self._save_path("Export the map as npz", ".npz", "NumPy arrays (*.npz)")
        if not path:
            return False
        try:
            self.result.save_npz(path)
        except OSError as exc:
            self.host.notify("error", f"The file cannot be written: {exc.strerror or exc}")
            return False
        self.host.notify("info", f"Map written to {path}")
        return True

    def playground_experiment(self) -> Experiment | None:
        """The selected pixel's run as a Playground experiment (see ``SEND_TIP``): the data as a
        CSV file in the app's data folder, all of it for training."""
        if self.selected is None or self.problem is None or self.result is None:
            return None
        problem, spec = self.problem, self.result.spec
        hyper = tm.pixel_hyper(spec, *self.selected)
        folder = (
            Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
            / "trainability"
        )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"mean-field-width{problem.width}-{abs(hash(problem.X.tobytes()))}.csv"
        if not path.exists():
            table = np.hstack([problem.X, problem.Y])
            header = ",".join([*(f"x{k + 1}" for k in range(problem.width)), "y"])
            np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.17g")
        # the base rate 1 and the two layer rates as its factors: lr * factor is the rate itself
        optimizer = {
            "gd": make_optimizer("sgd", lr=1.0),
            "momentum": make_optimizer("momentum", lr=1.0, momentum=hyper["beta"]),
            "adam": make_optimizer("adam", lr=1.0, betas=(hyper["beta"], 0.999)),
        }[hyper["optimizer"]]
        return Experiment(
            data=DataSpec(
                kind="csv", path=os.fspath(path), val_fraction=0.0, standardize=False, seed=0
            ),
            network=NetworkSpec(
                hidden=(problem.width,),
                activation="tanh",
                bias=False,
                parameterization="mean_field",
            ),
            optimizer=optimizer,
            layer_lr=(hyper["lr1"], hyper["lr2"]),
            training=TrainConfig(batch_size=problem.rows, shuffle=False, eval_every=1),
            max_steps=spec.steps,
            seed=0,
            name="trainability map pixel",
        )

    def send_to_playground(self) -> None:
        try:
            exp = self.playground_experiment()
        except (OSError, ValueError) as exc:
            self.host.notify("error", f"The run cannot be sent: {exc}")
            return
        if exp is not None:
            lr1, lr2 = exp.layer_lr or (1.0, 1.0)
            self.host.send(
                exp,
                f"The pixel's run is in the Playground: learning rates {lr1:g} "
                f"(W1) and {lr2:g} (W2); its initial weights are drawn anew "
                f"(see the button's tooltip)",
            )

    def shutdown(self) -> None:
        """Stop the pixel runner and close a Dask cluster started for the maps."""
        self.curve_runner.stop()
        self.executors.close()
