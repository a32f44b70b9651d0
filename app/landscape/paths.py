"""The 2-D races' paths, computed in a thread of their own.

A path takes the core's compiled update rule a few hundred times (milliseconds once the kernels
are loaded, but the first call of a session loads or, on a fresh install, compiles them), so the
functions view hands each request to :class:`PathRunner` and draws the answer when it comes.
Only the newest request is computed and reported; older ones still queued are skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.exit_guard import stop_at_exit
from app.landscape.runs import RunSpec, run_all
from app.warmup import LANDSCAPE, WARMER, Cancelled
from dlopt_core import landscape as ls


@dataclass(frozen=True)
class PathsRequest:
    """Everything ``run_all`` needs: the function, the runs and the shared settings."""

    fn: ls.TestFunction
    specs: tuple[RunSpec, ...]
    start: tuple[float, float]
    steps: int
    clip_norm: float
    noise: float
    seed: int


class _Flags:
    """Shared between the GUI thread (writes) and the worker (reads): plain attributes."""

    def __init__(self) -> None:
        self.latest = 0
        self.stopping = threading.Event()


class _PathsWorker(QObject):
    done = Signal(int, object)  # serial, list[RunResult]
    failed = Signal(int, str)

    def __init__(self, flags: _Flags) -> None:
        super().__init__()
        self._flags = flags

    @Slot(int, object)
    def compute(self, serial: int, request: PathsRequest) -> None:
        if serial < self._flags.latest:  # a newer request is queued behind this one
            return
        try:
            WARMER.ensure([LANDSCAPE], cancelled=self._flags.stopping.is_set)
            results = run_all(request.fn, request.specs, request.start, request.steps,
                              request.clip_norm, request.noise, request.seed)
        except Cancelled:
            return
        except Exception as exc:  # a message for the user, never a crash
            self.failed.emit(serial, str(exc) or type(exc).__name__)
            return
        self.done.emit(serial, results)


class PathRunner(QObject):
    """The GUI side: starts the thread on first use; ``finished(results)`` answers the newest
    request, ``failed(message)`` says why it could not."""

    finished = Signal(object)  # list[RunResult]
    failed = Signal(str)
    _compute = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flags = _Flags()
        self.thread: QThread | None = None
        self.worker: _PathsWorker | None = None
        self.serial = 0
        self._answered = 0
        stop_at_exit(self)

    @property
    def busy(self) -> bool:
        """Whether the newest request has not been answered yet."""
        return self._answered < self.serial

    def submit(self, request: PathsRequest) -> int:
        """Compute ``request`` (any earlier one still queued is skipped); its serial."""
        if self.thread is None:
            self.thread = QThread()
            self.thread.setObjectName("dlopt-paths")
            self.worker = _PathsWorker(self._flags)
            self.worker.moveToThread(self.thread)
            self._compute.connect(self.worker.compute)
            self.worker.done.connect(self._on_done)
            self.worker.failed.connect(self._on_failed)
            self.thread.finished.connect(self.worker.deleteLater)
            self.thread.start()
        self.serial += 1
        self._flags.latest = self.serial
        self._compute.emit(self.serial, request)
        return self.serial

    def _on_done(self, serial: int, results: Sequence) -> None:
        if serial == self.serial:
            self._answered = serial
            self.finished.emit(list(results))

    def _on_failed(self, serial: int, message: str) -> None:
        if serial == self.serial:
            self._answered = serial
            self.failed.emit(message)

    def stop(self, timeout_ms: int = 1000) -> bool:
        """End the thread (a wait for kernels ends at once); whether it ended in time."""
        self._flags.stopping.set()
        self._flags.latest = self.serial + 1  # nothing queued runs any more
        thread = self.thread
        if thread is None or not thread.isRunning():
            return True
        thread.quit()
        if thread.wait(timeout_ms):
            return True
        thread.wait()  # inside one compiled call (or compiling here): it cannot be interrupted
        return False
