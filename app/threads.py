"""Every worker thread of the app: started, numbered, cancelled, stopped and joined in one way.

:class:`OwnedThread` is a ``QThread`` with the worker object that lives in it and a cancel mark.
It starts the thread, stops it (a cancel, then a bounded wait, then an unbounded one: a compiled
call cannot be interrupted, and a ``QThread`` destroyed while it runs aborts the process) and is
stopped when its owner is destroyed or the interpreter exits, whichever comes first. The
Playground's training worker, a command-driven object, owns one directly.

:class:`WorkerThread` runs ``work(request, report, cancelled)`` for numbered submissions on an
:class:`OwnedThread` started on first use. A newer submission makes the older ones stale: those
still queued are skipped, the one under way sees ``cancelled()`` turn true, and nothing stale
reports. The newest one answers with one of ``finished(request, result)``, ``failed(request,
message)`` or ``cancelled(request, result)`` (after :meth:`WorkerThread.cancel`: ``result`` is
what the work returned on its way out, a partial result, or None when it gave up by raising
``app.warmup.Cancelled``), and meanwhile ``progressed(request, fraction, partial)`` for each
``report(fraction, partial)`` call, at most one per ``min_report_s``. Everything goes through
queued signals, so the GUI thread receives it.

:func:`error_message` is the one-line text a failed piece of work shows the user.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QMetaObject, QObject, QThread, Signal, Slot

from app.warmup import Cancelled

Report = Callable[[float, Any], None]
_NONE = object()  # no pending submission (a submission may be None)
Work = Callable[[Any, Report, Callable[[], bool]], Any]


def error_message(exc: BaseException) -> str:
    """A one-line message for the user; never a traceback."""
    text = str(exc).strip()
    return text or traceback.format_exception_only(type(exc), exc)[-1].strip()


# -- the threads ----------------------------------------------------------------------------------
_LIVE: weakref.WeakSet[OwnedThread] = weakref.WeakSet()


class OwnedThread:
    """A named ``QThread``, the worker object moved into it and a cancel mark the worker reads.

    A plain Python object, so that it outlives the Qt object that owns it: the owner's
    ``destroyed`` signal stops it (see :meth:`guard`), and so does the interpreter's exit.
    """

    def __init__(self, name: str, worker: QObject, cancel: threading.Event | None = None) -> None:
        # set by stop(); the worker reads it (a wait for kernels ends at once)
        self.cancel = cancel if cancel is not None else threading.Event()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = worker
        worker.moveToThread(self.thread)
        self._quit: Callable[[], None] = self.thread.quit
        _LIVE.add(self)

    def start(self, quit: Callable[[], None] | None = None) -> None:
        """Start the thread; ``quit`` (default: end its event loop) is how :meth:`stop` asks the
        worker to finish (a queued call that stops its timers first, for instance)."""
        if quit is not None:
            self._quit = quit
        self.thread.start()

    def guard(self, owner: QObject) -> None:
        """Stop this thread when ``owner`` is destroyed (a tab closed while it works)."""
        owner.destroyed.connect(partial(_stop_quietly, self))

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Cancel, end the thread and join it; whether it ended within ``timeout_ms``.

        Work inside a compiled call (or compiling kernels here, without a usable cache) cannot be
        interrupted: after the timeout it is waited for without a limit rather than destroyed
        while it runs.
        """
        self.cancel.set()
        if not self.thread.isRunning():
            return True
        try:
            self._quit()
        except RuntimeError:  # the owner's Qt side is gone (its destruction stops us)
            self.thread.quit()
        if self.thread.wait(timeout_ms):
            return True
        self.thread.quit()
        self.thread.wait()
        return False


def _stop_quietly(owned: OwnedThread, *_args: object) -> None:
    try:
        owned.stop()
    except RuntimeError:  # its Qt objects are already gone
        pass


@atexit.register
def _stop_all() -> None:
    for owned in list(_LIVE):
        _stop_quietly(owned)


# -- numbered submissions -------------------------------------------------------------------------
class _Marks:
    """Written by the GUI thread, read by the worker: which submissions still count."""

    def __init__(self) -> None:
        self.latest = 0  # submissions with a smaller serial are stale
        self.cancelled = 0  # submissions up to this serial are cancelled
        self.every_s = 0.0  # the least time between two progress reports


class _Runner(QObject):
    """Lives in the worker thread; runs one submission per queued call."""

    progressed = Signal(int, float, object)  # serial, fraction, partial
    done = Signal(int, object)  # serial, result
    failed = Signal(int, str)
    gave_up = Signal(int)  # serial: the work raised Cancelled

    def __init__(self, work: Work, marks: _Marks, stopping: threading.Event) -> None:
        super().__init__()
        self._work = work
        self._marks = marks
        self._stopping = stopping

    @Slot(int, object)
    def run(self, serial: int, request: Any) -> None:
        marks = self._marks
        if serial < marks.latest:  # a newer submission is queued behind this one
            return
        last = [-math.inf]

        def cancelled() -> bool:
            return serial < marks.latest or serial <= marks.cancelled or self._stopping.is_set()

        def report(fraction: float, partial_result: Any = None) -> None:
            now = time.perf_counter()
            if now - last[0] >= marks.every_s:
                last[0] = now
                self.progressed.emit(serial, float(fraction), partial_result)

        try:
            result = self._work(request, report, cancelled)
        except Cancelled:
            self.gave_up.emit(serial)
            return
        except Exception as exc:  # a message for the user, never a crash
            self.failed.emit(serial, error_message(exc))
            return
        self.done.emit(serial, result)


class WorkerThread(QObject):
    """The GUI side of a worker thread for submitted work; ``busy`` until the newest answers."""

    progressed = Signal(object, float, object)  # request, fraction, partial result
    finished = Signal(object, object)  # request, result
    failed = Signal(object, str)  # request, message
    cancelled = Signal(object, object)  # request, partial result or None
    _run = Signal(int, object)

    def __init__(
        self, work: Work, name: str, parent: QObject | None = None, min_report_s: float = 0.0
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._name = name
        self._marks = _Marks()
        self._marks.every_s = min_report_s
        self.owned: OwnedThread | None = None
        self._connection: QMetaObject.Connection | None = None
        self.serial = 0
        self._pending: dict[int, Any] = {}

    @property
    def thread(self) -> QThread | None:
        """The current thread (None before the first submission)."""
        return self.owned.thread if self.owned is not None else None

    @property
    def busy(self) -> bool:
        return self.serial in self._pending

    @property
    def request(self) -> Any:
        """The newest submission while it has not answered, else None."""
        return self._pending.get(self.serial)

    def submit(self, request: Any) -> int:
        """Queue ``request``; older submissions become stale. Its serial."""
        if self.owned is None or not self.owned.running:
            self._start_thread()
        self.serial += 1
        self._marks.latest = self.serial
        self._pending = {self.serial: request}
        self._run.emit(self.serial, request)
        return self.serial

    @property
    def min_report_s(self) -> float:
        """The least time between two ``progressed`` signals of a submission."""
        return self._marks.every_s

    @min_report_s.setter
    def min_report_s(self, seconds: float) -> None:
        self._marks.every_s = float(seconds)

    def cancel(self) -> None:
        """Ask the newest submission to stop; it answers with ``cancelled``."""
        self._marks.cancelled = self.serial

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Cancel everything and end the thread; whether it ended within ``timeout_ms``."""
        self._pending.clear()
        self._marks.latest = self._marks.cancelled = self.serial + 1
        return self.owned is None or self.owned.stop(timeout_ms)

    def _start_thread(self) -> None:
        if self._connection is not None:  # a thread that was stopped: forget its worker
            QObject.disconnect(self._connection)
        every_s = self._marks.every_s
        self._marks = _Marks()
        self._marks.latest = self.serial + 1
        self._marks.every_s = every_s
        stopping = threading.Event()
        runner = _Runner(self._work, self._marks, stopping)
        self.owned = OwnedThread(self._name, runner, stopping)
        self.owned.thread.finished.connect(runner.deleteLater)
        self._connection = self._run.connect(runner.run)
        runner.progressed.connect(self._on_progressed)
        runner.done.connect(self._on_done)
        runner.failed.connect(self._on_failed)
        runner.gave_up.connect(self._on_gave_up)
        self.owned.guard(self)
        self.owned.start()

    def _on_progressed(self, serial: int, fraction: float, partial_result: Any) -> None:
        request = self._pending.get(serial, _NONE)
        if request is not _NONE:
            self.progressed.emit(request, fraction, partial_result)

    def _on_done(self, serial: int, result: Any) -> None:
        request = self._pending.pop(serial, _NONE)
        if request is _NONE:
            return
        if serial <= self._marks.cancelled:
            self.cancelled.emit(request, result)
        else:
            self.finished.emit(request, result)

    def _on_failed(self, serial: int, message: str) -> None:
        request = self._pending.pop(serial, _NONE)
        if request is not _NONE:
            self.failed.emit(request, message)

    def _on_gave_up(self, serial: int) -> None:
        request = self._pending.pop(serial, _NONE)
        if request is not _NONE:
            self.cancelled.emit(request, None)
