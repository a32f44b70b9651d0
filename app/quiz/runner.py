"""Runs experiment questions (``dlopt_core.course.quiz.run_experiment``) in a thread of their own.

The GUI submits a question and gets ``finished(question, RunReport)`` or ``failed(question,
message)`` back through queued signals (``app.threads.WorkerThread``), for the newest submission
only. A run first loads the kernels it needs (``app.warmup``: on a first start they compile in a
process of their own meanwhile, a wait that ``stop`` ends); the run itself cannot be interrupted
(well under a second), so ``cancel`` only forgets the pending result.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from app.threads import Report, WorkerThread
from app.warmup import WARMER, training_item, variants
from dlopt_core.course.quiz import Question, RunReport, experiment_runs, run_experiment


def _one_kernel_thread() -> None:
    """One Numba thread for this worker: the runs are small, the GUI needs the other core."""
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # no Numba or no parallel backend: nothing to tune
        pass


def _run(question: Question, _report: Report, cancelled: Callable[[], bool]) -> RunReport:
    _one_kernel_thread()
    trains = [e for _, exp, specs in experiment_runs(question) for e in variants(exp, specs)]
    WARMER.ensure([training_item(trains)], cancelled=cancelled)
    return run_experiment(question)


class ExperimentRunner(WorkerThread):
    """The GUI side: starts the thread on first use; only the latest submission reports."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_run, "dlopt-quiz", parent)
