"""Optimizer panel: the rule, its hyper-parameters, the learning rate and its schedule."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.widgets.controls import LogSlider, SciSpinBox
from dlopt_core.train.optimizers import OPTIMIZERS, HyperSpec, Optimizer, make_optimizer
from dlopt_core.train.schedules import SCHEDULES, Schedule, make_schedule

LR_RANGE = (1e-5, 10.0)  # the slider's; the box takes every rate the core allows (LR_BOX)
LR_BOX = (1e-12, OPTIMIZERS["sgd"].params[0].high)
SCHEDULE_LABELS = {
    "step_size": "Step size",
    "gamma": "\u03b3 (gamma)",
    "k": "k",
    "T_max": "Length T",
    "eta_min": "Final rate",
    "warmup": "Warm-up steps",
    "total_steps": "Cycle length",
    "pct_start": "Rising share",
    "div_factor": "Start divisor",
    "final_div_factor": "Final divisor",
}


def tooltip(help_text: str, default: Any) -> str:
    """ "meaning (default X)", the tooltip of every hyper-parameter."""
    if isinstance(default, tuple):
        shown = ", ".join(f"{v:g}" for v in default)
    elif isinstance(default, bool):
        shown = "on" if default else "off"
    elif isinstance(default, float | int):
        shown = f"{default:g}"
    else:
        shown = str(default)
    return f"{help_text} (default {shown})"


def _spin_for(
    low: float, high: float, value: float, high_open: bool = False, log_step: float = 0.0
) -> SciSpinBox:
    """A number box for ``[low, high]``; ``log_step`` > 0: stepped by factors from that value."""
    top = 1e6 if math.isinf(high) else (high - 1e-6 if high_open else high)
    if log_step > 0.0:
        spin = SciSpinBox(low, top, value, log_step=True, digits=6, first_step=log_step)
    else:
        spin = SciSpinBox(low, top, value, digits=6)
        span = top - low
        spin.setSingleStep(0.01 if span <= 1.0 else (1.0 if span <= 1e3 else 100.0))
    return spin


class OptimizerPanel(QGroupBox):
    """Choose an optimizer and set its values; emits ``optimizerChanged``/``scheduleChanged``."""

    optimizerChanged = Signal()
    scheduleChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Optimizer", parent)
        self.combo = QComboBox()
        for i, info in enumerate(OPTIMIZERS.values()):
            self.combo.addItem(info.title, info.name)
            self.combo.setItemData(i, info.summary, Qt.ItemDataRole.ToolTipRole)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #666; font-size: 8.5pt;")
        self.lr = LogSlider(*LR_RANGE, 0.01, box_range=LR_BOX)
        self.hyper_box = QWidget()
        self.hyper_form = QFormLayout(self.hyper_box)
        self.hyper_form.setContentsMargins(0, 0, 0, 0)
        self.hyper_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._hyper_widgets: dict[str, tuple[HyperSpec, Any]] = {}

        self.schedule = QComboBox()
        for i, info in enumerate(SCHEDULES.values()):
            self.schedule.addItem(info.title, info.name)
            self.schedule.setItemData(
                i, f"learning-rate schedule: {info.title.lower()}", Qt.ItemDataRole.ToolTipRole
            )
        self.schedule.setToolTip("How the learning rate changes with the step count")
        self.sched_box = QWidget()
        self.sched_form = QFormLayout(self.sched_box)
        self.sched_form.setContentsMargins(0, 0, 0, 0)
        self._sched_widgets: dict[str, SciSpinBox] = {}

        top = QFormLayout()
        top.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        top.addRow("Rule", self.combo)
        top.addRow(self.summary)
        top.addRow("Learning rate", self.lr)
        sched = QFormLayout()
        sched.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        sched.addRow("Schedule", self.schedule)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.hyper_box)
        lay.addLayout(sched)
        lay.addWidget(self.sched_box)

        self.combo.currentIndexChanged.connect(self._optimizer_selected)
        self.lr.valueChanged.connect(self.optimizerChanged)
        self.schedule.currentIndexChanged.connect(self._schedule_selected)
        self.set_optimizer(make_optimizer("adam", lr=0.01))
        self.set_schedule(make_schedule("constant"))

    # -- optimizer --------------------------------------------------------------------------------
    def optimizer(self) -> Optimizer:
        """The optimizer the panel shows (``ValueError`` if a value is out of range)."""
        name = self.combo.currentData()
        values: dict[str, Any] = {"lr": self.lr.value()}
        for key, (spec, widget) in self._hyper_widgets.items():
            if spec.kind == "bool":
                values[key] = widget.isChecked()
            elif spec.kind == "betas":
                values[key] = (float(widget[0].value()), float(widget[1].value()))
            else:
                values[key] = float(widget.value())
        return make_optimizer(name, **values)

    def set_optimizer(self, opt: Optimizer) -> None:
        """Show ``opt`` without emitting signals."""
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(opt.name)))
        self.combo.blockSignals(False)
        self._build_hyper_form(opt.name, dict(opt.hyper))
        self.lr.setValue(opt.lr)

    def _optimizer_selected(self) -> None:
        name = self.combo.currentData()
        lr = self.lr.value()  # the chosen rate carries over; the rest takes the defaults
        self._build_hyper_form(name, {})
        self.lr.setValue(lr)
        self.optimizerChanged.emit()

    def _build_hyper_form(self, name: str, values: dict[str, Any]) -> None:
        info = OPTIMIZERS[name]
        self.summary.setText(info.summary)
        self.combo.setToolTip(info.summary)
        while self.hyper_form.rowCount():
            self.hyper_form.removeRow(0)
        self._hyper_widgets.clear()
        for spec in info.params:
            value = values.get(spec.name, spec.default)
            tip = tooltip(spec.help, spec.default)
            if spec.name == "lr":
                self.lr.setToolTip(tip + "; the slider is logarithmic")
                continue
            if spec.kind == "bool":
                widget: Any = QCheckBox(spec.label or spec.name)
                widget.setChecked(bool(value))
                widget.toggled.connect(self.optimizerChanged)
                widget.setToolTip(tip)
                self.hyper_form.addRow("", widget)
            elif spec.kind == "betas":
                pair = (
                    _spin_for(spec.low, spec.high, float(value[0]), spec.high_open),
                    _spin_for(spec.low, spec.high, float(value[1]), spec.high_open),
                )
                pair[1].setSingleStep(0.001)
                for i, spin in enumerate(pair):
                    tip_i = f"{tip}; {spec.part_help[i]}" if spec.part_help else tip
                    spin.setToolTip(tip_i)
                    spin.valueChanged.connect(self.optimizerChanged)
                    label = QLabel(("\u03b2\u2081 (beta1)", "\u03b2\u2082 (beta2)")[i])
                    label.setToolTip(tip_i)
                    self.hyper_form.addRow(label, spin)
                widget = pair
            else:
                widget = _spin_for(spec.low, spec.high, float(value), spec.high_open, spec.log_step)
                widget.setToolTip(tip)
                widget.valueChanged.connect(self.optimizerChanged)
                label = QLabel(spec.label or spec.name)
                label.setToolTip(tip)
                self.hyper_form.addRow(label, widget)
            self._hyper_widgets[spec.name] = (spec, widget)

    # -- schedule ---------------------------------------------------------------------------------
    def schedule_value(self) -> Schedule:
        name = self.schedule.currentData()
        params = {k: float(w.value()) for k, w in self._sched_widgets.items()}
        return make_schedule(name, **params)

    def set_schedule(self, sched: Schedule) -> None:
        """Show ``sched`` without emitting signals."""
        self.schedule.blockSignals(True)
        self.schedule.setCurrentIndex(max(0, self.schedule.findData(sched.name)))
        self.schedule.blockSignals(False)
        self._build_schedule_form(sched.name, dict(sched.params))

    def _schedule_selected(self) -> None:
        self._build_schedule_form(self.schedule.currentData(), {})
        self.scheduleChanged.emit()

    def _build_schedule_form(self, name: str, values: dict[str, float]) -> None:
        while self.sched_form.rowCount():
            self.sched_form.removeRow(0)
        self._sched_widgets.clear()
        for pname, default, low, high, help_text in SCHEDULES[name].params:
            spin = _spin_for(low, high, values.get(pname, default))
            if high > 100.0:
                spin.setSingleStep(10.0 if high <= 1e6 else 100.0)
            tip = tooltip(help_text, default)
            spin.setToolTip(tip)
            spin.valueChanged.connect(self.scheduleChanged)
            label = QLabel(SCHEDULE_LABELS.get(pname, pname))
            label.setToolTip(tip)
            self.sched_form.addRow(label, spin)
            self._sched_widgets[pname] = spin
        self.sched_box.setVisible(bool(SCHEDULES[name].params))
