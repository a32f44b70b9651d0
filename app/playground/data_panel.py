"""Data panel: which data set, how many points, noise, validation share, seed and classes."""

from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from app.widgets.controls import IntSpinBox, SciSpinBox, WholeSpinBox
from dlopt_core.data import datasets
from dlopt_core.train.experiment import DataSpec

CSV = "csv"
DATA_SEED_MAX = 2**32 - 1  # as dlopt_core.train.experiment allows
MULTICLASS_KINDS = ("gaussians", "spiral")
_TITLES = {
    "circle": "Circle",
    "xor": "XOR",
    "gaussians": "Gaussian blobs",
    "spiral": "Spiral",
    "moons": "Two moons",
    "plane": "Plane (regression)",
    "bumps": "Bumps (regression)",
    "digits": "Digits (8\u00d78 images)",
    "iris": "Iris",
    "wine": "Wine",
    "breast_cancer": "Breast cancer",
}


def dataset_infos() -> list:
    """``datasets.list_datasets()``, or plain entries built from the name lists if it fails."""
    try:
        return list(datasets.list_datasets())
    except Exception:  # an older or half-written datasets module: fall back to the names
        infos = []
        for name in datasets.GENERATORS:
            infos.append(_Info(name, "", True, "", ""))
        for name in getattr(datasets, "REAL_DATASETS", ()):
            infos.append(_Info(name, "classification", False, "unavailable", ""))
        return infos


class _Info:
    def __init__(self, name, task_kind, available, note, description):
        self.name, self.task_kind, self.available = name, task_kind, available
        self.note, self.description = note, description


class DataPanel(QGroupBox):
    """Data settings; emits ``changed`` on any edit and ``csvRequested`` for "Open CSV…"."""

    changed = Signal()
    csvRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        self._csv_path = ""
        self._kind = "spiral"
        self.kind = QComboBox()
        self.kind.setMaxVisibleItems(16)
        self.kind.setToolTip(
            "The data to learn: a generated 2-D set, a real data set or your "
            "own CSV file (hover an entry for what it is)"
        )
        real = set(getattr(datasets, "REAL_DATASETS", ()))
        infos = dataset_infos()
        generators = [i for i in infos if i.name not in real]
        reals = [i for i in infos if i.name in real]
        for info in generators:
            self._add_kind(info)
        self.kind.insertSeparator(self.kind.count())
        self.kind.addItem("Open CSV\u2026", CSV)
        self.kind.setItemData(
            self.kind.count() - 1,
            "Your own data: numeric columns, the label in the last one",
            Qt.ItemDataRole.ToolTipRole,
        )
        if reals:
            self.kind.insertSeparator(self.kind.count())
            for info in reals:
                self._add_kind(info)

        self.n_samples = IntSpinBox()
        self.n_samples.setRange(4, 100_000)
        self.n_samples.setSingleStep(50)
        self.n_samples.setToolTip("Number of points generated (training + validation)")
        # %g boxes: a file's noise of 0.025 or validation share of 0.125 is shown and kept as it
        # is, not rounded to two decimals and written back changed
        self.noise = SciSpinBox(0.0, 10.0, 0.1, digits=4)
        self.noise.setSingleStep(0.05)
        self.noise.setToolTip("Standard deviation of the noise added to the generated points")
        self.val_fraction = SciSpinBox(0.0, 0.9, 0.2, digits=4)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setToolTip("Share of the points held out for validation")
        self.n_classes = IntSpinBox()
        self.n_classes.setRange(2, 8)
        self.n_classes.setToolTip("Number of classes; more than two trains a softmax output")
        self.seed = WholeSpinBox(0, DATA_SEED_MAX)  # the experiment's whole range, 0 to 2^32 - 1
        self.seed.setToolTip("Seed of the data sample and of the train/validation split")
        self.new_sample = QPushButton("New sample")
        self.new_sample.setToolTip("Draw a new sample of the same data set (a new data seed)")
        self.standardize = QCheckBox("standardize columns")
        self.standardize.setToolTip("Scale every input column to mean 0 and standard deviation 1")
        self.task = QLabel("\u2013")
        self.task.setObjectName("taskLabel")
        self.task.setStyleSheet("#taskLabel { color: #2f5d8a; font-weight: 600; }")

        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.new_sample)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Data set", self.kind)
        form.addRow("Task", self.task)
        form.addRow("Points", self.n_samples)
        form.addRow("Noise", self.noise)
        form.addRow("Validation", self.val_fraction)
        form.addRow("Classes", self.n_classes)
        form.addRow("Seed", seed_row)
        form.addRow("", self.standardize)
        self._form = form

        self.kind.activated.connect(self._kind_activated)
        for spin in (self.n_samples, self.seed, self.n_classes):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self.changed)
        for spin in (self.noise, self.val_fraction):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self.changed)
        self.standardize.toggled.connect(self.changed)
        self.new_sample.clicked.connect(self._new_sample)
        self.set_spec(DataSpec())

    # -- values ---------------------------------------------------------------------------------
    def spec(self) -> DataSpec:
        kind = self._kind
        return DataSpec(
            kind=kind,
            n_samples=self.n_samples.value(),
            noise=float(f"{self.noise.value():.6g}"),  # no 0.15000000000000002 from steps
            val_fraction=float(f"{self.val_fraction.value():.6g}"),
            seed=self.seed.int_value(),
            n_classes=self.n_classes.value() if kind in MULTICLASS_KINDS else 2,
            path=self._csv_path if kind == CSV else "",
            standardize=self.standardize.isChecked(),
        )

    def set_spec(self, spec: DataSpec) -> None:
        """Show ``spec`` without emitting ``changed``."""
        widgets = (
            self.kind,
            self.n_samples,
            self.noise,
            self.val_fraction,
            self.seed,
            self.n_classes,
            self.standardize,
        )
        for w in widgets:
            w.blockSignals(True)
        self._kind = spec.kind
        if spec.kind == CSV:
            self._csv_path = spec.path
        self._update_csv_item()
        index = self.kind.findData(spec.kind)
        if index >= 0:
            self.kind.setCurrentIndex(index)
        self.n_samples.setValue(spec.n_samples)
        self.noise.setValue(spec.noise)
        self.val_fraction.setValue(spec.val_fraction)
        self.seed.setValue(spec.seed)
        self.n_classes.setValue(spec.n_classes)
        self.standardize.setChecked(spec.standardize)
        for w in widgets:
            w.blockSignals(False)
        self._update_visibility()

    def set_csv_path(self, path: str) -> None:
        """Switch to the CSV file ``path`` and emit ``changed``."""
        self._csv_path = str(path)
        self._kind = CSV
        self._update_csv_item()
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(self.kind.findData(CSV))
        self.kind.blockSignals(False)
        self._update_visibility()
        self.changed.emit()

    def cancel_csv(self) -> None:
        """The CSV dialog was cancelled: show the previous data set again."""
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(0, self.kind.findData(self._kind)))
        self.kind.blockSignals(False)

    def set_task(self, text: str) -> None:
        self.task.setText(text)

    # -- internals ------------------------------------------------------------------------------
    def _add_kind(self, info) -> None:
        title = _TITLES.get(info.name, info.name.replace("_", " ").capitalize())
        self.kind.addItem(title, info.name)
        i = self.kind.count() - 1
        tip = info.description or title
        if not info.available:
            tip = f"{tip}\n\nUnavailable: {info.note}" if info.note else f"{tip} (unavailable)"
            item = self.kind.model().item(i)
            if item is not None:
                item.setEnabled(False)
        self.kind.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)

    def _update_csv_item(self) -> None:
        i = self.kind.findData(CSV)
        if i < 0:
            return
        if self._csv_path:
            self.kind.setItemText(i, f"CSV: {Path(self._csv_path).name}")
            self.kind.setItemData(
                i,
                f"{self._csv_path}\n\nChoose it again to open another file",
                Qt.ItemDataRole.ToolTipRole,
            )
        else:
            self.kind.setItemText(i, "Open CSV\u2026")

    def _kind_activated(self, index: int) -> None:
        kind = self.kind.itemData(index)
        if kind == CSV:
            self.csvRequested.emit()
            return
        if kind == self._kind:
            return
        self._kind = kind
        self._update_visibility()
        self.changed.emit()

    def _update_visibility(self) -> None:
        generated = self._kind in datasets.GENERATORS
        for w in (self.n_samples, self.noise):
            w.setEnabled(generated)
        self._set_row_visible(self.n_classes, self._kind in MULTICLASS_KINDS)
        self._set_row_visible(self.standardize, not generated)

    def _set_row_visible(self, widget: QWidget, visible: bool) -> None:
        self._form.setRowVisible(widget, visible)

    def _new_sample(self) -> None:
        seed = random.randrange(0, 100_000)
        if seed == self.seed.int_value():
            seed += 1
        self.seed.setValue(seed)  # emits changed
