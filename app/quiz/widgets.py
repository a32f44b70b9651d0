"""Pieces of the Quiz tab: the answer options and the per-topic progress bars."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.widgets.text import rich

GOOD, BAD = "#2e7d32", "#b3261e"


def scaled_font(widget: QWidget, delta: float, bold: bool = False):
    """``widget``'s font ``delta`` points larger (optionally bold)."""
    font = widget.font()
    font.setPointSizeF(max(7.0, font.pointSizeF() + delta))
    font.setBold(bold)
    return font


class _ClickLabel(QLabel):
    clicked = Signal()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class OptionList(QWidget):
    """Numbered options as radio buttons (one answer) or check boxes (several), each with a
    word-wrapped label that toggles its button when clicked."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: list[QAbstractButton] = []
        self.labels: list[QLabel] = []
        self.texts: list[str] = []
        self.multiple = False
        self._group: QButtonGroup | None = None
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)

    def set_options(self, options: list[str] | tuple[str, ...], multiple: bool = False) -> None:
        """Replace the options; ``multiple`` gives check boxes instead of radio buttons."""
        self.clear()
        self.multiple = multiple
        self.texts = list(options)
        self._group = QButtonGroup(self)
        self._group.setExclusive(not multiple)
        for i, text in enumerate(options):
            button: QAbstractButton = (
                QCheckBox(f"{i + 1}") if multiple else QRadioButton(f"{i + 1}")
            )
            button.setFont(scaled_font(self, 1.5, bold=True))
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"Key {i + 1}" if i < 9 else "")
            label = _ClickLabel(rich(text))
            label.setWordWrap(True)
            label.setFont(scaled_font(self, 1.5))
            label.setTextFormat(Qt.TextFormat.RichText)  # plain text through rich()
            label.setCursor(Qt.CursorShape.PointingHandCursor)
            label.clicked.connect(button.click)
            button.toggled.connect(lambda _on: self.changed.emit())
            self._group.addButton(button, i)
            self._grid.addWidget(button, i, 0, Qt.AlignmentFlag.AlignTop)
            self._grid.addWidget(label, i, 1)
            self.buttons.append(button)
            self.labels.append(label)

    def clear(self) -> None:
        for widget in self.buttons + self.labels:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        if self._group is not None:
            self._group.deleteLater()
            self._group = None
        self.buttons, self.labels, self.texts = [], [], []

    def choose(self, index: int) -> bool:
        """Pick option ``index`` (from 0): select it, or toggle it for check boxes."""
        if not 0 <= index < len(self.buttons) or not self.buttons[index].isEnabled():
            return False
        button = self.buttons[index]
        if self.multiple:
            button.setChecked(not button.isChecked())
        else:
            button.setChecked(True)
        button.setFocus()
        return True

    def selected(self) -> list[int]:
        """Indices of the checked options, in order."""
        return [i for i, b in enumerate(self.buttons) if b.isChecked()]

    def set_locked(self, locked: bool) -> None:
        for button in self.buttons:
            button.setEnabled(not locked)

    def mark(self, right: set[int], chosen: set[int]) -> None:
        """Colour the right options green and the wrongly chosen ones red."""
        for i, label in enumerate(self.labels):
            if i in right:
                label.setText(f"\u2713&nbsp; {rich(self.texts[i])}")
                label.setStyleSheet(f"color: {GOOD}; font-weight: 600;")
            elif i in chosen:
                label.setText(f"\u2717&nbsp; {rich(self.texts[i])}")
                label.setStyleSheet(f"color: {BAD};")
            else:
                label.setStyleSheet("color: palette(placeholder-text);")


class TopicProgress(QWidget):
    """One bar per topic: questions mastered (last answer right) out of the topic's questions,
    with the right and wrong answers given so far."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: dict[str, tuple[QLabel, QProgressBar, QLabel]] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def set_topics(self, topics: list[tuple[str, str]]) -> None:
        """``(topic id, title)`` in display order."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows = {}
        for topic, title in topics:
            name = QLabel(title)
            name.setWordWrap(True)
            bar = QProgressBar()
            bar.setTextVisible(True)
            bar.setMaximumHeight(16)
            counts = QLabel()
            counts.setStyleSheet("color: palette(placeholder-text);")
            counts.setFont(scaled_font(self, -0.5))
            row = QWidget()
            lay = QVBoxLayout(row)
            lay.setContentsMargins(0, 4, 0, 2)
            lay.setSpacing(1)
            lay.addWidget(name)
            line = QHBoxLayout()
            line.addWidget(bar, 1)
            lay.addLayout(line)
            lay.addWidget(counts)
            self._layout.addWidget(row)
            self.rows[topic] = (name, bar, counts)

    def set_counts(self, topic: str, mastered: int, total: int, right: int, wrong: int) -> None:
        if topic not in self.rows:
            return
        _name, bar, counts = self.rows[topic]
        bar.setRange(0, max(total, 1))
        bar.setValue(mastered)
        bar.setFormat(f"{mastered} / {total}")
        counts.setText(f"{right} right \u00b7 {wrong} wrong")
        bar.setToolTip(
            f"{mastered} of the {total} questions of this topic were answered right "
            "the last time they were asked"
        )

    def counts_text(self, topic: str) -> str:
        return self.rows[topic][2].text() if topic in self.rows else ""
