"""Small input widgets: number boxes that leave the Playground's keys alone, spin boxes for
numbers of any magnitude and for large whole numbers, and a log-scale slider."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QSpinBox, QWidget

# Keys that no number contains and that the window binds to commands (play/pause, step, reset):
# a number box with the focus lets them through, so that Space still pauses right after typing a
# learning rate. Text fields keep every key.
SHORTCUT_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_R)


def is_shortcut_key(event: QEvent) -> bool:
    """Whether ``event`` asks for one of :data:`SHORTCUT_KEYS` without modifiers."""
    return (
        event.type() == QEvent.Type.ShortcutOverride
        and isinstance(event, QKeyEvent)
        and event.key() in SHORTCUT_KEYS
        and event.modifiers()
        in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
    )


class _LeavesShortcutKeys:
    """Mixin for number boxes: :data:`SHORTCUT_KEYS` go to the window's shortcuts."""

    def event(self, event: QEvent) -> bool:
        if is_shortcut_key(event):
            event.ignore()  # not taken: the shortcut fires
            return True
        return super().event(event)


class IntSpinBox(_LeavesShortcutKeys, QSpinBox):
    """A QSpinBox that leaves Space, S and R to the window's shortcuts."""


class WholeSpinBox(_LeavesShortcutKeys, QDoubleSpinBox):
    """A spin box for whole numbers beyond a ``QSpinBox``'s 32-bit range (seeds up to 2^32 - 1):
    a double spin box without decimals, exact up to 2^53. ``int_value()`` gives the int."""

    def __init__(self, low: int = 0, high: int = 2**32 - 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(0)
        self.setRange(float(low), float(high))

    def int_value(self) -> int:
        return int(round(self.value()))


class SciSpinBox(_LeavesShortcutKeys, QDoubleSpinBox):
    """A double spin box that shows ``%g`` values (1e-08, 0.001, 250) and can step by factors.

    With ``log_step`` the arrows multiply or divide the value by ``10 ** (1 / steps_per_decade)``
    (or by ``factor`` when given, e.g. 2 to halve or double), which suits rates and tolerances;
    otherwise they add ``singleStep``. Where zero is allowed, one step up from zero goes to
    ``first_step`` and stepping down below it returns to zero ("off").
    """

    def __init__(
        self,
        low: float = 0.0,
        high: float = 1e6,
        value: float = 0.0,
        *,
        log_step: bool = False,
        steps_per_decade: int = 10,
        digits: int = 4,
        first_step: float = 1e-4,
        factor: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._log_step = log_step
        self._first = first_step
        self._factor = factor if factor is not None else 10.0 ** (1.0 / steps_per_decade)
        self._digits = digits
        self.setDecimals(15)
        self.setRange(low, high)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setValue(value)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # the base class sizes for 15 decimals; %g text is never longer than this sample
        hint = super().sizeHint()
        width = self.fontMetrics().horizontalAdvance("-8.888e-08") + 34
        return QSize(min(hint.width(), width), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().minimumSizeHint()
        width = self.fontMetrics().horizontalAdvance("8.8e-08") + 30
        return QSize(min(hint.width(), width), hint.height())

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        # rounded to the box's digits, then written without an exponent where one is not
        # needed: a rate of 1000 reads "1000", not "1e+03"
        return f"{float(f'{value:.{self._digits}g}'):g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt API
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "e", "-.", "+."):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            if stripped[-1:] in "eE-+" and _float_or_none(stripped.rstrip("eE-+")) is not None:
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        value = _float_or_none(text.strip())
        if value is None:
            return self.textFromValue(self.value())
        return self.textFromValue(min(self.maximum(), max(self.minimum(), value)))

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt API
        if not self._log_step:
            super().stepBy(steps)
            return
        value = self.value()
        if value <= 0.0:  # from zero, the first step up goes to first_step
            if steps > 0:
                self.setValue(min(self.maximum(), max(self.minimum(), self._first)))
            return
        new = float(f"{value * self._factor**steps:.3g}")
        if new < self._first * 0.99 and steps < 0 and self.minimum() <= 0.0:
            new = 0.0  # below first_step, stepping down reaches zero (off)
        self.setValue(min(self.maximum(), max(self.minimum(), new)))


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class LogSlider(QWidget):
    """A logarithmic slider from ``low`` to ``high`` tied to a :class:`SciSpinBox`; emits
    ``valueChanged(float)``. The box may take a wider range (``box_range``): a value beyond the
    slider's ends is kept as typed and the slider stays at its end."""

    valueChanged = Signal(float)
    RESOLUTION = 600  # slider positions over the whole range

    def __init__(
        self,
        low: float,
        high: float,
        value: float,
        parent: QWidget | None = None,
        *,
        box_range: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(parent)
        self._lo, self._hi = math.log10(low), math.log10(high)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.RESOLUTION)
        self.slider.setPageStep(self.RESOLUTION // int(round(self._hi - self._lo)))
        box_low, box_high = box_range if box_range is not None else (low, high)
        self.spin = SciSpinBox(
            box_low, box_high, value, log_step=True, steps_per_decade=10, digits=3
        )
        self.spin.setMinimumWidth(78)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.spin)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)
        self._set_slider(value)

    def value(self) -> float:
        return float(self.spin.value())

    def setValue(self, value: float) -> None:  # noqa: N802 - Qt naming
        """Show ``value`` without emitting ``valueChanged``."""
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self._set_slider(value)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.spin.setToolTip(text)

    def _set_slider(self, value: float) -> None:
        pos = (math.log10(max(value, 1e-300)) - self._lo) / (self._hi - self._lo)
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(min(1.0, max(0.0, pos)) * self.RESOLUTION)))
        self.slider.blockSignals(False)

    def _from_slider(self, pos: int) -> None:
        exponent = self._lo + (self._hi - self._lo) * pos / self.RESOLUTION
        value = float(f"{10.0**exponent:.3g}")
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.valueChanged.emit(self.value())

    def _from_spin(self, value: float) -> None:
        self._set_slider(value)
        self.valueChanged.emit(float(value))
