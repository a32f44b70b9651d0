"""``dlopt``: start the desktop app, or take a screenshot of it after some training.

    dlopt [--experiment FILE] [--tab NAME]
    dlopt --screenshot PATH [--experiment FILE] [--steps N] [--tab NAME]

With ``--screenshot`` the window opens (``QT_QPA_PLATFORM=offscreen`` works), trains ``N`` steps at
full speed, waits until the plots show them, saves the window to ``PATH`` and exits 0. A bad
experiment file or option ends with one line on stderr and exit code 2; a machine where the window
cannot open (no display, or missing system libraries of Qt's X11 plugin) with one paragraph that
says what to install and exit code 3, instead of Qt's abort.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

EXIT_USAGE = 2
EXIT_NO_DISPLAY = 3
SCREENSHOT_TIMEOUT_S = 600.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, like a bad file
        print(f"dlopt: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = _Parser(
        prog="dlopt",
        description="A training simulator for learning how deep networks are optimized.",
    )
    p.add_argument("--experiment", metavar="FILE", help="open this experiment (JSON)")
    p.add_argument("--screenshot", metavar="PATH", help="train, save a PNG of the window, exit")
    p.add_argument(
        "--steps",
        type=int,
        default=0,
        metavar="N",
        help="steps to train before the screenshot (default 0)",
    )
    p.add_argument("--tab", metavar="NAME", help="show this tab (e.g. Playground)")
    args = p.parse_args(argv)
    if args.steps < 0:
        p.error(f"--steps must be >= 0, got {args.steps}")
    if args.steps and not args.screenshot:
        p.error("--steps needs --screenshot")
    return args


# Notes of Qt's offscreen platform that say nothing to a user (the window it draws is fine)
QUIET_QT_NOTES = ("This plugin does not support propagateSizeHints()",)


def _quiet_qt_notes() -> None:
    """Drop :data:`QUIET_QT_NOTES` from Qt's messages; every other message goes to stderr as
    before."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_kind, _context, message: str) -> None:
        if message not in QUIET_QT_NOTES:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def _import_pyqtgraph() -> None:
    """Import pyqtgraph without the CUDA runtime bindings it loads at import time.

    pyqtgraph's RawImageWidget imports ``cuda.bindings.runtime`` (installed with numba-cuda) for
    a GPU path that dlopt does not use: about 0.12 s of every start. The module is kept out for
    that one import (pyqtgraph takes an ImportError as "no CUDA") and let in again afterwards, so
    that numba-cuda still imports it where a GPU is used."""
    name = "cuda.bindings.runtime"
    blocked = name not in sys.modules
    if blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import pyqtgraph  # noqa: F401
    finally:
        if blocked and sys.modules.get(name, 0) is None:
            del sys.modules[name]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from dlopt_core.train.experiment import Experiment, ExperimentError

    experiment = None
    if args.experiment:
        try:
            experiment = Experiment.load(args.experiment)
        except ExperimentError as exc:
            print(f"dlopt: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.screenshot and not Path(args.screenshot).resolve().parent.is_dir():
        print(
            f"dlopt: error: --screenshot: folder {Path(args.screenshot).resolve().parent} "
            "does not exist",
            file=sys.stderr,
        )
        return EXIT_USAGE

    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        from app.platform_check import display_problem

        problem = display_problem()
        if problem:  # Qt would abort with a core dump; say what is missing instead
            print(f"dlopt: error: {problem}", file=sys.stderr)
            return EXIT_NO_DISPLAY
    _quiet_qt_notes()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("dlopt")
    app.setApplicationName("dlopt")
    app.setApplicationDisplayName("dlopt")
    app.setStyle("Fusion")

    _import_pyqtgraph()
    from app.window import MainWindow

    window = MainWindow(experiment, persist=not args.screenshot)
    window.show_dialogs = not args.screenshot
    window.build_tabs_when_idle = not args.screenshot  # the picture shows one tab
    if args.tab and not window.select_tab(args.tab):
        names = ", ".join(window.tab_names())
        print(
            f"dlopt: error: --tab: no tab named {args.tab!r}; choose from {names}", file=sys.stderr
        )
        window.persist = False
        window.close()
        return EXIT_USAGE
    if experiment is not None and args.experiment:
        window.path = str(Path(args.experiment).resolve())
        window.setWindowModified(False)
        window._update_title()
    window.show()
    if args.screenshot:
        return _screenshot(app, window, args.screenshot, args.steps)
    return app.exec()


def _screenshot(app, window, path: str, steps: int) -> int:
    """Train ``steps`` steps, wait until they are drawn, save the window and quit."""
    from PySide6.QtCore import QTimer

    tab = window.playground
    state = {"code": None, "started": time.monotonic(), "settled": 0}

    def failed(message: str) -> None:
        print(f"dlopt: error: {message}", file=sys.stderr)
        state["code"] = EXIT_USAGE
        finish()

    def finish() -> None:
        window.close()
        app.exit(state["code"] or 0)

    def poll() -> None:
        if state["code"] is not None:
            return
        if time.monotonic() - state["started"] > SCREENSHOT_TIMEOUT_S:
            print("dlopt: error: timed out waiting for training", file=sys.stderr)
            state["code"] = 1
            finish()
            return
        snap = tab.snapshot
        done = (
            snap is not None
            and not snap.playing
            and (snap.step >= steps or snap.status != "running" or snap.stop_reason)
        )
        landscape = window.pages.built("Landscape")  # its paths arrive from a thread
        done = done and (landscape is None or landscape.functions.paths_ready)
        if done and tab.shown_up_to(snap.step):
            state["settled"] += 1  # a few more frames so that every view has painted
            if state["settled"] >= 3:
                app.processEvents()
                if not window.grab().save(path, "PNG"):
                    print(f"dlopt: error: cannot write {path}", file=sys.stderr)
                    state["code"] = 1
                else:
                    state["code"] = 0
                finish()
                return
        QTimer.singleShot(50, poll)

    tab.buildFailed.connect(failed)
    tab.transport.set_playing(steps > 0)
    if steps > 0:
        tab.run_until(steps)
    QTimer.singleShot(50, poll)
    code = app.exec()
    return state["code"] if state["code"] is not None else code


if __name__ == "__main__":
    sys.exit(main())
