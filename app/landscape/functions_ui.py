"""The widgets of the Landscape's functions view, and how they are laid out.

What the view looks like, apart from how it behaves (``app.landscape.functions_view``, which
connects these widgets and draws into them), as Qt Designer keeps a form's ``setupUi`` apart:
:func:`build_controls` makes the control column and :func:`build_plots` the map and the curves,
each as attributes of the view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.landscape.common import HeatMap, hbox, narrow, small_plot
from app.landscape.runs import RunList, free_list
from app.plots import EmptyNote
from app.widgets.banner import Banner
from app.widgets.controls import SciSpinBox
from app.widgets.layout import control_section
from dlopt_core.studies import landscape as ls

if TYPE_CHECKING:
    from app.landscape.functions_view import FunctionView

MAX_STEPS = 2000
SPEEDS = (0, 1, 2, 5, 10, 20, 50, 100)  # steps per frame; 0: auto (a race lasts about 4 s)
# stacking on the map: the field, paths that run away, the other paths, then the markers
PATH_Z, MARKER_Z = 0.5, 1.0


def speed_text(steps: int) -> str:
    return "auto (about 4 s)" if steps == 0 else f"{steps} step{'s' if steps > 1 else ''}/frame"


def build_controls(view: FunctionView) -> None:
    """The control column (``view.controls``): function, start point, optimizers, gradient,
    race and the quadratic's theory, each a section with its tooltips."""
    view.controls = QWidget()
    col = QVBoxLayout(view.controls)
    col.setContentsMargins(6, 6, 6, 6)
    col.setSpacing(8)

    # function
    view.function = QComboBox()
    for name, fn in ls.FUNCTIONS.items():
        view.function.addItem(fn.title.split(" (")[0], name)
        view.function.setItemData(view.function.count() - 1, fn.note, Qt.ItemDataRole.ToolTipRole)
    view.function.setToolTip("The 2-D test function the optimizers race on")
    narrow(view.function)
    view.note = QLabel()
    view.note.setWordWrap(True)
    view.note.setStyleSheet("color: #444;")
    view.kappa = SciSpinBox(
        1.0, 10000.0, 10.0, log_step=True, steps_per_decade=10, digits=4, first_step=1.0
    )
    view.kappa.setToolTip(
        "Condition number kappa: the ratio of the Hessian's eigenvalues "
        "(1 and kappa). Larger: a narrower valley, slower gradient descent"
    )
    view.angle = QDoubleSpinBox()
    view.angle.setRange(-90.0, 90.0)
    view.angle.setDecimals(0)
    view.angle.setSingleStep(15.0)
    view.angle.setSuffix("\u00b0")
    view.angle.setKeyboardTracking(False)
    view.angle.setToolTip(
        "Rotation of the valley's long axis from the x axis (degrees); "
        "rotated valleys defeat per-coordinate rescaling (Adam, RMSProp)"
    )
    view.quad_box = QWidget()
    quad = QFormLayout(view.quad_box)
    quad.setContentsMargins(0, 0, 0, 0)
    quad.addRow("condition number \u03ba", view.kappa)
    quad.addRow("rotation", view.angle)
    box, lay = control_section("Function", tooltip="Choose the surface to optimize")
    lay.addWidget(view.function)
    lay.addWidget(view.note)
    lay.addWidget(view.quad_box)
    col.addWidget(box)

    # start point
    # %g boxes: a start just off a line (the saddle's y = 1e-6) must show and stay as it is,
    # not round to 0.000 and be written back as exactly 0 on the next edit
    view.start_x = SciSpinBox(-100.0, 100.0, 0.0, digits=4)
    view.start_y = SciSpinBox(-100.0, 100.0, 0.0, digits=4)
    for spin, axis in ((view.start_x, "x"), (view.start_y, "y")):
        spin.setSingleStep(0.1)
        spin.setToolTip(f"{axis} of the start point (or click on the map)")
        spin.setMinimumWidth(92)
    view.default_start = QToolButton()
    view.default_start.setText("default")
    view.default_start.setToolTip("Back to this function's own start point")
    box, lay = control_section("Start point", tooltip="Where every optimizer starts")
    lay.addLayout(hbox(QLabel("x"), view.start_x, QLabel("y"), view.start_y, view.default_start))
    hint = QLabel("Click on the map to start from there.")
    hint.setStyleSheet("color: #666; font-size: 8pt;")
    lay.addWidget(hint)
    col.addWidget(box)

    # optimizers: the free choice, or a challenge's own runs
    view.free = free_list()
    view.challenge_runs = RunList()
    view.challenge_title = QLabel()
    view.challenge_title.setWordWrap(True)
    view.challenge_title.setStyleSheet("font-weight: 600; color: #163a63;")
    view.leave_challenge = QPushButton("Back to free choice")
    view.leave_challenge.setToolTip("Leave the challenge: choose the optimizers yourself")
    challenge_page = QWidget()
    cl = QVBoxLayout(challenge_page)
    cl.setContentsMargins(0, 0, 0, 0)
    cl.addWidget(view.challenge_title)
    cl.addWidget(view.challenge_runs)
    cl.addWidget(view.leave_challenge)
    view.challenge_page = challenge_page
    challenge_page.hide()
    box, lay = control_section(
        "Optimizers",
        tooltip="Tick the optimizers to race; each has its learning rate and main hyper-parameter",
    )
    lay.addWidget(view.free)
    lay.addWidget(challenge_page)
    col.addWidget(box)

    # gradient
    view.clip = SciSpinBox(
        0.0, 1e6, 0.0, log_step=True, steps_per_decade=4, digits=3, first_step=0.1
    )
    view.clip.setToolTip(
        "Gradient clipping: a gradient longer than this is rescaled to "
        "this norm (direction kept). 0: off"
    )
    view.noise = SciSpinBox(
        0.0, 100.0, 0.0, log_step=True, steps_per_decade=4, digits=3, first_step=0.01
    )
    view.noise.setToolTip(
        "Gradient noise: Gaussian noise of this standard deviation added "
        "to each gradient coordinate, like mini-batch noise. 0: exact "
        "gradients"
    )
    view.seed = QSpinBox()
    view.seed.setRange(0, 99999)
    view.seed.setToolTip("Seed of the gradient noise (the same seed gives the same paths)")
    box, lay = control_section(
        "Gradient", tooltip="Clipping and noise apply to every run that does not set its own"
    )
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.addRow("clip norm", view.clip)
    form.addRow("noise \u03c3", view.noise)
    form.addRow("noise seed", view.seed)
    lay.addLayout(form)
    col.addWidget(box)

    # race: steps and transport
    view.steps = QSpinBox()
    view.steps.setRange(1, MAX_STEPS)
    view.steps.setValue(200)
    view.steps.setKeyboardTracking(False)
    view.steps.setToolTip(f"Number of optimizer steps of each run (at most {MAX_STEPS})")
    view.play = QPushButton("Play")
    view.play.setCheckable(True)
    view.play.setToolTip("Animate the race; press again to pause")
    view.step_button = QPushButton("Step")
    view.step_button.setToolTip("Pause and advance every path by one step")
    view.reset_button = QPushButton("Reset")
    view.reset_button.setToolTip("Pause and go back to step 0")
    view.speed = QComboBox()
    for s in SPEEDS:
        view.speed.addItem(speed_text(s), s)
    view.speed.setToolTip("Optimizer steps shown per frame (about 30 frames a second)")
    narrow(view.speed)
    view.step_label = QLabel()
    view.step_label.setStyleSheet("font-weight: 600;")
    box, lay = control_section("Race", tooltip="Play, pause and step through the paths")
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.addRow("steps", view.steps)
    form.addRow("speed", view.speed)
    lay.addLayout(form)
    row = QHBoxLayout()
    row.setSpacing(4)
    for b in (view.play, view.step_button, view.reset_button):
        row.addWidget(b)
    lay.addLayout(row)
    lay.addWidget(view.step_label)
    col.addWidget(box)

    # theory on the quadratic
    view.theory_text = QLabel()
    view.theory_text.setWordWrap(True)
    view.theory_text.setTextFormat(Qt.TextFormat.RichText)
    view.use_gd = QPushButton("Use optimal GD step")
    view.use_gd.setToolTip(
        "Set GD's learning rate to 2 / (1 + kappa), which makes both "
        "directions contract at the rate (kappa - 1) / (kappa + 1)"
    )
    view.use_momentum = QPushButton("Use optimal momentum")
    view.use_momentum.setToolTip(
        "Set momentum's lr = 4 / (sqrt(kappa) + 1)^2 and momentum "
        "= ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2 (Polyak's "
        "heavy ball): rate (sqrt(kappa) - 1) / (sqrt(kappa) + 1)"
    )
    view.theory_box, lay = control_section(
        "Theory: rates on the quadratic",
        tooltip="A rate r means the distance to the minimum shrinks like r^t per step",
    )
    lay.addWidget(view.theory_text)
    lay.addWidget(view.use_gd)
    lay.addWidget(view.use_momentum)
    lay.addStretch(1)
    view.theory_box.setFixedWidth(300)
    col.addStretch(1)


def build_plots(view: FunctionView) -> None:
    """The right side (``view.right``): the banner, the map with its markers and legend, the
    curves along the paths with the theory's rates, and the results line."""
    view.banner = Banner()
    view.banner.label.setStyleSheet("font-size: 10.5pt;")
    view.map = HeatMap("x", "y", "log\u2081\u2080(f \u2212 f*)")
    view.map.setMinimumSize(300, 260)
    view.map.getPlotItem().setAspectLocked(True)
    view.map.setToolTip(
        "Click to start every optimizer from that point; drag to pan, wheel "
        "to zoom. The shading is log10(f \u2212 f*); the star marks the "
        "minimum"
    )
    item = view.map.getPlotItem()
    view.legend = pg.LegendItem(offset=(-6, 6), labelTextSize="8pt")
    view.legend.setParentItem(item.getViewBox())
    view.legend.setBrush(pg.mkBrush(255, 255, 255, 215))
    view.minima = pg.ScatterPlotItem(
        symbol="star", size=16, pen=pg.mkPen("#222", width=1), brush=pg.mkBrush(255, 215, 0)
    )
    view.start_marker = pg.ScatterPlotItem(
        symbol="o", size=11, pen=pg.mkPen("#111", width=2), brush=pg.mkBrush(255, 255, 255)
    )
    view.heads = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.5))
    view.paths: list[pg.PlotDataItem] = []
    item.addItem(view.minima)
    item.addItem(view.start_marker)
    for marker in (view.minima, view.start_marker, view.heads):
        marker.setZValue(MARKER_Z)  # over every path
    view.value_plot = small_plot("f \u2212 f* along the path", "step", "f \u2212 f*")
    view.dist_plot = small_plot("Distance to the nearest minimum", "step", "distance")
    view.value_plot.setToolTip("f along each path, above its minimum value (log scale)")
    view.dist_plot.setToolTip(
        "Distance of each path to the nearest minimum (log scale); on "
        "the quadratic, dashed: the theory's optimal rates"
    )
    view.value_plot.getPlotItem().setLogMode(False, True)
    view.dist_plot.getPlotItem().setLogMode(False, True)
    for plot in (view.value_plot, view.dist_plot):
        plot.getPlotItem().getViewBox().setLimits(xMin=0)  # steps: never a negative axis
    view.values: list[pg.PlotDataItem] = []
    view.dists: list[pg.PlotDataItem] = []
    # at step 0 the curves are one point each: say what fills them instead
    view._curve_notes = [
        EmptyNote(p.getPlotItem(), "Press Play: the curves follow the race")
        for p in (view.value_plot, view.dist_plot)
    ]
    dash = Qt.PenStyle.DashLine
    view.theory_gd = pg.PlotDataItem(pen=pg.mkPen(QColor(90, 90, 90), width=1.5, style=dash))
    view.theory_hb = pg.PlotDataItem(
        pen=pg.mkPen(QColor(90, 90, 90), width=1.5, style=Qt.PenStyle.DotLine)
    )
    ditem = view.dist_plot.getPlotItem()
    ditem.addItem(view.theory_gd)
    ditem.addItem(view.theory_hb)
    view.dist_legend = pg.LegendItem(offset=(6, -6), labelTextSize="8pt")
    view.dist_legend.setParentItem(ditem.getViewBox())
    view.dist_legend.setBrush(pg.mkBrush(255, 255, 255, 215))
    view.dist_legend.addItem(view.theory_gd, "GD theory, optimal step")
    view.dist_legend.addItem(view.theory_hb, "heavy-ball theory, optimal")
    view.results_label = QLabel()
    view.results_label.setTextFormat(Qt.TextFormat.RichText)
    view.results_label.setWordWrap(True)
    view.results_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    view.results_label.setToolTip("Where each run is at the step shown")

    curves = QWidget()
    cl = QHBoxLayout(curves)
    cl.setContentsMargins(0, 0, 0, 0)
    cl.setSpacing(4)
    cl.addWidget(view.value_plot)
    cl.addWidget(view.dist_plot)
    cl.addWidget(view.theory_box)
    split = QSplitter(Qt.Orientation.Vertical)
    split.addWidget(view.map)
    split.addWidget(curves)
    split.setStretchFactor(0, 3)
    split.setStretchFactor(1, 2)
    split.setChildrenCollapsible(False)
    split.setSizes([520, 260])
    view.right = QWidget()
    rl = QVBoxLayout(view.right)
    rl.setContentsMargins(0, 4, 0, 0)
    rl.setSpacing(4)
    rl.addWidget(view.banner)
    rl.addWidget(split, 1)
    rl.addWidget(view.results_label)
