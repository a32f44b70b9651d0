"""What the optimizer is doing, layer by layer: update size, step size and its running averages.

The table shows, per layer, the update-to-weight ratio ``||W - W_prev|| / ||W||`` (log10) and
the median effective per-parameter step size the rule applies to a gradient; below it, histograms
of the optimizer's state (momentum buffer, first and second moments, ...) for the layer chosen in
the combo.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dlopt_core.train.optimizers import N_SLOTS, OPTIMIZERS

SGD_NOTE = "plain SGD keeps no state: the update is -lr * gradient"
RATIO_TIP = (
    "update-to-weight ratio ||W_new - W_old|| / ||W_old|| of the layer's weights, as log10.\n"
    "Rule of thumb: about 1e-3 (log10 = -3). Much smaller: the layer barely learns;\n"
    "much larger (above 1e-2): the steps are big compared with the weights, training may be\n"
    "unstable."
)
STEP_TIP = (
    "effective step size: the factor the rule multiplies a gradient component by, median over\n"
    "the layer's weights. SGD family: lr; AdaGrad / RMSProp / Adam family: lr / (sqrt(v) + eps)\n"
    "from the running averages (Adam: bias-corrected v); AdaDelta: lr sqrt(E[dx^2] + eps) /\n"
    "sqrt(E[g^2] + eps); Adamax: lr / u; Lion: lr (every weight moves by the rate)."
)
MAX_BINS = 40
_COLUMNS = ("layer", "shape", "log10 \u2016\u0394W\u2016/\u2016W\u2016", "step size (median)")
HINT = (
    "update/weight ratio: rule of thumb \u2248 1e-3 (log10 \u2248 \u22123); green near it, amber "
    "or red far from it. Step size: what one unit of gradient moves a weight by."
)


@dataclass(frozen=True)
class StateView:
    """One histogrammed quantity: its caption, slot and whether it is shown as log10."""

    caption: str
    slot: int
    log: bool


def state_views(name: str, hyper: Mapping[str, Any] | None) -> list[StateView]:
    """The running averages worth showing for optimizer ``name`` (``OptimizerInfo.slots``; empty
    for plain SGD)."""
    return [
        StateView(slot.meaning + (" (log10)" if slot.log else ""), slot.index, slot.log)
        for slot in OPTIMIZERS[name].slots_in_use(hyper)
    ]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


class _Histogram(QWidget):
    """A caption over a small pyqtgraph histogram whose items are created once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.caption = QLabel(self)  # one line, elided to the width; the whole in the tooltip
        self.caption.setMinimumWidth(1)
        self._caption = ""
        font = QFont(self.caption.font())
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.caption.setFont(font)
        layout.addWidget(self.caption)
        self.plot = pg.PlotWidget(self)
        self.plot.setMinimumSize(140, 100)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        tick_font = QFont(font)
        tick_font.setPointSizeF(font.pointSizeF() * 0.85)
        for side in ("left", "bottom"):
            item.getAxis(side).setStyle(tickFont=tick_font, tickLength=-4)
        item.getAxis("left").setWidth(34)
        fill = QColor(36, 110, 196, 150)
        self.curve = pg.PlotDataItem(
            [0.0, 1.0],
            [0.0],
            stepMode="center",
            fillLevel=0.0,
            fillOutline=True,
            brush=QBrush(fill),
            pen=pg.mkPen(QColor(28, 86, 160), width=1),
        )
        self.zero = pg.InfiniteLine(0.0, angle=90)
        self._apply_palette()
        item.addItem(self.curve)
        item.addItem(self.zero)
        layout.addWidget(self.plot, 1)
        self.edges = np.zeros(0)
        self.counts = np.zeros(0)

    def set_caption(self, text: str) -> None:
        """The caption over the plot: a wrapped second line would run into the plot, so a long
        one is elided (the whole of it is the tooltip)."""
        self._caption = text
        self.caption.setToolTip(text)
        self._elide_caption()

    def caption_text(self) -> str:
        return self._caption

    def _elide_caption(self) -> None:
        metrics = self.caption.fontMetrics()
        self.caption.setText(
            metrics.elidedText(
                self._caption, Qt.TextElideMode.ElideRight, max(self.width() - 2, 20)
            )
        )

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide_caption()

    def _apply_palette(self) -> None:
        """Background, axes and zero line in the widget palette's colours."""
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        faint = QColor(text)
        faint.setAlpha(110)
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(side)
            axis.setPen(pg.mkPen(faint))
            axis.setTextPen(pg.mkPen(text))
        self.zero.setPen(pg.mkPen(faint, style=Qt.PenStyle.DashLine))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def show_values(self, values: np.ndarray, log: bool) -> int:
        """Histogram ``values`` (log10 of the positive ones if ``log``); returns how many were
        left out (zeros on a log scale)."""
        left_out = 0
        if log:
            pos = values[values > 0.0]
            left_out = values.size - pos.size
            values = np.log10(pos)
        values = values[np.isfinite(values)]
        if values.size == 0:
            lo, hi = -1.0, 1.0
        elif log:
            lo, hi = float(values.min()), float(values.max())
        else:
            hi = float(np.abs(values).max())
            lo = -hi
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            half = 0.5 if log or hi == 0.0 else abs(hi) * 0.1
            lo, hi = lo - half, hi + half
        bins = int(np.clip(2.0 * math.sqrt(max(values.size, 1)), 8, MAX_BINS))
        # binned in units of the largest magnitude: hi - lo overflows for values near the float
        # limit (a diverging Adam's moments), and numpy then refuses to make the bins
        scale = max(abs(lo), abs(hi))
        counts, edges = np.histogram(values / scale, bins=bins, range=(lo / scale, hi / scale))
        edges = edges * scale
        self.edges, self.counts = edges, counts
        self.curve.setData(edges, counts.astype(np.float64))
        self.zero.setVisible(not log)
        item = self.plot.getPlotItem()
        item.setXRange(lo, hi, padding=0.02)
        item.setYRange(0.0, max(1.0, float(counts.max()) * 1.08), padding=0.0)
        return left_out


class OptimizerInspector(QWidget):
    """Per-layer update ratios and step sizes, and histograms of the optimizer's state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.title = QLabel(self)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        layout.addWidget(self.title)

        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.horizontalHeaderItem(2).setToolTip(RATIO_TIP)
        self.table.horizontalHeaderItem(3).setToolTip(STEP_TIP)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setToolTip(RATIO_TIP)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        self.hint = QLabel(HINT, self)
        self.hint.setWordWrap(True)
        small = QFont(self.hint.font())
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.hint.setFont(small)
        self._tint_hint()
        self.hint.setToolTip(RATIO_TIP)
        layout.addWidget(self.hint)

        row = QHBoxLayout()
        self.layer_label = QLabel("state of layer", self)
        self.layer_combo = QComboBox(self)
        self.layer_combo.setToolTip("Which layer's optimizer state the histograms show")
        self.layer_combo.currentIndexChanged.connect(self._refresh_histograms)
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_combo, 1)
        layout.addLayout(row)

        self.pages = QStackedWidget(self)
        plots_page = QWidget(self.pages)
        plots = QHBoxLayout(plots_page)
        plots.setContentsMargins(0, 0, 0, 0)
        plots.setSpacing(8)
        self.histograms = [_Histogram(plots_page), _Histogram(plots_page)]
        for hist in self.histograms:
            plots.addWidget(hist, 1)
        self.note = QLabel(SGD_NOTE, self.pages)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setMargin(12)
        self.pages.addWidget(plots_page)
        self.pages.addWidget(self.note)
        layout.addWidget(self.pages, 1)

        self._sizes: list[int] = []
        self._items: list[list[QTableWidgetItem]] = []
        self._ratios: list[float | None] = []
        self._steps: list[float | None] = []
        self._views: list[StateView] = []
        self._layers: list[tuple[int, int]] = []  # (n_in, n_out)
        self._slot_layers: list[list[np.ndarray]] | None = None  # [slot][layer] -> W-shaped view
        self._set_empty()

    # ---------------------------------------------------------------- public API
    def update_from(
        self,
        network: Any,
        optimizer_name: str,
        theta: np.ndarray,
        prev_theta: np.ndarray | None,
        slots: np.ndarray | None,
        lr: float,
        *,
        hyper: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Refresh from the current parameters, the previous ones and the optimizer state.

        ``network`` is a ``dlopt_core.train.network.Network``; ``slots`` the (N_SLOTS, n_params)
        state slots (an ``OptState`` is accepted too); ``hyper`` (``Optimizer.hyper``) and ``step``
        (``OptState.step_count``) refine the step sizes (eps, betas, bias correction).
        """
        if network.layer_sizes != self._sizes:
            self._set_layers(network.layer_sizes)
        slots = getattr(slots, "slots", slots)
        if slots is not None:
            slots = np.asarray(slots, dtype=np.float64).reshape(N_SLOTS, -1)
            self._slot_layers = [
                [W for W, _ in network.unflatten(slots[i])] for i in range(N_SLOTS)
            ]
        else:
            self._slot_layers = None
        lr = float(lr)
        info = OPTIMIZERS[optimizer_name]
        self.title.setText(f"{info.title}  \u00b7  lr = {lr:.3g}")
        weights = [W for W, _ in network.unflatten(theta)]
        prev = None if prev_theta is None else [W for W, _ in network.unflatten(prev_theta)]
        self._ratios, self._steps = [], []
        for k, w in enumerate(weights):
            ratio = None
            if prev is not None:
                norm = float(np.linalg.norm(w))
                delta = float(np.linalg.norm(w - prev[k]))
                ratio = delta / norm if norm > 0.0 else None
            step_size = None
            layer_slots = (
                [self._slot_layers[i][k] for i in range(N_SLOTS)]
                if self._slot_layers is not None
                else [np.zeros_like(w)] * N_SLOTS
            )
            eff = info.step_size(lr, layer_slots, hyper, step)
            if eff is not None:
                finite = eff[np.isfinite(eff)]
                step_size = float(np.median(finite)) if finite.size else None
                self._set_step_tip(k, finite)
            self._ratios.append(ratio)
            self._steps.append(step_size)
            self._show_row(k, ratio, step_size)
        self._views = state_views(optimizer_name, hyper)
        stateless = not self._views
        self.pages.setCurrentWidget(self.note if stateless else self.pages.widget(0))
        for widget in (self.layer_label, self.layer_combo):
            widget.setVisible(not stateless)
        self._refresh_histograms()

    def note_shown(self) -> bool:
        """Whether the optimizer keeps no state and the plain-SGD note replaces the plots."""
        return self.pages.currentWidget() is self.note

    def ratios(self) -> list[float | None]:
        """Last update-to-weight ratios per layer (None where undefined)."""
        return list(self._ratios)

    def step_sizes(self) -> list[float | None]:
        """Last median effective step sizes per layer (None where undefined)."""
        return list(self._steps)

    def histogram(self, index: int) -> tuple[str, np.ndarray, np.ndarray] | None:
        """``(caption, bin edges, counts)`` of histogram ``index`` if it is shown, else None."""
        if index >= len(self._views):
            return None
        hist = self.histograms[index]
        return hist.caption_text(), hist.edges, hist.counts

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(300, 320)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(380, 420)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.PaletteChange:
            self._tint_hint()
        super().changeEvent(event)

    # ---------------------------------------------------------------- internals
    def _tint_hint(self) -> None:
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText).getRgbF()[:3]
        window = pal.color(QPalette.ColorRole.Window).getRgbF()[:3]
        muted = QColor.fromRgbF(*(a + (b - a) * 0.4 for a, b in zip(text, window, strict=True)))
        hint_pal = self.hint.palette()
        hint_pal.setColor(QPalette.ColorRole.WindowText, muted)
        self.hint.setPalette(hint_pal)

    def _set_empty(self) -> None:
        self.title.setText("optimizer state")
        for hist in self.histograms:
            hist.setVisible(False)

    def _set_layers(self, sizes: list[int]) -> None:
        self._sizes = list(sizes)
        self._layers = [(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        n = len(self._layers)
        self.table.setRowCount(n)
        self._items = []
        names = ["input"] + [f"hidden {k}" for k in range(1, n)] + ["output"]
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for k, (n_in, n_out) in enumerate(self._layers):
            cells = [
                QTableWidgetItem(f"{k + 1}"),
                QTableWidgetItem(f"{n_in}\u2192{n_out}"),
                QTableWidgetItem("\u2014"),
                QTableWidgetItem("\u2014"),
            ]
            cells[0].setToolTip(f"weights from {names[k]} to {names[k + 1]}")
            for col, cell in enumerate(cells):
                if col >= 2:
                    cell.setTextAlignment(align)
                self.table.setItem(k, col, cell)
            cells[2].setToolTip(RATIO_TIP)
            self._items.append(cells)
        height = self.table.horizontalHeader().height() + 4
        height += sum(self.table.rowHeight(k) for k in range(n))
        self.table.setFixedHeight(
            min(
                height,
                8 * self.table.verticalHeader().defaultSectionSize()
                + self.table.horizontalHeader().height()
                + 4,
            )
        )
        current = self.layer_combo.currentIndex()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for k, (n_in, n_out) in enumerate(self._layers):
            label = f"{k + 1}: {names[k]} \u2192 {names[k + 1]} ({n_in}\u00d7{n_out})"
            self.layer_combo.addItem(label)
        self.layer_combo.setCurrentIndex(min(max(current, 0), n - 1))
        self.layer_combo.blockSignals(False)

    def _show_row(self, k: int, ratio: float | None, step_size: float | None) -> None:
        cells = self._items[k]
        if ratio is None:
            text, color = "\u2014", None
        elif ratio == 0.0:
            text, color = "no change", None
        else:
            lg = math.log10(ratio)
            text = f"{lg:.2f}"
            color = _ratio_color(lg)
        if cells[2].text() != text:
            cells[2].setText(text)
        cells[2].setBackground(QBrush(color) if color is not None else QBrush())
        step_text = "\u2014" if step_size is None else _fmt(step_size)
        if cells[3].text() != step_text:
            cells[3].setText(step_text)

    def _set_step_tip(self, k: int, eff: np.ndarray) -> None:
        if eff.size == 0 or not self._items:
            return
        lo, mid, hi = np.percentile(eff, [10.0, 50.0, 90.0])
        self._items[k][3].setToolTip(
            f"median {_fmt(mid)}; 10% to 90% of the weights: {_fmt(lo)} to {_fmt(hi)}\n{STEP_TIP}"
        )

    def _refresh_histograms(self) -> None:
        k = self.layer_combo.currentIndex()
        ok = self._slot_layers is not None and 0 <= k < len(self._layers)
        shown = self._views if ok else []
        for idx, hist in enumerate(self.histograms):
            if idx >= len(shown):
                hist.setVisible(False)
                continue
            view = shown[idx]
            values = self._slot_layers[view.slot][k].ravel()
            left_out = hist.show_values(values, view.log)
            caption = view.caption
            if left_out:
                caption += f" ({left_out} zeros left out)"
            hist.set_caption(caption)
            hist.setVisible(True)


def _ratio_color(log_ratio: float) -> QColor:
    """Green near the 1e-3 rule of thumb, amber when far from it, red when far too large."""
    off = log_ratio + 3.0
    if off > 1.0:
        return QColor(231, 76, 60, 90) if off > 2.0 else QColor(243, 156, 18, 90)
    if off < -1.0:
        return QColor(243, 156, 18, 70) if off > -2.0 else QColor(149, 165, 166, 80)
    return QColor(46, 204, 113, 80)
