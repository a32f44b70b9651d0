"""The Seed bands view: each race configuration over several seeds, as a mean and a band.

A seed sets both the initial parameters and the order of the mini-batches. The band is either the
range (min to max) of the runs or one standard deviation either side of the mean; runs that
diverged leave the statistics from the step they stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import (
    color,
    configure_pyqtgraph,
    error_scale,
    log_plot_widget,
    metric_label,
    positive_or_nan,
    style_plot,
)
from app.compare.configs import RaceConfig
from app.compare.host import Host
from app.log_axis import set_log_y
from app.plots import EmptyNote
from app.warmup import variants
from dlopt_core.studies import compare

DEFAULT_STEPS = 10_000  # as the race: the optimizers part clearly on the default spiral


def scaled_band(band: compare.Band, factor: float) -> compare.Band:
    """``band`` in other units (errors in per cent)."""
    if factor == 1.0:
        return band
    return replace(
        band,
        mean=band.mean * factor,
        std=band.std * factor,
        low=band.low * factor,
        high=band.high * factor,
    )


class SeedView(QWidget):
    """Mean curves with min-max or standard-deviation bands, one colour per configuration."""

    def __init__(
        self, host: Host, configs: Callable[[], list[RaceConfig]], parent: QWidget | None = None
    ) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.host = host
        self.configs = configs
        self.result: compare.SeedBandsResult | None = None
        self.mean_items: list[pg.PlotDataItem] = []
        self.fills: list[pg.FillBetweenItem] = []

        self.seeds = QSpinBox()
        self.seeds.setRange(2, 32)
        self.seeds.setValue(8)
        self.seeds.setToolTip(
            "Runs per configuration; each seed sets the initial parameters and the batch order"
        )
        self.steps = QSpinBox()
        self.steps.setRange(10, 1_000_000)
        self.steps.setSingleStep(1000)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip(
            "Training steps of every run (the default is long enough for "
            "the optimizers to part on the Playground's default spiral)"
        )
        self.band = QComboBox()
        self.band.addItem("min to max", "range")
        self.band.addItem("\u00b1 1 standard deviation", "std")
        self.band.setToolTip("What the shaded band around each mean shows")
        self.band.currentIndexChanged.connect(self._draw)
        self.metric = QComboBox()
        for text, key in (
            ("Validation loss", "val_loss"),
            ("Training loss", "train_loss"),
            ("Validation error", "val_error"),
            ("Training error", "train_error"),
        ):
            self.metric.addItem(text, key)
        self.metric.setToolTip("The metric whose mean and spread are plotted")
        self.metric.currentIndexChanged.connect(self._draw)
        self.log_y = QCheckBox("Log scale")
        self.log_y.setToolTip("Logarithmic y axis")
        self.log_y.toggled.connect(self._set_log)
        self.run_button = QPushButton("Run seed bands")
        self.run_button.setToolTip(
            "Train every configuration of the Race list once per seed, all in one engine"
        )
        self.run_button.clicked.connect(self.run)
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.source.setToolTip("Edit the configurations on the Race page")
        self.source.setStyleSheet("color: #555;")
        box = QGroupBox("Seeds")
        form = QFormLayout(box)
        form.addRow(self.source)
        form.addRow("Seeds", self.seeds)
        form.addRow("Steps", self.steps)
        form.addRow("Band", self.band)
        form.addRow("Metric", self.metric)
        form.addRow(self.log_y)
        form.addRow(self.run_button)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(box)
        left_lay.addStretch(1)
        left.setMinimumWidth(250)
        left.setMaximumWidth(340)

        self.plot = log_plot_widget()
        style_plot(self.plot.getPlotItem(), "Mean over seeds", "step", "validation loss")
        self.plot.setToolTip("Solid: the mean over seeds; shaded: the band chosen on the left")
        self.empty = EmptyNote(
            self.plot.getPlotItem(), "Run seed bands: the mean and spread of each configuration"
        )
        self.legend = self.plot.getPlotItem().addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plot)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self.host.runner.busy_changed.connect(lambda busy: self.run_button.setEnabled(not busy))
        self.refresh_source()

    def refresh_source(self) -> None:
        """Say which configurations a run will use."""
        configs = self.configs()
        names = ", ".join(c.label() for c in configs) or "none"
        self.source.setText(f"Configurations from the Race page ({len(configs)}): {names}")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.refresh_source()
        super().showEvent(event)

    def run(self) -> bool:
        """Start the runs in the worker thread; False when they could not start."""
        configs = self.configs()
        if not configs:
            self.host.notify("warning", "Add configurations on the Race page first.")
            return False
        exp = self.host.experiment()
        if exp is None:
            return False
        steps, n_seeds, backend = self.steps.value(), self.seeds.value(), self.host.backend
        try:
            specs = [c.spec(steps) for c in configs]
        except ValueError as exc:
            self.host.notify("error", f"Configuration: {exc}")
            return False

        def job(report, should_stop):
            return compare.seed_bands(
                exp,
                specs,
                n_seeds,
                steps,
                backend=backend,
                callback=report,
                should_stop=should_stop,
            )

        if self.host.runner.busy:
            self.host.notify("warning", "Another comparison is running; cancel it first.")
            return False
        self.result = None
        self._draw()
        return self.host.runner.start(
            "seed bands", job, self.show_result, self.show_result, trains=variants(exp, specs)
        )

    def show_result(self, result: compare.SeedBandsResult) -> None:
        self.result = result
        self._draw()

    def _set_log(self, on: bool) -> None:
        set_log_y(self.plot.getPlotItem(), on)
        self._draw()

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        self.mean_items, self.fills = [], []
        key = self.metric.currentData()
        r = self.result
        item.setLabel("left", metric_label(key, r is not None and r.regression))
        self.empty.show(r is None)
        if r is None:
            return
        band = scaled_band(r.bands[key], error_scale(key, r.regression))
        log = self.log_y.isChecked()
        x = r.steps.astype(np.float64)
        for c, label in enumerate(r.labels):
            ok = band.count[c] > 0
            if band.count[c].max(initial=0) == 0:
                continue
            mean = band.mean[c]
            if self.band.currentData() == "std":
                lo, hi = mean - band.std[c], mean + band.std[c]
            else:
                lo, hi = band.low[c], band.high[c]
            if log:
                floor = np.nanmin(positive_or_nan(band.low[c]))
                floor = floor if np.isfinite(floor) else 1e-12
                lo = np.where(lo > 0, lo, floor * 0.5)
                mean, hi = positive_or_nan(mean), positive_or_nan(hi)
                ok &= np.isfinite(mean) & np.isfinite(hi)
            col = color(c)
            shade = QColor(col)
            shade.setAlpha(45)
            lo_item = pg.PlotDataItem(x[ok], lo[ok], pen=pg.mkPen(None))
            hi_item = pg.PlotDataItem(x[ok], hi[ok], pen=pg.mkPen(None))
            item.addItem(lo_item)
            item.addItem(hi_item)
            fill = pg.FillBetweenItem(lo_item, hi_item, brush=pg.mkBrush(shade))
            item.addItem(fill)
            self.fills.append(fill)
            n = int(band.count[c].max())
            mean_item = pg.PlotDataItem(
                x[ok], mean[ok], pen=pg.mkPen(col, width=2), name=f"{label} ({n} seeds)"
            )
            item.addItem(mean_item)
            self.mean_items.append(mean_item)
