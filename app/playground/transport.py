"""Transport bar: play/pause, step, reset, new initialisation, speed, and the step counter."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolButton,
    QWidget,
)

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 0)  # steps per frame; 0: max


def speed_text(steps: int) -> str:
    return "max" if steps == 0 else f"{steps:,} step{'s' if steps != 1 else ''}/frame"


class TransportBar(QFrame):
    """Buttons bound to the actions ``play``, ``step``, ``reset`` and ``new_init``.

    The actions carry the keyboard shortcuts (Space, S, R) and also go into the window's menu.
    """

    speedChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transport")
        style = self.style()
        self.play = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play", self)
        self.play.setCheckable(True)
        self.play.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play.setToolTip("Start or pause training (Space)")
        self.step = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), "Step", self
        )
        self.step.setShortcut(QKeySequence(Qt.Key.Key_S))
        self.step.setToolTip("Pause and train one chunk: the steps of one frame (S)")
        self.reset = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), "Reset", self
        )
        self.reset.setShortcut(QKeySequence(Qt.Key.Key_R))
        self.reset.setToolTip("Back to step 0 with the same initial weights (R)")
        self.new_init = QAction(
            style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload), "New init", self
        )
        self.new_init.setToolTip("Back to step 0 with new random initial weights (a new seed)")
        self.actions_list = (self.play, self.step, self.reset, self.new_init)
        for action in self.actions_list:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        self.buttons: dict[str, QToolButton] = {}
        for key, action in zip(
            ("play", "step", "reset", "new_init"), self.actions_list, strict=True
        ):
            b = QToolButton()
            b.setDefaultAction(action)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            lay.addWidget(b)
            self.buttons[key] = b
        self.buttons["play"].setObjectName("playButton")
        lay.addSpacing(12)
        lay.addWidget(QLabel("Speed"))
        self.speed = QComboBox()
        for steps in SPEEDS:
            self.speed.addItem(speed_text(steps), steps)
        self.speed.setCurrentIndex(len(SPEEDS) - 1)
        self.speed.setToolTip(
            "Steps trained per frame (about 30 frames a second), or as fast as possible"
        )
        self.speed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.speed.currentIndexChanged.connect(lambda: self.speedChanged.emit(self.speed_value()))
        lay.addWidget(self.speed)
        self.counter = QLabel()
        self.counter.setObjectName("stepCounter")
        self.counter.setTextFormat(Qt.TextFormat.RichText)
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counter.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay.addWidget(self.counter, 1)
        self.setStyleSheet(
            "#transport { border-bottom: 1px solid #d0d0d0; }"
            "#stepCounter { font-size: 13pt; color: #333; }"
            "QToolButton#playButton:checked { background: #dbe8f7; border: 1px solid #7aa3d6;"
            " border-radius: 3px; }"
        )
        self.play.toggled.connect(self._play_toggled)
        self.set_counter(0, 0.0)

    def speed_value(self) -> int:
        return int(self.speed.currentData())

    def set_speed(self, steps_per_frame: int) -> None:
        index = self.speed.findData(steps_per_frame)
        if index >= 0:
            self.speed.setCurrentIndex(index)

    def set_playing(self, playing: bool) -> None:
        """Reflect the worker's state without triggering the action."""
        if self.play.isChecked() != playing:
            self.play.blockSignals(True)
            self.play.setChecked(playing)
            self.play.blockSignals(False)
            self._play_toggled(playing)

    def set_counter(self, step: int, epoch: float) -> None:
        self.counter.setText(f"step <b>{step:,}</b> &nbsp; epoch <b>{epoch:,.1f}</b>")

    def _play_toggled(self, on: bool) -> None:
        style = self.style()
        icon = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(style.standardIcon(icon))
        self.play.setText("Pause" if on else "Play")
