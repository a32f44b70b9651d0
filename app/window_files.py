"""The main window's experiment file and session: New, Open, Save, exports, the title.

``WindowFiles`` is one part of ``app.window.MainWindow``: it opens and saves the Playground's
experiment (asking before unsaved edits are lost), exports its curves and plots, keeps the
recent files and the window title, and restores and saves the session (the last experiment, the
geometry, the splitters and the tab shown) in the window's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.settings import add_recent_file, remove_recent_file
from dlopt_core.train.experiment import Experiment, ExperimentError, example

JSON_FILTER = "dlopt experiments (*.json);;All files (*)"


class WindowFiles:
    """The experiment file and the saved session of ``MainWindow``."""

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
