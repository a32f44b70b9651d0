"""Input features and the network builder: hidden layers, neurons, per-layer learning-rate
factors, activation, initialisation, biases and parameterisation."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.widgets.controls import SciSpinBox
from dlopt_core.data import features
from dlopt_core.train.experiment import NetworkSpec
from dlopt_core.train.network import ACTIVATIONS, INIT_SCHEMES, PARAMETERIZATIONS

MAX_LAYERS = 6
MAX_UNITS = 32
FEATURE_LABELS = {
    "x1": "x\u2081",
    "x2": "x\u2082",
    "x1^2": "x\u2081\u00b2",
    "x2^2": "x\u2082\u00b2",
    "x1*x2": "x\u2081x\u2082",
    "sin(x1)": "sin x\u2081",
    "sin(x2)": "sin x\u2082",
}
ACTIVATION_TIPS = {
    "relu": "max(0, z): cheap and non-saturating for z > 0; units can die",
    "leaky_relu": "z for z > 0, a small slope below: relu without dead units",
    "tanh": "tanh(z): smooth, zero-centred, saturates for large |z|",
    "sigmoid": "1 / (1 + e^-z): saturates and is not zero-centred",
    "linear": "z: the whole network stays a linear model",
}
INIT_TIPS = {
    "xavier": "Glorot uniform: keeps the variance of activations for tanh and sigmoid",
    "he": "Kaiming normal, variance 2 / fan-in: suited to relu",
    "normal": "normal with the standard deviation set below",
    "zeros": "all zero: every unit of a layer stays identical (the symmetry problem)",
}
PARAMETERIZATION_LABELS = {"standard": "standard", "mean_field": "mean-field"}
PARAMETERIZATION_TIPS = {
    "standard": "z = a W + b in every layer",
    "mean_field": "z = c (a W + b) with c = \u221a(2 / fan-in) in hidden layers and 1 / fan-in "
    "at the output; weights start standard normal (the Init choice is not used). "
    "The trainability map's network.",
}
RATE_TIP = (
    "Learning-rate factor of {layer}: its weights and biases step at the learning rate "
    "times this (1: the common rate, 0: frozen). Applies to the running run."
)
MAX_FACTOR = 1e10  # as the experiment's MAX_LAYER_LR (a map pixel's rates are factors of 1)


def _small_button(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setFixedSize(24, 22)
    return b


class FeaturesPanel(QGroupBox):
    """Checkable input features for 2-D data; at least one stays on. Emits ``changed``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Input features", parent)
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout(self)
        grid.setSpacing(4)
        for i, name in enumerate(features.FEATURES):
            b = QToolButton()
            b.setText(FEATURE_LABELS.get(name, name))
            b.setCheckable(True)
            b.setToolTip(f"feed {name} to the network")
            b.setMinimumWidth(52)
            b.toggled.connect(lambda on, n=name: self._toggled(n, on))
            grid.addWidget(b, i // 4, i % 4)
            self.buttons[name] = b
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #777;")
        self.note.hide()
        grid.addWidget(self.note, 2, 0, 1, 4)
        self.setStyleSheet(
            "QToolButton:checked { background: #cfe0f5; border: 1px solid #5b8fc9;"
            " border-radius: 3px; }"
        )
        self.set_features(features.RAW)

    def features(self) -> tuple[str, ...]:
        return tuple(n for n in features.FEATURES if self.buttons[n].isChecked())

    def set_features(self, names: Sequence[str]) -> None:
        for name, b in self.buttons.items():
            b.blockSignals(True)
            b.setChecked(name in names)
            b.blockSignals(False)

    def set_input_count(self, n_inputs: int) -> None:
        """Derived features need 2-D data: disable the toggles for other data."""
        two_d = n_inputs == 2
        for b in self.buttons.values():
            b.setEnabled(two_d)
        self.note.setVisible(not two_d)
        self.note.setText(
            ""
            if two_d
            else f"This data set has {n_inputs} inputs; derived "
            "features need 2-D data, so the raw columns are used."
        )

    def _toggled(self, name: str, on: bool) -> None:
        if not on and not self.features():
            b = self.buttons[name]
            b.blockSignals(True)
            b.setChecked(True)
            b.blockSignals(False)
            b.setToolTip(f"feed {name} to the network (at least one feature is needed)")
            return
        self.changed.emit()


def _factor_box(layer: str) -> SciSpinBox:
    box = SciSpinBox(0.0, MAX_FACTOR, 1.0, log_step=True, steps_per_decade=3, first_step=0.01)
    box.setToolTip(RATE_TIP.format(layer=layer))
    box.setPrefix("lr \u00d7")
    return box


class NetworkPanel(QGroupBox):
    """Hidden layers (0..6) of 1..32 neurons, each with a learning-rate factor (and one for the
    output layer), activation, initialisation, biases and parameterisation. Emits
    ``changed``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Network", parent)
        self._hidden: list[int] = [8, 8]
        self.layers_label = QLabel()
        self.add_layer = _small_button("+", "Add a hidden layer")
        self.remove_layer = _small_button("\u2212", "Remove the last hidden layer")
        self.add_layer.clicked.connect(self._add_layer)
        self.remove_layer.clicked.connect(self._remove_layer)
        head = QHBoxLayout()
        head.addWidget(self.layers_label, 1)
        head.addWidget(self.remove_layer)
        head.addWidget(self.add_layer)

        self._rows: list[tuple[QWidget, QLabel, QToolButton, QToolButton]] = []
        self.factors: list[SciSpinBox] = []
        rows = QVBoxLayout()
        rows.setSpacing(2)
        for i in range(MAX_LAYERS):
            w = QWidget()
            lay = QHBoxLayout(w)
            lay.setContentsMargins(12, 0, 0, 0)
            name = QLabel(f"layer {i + 1}")
            count = QLabel()
            count.setMinimumWidth(74)
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            minus = _small_button("\u2212", f"One neuron fewer in hidden layer {i + 1}")
            plus = _small_button("+", f"One neuron more in hidden layer {i + 1}")
            minus.clicked.connect(lambda _=False, k=i: self._change_units(k, -1))
            plus.clicked.connect(lambda _=False, k=i: self._change_units(k, +1))
            lay.addWidget(name)
            lay.addStretch(1)
            lay.addWidget(count)
            lay.addSpacing(6)
            lay.addWidget(minus)
            lay.addWidget(plus)
            factor = _factor_box(f"hidden layer {i + 1}")
            lay.addWidget(factor)
            self.factors.append(factor)
            rows.addWidget(w)
            self._rows.append((w, count, minus, plus))
        out_row = QHBoxLayout()
        out_row.setContentsMargins(12, 0, 0, 0)
        out_row.addWidget(QLabel("output layer"))
        out_row.addStretch(1)
        self.output_factor = _factor_box("the output layer")
        out_row.addWidget(self.output_factor)
        rows.addLayout(out_row)

        self.activation = QComboBox()
        for i, name in enumerate(ACTIVATIONS):
            self.activation.addItem(name, name)
            self.activation.setItemData(
                i, ACTIVATION_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole
            )
        self.activation.setToolTip("Activation of the hidden layers")
        self.init = QComboBox()
        for i, name in enumerate(INIT_SCHEMES):
            self.init.addItem(name, name)
            self.init.setItemData(i, INIT_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init.setToolTip("How the weights start (biases start at zero)")
        self.init_std = SciSpinBox(0.0, 100.0, 0.1, log_step=True)
        self.init_std.setToolTip("Standard deviation of the normal initialisation (default 0.1)")
        self.bias = QCheckBox("biases")
        self.bias.setChecked(True)
        self.bias.setToolTip("Give every layer biases b (off: z = a W, no bias parameters)")
        self.parameterization = QComboBox()
        for i, name in enumerate(PARAMETERIZATIONS):
            self.parameterization.addItem(PARAMETERIZATION_LABELS[name], name)
            self.parameterization.setItemData(
                i, PARAMETERIZATION_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.parameterization.setToolTip(
            "How each layer's pre-activation is scaled: standard, or mean-field (\u221a(2 / "
            "fan-in) in hidden layers, 1 / fan-in at the output)"
        )
        form = QFormLayout()
        form.addRow("Activation", self.activation)
        form.addRow("Init", self.init)
        form.addRow("Init std", self.init_std)
        form.addRow("Scaling", self.parameterization)
        form.addRow("", self.bias)
        self._form = form
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(rows)
        lay.addLayout(form)
        self.activation.currentIndexChanged.connect(self.changed)
        self.init.currentIndexChanged.connect(self._init_changed)
        self.init_std.valueChanged.connect(self.changed)
        self.bias.toggled.connect(self.changed)
        self.parameterization.currentIndexChanged.connect(self._init_changed)
        for box in (*self.factors, self.output_factor):
            box.valueChanged.connect(self.changed)
        self._refresh()

    def hidden(self) -> tuple[int, ...]:
        return tuple(self._hidden)

    def spec(self, feature_names: Sequence[str]) -> NetworkSpec:
        return NetworkSpec(
            hidden=self.hidden(),
            activation=self.activation.currentData(),
            init=self.init.currentData(),
            init_std=float(self.init_std.value()),
            features=tuple(feature_names),
            bias=self.bias.isChecked(),
            parameterization=self.parameterization.currentData(),
        )

    def layer_lr(self) -> tuple[float, ...] | None:
        """The learning-rate factors of the hidden layers and the output layer; None when all
        are 1 (the experiment's default)."""
        boxes = [*self.factors[: len(self._hidden)], self.output_factor]
        factors = tuple(float(b.value()) for b in boxes)
        return None if all(f == 1.0 for f in factors) else factors

    def set_layer_lr(self, factors: Sequence[float] | None) -> None:
        """Show ``factors`` (one per hidden layer and the output; None: all 1) without emitting
        ``changed``; layers without a factor show 1."""
        boxes = [*self.factors[: len(self._hidden)], self.output_factor]
        values = [1.0] * len(boxes) if factors is None else list(factors)
        for box in (*self.factors, self.output_factor):
            box.blockSignals(True)
            box.setValue(1.0)
        for box, value in zip(boxes, values, strict=False):
            box.setValue(value)
        for box in (*self.factors, self.output_factor):
            box.blockSignals(False)

    def set_spec(self, spec: NetworkSpec) -> None:
        """Show ``spec`` without emitting ``changed``."""
        self._hidden = list(spec.hidden)
        widgets = (self.activation, self.init, self.init_std, self.bias, self.parameterization)
        for w in widgets:
            w.blockSignals(True)
        self.activation.setCurrentIndex(max(0, self.activation.findData(spec.activation)))
        self.init.setCurrentIndex(max(0, self.init.findData(spec.init)))
        self.init_std.setValue(spec.init_std)
        self.bias.setChecked(spec.bias)
        self.parameterization.setCurrentIndex(
            max(0, self.parameterization.findData(spec.parameterization))
        )
        for w in widgets:
            w.blockSignals(False)
        self._refresh()

    def _init_changed(self) -> None:
        self._refresh()
        self.changed.emit()

    def _add_layer(self) -> None:
        if len(self._hidden) < MAX_LAYERS:
            self._hidden.append(self._hidden[-1] if self._hidden else 4)
            box = self.factors[len(self._hidden) - 1]  # a new layer steps at the common rate
            box.blockSignals(True)
            box.setValue(1.0)
            box.blockSignals(False)
            self._refresh()
            self.changed.emit()

    def _remove_layer(self) -> None:
        if self._hidden:
            self._hidden.pop()
            self._refresh()
            self.changed.emit()

    def _change_units(self, k: int, delta: int) -> None:
        new = self._hidden[k] + delta
        if 1 <= new <= MAX_UNITS:
            self._hidden[k] = new
            self._refresh()
            self.changed.emit()

    def _refresh(self) -> None:
        n = len(self._hidden)
        self.layers_label.setText(f"<b>{n}</b> hidden layer{'s' if n != 1 else ''}")
        self.add_layer.setEnabled(n < MAX_LAYERS)
        self.remove_layer.setEnabled(n > 0)
        for i, (w, count, minus, plus) in enumerate(self._rows):
            w.setVisible(i < n)
            if i < n:
                units = self._hidden[i]
                count.setText(f"{units} neuron{'s' if units != 1 else ''}")
                minus.setEnabled(units > 1)
                plus.setEnabled(units < MAX_UNITS)
        mean_field = self.parameterization.currentData() == "mean_field"
        self.init.setEnabled(not mean_field)
        self._form.setRowVisible(
            self.init_std, self.init.currentData() == "normal" and not mean_field
        )
