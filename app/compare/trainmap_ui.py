"""The widgets of the Trainability-map view, and how they are laid out.

What the view looks like, apart from how it behaves (``app.compare.trainmap``, which computes the
map, reads pixels out, exports and sends runs to the Playground): :func:`build_ui` makes every
widget as an attribute of the view (the map's fields and buttons on the left, the map in the
middle, the fractal fit and the clicked pixel's run on the right), with the paper's presets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import style_plot
from app.compare.map_plot import MapViewBox, PowerAxis, gradient_bar
from app.plots import EmptyNote, log_plot_widget
from app.widgets.controls import IntSpinBox
from app.widgets.layout import scroll_area
from dlopt_core.studies import trainability as tm
from dlopt_core.studies.map_image import DIVERGENT, TRAINABLE

if TYPE_CHECKING:
    from app.compare.trainmap import TrainabilityMapView

SEND_TIP = (
    "Open the clicked pixel's run in the Playground: the problem's data (all of it for "
    "training, unscaled), the mean-field tanh network of the same width without biases, full "
    "batch, the pixel's optimizer, a base learning rate of 1 with the pixel's two rates as the "
    "layer factors (W1, W2), and the map's number of steps. Not carried: the problem's initial "
    "weights (the Playground draws them from its seed, standard normal, so the run starts "
    "elsewhere) and a map's mini-batches (the Playground trains on full batches)."
)
RUN_ON = (
    ("inprocess", "This process"),
    ("local", "Dask: a local cluster"),
    ("address", "Dask: the scheduler at"),
)
SCHEDULER_KEY = "trainability/scheduler"

# the paper's configurations: (name, tooltip, MapSpec fields)
PRESETS = (
    (
        "Per-layer learning rates (paper)",
        "Full-batch gradient descent, one learning rate for "
        "W1 and one for W2, each from 10^-3 to 10^6 (the paper's first figure)",
        {"axes": ("lr1", "lr2"), "ranges": ((-3.0, 6.0), (-3.0, 6.0)), "optimizer": "gd"},
    ),
    (
        "Zoom: the corner of the edge",
        "The region where both learning rates matter, where the edge folds most",
        {"axes": ("lr1", "lr2"), "ranges": ((4.0, 6.0), (1.5, 3.0)), "optimizer": "gd"},
    ),
    (
        "Learning rate vs W1 offset",
        "One learning rate for both layers against a number added "
        "to W1's initial values (the paper's second set-up)",
        {"axes": ("offset", "lr"), "ranges": ((-3.0, 3.0), (-1.0, 4.0)), "optimizer": "gd"},
    ),
    (
        "Learning rate vs momentum",
        "Heavy-ball momentum (PyTorch's SGD) against the learning rate",
        {"axes": ("lr", "momentum"), "ranges": ((-1.0, 4.0), (0.0, 0.99)), "optimizer": "momentum"},
    ),
    (
        "Learning rate vs Adam's \u03b21",
        "Adam's first-moment decay against the learning rate",
        {"axes": ("lr", "beta1"), "ranges": ((-4.0, 2.0), (0.0, 0.99)), "optimizer": "adam"},
    ),
)


def build_ui(view: TrainabilityMapView) -> None:
    """Make the view's widgets and lay them out: controls, map and side panel in a splitter."""
    build_controls(view)
    build_plots(view)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(view.controls_area)
    splitter.addWidget(view.map_panel)
    splitter.addWidget(view.side_panel)
    splitter.setStretchFactor(1, 3)
    splitter.setStretchFactor(2, 2)
    splitter.setSizes([view.controls_area.minimumWidth(), 620, 420])
    lay = QVBoxLayout(view)
    lay.setContentsMargins(4, 4, 4, 4)
    lay.addWidget(splitter)


def build_controls(view: TrainabilityMapView) -> None:
    """The map's fields and buttons, in a scroll area (``view.controls_area``)."""
    view.preset = QComboBox()
    for k, (name, tip, _) in enumerate(PRESETS):
        view.preset.addItem(name)
        view.preset.setItemData(k, tip, Qt.ItemDataRole.ToolTipRole)
    view.preset.setToolTip("The paper's configurations; choosing one fills in the fields")
    view.preset.activated.connect(view.apply_preset)
    view.axis_boxes: list[QComboBox] = []
    view.lo_boxes: list[QDoubleSpinBox] = []
    view.hi_boxes: list[QDoubleSpinBox] = []
    form = QFormLayout()
    form.addRow("Preset", view.preset)
    for k, which in enumerate(("Across", "Up")):
        combo = QComboBox()
        for name, axis in tm.AXES.items():
            combo.addItem(axis.label, name)
        direction = "horizontal" if k == 0 else "vertical"
        combo.setToolTip(f"The hyper-parameter along the map's {direction} axis")
        combo.currentIndexChanged.connect(lambda _i, k=k: view._axis_changed(k))
        lo, hi = QDoubleSpinBox(), QDoubleSpinBox()
        for box, end in ((lo, "lowest"), (hi, "highest")):
            box.setDecimals(4)
            box.setKeyboardTracking(False)
            box.setToolTip(f"The {end} value of this axis (log10 for learning rates: 2 means 100)")
        row = QHBoxLayout()
        row.addWidget(lo)
        row.addWidget(QLabel("to"))
        row.addWidget(hi)
        form.addRow(which, combo)
        form.addRow("", row)
        view.axis_boxes.append(combo)
        view.lo_boxes.append(lo)
        view.hi_boxes.append(hi)
    view.res = IntSpinBox()
    view.res.setRange(8, 1024)
    view.res.setValue(64)
    view.res.setToolTip("Pixels along each axis; every pixel is one training run")
    view.steps = IntSpinBox()
    view.steps.setRange(20, 5000)
    view.steps.setValue(200)
    view.steps.setToolTip(
        "Full-batch steps per run (the paper uses 500 to 1000 for final pictures)"
    )
    view.optimizer = QComboBox()
    for name, title in (("gd", "Gradient descent"), ("momentum", "Momentum"), ("adam", "Adam")):
        view.optimizer.addItem(title, name)
    view.optimizer.setToolTip("The optimizer (an axis of momentum or \u03b21 decides it)")
    view.beta = QDoubleSpinBox()
    view.beta.setRange(0.0, 0.999)
    view.beta.setDecimals(3)
    view.beta.setValue(0.9)
    view.beta.setToolTip("Momentum or Adam's \u03b21 when neither is an axis")
    view.batch = IntSpinBox()
    view.batch.setRange(0, 100_000)
    view.batch.setSpecialValueText("full batch")
    view.batch.setToolTip(
        "Rows of each step's gradient, drawn anew each step (the same "
        "draws for every run); the loss is always the whole data set's"
    )
    view.width = IntSpinBox()
    view.width.setRange(2, 64)
    view.width.setValue(16)
    view.width.setToolTip(
        "Width d of the network (and of the data): d*d + d parameters, as many data points"
    )
    view.seed = IntSpinBox()
    view.seed.setRange(0, 2**31 - 1)
    view.seed.setToolTip("Seed of the random data and initial weights")
    view.run_on = QComboBox()
    for key, title in RUN_ON:
        view.run_on.addItem(title, key)
    view.run_on.setToolTip(
        "Where the tiles train: in this process (all cores), on a Dask "
        "cluster of worker processes here, or on a running Dask cluster"
    )
    view.address = QLineEdit(str(view.settings.value(SCHEDULER_KEY, "")))
    view.address.setPlaceholderText("tcp://host:8786")
    view.address.setToolTip("The address of a running Dask scheduler (kept between sessions)")
    view.address.editingFinished.connect(
        lambda: view.settings.setValue(SCHEDULER_KEY, view.address.text().strip())
    )
    form.addRow("Resolution", view.res)
    form.addRow("Steps", view.steps)
    form.addRow("Optimizer", view.optimizer)
    form.addRow("Momentum/\u03b21", view.beta)
    form.addRow("Mini-batch", view.batch)
    form.addRow("Width", view.width)
    form.addRow("Seed", view.seed)
    form.addRow("Run on", view.run_on)
    form.addRow("", view.address)
    view.compute_button = QPushButton("Compute map")
    view.compute_button.setToolTip("Train every pixel's run (Ctrl+Return)")
    view.compute_button.setShortcut(QKeySequence("Ctrl+Return"))
    view.compute_button.clicked.connect(view.compute)
    view.back_button = QPushButton("\u2190 Back")
    view.back_button.setToolTip("The map before the last zoom (Alt+Left)")
    view.back_button.setShortcut(QKeySequence("Alt+Left"))
    view.back_button.clicked.connect(lambda: view.go(-1))
    view.forward_button = QPushButton("Forward \u2192")
    view.forward_button.setToolTip("The next zoom again (Alt+Right)")
    view.forward_button.setShortcut(QKeySequence("Alt+Right"))
    view.forward_button.clicked.connect(lambda: view.go(1))
    view.png_button = QPushButton("Export PNG\u2026")
    view.png_button.setToolTip("Save the map as a picture")
    view.png_button.clicked.connect(view.export_png)
    view.npz_button = QPushButton("Export npz\u2026")
    view.npz_button.setToolTip(
        "Save the values, the axes, the converged mask and the fractal dimension (NumPy's .npz)"
    )
    view.npz_button.clicked.connect(view.export_npz)
    nav = QHBoxLayout()
    nav.addWidget(view.back_button)
    nav.addWidget(view.forward_button)
    export = QHBoxLayout()
    export.addWidget(view.png_button)
    export.addWidget(view.npz_button)
    box = QGroupBox("Map")
    inner = QVBoxLayout(box)
    inner.addLayout(form)
    inner.addWidget(view.compute_button)
    inner.addLayout(nav)
    inner.addLayout(export)
    inner.addStretch(1)
    view.controls_area = scroll_area(box, horizontal=False, framed=True)
    # the box's size hint once it is in the area (its style comes from there)
    view.controls_area.setMinimumWidth(box.sizeHint().width() + 24)


def build_plots(view: TrainabilityMapView) -> None:
    """The map with its legend and read-out (``view.map_panel``), the fractal fit and the
    clicked pixel's run (``view.side_panel``)."""
    view.axes_items = [PowerAxis("bottom"), PowerAxis("left")]
    view.view = MapViewBox()
    view.map_widget = pg.PlotWidget(
        viewBox=view.view, axisItems={"bottom": view.axes_items[0], "left": view.axes_items[1]}
    )
    view.map_plot = view.map_widget.getPlotItem()
    style_plot(view.map_plot, "Trainability map", "", "")
    view.map_plot.showGrid(x=False, y=False)
    view.image = pg.ImageItem()
    view.map_plot.addItem(view.image)
    view.marker = pg.ScatterPlotItem(size=11, symbol="o", pen=pg.mkPen("k", width=2), brush=None)
    view.map_plot.addItem(view.marker)
    view.map_note = EmptyNote(view.map_plot, "Choose a preset and press Compute map")
    view.view.zoom_rect.connect(view.zoom)
    view.map_widget.scene().sigMouseMoved.connect(view._hover)
    view.map_widget.scene().sigMouseClicked.connect(view._clicked)
    view.readout = QLabel(
        "Hover over the map to read a pixel; drag a rectangle to zoom; click a pixel for its run"
    )
    view.readout.setWordWrap(True)
    legend = QHBoxLayout()
    for deep_pale, text in (
        (TRAINABLE, "trains (deep: fast, pale: slow)"),
        (DIVERGENT, "diverges (deep: fast, pale: slow)"),
    ):
        bar = QLabel()
        bar.setPixmap(gradient_bar(*deep_pale))
        legend.addWidget(bar)
        legend.addWidget(QLabel(text))
    legend.addStretch(1)
    view.map_panel = QWidget()
    lay = QVBoxLayout(view.map_panel)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(view.map_widget, 1)
    lay.addLayout(legend)
    lay.addWidget(view.readout)

    view.fractal_widget = log_plot_widget()
    view.fractal_plot = view.fractal_widget.getPlotItem()
    style_plot(
        view.fractal_plot,
        "Fractal dimension of the edge",
        "box size (pixels)",
        "boxes on the edge",
    )
    view.fractal_plot.setLogMode(x=True, y=True)
    view.fractal_points = pg.PlotDataItem(
        pen=None, symbol="o", symbolSize=8, symbolBrush=pg.mkBrush(60, 60, 60)
    )
    view.fractal_line = pg.PlotDataItem(pen=pg.mkPen((200, 60, 30), width=2))
    view.fractal_plot.addItem(view.fractal_points)
    view.fractal_plot.addItem(view.fractal_line)
    view.fractal_note = EmptyNote(view.fractal_plot, "Box counts of the finished map")
    view.curve_widget = log_plot_widget()
    view.curve_plot = view.curve_widget.getPlotItem()
    style_plot(view.curve_plot, "The run at the clicked pixel", "step", "loss / first loss")
    view.curve_plot.setLogMode(y=True)
    view.curve = pg.PlotDataItem(pen=pg.mkPen((30, 80, 160), width=2))
    view.curve_plot.addItem(view.curve)
    view.curve_note = EmptyNote(view.curve_plot, "Click a pixel of the map")
    view.send_button = QPushButton("Send to Playground")
    view.send_button.setToolTip(SEND_TIP)
    view.send_button.clicked.connect(view.send_to_playground)
    view.side_panel = QWidget()
    side = QVBoxLayout(view.side_panel)
    side.setContentsMargins(0, 0, 0, 0)
    side.addWidget(view.fractal_widget, 1)
    side.addWidget(view.curve_widget, 1)
    side.addWidget(view.send_button)
