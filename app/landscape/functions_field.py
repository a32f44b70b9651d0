"""The shaded field and the view of the 2-D functions' map.

The field covers whatever the map shows (no white bands beside an aspect-locked map), up to
FIELD_CAP of the function's own width or height beyond its region on each side; it is computed for
the view plus FIELD_MARGIN on each side, so that small pans need no new field. The view widens to
keep the paths on the map, up to REACH widths beyond the region, unless the user has panned or
zoomed it. :class:`MapField` is a part of :class:`app.landscape.functions_view.FunctionView`.
"""

from __future__ import annotations

import numpy as np

from app.landscape.common import log_field
from app.landscape.runs import RunResult
from dlopt_core.studies import landscape as ls

GRID_N = 220  # heat-map samples per axis
REACH = 1.0
FIELD_CAP = 50.0
FIELD_MARGIN = 0.15


class MapField:
    """Shade the map for the view, and fit the view to the paths."""

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
