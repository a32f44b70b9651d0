"""The live comparison of the "What is optimization?" lesson: grid search, random search and
gradient descent counting the evaluations they need to get within a tolerance of a minimum,
as a table and as a log-log plot of the best value found against evaluations.

A comparison evaluates up to a million points (a tenth of a second to a second, more while the
Playground trains), so it runs in a thread of its own (``app.threads.WorkerThread``): the lesson
shows at once, and the table and plot follow when the newest request has been computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import color
from app.plots import log_plot_widget
from app.threads import Report, WorkerThread
from dlopt_core.course.lessons import (
    SEARCH_FUNCTIONS,
    SearchComparison,
    SearchResult,
    search_comparison,
)

LESSON_ID = "what_is_optimization"
TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
DEFAULT_TOLERANCE = 1e-3
FUNCTION_LABELS = {"booth": "Booth", "bowl": "Elongated bowl", "himmelblau": "Himmelblau"}
COLUMNS = ("Method", "Evaluations", "Reached", "Best f found")
GAP_FLOOR = 1e-12  # a gap of exactly 0 (a point on the minimum) is drawn here on the log axis
TOLERANCE_COLOR = QColor(90, 90, 90)


@dataclass(frozen=True)
class SearchRequest:
    """One comparison: the function, the tolerance and random search's seed."""

    function: str
    tol: float
    seed: int


def _compare(
    request: SearchRequest, _report: Report, _cancelled: Callable[[], bool]
) -> SearchComparison:
    return search_comparison(request.function, request.tol, request.seed)


def staircase(result: SearchResult) -> tuple[np.ndarray, np.ndarray]:
    """The best gap f - f* as a step curve: it holds from one improvement to the next."""
    ev = result.trace_evals.astype(float)
    gap = np.maximum(result.trace_gap, GAP_FLOOR)
    if len(ev) < 2:
        return ev, gap
    x = np.repeat(ev, 2)[1:]
    y = np.repeat(gap, 2)[:-1]
    return x, y


class SearchComparisonPanel(QGroupBox):
    """Controls (function, tolerance, "Run again"), the table, the plot and how it counts."""

    compared = Signal(object)  # SearchComparison

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Live comparison: how many evaluations does each method need?", parent)
        self.seed = 0
        self.comparison: SearchComparison | None = None
        self.runner = WorkerThread(_compare, "dlopt-search", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)

        self.function_box = QComboBox()
        for name in SEARCH_FUNCTIONS:
            self.function_box.addItem(FUNCTION_LABELS.get(name, name.title()), name)
        self.function_box.setToolTip("The 2-D function to minimise")
        self.tolerance_box = QComboBox()
        for tol in TOLERANCES:
            self.tolerance_box.addItem(f"{tol:g}", tol)
        self.tolerance_box.setCurrentIndex(TOLERANCES.index(DEFAULT_TOLERANCE))
        self.tolerance_box.setToolTip(
            "A method succeeds once it finds a point whose value is "
            "within this tolerance of the minimum value"
        )
        self.again_button = QPushButton("Run again (new seed)")
        self.again_button.setToolTip("Repeat with a new seed for random search")
        self.seed_label = QLabel()

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Function:"))
        controls.addWidget(self.function_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Tolerance:"))
        controls.addWidget(self.tolerance_box)
        controls.addSpacing(12)
        controls.addWidget(self.again_button)
        controls.addWidget(self.seed_label)
        controls.addStretch(1)

        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.plot = self._make_plot()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        small = self.note_label.font()
        small.setPointSizeF(max(8.0, small.pointSizeF() - 0.5))
        self.note_label.setFont(small)
        self.note_label.setStyleSheet("color: palette(placeholder-text);")

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.title_label)
        results_row = QHBoxLayout()
        results_row.addWidget(self.table, 2, Qt.AlignmentFlag.AlignTop)
        results_row.addWidget(self.plot, 3)
        layout.addLayout(results_row)
        layout.addWidget(self.note_label)

        self.function_box.currentIndexChanged.connect(lambda _i: self.run())
        self.tolerance_box.currentIndexChanged.connect(lambda _i: self.run())
        self.again_button.clicked.connect(self.run_again)
        self.run()

    # -- API ---------------------------------------------------------------------------------------
    @property
    def function_name(self) -> str:
        return str(self.function_box.currentData())

    @property
    def tolerance(self) -> float:
        return float(self.tolerance_box.currentData())

    def set_tolerance(self, tol: float) -> None:
        """Choose one of ``TOLERANCES`` (the table is recomputed)."""
        self.tolerance_box.setCurrentIndex(TOLERANCES.index(tol))

    def run_again(self) -> None:
        """Repeat with the next seed for random search."""
        self.seed += 1
        self.run()

    def run(self) -> SearchRequest:
        """Ask for the comparison of the chosen function, tolerance and seed; it is computed in
        the panel's thread and shown (``compared`` emitted) when it arrives."""
        request = SearchRequest(self.function_name, self.tolerance, self.seed)
        self.runner.submit(request)
        self.seed_label.setText(f"random-search seed {self.seed} \u00b7 computing\u2026")
        return request

    @property
    def busy(self) -> bool:
        """Whether the newest request is still being computed."""
        return self.runner.busy

    def shutdown(self) -> bool:
        """End the panel's thread (after the comparison under way); whether it ended in time."""
        return self.runner.stop()

    def _on_finished(self, request: SearchRequest, comparison: SearchComparison) -> None:
        self.comparison = comparison
        self.seed_label.setText(f"random-search seed {request.seed}")
        self._show(comparison)
        self.compared.emit(comparison)

    def _on_failed(self, request: SearchRequest, message: str) -> None:
        self.seed_label.setText(f"random-search seed {request.seed}")
        self.note_label.setText(f"The comparison could not be computed: {message}")

    def curve_data(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """The plotted step curve of ``method`` ("grid", "random", "gradient"), in data units."""
        x, y = self.curves[method].getData()
        return 10.0 ** np.asarray(x), 10.0 ** np.asarray(y)  # the plot stores log10 in log mode

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table's text, row by row (for tests and copying)."""
        return [
            tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
            for r in range(self.table.rowCount())
        ]

    # -- display -----------------------------------------------------------------------------------
    def _make_plot(self) -> pg.PlotWidget:
        plot = log_plot_widget()
        item = plot.getPlotItem()
        item.setLogMode(True, True)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLabel("bottom", "function evaluations")
        item.setLabel("left", "best f \u2212 f*")
        item.setMenuEnabled(False)
        item.hideButtons()
        plot.setFixedHeight(230)
        plot.setToolTip(
            "The best value found so far above the minimum value, against the "
            "evaluations spent (both axes logarithmic). A method is done where its "
            "curve first drops below the dashed tolerance line; a dot marks it."
        )
        legend = item.addLegend(offset=(-6, 6), labelTextSize="8pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 215))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.done_marks: dict[str, pg.PlotDataItem] = {}
        for i, (method, label) in enumerate(
            (("grid", "Grid search"), ("random", "Random search"), ("gradient", "Gradient descent"))
        ):
            c = color(i)
            self.curves[method] = item.plot(pen=pg.mkPen(c, width=2), name=label)
            self.done_marks[method] = item.plot(
                pen=None,
                symbol="o",
                symbolSize=9,
                symbolPen=pg.mkPen("w", width=1),
                symbolBrush=pg.mkBrush(c),
            )
        self.tolerance_line = item.plot(
            pen=pg.mkPen(TOLERANCE_COLOR, width=1.5, style=Qt.PenStyle.DashLine), name="tolerance"
        )
        return plot

    def _show_plot(self, comparison: SearchComparison) -> None:
        right = 1.0
        for result in comparison.results:
            x, y = staircase(result)
            self.curves[result.method].setData(x, y)
            mark = self.done_marks[result.method]
            if result.reached and len(x):
                mark.setData([x[-1]], [y[-1]])
            else:
                mark.setData([], [])
            if len(x):
                right = max(right, float(x[-1]))
        # the line spans the whole axis; in log mode the item takes data units like the curves
        self.tolerance_line.setData([1.0, right * 1.5], [comparison.tol, comparison.tol])
        self.plot.getPlotItem().enableAutoRange()

    def _show(self, comparison: SearchComparison) -> None:
        self.title_label.setText(
            f"<b>{comparison.title}</b> — stop within {comparison.tol:g} of the minimum value."
        )
        self.note_label.setText(comparison.note)
        results = comparison.results
        reached = [r.evaluations for r in results if r.reached]
        fewest = min(reached) if reached else None
        self.table.setRowCount(len(results))
        for row, result in enumerate(results):
            evals = f"{result.evaluations:,}" if result.reached else f"> {result.evaluations:,}"
            cells = (
                result.label,
                evals,
                "yes" if result.reached else "no (budget used up)",
                f"{result.best_value:.3g}",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    align = (
                        Qt.AlignmentFlag.AlignHCenter if col == 2 else Qt.AlignmentFlag.AlignRight
                    )
                    item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if result.reached and result.evaluations == fewest:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(height)
        self._show_plot(comparison)
