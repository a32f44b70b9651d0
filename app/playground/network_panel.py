"""Input features and the network builder: hidden layers, neurons, activation and init."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
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
from dlopt_core import features
from dlopt_core.experiment import NetworkSpec
from dlopt_core.network import ACTIVATIONS, INIT_SCHEMES

MAX_LAYERS = 6
MAX_UNITS = 32
FEATURE_LABELS = {
    "x1": "x\u2081", "x2": "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
    "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin x\u2081", "sin(x2)": "sin x\u2082",
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
        self.setStyleSheet("QToolButton:checked { background: #cfe0f5; border: 1px solid #5b8fc9;"
                           " border-radius: 3px; }")
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
        self.note.setText("" if two_d else f"This data set has {n_inputs} inputs; derived "
                          "features need 2-D data, so the raw columns are used.")

    def _toggled(self, name: str, on: bool) -> None:
        if not on and not self.features():
            b = self.buttons[name]
            b.blockSignals(True)
            b.setChecked(True)
            b.blockSignals(False)
            b.setToolTip(f"feed {name} to the network (at least one feature is needed)")
            return
        self.changed.emit()


class NetworkPanel(QGroupBox):
    """Hidden layers (0..6) of 1..32 neurons, activation and initialisation. Emits ``changed``."""

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
            rows.addWidget(w)
            self._rows.append((w, count, minus, plus))

        self.activation = QComboBox()
        for i, name in enumerate(ACTIVATIONS):
            self.activation.addItem(name, name)
            self.activation.setItemData(i, ACTIVATION_TIPS.get(name, ""),
                                        Qt.ItemDataRole.ToolTipRole)
        self.activation.setToolTip("Activation of the hidden layers")
        self.init = QComboBox()
        for i, name in enumerate(INIT_SCHEMES):
            self.init.addItem(name, name)
            self.init.setItemData(i, INIT_TIPS.get(name, ""), Qt.ItemDataRole.ToolTipRole)
        self.init.setToolTip("How the weights start (biases start at zero)")
        self.init_std = SciSpinBox(0.0, 100.0, 0.1, log_step=True)
        self.init_std.setToolTip("Standard deviation of the normal initialisation (default 0.1)")
        form = QFormLayout()
        form.addRow("Activation", self.activation)
        form.addRow("Init", self.init)
        form.addRow("Init std", self.init_std)
        self._form = form
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(rows)
        lay.addLayout(form)
        self.activation.currentIndexChanged.connect(self.changed)
        self.init.currentIndexChanged.connect(self._init_changed)
        self.init_std.valueChanged.connect(self.changed)
        self._refresh()

    def hidden(self) -> tuple[int, ...]:
        return tuple(self._hidden)

    def spec(self, feature_names: Sequence[str]) -> NetworkSpec:
        return NetworkSpec(
            hidden=self.hidden(), activation=self.activation.currentData(),
            init=self.init.currentData(), init_std=float(self.init_std.value()),
            features=tuple(feature_names),
        )

    def set_spec(self, spec: NetworkSpec) -> None:
        """Show ``spec`` without emitting ``changed``."""
        self._hidden = list(spec.hidden)
        for w in (self.activation, self.init, self.init_std):
            w.blockSignals(True)
        self.activation.setCurrentIndex(max(0, self.activation.findData(spec.activation)))
        self.init.setCurrentIndex(max(0, self.init.findData(spec.init)))
        self.init_std.setValue(spec.init_std)
        for w in (self.activation, self.init, self.init_std):
            w.blockSignals(False)
        self._refresh()

    def _init_changed(self) -> None:
        self._refresh()
        self.changed.emit()

    def _add_layer(self) -> None:
        if len(self._hidden) < MAX_LAYERS:
            self._hidden.append(self._hidden[-1] if self._hidden else 4)
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
        self._form.setRowVisible(self.init_std, self.init.currentData() == "normal")
