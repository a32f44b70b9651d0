"""The Playground's training curves: loss, error, learning rate, gradient norm and sharpness.

:class:`CurvesPanel` lays out one ``app.metric_plot.MetricPlot`` per metric, draws a run's history
into them (with the min/max bands of a long run) and holds the display options (smoothing, log
scale, which curves show).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from app.metric_plot import CurveSpec, MetricPlot
from app.plots import EDGE_COLOR, GRAD_COLOR, LR_COLOR, SHARPNESS_COLOR, TRAIN_COLOR, VAL_COLOR


def _fmt_percent(v: float) -> str:
    return f"{v:.1f}%"


ERROR_TITLES = {False: "Error (misclassified %)", True: "Error (RMSE)"}
SHARPNESS_TIP = (
    "Sharpness \u03bbmax: the largest eigenvalue of the training loss's Hessian at the current "
    "parameters, by power iteration on Hessian-vector products (in the training thread, every "
    "50 steps at first, less often as a long run goes on; training is slower meanwhile). The "
    "dashed line is the edge of stability of gradient descent, 2/\u03b7 (2(1 + \u03bc)/\u03b7 "
    "with momentum; none for adaptive rules): on a quadratic, a curvature above it diverges."
)
BAND_FIELDS = {"train": ("train_loss", "train_error"), "val": ("val_loss", "val_error")}


class CurvesPanel(QWidget):
    """Loss and error (train and validation) over steps, with learning-rate and gradient plots.

    After a divergence whose values span more than three decades, the loss, error and gradient
    plots switch to a logarithmic axis (and tick "log scale"), the only scale that shows both the
    run and its blow-up; the user's choice comes back with the next run.
    """

    optionsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        def train_val() -> list[CurveSpec]:
            return [
                CurveSpec("train", "train", TRAIN_COLOR),
                CurveSpec("val", "validation", VAL_COLOR),
            ]

        self.loss = MetricPlot("Loss", train_val())
        self.error = MetricPlot(ERROR_TITLES[False], train_val(), legend=False)
        self.lr = MetricPlot(
            "Learning rate",
            [CurveSpec("lr", "lr", LR_COLOR)],
            legend=False,
            compact=True,
            floor_zero=True,
        )
        self.grad = MetricPlot(
            "Gradient norm \u2016g\u2016",
            [CurveSpec("grad", "\u2016g\u2016", GRAD_COLOR)],
            legend=False,
            compact=True,
        )
        self.sharpness = MetricPlot(
            "Sharpness \u03bb<sub>max</sub>",
            [
                CurveSpec("sharpness", "\u03bbmax", SHARPNESS_COLOR),
                CurveSpec("edge", "edge of stability 2/\u03b7", EDGE_COLOR, dashed=True),
            ],
            compact=True,
        )
        self.sharpness.set_value_format(lambda v: f"{v:.4g}")
        self.sharpness.setToolTip(SHARPNESS_TIP)
        self.sharpness.hide()
        self.plots = (self.loss, self.error, self.lr, self.grad, self.sharpness)
        self.error.setXLink(self.loss)  # stacked with equal axes: the same steps line up
        loss_item = self.loss.getPlotItem()
        loss_item.setLabel("bottom", "")
        loss_item.getAxis("bottom").setStyle(showValues=False)
        loss_item.getAxis("bottom").setHeight(6)
        self.error.set_value_format(_fmt_percent)
        self.lr.set_value_format(lambda v: f"{v:.3g}")
        self.grad.set_value_format(lambda v: f"{v:.3g}")

        self.log_box = QCheckBox("log scale")
        self.log_box.setToolTip("Logarithmic y axis for loss, error and gradient norm")
        self.smooth_box = QCheckBox("smooth")
        self.smooth_box.setToolTip(
            "Show an exponential moving average (display only; the raw "
            "values stay in the read-out and the CSV export)"
        )
        self.log_box.toggled.connect(self._set_log)
        self.smooth_box.toggled.connect(self._set_smooth)
        self.sharpness_box = QCheckBox("sharpness")
        self.sharpness_box.setToolTip(SHARPNESS_TIP)
        self.sharpness_box.toggled.connect(self._show_sharpness_plot)
        self.log_box.toggled.connect(self.optionsChanged)
        self.smooth_box.toggled.connect(self.optionsChanged)
        self.sharpness_box.toggled.connect(self.optionsChanged)
        self._log_before_divergence: bool | None = None  # the user's choice while auto-log is on

        # the display options, for the caller to place (e.g. in a section title)
        self.options = QWidget()
        head = QHBoxLayout(self.options)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.log_box)
        head.addWidget(self.smooth_box)
        head.addWidget(self.sharpness_box)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.loss, 0, 0, 1, 2)
        grid.addWidget(self.error, 1, 0, 1, 2)
        grid.addWidget(self.lr, 2, 0)
        grid.addWidget(self.grad, 2, 1)
        grid.addWidget(self.sharpness, 3, 0, 1, 2)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 4)
        grid.setRowStretch(2, 3)
        self._grid = grid
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(grid, 1)
        self._regression = False
        self._steps = np.empty(0)
        self._data: dict[str, np.ndarray] = {}

    def set_eval_note(self, note: str) -> None:
        """The loss and error plots' tooltip: what their values are evaluated on (``note``, e.g.
        "evaluated on a sample of 20,000 of 800,000 training rows"; "" for every row)."""
        for plot in (self.loss, self.error):
            plot.setToolTip(
                f"Training and validation values {note}, the same rows at every step"
                if note
                else ""
            )

    def set_task(self, regression: bool) -> None:
        self._regression = regression
        self.error.set_title(ERROR_TITLES[regression])
        self.error.set_value_format((lambda v: f"{v:.4g}") if regression else _fmt_percent)

    def clear(self) -> None:
        self._steps = np.empty(0)
        self._data = {}
        for plot in self.plots:
            plot.clear_data()
        self.show_diverged(False)

    def show_history(
        self,
        steps: np.ndarray,
        data: Mapping[str, np.ndarray],
        small: bool = True,
        bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Draw a run's history: ``data`` maps engine FIELDS to arrays aligned with ``steps``,
        ``bands`` (optional) maps fields to their (lowest, highest) values behind each step.

        ``small=False`` leaves the learning-rate and gradient plots as they are (to save time).
        """
        self._steps = steps
        self._data = data
        bands = bands or {}
        scale = 1.0 if self._regression else 100.0
        for plot, field, factor in ((self.loss, 0, 1.0), (self.error, 1, scale)):
            series, plot_bands = {}, {}
            for key, fields in BAND_FIELDS.items():
                name = fields[field]
                series[key] = data[name] * factor
                if name in bands:
                    plot_bands[key] = (bands[name][0] * factor, bands[name][1] * factor)
            plot.set_series(steps, series, plot_bands)
        if small:
            self.show_small(steps, data, bands)

    def show_small(
        self,
        steps: np.ndarray,
        data: Mapping[str, np.ndarray],
        bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Only the learning-rate and gradient-norm plots."""
        self.lr.set_series(steps, {"lr": data["lr"]})
        grad_band = (bands or {}).get("grad_norm")
        self.grad.set_series(
            steps,
            {"grad": data["grad_norm"]},
            {"grad": grad_band} if grad_band is not None else None,
        )

    def _show_sharpness_plot(self, on: bool) -> None:
        self.sharpness.setVisible(on)
        self._grid.setRowStretch(3, 4 if on else 0)  # hidden, it leaves no empty row

    def show_sharpness(self, rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        """The sharpness measured so far: ``(steps, lambda_max, edge of stability)``, or None
        (nothing measured)."""
        if rows is None:
            self.sharpness.clear_data()
            return
        steps, values, edges = rows
        self.sharpness.set_series(steps, {"sharpness": values, "edge": edges})

    def show_diverged(self, diverged: bool) -> None:
        """After a divergence that spans more than three decades, switch to the log axis (once);
        ``False`` gives the user's own choice back."""
        if diverged and self._log_before_divergence is None:
            finite = [
                v[np.isfinite(v) & (v > 0)]
                for v in (self._data.get("train_loss"), self._data.get("val_loss"))
                if v is not None
            ]
            values = np.concatenate(finite) if finite else np.empty(0)
            if len(values) and values.max() > 1000.0 * values.min():
                self._log_before_divergence = self.log_box.isChecked()
                self.log_box.setChecked(True)
                self.log_box.setToolTip(
                    "Logarithmic y axis, switched on because the run "
                    "diverged: only a log axis shows both the run and "
                    "its blow-up"
                )
        elif not diverged and self._log_before_divergence is not None:
            self.log_box.setChecked(self._log_before_divergence)
            self._log_before_divergence = None
            self.log_box.setToolTip("Logarithmic y axis for loss, error and gradient norm")

    def set_markers(self, markers: dict[str, tuple[float, str] | None]) -> None:
        """``markers[key] = (step, label)`` or None, drawn on the loss, error and gradient plots."""
        for key, value in markers.items():
            for plot in (self.loss, self.error, self.grad):
                if value is None:
                    plot.set_marker(key, None)
                else:
                    plot.set_marker(key, value[0], value[1])

    def _set_log(self, on: bool) -> None:
        for plot in (self.loss, self.error, self.grad):
            plot.set_log(on)

    def _set_smooth(self, on: bool) -> None:
        for plot in (self.loss, self.error, self.grad):
            plot.set_smoothing(on)
