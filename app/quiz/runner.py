"""Runs experiment questions (``dlopt_core.quiz.run_experiment``) in a thread of their own.

The GUI submits a question and gets ``finished(question, RunReport)`` or ``failed(question,
message)`` back through queued signals. A run first loads the kernels it needs (``app.warmup``:
on a first start they compile in a process of their own meanwhile, a wait that ``stop`` ends);
the run itself cannot be interrupted (well under a second), so ``cancel`` only forgets the pending
result.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.exit_guard import stop_at_exit
from app.warmup import WARMER, Cancelled, training_item, variants
from dlopt_core.quiz import Question, experiment_runs, run_experiment


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or traceback.format_exception_only(type(exc), exc)[-1].strip()


def _one_kernel_thread() -> None:
    """One Numba thread for this worker: the runs are small, the GUI needs the other core."""
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # no Numba or no parallel backend: nothing to tune
        pass


class ExperimentWorker(QObject):
    """Lives in the worker thread; trains one question's runs per call."""

    finished = Signal(int, object)  # serial, RunReport
    failed = Signal(int, str)

    def __init__(self, stopping: threading.Event) -> None:
        super().__init__()
        self._tuned = False
        self._stopping = stopping

    @Slot(int, object)
    def run(self, serial: int, question: Question) -> None:
        if not self._tuned:
            _one_kernel_thread()
            self._tuned = True
        try:
            trains = [e for _, exp, specs in experiment_runs(question)
                      for e in variants(exp, specs)]
            WARMER.ensure([training_item(trains)], cancelled=self._stopping.is_set)
            report = run_experiment(question)
        except Cancelled:  # the app is closing
            return
        except Exception as exc:  # a bad question or a failed run: a message, no crash
            self.failed.emit(serial, _message(exc))
            return
        self.finished.emit(serial, report)


class ExperimentRunner(QObject):
    """The GUI side: starts the thread on first use; only the latest submission reports."""

    finished = Signal(object, object)  # Question, RunReport
    failed = Signal(object, str)  # Question, message
    _run = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: QThread | None = None
        self.worker: ExperimentWorker | None = None
        self.serial = 0
        self._pending: dict[int, Question] = {}
        self._stopping = threading.Event()
        stop_at_exit(self)

    @property
    def busy(self) -> bool:
        """Whether a submitted run has not reported yet (cancelled ones aside)."""
        return self.serial in self._pending

    def _ensure_thread(self) -> None:
        if self.thread is not None and self.thread.isRunning():
            return
        if self.worker is not None:
            self._run.disconnect(self.worker.run)
        self.thread = QThread()
        self.thread.setObjectName("dlopt-quiz")
        self._stopping.clear()
        self.worker = ExperimentWorker(self._stopping)
        self.worker.moveToThread(self.thread)
        self._run.connect(self.worker.run)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    def submit(self, question: Question) -> int:
        """Queue a run of ``question``; earlier pending runs will not report. Its serial."""
        self._ensure_thread()
        self.serial += 1
        self._pending = {self.serial: question}
        self._run.emit(self.serial, question)
        return self.serial

    def cancel(self) -> None:
        """Forget the pending run (it finishes in the background, unreported)."""
        self._pending.clear()

    def _on_finished(self, serial: int, report) -> None:
        question = self._pending.pop(serial, None)
        if question is not None:
            self.finished.emit(question, report)

    def _on_failed(self, serial: int, message: str) -> None:
        question = self._pending.pop(serial, None)
        if question is not None:
            self.failed.emit(question, message)

    def stop(self, timeout_ms: int = 5000) -> bool:
        """End the thread after the run under way, if any; whether it ended within
        ``timeout_ms`` (if not, this waits until it has ended anyway)."""
        self._pending.clear()
        self._stopping.set()
        thread = self.thread
        if thread is None or not thread.isRunning():
            return True
        thread.quit()
        if thread.wait(timeout_ms):
            return True
        # a run (or kernels compiling here, without a usable cache) cannot be interrupted: wait
        # it out rather than destroy a running thread
        thread.wait()
        return False
