"""The Playground tab: build a network, train it live, watch curves, boundary and optimizer.

The tab holds the current :class:`Experiment` (what the panels show). A panel edit makes a new
experiment; what changed decides what happens: data, features, network, seed, batch size,
shuffling or Polyak averaging rebuild the engine (back to step 0); the optimizer, schedule,
clipping, L1, early stopping, evaluation interval and stop conditions apply at the next chunk.
"""

from __future__ import annotations

import csv
import html
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QFormLayout, QWidget

from app.playground.data_panel import CSV
from app.playground.status import (
    CONVERGING_AGAIN,
    NOT_CONVERGING,
    RECENT_POINTS,
    divergence_text,
    loss_ratio,
    not_converging_text,
)
from app.playground.tab_ui import build_ui
from app.snapshots import BoundaryResult, BuildInfo, HistoryMerge, Snapshot
from app.training_controller import TrainingController
from app.warmup import WARMER
from app.worker import KERNELS_RELEASE_GIL, STOP_BUDGET, STOP_TARGET
from dlopt_core.data import datasets, features
from dlopt_core.train.engine import FIELDS
from dlopt_core.train.experiment import Experiment, example
from dlopt_core.train.network import Network

REFRESH_HZ = 30
# While training, the loss and error curves are redrawn at most every CURVE_S seconds, and the
# boundary, network, inspector and small plots every DETAIL_S. Kernels that keep the GIL during a
# chunk share the interpreter with the GUI, so then the GUI draws less often.
CURVE_S = 0.05 if KERNELS_RELEASE_GIL else 0.1
DETAIL_S = 0.1 if KERNELS_RELEASE_GIL else 0.2
BUSY_AFTER_MS = 400  # a CSV still being read after this shows "Reading ..."
SHARPNESS_ROOM = 170  # pixels the sharpness plot takes from the optimizer state under the curves
INSPECTOR_MIN = 150


class PlaygroundTab(QWidget):
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

    # -- the experiment ---------------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        """The experiment the panels show and the worker runs."""
        return self._exp

    def set_experiment(self, exp: Experiment) -> None:
        """Show ``exp`` in the panels and rebuild the engine for it (keeps play/pause)."""
        self._exp = exp
        self._show_in_panels(exp)
        self.controller.set_stop_conditions(exp.max_steps, exp.target_loss)
        self._rebuild()

    def _show_in_panels(self, exp: Experiment) -> None:
        self.data_panel.set_spec(exp.data)
        self.features_panel.set_features(exp.network.features)
        self.network_panel.set_spec(exp.network)
        self.network_panel.set_layer_lr(exp.layer_lr)
        self.optimizer_panel.set_optimizer(exp.optimizer)
        self.optimizer_panel.set_schedule(exp.schedule)
        self.training_panel.set_values(exp.training, exp.max_steps, exp.target_loss)
        self._apply_classroom(exp.classroom)

    def _apply_classroom(self, room) -> None:
        """A teacher's exercise: lock (disable) or hide control groups, and show the note."""
        op = self.optimizer_panel
        groups = {
            "data": (self.data_panel,),
            "features": (self.features_panel,),
            "network": (self.network_panel,),
            "optimizer": (op.combo, op.hyper_box),
            "learning_rate": (op.lr,),
            "schedule": (op.schedule, op.sched_box),
            "training": (self.training_panel,),
        }
        for name, widgets in groups.items():
            for w in widgets:
                w.setEnabled(name not in room.locked)
                visible = name not in room.hidden
                form = w.parentWidget().layout() if w.parentWidget() else None
                if isinstance(form, QFormLayout) and form.indexOf(w) >= 0:
                    form.setRowVisible(w, visible)
                else:
                    w.setVisible(visible)
        lines = []
        if room.note:
            lines.append(f"<b>Exercise:</b> {html.escape(room.note)}")
        if room.locked:
            lines.append(
                "Locked by the exercise: "
                + ", ".join(n.replace("_", " ") for n in room.locked)
                + "."
            )
        self.classroom_note.setText("<br>".join(lines))
        self.classroom_note.setVisible(bool(lines))

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

    def _collect(self) -> Experiment:
        net = self.network_panel.spec(self.features_panel.features())
        max_steps, target = self.training_panel.stops()
        return replace(
            self._exp,
            data=self.data_panel.spec(),
            network=net,
            optimizer=self.optimizer_panel.optimizer(),
            schedule=self.optimizer_panel.schedule_value(),
            training=self.training_panel.config(),
            max_steps=max_steps,
            target_loss=target,
            layer_lr=self.network_panel.layer_lr(),
        )

    def _data_changed(self) -> None:
        kind = self.data_panel.spec().kind
        if kind not in datasets.GENERATORS:  # derived features need 2-D data
            self.features_panel.set_features(features.RAW)
        self._panel_changed()

    def _panel_changed(self) -> None:
        try:
            new = self._collect()
        except ValueError as exc:
            self.statusMessage.emit(str(exc))
            return
        self._apply(new)

    def _apply(self, new: Experiment) -> None:
        old = self._exp
        if new == old:
            return
        self._exp = new
        t0, t1 = old.training, new.training
        if (
            new.data != old.data
            or new.network != old.network
            or new.seed != old.seed
            or t0.restart_key() != t1.restart_key()
        ):
            self._rebuild()
        else:
            if new.optimizer != old.optimizer:
                self.controller.set_optimizer(new.optimizer)
            if new.schedule != old.schedule:
                self.controller.set_schedule(new.schedule)
            if new.layer_lr != old.layer_lr:
                self.controller.set_layer_lr(new.layer_lr)
            if t0 != t1:
                self.controller.set_training(t1)
            if (new.max_steps, new.target_loss) != (old.max_steps, old.target_loss):
                self.controller.set_stop_conditions(new.max_steps, new.target_loss)
                self._banner_key = None
        self.experimentEdited.emit()

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

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a CSV data set", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.data_panel.set_csv_path(path)
        else:
            self.data_panel.cancel_csv()

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

    def _show_preparing(self) -> None:
        """The compile's elapsed seconds and what it compiles, so that a first start visibly
        makes progress."""
        seconds = int(time.monotonic() - self._prep_started)
        clock = f" {seconds} s" if seconds else ""
        status = WARMER.status()
        self.status.kernels.setText(f"preparing kernels\u2026{clock}")
        self.status.kernels.setToolTip(status.describe())
        if self._info is None:
            now = (
                f"\nNow: {status.function} ({status.compiled} functions so far)"
                if status.function
                else ""
            )
            where = (
                "in a separate process, while this window stays usable"
                if status.where != "here"
                else "in this process, as Numba's cache cannot be "
                "used here (the window may be slow meanwhile)"
            )
            self.output.show_message(
                f"Preparing the training kernels\u2026{clock}{now}\n\nThe first start after "
                f"installing compiles them with Numba, {where}; later starts load them from "
                "its cache at once."
            )

    def _show_busy(self) -> None:
        """The worker is still reading the data file, or building a large data set or network
        and evaluating its first step: say so where the plot will be (the views below would
        otherwise go on showing the previous experiment under the new settings)."""
        if not self._pending or not self.kernels_ready:
            return
        if self._exp.data.kind == CSV:
            name = Path(self._exp.data.path).name
            self.output.show_message(
                f"Reading {name}\u2026\n\nLarge files take a few seconds; "
                "the window stays responsive and shows the data once it "
                "is read."
            )
            self.statusMessage.emit(f"reading {name}\u2026")
            return
        self.output.show_message(
            "Preparing the experiment\u2026\n\nA large data set or "
            "network takes a while to build and to evaluate; the window "
            "stays responsive and shows the run once it is ready."
        )
        self.statusMessage.emit("preparing the experiment\u2026")

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

    def _show_eval_note(self, note: str) -> None:
        """Say where a large data set's curves come from: a fixed sample of its rows."""
        self.curves.set_eval_note(note)
        self.status.sample.setVisible(bool(note))
        self.status.sample.setText("curves on a sample of rows" if note else "")
        self.status.sample.setToolTip(
            f"The loss and error curves and early stopping are {note}: a fixed sample, the same "
            "for the whole run, so that training stays fast on a large data set"
            if note
            else ""
        )

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

    # -- drawing ----------------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Draw what is due. While training, one kind of work per tick keeps each tick short,
        and of the jobs that are due the one that waited longest goes first: curves that take
        longer to draw than their interval cannot starve the boundary, the small plots and the
        inspector."""
        snap = self._latest
        if snap is None:
            return
        now = time.monotonic()
        live = snap.playing
        for name in sorted(self._job_ran_at, key=self._job_ran_at.__getitem__):
            if getattr(self, name)(snap, now, live):
                self._job_ran_at[name] = now
                if live:
                    return

    def _job_curves(self, snap: Snapshot, now: float, live: bool) -> bool:
        if snap is self._drawn or (live and now - self._curves_at < CURVE_S):
            return False
        self._curves_at = now
        self._drawn = snap
        self.curves.show_history(
            snap.history_steps, snap.history, small=False, bands=snap.history_bands
        )
        if snap.play_serial == self.controller.play_serial:  # answers the newest command
            self.transport.set_playing(snap.playing)
        self.transport.set_counter(snap.step, snap.epoch)
        self._update_status(snap)
        self._update_banner(snap)
        return True

    def _job_small(self, snap: Snapshot, now: float, live: bool) -> bool:
        drawn = self._drawn
        if drawn is None or drawn is self._small_drawn:
            return False
        if live and now - self._small_at < DETAIL_S:
            return False
        self._small_at = now
        self._small_drawn = drawn
        self.curves.show_small(drawn.history_steps, drawn.history, drawn.history_bands)
        self.curves.show_sharpness(drawn.sharpness)
        return True

    def _job_boundary(self, snap: Snapshot, now: float, live: bool) -> bool:
        result = self._boundary_new
        if result is None:
            return False
        self._boundary_new = None
        if result.generation != self.controller.generation:
            return False
        self._boundary = result
        self.output.set_boundary(result)
        self.output_section.title_label.setText(f"Output \u00b7 step {result.step:,}")
        self._call_diagram(result)
        return True

    def _job_details(self, snap: Snapshot, now: float, live: bool) -> bool:
        """Ask for a new boundary; refresh the inspector (and the diagram without a boundary)."""
        info = self._info
        if info is None or (live and now - self._detail_at < DETAIL_S):
            return False
        if info.bounds is not None:
            if self._boundary_pending and now - self._boundary_asked_at > 2.0:
                self._boundary_pending = False  # lost (a rebuild came in between): ask again
            if not self._boundary_pending and (
                self._boundary is None or self._boundary.step != snap.step
            ):
                self._boundary_pending = True
                self._boundary_asked_at = now
                self.controller.request_boundary()
        full = self._latest_full
        if full is None or full.step > snap.step:  # none yet, or from before a reset
            full = snap
        if snap is self._inspected_for:
            return False
        self._detail_at = now
        self._inspected_for = snap
        if info.bounds is None:
            self._call_diagram(None)
        self._call_inspector(full)
        return True

    def _update_status(self, snap: Snapshot) -> None:
        s = self.status
        s.step.setText(f"step {snap.step:,} \u00b7 epoch {snap.epoch:,.1f}")
        train, val = snap.last("train_loss"), snap.last("val_loss")
        text = f"train loss {train:.4g}"
        if math.isfinite(val):
            text += f" \u00b7 val loss {val:.4g}"
        s.losses.setText(text)
        s.speed.setText(f"{snap.steps_per_second:,.0f} steps/s" if snap.playing else "paused")

    def _update_banner(self, snap: Snapshot) -> None:
        markers: dict[str, tuple[float, str] | None] = {
            "diverged": None,
            "early_stopped": None,
            "stop": None,
        }
        key: object = None
        kind = text = ""
        if snap.status == "diverged":
            key = ("diverged", snap.stop_step)
            kind, text = "error", divergence_text(snap.stop_step)
            markers["diverged"] = (snap.stop_step, "diverged")
        elif snap.status == "early_stopped":
            key = ("early", snap.stop_step)
            kind = "success"
            text = (
                f"early stopping at step {snap.stop_step:,}: the validation loss stopped "
                f"improving; best {snap.best_val_loss:.4g} at step {snap.best_val_step:,} "
                "(those parameters are kept)"
            )
            markers["early_stopped"] = (snap.stop_step, "early stop")
        elif snap.stop_reason == STOP_BUDGET:
            key = ("budget", snap.step)
            kind = "info"
            text = (
                f"reached the step budget of {self._exp.max_steps:,} steps; raise "
                "\u201cStop at step\u201d or reset to train on"
            )
            markers["stop"] = (snap.step, "budget")
        elif snap.stop_reason == STOP_TARGET:
            key = ("target", snap.step)
            kind = "success"
            text = (
                f"reached the target loss {self._exp.target_loss:g} at step {snap.step:,} "
                f"(train loss {snap.last('train_loss'):.4g})"
            )
            markers["stop"] = (snap.step, "target")
        elif self._check_convergence(snap):
            key = ("not_converging",)
            kind = "warning"
            train = snap.history["train_loss"]
            finite = train[np.isfinite(train)]
            recent = float(np.median(finite[-RECENT_POINTS:]))
            text = not_converging_text(recent / finite[0], float(finite[0]), recent)
        self.curves.set_markers(markers)
        self.curves.show_diverged(snap.status == "diverged")
        if key != self._banner_key:
            self._banner_key = key
            if key is None:
                self.banner.clear()
            else:
                self.banner.show_message(kind, text)
        elif key is not None and self.banner.isVisible() and text != self.banner.text():
            self.banner.show_message(kind, text)  # the same state, newer numbers

    def _check_convergence(self, snap: Snapshot) -> bool:
        """Whether the loss stays far above its start (with hysteresis, so that the message
        does not flicker with a noisy loss)."""
        ratio = loss_ratio(snap.history["train_loss"])
        if ratio is None:
            self._not_converging = False
        elif self._not_converging:
            self._not_converging = ratio >= CONVERGING_AGAIN
        else:
            self._not_converging = ratio >= NOT_CONVERGING
        return self._not_converging

    # -- optional widgets -------------------------------------------------------------------------
    def _call_diagram(self, result: BoundaryResult | None) -> None:
        info = self._info
        if info is None or not hasattr(self.diagram, "set_network"):
            return
        theta = (
            result.theta
            if result is not None
            else (self._drawn.theta if self._drawn is not None else None)
        )
        thumbs = list(result.thumbnails) if result is not None else None
        names = list(info.feature_names) if len(info.feature_names) == info.layer_sizes[0] else None
        try:
            with np.errstate(all="ignore"):  # diverged weights may overflow a norm
                self.diagram.set_network(
                    list(info.layer_sizes),
                    theta,
                    thumbs,
                    input_names=names,
                    bias=info.network.bias,
                )
        except TypeError:
            self._guard("diagram", self.diagram.set_network, list(info.layer_sizes), theta, thumbs)
        except Exception as exc:
            self._warn_once("diagram", exc)

    def _call_inspector(self, snap: Snapshot) -> None:
        if self._net is None or not hasattr(self.inspector, "update_from"):
            return
        args = (self._net, snap.optimizer.name, snap.theta, snap.prev_theta, snap.slots, snap.lr)
        try:
            with np.errstate(all="ignore"):  # diverged weights may overflow a norm
                self.inspector.update_from(*args, hyper=snap.optimizer.hyper, step=snap.opt_steps)
        except TypeError:
            self._guard("inspector", self.inspector.update_from, *args)
        except Exception as exc:
            self._warn_once("inspector", exc)

    def _guard(self, what: str, fn, *args) -> None:
        try:
            with np.errstate(all="ignore"):
                fn(*args)
        except Exception as exc:
            self._warn_once(what, exc)

    def _warn_once(self, what: str, exc: Exception) -> None:
        if what not in self._warned:
            self._warned.add(what)
            print(
                f"dlopt: the {what} failed to update: {type(exc).__name__}: {exc}", file=sys.stderr
            )

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
