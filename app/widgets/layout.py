"""The building blocks every tab lays its controls out with: sections, scroll areas, swatches.

One place for them keeps the tabs alike (the same frames, margins and scroll behaviour) and lets a
change of look happen once:

- :func:`control_section`: a framed group with a bold title, for a column of controls;
- :func:`view_section`: a titled pane around a view (a plot, the network diagram), with an
  optional widget at the right of its title;
- :func:`scroll_area`: a widget in a scroll area (frameless unless asked), for a control column
  or a page that may be taller than the window;
- :func:`swatch_label` and :func:`swatch_icon`: the small filled square that marks a run's colour
  in a legend, a table or a list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

VIEW_SECTION_STYLE = (
    "#sectionTitle { font-weight: 600; color: #333; }"
    "#section { background: palette(base); border: 1px solid #d6d6d6; border-radius: 4px; }"
)


def control_section(
    title: str, body: QWidget | None = None, tooltip: str = ""
) -> tuple[QFrame, QVBoxLayout]:
    """A framed group with a bold title; returns the frame and the layout to fill."""
    box = QFrame()
    box.setObjectName("controlSection")
    box.setFrameShape(QFrame.Shape.StyledPanel)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(6, 4, 6, 6)
    lay.setSpacing(4)
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600;")
    if tooltip:
        label.setToolTip(tooltip)
        box.setToolTip(tooltip)
    lay.addWidget(label)
    if body is not None:
        lay.addWidget(body)
    return box, lay


def view_section(title: str, body: QWidget, extra: QWidget | None = None) -> QFrame:
    """``body`` under a small bold title (with ``extra`` at the right of the title); the title
    label is the frame's ``title_label``."""
    box = QFrame()
    box.setObjectName("section")
    box.setStyleSheet(VIEW_SECTION_STYLE)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(6, 4, 6, 4)
    lay.setSpacing(2)
    head = QHBoxLayout()
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    head.addWidget(label)
    head.addStretch(1)
    if extra is not None:
        head.addWidget(extra)
    lay.addLayout(head)
    lay.addWidget(body, 1)
    box.title_label = label  # type: ignore[attr-defined]
    return box


def scroll_area(
    widget: QWidget,
    *,
    width: int | None = None,
    min_width: int | None = None,
    max_width: int | None = None,
    horizontal: bool = True,
    framed: bool = False,
) -> QScrollArea:
    """``widget`` in a scroll area that resizes it to the visible width; ``width`` fixes the
    area's width, ``min_width``/``max_width`` bound it; ``horizontal=False`` never scrolls
    sideways (a control column)."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    if not framed:
        area.setFrameShape(QFrame.Shape.NoFrame)
    if not horizontal:
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    if width is not None:
        area.setFixedWidth(width)
    if min_width is not None:
        area.setMinimumWidth(min_width)
    if max_width is not None:
        area.setMaximumWidth(max_width)
    return area


def swatch_label(color: QColor, size: int = 12) -> QLabel:
    """A small filled square in ``color`` (the legend mark of a run)."""
    label = QLabel()
    label.setFixedSize(size, size)
    label.setStyleSheet(f"background: {color.name()}; border-radius: 2px;")
    return label


def swatch_icon(color: QColor, size: int = 12) -> QIcon:
    """A small square icon filled with ``color`` (for a list, a table or a button)."""
    pix = QPixmap(size, size)
    pix.fill(color)
    return QIcon(pix)
