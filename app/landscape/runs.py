"""Runs on a 2-D test function: which optimizers race, with what settings, and their paths.

A ``RunSpec`` is one path to draw: an optimizer and its hyper-parameters, and optional clipping,
noise and schedule of its own (a challenge's runs have them; the free choice uses the shared
settings). ``RunList`` is the control column's editable list of runs: one row per run with a
check box, the learning rate and the optimizer's main hyper-parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QLabel, QWidget

from app.landscape.common import PALETTE, color_of
from app.widgets.controls import SciSpinBox
from app.widgets.layout import swatch_label
from dlopt_core.studies import landscape as ls
from dlopt_core.train.optimizers import OPTIMIZERS, make_optimizer
from dlopt_core.train.schedules import make_schedule

SHORT_NAMES = {"sgd": "GD", "momentum": "Momentum"}
GRADIENT_RULES = ("sgd",)
LABEL_PX = 104  # longer run labels are elided in the list (the legend shows them in full)
MOMENTUM_RULES = ("momentum", "nesterov")

# Learning rates that make each function's character visible in a few hundred steps:
# (plain gradient descent, momentum rules, adaptive rules). The quadratic's GD rate is 1 / kappa.
SUGGESTED_LR: dict[str, tuple[float, float, float]] = {
    "quadratic": (0.1, 0.03, 0.05),
    "rosenbrock": (0.001, 0.001, 0.1),
    "beale": (0.01, 0.003, 0.1),
    "himmelblau": (0.01, 0.003, 0.05),
    "booth": (0.03, 0.01, 0.3),
    "saddle": (0.02, 0.005, 0.02),
    "monkey_saddle": (0.001, 0.0003, 0.01),
    "cliff": (0.1, 0.01, 0.1),
    "plateau": (0.5, 0.1, 0.1),
    "rastrigin": (0.003, 0.001, 0.05),
    "six_hump_camel": (0.01, 0.01, 0.05),
}


def suggested_lr(function: str, optimizer: str, kappa: float = 10.0) -> float:
    """A learning rate for ``optimizer`` that works on ``function`` (see ``SUGGESTED_LR``)."""
    gd, mom, adaptive = SUGGESTED_LR.get(function, (0.01, 0.003, 0.05))
    if function == "quadratic":
        gd = float(f"{1.0 / max(kappa, 1.0):.3g}")
        mom = float(f"{gd / 10.0:.3g}")  # momentum 0.9 multiplies the step by about 10
    if optimizer in GRADIENT_RULES:
        return gd
    if optimizer in MOMENTUM_RULES:
        return mom
    if optimizer == "adagrad":
        return float(f"{min(5.0 * adaptive, 1.0):.3g}")
    if optimizer == "adadelta":
        return 1.0
    return adaptive


@dataclass(frozen=True)
class RunSpec:
    """One path: optimizer and hyper-parameters, and clipping, noise and schedule of its own
    (None: the shared setting)."""

    label: str
    optimizer: str
    hyper: Mapping[str, Any]
    color: QColor
    clip_norm: float | None = None
    noise: float | None = None
    schedule: tuple[str, Mapping[str, float]] | None = None


@dataclass(frozen=True)
class RunResult:
    """A run's trajectory (None when its settings were refused: ``error`` says why)."""

    spec: RunSpec
    trajectory: ls.Trajectory | None
    error: str = ""
    distances: np.ndarray = field(default_factory=lambda: np.empty(0))


def run_all(
    fn: ls.TestFunction,
    specs: Sequence[RunSpec],
    start: tuple[float, float],
    steps: int,
    clip_norm: float,
    noise: float,
    seed: int,
) -> list[RunResult]:
    """Every run's trajectory from ``start``; a refused setting becomes an error, not a crash."""
    targets = np.array(fn.minima or ((0.0, 0.0),), dtype=np.float64)
    out = []
    for spec in specs:
        try:
            schedule = None
            if spec.schedule is not None:
                name, params = spec.schedule
                schedule = make_schedule(name, **params)
            traj = ls.trajectory(
                fn,
                make_optimizer(spec.optimizer, **spec.hyper),
                start,
                steps,
                clip_norm=clip_norm if spec.clip_norm is None else spec.clip_norm,
                noise=noise if spec.noise is None else spec.noise,
                seed=seed,
                schedule=schedule,
            )
        except ValueError as exc:
            out.append(RunResult(spec, None, str(exc)))
            continue
        diff = traj.path[:, None, :] - targets[None, :, :]
        dist = np.min(np.hypot(diff[..., 0], diff[..., 1]), axis=1)
        out.append(RunResult(spec, traj, "", dist))
    return out


def run_note(
    clip_norm: float | None, noise: float | None, schedule: tuple[str, Mapping[str, float]] | None
) -> str:
    """What a run sets for itself, in words (for its tooltip)."""
    parts = []
    if clip_norm is not None:
        parts.append(f"gradient clipped at norm {clip_norm:g}" if clip_norm else "no clipping")
    if noise is not None:
        parts.append(f"gradient noise {noise:g}")
    if schedule is not None:
        name, params = schedule
        args = ", ".join(f"{k} = {v:g}" for k, v in params.items())
        parts.append(f"schedule {name}" + (f" ({args})" if args else ""))
    return "; ".join(parts)


class RunRow(QObject):
    """The widgets of one run in a ``RunList`` grid: check box, lr and main hyper-parameter."""

    changed = Signal()

    def __init__(
        self,
        label: str,
        optimizer: str,
        hyper: Mapping[str, Any],
        color: QColor,
        checked: bool = True,
        note: str = "",
        clip_norm: float | None = None,
        noise: float | None = None,
        schedule: tuple[str, Mapping[str, float]] | None = None,
    ) -> None:
        super().__init__()
        info = OPTIMIZERS[optimizer]
        self.optimizer = optimizer
        self.color = QColor(color)
        self.clip_norm, self.noise, self.schedule = clip_norm, noise, schedule
        self.extra = {k: v for k, v in hyper.items() if k not in ("lr",)}
        self.swatch = swatch_label(color)
        self.full_label = label
        self.check = QCheckBox(label)
        metrics = self.check.fontMetrics()
        self.check.setText(metrics.elidedText(label, Qt.TextElideMode.ElideRight, LABEL_PX))
        self.check.setChecked(checked)
        tip = f"{label}\n{info.title}: {info.summary}"
        if note:
            tip += f"\nThis run: {note}"
        self.check.setToolTip(tip + "\nTick to race this optimizer on the map.")
        default_lr = next(s.default for s in info.params if s.name == "lr")
        self.lr = SciSpinBox(
            1e-6,
            100.0,
            float(hyper.get("lr", default_lr)),
            log_step=True,
            steps_per_decade=10,
            digits=3,
            first_step=1e-6,
        )
        self.lr.setFixedWidth(76)
        self.lr.setToolTip(
            f"learning rate of {label}: the step size (arrows step by a factor of 1.26)"
        )
        self.hyper_key = ""
        self.hyper_label = QLabel("")
        self.hyper_spin = QDoubleSpinBox()
        self.hyper_spin.setDecimals(4)
        self.hyper_spin.setSingleStep(0.01)
        self.hyper_spin.setKeyboardTracking(False)
        self.hyper_spin.setFixedWidth(70)
        main = OPTIMIZERS[optimizer].main
        if main is not None:
            key, help_text = main.key, main.help
            self.hyper_key = key
            self.hyper_label.setText(main.short)
            self.hyper_spin.setRange(0.0, 0.9999)
            self.hyper_spin.setValue(self._initial_hyper(info, key, hyper))
            self.hyper_spin.setToolTip(f"{label}: {help_text}")
            self.hyper_label.setToolTip(self.hyper_spin.toolTip())
            self.extra.pop(key, None)
        else:
            self.hyper_spin.setEnabled(False)
            self.hyper_spin.setVisible(False)
        self.check.toggled.connect(self.changed)
        self.lr.valueChanged.connect(self.changed)
        self.hyper_spin.valueChanged.connect(self.changed)

    @staticmethod
    def _initial_hyper(info, key: str, hyper: Mapping[str, Any]) -> float:
        if key == "beta1":
            betas = hyper.get("betas", next(s.default for s in info.params if s.name == "betas"))
            return float(betas[0])
        return float(hyper.get(key, next(s.default for s in info.params if s.name == key)))

    @property
    def label(self) -> str:
        return self.full_label

    def widgets(self) -> tuple[QWidget, ...]:
        return self.swatch, self.check, self.lr, self.hyper_label, self.hyper_spin

    def set_values(
        self, lr: float | None = None, hyper: float | None = None, checked: bool | None = None
    ) -> None:
        """Change the row without emitting ``changed`` (the caller recomputes once)."""
        for w in (self.check, self.lr, self.hyper_spin):
            w.blockSignals(True)
        if lr is not None:
            self.lr.setValue(lr)
        if hyper is not None and self.hyper_key:
            self.hyper_spin.setValue(hyper)
        if checked is not None:
            self.check.setChecked(checked)
        for w in (self.check, self.lr, self.hyper_spin):
            w.blockSignals(False)

    def hyper(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["lr"] = float(self.lr.value())
        if self.hyper_key == "beta1":
            betas = self.extra.get("betas", (0.9, 0.999))
            out["betas"] = (float(self.hyper_spin.value()), float(betas[1]))
        elif self.hyper_key:
            out[self.hyper_key] = float(self.hyper_spin.value())
        return out

    def spec(self) -> RunSpec:
        return RunSpec(
            self.label,
            self.optimizer,
            self.hyper(),
            self.color,
            self.clip_norm,
            self.noise,
            self.schedule,
        )


class RunList(QWidget):
    """Rows of runs in an aligned grid; ``changed`` when any row changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        self.rows: list[RunRow] = []
        head = ("", "optimizer", "lr", "", "")
        for col, text in enumerate(head):
            if text:
                label = QLabel(text)
                label.setStyleSheet("color: #666; font-size: 8pt;")
                self.grid.addWidget(label, 0, col)

    def add(self, row: RunRow) -> RunRow:
        r = len(self.rows) + 1
        for col, w in enumerate(row.widgets()):
            self.grid.addWidget(w, r, col)
        row.changed.connect(self.changed)
        self.rows.append(row)
        return row

    def clear(self) -> None:
        for row in self.rows:
            for w in row.widgets():
                w.hide()  # at once: deleteLater waits for the event loop
                self.grid.removeWidget(w)
                w.setParent(None)
                w.deleteLater()
            row.deleteLater()
        self.rows = []

    def row(self, key: str) -> RunRow | None:
        """The first row whose optimizer or label is ``key``."""
        for row in self.rows:
            if key in (row.optimizer, row.label):
                return row
        return None

    def specs(self) -> list[RunSpec]:
        return [row.spec() for row in self.rows if row.check.isChecked()]


def free_list() -> RunList:
    """One row per optimizer of the core, SGD, momentum and Adam ticked."""
    runs = RunList()
    for i, (name, info) in enumerate(OPTIMIZERS.items()):
        label = SHORT_NAMES.get(name, info.title)
        runs.add(RunRow(label, name, {}, color_of(i), checked=name in ("sgd", "momentum", "adam")))
    return runs


def free_color(optimizer: str) -> QColor:
    return color_of(list(OPTIMIZERS).index(optimizer))


def challenge_rows(challenge: ls.Challenge) -> list[RunRow]:
    """Rows for a challenge's runs; an optimizer's first run keeps its free-list colour, a
    second run of the same optimizer gets a colour no other run of the challenge uses."""
    reserved = [free_color(r.optimizer) for r in challenge.runs]
    taken: list[QColor] = []
    rows = []
    for r in challenge.runs:
        color = free_color(r.optimizer)
        if color in taken:
            color = next(
                (c for c in PALETTE if c not in taken and c not in reserved), color_of(len(taken))
            )
        taken.append(color)
        note = run_note(r.clip_norm, r.noise, r.schedule)
        schedule = None if r.schedule is None else (r.schedule[0], dict(r.schedule[1]))
        rows.append(
            RunRow(
                r.name,
                r.optimizer,
                dict(r.hyper),
                color,
                True,
                note,
                r.clip_norm,
                r.noise,
                schedule,
            )
        )
    return rows


def fmt_rate(value: float) -> str:
    return "\u2013" if not math.isfinite(value) else f"{value:.3f}"
