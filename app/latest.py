"""Short computations in a thread of their own, where only the newest request matters.

``LatestRunner(work)`` runs ``work(request, cancelled)`` in a worker thread, started on first use.
A new request makes the older ones still queued pointless: they are skipped, and only the newest
reports, ``finished(request, result)`` or ``failed(request, message)``, through queued signals.
``cancelled()`` turns true when the runner stops, so that ``work`` can end a wait early (a wait
for kernels, ``app.warmup.Cancelled``: then nothing reports).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.exit_guard import stop_at_exit
from app.warmup import Cancelled

Work = Callable[[Any, Callable[[], bool]], Any]


def error_message(exc: BaseException) -> str:
    """A one-line message for the user; never a traceback."""
    text = str(exc).strip()
    return text or traceback.format_exception_only(type(exc), exc)[-1].strip()


class _Flags:
    """Written by the GUI thread, read by the worker."""

    def __init__(self) -> None:
        self.latest = 0  # requests with a smaller serial are skipped
        self.stopping = threading.Event()


class _Worker(QObject):
    done = Signal(int, object)  # serial, result
    failed = Signal(int, str)

    def __init__(self, work: Work, flags: _Flags) -> None:
        super().__init__()
        self._work = work
        self._flags = flags

    @Slot(int, object)
    def run(self, serial: int, request: Any) -> None:
        if serial < self._flags.latest:  # a newer request is queued behind this one
            return
        try:
            result = self._work(request, self._flags.stopping.is_set)
        except Cancelled:
            return
        except Exception as exc:  # a message for the user, never a crash
            self.failed.emit(serial, error_message(exc))
            return
        self.done.emit(serial, result)


class LatestRunner(QObject):
    """The GUI side; ``busy`` while the newest request has not reported."""

    finished = Signal(object, object)  # request, result
    failed = Signal(object, str)  # request, message
    _run = Signal(int, object)

    def __init__(self, work: Work, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._name = name
        self._flags = _Flags()
        self.thread: QThread | None = None
        self.worker: _Worker | None = None
        self.serial = 0
        self._pending: dict[int, Any] = {}
        stop_at_exit(self)

    @property
    def busy(self) -> bool:
        return self.serial in self._pending

    def submit(self, request: Any) -> int:
        """Queue ``request``; earlier ones still queued are skipped. Its serial."""
        if self.thread is None or not self.thread.isRunning():
            self._start_thread()
        self.serial += 1
        self._flags.latest = self.serial
        self._pending = {self.serial: request}
        self._run.emit(self.serial, request)
        return self.serial

    def cancel(self) -> None:
        """Forget the pending request (it finishes in the background, unreported)."""
        self._pending.clear()

    def stop(self, timeout_ms: int = 1000) -> bool:
        """End the thread after the request under way, if any (a wait for kernels ends at
        once); whether it ended within ``timeout_ms``."""
        self._pending.clear()
        self._flags.stopping.set()
        self._flags.latest = self.serial + 1  # nothing queued runs any more
        thread = self.thread
        if thread is None or not thread.isRunning():
            return True
        thread.quit()
        if thread.wait(timeout_ms):
            return True
        thread.wait()  # inside a compiled call (or compiling here): it cannot be interrupted
        return False

    def _start_thread(self) -> None:
        if self.worker is not None:  # a thread that was stopped: forget its worker
            self._run.disconnect(self.worker.run)
        self._flags = _Flags()
        self._flags.latest = self.serial + 1
        self.thread = QThread()
        self.thread.setObjectName(self._name)
        self.worker = _Worker(self._work, self._flags)
        self.worker.moveToThread(self.thread)
        self._run.connect(self.worker.run)
        self.worker.done.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    def _on_done(self, serial: int, result: Any) -> None:
        request = self._pending.pop(serial, None)
        if request is not None:
            self.finished.emit(request, result)

    def _on_failed(self, serial: int, message: str) -> None:
        request = self._pending.pop(serial, None)
        if request is not None:
            self.failed.emit(request, message)
