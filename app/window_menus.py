"""The main window's menus (File, Training, View, Help), its shortcut table and About box.

``WindowMenus`` is one part of ``app.window.MainWindow``: it builds the menu bar from the
window's commands (which live in ``MainWindow`` and ``app.window_files.WindowFiles``) and lists
every key of the app for Help ▸ Keyboard Shortcuts and the README.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMessageBox

from app.settings import recent_files

# Keys that belong to one tab's own controls (not menu commands): (tab, command, keys)
TAB_KEYS = (
    ("Quiz", "Choose option 1 to 9", "1–9"),
    ("Quiz", "Submit the answer", "Enter"),
    ("Quiz", "Next question", "N"),
)


class WindowMenus:
    """The menu bar of ``MainWindow`` and what describes it (shortcuts, About)."""

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
