"""Optimizers racing on 2-D test functions: heat map, animated paths, curves and theory.

The paths are computed whenever a setting changes, in a thread of their own (``paths``: a few
milliseconds once the core's compiled update rule is loaded), and drawn when they arrive; the
animation only reveals them step by step. A click on the map sets the start point and restarts
the race. On the quadratic bowl the theory section shows the optimal rates of gradient descent
and heavy-ball momentum beside the measured ones. The widgets are made in
``app.landscape.functions_ui``, the map's field and view kept in ``app.landscape.functions_field``,
the race drawn in ``app.landscape.functions_draw`` and a challenge loaded in
``app.landscape.functions_challenge``.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.landscape.common import log_field, spread_levels
from app.landscape.functions_challenge import ChallengeLoading
from app.landscape.functions_draw import RaceDrawing
from app.landscape.functions_field import GRID_N, MapField
from app.landscape.functions_ui import build_controls, build_plots
from app.landscape.paths import PathRunner, PathsRequest
from app.landscape.runs import RunList, RunResult, RunRow, RunSpec, suggested_lr
from app.log_axis import set_log_y
from app.warmup import WARMER
from app.widgets.layout import scroll_area
from dlopt_core.studies import landscape as ls

FRAME_MS = 33
AUTO_FRAMES = 120
LEFT_WIDTH = 352
BUSY_NOTE_MS = 300  # paths not back after this: say what they wait for


class FunctionView(ChallengeLoading, MapField, RaceDrawing, QWidget):
    """The 2-D functions view: controls on the left, map and curves on the right."""

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fn: ls.TestFunction = ls.FUNCTIONS["quadratic"]
        self.start: tuple[float, float] = self.fn.default_start
        self.results: list[RunResult] = []
        self.t = 0  # the step shown
        self.challenge: str | None = None
        self._frame = 0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.recompute)
        self._field_timer = QTimer(self)  # a new field once the view has settled
        self._field_timer.setSingleShot(True)
        self._field_timer.setInterval(60)
        self._field_timer.timeout.connect(self._update_field)
        self._field_bounds: tuple[float, float, float, float] | None = None
        # log offset, contour levels and colour range of the function's own region
        self._look: tuple[float, np.ndarray, tuple[float, float]] | None = None
        self._user_view = False
        self.runner = PathRunner(self)
        self.runner.finished.connect(self._on_paths)
        self.runner.failed.connect(self._on_paths_failed)
        self._busy_note = QTimer(self)  # says what the paths wait for, when it takes a while
        self._busy_note.setInterval(BUSY_NOTE_MS)
        self._busy_note.timeout.connect(self._write_busy)
        build_controls(self)  # the widgets: app.landscape.functions_ui
        build_plots(self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(4)
        lay.addWidget(scroll_area(self.controls, width=LEFT_WIDTH, horizontal=False))
        lay.addWidget(self.right, 1)
        self._wire()
        self._apply_function(reset_lrs=True)
        self._set_start_spins(*self.start)
        self._show_results([])
        self.recompute()

    def _wire(self) -> None:
        self.function.currentIndexChanged.connect(self._on_function)
        self.kappa.valueChanged.connect(self._on_params)
        self.angle.valueChanged.connect(self._on_params)
        self.start_x.valueChanged.connect(self._on_start_spin)
        self.start_y.valueChanged.connect(self._on_start_spin)
        self.default_start.clicked.connect(lambda: self.set_start(*self.fn.default_start))
        self.free.changed.connect(self.schedule_recompute)
        self.challenge_runs.changed.connect(self.schedule_recompute)
        self.leave_challenge.clicked.connect(self.leave_challenge_mode)
        for w in (self.clip, self.noise):
            w.valueChanged.connect(self.schedule_recompute)
        self.seed.valueChanged.connect(self.schedule_recompute)
        self.steps.valueChanged.connect(self.schedule_recompute)
        self.play.toggled.connect(self.set_playing)
        self.step_button.clicked.connect(self.step_once)
        self.reset_button.clicked.connect(self.reset)
        self.map.clicked.connect(self._on_map_click)
        self.map.getViewBox().sigRangeChanged.connect(self._view_changed)
        self.map.getViewBox().sigRangeChangedManually.connect(self._on_user_view)
        self.use_gd.clicked.connect(self.use_optimal_gd)
        self.use_momentum.clicked.connect(self.use_optimal_momentum)

    # -- settings ---------------------------------------------------------------------------------
    @property
    def runs(self) -> RunList:
        """The list of runs in use: the challenge's or the free choice."""
        return self.challenge_runs if self.challenge is not None else self.free

    def _params(self) -> dict[str, float]:
        if self.function.currentData() == "quadratic":
            return {"kappa": float(self.kappa.value()), "angle": float(self.angle.value())}
        return {}

    def _apply_function(self, reset_lrs: bool) -> None:
        """Rebuild the function from the controls; redraw the map; suggested rates if asked."""
        name = self.function.currentData()
        try:
            self.fn = ls.get_function(name, **self._params())
        except ValueError as exc:
            self.status_message.emit(str(exc))
            return
        is_quad = name == "quadratic"
        self.quad_box.setVisible(is_quad)
        self.theory_box.setVisible(is_quad)
        self.note.setText(self.fn.note)
        xs, ys, Z = ls.f_grid(self.fn, GRID_N)
        self._look = None
        if math.isfinite(self.fn.min_value):
            # the function's own region sets the look (log offset, contours, colours), kept
            # wherever the map is shaded: the far field only adds higher, paler values
            finite = Z[np.isfinite(Z)]
            eps = (
                max(float(finite.max() - min(finite.min(), self.fn.min_value)) * 1e-4, 1e-12)
                if finite.size
                else 1e-12
            )
            shown = log_field(Z, self.fn.min_value, eps)
            self._look = (eps, spread_levels(shown), (float(shown.min()), float(shown.max())))
        self.map.set_bar_label(
            "log\u2081\u2080(f \u2212 f*)" if math.isfinite(self.fn.min_value) else "f"
        )
        self._field_bounds = None
        self._user_view = False
        (x0, x1), (y0, y1) = self.fn.bounds
        self.map.show_bounds(x0, x1, y0, y1)
        self._update_field()
        if self.fn.minima:
            pts = np.array(self.fn.minima)
            self.minima.setData(pts[:, 0], pts[:, 1], symbol="star")
        else:  # the saddle point
            self.minima.setData([0.0], [0.0], symbol="x")
        unbounded = not math.isfinite(self.fn.min_value)
        set_log_y(self.value_plot.getPlotItem(), not unbounded)
        self.value_plot.getPlotItem().setTitle(
            "<span style='font-size:10pt;font-weight:600'>"
            + (
                "f along the path (unbounded below)"
                if unbounded
                else "f \u2212 f* along the path (log)"
            )
            + "</span>"
        )
        self.value_plot.getPlotItem().setLabel("left", "f" if unbounded else "f \u2212 f*")
        self.dist_plot.getPlotItem().setTitle(
            "<span style='font-size:10pt;font-weight:600'>"
            + (
                "Distance to the saddle point (0, 0)"
                if not self.fn.minima
                else "Distance to the nearest minimum (log)"
            )
            + "</span>"
        )
        if reset_lrs:
            kappa = float(self.kappa.value())
            for row in self.free.rows:
                row.set_values(lr=suggested_lr(name, row.optimizer, kappa))

    def _on_function(self) -> None:
        self.leave_challenge_mode(recompute=False)
        self._apply_function(reset_lrs=True)
        self._set_start_spins(*self.fn.default_start)
        self.start = self.fn.default_start
        self.t = 0
        self._show_results([])  # the old function's paths do not belong on the new map
        self.recompute()
        self.status_message.emit(f"{self.fn.title}: {self.fn.note}")

    def _on_params(self) -> None:
        # the rates stay: a GD step too large for the new kappa diverges, which is the point
        self._apply_function(reset_lrs=False)
        self.schedule_recompute()

    def _set_start_spins(self, x: float, y: float) -> None:
        for spin, v in ((self.start_x, x), (self.start_y, y)):
            spin.blockSignals(True)
            spin.setValue(v)
            spin.blockSignals(False)

    def _on_start_spin(self) -> None:
        self.start = (float(self.start_x.value()), float(self.start_y.value()))
        self.t = 0
        self.schedule_recompute()

    def _on_map_click(self, x: float, y: float) -> None:
        x0, x1, y0, y1 = self._field_bounds or self.reach()
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            self.status_message.emit("Click inside the coloured area to set the start point")
            return
        self.set_start(x, y, play=True)

    def set_start(self, x: float, y: float, play: bool = False) -> None:
        """Start every run from ``(x, y)``: back to step 0, and animate when ``play``."""
        x, y = float(f"{x:.3g}"), float(f"{y:.3g}")
        self._set_start_spins(x, y)
        self.start = (x, y)
        self.t = 0
        self.recompute()
        if play:
            self.set_playing(True)
        self.status_message.emit(f"Start point ({x:g}, {y:g})")

    def select_function(self, name: str, **params: float) -> None:
        """Show test function ``name`` (``kappa`` and ``angle`` for the quadratic)."""
        index = self.function.findData(name)
        if index < 0:
            raise ValueError(f"unknown test function {name!r}")
        for spin, key in ((self.kappa, "kappa"), (self.angle, "angle")):
            if key in params:
                spin.blockSignals(True)
                spin.setValue(float(params[key]))
                spin.blockSignals(False)
        if index == self.function.currentIndex():
            self._on_function()
        else:
            self.function.setCurrentIndex(index)

    # -- computing --------------------------------------------------------------------------------
    def schedule_recompute(self) -> None:
        """Recompute once, after the current burst of changes."""
        self._pending.start()

    def specs(self) -> list[RunSpec]:
        return self.runs.specs()

    def recompute(self) -> None:
        """Compute every ticked run's path from the current settings (in the paths thread); they
        are drawn when they arrive (``paths_ready``)."""
        self._pending.stop()
        self.runner.submit(
            PathsRequest(
                self.fn,
                tuple(self.specs()),
                self.start,
                int(self.steps.value()),
                float(self.clip.value()),
                float(self.noise.value()),
                int(self.seed.value()),
            )
        )
        self._busy_note.start()

    @property
    def paths_ready(self) -> bool:
        """Whether the paths drawn are those of the current settings."""
        return not self.runner.busy and not self._pending.isActive()

    def _on_paths(self, _request: PathsRequest, results: list[RunResult]) -> None:
        self._busy_note.stop()
        self._show_results(results)

    def _on_paths_failed(self, _request: PathsRequest, message: str) -> None:
        self._busy_note.stop()
        self._show_results([])
        self.results_label.setText(
            f"<span style='color:#b3261e'>The paths cannot be computed: {message}</span>"
        )

    def _show_results(self, results: list[RunResult]) -> None:
        self.results = results
        self.t = min(self.t, int(self.steps.value()))
        self._sync_items()
        self._show_paths()
        self._draw()

    def _write_busy(self) -> None:
        status = WARMER.status()
        self.results_label.setText(f"Computing the paths\u2026 {status.describe()}".rstrip())

    # -- theory buttons ---------------------------------------------------------------------------
    def _rows_for(self, optimizer: str) -> list[RunRow]:
        rows = [row for row in self.runs.rows if row.optimizer == optimizer]
        if not rows:
            self.leave_challenge_mode(recompute=False)
            rows = [row for row in self.free.rows if row.optimizer == optimizer]
        return rows

    def use_optimal_gd(self) -> None:
        """Give GD the optimal step 2 / (1 + kappa) on the quadratic."""
        if self.fn.name != "quadratic":
            return
        lr, _ = ls.gd_optimal(dict(self.fn.params)["kappa"])
        for row in self._rows_for("sgd"):
            row.set_values(lr=lr, checked=True)
        self.t = 0
        self.recompute()
        self.set_playing(True)

    def use_optimal_momentum(self) -> None:
        """Give heavy-ball momentum Polyak's optimal lr and momentum on the quadratic."""
        if self.fn.name != "quadratic":
            return
        lr, mom, _ = ls.momentum_optimal(dict(self.fn.params)["kappa"])
        for row in self._rows_for("momentum"):
            row.set_values(lr=lr, hyper=mom, checked=True)
        self.t = 0
        self.recompute()
        self.set_playing(True)

    # -- animation --------------------------------------------------------------------------------
    def steps_per_frame(self) -> int:
        s = int(self.speed.currentData())
        return max(1, math.ceil(int(self.steps.value()) / AUTO_FRAMES)) if s == 0 else s

    def set_playing(self, playing: bool) -> None:
        """Start or pause the animation (from step 0 when the race had ended)."""
        if playing and self.t >= int(self.steps.value()):
            self.t = 0
        if playing:
            self._timer.start()
        else:
            self._timer.stop()
        self.play.blockSignals(True)
        self.play.setChecked(playing)
        self.play.setText("Pause" if playing else "Play")
        self.play.blockSignals(False)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def step_once(self) -> None:
        self.set_playing(False)
        self.t = min(self.t + 1, int(self.steps.value()))
        self._draw()

    def reset(self) -> None:
        self.set_playing(False)
        self.t = 0
        self._draw()

    def _tick(self) -> None:
        if self.runner.busy:  # hold the race until its paths arrive
            return
        total = int(self.steps.value())
        self.t = min(self.t + self.steps_per_frame(), total)
        self._draw()
        if self.t >= total:
            self.set_playing(False)

    def shutdown(self) -> None:
        self._timer.stop()
        self._pending.stop()
        self._busy_note.stop()
        self.runner.stop()
