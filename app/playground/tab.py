"""The Playground tab: build a network, train it live, watch curves, boundary and optimizer.

The tab holds the current :class:`Experiment` (what the panels show), runs it on the worker
thread through a :class:`TrainingController` and keeps the worker's newest snapshot, build and
boundary. Its widgets are made in ``app.playground.tab_ui``; the edits of its panels are handled in
``app.playground.editing`` and what it draws of the run in ``app.playground.drawing``.
"""

from __future__ import annotations

import csv
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

from app.playground.data_panel import CSV
from app.playground.drawing import RunDrawing
from app.playground.editing import ExperimentEditing
from app.playground.tab_ui import build_ui
from app.snapshots import BoundaryResult, BuildInfo, HistoryMerge, Snapshot
from app.training_controller import TrainingController
from dlopt_core.train.engine import FIELDS
from dlopt_core.train.experiment import Experiment, example
from dlopt_core.train.network import Network

REFRESH_HZ = 30
BUSY_AFTER_MS = 400  # a CSV still being read after this shows "Reading ..."
SHARPNESS_ROOM = 170  # pixels the sharpness plot takes from the optimizer state under the curves
INSPECTOR_MIN = 150


class PlaygroundTab(ExperimentEditing, RunDrawing, QWidget):
    """The playground; the window wires its file menu to :attr:`experiment`."""

    experimentEdited = Signal()  # the user changed a setting
    buildSucceeded = Signal()
    buildFailed = Signal(str)  # the experiment could not be built; the previous one is back
    kernelsReady = Signal()
    statusMessage = Signal(str)  # a short note for the status bar

    title = "Playground"

    def __init__(self, experiment: Experiment | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._exp = experiment or example()
        self._good: Experiment | None = None
        self._pending: dict[int, Experiment] = {}
        self._info: BuildInfo | None = None
        self._net: Network | None = None
        self._latest: Snapshot | None = None
        self._history = HistoryMerge()  # snapshots carry only the history rows that changed
        self._drawn: Snapshot | None = None
        self._inspected_for: Snapshot | None = None
        self._latest_full: Snapshot | None = None
        self._banner_key: object = None
        self._not_converging = False
        self._boundary: BoundaryResult | None = None
        self._boundary_pending = False
        self._boundary_asked_at = 0.0
        self._detail_at = 0.0
        self._curves_at = 0.0
        self._small_at = 0.0
        self._small_drawn: Snapshot | None = None
        # when each drawing job last ran (in this order when none has run yet)
        self._job_ran_at = dict.fromkeys(
            ("_job_curves", "_job_boundary", "_job_small", "_job_details"), 0.0
        )
        self._boundary_new: BoundaryResult | None = None
        self._warned: set[str] = set()
        self.kernels_ready = False
        self._prep_started = 0.0
        self._prep_timer = QTimer(self)
        self._prep_timer.setInterval(500)
        self._prep_timer.timeout.connect(self._show_preparing)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_AFTER_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        self.backend = "cpu"
        self._path_generation = -1
        self._theta_path: list[tuple[int, np.ndarray]] = []  # (step, theta) for the loss shape
        self._sharpness_room = 0  # pixels the sharpness plot took from the optimizer state
        build_ui(self)  # the widgets: app.playground.tab_ui
        self.controller = TrainingController(self)
        w = self.controller.worker
        w.built.connect(self._on_built)
        w.snapshotReady.connect(self._on_snapshot)
        w.boundaryReady.connect(self._on_boundary)
        w.failed.connect(self._on_failed)
        w.kernelsPreparing.connect(self._on_kernels_preparing)
        w.kernelsReady.connect(self._on_kernels_ready)
        self._wire_panels()
        self.controller.set_speed(self.transport.speed_value())
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / REFRESH_HZ))
        self._timer.timeout.connect(self._refresh)
        self._timer.start()
        self.status.kernels.setText("preparing kernels\u2026")
        self.set_experiment(self._exp)

    def transport_actions(self) -> list:
        """Play/Pause, Step, Reset and New init, for the window's menu."""
        return list(self.transport.actions_list)

    def _wire_panels(self) -> None:
        self.data_panel.changed.connect(self._data_changed)
        self.data_panel.csvRequested.connect(self._choose_csv)
        self.features_panel.changed.connect(self._panel_changed)
        self.network_panel.changed.connect(self._panel_changed)
        self.optimizer_panel.optimizerChanged.connect(self._panel_changed)
        self.optimizer_panel.scheduleChanged.connect(self._panel_changed)
        self.training_panel.changed.connect(self._panel_changed)
        t = self.transport
        t.play.toggled.connect(self.controller.play)
        t.step.triggered.connect(self.step_once)
        t.reset.triggered.connect(self.reset)
        t.new_init.triggered.connect(self.new_init)
        t.speedChanged.connect(self.controller.set_speed)
        self.curves.sharpness_box.toggled.connect(self.controller.set_sharpness)
        self.curves.sharpness_box.toggled.connect(self._make_room_for_sharpness)

    def show_sharpness(self, on: bool) -> None:
        """Measure and plot the sharpness of the run (the curves' "sharpness" box), or not."""
        self.curves.sharpness_box.setChecked(on)

    def _make_room_for_sharpness(self, on: bool) -> None:
        """The sharpness plot takes its room from the optimizer state under the curves (which
        keeps at least INSPECTOR_MIN pixels) and gives it back when it goes."""
        right = self.splitters["curves"]
        curves, inspector = right.sizes()
        if on:
            self._sharpness_room = max(0, min(SHARPNESS_ROOM, inspector - INSPECTOR_MIN))
            moved = self._sharpness_room
        else:
            moved = -min(self._sharpness_room, curves)
            self._sharpness_room = 0
        right.setSizes([curves + moved, inspector - moved])

    def set_backend(self, name: str) -> None:
        """Train on ``name`` ("auto", "cpu" or "cuda") from now on: the engine is rebuilt."""
        self.backend = name
        self.controller.set_backend(name)
        self._rebuild()

    def loss_shape_inputs(self):
        """``(network, theta_init, theta_final, path, X, y, Xv, yv)`` of the current run, for the
        Landscape tab's loss-shape view; None before the first snapshot."""
        snap = self._latest
        if snap is None or self._info is None or self._net is None or not self._theta_path:
            return None
        data = self._info.dataset  # read by the worker: a large file is not read again here
        path = np.array([t for _, t in self._theta_path] + [snap.theta])
        return (
            self._net,
            self._theta_path[0][1],
            snap.theta.copy(),
            path,
            data.X_train,
            data.y_train,
            data.X_val,
            data.y_val,
        )

    def _record_theta(self, snap: Snapshot) -> None:
        """Keep up to 64 parameter vectors of the run, thinned evenly (the loss-shape path)."""
        if snap.generation != self._path_generation or (
            self._theta_path and snap.step < self._theta_path[-1][0]
        ):
            self._path_generation = snap.generation
            self._theta_path = []
        if not self._theta_path or snap.step > self._theta_path[-1][0]:
            self._theta_path.append((snap.step, snap.theta))
        if len(self._theta_path) > 64:
            self._theta_path = self._theta_path[:1] + self._theta_path[2::2]

    def _rebuild(self) -> None:
        generation = self.controller.rebuild(self._exp)
        self._pending = {generation: self._exp}
        self._busy_timer.start()  # a large file, data set or network takes a while: say so
        self._latest = self._drawn = self._inspected_for = self._small_drawn = None
        self._latest_full = None
        self._boundary = self._boundary_new = None
        self._boundary_pending = False
        self._banner_key = None
        self._not_converging = False
        self.banner.clear()
        self.curves.clear()
        self.curves.set_markers({"diverged": None, "early_stopped": None, "stop": None})

    # -- transport --------------------------------------------------------------------------------
    def play(self, on: bool = True) -> None:
        self.transport.play.setChecked(on)

    def step_once(self) -> None:
        self.transport.set_playing(False)
        steps = self.transport.speed_value() or self._exp.training.eval_every
        self.controller.step(steps)

    def reset(self) -> None:
        self._clear_run_marks()
        self.controller.reset(None)

    def new_init(self) -> None:
        seed = random.randrange(1, 2**31 - 1)
        self._exp = replace(self._exp, seed=seed)
        self._clear_run_marks()
        self.controller.reset(seed)
        self.experimentEdited.emit()

    def run_until(self, step: int) -> None:
        """Train to ``step`` at full speed, then pause (used by ``dlopt --screenshot``)."""
        self.transport.set_speed(0)
        self.controller.set_speed(0)
        self.controller.play_until(step)

    def _clear_run_marks(self) -> None:
        self._latest_full = None
        self._banner_key = None
        self._not_converging = False
        self.curves.show_diverged(False)
        self.banner.clear()
        self._boundary = self._boundary_new = None
        self.curves.set_markers({"diverged": None, "early_stopped": None, "stop": None})

    # -- worker replies ---------------------------------------------------------------------------
    def _on_kernels_preparing(self) -> None:
        self._prep_started = time.monotonic()
        self._prep_timer.start()
        self._show_preparing()

    @property
    def building(self) -> bool:
        """Whether an engine is being built for an experiment not yet shown."""
        return bool(self._pending)

    def _on_kernels_ready(self, seconds: float) -> None:
        self._prep_timer.stop()
        self.kernels_ready = True
        self.status.kernels.setText("")
        self.status.kernels.setToolTip(f"Numba kernels ready after {seconds:.1f} s")
        self.kernelsReady.emit()

    def _on_built(self, info: BuildInfo) -> None:
        exp = self._pending.pop(info.generation, None)
        if exp is None or info.generation != self.controller.generation:
            return
        self._busy_timer.stop()
        previous = (self._good, self._info, self._net)
        try:
            self._show_build(exp, info)
        except Exception as exc:  # anything the views refuse: as if the build had failed
            self._good, self._info, self._net = previous
            self._on_failed(
                info.generation, f"this experiment cannot be shown ({type(exc).__name__}: {exc})"
            )
            return
        self.buildSucceeded.emit()

    def _show_build(self, exp: Experiment, info: BuildInfo) -> None:
        """Adopt a freshly built engine's experiment and show its data and network."""
        self._good = exp
        self._info = info
        self._net = info.network
        if info.task == "regression":
            task = "regression (MSE)"
        else:
            task = f"classification, {info.n_classes} classes"
            task += " (softmax)" if info.task == "multiclass" else " (sigmoid)"
        self.data_panel.set_task(task)
        self.data_panel.setToolTip(
            f"{info.n_train} training and {info.n_val} validation rows, {info.n_inputs} inputs"
        )
        self.features_panel.set_input_count(info.n_inputs)
        self.training_panel.set_training_rows(info.n_train)
        self.curves.set_task(info.task == "regression")
        self.output.set_build(info)
        self.output_section.title_label.setText("Output")
        self.status.backend.setText(f"backend: {info.backend_note}")
        self._show_eval_note(info.eval_note)
        self._call_diagram(None)

    def _on_failed(self, generation: int, message: str) -> None:
        self._prep_timer.stop()  # the kernels are ready, or failed with this message
        if generation != self.controller.generation:
            return
        self._busy_timer.stop()
        self._pending.pop(generation, None)
        self.transport.set_playing(False)
        fallback = self._good if self._good is not None else example()
        if fallback != self._exp:  # the previous experiment, or the example on a first start
            self.set_experiment(fallback)
        self.buildFailed.emit(message)

    def _on_snapshot(self, snap: Snapshot) -> None:
        if snap.generation == self.controller.generation:
            snap = self._history.merge(snap)  # the new rows after the earlier ones
            self._latest = snap
            self._record_theta(snap)
            if snap.prev_theta is not None:
                self._latest_full = snap  # the inspector wants one step's update

    def _on_boundary(self, result: BoundaryResult) -> None:
        self._boundary_pending = False
        if result.generation == self.controller.generation:
            self._boundary_new = result  # drawn by the next refresh

    # -- read-outs and exports --------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot | None:
        """The newest snapshot drawn on screen."""
        return self._drawn

    @property
    def build_info(self) -> BuildInfo | None:
        return self._info

    @property
    def boundary(self) -> BoundaryResult | None:
        return self._boundary

    def shown_up_to(self, step: int) -> bool:
        """Whether the screen shows training up to ``step``: curves and, for 2-D data, output."""
        snap = self._drawn
        if snap is None or snap.step < step or snap.playing:
            return False
        if self._info is not None and self._info.bounds is not None:
            return self._boundary is not None and self._boundary.step == snap.step
        return True

    def export_curves(self, path: str | Path) -> int:
        """Write the recorded metrics as CSV; returns the number of rows."""
        snap = self._drawn or self._latest
        if snap is None:
            raise ValueError("nothing has been recorded yet")
        spe = self._info.steps_per_epoch if self._info is not None else 1
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["step", "epoch", *FIELDS])
            for r, step in enumerate(snap.history_steps):
                w.writerow(
                    [
                        int(step),
                        f"{step / spe:.6g}",
                        *(f"{snap.history[f][r]:.10g}" for f in FIELDS),
                    ]
                )
        return len(snap.history_steps)

    def export_plot(self, path: str | Path) -> bool:
        """Save the training curves as a PNG image."""
        return self.curves.grab().save(str(path), "PNG")

    def is_csv(self) -> bool:
        return self._exp.data.kind == CSV

    def shutdown(self) -> None:
        """Stop drawing and end the worker thread."""
        self._timer.stop()
        self._prep_timer.stop()
        self.controller.stop()
