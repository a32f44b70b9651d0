"""Long comparisons in a worker thread, one at a time, with progress, cancel and partial results.

A job is a function ``fn(report, should_stop) -> result`` run in a :class:`JobThread`; it calls
``report(fraction, partial)`` between chunks (the ``dlopt_core.studies.compare`` callbacks) and asks
``should_stop()`` whether to give up. Before it starts, the thread loads the kernels that the
experiments it trains need (``app.warmup``: on a first start they compile in a process of their
own meanwhile, and a cancel ends that wait). Everything that crosses threads is an immutable result
object holding copies (``dlopt_core.studies.compare`` results, :class:`RaceSnapshot`).

:class:`JobRunner` lives in the GUI thread: it starts jobs, forwards their reports to the
callbacks given with the job (in the GUI thread, through queued signals) and cancels them.
"""

from __future__ import annotations

import atexit
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.colors import CLASS_COLORS
from app.warmup import WARMER, Cancelled, training_item
from dlopt_core.studies.compare import BoundaryGrid, RaceResult
from dlopt_core.train.experiment import Experiment

Report = Callable[[float, Any], None]
JobFn = Callable[[Report, Callable[[], bool]], Any]

MIN_REPORT_S = 0.05  # at most about twenty partial results a second reach the GUI

_LIVE: weakref.WeakSet[JobThread] = weakref.WeakSet()
_KEEP: set[JobThread] = set()  # running jobs stay alive even when their tab is gone


def error_message(exc: BaseException) -> str:
    """A one-line message for the user; never a traceback."""
    text = str(exc).strip()
    if text:
        return text
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


class JobThread(QThread):
    """Runs one job function; reports are emitted as signals (queued to the GUI thread)."""

    progressed = Signal(float, object)
    succeeded = Signal(object)
    failed = Signal(str)
    stopped = Signal()  # cancelled before it started (while its kernels compiled)

    def __init__(self, fn: JobFn, name: str, trains: Sequence[Experiment] = ()) -> None:
        super().__init__()
        self.setObjectName(f"dlopt-compare-{name}")
        self.fn = fn
        self.name = name
        self.trains = tuple(trains)
        self._stop = threading.Event()
        self._last_report = 0.0
        _LIVE.add(self)
        for old in [j for j in _KEEP if j.isFinished()]:  # prune here, never in their own slots
            _KEEP.discard(old)
        _KEEP.add(self)

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _report(self, fraction: float, partial: Any) -> None:
        now = time.perf_counter()
        if now - self._last_report >= MIN_REPORT_S:
            self._last_report = now
            self.progressed.emit(float(fraction), partial)

    def run(self) -> None:
        try:
            if self.trains:
                WARMER.ensure([training_item(self.trains)], cancelled=self._stop.is_set)
            result = self.fn(self._report, self._stop.is_set)
        except Cancelled:
            self.stopped.emit()
            return
        except Exception as exc:  # any problem: a message for the user, never a crash
            self.failed.emit(error_message(exc))
            return
        self.succeeded.emit(result)


def stop_jobs(jobs: list[JobThread], timeout_ms: int = 1000) -> bool:
    """Cancel ``jobs`` and wait for them; returns whether all ended within ``timeout_ms``.

    A job inside one compiled chunk ends when the chunk does, one waiting for its kernels at
    once; one compiling kernels in this process (when Numba's cache cannot be used) cannot be
    interrupted, so after the timeout it is waited for without a limit rather than destroyed
    while running.
    """
    for job in jobs:
        job.cancel()
    deadline = time.perf_counter() + timeout_ms / 1000.0
    in_time = True
    for job in jobs:
        left = max(0, int((deadline - time.perf_counter()) * 1000))
        if not job.wait(left):
            in_time = False
            job.wait()
    return in_time


@atexit.register
def _stop_all() -> None:
    try:
        stop_jobs(list(_LIVE), 2000)
    except RuntimeError:  # Qt objects already gone
        pass


class JobRunner(QObject):
    """Starts one job at a time and hands its reports to callbacks in the GUI thread."""

    busy_changed = Signal(bool)
    progress = Signal(float, str)  # fraction, what is running
    failed = Signal(str, str)  # job name, message
    finished = Signal(str, bool)  # job name, cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: JobThread | None = None
        self._jobs: list[JobThread] = []  # plain list: survives this object, for destroyed()
        self._on_partial: Callable[[Any], None] | None = None
        self._on_done: Callable[[Any], None] | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def job_name(self) -> str:
        return self._job.name if self._job is not None else ""

    def start(
        self,
        name: str,
        fn: JobFn,
        on_partial: Callable[[Any], None] | None,
        on_done: Callable[[Any], None],
        trains: Sequence[Experiment] = (),
    ) -> bool:
        """Run ``fn`` in a worker thread, once the kernels for the experiments it ``trains`` are
        loaded; False (and nothing started) when a job is running."""
        if self._job is not None:
            return False
        self._jobs[:] = [j for j in self._jobs if j.isRunning()]
        job = JobThread(fn, name, trains)
        job.progressed.connect(self._progressed)
        job.succeeded.connect(self._succeeded)
        job.failed.connect(self._failed)
        job.stopped.connect(self._stopped)
        self._job = job
        self._jobs.append(job)
        self._on_partial, self._on_done = on_partial, on_done
        self.busy_changed.emit(True)
        self.progress.emit(0.0, name)
        job.start()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop after its current chunk; its partial result is kept."""
        if self._job is not None:
            self._job.cancel()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Cancel and join every job; True when they ended within ``timeout_ms``."""
        self._on_partial = self._on_done = None
        ok = stop_jobs(list(self._jobs), timeout_ms)
        self._jobs.clear()
        if self._job is not None:
            self._job = None
            self.busy_changed.emit(False)
        return ok

    def live_jobs(self) -> list[JobThread]:
        """The list the runner keeps its jobs in (shared, for clean-up on destruction)."""
        return self._jobs

    def _current(self) -> JobThread | None:
        sender = self.sender()
        return sender if sender is self._job else None

    @Slot(float, object)
    def _progressed(self, fraction: float, partial: Any) -> None:
        job = self._current()
        if job is None:
            return
        if self._on_partial is not None and partial is not None:
            self._on_partial(partial)
        self.progress.emit(fraction, job.name)

    @Slot(object)
    def _succeeded(self, result: Any) -> None:
        job = self._current()
        if job is None:
            return
        callback = self._on_done
        self._end()
        if callback is not None:
            callback(result)
        self.finished.emit(job.name, job.cancelled)

    @Slot()
    def _stopped(self) -> None:
        job = self._current()
        if job is None:
            return
        self._end()
        self.finished.emit(job.name, True)

    @Slot(str)
    def _failed(self, message: str) -> None:
        job = self._current()
        if job is None:
            return
        self._end()
        self.failed.emit(job.name, message)

    def _end(self) -> None:
        self._job = None
        self._on_partial = self._on_done = None
        self.busy_changed.emit(False)


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
