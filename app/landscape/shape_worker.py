"""The loss-shape worker: trains a small network, then computes its loss on a line and a plane.

The network is any model of ``dlopt_core.studies.landscape`` (an MLP ``Network`` or a ``FlatModel``
such
as the LSTM), trained by a situation's own ``TrainingRun`` through ``landscape.trace_training``.

Everything runs in a thread of its own (:class:`ShapeController` starts it on first use). The
work is cut into short pieces (a training chunk, a few points of the line, a few rows of the
plane), and between two pieces the worker looks at a cancel mark, so a cancel or a shutdown takes
effect within a fraction of a second. The compiled kernels release the GIL, so the GUI stays
responsive meanwhile. Results are frozen dataclasses holding copies.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.exit_guard import stop_at_exit
from app.warmup import LANDSCAPE, WARMER, Cancelled, training_item
from dlopt_core.studies import landscape as ls
from dlopt_core.train.experiment import Experiment

PIECE_S = 0.15  # aim for pieces of work about this long (seconds)
DIRECTIONS = {
    "path": "principal directions of the training path",
    "random": "random filter-normalised directions",
}


@dataclass(frozen=True)
class ShapeSource:
    """A trained network to look at: its parameters along the training path and its data."""

    title: str
    network: ls.Model
    theta_init: np.ndarray
    theta_final: np.ndarray
    thetas: np.ndarray  # (T, P) snapshots, the first the initial and the last the final ones
    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray | None = None
    yv: np.ndarray | None = None
    steps: int = 0  # training steps between theta_init and theta_final (0: unknown)
    explanation: str = ""
    findings: str = ""  # what the run shows beyond the line (the situation's ``findings``)


@dataclass(frozen=True)
class ShapeJob:
    """What to compute: train ``situation`` first (then ``source`` is ignored), or use
    ``source``; then the line and a ``resolution`` x ``resolution`` slice."""

    serial: int
    title: str
    situation: ls.Situation | None = None
    steps: int = 0
    snapshots: int = 40
    source: ShapeSource | None = None
    resolution: int = 41
    directions: str = "path"
    seed: int = 0
    explanation: str = ""


@dataclass(frozen=True)
class ShapeResult:
    """The loss along the line theta_init -> theta_final and on a plane around theta_final."""

    serial: int
    source: ShapeSource
    alphas: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    slice_a: np.ndarray
    slice_b: np.ndarray
    slice_loss: np.ndarray  # [i, j] at (slice_a[j], slice_b[i])
    coords: np.ndarray  # (T, 2) the path on the plane
    explained: np.ndarray  # (2,) variance of the path along each direction (NaN: random)
    path_loss: np.ndarray  # (T,) training loss at each snapshot
    directions: str
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)


class _Cancelled(Exception):
    pass


class _Flags:
    """Shared between the threads: jobs with a serial up to ``cancelled_upto`` stop early."""

    def __init__(self) -> None:
        self.cancelled_upto = 0


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, ValueError | OSError) and text:
        return text
    return text or traceback.format_exception_only(type(exc), exc)[-1].strip()


def _widen(span: ls.Bounds, ratio: float = 0.5) -> ls.Bounds:
    """Widen the narrower axis of ``span`` to at least ``ratio`` times the wider one, so that a
    path lying almost on one direction still shows the plane around it."""
    (a0, a1), (b0, b1) = span
    wa, wb = a1 - a0, b1 - b0
    if wb < ratio * wa:
        mid, half = 0.5 * (b0 + b1), 0.5 * ratio * wa
        b0, b1 = mid - half, mid + half
    elif wa < ratio * wb:
        mid, half = 0.5 * (a0 + a1), 0.5 * ratio * wb
        a0, a1 = mid - half, mid + half
    return (a0, a1), (b0, b1)


class ShapeWorker(QObject):
    """Runs :class:`ShapeJob` s in the worker thread."""

    progress = Signal(int, float, str)  # serial, fraction done, what it is doing
    finished = Signal(object)  # ShapeResult
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, flags: _Flags) -> None:
        super().__init__()
        self._flags = flags

    @Slot(object)
    def compute(self, job: ShapeJob) -> None:
        try:
            self._check(job)
            self._prepare_kernels(job)
            result = self._compute(job)
        except (_Cancelled, Cancelled):
            self.cancelled.emit(job.serial)
            return
        except Exception as exc:  # a bad config or a diverged run: a message, no crash
            self.failed.emit(job.serial, _message(exc))
            return
        self.finished.emit(result)

    def _prepare_kernels(self, job: ShapeJob) -> None:
        """Load the kernels the job calls; on a first start they compile elsewhere meanwhile."""
        needs = [LANDSCAPE]
        if hasattr(job.situation, "experiment_dict"):  # a network trained by the engine
            needs.append(training_item([Experiment.from_dict(job.situation.experiment_dict())]))
        WARMER.ensure(
            needs,
            cancelled=lambda: job.serial <= self._flags.cancelled_upto,
            on_wait=lambda: self.progress.emit(
                job.serial, 0.0, "compiling the kernels (first start only)\u2026"
            ),
        )

    def _check(self, job: ShapeJob) -> None:
        if job.serial <= self._flags.cancelled_upto:
            raise _Cancelled

    # -- the work ---------------------------------------------------------------------------------
    def _compute(self, job: ShapeJob) -> ShapeResult:
        t0 = time.perf_counter()
        notes: list[str] = []
        if job.situation is not None:
            source = self._train(job, notes)
            base = 0.5
        elif job.source is not None:
            source = job.source
            base = 0.0
        else:
            raise ValueError("nothing to compute: no experiment and no trained network")
        thetas = np.asarray(source.thetas, dtype=np.float64)
        if not (np.all(np.isfinite(thetas)) and np.all(np.isfinite(source.theta_final))):
            raise ValueError(
                "the parameters contain NaN or infinite values (training diverged):"
                " lower the learning rate and train again"
            )
        net = source.network
        cost = self._forward_cost(net, source)
        self.progress.emit(job.serial, base, "loss along the line\u2026")
        alphas, train, val = self._line(job, source, cost, base, base + 0.1 * (1.0 - base))
        start = base + 0.1 * (1.0 - base)
        self.progress.emit(job.serial, start, "loss on the plane\u2026")
        center = np.asarray(source.theta_final, dtype=np.float64)
        if job.directions == "random":
            rng = np.random.default_rng(job.seed)
            d1 = ls.filter_normalized_direction(net, center, rng)
            d2 = ls.filter_normalized_direction(net, center, rng)
            proj = ls.project_trajectory(thetas, center, (d1, d2))
            (pa0, pa1), (pb0, pb1) = proj.extent()
            span = ((min(pa0, -1.0), max(pa1, 1.0)), (min(pb0, -1.0), max(pb1, 1.0)))
            notes.append(
                "Random directions: the path lies mostly off this plane, its "
                "projection is only a shadow of it."
            )
        else:
            proj = ls.project_trajectory(thetas, center)
            span = _widen(proj.extent())
        sa, sb, loss = self._plane(
            job, net, center, (proj.d1, proj.d2), span, source, cost, start, 1.0
        )
        path_loss = np.array([ls.network_loss(net, th, source.X, source.y) for th in thetas])
        self.progress.emit(job.serial, 1.0, "done")
        return ShapeResult(
            serial=job.serial,
            source=source,
            alphas=alphas,
            train_loss=train,
            val_loss=val,
            slice_a=sa,
            slice_b=sb,
            slice_loss=loss,
            coords=proj.coords.copy(),
            explained=np.asarray(proj.explained, dtype=np.float64).copy(),
            path_loss=path_loss,
            directions=job.directions,
            seconds=time.perf_counter() - t0,
            notes=tuple(notes),
        )

    def _train(self, job: ShapeJob, notes: list[str]) -> ShapeSource:
        assert job.situation is not None
        self.progress.emit(job.serial, 0.0, "building the network\u2026")
        steps = max(1, int(job.steps))

        def report(fraction: float, partial: ls.TrainedPath) -> None:
            self.progress.emit(
                job.serial, 0.5 * fraction, f"training: step {partial.steps:,} of {steps:,}"
            )

        path = ls.trace_training(
            job.situation,
            steps,
            job.snapshots,
            report,
            lambda: job.serial <= self._flags.cancelled_upto,
        )
        if path.cancelled:
            raise _Cancelled
        notes.extend(path.notes)
        return ShapeSource(
            title=job.title,
            network=path.model,
            theta_init=path.theta_init.copy(),
            theta_final=path.theta_final.copy(),
            thetas=path.thetas,
            X=path.X.copy(),
            y=path.y.copy(),
            Xv=None if path.Xv is None else path.Xv.copy(),
            yv=None if path.yv is None else path.yv.copy(),
            steps=path.steps,
            explanation=job.explanation,
            findings=job.situation.findings(path),
        )

    @staticmethod
    def _forward_cost(net: ls.Model, source: ShapeSource) -> float:
        """Seconds for one loss evaluation on the training set (to size the pieces of work)."""
        t0 = time.perf_counter()
        ls.network_loss(net, source.theta_final, source.X, source.y)
        return max(time.perf_counter() - t0, 1e-7)

    def _line(
        self, job: ShapeJob, source: ShapeSource, cost: float, p0: float, p1: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        alphas = ls.DEFAULT_ALPHAS.copy()
        has_val = source.Xv is not None and source.yv is not None and len(source.Xv) > 0
        per_point = cost * (1.0 + (len(source.Xv) / max(len(source.X), 1) if has_val else 0.0))
        chunk = int(max(1, min(len(alphas), PIECE_S / per_point)))
        train = np.empty(len(alphas))
        val = np.full(len(alphas), np.nan)
        for i in range(0, len(alphas), chunk):
            self._check(job)
            part = ls.interpolate(
                source.network,
                source.theta_init,
                source.theta_final,
                source.X,
                source.y,
                source.Xv if has_val else None,
                source.yv if has_val else None,
                alphas[i : i + chunk],
            )
            train[i : i + chunk] = part.train_loss
            val[i : i + chunk] = part.val_loss
            self.progress.emit(
                job.serial,
                p0 + (p1 - p0) * min(1.0, (i + chunk) / len(alphas)),
                "loss along the line\u2026",
            )
        return alphas, train, val

    def _plane(
        self,
        job: ShapeJob,
        net: ls.Model,
        center: np.ndarray,
        directions: tuple[np.ndarray, np.ndarray],
        span: ls.Bounds,
        source: ShapeSource,
        cost: float,
        p0: float,
        p1: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = max(3, int(job.resolution))
        (a0, a1), (b0, b1) = span
        self._check(job)
        if n * n * cost <= 2.0 * PIECE_S:  # small: one call, parallel over the grid
            sl = ls.slice_2d(net, center, source.X, source.y, n=n, span=span, directions=directions)
            return sl.alphas, sl.betas, sl.loss
        # large: row by row (each row a line through the plane), cancellable between rows
        d1, d2 = directions
        alphas = np.linspace(a0, a1, n)
        betas = np.linspace(b0, b1, n)
        unit = np.linspace(0.0, 1.0, n)
        loss = np.empty((n, n))
        rows = int(max(1, PIECE_S / (n * cost)))
        for i in range(n):
            if i % rows == 0:
                self._check(job)
                self.progress.emit(
                    job.serial, p0 + (p1 - p0) * i / n, f"loss on the plane: row {i + 1} of {n}"
                )
            theta_a = center + betas[i] * d2 + a0 * d1
            theta_b = theta_a + (a1 - a0) * d1
            loss[i] = ls.interpolate(
                net, theta_a, theta_b, source.X, source.y, alphas=unit
            ).train_loss
        return alphas, betas, loss


class ShapeController(QObject):
    """The GUI side: starts the worker thread on first use and forwards its signals."""

    progress = Signal(int, float, str)
    finished = Signal(object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    _compute = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flags = _Flags()
        self.worker_thread: QThread | None = None
        self.worker: ShapeWorker | None = None
        self.serial = 0
        stop_at_exit(self)

    def _ensure_thread(self) -> None:
        if self.worker_thread is not None and self.worker_thread.isRunning():
            return
        if self.worker is not None:  # a thread that was stopped: forget its worker
            self._compute.disconnect(self.worker.compute)
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("dlopt-landscape")
        self.worker = ShapeWorker(self._flags)
        self.worker.moveToThread(self.worker_thread)
        self._compute.connect(self.worker.compute)
        self.worker.progress.connect(self.progress)
        self.worker.finished.connect(self.finished)
        self.worker.failed.connect(self.failed)
        self.worker.cancelled.connect(self.cancelled)
        self.worker_thread.start()

    def submit(self, **fields) -> ShapeJob:
        """Queue a new job (``ShapeJob`` fields but the serial); earlier jobs are cancelled."""
        self._ensure_thread()
        self.serial += 1
        self._flags.cancelled_upto = self.serial - 1
        job = ShapeJob(serial=self.serial, **fields)
        self._compute.emit(job)
        return job

    def cancel(self) -> None:
        """Stop the job under way (and any queued) at its next check."""
        self._flags.cancelled_upto = self.serial

    @property
    def running(self) -> bool:
        return self.worker_thread is not None and self.worker_thread.isRunning()

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Cancel everything and end the thread; whether it ended within ``timeout_ms``."""
        self._flags.cancelled_upto = math.inf  # type: ignore[assignment]
        thread = self.worker_thread
        if thread is None or not thread.isRunning():
            return True
        thread.quit()
        finished = thread.wait(timeout_ms)
        if not finished:  # a kernel call cannot be interrupted: wait it out rather than crash
            finished = thread.wait()
        return finished
