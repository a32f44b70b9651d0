"""The widgets of the Compare tab's learning-rate page, and how they are laid out.

What the Sweep view looks like, apart from how it behaves (``app.compare.sweep``, which connects
these widgets, runs the sweeps and draws into the plots), as Qt Designer keeps a form's
``setupUi`` apart: :func:`build_ui` makes every widget as an attribute of the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import log_plot_widget, style_plot
from app.compare.grid_map import SECOND_LABELS, GridMap
from app.plots import EmptyNote
from app.widgets.controls import SciSpinBox
from app.widgets.layout import scroll_area
from dlopt_core.studies import compare
from dlopt_core.train.optimizers import OPTIMIZERS

if TYPE_CHECKING:
    from app.compare.sweep import SweepView


# (result field, legend name, pen style, symbol, shown by default)
SERIES = (
    ("final_val_loss", "final val", Qt.PenStyle.SolidLine, "o", True),
    ("best_val_loss", "best val", Qt.PenStyle.DashLine, "t", True),
    ("final_train_loss", "final train", Qt.PenStyle.DotLine, "s", False),
    ("best_train_loss", "best train", Qt.PenStyle.DashDotLine, "d", False),
)
SECOND_DEFAULTS = {
    "momentum": "0, 0.5, 0.9, 0.95, 0.99",
    "beta1": "0.5, 0.8, 0.9, 0.95, 0.99",
    "batch_size": "4, 8, 16, 32, 64",
}
# After 500 steps on the default spiral every rate still sits near chance; after 5,000 Adam's
# best reaches a validation loss near 0.25 and SGD's near 0.6. Six rates per decade suffice.
DEFAULT_STEPS = 5_000
DEFAULT_MODELS = 32


def optimizer_combo(default: str, tip: str) -> QComboBox:
    box = QComboBox()
    for name, info in OPTIMIZERS.items():
        box.addItem(info.title, name)
        box.setItemData(box.count() - 1, info.summary, Qt.ItemDataRole.ToolTipRole)
    box.setCurrentIndex(box.findData(default))
    box.setToolTip(tip)
    return box


def build_ui(view: SweepView) -> None:
    """The settings column (learning rates, sweep, range test, 2-D sweep, choice) on the left;
    on the right the series toolbar and the three plots (sweep, range test, 2-D heat map)."""
    # -- common settings
    view.optimizers = QListWidget()
    view.optimizers.setToolTip("The optimizers to sweep (each over the same learning rates)")
    for name, info in OPTIMIZERS.items():
        item = QListWidgetItem(info.title)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(
            Qt.CheckState.Checked if name in ("sgd", "adam") else Qt.CheckState.Unchecked
        )
        item.setToolTip(info.summary)
        view.optimizers.addItem(item)
    view.optimizers.setMaximumHeight(150)
    view.lr_min = SciSpinBox(1e-7, 1000.0, 1e-4, log_step=True, factor=10.0, digits=6)
    view.lr_min.setToolTip("Smallest learning rate of the sweep (the arrows step by x10)")
    view.lr_max = SciSpinBox(1e-7, 1000.0, 10.0, log_step=True, factor=10.0, digits=6)
    view.lr_max.setToolTip("Largest learning rate of the sweep (the arrows step by x10)")
    view.steps = QSpinBox()
    view.steps.setRange(10, 1_000_000)
    view.steps.setSingleStep(1000)
    view.steps.setValue(DEFAULT_STEPS)
    view.steps.setToolTip(
        "Training steps of every model of a sweep or range test (the "
        "default is long enough for the rates to part on the "
        "Playground's default spiral)"
    )
    common = QGroupBox("Learning rates")
    form = QFormLayout(common)
    form.addRow(view.optimizers)
    form.addRow("From", view.lr_min)
    form.addRow("To", view.lr_max)
    form.addRow("Steps", view.steps)

    # -- 1-D sweep
    view.models = QSpinBox()
    view.models.setValue(DEFAULT_MODELS)
    view.models.setSingleStep(8)
    view.run_button = QPushButton("Run sweep")
    view.run_button.setToolTip(
        "Train one model per (optimizer, learning rate), all from the "
        "same initial parameters on the same batches"
    )
    sweep_box = QGroupBox("Sweep")
    sweep_form = QFormLayout(sweep_box)
    sweep_form.addRow("Models", view.models)
    sweep_form.addRow(view.run_button)

    # -- range test
    view.range_optimizer = optimizer_combo("adam", "Optimizer of the range test")
    view.range_button = QPushButton("Run range test")
    view.range_button.setToolTip(
        "One run whose rate grows geometrically from 'From' to 'To' "
        "over the steps; the loss against the rate suggests a rate"
    )
    range_box = QGroupBox("Range test")
    range_form = QFormLayout(range_box)
    range_form.addRow("Optimizer", view.range_optimizer)
    range_form.addRow(view.range_button)

    # -- 2-D sweep
    view.second = QComboBox()
    for name in compare.SECOND_PARAMS:
        view.second.addItem(SECOND_LABELS[name], name)
    view.second.setToolTip(
        "The second hyper-parameter: momentum and beta1 vary within one "
        "engine; each batch size needs an engine of its own"
    )
    view.second_values = QLineEdit(SECOND_DEFAULTS["momentum"])
    view.second_values.setToolTip("Values of the second hyper-parameter, separated by commas")
    view.grid_optimizer = optimizer_combo(
        "momentum",
        "Optimizer of the 2-D sweep (momentum "
        "needs SGD + momentum, Nesterov or RMSProp; beta1 "
        "the Adam family)",
    )
    view.grid_lrs = QSpinBox()
    view.grid_lrs.setRange(2, 64)
    view.grid_lrs.setValue(12)
    view.grid_lrs.setToolTip("Number of log-spaced learning rates from 'From' to 'To'")
    view.grid_button = QPushButton("Run 2-D sweep")
    view.grid_button.setToolTip(
        "Final validation loss over learning rate x the second hyper-parameter"
    )
    grid_box = QGroupBox("2-D sweep")
    grid_form = QFormLayout(grid_box)
    grid_form.addRow("Optimizer", view.grid_optimizer)
    grid_form.addRow("Second", view.second)
    grid_form.addRow("Values", view.second_values)
    grid_form.addRow("Rates", view.grid_lrs)
    grid_form.addRow(view.grid_button)

    # -- selection
    view.choice_label = QLabel("Click a point or a cell to choose a learning rate.")
    view.choice_label.setWordWrap(True)
    view.choice_label.setToolTip("The model whose settings 'Use this learning rate' sends")
    view.use_button = QPushButton("Use this learning rate")
    view.use_button.setToolTip("Send the chosen optimizer and learning rate to the Playground")
    view.use_button.setEnabled(False)
    use_box = QGroupBox("Choice")
    use_lay = QVBoxLayout(use_box)
    use_lay.addWidget(view.choice_label)
    use_lay.addWidget(view.use_button)

    left = QWidget()
    left_lay = QVBoxLayout(left)
    left_lay.setContentsMargins(0, 0, 0, 0)
    for box in (common, sweep_box, range_box, grid_box, use_box):
        left_lay.addWidget(box)
    left_lay.addStretch(1)
    scroll = scroll_area(left, min_width=270, max_width=360, framed=True)
    view._buttons = [view.run_button, view.range_button, view.grid_button]

    # -- plots
    view.series_boxes: dict[str, QCheckBox] = {}
    toolbar = QHBoxLayout()
    toolbar.addWidget(QLabel("Show"))
    for key, name, _, _, on in SERIES:
        box = QCheckBox(name)
        box.setChecked(on)
        box.setToolTip(f"Plot the {name} loss of every model against its learning rate")
        toolbar.addWidget(box)
        view.series_boxes[key] = box
    view.log_y = QCheckBox("Log loss axis")
    view.log_y.setChecked(True)
    view.log_y.setToolTip("Logarithmic loss axis for the sweep and the range test")
    toolbar.addSpacing(12)
    toolbar.addWidget(view.log_y)
    toolbar.addStretch(1)

    view.sweep_plot = log_plot_widget()
    style_plot(
        view.sweep_plot.getPlotItem(),
        "Loss after training vs learning rate",
        "learning rate",
        "loss",
    )
    view.sweep_plot.setToolTip(
        "One point per model; shaded: rates at which a run diverged "
        "or ended worse than it started; dashed line and star: the "
        "best rate (lowest best validation loss)"
    )
    legend = view.sweep_plot.getPlotItem().addLegend(offset=(6, 6), labelTextSize="8pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 210))
    view.grid_map = GridMap()
    view.range_plot = log_plot_widget()
    style_plot(
        view.range_plot.getPlotItem(),
        "Range test: training loss as the rate grows",
        "learning rate",
        "training loss",
    )
    view.range_plot.setToolTip(
        "Faint: the training loss after each step; solid: smoothed. "
        "Green: the suggested rate (a tenth of the rate at the "
        "minimum)"
    )
    view._notes = {
        "sweep": EmptyNote(
            view.sweep_plot.getPlotItem(),
            "Run a sweep: the loss of every model against its learning rate",
        ),
        "range": EmptyNote(
            view.range_plot.getPlotItem(),
            "Run a range test: the loss as the rate grows during one run",
        ),
        "grid": view.grid_map.note,
    }

    view.pages = QTabWidget()
    view.pages.addTab(view.sweep_plot, "Sweep")
    view.pages.addTab(view.range_plot, "Range test")
    view.pages.addTab(view.grid_map, "2-D sweep")
    view.pages.setTabToolTip(0, "Loss against learning rate, one point per model")
    view.pages.setTabToolTip(1, "Loss of one run whose learning rate grows every step")
    view.pages.setTabToolTip(2, "Heat map over learning rate and a second hyper-parameter")
    right = QWidget()
    right_lay = QVBoxLayout(right)
    right_lay.setContentsMargins(0, 0, 0, 0)
    right_lay.addLayout(toolbar)
    right_lay.addWidget(view.pages, 1)

    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(scroll)
    split.addWidget(right)
    split.setStretchFactor(1, 1)
    split.setChildrenCollapsible(False)
    lay = QHBoxLayout(view)
    lay.setContentsMargins(4, 4, 4, 4)
    lay.addWidget(split)
