"""A seeded monkey: random clicks, choices and steps on every tab while the Playground trains.

pytest-qt turns an exception in any slot into a failure; Qt warnings are collected and must not
appear. File dialogs (Open CSV, Open, Save, Export) are left out: they would wait for a person.
"""

import random
import time

import pytest
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QTabBar,
    QWidget,
)

from app.window import MainWindow

KINDS = (
    QComboBox,
    QSpinBox,
    QDoubleSpinBox,
    QCheckBox,
    QPushButton,
    QSlider,
    QRadioButton,
    QTabBar,
)
DIALOG_WORDS = ("CSV", "Open", "Save", "Export")


def _pump(qtbot, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(5)


def _poke(widget: QWidget, rng: random.Random) -> None:
    if isinstance(widget, QTabBar):  # the pages inside a tab (Race, Learning rate, ...)
        widget.setCurrentIndex(rng.randrange(widget.count()))
    elif isinstance(widget, QComboBox):
        j = rng.randrange(widget.count())
        if any(w in widget.itemText(j) for w in DIALOG_WORDS):
            return
        widget.setCurrentIndex(j)
        widget.activated.emit(j)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.stepBy(rng.choice([-3, -1, 1, 2, 5]))
    elif isinstance(widget, QSlider):
        widget.setValue(rng.randint(widget.minimum(), widget.maximum()))
    elif isinstance(widget, QCheckBox | QRadioButton):
        widget.click()
    elif not any(w in widget.text() for w in DIALOG_WORDS):
        widget.click()


@pytest.mark.parametrize("tab_name", ["Playground", "Compare", "Landscape", "Learn", "Quiz"])
def test_random_use_raises_nothing_and_warns_nothing(qtbot, qtlog, tab_name):
    win = MainWindow(None, persist=False)
    win.show_dialogs = False
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitUntil(lambda: win.playground.snapshot is not None, timeout=20_000)
    win.select_tab(tab_name)
    root = win.tabs.currentWidget()
    win.playground.transport.play.setChecked(True)
    rng = random.Random(tab_name)
    for _ in range(120):
        if win.tabs.currentWidget() is not root:  # a "Try it" or "Show me" went elsewhere
            win.select_tab(tab_name)
        widgets = [
            w
            for w in root.findChildren(QWidget)
            if isinstance(w, KINDS) and w.isVisible() and w.isEnabled()
        ]
        _poke(rng.choice(widgets), rng)
        _pump(qtbot, rng.choice([0.0, 0.01, 0.05]))
    _pump(qtbot, 0.5)
    win.close()
    noise = ("propagateSizeHints",)  # the offscreen platform's own note
    messages = [r.message for r in qtlog.records if not any(n in r.message for n in noise)]
    assert messages == []
