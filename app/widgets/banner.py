"""A coloured message strip shown above the plots: divergence, early stopping, stop conditions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

_STYLES = {
    "error": ("#fdecea", "#b3261e", "#5f1410", "\u26a0"),
    "warning": ("#fff4e0", "#c77800", "#5a3a00", "\u25a0"),
    "info": ("#e8f1fb", "#2f6db3", "#163a63", "\u2139"),
    "success": ("#e9f6ec", "#2e7d32", "#1b4a1e", "\u2713"),
}


class Banner(QFrame):
    """One line of text with an icon and a close button; hidden until :meth:`show_message`."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.kind = ""
        self.icon = QLabel()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("\u2715")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self._dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 5, 4, 5)
        lay.addWidget(self.icon)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def show_message(self, kind: str, text: str) -> None:
        """Show ``text`` styled as ``kind`` (error, warning, info or success)."""
        bg, border, fg, icon = _STYLES.get(kind, _STYLES["info"])
        if kind != self.kind:
            self.setStyleSheet(
                f"#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 4px; }}"
                f"#banner QLabel {{ color: {fg}; font-weight: 600; }}"
            )
            self.kind = kind
        self.icon.setText(icon)
        if text != self.label.text():
            self.label.setText(text)
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
