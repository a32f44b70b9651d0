"""The Race view: up to eight optimizer configurations trained side by side on the same batches.

Left: the configuration editor (presets, add, remove, take the Playground's optimizer), the run
length and a target loss. Right: training and validation curves (loss or error, linear or log),
a toggle per configuration, the results table (sortable by any column) and, for 2-D
classification data, a small decision boundary per configuration.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.compare.boundary_panel import BoundaryPanel
from app.compare.common import (
    MISSING,
    FlowLayout,
    SortItem,
    color,
    configure_pyqtgraph,
    error_scale,
    fmt,
    fmt_error,
    log_plot_widget,
    metric_label,
    positive_or_nan,
    style_plot,
)
from app.compare.configs import PRESETS, RaceConfig
from app.compare.host import Host
from app.compare.jobs import RaceSnapshot, boundary_grid, boundary_images
from app.compare.race_editor import ConfigEditor
from app.curve_reduction import MAX_DRAWN, decimate
from app.log_axis import set_log_y
from app.metric_plot import Band
from app.plots import EmptyNote
from app.warmup import variants
from app.widgets.layout import swatch_icon
from dlopt_core.studies import compare

RESULT_COLUMNS = (
    ("Configuration", "the optimizer, its learning rate and what else differs"),
    ("Best val\nloss", "the lowest validation loss recorded during the run"),
    ("Best at\nstep", "the step at which that lowest validation loss was recorded"),
    ("Final train\nerror", "training error after the last step (misclassified per cent, or RMSE)"),
    ("Final val\nerror", "validation error after the last step (misclassified per cent, or RMSE)"),
    ("Steps to\ntarget", "steps to reach the target validation loss (first recorded step)"),
    ("Diverged", "the step at which the loss became infinite or NaN (training stopped there)"),
)
# On the default spiral SGD, momentum and Adam still sit near chance after 1,000 steps; after
# 10,000 their validation errors part clearly (about 30 %, 7 % and 4 %)
DEFAULT_STEPS = 10_000
NO_RACE_YET = (
    "Run a race: the decision boundary of each configuration appears here "
    "(for 2-D classification data)."
)
NO_BOUNDARY = (
    "No decision boundaries: the Playground's data set has more than two inputs or "
    "is a regression problem."
)


class RaceView(QWidget):
    """Configuration editor, curves, results table and decision boundaries of one race."""

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.host = host
        self.snapshot: RaceSnapshot | None = None
        self._train_curves: list[pg.PlotDataItem] = []
        self._val_curves: list[pg.PlotDataItem] = []
        self._markers: list[pg.PlotDataItem] = []
        self._bands: list[Band] = []
        self._toggles: list[QCheckBox] = []

        # -- left: configurations and run settings
        self.editor = ConfigEditor()
        self.preset = QComboBox()
        self.preset.addItem("Presets\u2026", "")
        for name, (tip, _) in PRESETS.items():
            self.preset.addItem(name, name)
            self.preset.setItemData(self.preset.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("Replace the list with one of the course's classic comparisons")
        self.preset.activated.connect(self._apply_preset)
        self.add_button = QToolButton()
        self.add_button.setText("+ Add")
        self.add_button.setToolTip("Add a configuration (at most 8)")
        self.add_button.clicked.connect(self._add)
        self.remove_button = QToolButton()
        self.remove_button.setText("\u2212 Remove")
        self.remove_button.setToolTip("Remove the selected configuration (else the last)")
        self.remove_button.clicked.connect(self.editor.remove_selected)
        self.from_playground = QToolButton()
        self.from_playground.setText("From Playground")
        self.from_playground.setToolTip("Add the Playground's optimizer and schedule, exactly")
        self.from_playground.clicked.connect(self._add_from_playground)
        tools = QHBoxLayout()
        tools.addWidget(self.preset, 1)
        tools.addWidget(self.add_button)
        tools.addWidget(self.remove_button)
        tools.addWidget(self.from_playground)

        self.steps = QSpinBox()
        self.steps.setRange(10, 1_000_000)
        self.steps.setSingleStep(1000)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip(
            "How many steps every configuration trains for (the default is "
            "long enough for the optimizers to part on the Playground's "
            "default spiral)"
        )
        self.target = QDoubleSpinBox()
        self.target.setDecimals(4)
        self.target.setRange(0.0, 1000.0)
        self.target.setSingleStep(0.05)
        self.target.setSpecialValueText("off")
        self.target.setToolTip(
            "Validation loss whose first crossing is timed in the table "
            "(off: 0); changing it updates the table at once"
        )
        self.target.valueChanged.connect(self._refresh_table)
        self.run_button = QPushButton("Run race")
        self.run_button.setToolTip(
            "Train all configurations together from the same initial "
            "parameters on the same mini-batches"
        )
        self.run_button.clicked.connect(self.run)
        run_row = QHBoxLayout()
        run_row.addWidget(QLabel("Steps"))
        run_row.addWidget(self.steps, 1)
        run_row.addSpacing(8)
        run_row.addWidget(QLabel("Target val loss"))
        run_row.addWidget(self.target, 1)
        run_row.addSpacing(8)
        run_row.addWidget(self.run_button)
        conf_box = QGroupBox("Configurations")
        conf_lay = QVBoxLayout(conf_box)
        conf_lay.addLayout(tools)
        conf_lay.addWidget(self.editor)
        conf_lay.addLayout(run_row)
        conf_lay.addStretch(1)

        # -- right: curves
        self.metric = QComboBox()
        self.metric.addItem("Loss", "loss")
        self.metric.addItem("Error", "error")
        self.metric.setToolTip("Plot the loss or the error (misclassified per cent, or RMSE)")
        self.metric.currentIndexChanged.connect(self._redraw_curves)
        self.log_y = QCheckBox("Log scale")
        self.log_y.setToolTip("Logarithmic y axis")
        self.log_y.toggled.connect(self._set_log)
        toggles = QWidget()
        toggles.setToolTip("Tick or untick a configuration to show or hide its curves")
        self.toggle_row = FlowLayout(toggles, spacing=12)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.metric)
        top.addWidget(self.log_y)
        top.addSpacing(12)
        top.addWidget(toggles, 1)
        self.train_plot = log_plot_widget()
        self.val_plot = log_plot_widget()
        for plot, title in ((self.train_plot, "Training"), (self.val_plot, "Validation")):
            style_plot(plot.getPlotItem(), title, "step", "loss")
            plot.setMinimumHeight(180)
        self.train_plot.setToolTip("Training curves: one colour per configuration")
        self.val_plot.setToolTip(
            "Validation curves: one colour per configuration; a cross marks where a run diverged"
        )
        self.val_plot.setXLink(self.train_plot)
        self._empty_notes = [
            EmptyNote(p.getPlotItem(), "Run a race to see its curves")
            for p in (self.train_plot, self.val_plot)
        ]
        plots = QHBoxLayout()
        plots.addWidget(self.train_plot)
        plots.addWidget(self.val_plot)
        curves = QWidget()
        curves_lay = QVBoxLayout(curves)
        curves_lay.setContentsMargins(0, 0, 0, 0)
        curves_lay.addLayout(top)
        curves_lay.addLayout(plots, 1)

        # -- right: results table and boundaries
        self.results = QTableWidget(0, len(RESULT_COLUMNS))
        self.results.setHorizontalHeaderLabels([c[0] for c in RESULT_COLUMNS])
        for i, (_, tip) in enumerate(RESULT_COLUMNS):
            self.results.horizontalHeaderItem(i).setToolTip(tip + " (click to sort)")
        self.results.verticalHeader().setVisible(False)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setSortingEnabled(True)
        self.results.setWordWrap(False)
        self.results.setToolTip(
            "Results of the race; click a header to sort, select a row to send it to the Playground"
        )
        header = self.results.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._fit_result_columns()
        self.results.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.results.itemSelectionChanged.connect(self._selection_changed)
        self.send_button = QPushButton("Send to Playground")
        self.send_button.setToolTip(
            "Use the selected configuration's optimizer and schedule in the Playground"
        )
        self.send_button.setEnabled(False)
        self.send_button.clicked.connect(self.send_selected)
        table_box = QGroupBox("Results")
        table_lay = QVBoxLayout(table_box)
        table_lay.addWidget(self.results, 1)
        send_row = QHBoxLayout()
        send_row.addStretch(1)
        send_row.addWidget(self.send_button)
        table_lay.addLayout(send_row)
        self.boundaries = BoundaryPanel()
        self.boundaries.setMinimumHeight(150)
        self.no_boundary = QLabel(NO_RACE_YET)
        self.no_boundary.setWordWrap(True)
        self.no_boundary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_boundary.setStyleSheet("color: #777;")
        self.no_boundary.setToolTip(
            "The Playground's data set has more than two inputs or is a regression problem"
        )
        bnd = self.boundary_box = QWidget()
        bnd_lay = QVBoxLayout(bnd)
        bnd_lay.setContentsMargins(0, 0, 0, 0)
        bnd_lay.addWidget(self.boundaries, 1)
        bnd_lay.addWidget(self.no_boundary, 1)
        self.boundaries.hide()
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(conf_box)
        left.addWidget(table_box)
        left.setStretchFactor(0, 0)
        left.setStretchFactor(1, 1)
        left.setSizes([self.editor.table.maximumHeight() + 100, 400])
        left.setChildrenCollapsible(False)
        left.setMinimumWidth(500)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(curves)
        right.addWidget(bnd)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([600, 220])
        right.setChildrenCollapsible(False)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([540, 860])
        split.setChildrenCollapsible(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self.editor.set_configs(list(PRESETS["SGD vs momentum vs Adam"][1]))
        self.host.runner.busy_changed.connect(lambda busy: self.run_button.setEnabled(not busy))

    # -- configurations ---------------------------------------------------------------------------
    def configs(self) -> list[RaceConfig]:
        return self.editor.configs()

    def set_configs(self, configs: list[RaceConfig]) -> None:
        self.editor.set_configs(configs)

    def apply_preset(self, name: str) -> None:
        self.editor.set_configs(list(PRESETS[name][1]))

    def _apply_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.apply_preset(name)
        self.preset.setCurrentIndex(0)

    def _add(self) -> None:
        configs = self.editor.configs()
        taken = {c.optimizer for c in configs}
        name = next(
            (
                n
                for n in (
                    "sgd",
                    "momentum",
                    "adam",
                    "rmsprop",
                    "nesterov",
                    "adagrad",
                    "adamw",
                    "nadam",
                )
                if n not in taken
            ),
            "adam",
        )
        if not self.editor.add(RaceConfig.default(name)):
            self.host.notify("warning", f"A race takes at most {compare.MAX_RACE} configurations.")

    def _add_from_playground(self) -> None:
        exp = self.host.experiment()
        if exp is not None and not self.editor.add(RaceConfig.from_experiment(exp)):
            self.host.notify("warning", f"A race takes at most {compare.MAX_RACE} configurations.")

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> bool:
        """Start the race in the worker thread; False when it could not start."""
        configs = self.configs()
        if not configs:
            self.host.notify("warning", "Add at least one configuration to race.")
            return False
        exp = self.host.experiment()
        if exp is None:
            return False
        steps = self.steps.value()
        try:
            specs = [c.spec(steps) for c in configs]
        except ValueError as exc:
            self.host.notify("error", f"Configuration: {exc}")
            return False
        target = self.target.value()
        backend = self.host.backend

        def job(report, should_stop):
            grid = boundary_grid(exp)

            def partial(fraction, result):
                report(fraction, RaceSnapshot(result, boundary_images(grid, result.theta)))

            result = compare.race(
                exp,
                specs,
                steps,
                target=target,
                backend=backend,
                callback=partial,
                should_stop=should_stop,
            )
            return RaceSnapshot(result, boundary_images(grid, result.theta))

        if self.host.runner.busy:
            self.host.notify("warning", "Another comparison is running; cancel it first.")
            return False
        self._setup(compare.unique_labels(specs))
        return self.host.runner.start(
            "race", job, self.show_snapshot, self.show_snapshot, trains=variants(exp, specs)
        )

    def clear_results(self) -> None:
        """Forget the race on screen: curves, their toggles, results and boundaries."""
        self._setup(())
        self.boundaries.hide()
        self.no_boundary.setText(NO_RACE_YET)
        self.no_boundary.show()
        self.boundary_box.show()

    def _setup(self, labels: tuple[str, ...]) -> None:
        self.snapshot = None
        for note in self._empty_notes:
            note.show(True)
        for plot in (self.train_plot, self.val_plot):
            plot.getPlotItem().clear()
        self._train_curves, self._val_curves, self._markers, self._bands = [], [], [], []
        for box in self._toggles:
            self.toggle_row.removeWidget(box)
            box.deleteLater()
        self._toggles = []
        for m, label in enumerate(labels):
            pen = pg.mkPen(color(m), width=2)
            self._train_curves.append(self.train_plot.plot([], [], pen=pen, name=label))
            self._val_curves.append(self.val_plot.plot([], [], pen=pen, name=label))
            for plot in (self.train_plot, self.val_plot):
                self._bands.append(Band(plot.getPlotItem(), color(m)))
            marker = pg.PlotDataItem(
                [],
                [],
                pen=None,
                symbol="x",
                symbolSize=13,
                symbolPen=pg.mkPen(color(m), width=2),
                symbolBrush=None,
            )
            self.val_plot.addItem(marker)
            self._markers.append(marker)
            box = QCheckBox(label)
            box.setIcon(swatch_icon(color(m)))
            box.setChecked(True)
            box.setToolTip(f"Show or hide the curves of {label}")
            box.toggled.connect(lambda on, i=m: self._toggle(i, on))
            self.toggle_row.addWidget(box)
            self._toggles.append(box)
        self.results.setRowCount(0)
        self.boundaries.setup(labels)
        self.send_button.setEnabled(False)

    def _toggle(self, m: int, visible: bool) -> None:
        for items in (self._train_curves, self._val_curves, self._markers):
            if m < len(items):
                items[m].setVisible(visible)
        for band in self._bands[2 * m : 2 * m + 2]:
            band.set_enabled(visible)
        self._fit_y()

    def toggle_boxes(self) -> list[QCheckBox]:
        """The show/hide box of each configuration of the race on screen."""
        return list(self._toggles)

    def _visible(self) -> list[int]:
        return [m for m, box in enumerate(self._toggles) if box.isChecked()]

    def _fit_y(self) -> None:
        """Show the visible curves, up to a few times their starting values: a diverging run
        leaves the plot at the top instead of squashing the others to a line."""
        snap = self.snapshot
        visible = self._visible()
        if snap is None or not visible:
            return
        r = snap.result
        metric = self.metric.currentData()
        log = self.log_y.isChecked()
        for split, plot in (("train", self.train_plot), ("val", self.val_plot)):
            values = getattr(r, f"{split}_{metric}")[:, visible] * error_scale(metric, r.regression)
            if log:
                values = positive_or_nan(values)
            finite = values[np.isfinite(values)]
            if len(finite) == 0:
                continue
            start = values[0][np.isfinite(values[0])]
            cap = 3.0 * float(start.max()) if len(start) else float(finite.max())
            lo = float(finite.min())
            hi = float(min(finite.max(), max(cap, lo)))
            if log:
                lo, hi = np.log10(lo), np.log10(hi)
            if hi - lo < 1e-12:
                hi = lo + 1.0
            plot.getPlotItem().setYRange(lo, hi, padding=0.05)

    # -- showing results --------------------------------------------------------------------------
    def show_snapshot(self, snap: RaceSnapshot) -> None:
        """Draw a (partial or final) race result."""
        self.snapshot = snap
        for note in self._empty_notes:
            note.show(False)
        self._redraw_curves()
        self._refresh_table()
        has_images = snap.boundaries is not None
        self.boundaries.setVisible(has_images)
        self.no_boundary.setText(NO_BOUNDARY)
        self.no_boundary.setVisible(not has_images)
        self.boundary_box.setVisible(has_images)  # the curves get the room otherwise
        if has_images:
            self.boundaries.show_images(snap)

    def curve_data(self, m: int, split: str = "val") -> tuple[np.ndarray, np.ndarray]:
        """The (steps, values) drawn for model ``m``'s ``split`` ("train" or "val") curve."""
        items = self._val_curves if split == "val" else self._train_curves
        if not 0 <= m < len(items):
            return np.empty(0), np.empty(0)
        x, y = items[m].getData()
        return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))

    def _set_log(self, on: bool) -> None:
        for plot in (self.train_plot, self.val_plot):
            set_log_y(plot.getPlotItem(), on)
        self._redraw_curves()

    def _redraw_curves(self) -> None:
        snap = self.snapshot
        metric = self.metric.currentData()
        regression = snap is not None and snap.result.regression
        for plot in (self.train_plot, self.val_plot):
            plot.getPlotItem().setLabel("left", metric_label(metric, regression))
        if snap is None:
            return
        r = snap.result
        log = self.log_y.isChecked()
        scale = error_scale(metric, r.regression)
        steps = r.steps.astype(np.float64)
        for m in range(min(r.n_models, len(self._val_curves))):
            for k, (split, items) in enumerate(
                (("train", self._train_curves), ("val", self._val_curves))
            ):
                y = r.curve(f"{split}_{metric}", m) * scale
                if log:
                    y = positive_or_nan(y)
                ok = np.isfinite(y)
                items[m].setData(*decimate(steps[ok], y[ok], MAX_DRAWN))
                lo, hi = r.band(f"{split}_{metric}", m)
                self._bands[2 * m + k].show(steps, lo * scale, hi * scale, log=log)
            marker = self._markers[m]
            if r.diverged[m]:
                y = r.curve(f"val_{metric}", m) * scale
                finite = np.flatnonzero(np.isfinite(y))
                if len(finite) and not (log and y[finite[-1]] <= 0.0):
                    last = min(float(y[finite[-1]]), self._ceiling(r, metric, log))
                    marker.setData([float(r.diverged_step[m])], [last])
            else:
                marker.setData([], [])
        self._fit_y()

    @staticmethod
    def _ceiling(r: compare.RaceResult, metric: str, log: bool) -> float:
        """Three times the largest starting value: the top of the automatic y range."""
        start = getattr(r, f"val_{metric}")[0] * error_scale(metric, r.regression)
        start = start[np.isfinite(start) & ((start > 0) if log else True)]
        return 3.0 * float(start.max()) if len(start) else np.inf

    def _refresh_table(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        r = snap.result
        selected = self.selected_model()
        to_target = r.steps_to(self.target.value())
        self.results.setSortingEnabled(False)
        self.results.setRowCount(r.n_models)
        bold = QFont()
        bold.setBold(True)
        best = np.nanargmin(np.where(np.isfinite(r.best_val_loss), r.best_val_loss, np.inf))
        for m in range(r.n_models):
            name = SortItem(r.labels[m], float(m))
            name.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            name.setIcon(swatch_icon(color(m)))
            name.setData(Qt.ItemDataRole.UserRole, m)
            name.setToolTip(r.labels[m])
            reach = int(to_target[m])
            div = int(r.diverged_step[m])
            cells = [
                name,
                SortItem(fmt(r.best_val_loss[m]), float(r.best_val_loss[m])),
                SortItem(
                    str(r.best_val_step[m]) if r.best_val_step[m] >= 0 else MISSING,
                    float(r.best_val_step[m]) if r.best_val_step[m] >= 0 else np.nan,
                ),
                SortItem(
                    fmt_error(r.final_train_error[m], r.regression), float(r.final_train_error[m])
                ),
                SortItem(
                    fmt_error(r.final_val_error[m], r.regression), float(r.final_val_error[m])
                ),
                SortItem(
                    str(reach) if reach >= 0 else ("never" if self.target.value() else MISSING),
                    float(reach) if reach >= 0 else np.nan,
                ),
                SortItem(
                    f"at step {div}" if div >= 0 else "no", float(div) if div >= 0 else np.nan
                ),
            ]
            if bool(r.diverged[m]):
                cells[-1].setForeground(QColor(200, 40, 40))
            if m == best and np.isfinite(r.best_val_loss[m]):
                cells[1].setFont(bold)
                cells[1].setToolTip("the lowest best validation loss of the race")
            for col, item in enumerate(cells):
                self.results.setItem(m, col, item)
        self.results.setSortingEnabled(True)
        self._fit_result_columns()
        if selected is not None:
            self.select_model(selected)

    def _fit_result_columns(self) -> None:
        """Every number wholly in view (the best value is bold, "at step 110" is long): each
        value column as wide as its two-line header or its widest cell; the configurations'
        column takes the rest, their full names in the tooltips."""
        metrics = self.results.horizontalHeader().fontMetrics()
        for col, (title, _) in enumerate(RESULT_COLUMNS[1:], start=1):
            width = max(metrics.horizontalAdvance(line) for line in title.split("\n")) + 14
            cells = self.results.sizeHintForColumn(col) + 6 if self.results.rowCount() else 0
            self.results.setColumnWidth(col, max(width, cells, 56))

    def selected_model(self) -> int | None:
        rows = {i.row() for i in self.results.selectedIndexes()}
        if not rows:
            return None
        item = self.results.item(min(rows), 0)
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def select_model(self, m: int) -> None:
        for row in range(self.results.rowCount()):
            item = self.results.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == m:
                self.results.selectRow(row)
                return

    def _selection_changed(self) -> None:
        self.send_button.setEnabled(self.selected_model() is not None)

    def send_selected(self) -> bool:
        """Send the selected row's optimizer and schedule to the Playground."""
        m = self.selected_model()
        if m is None or self.snapshot is None:
            return False
        exp = self.host.experiment()
        if exp is None:
            return False
        spec = self.snapshot.result.specs[m]
        self.host.send(
            replace(exp, optimizer=spec.optimizer, schedule=spec.schedule),
            f"Sent {self.snapshot.result.labels[m]} to the Playground",
        )
        return True
