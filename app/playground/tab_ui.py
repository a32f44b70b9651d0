"""The widgets of the Playground tab, and how they are laid out.

What the tab looks like, apart from how it behaves (``app.playground.tab``, which connects these
widgets and runs the worker; ``app.playground.drawing`` draws into them; ``app.playground.editing``
turns their edits into experiments), as Qt Designer keeps a form's ``setupUi`` apart:
:func:`build_ui` makes every widget as an attribute of the tab. The network diagram and the
optimizer inspector are optional (:func:`optional_widget`): the Playground trains without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from app.playground.curves import CurvesPanel
from app.playground.data_panel import DataPanel
from app.playground.network_panel import FeaturesPanel, NetworkPanel
from app.playground.optimizer_panel import OptimizerPanel
from app.playground.output_view import OutputView
from app.playground.status import StatusLine
from app.playground.training_panel import TrainingPanel
from app.playground.transport import TransportBar
from app.widgets.banner import Banner
from app.widgets.layout import scroll_area, view_section

if TYPE_CHECKING:
    from app.playground.tab import PlaygroundTab

LEFT_WIDTH = 340


def optional_widget(module: str, name: str) -> QWidget:
    """An instance of ``module.name``, or a note where the widget cannot be loaded yet."""
    try:
        return getattr(importlib.import_module(module), name)()
    except Exception as exc:  # the widget is optional: the playground works without it
        label = QLabel(f"{name} is not available\n({type(exc).__name__}: {exc})")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setStyleSheet("color: #888;")
        return label


def build_ui(tab: PlaygroundTab) -> None:
    """The control column (data, features, network, optimizer and training panels) on the left;
    on the right the transport bar, the classroom note, the banner and the four views in
    splitters (output, network, training curves, optimizer state)."""
    tab.data_panel = DataPanel()
    tab.features_panel = FeaturesPanel()
    tab.network_panel = NetworkPanel()
    tab.optimizer_panel = OptimizerPanel()
    tab.training_panel = TrainingPanel()
    controls = QWidget()
    controls.setObjectName("controls")
    col = QVBoxLayout(controls)
    col.setContentsMargins(6, 6, 6, 6)
    col.setSpacing(8)
    for panel in (
        tab.data_panel,
        tab.features_panel,
        tab.network_panel,
        tab.optimizer_panel,
        tab.training_panel,
    ):
        col.addWidget(panel)
    col.addStretch(1)
    scroll = scroll_area(controls, width=LEFT_WIDTH, horizontal=False)
    tab.controls_scroll = scroll

    tab.transport = TransportBar()
    tab.banner = Banner()
    tab.output = OutputView()
    tab.diagram = optional_widget("app.widgets.network_diagram", "NetworkDiagram")
    tab.inspector = optional_widget("app.widgets.inspector", "OptimizerInspector")
    tab.curves = CurvesPanel()
    tab.status = StatusLine()

    tab.output_section = view_section("Output", tab.output)
    diagram_section = view_section("Network", tab.diagram)
    inspector_area = scroll_area(tab.inspector)
    inspector_area.setMinimumSize(160, 100)  # its section can shrink below its minimum
    inspector_section = view_section("Optimizer state", inspector_area)
    curves_section = view_section("Training curves", tab.curves, tab.curves.options)
    left = QSplitter(Qt.Orientation.Vertical)
    left.addWidget(tab.output_section)
    left.addWidget(diagram_section)
    left.setStretchFactor(0, 5)
    left.setStretchFactor(1, 4)
    right = QSplitter(Qt.Orientation.Vertical)
    right.addWidget(curves_section)
    right.addWidget(inspector_section)
    right.setStretchFactor(0, 3)
    right.setStretchFactor(1, 2)
    main = QSplitter(Qt.Orientation.Horizontal)
    main.addWidget(left)
    main.addWidget(right)
    main.setStretchFactor(0, 4)
    main.setStretchFactor(1, 5)
    for splitter in (left, right, main):
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(5)
    tab.splitters = {"view": left, "curves": right, "main": main}
    main.setSizes([470, 600])
    left.setSizes([430, 360])
    right.setSizes([440, 350])

    work = QVBoxLayout()
    work.setContentsMargins(0, 0, 0, 0)
    work.setSpacing(4)
    work.addWidget(tab.transport)
    tab.classroom_note = QLabel()
    tab.classroom_note.setObjectName("classroomNote")
    tab.classroom_note.setWordWrap(True)
    tab.classroom_note.setStyleSheet(
        "#classroomNote { background: #fff6d6; border: 1px solid #e2c36b; "
        "border-radius: 4px; padding: 6px 10px; }"
    )
    tab.classroom_note.hide()
    work.addWidget(tab.classroom_note)
    work.addWidget(tab.banner)
    work.addWidget(main, 1)
    lay = QHBoxLayout(tab)
    lay.setContentsMargins(0, 0, 4, 0)
    lay.setSpacing(4)
    lay.addWidget(scroll)
    lay.addLayout(work, 1)
    tab.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    # a click on the plots or the background takes the focus from a number box, so that
    # typing goes nowhere unexpected
    tab.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    tab.setStyleSheet(
        "QGroupBox { font-weight: 600; border: 1px solid #d0d0d0; border-radius: 4px;"
        " margin-top: 9px; padding-top: 4px; }"
        "QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; }"
        "QGroupBox QLabel, QGroupBox QCheckBox, QGroupBox QToolButton { font-weight: normal; }"
    )
