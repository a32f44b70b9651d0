"""Drawing the 2-D functions' race: paths, curves, theory and the results line.

One path on the map, one value curve and one distance curve per run, created once and reused,
revealed up to the step shown; on the quadratic bowl the theory's rates beside the measured ones.
:class:`RaceDrawing` is a part of :class:`app.landscape.functions_view.FunctionView`, which
computes the paths and animates the step.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from app.landscape.functions_ui import PATH_Z
from app.landscape.runs import fmt_rate
from dlopt_core.studies import landscape as ls

PLOT_FLOOR = 1e-30  # smallest value drawn on the logarithmic plots


class RaceDrawing:
    """Draw the runs' paths and curves up to the step shown, with the theory and results."""

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

    def path_lengths(self) -> list[int]:
        """Points drawn per path (tests and status)."""
        out = []
        for k in range(len(self.results)):
            x, _ = self.paths[k].getData()
            out.append(0 if x is None else len(x))
        return out
