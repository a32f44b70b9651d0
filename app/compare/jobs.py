"""Long comparisons in a worker thread, one at a time, with progress, cancel and partial results.

A job is a function ``fn(report, should_stop) -> result``; it calls ``report(fraction, partial)``
between chunks (the ``dlopt_core.studies.compare`` callbacks) and asks ``should_stop()`` whether
to give up, returning what it has. Before it starts, the thread loads the kernels that the
experiments it trains need (``app.warmup``: on a first start they compile in a process of their
own meanwhile, and a cancel ends that wait). Everything that crosses threads is an immutable result
object holding copies (``dlopt_core.studies.compare`` results, :class:`RaceSnapshot`).

:class:`JobRunner` lives in the GUI thread: it runs jobs on an ``app.threads.WorkerThread``,
forwards their reports to the callbacks given with the job (in the GUI thread, through queued
signals) and cancels them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.colors import CLASS_COLORS
from app.threads import Report, WorkerThread
from app.warmup import WARMER, training_item
from dlopt_core.studies.compare import BoundaryGrid, RaceResult
from dlopt_core.train.experiment import Experiment

JobFn = Callable[[Report, Callable[[], bool]], Any]

MIN_REPORT_S = 0.05  # at most about twenty partial results a second reach the GUI


@dataclass(frozen=True)
class Job:
    """A comparison to run: its name, its function and the experiments it trains."""

    name: str
    fn: JobFn
    trains: tuple[Experiment, ...] = ()
    on_partial: Callable[[Any], None] | None = None
    on_done: Callable[[Any], None] | None = None


def _run(job: Job, report: Report, cancelled: Callable[[], bool]) -> Any:
    if job.trains:
        WARMER.ensure([training_item(job.trains)], cancelled=cancelled)
    return job.fn(report, cancelled)


class JobRunner(QObject):
    """Starts one job at a time and hands its reports to callbacks in the GUI thread."""

    busy_changed = Signal(bool)
    progress = Signal(float, str)  # fraction, what is running
    failed = Signal(str, str)  # job name, message
    finished = Signal(str, bool)  # job name, cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = WorkerThread(_run, "dlopt-compare", self, min_report_s=MIN_REPORT_S)
        self.worker.progressed.connect(self._progressed)
        self.worker.finished.connect(self._succeeded)
        self.worker.cancelled.connect(self._cancelled)
        self.worker.failed.connect(self._failed)

    @property
    def busy(self) -> bool:
        return self.worker.busy

    @property
    def job_name(self) -> str:
        job = self.worker.request
        return job.name if job is not None else ""

    def start(
        self,
        name: str,
        fn: JobFn,
        on_partial: Callable[[Any], None] | None,
        on_done: Callable[[Any], None],
        trains: Sequence[Experiment] = (),
    ) -> bool:
        """Run ``fn`` in the worker thread, once the kernels for the experiments it ``trains``
        are loaded; False (and nothing started) when a job is running."""
        if self.busy:
            return False
        self.worker.min_report_s = MIN_REPORT_S
        self.worker.submit(Job(name, fn, tuple(trains), on_partial, on_done))
        self.busy_changed.emit(True)
        self.progress.emit(0.0, name)
        return True

    def cancel(self) -> None:
        """Ask the running job to stop after its current chunk; its partial result is kept."""
        self.worker.cancel()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Cancel the job and join the thread; True when it ended within ``timeout_ms``."""
        was_busy = self.busy
        ok = self.worker.stop(timeout_ms)
        if was_busy:
            self.busy_changed.emit(False)
        return ok

    def _progressed(self, job: Job, fraction: float, partial: Any) -> None:
        if job.on_partial is not None and partial is not None:
            job.on_partial(partial)
        self.progress.emit(fraction, job.name)

    def _succeeded(self, job: Job, result: Any) -> None:
        self.busy_changed.emit(False)
        if job.on_done is not None:
            job.on_done(result)
        self.finished.emit(job.name, False)

    def _cancelled(self, job: Job, result: Any) -> None:
        """Cancelled: with the partial result, or None when it ended while its kernels loaded."""
        self.busy_changed.emit(False)
        if result is not None and job.on_done is not None:
            job.on_done(result)
        self.finished.emit(job.name, True)

    def _failed(self, job: Job, message: str) -> None:
        self.busy_changed.emit(False)
        self.failed.emit(job.name, message)


# -- decision boundaries for the race ------------------------------------------------------------
@dataclass(frozen=True)
class BoundaryImages:
    """Decision-boundary pictures: ``images[m]`` is (n, n, 3) uint8, row 0 at ``bounds[2]``."""

    bounds: tuple[float, float, float, float]
    images: tuple[np.ndarray, ...]
    points: np.ndarray  # raw 2-D training inputs
    point_colors: np.ndarray  # (N, 3) uint8
    n_classes: int = 2


@dataclass(frozen=True)
class RaceSnapshot:
    """A race result and, for 2-D classification data, one boundary picture per model."""

    result: RaceResult
    boundaries: BoundaryImages | None


def boundary_rgb(values: np.ndarray, task: str) -> np.ndarray:
    """RGB picture of network outputs: the class colour, paler where the network is unsure."""
    white = np.full(3, 255.0)
    if values.ndim == 3:  # class probabilities
        k = np.argmax(values, axis=2)
        conf = np.max(values, axis=2)
        n_classes = values.shape[2]
        strength = np.clip((conf - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0.0, 1.0)
        base = CLASS_COLORS[k % len(CLASS_COLORS)]
    else:
        if task == "regression":
            lo, hi = np.nanmin(values), np.nanmax(values)
            p = (values - lo) / max(hi - lo, 1e-12)
        else:
            p = values
        side = p >= 0.5
        strength = np.clip(np.abs(2.0 * p - 1.0), 0.0, 1.0)
        base = np.where(side[..., None], CLASS_COLORS[1], CLASS_COLORS[0])  # p >= 0.5: class 1
    w = 0.75 * strength[..., None]
    rgb = (1.0 - w) * white + w * base
    return np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))


def boundary_grid(exp, n: int = 48) -> BoundaryGrid | None:
    """The boundary grid of ``exp`` for 2-D classification data, else None (never raises)."""
    try:
        grid = BoundaryGrid.for_experiment(exp, n)
    except Exception:  # the race itself reports problems with the data
        return None
    if grid is None or grid.task == "regression":
        return None
    return grid


def boundary_images(grid: BoundaryGrid | None, theta: np.ndarray) -> BoundaryImages | None:
    """One picture per row of ``theta`` (M, P)."""
    if grid is None:
        return None
    images = tuple(boundary_rgb(grid.values(theta[m]), grid.task) for m in range(len(theta)))
    labels = np.asarray(grid.labels).astype(np.int64) % len(CLASS_COLORS)
    return BoundaryImages(
        grid.bounds,
        images,
        grid.points,
        CLASS_COLORS[labels].astype(np.uint8),
        max(2, int(grid.n_classes)),
    )
