"""The Learning-rate view: a sweep over log-spaced rates, the range test, and a 2-D sweep.

The sweep trains every (optimizer, rate) pair in one engine and plots final and best losses
against the rate on a log axis: the region where runs diverged (or ended worse than they
started) is shaded, and each optimizer's best rate is marked. Clicking a point (or a cell of the
2-D map) selects that model; "Use this learning rate" sends it to the Playground.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPushButton, QWidget

from app.compare.common import color, configure_pyqtgraph, fmt, positive_or_nan
from app.compare.grid_map import SECOND_LABELS
from app.compare.host import Host
from app.compare.sweep_ui import SECOND_DEFAULTS, SERIES, build_ui
from app.log_axis import set_log_y
from app.warmup import variants
from dlopt_core.studies import compare
from dlopt_core.train.optimizers import Optimizer

CPU_MODELS = 1024  # a sweep's models on the CPU (a GPU takes compare.MAX_SWEEP_MODELS)

SECOND_OPTIMIZER = {"momentum": "momentum", "beta1": "adam", "batch_size": "sgd"}


@dataclass(frozen=True)
class Choice:
    """A selected model: the optimizer with its rate, training changes and a description."""

    optimizer: Optimizer
    batch_size: int | None
    text: str


def _parse_values(text: str, name: str) -> list[float]:
    values = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(float(part))
        except ValueError:
            raise ValueError(f"{SECOND_LABELS[name]}: {part!r} is not a number") from None
    if not values:
        raise ValueError(f"{SECOND_LABELS[name]}: give at least one value, separated by commas")
    return values


def sweep_choice_text(r: compare.SweepResult, m: int) -> str:
    """What choosing model ``m`` of a sweep means: its rate and loss, and how it stands to the
    best rate and to the unstable region (the reason for the suggested rate)."""
    g = int(r.group[m])
    label = r.group_labels[g]
    best, suggested, edge = r.best_index(g), r.suggested_index(g), r.unstable_lr(g)
    text = f"{label} at lr = {r.lrs[m]:.3g}: best val loss {fmt(r.best_val_loss[m])}."
    margin = compare.SAFE_MARGIN
    if m == suggested and m == best:
        text = f"Suggested: {text} The best rate of the sweep"
        text += (
            f", {edge / r.lrs[m]:.0f}\u00d7 below the unstable region (from {edge:.3g})."
            if edge is not None
            else "; no rate was unstable."
        )
    elif m == suggested and best is not None:
        ratio = edge / r.lrs[best]
        if ratio <= 1.0:  # a run that ended worse than it started can still have the best value
            where = f"in the unstable region (from {edge:.3g}), where the run ended worse than "
            where += "it started"
        elif ratio < 1.5:
            where = f"just below the unstable region (from {edge:.3g})"
        else:
            where = f"only {ratio:.1f}\u00d7 below the unstable region (from {edge:.3g})"
        text = (
            f"Suggested: {text} The lowest loss was at {r.lrs[best]:.3g}, {where}; "
            "there another seed or a longer run may diverge: this is the best rate at "
            f"least {margin:.0f}\u00d7 below it."
        )
    elif edge is not None and r.lrs[m] > edge / margin:
        text += f" Within {margin:.0f}\u00d7 of the unstable region (from {edge:.3g}): risky."
    return text


class SweepView(QWidget):
    """Controls and plots of the learning-rate sweep, the range test and the 2-D sweep."""

    def __init__(self, host: Host, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.host = host
        self.result: compare.SweepResult | None = None
        self.range_result: compare.RangeTestResult | None = None
        self.choice: Choice | None = None
        self._user_chose = False  # the user clicked a point of the current sweep
        self._counts: dict[str, int] = {}
        self._crosses = 0
        self._point_items: list[tuple[pg.PlotDataItem, np.ndarray]] = []
        self._best_lines: list[pg.InfiniteLine] = []  # one per optimizer with a best rate
        self._best_stars: list[pg.PlotDataItem] = []
        self._buttons: list[QPushButton] = []

        build_ui(self)  # the widgets: app.compare.sweep_ui
        self.set_model_limit(CPU_MODELS)
        self._wire()
        self._set_log(True)

    def _wire(self) -> None:
        """Connect the widgets of ``app.compare.sweep_ui`` to what they do."""
        self.run_button.clicked.connect(self.run_sweep)
        self.range_button.clicked.connect(self.run_range_test)
        self.second.currentIndexChanged.connect(self._second_changed)
        self.grid_button.clicked.connect(self.run_grid)
        self.use_button.clicked.connect(self.use_choice)
        self.host.runner.busy_changed.connect(self._busy_changed)
        self.log_y.toggled.connect(self._set_log)
        self.grid_map.cell_chosen.connect(self._choose_cell)
        for box in self.series_boxes.values():
            box.toggled.connect(self._draw_sweep)

    def _busy_changed(self, busy: bool) -> None:
        for button in self._buttons:
            button.setEnabled(not busy)

    # -- settings ---------------------------------------------------------------------------------
    def checked_optimizers(self) -> list[str]:
        out = []
        for i in range(self.optimizers.count()):
            item = self.optimizers.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_checked_optimizers(self, names: list[str]) -> None:
        for i in range(self.optimizers.count()):
            item = self.optimizers.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _second_changed(self) -> None:
        name = self.second.currentData()
        self.second_values.setText(SECOND_DEFAULTS[name])
        self.grid_optimizer.setCurrentIndex(self.grid_optimizer.findData(SECOND_OPTIMIZER[name]))

    def _lr_range(self) -> tuple[float, float] | None:
        lo, hi = self.lr_min.value(), self.lr_max.value()
        if not lo < hi:
            self.host.notify(
                "warning",
                f"The learning-rate range is empty: 'From' ({lo:g}) must be below 'To' ({hi:g}).",
            )
            return None
        return lo, hi

    def _start(self, name: str, job, on_partial, on_done, prepare, trains) -> bool:
        """Clear the old result (``prepare``) and start ``job``, which ``trains`` these
        experiments; False when one is running."""
        if self.host.runner.busy:
            self.host.notify("warning", "Another comparison is running; cancel it first.")
            return False
        prepare()
        return self.host.runner.start(name, job, on_partial, on_done, trains)

    # -- 1-D sweep --------------------------------------------------------------------------------
    def set_model_limit(self, limit: int) -> None:
        """The most models a sweep may train: 1024 on the CPU, more on a GPU."""
        self.models.setRange(8, limit)
        self.models.setToolTip(
            f"Models in total (8 to {limit} on this backend; up to {CPU_MODELS} on the CPU, "
            f"{compare.MAX_SWEEP_MODELS} on a GPU), shared out equally among the checked "
            "optimizers; all train together in one engine"
        )

    def run_sweep(self) -> bool:
        """Start the sweep in the worker thread; False when it could not start."""
        names = self.checked_optimizers()
        if not names:
            self.host.notify("warning", "Check at least one optimizer to sweep.")
            return False
        span = self._lr_range()
        exp = self.host.experiment()
        if span is None or exp is None:
            return False
        n = max(1, self.models.value() // len(names))
        steps, backend = self.steps.value(), self.host.backend

        def job(report, should_stop):
            return compare.lr_sweep(
                exp,
                names,
                span[0],
                span[1],
                n,
                steps,
                backend=backend,
                callback=report,
                should_stop=should_stop,
            )

        def prepare() -> None:
            self.result = None
            self._user_chose = False
            self._clear_sweep_plot()
            self.pages.setCurrentIndex(0)

        return self._start(
            "sweep", job, self.show_sweep, self.show_sweep, prepare, variants(exp, names)
        )

    def _clear_sweep_plot(self) -> None:
        item = self.sweep_plot.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        self._point_items = []
        self._best_lines = []
        self._best_stars = []

    def show_sweep(self, result: compare.SweepResult) -> None:
        """Draw a (partial or final) sweep; until the user clicks a point, the choice is the
        suggested rate (the best one a safe margin below the unstable region) of the first
        optimizer that has one."""
        self.result = result
        self._draw_sweep()
        if not self._user_chose:
            g = next(
                (g for g in range(len(result.optimizers)) if result.suggested_index(g) is not None),
                None,
            )
            if g is not None:
                self._choose_sweep(result.suggested_index(g))

    def plotted_points(self, key: str = "final_val_loss") -> int:
        """How many models the plot shows in series ``key``: points, plus crosses for the
        diverged ones (0 when the series is hidden)."""
        if not self.series_boxes[key].isChecked():
            return 0
        return self._counts.get(key, 0) + self._crosses

    def _draw_sweep(self) -> None:
        r = self.result
        self._clear_sweep_plot()
        self._counts = {}
        self._crosses = 0
        self._notes["sweep"].show(r is None)
        if r is None:
            return
        plot = self.sweep_plot.getPlotItem()
        log = self.log_y.isChecked()
        shown = [s for s in SERIES if self.series_boxes[s[0]].isChecked()]
        tops = []
        for key, *_ in shown:
            vals = getattr(r, key)
            finite = vals[np.isfinite(vals) & ((vals > 0) if log else True)]
            if len(finite):
                tops.append(finite.max())
                tops.append(finite.min())
        if tops:
            lo, hi = min(tops), max(tops)
        else:
            lo, hi = 0.1, 1.0
        top = hi * 1.6 if log else hi + 0.08 * max(hi - lo, 1e-9)
        lx_min, lx_max = math.log10(r.lrs.min()), math.log10(r.lrs.max())
        unstable = r.unstable
        for g, label in enumerate(r.group_labels):
            idx = r.indices(g)
            c = color(g)
            # shaded region: from the first unstable rate on
            bad = idx[unstable[idx]]
            if len(bad):
                first = r.lrs[bad].min()
                below = r.lrs[idx][r.lrs[idx] < first]
                start = (
                    math.log10(first)
                    if len(below) == 0
                    else 0.5 * (math.log10(below.max()) + math.log10(first))
                )
                shade = QColor(c)
                shade.setAlpha(22)
                region = pg.LinearRegionItem(
                    (start, lx_max + 0.05 * (lx_max - lx_min + 1e-9)),
                    movable=False,
                    brush=pg.mkBrush(shade),
                    pen=pg.mkPen(None),
                )
                region.setZValue(-10)
                region.setToolTip(
                    f"{label}: diverged or ended worse than it started from lr = {first:.3g}"
                )
                plot.addItem(region)
                # stacked up from the bottom, one line per optimizer
                text = pg.TextItem(f"{label}: unstable \u2192", color=c, anchor=(0, 1))
                y_lo, y_hi = (math.log10(lo), math.log10(top)) if log else (lo, top)
                text.setPos(start, y_lo + 0.07 * g * (y_hi - y_lo))
                plot.addItem(text)
            for key, name, style, symbol, _on in shown:
                vals = getattr(r, key)[idx]
                ok = np.isfinite(vals) & ((vals > 0) if log else True)
                pen = pg.mkPen(c, width=1.6, style=style)
                item = pg.PlotDataItem(
                    r.lrs[idx][ok],
                    vals[ok],
                    pen=pen,
                    symbol=symbol,
                    symbolSize=6,
                    symbolPen=pg.mkPen(c),
                    symbolBrush=pg.mkBrush(c),
                    name=f"{label} {name}",
                )
                item.sigPointsClicked.connect(self._point_clicked)
                plot.addItem(item)
                self._point_items.append((item, idx[ok]))
                self._counts[key] = self._counts.get(key, 0) + int(ok.sum())
            div = idx[r.diverged[idx]]
            if len(div):
                cross = pg.PlotDataItem(
                    r.lrs[div],
                    np.full(len(div), top),
                    pen=None,
                    symbol="x",
                    symbolSize=11,
                    symbolPen=pg.mkPen(c, width=2),
                    symbolBrush=None,
                )
                cross.setToolTip(f"{label}: diverged at these rates")
                plot.addItem(cross)
                self._crosses += len(div)
            s_idx = r.suggested_index(g)
            if s_idx is not None and s_idx != r.best_index(g):
                ring = pg.PlotDataItem(
                    [r.lrs[s_idx]],
                    [r.best_val_loss[s_idx]],
                    pen=None,
                    symbol="o",
                    symbolSize=15,
                    symbolBrush=None,
                    symbolPen=pg.mkPen(c, width=2),
                )
                ring.setToolTip(
                    f"{label}: suggested lr = {r.lrs[s_idx]:.3g}, the best at "
                    f"least {compare.SAFE_MARGIN:.0f}\u00d7 below the unstable region"
                )
                plot.addItem(ring)
            m = r.best_index(g)
            if m is not None:
                x = math.log10(r.lrs[m])
                line = pg.InfiniteLine(
                    x,
                    angle=90,
                    pen=pg.mkPen(c, width=1.2, style=Qt.PenStyle.DashLine),
                    label=f"best {label}: {r.lrs[m]:.3g}",
                    labelOpts={
                        "position": 0.95 - 0.06 * g,
                        "color": c,
                        "fill": pg.mkBrush(255, 255, 255, 200),
                    },
                )
                line.setToolTip(f"{label}: lowest best validation loss at lr = {r.lrs[m]:.4g}")
                plot.addItem(line)
                self._best_lines.append(line)
                on = self._best_point(r, m, shown, log)
                if on is not None:
                    star = pg.PlotDataItem(
                        [r.lrs[m]],
                        [on[1]],
                        pen=None,
                        symbol="star",
                        symbolSize=16,
                        symbolPen=pg.mkPen("k", width=0.8),
                        symbolBrush=c,
                    )
                    star.setToolTip(
                        f"{label}: the best rate, lr = {r.lrs[m]:.4g} (best "
                        f"validation loss {r.best_val_loss[m]:.4g}; star on the "
                        f"{on[0]} curve)"
                    )
                    plot.addItem(star)
                    self._best_stars.append(star)

    @staticmethod
    def _best_point(
        r: compare.SweepResult, m: int, shown: list, log: bool
    ) -> tuple[str, float] | None:
        """Where the best rate's star sits: on the best validation loss when that curve is
        shown, else on the first shown curve that has a drawn point at that rate (a star off
        every drawn curve reads as a point of its own); None when none has."""
        order = sorted(shown, key=lambda s: s[0] != "best_val_loss")
        for key, name, *_ in order:
            v = float(getattr(r, key)[m])
            if math.isfinite(v) and (v > 0 or not log):
                return name, v
        return None

    def _point_clicked(self, item: pg.PlotDataItem, points, _ev=None) -> None:
        if not len(points):
            return
        for it, idx in self._point_items:
            if it is item:
                k = points[0].index()
                if 0 <= k < len(idx):
                    self._user_chose = True
                    self._choose_sweep(int(idx[k]))
                return

    def _choose_sweep(self, m: int) -> None:
        r = self.result
        if r is None:
            return
        self._set_choice(Choice(r.optimizer_at(m), None, sweep_choice_text(r, m)))

    def _set_choice(self, choice: Choice | None) -> None:
        self.choice = choice
        self.choice_label.setText(
            choice.text if choice else "Click a point or a cell to choose a learning rate."
        )
        self.use_button.setEnabled(choice is not None)

    def choose(self, optimizer: str | None = None) -> None:
        """Choose the suggested rate of ``optimizer`` (default: the first) of the last sweep."""
        r = self.result
        if r is None:
            return
        m = r.suggested_index(0 if optimizer is None else optimizer)
        if m is not None:
            self._choose_sweep(m)

    def use_choice(self) -> bool:
        """Send the chosen optimizer and rate (and batch size) to the Playground."""
        if self.choice is None:
            return False
        exp = self.host.experiment()
        if exp is None:
            return False
        new = replace(exp, optimizer=self.choice.optimizer)
        if self.choice.batch_size is not None:
            new = replace(new, training=replace(new.training, batch_size=self.choice.batch_size))
        self.host.send(
            new,
            f"Sent {self.choice.optimizer.info.title} with lr = "
            f"{self.choice.optimizer.lr:.4g} to the Playground",
        )
        return True

    def _set_log(self, on: bool) -> None:
        for plot in (self.sweep_plot, self.range_plot):
            plot.getPlotItem().setLogMode(x=True)  # learning rates: always a log axis
            set_log_y(plot.getPlotItem(), on)
        self._draw_sweep()
        self._draw_range()

    # -- range test -------------------------------------------------------------------------------
    def run_range_test(self) -> bool:
        span = self._lr_range()
        exp = self.host.experiment()
        if span is None or exp is None:
            return False
        name = self.range_optimizer.currentData()
        steps, backend = self.steps.value(), self.host.backend
        if steps < 3:
            self.host.notify("warning", "A range test needs at least 3 steps.")
            return False

        def job(report, should_stop):
            return compare.lr_range_test(
                exp,
                span[0],
                span[1],
                steps,
                optimizer=name,
                backend=backend,
                callback=report,
                should_stop=should_stop,
            )

        def prepare() -> None:
            self.range_result = None
            self._draw_range()
            self.pages.setCurrentIndex(1)

        return self._start(
            "range test", job, self.show_range, self.show_range, prepare, variants(exp, [name])
        )

    def show_range(self, result: compare.RangeTestResult) -> None:
        self.range_result = result
        self._draw_range()
        if result.complete and math.isfinite(result.suggested_lr):
            opt = result.optimizer.replace(lr=float(np.clip(result.suggested_lr, 1e-7, 1000)))
            self._set_choice(
                Choice(
                    opt, None, f"Range test: {opt.info.title} at the suggested lr = {opt.lr:.4g}"
                )
            )

    def _draw_range(self) -> None:
        r = self.range_result
        plot = self.range_plot.getPlotItem()
        plot.clear()
        self._notes["range"].show(r is None or len(r.lrs) == 0)
        if r is None or len(r.lrs) == 0:
            return
        log = self.log_y.isChecked()
        losses = positive_or_nan(r.losses) if log else r.losses
        smooth = positive_or_nan(r.smoothed) if log else r.smoothed
        faint = QColor(color(0))
        faint.setAlpha(70)
        plot.plot(r.lrs, losses, pen=pg.mkPen(faint, width=1), connect="finite")
        plot.plot(r.lrs, smooth, pen=pg.mkPen(color(0), width=2.2), connect="finite")
        for lr, text, c, pos in (
            (r.suggested_lr, "suggested", QColor(30, 150, 60), 0.9),
            (r.min_loss_lr, "minimum", QColor(110, 110, 110), 0.75),
        ):
            if math.isfinite(lr):
                plot.addItem(
                    pg.InfiniteLine(
                        math.log10(lr),
                        angle=90,
                        pen=pg.mkPen(c, width=1.4, style=Qt.PenStyle.DashLine),
                        label=f"{text} {lr:.3g}",
                        labelOpts={
                            "position": pos,
                            "color": c,
                            "fill": pg.mkBrush(255, 255, 255, 200),
                        },
                    )
                )

    # -- 2-D sweep --------------------------------------------------------------------------------
    def run_grid(self) -> bool:
        span = self._lr_range()
        exp = self.host.experiment()
        if span is None or exp is None:
            return False
        second = self.second.currentData()
        try:
            values = _parse_values(self.second_values.text(), second)
        except ValueError as exc:
            self.host.notify("warning", str(exc))
            return False
        name = self.grid_optimizer.currentData()
        lrs = list(np.geomspace(span[0], span[1], self.grid_lrs.value()))
        steps, backend = self.steps.value(), self.host.backend

        def job(report, should_stop):
            return compare.sweep_2d(
                exp,
                name,
                lrs,
                second,
                values,
                steps,
                backend=backend,
                callback=report,
                should_stop=should_stop,
            )

        def prepare() -> None:
            self.grid_map.result = None
            self.pages.setCurrentIndex(2)

        return self._start(
            "2-D sweep", job, self.show_grid, self.show_grid, prepare, variants(exp, [name])
        )

    @property
    def grid_result(self) -> compare.Sweep2DResult | None:
        return self.grid_map.result

    @property
    def grid_image(self) -> pg.ImageItem:
        return self.grid_map.image

    def show_grid(self, result: compare.Sweep2DResult) -> None:
        """Draw a (partial or final) 2-D sweep; a finished one chooses its best cell."""
        best = self.grid_map.draw(result)
        if best is not None and result.complete:
            self._choose_cell(*best)

    def _choose_cell(self, i: int, j: int) -> None:
        r = self.grid_result
        if r is None:
            return
        opt = r.optimizer.replace(lr=float(r.lr_values[j]))
        batch = None
        v = float(r.second_values[i])
        if r.second_name == "momentum":
            opt = opt.replace(momentum=v)
        elif r.second_name == "beta1":
            opt = opt.replace(betas=(v, opt.hyper["betas"][1]))
        else:
            batch = int(v)
        self._set_choice(Choice(opt, batch, f"2-D sweep: {self.grid_map.cell_text(i, j)}"))
