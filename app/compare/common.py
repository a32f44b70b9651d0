"""Small shared pieces of the Compare tab: colours, number boxes, sortable cells, a flow layout."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QLayout,
    QLayoutItem,
    QTableWidgetItem,
    QWidget,
)

from app.colors import CONFIG_COLORS as PALETTE  # one colour per model, none a class colour

# the Compare modules import these from here
from app.plots import configure_pyqtgraph, log_plot_widget  # noqa: F401

DIVERGED_COLOR = QColor(150, 150, 150)
MISSING = "\u2014"  # em dash for a value that does not exist


def color(i: int) -> QColor:
    """The colour of model (or group) ``i``; cycles after eight."""
    return QColor(PALETTE[i % len(PALETTE)])


def fmt(value: float, digits: int = 4) -> str:
    """A number for a table or label; an em dash for NaN."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{value:.{digits}g}"


def error_scale(metric: str, regression: bool) -> float:
    """Factor from a stored value of ``metric`` to the shown one: errors of a classifier in per
    cent (the Playground's unit), everything else as it is."""
    return 100.0 if "error" in metric and not regression else 1.0


def metric_label(metric: str, regression: bool) -> str:
    """An axis title for ``metric`` ("loss", "error (%)", "RMSE", "validation error (%)")."""
    words = metric.replace("val_", "validation ").replace("train_", "training ")
    if "error" in metric:
        return words.replace("error", "RMSE") if regression else f"{words} (%)"
    return words


def fmt_error(value: float, regression: bool) -> str:
    """A final error for a table: per cent for a classifier, the RMSE for regression."""
    if value is None or not math.isfinite(value):
        return MISSING
    return fmt(value) if regression else f"{100.0 * value:.3g}%"


def style_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    """Title, axis labels, a faint grid and no context menu, as elsewhere in the app."""
    plot.setTitle(f"<span style='font-size:10pt;font-weight:600'>{title}</span>")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)


def positive_or_nan(values: np.ndarray) -> np.ndarray:
    """``values`` with non-positive and non-finite entries set to NaN (for a log axis)."""
    out = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out[~(out > 0.0) | ~np.isfinite(out)] = np.nan
    return out


class SortItem(QTableWidgetItem):
    """A table cell that sorts by a number (NaN and missing values last)."""

    def __init__(self, text: str, key: float) -> None:
        super().__init__(text)
        self.key = key if math.isfinite(key) else math.inf
        self.setFlags(self.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, SortItem):
            return self.key < other.key
        return super().__lt__(other)


class FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping onto new lines when the width runs out."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt API
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + 2, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()
