"""Tabs built the first time they are shown, so that the window opens with only the one in view.

Building a tab with many plots takes a noticeable part of a second; the window opens faster when
the tabs not in view wait. Each lazy tab holds an empty placeholder page until it is shown (or
its widget is asked for), and then the real widget takes the placeholder's place, at the same
index, with the same title. Once the window is up and idle, :meth:`LazyTabs.build_when_idle`
builds the rest one at a time in the background, so that a first click on a tab shows it at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

IDLE_START_MS = 1000  # after the window shows: its first frames and steps go first
IDLE_GAP_MS = 250  # between two tabs built in the background: input and frames in between


class LazyTabs:
    """The lazy tabs of ``tabs``; connect to ``tabs.currentChanged`` after creating this, so
    that handlers see the real widget."""

    def __init__(self, tabs: QTabWidget) -> None:
        self.tabs = tabs
        self._factories: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}
        self._built: dict[str, QWidget] = {}
        tabs.currentChanged.connect(self._on_current)
        self._idle = QTimer(tabs)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._build_next)
        self._ready: Callable[[], bool] = lambda: True
        self._stopped = False

    def add(self, title: str, factory: Callable[[], QWidget]) -> None:
        """A tab titled ``title`` whose widget ``factory()`` makes when first needed."""
        placeholder = QWidget()
        self.tabs.addTab(placeholder, title)
        self._factories[title] = (placeholder, factory)

    def get(self, title: str) -> QWidget:
        """The widget of tab ``title``, built now if it was not yet."""
        widget = self._built.get(title)
        if widget is not None:
            return widget
        placeholder, factory = self._factories[title]
        widget = factory()
        self._built[title] = widget
        index = self.tabs.indexOf(placeholder)
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)  # the same tab stays current: nothing changed
        self.tabs.insertTab(index, widget, title)
        self.tabs.removeTab(index + 1)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(blocked)
        placeholder.deleteLater()
        return widget

    def built(self, title: str) -> QWidget | None:
        """The widget of tab ``title`` if it has been built, else None (never builds)."""
        return self._built.get(title)

    def build_when_idle(self, ready: Callable[[], bool] = lambda: True) -> None:
        """Build the tabs not yet built, one per idle moment, starting :data:`IDLE_START_MS`
        from now; a tab is built only while ``ready()`` (e.g. the shown tab's own start-up work
        is done) and no mouse button is held (a drag or a click goes first)."""
        self._ready = ready
        if not self._stopped:
            self._idle.start(IDLE_START_MS)

    def stop(self) -> None:
        """No more building in the background (the window closes)."""
        self._idle.stop()
        self._stopped = True

    def _build_next(self) -> None:
        waiting = [t for t in self._factories if t not in self._built]
        if not waiting or self._stopped:
            return
        if self._ready() and QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self.get(waiting[0])
            if len(waiting) == 1:
                return
        self._idle.start(IDLE_GAP_MS)

    def _on_current(self, index: int) -> None:
        title = self.tabs.tabText(index)
        if title in self._factories and title not in self._built:
            self.get(title)
