"""The Learn tab: the lessons in order, each with its "Try it" presets.

Left, the list of lessons; right, the lesson text (``LessonView``) and under it the lesson's
"Try it" buttons with what to look for. ``preset:ID`` links and buttons emit ``open_preset`` with
the ``dlopt_core.course.lessons.Preset``; the main window routes it by ``preset.tab`` to the
Playground,
Compare or Landscape tab. The "What is optimization?" lesson also shows the live comparison of
grid search, random search and gradient descent (``SearchComparisonPanel``).
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.learn.search_panel import LESSON_ID as SEARCH_LESSON_ID
from app.learn.search_panel import SearchComparisonPanel
from app.learn.view import LessonView
from app.widgets.banner import Banner
from app.widgets.text import math_marks, sentence_start
from dlopt_core.course.lessons import (
    Lesson,
    LessonError,
    Preset,
    load_lessons,
    load_presets,
    markdown_to_html,
    resources_dir,
)

TAB_NAMES = {"playground": "Playground", "compare": "Compare", "landscape": "Landscape"}
_TRY_PREFIX = re.compile(r"^\s*try it\s*:\s*", re.IGNORECASE)
_ITEM_START = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def button_text(label: str) -> str:
    """``"Try it: one neuron on XOR"`` -> ``"One neuron on XOR"``."""
    text = _TRY_PREFIX.sub("", label).strip()
    return sentence_start(text)


def look_for(markdown: str, preset_id: str) -> str:
    """What the lesson says to look for with a preset: the rest of the list item (or paragraph)
    holding its link, after the link and a leading dash; empty if there is none."""
    lines = markdown.splitlines()
    target = f"(preset:{preset_id})"
    for i, line in enumerate(lines):
        at = line.find(target)
        if at < 0:
            continue
        parts = [line[at + len(target) :]]
        for nxt in lines[i + 1 :]:
            if not nxt.strip() or _ITEM_START.match(nxt) or nxt.lstrip().startswith("#"):
                break
            parts.append(nxt.strip())
        text = " ".join(p.strip() for p in parts).strip()
        text = re.sub(r"^[\s—–:-]+", "", text).strip()
        return sentence_start(text)
    return ""


class _FitScroll(QScrollArea):
    """A scroll area whose widget is always as tall as its wrapped text needs at the current
    width (QScrollArea alone can squeeze word-wrapped labels into each other)."""

    needChanged = Signal(int)  # the height the widget needs now

    def fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        layout = widget.layout()
        if layout is not None:
            layout.activate()
        width = self.viewport().width()
        need = widget.heightForWidth(width) if widget.hasHeightForWidth() else -1
        need = max(need, widget.minimumSizeHint().height(), 0)
        if need != widget.minimumHeight():
            widget.setMinimumHeight(need)
            self.needChanged.emit(need)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.fit()


class LearnTab(QWidget):
    """Lessons with their presets; see the module docstring."""

    title = "Learn"
    open_preset = Signal(object)  # dlopt_core.course.lessons.Preset
    status_message = Signal(str)

    def __init__(
        self,
        lessons_dir: str | Path | None = None,
        presets_path: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        root = resources_dir()
        self.lessons_dir = Path(lessons_dir) if lessons_dir is not None else root / "lessons"
        self.presets_path = (
            Path(presets_path) if presets_path is not None else self.lessons_dir / "presets.json"
        )
        self.errors: list[str] = []
        self.lessons: list[Lesson] = []
        self.presets: dict[str, Preset] = {}
        self.current: Lesson | None = None
        self.try_buttons: list[QPushButton] = []
        self.search_panel: SearchComparisonPanel | None = None
        self._build_ui()
        self.reload()

    # -- building ----------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.banner = Banner()
        self.lesson_list = QListWidget()
        self.lesson_list.setMinimumWidth(200)
        self.lesson_list.setSpacing(2)
        self.lesson_list.setWordWrap(True)
        self.lesson_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = self.lesson_list.font()
        font.setPointSizeF(font.pointSizeF() + 1)
        self.lesson_list.setFont(font)
        self.lesson_list.currentItemChanged.connect(self._on_item)

        self.view = LessonView()
        self.view.presetClicked.connect(self.open_preset_id)
        self.view.lessonClicked.connect(self.show_lesson)

        self.try_box = QGroupBox("Try it in the app")
        self.try_grid = QGridLayout(self.try_box)
        self.try_grid.setColumnStretch(1, 1)
        self.try_grid.setHorizontalSpacing(12)

        self.extras = QWidget()  # under the text: the lesson's live panel, when it has one
        extras_layout = QVBoxLayout(self.extras)
        extras_layout.setContentsMargins(8, 4, 8, 4)
        extras_layout.addStretch(1)
        self.extras_layout = extras_layout
        self.extras_scroll = _FitScroll()
        self.extras_scroll.setWidgetResizable(True)
        self.extras_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.extras_scroll.setWidget(self.extras)
        self.extras_scroll.needChanged.connect(lambda _h: QTimer.singleShot(0, self._refit))

        self.reader = QSplitter(Qt.Orientation.Vertical)
        self.reader.addWidget(self.view)
        self.reader.addWidget(self.extras_scroll)
        self.reader.setStretchFactor(0, 3)
        self.reader.setStretchFactor(1, 1)
        self.reader.setChildrenCollapsible(False)
        self._user_split = False  # the user dragged the reader's splitter: keep their choice
        self.reader.splitterMoved.connect(self._on_split_moved)

        # the "Try it" buttons sit below the reader, never inside a scroll area: always in view
        reading = QWidget()
        reading_layout = QVBoxLayout(reading)
        reading_layout.setContentsMargins(0, 0, 0, 0)
        reading_layout.setSpacing(4)
        reading_layout.addWidget(self.reader, 1)
        reading_layout.addWidget(self.try_box)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.lesson_list)
        splitter.addWidget(reading)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 900])
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)

    def reload(self) -> None:
        """(Re)load the lessons and presets from disk; problems show in the banner."""
        errors: list[str] = []
        self.lessons = load_lessons(self.lessons_dir, errors) if self.lessons_dir.is_dir() else []
        if not self.lessons_dir.is_dir():
            errors.append(f"{self.lessons_dir}: no such folder")
        try:
            self.presets = load_presets(self.presets_path)
        except LessonError as exc:
            self.presets = {}
            errors.append(f"{exc} (the \u201cTry it\u201d buttons are disabled)")
        self.errors = errors
        if errors:
            self.banner.show_message(
                "error",
                "Some lesson files could not be used:\n" + "\n".join(f"\u2022 {e}" for e in errors),
            )
        else:
            self.banner.clear()
        previous = self.current.id if self.current else None
        self.lesson_list.blockSignals(True)
        self.lesson_list.clear()
        for number, lesson in enumerate(self.lessons, start=1):
            item = QListWidgetItem(f"{number}.  {lesson.title}")
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setToolTip(lesson.title)
            self.lesson_list.addItem(item)
        self.lesson_list.blockSignals(False)
        self.current = None
        if self.lessons:
            ids = [lesson.id for lesson in self.lessons]
            self.show_lesson(previous if previous in ids else ids[0])
        else:
            self.view.set_lesson_html("<p>No lessons found.</p>")

    # -- API ---------------------------------------------------------------------------------------
    def lesson_ids(self) -> list[str]:
        """The lesson ids in the order listed."""
        return [
            self.lesson_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.lesson_list.count())
        ]

    def show_lesson(self, lesson_id: str) -> bool:
        """Select and show a lesson; False if there is no such lesson."""
        for i in range(self.lesson_list.count()):
            if self.lesson_list.item(i).data(Qt.ItemDataRole.UserRole) == lesson_id:
                if self.lesson_list.currentRow() == i:  # no change signal: show it directly
                    if self.current is None or self.current.id != lesson_id:
                        self._on_item(self.lesson_list.item(i))
                else:
                    self.lesson_list.setCurrentRow(i)
                return True
        self.status_message.emit(f"No lesson {lesson_id!r}")
        return False

    def open_preset_id(self, preset_id: str) -> bool:
        """Emit ``open_preset`` for a preset id; False (and a status message) if it is unknown."""
        preset = self.presets.get(preset_id)
        if preset is None:
            self.status_message.emit(f"Unknown preset {preset_id!r}")
            return False
        self.status_message.emit(
            f"Opening \u201c{preset.title}\u201d in the {TAB_NAMES.get(preset.tab, preset.tab)} tab"
        )
        self.open_preset.emit(preset)
        return True

    # -- internals ---------------------------------------------------------------------------------
    def _on_item(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        lesson_id = item.data(Qt.ItemDataRole.UserRole)
        lesson = next((x for x in self.lessons if x.id == lesson_id), None)
        if lesson is None:
            return
        self.current = lesson
        self.view.set_lesson_html(lesson.html)
        self._fill_try_box(lesson)
        self._show_search_panel(lesson.id == SEARCH_LESSON_ID)

    def _try_entries(self, lesson: Lesson) -> list[tuple[str, str, str]]:
        """``(button text, preset id, what to look for)`` of a lesson: its links in order, then
        header presets that the text does not link to."""
        entries = []
        seen = set()
        for label, pid in lesson.links:
            if pid in seen:
                continue
            seen.add(pid)
            entries.append((button_text(label), pid, look_for(lesson.markdown, pid)))
        for pid in lesson.presets:
            if pid not in seen:
                seen.add(pid)
                preset = self.presets.get(pid)
                entries.append((preset.title if preset else pid, pid, ""))
        return entries

    def _fill_try_box(self, lesson: Lesson) -> None:
        while self.try_grid.count():
            widget = self.try_grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self.try_buttons = []
        entries = self._try_entries(lesson)
        for row, (text, pid, hint) in enumerate(entries):
            preset = self.presets.get(pid)
            tab = TAB_NAMES.get(preset.tab, preset.tab) if preset else "?"
            button = QPushButton(f"\u25b6  {text}")
            button.setProperty("preset_id", pid)
            button.setEnabled(preset is not None)
            button.setToolTip(
                f"Opens in the {tab} tab.\n\n{preset.description}"
                if preset
                else f"Preset {pid!r} is not available"
            )
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            button.setStyleSheet("text-align: left; padding: 4px 10px;")
            button.clicked.connect(lambda _checked=False, p=pid: self.open_preset_id(p))
            if not hint and preset is not None:
                hint = preset.description
            label = QLabel(math_marks(markdown_to_html(hint)) if hint else "")
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setToolTip(f"Opens in the {tab} tab")
            self.try_grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
            self.try_grid.addWidget(label, row, 1)
            self.try_buttons.append(button)
        self.try_box.setVisible(bool(entries))
        self._fit_reader()

    def _show_search_panel(self, visible: bool) -> None:
        if visible and self.search_panel is None:
            self.search_panel = SearchComparisonPanel()
            self.search_panel.compared.connect(self._on_compared)
            self.extras_layout.insertWidget(0, self.search_panel)
        if self.search_panel is not None:
            self.search_panel.setVisible(visible)
        self._fit_reader()

    def _fit_reader(self) -> None:
        """Give the panel under the text the height it needs, within a share of the reader."""
        self.extras_scroll.fit()
        total = sum(self.reader.sizes())
        if total <= 0:
            return
        has_panel = self.search_panel is not None and not self.search_panel.isHidden()
        self.extras_scroll.setVisible(has_panel)
        if not has_panel:
            return
        need = self.extras.minimumHeight() + 2 * self.extras_scroll.frameWidth() + 8
        bottom = min(need, int(total * 0.6))
        self.reader.blockSignals(True)
        self.reader.setSizes([total - bottom, bottom])
        self.reader.blockSignals(False)

    def _on_split_moved(self, _pos: int, _index: int) -> None:
        self._user_split = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._fit_reader()
        QTimer.singleShot(0, self._refit)

    def _refit(self) -> None:
        if not self._user_split:
            self._fit_reader()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if not self._user_split:
            self._fit_reader()

    def shutdown(self) -> None:
        """End the search comparison's thread, if it was started."""
        if self.search_panel is not None:
            self.search_panel.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)

    def _on_compared(self, comparison) -> None:
        best = min(
            (r for r in comparison.results if r.reached), default=None, key=lambda r: r.evaluations
        )
        # it arrives from a thread: not a note on another tab the user has gone to meanwhile
        if best is not None and self.isVisible():
            self.status_message.emit(
                f"{best.label} needed the fewest evaluations: {best.evaluations:,}"
            )
