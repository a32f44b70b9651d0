"""The main window: tabs, the File and Training menus, the status bar and saved settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget, QWidget

from app.lazy_tabs import LazyTabs
from app.playground.tab import PlaygroundTab
from app.settings import add_recent_file, make_settings, recent_files, remove_recent_file
from app.warmup import LANDSCAPE, WARMER
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
JSON_FILTER = "dlopt experiments (*.json);;All files (*)"


COMPARE, LANDSCAPE_TAB, LEARN, QUIZ = "Compare", "Landscape", "Learn", "Quiz"  # lazy tabs

# Keys that belong to one tab's own controls (not menu commands): (tab, command, keys)
TAB_KEYS = (
    ("Quiz", "Choose option 1 to 9", "1–9"),
    ("Quiz", "Submit the answer", "Enter"),
    ("Quiz", "Next question", "N"),
)


class MainWindow(QMainWindow):
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

    # -- menus ------------------------------------------------------------------------------------
    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.act_new = self._action(file, "&New", QKeySequence.StandardKey.New, self.new)
        self.act_open = self._action(
            file, "&Open\u2026", QKeySequence.StandardKey.Open, self.open_dialog
        )
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self.act_save = self._action(file, "&Save", QKeySequence.StandardKey.Save, self.save)
        self.act_save_as = self._action(
            file, "Save &As\u2026", QKeySequence.StandardKey.SaveAs, self.save_as
        )
        file.addSeparator()
        self.act_export_csv = self._action(
            file, "Export Curves as &CSV\u2026", None, self.export_csv_dialog
        )
        self.act_export_png = self._action(
            file, "Export Plot as &PNG\u2026", None, self.export_png_dialog
        )
        file.addSeparator()
        self.act_quit = self._action(
            file, "&Quit", QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_Q), self.close
        )
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        training = bar.addMenu("&Training")
        for action in self.playground.transport_actions():
            training.addAction(action)
        training.addSeparator()
        self.act_loss_shape = self._action(
            training,
            "Show the &Loss Shape of This Run",
            QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_L),
            self.show_loss_shape,
        )
        self.act_loss_shape.setStatusTip(
            "Interpolation and a 2-D slice of the loss around the "
            "Playground's current parameters (Landscape tab)"
        )
        backend_menu = training.addMenu("&Backend")
        self.backend_actions = QActionGroup(self)
        for name, text in (
            ("auto", "&Auto (GPU when present)"),
            ("cpu", "&CPU"),
            ("cuda", "CU&DA (NVIDIA GPU)"),
        ):
            action = backend_menu.addAction(text)
            action.setCheckable(True)
            action.setData(name)
            action.triggered.connect(lambda _=False, n=name: self.set_backend(n))
            self.backend_actions.addAction(action)
        view = bar.addMenu("&View")
        self.tab_actions: list[QAction] = []
        for i, name in enumerate(self.tab_names()):
            action = self._action(
                view,
                f"&{name}",
                QKeySequence(f"Ctrl+{i + 1}"),
                lambda _=False, n=name: self.select_tab(n),
            )
            action.setStatusTip(f"Show the {name} tab")
            self.tab_actions.append(action)
        help_menu = bar.addMenu("&Help")
        self.act_shortcuts = self._action(
            help_menu,
            "&Keyboard Shortcuts",
            QKeySequence(QKeySequence.StandardKey.HelpContents),
            self.show_shortcuts,
        )
        self._action(help_menu, "&About dlopt", None, self._about)
        self._fill_recent()

    def _action(self, menu, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self.settings)
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_file(p))
        if not files:
            empty = self.recent_menu.addAction("(none)")
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.setValue("files/recent", [])

    # -- files ------------------------------------------------------------------------------------
    @property
    def experiment(self) -> Experiment:
        return self.playground.experiment

    def _mark_edited(self) -> None:
        self._edited = True
        self.setWindowModified(True)

    def ask_unsaved(self, action: str) -> QMessageBox.StandardButton:
        """Ask whether to save the edited experiment before ``action`` ("opening another
        experiment"): Save, Discard or Cancel."""
        name = Path(self.path).name if self.path else (self.experiment.name or "untitled")
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Discard changes?",
            f"The experiment \u201c{name}\u201d has changes that are not saved.",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(f"Save them before {action}?")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        return QMessageBox.StandardButton(box.exec())

    def may_replace(self, action: str) -> bool:
        """Whether the experiment may give way (to another, or to quitting): it has no unsaved
        edits, or the user saved it or discarded them; False when the user cancelled (or the
        save was cancelled or failed), and nothing changes."""
        if not self._edited:
            return True
        choice = self.ask_unsaved(action)
        if choice == QMessageBox.StandardButton.Save:
            return self.save()
        return choice == QMessageBox.StandardButton.Discard

    def new(self) -> None:
        if not self.may_replace("starting a new experiment"):
            return
        self._edited = False
        self.path = None
        self._pending_path = None
        self.playground.set_experiment(example())
        self.setWindowModified(False)
        self._update_title()

    def open_dialog(self) -> None:
        if not self.may_replace("opening another experiment"):
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an experiment", self._last_dir(), JSON_FILTER
        )
        if path:
            self.open_file(path, ask=False)

    def open_file(self, path: str, ask: bool = True) -> bool:
        """Load the experiment in ``path``; a bad file leaves the current one untouched. With
        ``ask``, unsaved edits of the current one are first saved or discarded (or the user
        cancels: False)."""
        if ask and not self.may_replace("opening another experiment"):
            return False
        try:
            exp = Experiment.load(path)
        except ExperimentError as exc:
            QMessageBox.critical(
                self, "Cannot open the experiment", f"{Path(path).name} cannot be opened:\n\n{exc}"
            )
            if not Path(path).exists():
                remove_recent_file(self.settings, str(path))
            return False
        self._pending_path = str(Path(path).resolve())
        self.settings.setValue("files/last_dir", str(Path(path).resolve().parent))
        self._edited = False
        self.playground.set_experiment(exp)
        return True

    def save(self) -> bool:
        """Write the experiment to its file; while an opened file is still being built, the
        window's path is still the previous file's, so ask for a name instead."""
        if self.path is None or self._pending_path is not None:
            return self.save_as()
        return self._write(self.path)

    def save_as(self) -> bool:
        suggested = self.path or str(Path(self._last_dir()) / "experiment.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save the experiment", suggested, JSON_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".json"
        return self._write(path)

    def _write(self, path: str) -> bool:
        try:
            self.experiment.save(path)
        except OSError as exc:
            QMessageBox.critical(
                self,
                "Cannot save the experiment",
                f"{path} cannot be written:\n\n{exc.strerror or exc}",
            )
            return False
        self.path = str(Path(path).resolve())
        self.settings.setValue("files/last_dir", str(Path(self.path).parent))
        add_recent_file(self.settings, self.path)
        self._edited = False
        self.setWindowModified(False)
        self._update_title()
        self.statusBar().showMessage(f"saved {self.path}", 4000)
        return True

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the curves as CSV",
            str(Path(self._last_dir()) / "curves.csv"),
            "CSV files (*.csv)",
        )
        if path:
            try:
                rows = self.playground.export_curves(path)
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Cannot export the curves", str(exc))
                return
            self.statusBar().showMessage(f"{rows} rows written to {path}", 4000)

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export the plots as PNG",
            str(Path(self._last_dir()) / "curves.png"),
            "PNG images (*.png)",
        )
        if path:
            if not self.playground.export_plot(path):
                QMessageBox.warning(self, "Cannot export the plot", f"{path} cannot be written")
                return
            self.statusBar().showMessage(f"plot saved to {path}", 4000)

    def _last_dir(self) -> str:
        return str(self.settings.value("files/last_dir", str(Path.home())))

    def _build_succeeded(self) -> None:
        if self._pending_path is not None:
            self.path = self._pending_path
            self._pending_path = None
            add_recent_file(self.settings, self.path)
            self.setWindowModified(False)
            self._update_title()

    def _build_failed(self, message: str) -> None:
        self._pending_path = None
        if not self.show_dialogs:
            return
        QMessageBox.warning(
            self,
            "Cannot use this experiment",
            f"{message}\n\nThe previous experiment (or the example) is back.",
        )

    def _update_title(self) -> None:
        name = Path(self.path).name if self.path else (self.experiment.name or "untitled")
        self.setWindowTitle(f"{name}[*] \u2014 dlopt")

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """``(menu, command, keys)`` of every menu command with a shortcut, then the keys that
        belong to one tab's controls; the Help dialog and the README list the same."""
        rows = []

        def walk(menu, title: str) -> None:
            for action in menu.actions():
                if action.menu() is not None:
                    walk(action.menu(), title)
                elif not action.shortcut().isEmpty():
                    text = action.text().replace("&", "").replace("\u2026", "")
                    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                    rows.append((title, text, keys))

        for top in self.menuBar().actions():
            if top.menu() is not None:
                walk(top.menu(), top.text().replace("&", ""))
        rows += [(tab, text, keys) for tab, text, keys in TAB_KEYS]
        return rows

    def shortcuts_html(self) -> str:
        body = "".join(
            f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{text}&nbsp;&nbsp;</td><td>{menu}</td></tr>"
            for menu, text, keys in self.shortcut_rows()
        )
        return (
            "<table cellspacing='0' cellpadding='4'><tr><th align='left'>Keys</th>"
            "<th align='left'>Command</th><th align='left'>Where</th></tr>"
            f"{body}</table><p>Space, S and R drive the Playground while it is shown, also "
            "from a number box (no number contains them); in text fields and on the other "
            "tabs they reach the controls as usual.</p>"
        )

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts: every key of the app in one table."""
        if not self.show_dialogs:
            return
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.shortcuts_html())
        box.setIcon(QMessageBox.Icon.NoIcon)
        box.exec()

    def about_text(self) -> str:
        """Version and the versions it runs on, for a bug report."""
        import platform

        import numba
        import numpy
        import pyqtgraph
        from PySide6 import __version__ as pyside_version

        import dlopt_core

        return (
            f"<b>dlopt {dlopt_core.__version__}</b> \u2014 a training simulator for learning "
            "how deep networks are optimized.<br><br>"
            f"Python {platform.python_version()} \u00b7 NumPy {numpy.__version__} \u00b7 "
            f"Numba {numba.__version__} \u00b7 PySide6 {pyside_version} \u00b7 "
            f"pyqtgraph {pyqtgraph.__version__}<br>"
            f"Training {self.playground.status.backend.text() or 'backend: not started yet'}"
        )

    def _about(self) -> None:
        QMessageBox.about(self, "About dlopt", self.about_text())

    # -- persistence ------------------------------------------------------------------------------
    def _restored_experiment(self) -> tuple[Experiment | None, str | None]:
        """The experiment of the last session. A damaged one is moved aside (to the setting
        ``session/experiment_damaged``), reported once in ``startup_problems``, and the example
        is used instead."""
        text = self.settings.value("session/experiment", "")
        if not text:
            return None, None
        try:
            exp = Experiment.from_json(str(text), source="the saved session")
        except ExperimentError as exc:
            self.settings.setValue("session/experiment_damaged", str(text))
            self.settings.remove("session/experiment")
            self.settings.remove("session/path")
            self.startup_problems.append(
                f"The experiment of the last session could not be restored: {exc}. It was "
                "moved aside (setting session/experiment_damaged); the example is shown instead."
            )
            return None, None
        path = self.settings.value("session/path", "")
        return exp, (path if isinstance(path, str) and path else None)

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(state)
        for name, splitter in self.playground.splitters.items():
            saved = self.settings.value(f"window/splitter_{name}")
            if isinstance(saved, QByteArray | bytes) and saved:
                splitter.restoreState(saved)
        index = self.settings.value("window/tab", 0)
        try:
            self.tabs.setCurrentIndex(int(index))
        except (TypeError, ValueError, OverflowError):
            pass

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        for name, splitter in self.playground.splitters.items():
            s.setValue(f"window/splitter_{name}", splitter.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.setValue("session/experiment", self.experiment.to_json())
        s.setValue("session/path", self.path or "")
        s.sync()

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
