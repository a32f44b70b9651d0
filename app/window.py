"""The main window: the tabs, what passes between them, the backend and the status bar.

``MainWindow`` builds the Playground and, when first shown, the other tabs (``app.lazy_tabs``),
routes what one tab opens in another (presets, races, the loss shape), and sets the training
backend. Its menus are ``app.window_menus.WindowMenus``, its experiment file and saved session
``app.window_files.WindowFiles``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QWidget

from app.lazy_tabs import LazyTabs
from app.playground.tab import PlaygroundTab
from app.settings import make_settings
from app.warmup import LANDSCAPE, WARMER
from app.window_files import WindowFiles
from app.window_menus import WindowMenus
from dlopt_core.course.quiz import Progress, default_progress_path
from dlopt_core.train import backends
from dlopt_core.train.experiment import Experiment, ExperimentError, example
from dlopt_core.train.optimizers import optimizer_from_dict
from dlopt_core.train.schedules import make_schedule

if TYPE_CHECKING:  # the other tabs' modules load when their tab is first shown
    from app.compare.configs import RaceConfig
    from app.compare.tab import CompareTab
    from app.landscape.tab import LandscapeTab
    from app.learn.tab import LearnTab
    from app.quiz.tab import QuizTab

DEFAULT_SIZE = (1400, 900)


COMPARE, LANDSCAPE_TAB, LEARN, QUIZ = "Compare", "Landscape", "Learn", "Quiz"  # lazy tabs


class MainWindow(WindowMenus, WindowFiles, QMainWindow):
    """The dlopt window. ``persist`` (default on) restores and saves geometry and experiment."""

    # once shown, the tabs not in view are built in idle moments (off in screenshot mode, and
    # in tests that do not test it: each tab built is more to wait for and to shut down)
    build_tabs_when_idle = True

    def __init__(
        self,
        experiment: Experiment | None = None,
        *,
        settings: QSettings | None = None,
        persist: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else make_settings()
        self.persist = persist
        self.show_dialogs = True  # off in screenshot mode: errors go to the caller instead
        self.path: str | None = None
        self._pending_path: str | None = None
        self._closed = False
        self._edited = False  # the user changed the experiment since it was opened or saved
        self.startup_problems: list[str] = []  # damaged user files, shown once after start-up
        if experiment is None and persist:
            experiment, self.path = self._restored_experiment()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.playground = PlaygroundTab(experiment or example())
        self.tabs.addTab(self.playground, self.playground.title)
        # the other tabs are built when first shown: the window opens sooner
        self.pages = LazyTabs(self.tabs)
        for title, make in (
            (COMPARE, self._make_compare),
            (LANDSCAPE_TAB, self._make_landscape),
            (LEARN, self._make_learn),
            (QUIZ, self._make_quiz),
        ):
            self.pages.add(title, make)
        WARMER.prefetch([LANDSCAPE])  # compiled after the Playground's, on a first start
        # read now, so that a damaged file is reported at start-up; the tab gets it when built
        self._quiz_progress = Progress.load(self._progress_path())
        self.setCentralWidget(self.tabs)
        self._wire_tabs()
        # sized to its content at the right: the room on the left shows transient messages
        # ("saved …"); with a stretch it would take the whole bar and they would never show
        self.statusBar().addPermanentWidget(self.playground.status)
        self.statusBar().setSizeGripEnabled(True)
        self._make_menus()
        self.playground.experimentEdited.connect(self._mark_edited)
        self.playground.buildSucceeded.connect(self._build_succeeded)
        self.playground.buildFailed.connect(self._build_failed)
        self.playground.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 6000))
        self.resize(*DEFAULT_SIZE)
        if persist:
            self._restore_geometry()
        saved = str(self.settings.value("training/backend", "cpu"))
        if saved not in backends.BACKENDS or (saved != "cpu" and not self._usable(saved)):
            saved = "cpu"
        if saved != "cpu":
            self.set_backend(saved)
        self._check_backend(saved)
        self._update_title()
        if self._quiz_progress.load_error:
            self.startup_problems.append(f"{self._quiz_progress.load_error}.")
        if self.startup_problems:
            QTimer.singleShot(0, self._show_startup_problems)

    def _show_startup_problems(self) -> None:
        """Say once what was damaged and what was done about it (nothing is lost silently)."""
        if self.show_dialogs and self.startup_problems and not self._closed:
            QMessageBox.warning(
                self, "Damaged files were set aside", "\n\n".join(self.startup_problems)
            )

    @staticmethod
    def _usable(name: str) -> bool:
        try:
            backends.resolve(name)
        except backends.BackendError:
            return False
        return True

    def select_tab(self, name: str) -> bool:
        """Show the tab titled ``name`` (case-insensitive); False if there is none."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).replace("&", "").lower() == name.lower():
                self.tabs.setCurrentIndex(i)
                return True
        return False

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(i).replace("&", "") for i in range(self.tabs.count())]

    # -- the tabs together -------------------------------------------------------------------------
    def _progress_path(self) -> str:
        """Quiz progress beside an INI settings file (tests), else in the user's data folder."""
        if os.environ.get("DLOPT_SETTINGS") or self.settings.format() == QSettings.Format.IniFormat:
            return str(Path(self.settings.fileName()).with_name("quiz-progress.json"))
        return str(default_progress_path())

    def _wire_tabs(self) -> None:
        # Space, S and R drive the Playground only while it is shown: elsewhere they are the
        # keys of the other tabs' controls (check boxes, the quiz)
        self.tabs.currentChanged.connect(self._tab_changed)

    # the tabs built when first shown (``LazyTabs``), and what each is wired to
    @property
    def compare(self) -> CompareTab:
        return self.pages.get(COMPARE)

    @property
    def landscape(self) -> LandscapeTab:
        return self.pages.get(LANDSCAPE_TAB)

    @property
    def learn(self) -> LearnTab:
        return self.pages.get(LEARN)

    @property
    def quiz(self) -> QuizTab:
        return self.pages.get(QUIZ)

    def _show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    def _make_compare(self) -> CompareTab:
        from app.compare.tab import CompareTab

        tab = CompareTab(lambda: self.playground.experiment)
        if self.playground.backend != "cpu":
            tab.set_backend(self.playground.backend)
        tab.status_message.connect(self._show_status)
        tab.send_to_playground.connect(self._use_from_compare)
        return tab

    def _make_landscape(self) -> LandscapeTab:
        from app.landscape.tab import LandscapeTab

        tab = LandscapeTab()
        tab.status_message.connect(self._show_status)
        tab.open_in_playground.connect(self.open_in_playground)
        tab.open_in_compare.connect(self.open_in_compare)
        return tab

    def _make_learn(self) -> LearnTab:
        from app.learn.tab import LearnTab

        tab = LearnTab()
        tab.status_message.connect(self._show_status)
        tab.open_preset.connect(self.open_preset)
        return tab

    def _make_quiz(self) -> QuizTab:
        from app.quiz.tab import QuizTab

        tab = QuizTab(progress_path=self._progress_path(), progress=self._quiz_progress)
        tab.status_message.connect(self._show_status)
        tab.open_preset.connect(self.open_preset)
        tab.show_lesson.connect(self.show_lesson)
        return tab

    def _tab_changed(self, index: int) -> None:
        on_playground = self.tabs.widget(index) is self.playground
        for action in self.playground.transport_actions():
            action.setEnabled(on_playground)

    def open_in_playground(self, exp: Experiment) -> bool:
        """Show ``exp``, an experiment that does not come from the window's file (a lesson's, a
        question's or a challenge's), in the Playground; False when the user kept the edited
        experiment instead."""
        if not self._show_foreign(exp):
            return False
        self._show_playground()
        return True

    def _use_from_compare(self, exp: Experiment) -> None:
        """A configuration or rate chosen in the Compare tab: an edit of the current experiment,
        which keeps its file (Save writes the choice there)."""
        self.playground.set_experiment(exp)
        self._mark_edited()
        self._show_playground()

    def _show_foreign(self, exp: Experiment) -> bool:
        """Show an experiment that does not come from the window's file: the window forgets the
        file (the title names the experiment, marked modified), so that Save asks for a name
        instead of writing it over that file. Unsaved edits are saved or discarded first, or
        the user cancels (False, nothing changes)."""
        if not self.may_replace("opening another experiment"):
            return False
        self._edited = False  # not saved, but not the user's work either: nothing to lose yet
        self.path = None
        self._pending_path = None  # a file still loading is superseded too
        self.playground.set_experiment(exp)
        self.setWindowModified(True)
        self._update_title()
        return True

    def _show_playground(self) -> None:
        self.select_tab("Playground")
        # the tab itself takes the focus (not the first number box of its panels), so that
        # Space, S and R drive the run at once
        self.playground.setFocus(Qt.FocusReason.OtherFocusReason)

    def open_in_compare(
        self, exp: Experiment, optimizers: list, steps: int = 0, target: float | None = None
    ) -> bool:
        """Show ``exp`` in the Playground (the race trains on its data) and race ``optimizers``
        at once: the previous race's curves and results go, ``steps`` (0: the tab's own) and
        ``target`` (None: the tab's own) are the new race's."""
        try:
            configs = [_race_config(dict(d)) for d in optimizers]
        except (KeyError, TypeError, ValueError) as exc:
            QMessageBox.warning(self, "Cannot open this comparison", str(exc))
            return False
        if not self._show_foreign(exp):
            return False
        self.select_tab("Compare")
        self.compare.show_race(configs[:8], steps=steps, target=target)
        return True

    def open_preset(self, preset) -> None:
        """Open a lesson or quiz preset in the tab it names."""
        try:
            if preset.tab == "landscape":
                self.landscape.load_preset(preset)
                self.select_tab("Landscape")
            elif preset.tab == "compare":
                if not self.open_in_compare(
                    preset.build_experiment(), list(preset.optimizers), preset.steps, preset.target
                ):
                    return
            else:
                if not self.open_in_playground(preset.build_experiment()):
                    return
                self.playground.show_sharpness("sharpness" in preset.plots)
                self.playground.play(True)  # "Try it" shows the run, not a paused start
        except (ExperimentError, ValueError) as exc:
            QMessageBox.warning(self, "Cannot open this preset", f"{preset.title}: {exc}")
            return
        self.statusBar().showMessage(f"Opened “{preset.title}”", 6000)

    def show_lesson(self, lesson_id: str) -> None:
        if self.learn.show_lesson(lesson_id):
            self.select_tab("Learn")

    def show_loss_shape(self) -> bool:
        """Send the Playground's network, start and current parameters to the Landscape tab."""
        args = self.playground.loss_shape_inputs()
        if args is None:
            self.statusBar().showMessage(
                "Train in the Playground first: there is no run yet.", 6000
            )
            return False
        self.landscape.set_trained_network(*args)
        self.select_tab("Landscape")
        self.landscape.views.setCurrentWidget(self.landscape.shape)
        return True

    def set_backend(self, name: str) -> bool:
        """Train on ``name`` ("auto", "cpu" or "cuda"); a backend that cannot run is refused."""
        try:
            backend = backends.resolve(name)
        except backends.BackendError as exc:
            if self.show_dialogs:
                QMessageBox.warning(self, "Backend not available", str(exc))
            self._check_backend(self.playground.backend)
            return False
        self.playground.set_backend(name)
        compare = self.pages.built(COMPARE)  # one built later starts with this one
        if compare is not None:
            compare.set_backend(name)
        self.settings.setValue("training/backend", name)
        self._check_backend(name)
        self.statusBar().showMessage(f"Backend: {backend.note}", 6000)
        return True

    def _check_backend(self, name: str) -> None:
        for action in self.backend_actions.actions():
            action.setChecked(action.data() == name)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.build_tabs_when_idle and not self._closed:
            # after the Playground's kernels: a first start compiles them, and its first steps
            # come before the tabs not in view
            self.pages.build_when_idle(lambda: self.playground.kernels_ready)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self._closed and not self.may_replace("quitting"):
            event.ignore()
            return
        if not self._closed:
            self._closed = True
            self.pages.stop()
            if self.persist:
                self._save_settings()
            self.hide()  # gone at once
            for title in (COMPARE, LANDSCAPE_TAB, LEARN, QUIZ):
                tab = self.pages.built(title)
                if tab is not None:
                    tab.shutdown()
            self.playground.shutdown()
            WARMER.stop()  # a first start's compile in its own process: not waited for
        super().closeEvent(event)


def _race_config(entry: dict) -> RaceConfig:
    """A Compare-tab row from an optimizer dict: ``name``, hyper-parameters, optional ``label``,
    ``schedule`` dict, ``clip_norm`` and ``noise`` (the last two only matter on the landscape)."""
    from app.compare.configs import RaceConfig

    for key in ("label", "clip_norm", "noise"):
        entry.pop(key, None)
    sched_raw = dict(entry.pop("schedule", None) or {"name": "constant"})
    schedule = make_schedule(sched_raw.pop("name", "constant"), **sched_raw)
    opt = optimizer_from_dict(entry)
    exp = Experiment(optimizer=opt, schedule=schedule)
    return RaceConfig.from_experiment(exp)
