"""The Race's configuration editor: one table row of widgets per optimizer configuration.

:class:`ConfigEditor` shows up to eight ``RaceConfig`` s (optimizer, learning rate, momentum or
beta1, weight decay, schedule), keeps them in step with its widgets and says ``changed`` when the
user edits one; the Race view (``app.compare.race``) adds, removes and runs them.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.compare.common import MISSING, color
from app.compare.configs import SCHEDULE_HELP, RaceConfig, second_kind
from app.widgets.controls import SciSpinBox
from app.widgets.layout import swatch_icon
from dlopt_core.studies import compare
from dlopt_core.train.optimizers import OPTIMIZERS
from dlopt_core.train.schedules import SCHEDULES

EDIT_COLUMNS = (
    ("", "the colour of this configuration in the plots"),
    ("Optimizer", "the update rule"),
    ("Learning rate", "the step size (arrows halve or double it)"),
    (
        "\u03bc / \u03b21",
        "momentum (SGD + momentum, Nesterov, RMSProp) or beta1, the decay of "
        "the gradient average (Adam family); none for the others",
    ),
    ("Decay", "weight decay: L2 decay added to the gradient (decoupled for AdamW)"),
    ("Schedule", "how the rate changes over the run (scaled to the run length)"),
)


class ConfigEditor(QWidget):
    """A table of race configurations with one row of widgets each."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._configs: list[RaceConfig] = []
        self.table = QTableWidget(0, len(EDIT_COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in EDIT_COLUMNS])
        for i, (_, tip) in enumerate(EDIT_COLUMNS):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setToolTip("The configurations to race; select a row to remove it")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for i, width in enumerate((24, 156, 92, 66, 66)):
            self.table.setColumnWidth(i, width)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setMinimumHeight(3 * 28 + 34)
        self.table.setMaximumHeight(compare.MAX_RACE * 28 + 34)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)

    def configs(self) -> list[RaceConfig]:
        return list(self._configs)

    def set_configs(self, configs: list[RaceConfig]) -> None:
        self._configs = list(configs)[: compare.MAX_RACE]
        self.table.setRowCount(len(self._configs))
        for row in range(len(self._configs)):
            self._fill_row(row)
        self.changed.emit()

    def add(self, config: RaceConfig) -> bool:
        if len(self._configs) >= compare.MAX_RACE:
            return False
        self._configs.append(config)
        self.table.setRowCount(len(self._configs))
        self._fill_row(len(self._configs) - 1)
        self.changed.emit()
        return True

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        row = rows[0] if rows else len(self._configs) - 1
        if 0 <= row < len(self._configs):
            del self._configs[row]
            self.set_configs(self._configs)

    def _fill_row(self, row: int) -> None:
        cfg = self._configs[row]
        chip = QTableWidgetItem()
        chip.setIcon(swatch_icon(color(row)))
        chip.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        chip.setToolTip("Colour of this configuration in the plots")
        self.table.setItem(row, 0, chip)

        opt = QComboBox()
        for name, info in OPTIMIZERS.items():
            opt.addItem(info.title, name)
            opt.setItemData(opt.count() - 1, info.summary, Qt.ItemDataRole.ToolTipRole)
        opt.setCurrentIndex(opt.findData(cfg.optimizer))
        opt.setToolTip(f"{OPTIMIZERS[cfg.optimizer].title}: {OPTIMIZERS[cfg.optimizer].summary}")
        opt.currentIndexChanged.connect(
            lambda _i, r=row, w=opt: self._set(
                r, self._configs[r].with_optimizer(w.currentData()), refill=True
            )
        )
        self.table.setCellWidget(row, 1, opt)

        lr = SciSpinBox(1e-7, 1000.0, cfg.lr, log_step=True, factor=2.0, digits=6)
        lr.setToolTip("Learning rate (type a number such as 3e-3; the arrows halve or double it)")
        lr.valueChanged.connect(lambda v, r=row: self._set(r, replace(self._configs[r], lr=v)))
        self.table.setCellWidget(row, 2, lr)

        kind = second_kind(cfg.optimizer)
        if kind is None:
            none = QLabel(MISSING)
            none.setAlignment(Qt.AlignmentFlag.AlignCenter)
            none.setToolTip(f"{OPTIMIZERS[cfg.optimizer].title} has neither momentum nor beta1")
            self.table.setCellWidget(row, 3, none)
        else:
            sec = QDoubleSpinBox()
            sec.setDecimals(3)
            sec.setRange(0.0, 0.999)
            sec.setSingleStep(0.05)
            sec.setValue(cfg.second or 0.0)
            sec.setKeyboardTracking(False)
            sec.setToolTip(
                "momentum: fraction of the previous update kept"
                if kind == "momentum"
                else "beta1: decay rate of the running average of the gradient"
            )
            sec.valueChanged.connect(
                lambda v, r=row: self._set(r, replace(self._configs[r], second=v))
            )
            self.table.setCellWidget(row, 3, sec)

        has_wd = any(p.name == "weight_decay" for p in OPTIMIZERS[cfg.optimizer].params)
        wd = SciSpinBox(0.0, 10.0, max(cfg.weight_decay, 0.0), log_step=True, factor=2.0, digits=6)
        wd.setEnabled(has_wd)
        wd.setToolTip(
            "weight decay: coupled L2 (adds wd * theta to the gradient); AdamW: "
            "decoupled (theta shrinks by lr * wd each step); 0 for none; the "
            "arrows halve or double it, from 0 up to 1e-4"
        )
        wd.valueChanged.connect(
            lambda v, r=row: self._set(r, replace(self._configs[r], weight_decay=v))
        )
        self.table.setCellWidget(row, 4, wd)

        sched = QComboBox()
        for name, info in SCHEDULES.items():
            sched.addItem(info.title, name)
            sched.setItemData(sched.count() - 1, SCHEDULE_HELP[name], Qt.ItemDataRole.ToolTipRole)
        sched.setCurrentIndex(sched.findData(cfg.schedule))
        sched.setToolTip(
            "Learning-rate schedule, scaled to the run length: " + SCHEDULE_HELP[cfg.schedule]
        )
        sched.currentIndexChanged.connect(
            lambda _i, r=row, w=sched: self._set(
                r, replace(self._configs[r], schedule=w.currentData()), refill=True
            )
        )
        self.table.setCellWidget(row, 5, sched)

    def _set(self, row: int, cfg: RaceConfig, refill: bool = False) -> None:
        if not 0 <= row < len(self._configs):
            return
        self._configs[row] = cfg
        if refill:
            self._fill_row(row)
        self.changed.emit()
