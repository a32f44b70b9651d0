"""The challenges: races on 2-D functions (one click loads and runs them) and network situations
(one click opens them in the Playground or the Compare tab)."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.widgets.banner import Banner
from app.widgets.layout import scroll_area
from dlopt_core.course.network_presets import COMPARE, NetworkPreset, get_network_presets
from dlopt_core.data.resources import ResourceError
from dlopt_core.studies import landscape as ls
from dlopt_core.train.experiment import Experiment


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("challengeCard")
    card.setStyleSheet(
        "#challengeCard { border: 1px solid #c9d3df; border-radius: 6px; background: #fbfcfe; }"
    )
    lay = QVBoxLayout(card)
    lay.setContentsMargins(10, 8, 10, 8)
    lay.setSpacing(6)
    head = QLabel(title)
    head.setStyleSheet("font-weight: 700; font-size: 10.5pt; color: #163a63;")
    head.setWordWrap(True)
    lay.addWidget(head)
    return card, lay


class ChallengesView(QWidget):
    """Cards for ``get_challenges()`` and ``get_network_presets()``; a damaged content file
    leaves a note in place of its cards and a message in the banner.

    ``challenge_requested(name)``: the tab loads and runs that race. ``open_in_playground`` and
    ``open_in_compare`` carry a built, validated Experiment (and the optimizer dicts).
    """

    challenge_requested = Signal(str)
    open_in_playground = Signal(object)
    open_in_compare = Signal(object, object)
    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.banner = Banner()
        self.banner.label.setStyleSheet("font-size: 10pt; font-weight: normal;")
        self.challenge_buttons: dict[str, QPushButton] = {}
        self.preset_buttons: dict[tuple[str, str], QPushButton] = {}
        self.problems: list[str] = []  # damaged content files: what is wrong with each

        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(8, 8, 8, 8)
        col.setSpacing(10)
        intro = QLabel(
            "<b>Races on 2-D functions.</b> One click loads the function, the start "
            "point and the optimizers, and runs the race in the <i>2-D functions</i> "
            "view. Each shows one classic difficulty of optimization."
        )
        intro.setWordWrap(True)
        col.addWidget(intro)
        col.addLayout(self._cards(self._challenge_cards))
        intro = QLabel(
            "<b>Training a network.</b> The same difficulties in real training. Each "
            "button opens a small, ready experiment in the Playground (one setting "
            "at a time) or in the Compare tab (several optimizers side by side)."
        )
        intro.setWordWrap(True)
        col.addWidget(intro)
        col.addLayout(self._cards(self._preset_cards))
        col.addStretch(1)

        area = scroll_area(body)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 4, 0)
        lay.addWidget(self.banner)
        lay.addWidget(area, 1)
        if self.problems:
            message = "<br>".join(html.escape(p) for p in self.problems)
            self.banner.show_message("error", f"<b>Damaged content files.</b><br>{message}")

    def _cards(self, fill: Callable[[QGridLayout], None]) -> QGridLayout:
        """A grid of cards filled by ``fill``; a damaged content file leaves, in their place, a
        note of what is wrong (also in ``problems``), and the rest of the tab works."""
        grid = QGridLayout()
        grid.setSpacing(8)
        try:
            fill(grid)
        except ResourceError as exc:
            self.problems.append(str(exc))
            note = QLabel(f"These cannot be shown until the file is mended.\n{exc}")
            note.setWordWrap(True)
            note.setStyleSheet("color: #b3261e;")
            note.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(note, 0, 0)
        return grid

    def _challenge_cards(self, grid: QGridLayout) -> None:
        for i, (name, ch) in enumerate(ls.get_challenges().items()):
            card, lay = _card(ch.title)
            text = QLabel(ch.text.replace("\n", " "))
            text.setWordWrap(True)
            text.setStyleSheet("color: #333;")
            text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            lay.addWidget(text, 1)
            button = QPushButton(f"Run \u201c{ch.title}\u201d")
            runs = ", ".join(r.name for r in ch.runs)
            button.setToolTip(
                f"{ch.text}\n\nFunction: {ch.function}; start {ch.start}; "
                f"runs: {runs}; {ch.steps} steps"
            )
            button.clicked.connect(lambda _=False, n=name: self.request_challenge(n))
            lay.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            self.challenge_buttons[name] = button
            grid.addWidget(card, i // 3, i % 3)

    def _preset_cards(self, grid: QGridLayout) -> None:
        for i, preset in enumerate(get_network_presets().values()):
            card, lay = _card(preset.title)
            text = QLabel(preset.text.replace("\n", " "))
            text.setWordWrap(True)
            text.setStyleSheet("color: #333;")
            text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            lay.addWidget(text, 1)
            row = QHBoxLayout()
            row.setSpacing(4)
            for label in preset.variant_labels():
                button = QPushButton(self._button_text(preset, label))
                button.setToolTip(self._button_tip(preset, label))
                button.clicked.connect(
                    lambda _=False, p=preset.name, v=label: self.open_preset(p, v)
                )
                row.addWidget(button)
                self.preset_buttons[(preset.name, label)] = button
            row.addStretch(1)
            lay.addLayout(row)
            grid.addWidget(card, i // 2, i % 2)

    @staticmethod
    def _button_text(preset: NetworkPreset, label: str) -> str:
        if preset.target == COMPARE:
            return "Open in Compare"
        return f"Playground: {label}" if label else "Open in Playground"

    @staticmethod
    def _button_tip(preset: NetworkPreset, label: str) -> str:
        if preset.target == COMPARE:
            opts = "; ".join(", ".join(f"{k} {v}" for k, v in o.items()) for o in preset.optimizers)
            return f"Open in the Compare tab with: {opts}"
        return f"Open this setting ({label}) in the Playground, ready to train"

    def request_challenge(self, name: str) -> None:
        self.challenge_requested.emit(name)

    def open_preset(self, name: str, variant: str = "") -> Experiment | None:
        """Build preset ``name`` (``variant`` for Playground presets) and emit it."""
        preset = get_network_presets()[name]
        try:
            exp = preset.build(variant)
        except ValueError as exc:
            message = f"{preset.title}: this preset is not valid ({exc})"
            self.banner.show_message("error", message)
            self.status_message.emit(message)
            return None
        text = preset.text.replace("\n", "<br>")
        if preset.target == COMPARE:
            self.open_in_compare.emit(exp, preset.optimizer_dicts())
            where = "Opened in the Compare tab"
        else:
            self.open_in_playground.emit(exp)
            where = "Opened in the Playground" + (f" ({variant})" if variant else "")
        self.banner.show_message("info", f"<b>{where}: {preset.title}.</b><br>{text}")
        self.status_message.emit(f"{where}: {preset.title}")
        return exp
