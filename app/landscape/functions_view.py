"""Optimizers racing on 2-D test functions: heat map, animated paths, curves and theory.

The paths are computed whenever a setting changes, in a thread of their own (``paths``: a few
milliseconds once the core's compiled update rule is loaded), and drawn when they arrive; the
animation only reveals them step by step. A click on the map sets the start point and restarts
the race. On the quadratic bowl the theory section shows the optimal rates of gradient descent
and heavy-ball momentum beside the measured ones.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.landscape.common import log_field, spread_levels
from app.landscape.functions_ui import MAX_STEPS, PATH_Z, build_controls, build_plots
from app.landscape.paths import PathRunner, PathsRequest
from app.landscape.runs import (
    RunList,
    RunResult,
    RunRow,
    RunSpec,
    challenge_rows,
    fmt_rate,
    suggested_lr,
)
from app.log_axis import set_log_y
from app.warmup import WARMER
from app.widgets.layout import scroll_area
from dlopt_core.studies import landscape as ls

GRID_N = 220  # heat-map samples per axis
FRAME_MS = 33
AUTO_FRAMES = 120
LEFT_WIDTH = 352
PLOT_FLOOR = 1e-30  # smallest value drawn on the logarithmic plots
# The shaded field covers whatever the map shows (no white bands beside an aspect-locked map),
# up to FIELD_CAP of the function's own width or height beyond its region on each side; it is
# computed for the view plus FIELD_MARGIN on each side, so that small pans need no new field.
# The view widens to keep the paths on the map, up to REACH widths beyond the region.
REACH = 1.0
FIELD_CAP = 50.0
FIELD_MARGIN = 0.15
BUSY_NOTE_MS = 300  # paths not back after this: say what they wait for


class FunctionView(QWidget):
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

    def reach(self, widths: float = REACH) -> tuple[float, float, float, float]:
        """The function's own region and ``widths`` of its width (height) on each side: how far
        the view follows the paths (REACH) or the field follows the view (FIELD_CAP)."""
        (x0, x1), (y0, y1) = self.fn.bounds
        w, h = x1 - x0, y1 - y0
        return x0 - widths * w, x1 + widths * w, y0 - widths * h, y1 + widths * h

    def field_bounds(self) -> tuple[float, float, float, float] | None:
        """The region the shaded field covers now (x0, x1, y0, y1)."""
        return self._field_bounds

    def _view_changed(self, *args) -> None:
        self._field_timer.start()

    def _update_field(self) -> None:
        """Shade the whole view: a new field when the view leaves the one drawn, or when the
        view is much smaller than it (zoomed in: finer samples)."""
        (vx0, vx1), (vy0, vy1) = self.map.getViewBox().viewRange()
        rx0, rx1, ry0, ry1 = self.reach(FIELD_CAP)
        want = (max(vx0, rx0), min(vx1, rx1), max(vy0, ry0), min(vy1, ry1))
        if not (want[1] > want[0] and want[3] > want[2]):
            return
        have = self._field_bounds
        if have is not None:
            covers = (
                have[0] <= want[0]
                and want[1] <= have[1]
                and have[2] <= want[2]
                and want[3] <= have[3]
            )
            fine = (want[1] - want[0]) > 0.4 * (have[1] - have[0])
            if covers and fine:
                return
        w, h = want[1] - want[0], want[3] - want[2]
        x0, x1 = max(want[0] - FIELD_MARGIN * w, rx0), min(want[1] + FIELD_MARGIN * w, rx1)
        y0, y1 = max(want[2] - FIELD_MARGIN * h, ry0), min(want[3] + FIELD_MARGIN * h, ry1)
        xs, ys, Z = ls.f_grid(self.fn, GRID_N, bounds=((x0, x1), (y0, y1)))
        if self._look is None:  # unbounded below: f itself, scaled to what is in view
            self.map.set_field(xs, ys, Z, Z)
        else:
            eps, levels, color_range = self._look
            self.map.set_field(
                xs,
                ys,
                Z,
                log_field(Z, self.fn.min_value, eps),
                levels=levels,
                color_range=color_range,
            )
        self._field_bounds = (x0, x1, y0, y1)

    def _runs_away(self, r: RunResult) -> bool:
        """Whether a path ends far from every minimum it started near (a rate past the limit
        of stability, an overflow): it leaves the map rather than widening it."""
        d = r.distances
        if not self.fn.minima or len(d) < 2:
            return False
        return not d[-1] <= 2.0 * d[0]  # NaN after an overflow counts as away

    def _show_paths(self) -> None:
        """Widen the view so that the paths stay on the map (up to :meth:`reach`), unless the
        user has panned or zoomed it. Paths that run away widen it only when all do: beside a
        path that converges, they would shrink its zig-zags to a smudge."""
        if self._user_view:
            return
        (x0, x1), (y0, y1) = self.fn.bounds
        rx0, rx1, ry0, ry1 = self.reach()
        drawn = [r for r in self.results if r.trajectory is not None]
        fitted = [r for r in drawn if not self._runs_away(r)] or drawn
        for r in fitted:
            pts = r.trajectory.path
            pts = pts[np.all(np.isfinite(pts), axis=1)]
            if len(pts):
                x0 = max(min(x0, float(pts[:, 0].min())), rx0)
                x1 = min(max(x1, float(pts[:, 0].max())), rx1)
                y0 = max(min(y0, float(pts[:, 1].min())), ry0)
                y1 = min(max(y1, float(pts[:, 1].max())), ry1)
        pad_x, pad_y = 0.04 * (x1 - x0), 0.04 * (y1 - y0)
        if (x0, x1, y0, y1) != tuple(v for pair in self.fn.bounds for v in pair):
            x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
        self.map.show_bounds(x0, x1, y0, y1)

    def _on_user_view(self, *args) -> None:
        self._user_view = True

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

    # -- challenges -------------------------------------------------------------------------------
    def load_challenge(self, name: str | ls.Challenge, play: bool = True) -> None:
        """Load a ``CHALLENGES`` preset, or any ``Challenge`` (a lesson's race), with its
        function, start, runs and settings; show its explanation."""
        if isinstance(name, ls.Challenge):
            ch = name
            name = ch.name
        elif name not in ls.CHALLENGES:
            raise ValueError(
                f"unknown challenge {name!r}; choose one of {', '.join(ls.CHALLENGES)}"
            )
        else:
            ch = ls.CHALLENGES[name]
        self.set_playing(False)
        widgets = (
            self.function,
            self.kappa,
            self.angle,
            self.clip,
            self.noise,
            self.seed,
            self.steps,
        )
        for w in widgets:
            w.blockSignals(True)
        self.function.setCurrentIndex(self.function.findData(ch.function))
        if ch.function == "quadratic":
            self.kappa.setValue(float(ch.params.get("kappa", 10.0)))
            self.angle.setValue(float(ch.params.get("angle", 0.0)))
        self.clip.setValue(ch.clip_norm)
        self.noise.setValue(ch.noise)
        self.seed.setValue(ch.seed)
        self.steps.setValue(min(ch.steps, MAX_STEPS))
        for w in widgets:
            w.blockSignals(False)
        self.challenge_runs.clear()
        for row in challenge_rows(ch):
            self.challenge_runs.add(row)
        self.challenge = name
        self.free.hide()
        self.challenge_page.show()
        self.challenge_title.setText(f"Challenge: {ch.title}")
        self._apply_function(reset_lrs=True)  # the free list's rates, for after the challenge
        self._set_start_spins(*ch.start)
        self.start = (float(ch.start[0]), float(ch.start[1]))
        self.banner.show_message("info", f"<b>{ch.title}.</b> " + ch.text.replace("\n", "<br>"))
        self.t = 0
        self._show_results([])
        self.recompute()
        self.status_message.emit(f"Challenge: {ch.title}")
        if play:
            self.set_playing(True)

    def leave_challenge_mode(self, recompute: bool = True) -> None:
        """Back to the free choice of optimizers."""
        if self.challenge is None:
            return
        self.challenge = None
        self.challenge_page.hide()
        self.free.show()
        self.banner.hide()
        if recompute:
            self.recompute()

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

    def _sync_items(self) -> None:
        """One path, value curve and distance curve per run, created once and reused."""
        item = self.map.getPlotItem()
        while len(self.paths) < len(self.results):
            path = pg.PlotDataItem(connect="finite")
            item.addItem(path)
            value = pg.PlotDataItem(connect="finite")
            self.value_plot.getPlotItem().addItem(value)
            dist = pg.PlotDataItem(connect="finite")
            self.dist_plot.getPlotItem().addItem(dist)
            self.paths.append(path)
            self.values.append(value)
            self.dists.append(dist)
        item.removeItem(self.heads)
        item.addItem(self.heads)  # above the paths
        self.legend.clear()
        for k, path in enumerate(self.paths):
            used = k < len(self.results)
            for it in (path, self.values[k], self.dists[k]):
                it.setVisible(used)
            if not used:
                continue
            r = self.results[k]
            pen = pg.mkPen(r.spec.color, width=2)
            path.setPen(pen)
            # a path that runs away sweeps across the map: under the others, not over them
            path.setZValue(0.0 if self._runs_away(r) else PATH_Z)
            self.values[k].setPen(pg.mkPen(r.spec.color, width=1.5))
            self.dists[k].setPen(pg.mkPen(r.spec.color, width=1.5))
            self.legend.addItem(
                path, r.spec.label + ("  (refused)" if r.trajectory is None else "")
            )
        self.legend.setVisible(bool(self.results))
        self.start_marker.setData([self.start[0]], [self.start[1]])

    def _clip_points(self, pts: np.ndarray) -> np.ndarray:
        """Points far outside the map pulled in (Qt cannot draw coordinates like 1e200)."""
        (x0, x1), (y0, y1) = self.fn.bounds
        w, h = x1 - x0, y1 - y0
        out = np.empty_like(pts)
        out[:, 0] = np.clip(pts[:, 0], x0 - 20 * w, x1 + 20 * w)
        out[:, 1] = np.clip(pts[:, 1], y0 - 20 * h, y1 + 20 * h)
        return out

    def _draw(self) -> None:
        t = self.t
        unbounded = not math.isfinite(self.fn.min_value)
        heads_x, heads_y, brushes = [], [], []
        for k, r in enumerate(self.results):
            traj = r.trajectory
            if traj is None:
                for it in (self.paths[k], self.values[k], self.dists[k]):
                    it.setData([], [])
                continue
            upto = min(t, len(traj.path) - 1)
            if traj.diverged:
                upto = min(upto, traj.diverged_at - 1)
            pts = self._clip_points(traj.path[: upto + 1])
            self.paths[k].setData(pts[:, 0], pts[:, 1])
            steps = np.arange(upto + 1, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                if unbounded:
                    vals = np.where(
                        np.isfinite(traj.values[: upto + 1]), traj.values[: upto + 1], np.nan
                    )
                else:
                    vals = np.maximum(traj.values[: upto + 1] - self.fn.min_value, PLOT_FLOOR)
                dist = np.maximum(r.distances[: upto + 1], PLOT_FLOOR)
            self.values[k].setData(steps, vals)
            self.dists[k].setData(steps, dist)
            heads_x.append(pts[-1, 0])
            heads_y.append(pts[-1, 1])
            brushes.append(pg.mkBrush(r.spec.color))
        self.heads.setData(heads_x, heads_y, brush=brushes)
        self._draw_theory()
        self._write_results()
        total = int(self.steps.value())
        self.step_label.setText(f"step {t:,} of {total:,}")
        for note in self._curve_notes:
            note.show(t == 0)

    def _draw_theory(self) -> None:
        quad = self.fn.name == "quadratic"
        self.dist_legend.setVisible(quad)
        self.theory_gd.setVisible(quad)
        self.theory_hb.setVisible(quad)
        if not quad:
            return
        kappa = dict(self.fn.params)["kappa"]
        gd_lr, gd_rate = ls.gd_optimal(kappa)
        hb_lr, hb_mom, hb_rate = ls.momentum_optimal(kappa)
        d0 = math.hypot(*self.start)
        steps = np.arange(self.t + 1, dtype=np.float64)
        with np.errstate(under="ignore"):
            for line, rate in ((self.theory_gd, gd_rate), (self.theory_hb, hb_rate)):
                ref = d0 * rate**steps
                keep = ref >= 1e-16 * max(d0, 1e-300)  # below: round-off, not theory
                line.setData(steps[keep], ref[keep])
        cell = "<td style='padding: 1px 6px 1px 0'>"
        rows = [
            f"<tr>{cell}<b>\u03ba = {kappa:g}</b></td>{cell}<i>rate r: distance \u221d "
            "r<sup>t</sup></i></td></tr>",
            f"<tr>{cell}GD, lr* = 2/(1+\u03ba) = {gd_lr:.3g}</td>{cell}(\u03ba\u22121)/(\u03ba+1)"
            f" = <b>{gd_rate:.3f}</b></td></tr>",
            f"<tr>{cell}heavy ball, lr* = {hb_lr:.3g},<br>momentum* = {hb_mom:.3g}</td>{cell}"
            f"(\u221a\u03ba\u22121)/(\u221a\u03ba+1) = <b>{hb_rate:.3f}</b></td></tr>",
            "<tr><td colspan='2' style='padding-top: 4px'><i>measured on the path shown (last "
            "half):</i></td></tr>",
        ]
        for r in self.results:
            if r.trajectory is None:
                continue
            upto = max(1, min(self.t, len(r.trajectory.path) - 1))
            rate = ls.measured_rate(r.trajectory.path[: upto + 1], (0.0, 0.0))
            rows.append(
                f"<tr>{cell}<span style='color:{r.spec.color.name()}'>\u25a0</span> "
                f"{r.spec.label}</td>{cell}r = <b>{fmt_rate(rate)}</b></td></tr>"
            )
        self.theory_text.setText("<table cellspacing='0'>" + "".join(rows) + "</table>")

    def measured_rates(self) -> dict[str, float]:
        """Each run's measured rate on the path shown (quadratic: minimum at the origin)."""
        out = {}
        for r in self.results:
            if r.trajectory is not None:
                upto = max(1, min(self.t, len(r.trajectory.path) - 1))
                target = self.fn.minima[0] if self.fn.minima else (0.0, 0.0)
                out[r.spec.label] = ls.measured_rate(r.trajectory.path[: upto + 1], target)
        return out

    def _write_results(self) -> None:
        parts = []
        for r in self.results:
            mark = f"<span style='color:{r.spec.color.name()}'>\u25a0</span>"
            if r.trajectory is None:
                parts.append(f"{mark} {r.spec.label}: <span style='color:#b3261e'>{r.error}</span>")
                continue
            traj = r.trajectory
            upto = min(self.t, len(traj.path) - 1)
            if traj.diverged and self.t >= traj.diverged_at:
                parts.append(
                    f"{mark} {r.spec.label}: <span style='color:#b3261e'>diverged at "
                    f"step {traj.diverged_at} (overflow): lower the learning rate or "
                    "clip the gradient</span>"
                )
                continue
            parts.append(
                f"{mark} {r.spec.label}: f = {traj.values[upto]:.3g}, distance "
                f"{r.distances[upto]:.2g}"
            )
        if not parts:
            parts.append(
                "Computing the paths\u2026"
                if self.runner.busy
                else "Tick at least one optimizer to start a race."
            )
        self.results_label.setText("&nbsp;&nbsp;&nbsp; ".join(parts))

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

    def path_lengths(self) -> list[int]:
        """Points drawn per path (tests and status)."""
        out = []
        for k in range(len(self.results)):
            x, _ = self.paths[k].getData()
            out.append(0 if x is None else len(x))
        return out
