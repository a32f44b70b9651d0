"""Tabs built the first time they are shown, so that the window opens with only the one in view.

Building a tab with many plots takes a noticeable part of a second; the window opens faster when
the tabs not in view wait. Each lazy tab holds an empty placeholder page until it is shown (or
its widget is asked for), and then the real widget takes the placeholder's place, at the same
index, with the same title.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QTabWidget, QWidget


class LazyTabs:
    """The lazy tabs of ``tabs``; connect to ``tabs.currentChanged`` after creating this, so
    that handlers see the real widget."""

    def __init__(self, tabs: QTabWidget) -> None:
        self.tabs = tabs
        self._factories: dict[str, tuple[QWidget, Callable[[], QWidget]]] = {}
        self._built: dict[str, QWidget] = {}
        tabs.currentChanged.connect(self._on_current)

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

    def _on_current(self, index: int) -> None:
        title = self.tabs.tabText(index)
        if title in self._factories and title not in self._built:
            self.get(title)
