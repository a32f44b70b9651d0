"""Training panel: batch size, regularisation, clipping, early stopping, adversarial training and
stop conditions."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QToolButton,
    QWidget,
)

from app.widgets.controls import IntSpinBox, SciSpinBox
from dlopt_core.train.engine import TrainConfig
from dlopt_core.train.experiment import MAX_ADVERSARIAL_EPS


def _int_spin(low: int, high: int, tip: str, special: str = "") -> IntSpinBox:
    spin = IntSpinBox()
    spin.setRange(low, high)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    if special:
        spin.setSpecialValueText(special)
    return spin


class TrainingPanel(QGroupBox):
    """Emits ``changed`` on any edit; the playground decides what needs a reset."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.batch = _int_spin(
            1,
            100_000,
            "Rows per step: 1 is pure stochastic gradient descent,"
            " the whole training set is full-batch gradient descent "
            "(default 10)",
        )
        self.full = QToolButton()
        self.full.setText("full")
        self.full.setCheckable(False)
        self.full.setToolTip("Use the whole training set in every step (full-batch)")
        self.full.clicked.connect(lambda: self.batch.setValue(self.batch.maximum()))
        self.shuffle = QCheckBox("shuffle every epoch")
        self.shuffle.setToolTip(
            "Visit the training rows in a new random order every epoch (default on)"
        )
        self.l1 = SciSpinBox(0.0, 10.0, 0.0, log_step=True, first_step=1e-5)
        self.l1.setSpecialValueText("off")
        self.l1.setToolTip(
            "L1 penalty: adds l1 * sign(w) to the gradient, pushing weights to "
            "exactly zero (default 0 = off)"
        )
        self.clip = SciSpinBox(0.0, 1e6, 0.0, log_step=True, steps_per_decade=4, first_step=0.1)
        self.clip.setSpecialValueText("off")
        self.clip.setToolTip(
            "Gradient clipping: rescale the gradient to this global norm when "
            "it is longer (default 0 = off)"
        )
        self.patience = _int_spin(
            0,
            100_000,
            "Early stopping: stop after this many evaluations "
            "without a better validation loss (default 0 = off)",
            "off",
        )
        self.polyak = SciSpinBox(0.0, 0.99999, 0.0, digits=5)
        self.polyak.setSingleStep(0.01)
        self.polyak.setSpecialValueText("off")
        self.polyak.setToolTip(
            "Polyak averaging: evaluate an exponential moving average of the "
            "parameters with this decay (default 0 = off)"
        )
        self.eval_every = _int_spin(
            1,
            100_000,
            "Steps between two evaluations of the full "
            "training and validation sets (one curve point each; "
            "default 10)",
        )
        self.adv_eps = SciSpinBox(0.0, MAX_ADVERSARIAL_EPS, 0.0)
        self.adv_eps.setSingleStep(0.05)
        self.adv_eps.setSpecialValueText("off")
        self.adv_eps.setToolTip(
            "Adversarial training by the fast gradient sign method (FGSM, Goodfellow et al. "
            "2015): every step also trains on each input moved by \u03b5 in every coordinate, "
            "in the direction that raises its loss most, x + \u03b5 sign(\u2202L/\u2202x), so "
            "the network learns to resist small worst-case changes of its inputs (the features "
            "it sees, after standardising). Curves are measured on the clean data (default 0 = "
            "off)"
        )
        self.adv_clean = SciSpinBox(0.0, 1.0, 0.5, digits=3)
        self.adv_clean.setSingleStep(0.1)
        self.adv_clean.setToolTip(
            "Weight w of the clean inputs in each step's loss, w L(x) + (1 \u2212 w) L(x + "
            "\u03b5 sign(\u2202L/\u2202x)); 0 trains on the adversarial inputs only (default "
            "0.5; used when adversarial \u03b5 is on)"
        )
        self.max_steps = _int_spin(
            0, 1_000_000_000, "Stop after this many steps (default 0 = no budget)", "none"
        )
        self.max_steps.setSingleStep(1000)
        self.target = SciSpinBox(0.0, 1e6, 0.0, log_step=True, first_step=0.01)
        self.target.setSpecialValueText("none")
        self.target.setToolTip("Stop when the training loss reaches this value (default 0 = none)")

        batch_row = QHBoxLayout()
        batch_row.setSpacing(4)
        batch_row.addWidget(self.batch, 1)
        batch_row.addWidget(self.full)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Batch size", batch_row)
        form.addRow("", self.shuffle)
        form.addRow("L1", self.l1)
        form.addRow("Clip gradient", self.clip)
        form.addRow("Early stopping", self.patience)
        form.addRow("Polyak average", self.polyak)
        form.addRow("Evaluate every", self.eval_every)
        form.addRow("Adversarial \u03b5", self.adv_eps)
        form.addRow("Clean share", self.adv_clean)
        form.addRow("Stop at step", self.max_steps)
        form.addRow("Target loss", self.target)
        for spin in (self.batch, self.patience, self.eval_every, self.max_steps):
            spin.valueChanged.connect(self.changed)
        for spin in (self.l1, self.clip, self.polyak, self.target, self.adv_eps, self.adv_clean):
            spin.valueChanged.connect(self.changed)
        self.adv_eps.valueChanged.connect(self._show_adversarial)
        self.shuffle.toggled.connect(self.changed)
        self.set_values(TrainConfig(batch_size=10), 0, 0.0)

    def config(self) -> TrainConfig:
        return TrainConfig(
            batch_size=self.batch.value(),
            shuffle=self.shuffle.isChecked(),
            clip_norm=float(self.clip.value()),
            l1=float(self.l1.value()),
            early_stopping=self.patience.value(),
            polyak=float(self.polyak.value()),
            eval_every=self.eval_every.value(),
            adversarial_eps=float(self.adv_eps.value()),
            adversarial_clean_weight=float(self.adv_clean.value()),
        )

    def _show_adversarial(self) -> None:
        """The clean share matters only with adversarial training on."""
        self.adv_clean.setEnabled(self.adv_eps.value() > 0.0)

    def stops(self) -> tuple[int, float]:
        return self.max_steps.value(), float(self.target.value())

    def set_values(self, train: TrainConfig, max_steps: int, target_loss: float) -> None:
        """Show the values without emitting ``changed``."""
        widgets = (
            self.batch,
            self.shuffle,
            self.l1,
            self.clip,
            self.patience,
            self.polyak,
            self.eval_every,
            self.adv_eps,
            self.adv_clean,
            self.max_steps,
            self.target,
        )
        for w in widgets:
            w.blockSignals(True)
        self.batch.setMaximum(max(self.batch.maximum(), train.batch_size))
        self.batch.setValue(train.batch_size)
        self.shuffle.setChecked(train.shuffle)
        self.l1.setValue(train.l1)
        self.clip.setValue(train.clip_norm)
        self.patience.setValue(train.early_stopping)
        self.polyak.setValue(train.polyak)
        self.eval_every.setValue(train.eval_every)
        self.adv_eps.setValue(train.adversarial_eps)
        self.adv_clean.setValue(train.adversarial_clean_weight)
        self._show_adversarial()
        self.max_steps.setValue(max_steps)
        self.target.setValue(target_loss)
        for w in widgets:
            w.blockSignals(False)

    def set_training_rows(self, n_train: int) -> None:
        """The batch size runs from 1 to the whole training set."""
        self.batch.blockSignals(True)
        value = self.batch.value()
        self.batch.setMaximum(max(1, n_train, value))
        self.batch.setValue(value)
        self.batch.blockSignals(False)
        self.full.setToolTip(f"Use the whole training set ({n_train} rows) in every step")
