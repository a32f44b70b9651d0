"""The loss-shape worker: the core's loss-shape study (``dlopt_core.studies.loss_shape``) in a
thread of its own.

:class:`ShapeController` (an ``app.threads.WorkerThread``) runs one :class:`ShapeJob` at a time:
it first loads the kernels the job calls (``app.warmup``: on a first start they compile in a
process of their own meanwhile), then trains the job's situation or takes its trained network,
and computes the line and the plane. The study works in short pieces and asks between two of
them whether it was cancelled, so a cancel, a newer job or a shutdown takes effect within a
fraction of a second; the compiled kernels release the GIL, so the GUI stays responsive meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject

from app.threads import Report, WorkerThread
from app.warmup import LANDSCAPE, WARMER, Cancelled, training_item
from dlopt_core.studies import landscape as ls
from dlopt_core.studies.loss_shape import ShapeResult, ShapeSource, loss_shape, trained_shape
from dlopt_core.train.experiment import Experiment


@dataclass(frozen=True)
class ShapeJob:
    """What to compute: train ``situation`` first (then ``source`` is ignored), or use
    ``source``; then the line and a ``resolution`` x ``resolution`` slice."""

    title: str
    situation: ls.Situation | None = None
    steps: int = 0
    snapshots: int = 40
    source: ShapeSource | None = None
    resolution: int = 41
    directions: str = "path"
    seed: int = 0
    explanation: str = ""


def _prepare_kernels(job: ShapeJob, report: Report, cancelled: Callable[[], bool]) -> None:
    """Load the kernels the job calls; on a first start they compile elsewhere meanwhile."""
    needs = [LANDSCAPE]
    if hasattr(job.situation, "experiment_dict"):  # a network trained by the engine
        needs.append(training_item([Experiment.from_dict(job.situation.experiment_dict())]))
    WARMER.ensure(
        needs,
        cancelled=cancelled,
        on_wait=lambda: report(0.0, "compiling the kernels (first start only)\u2026"),
    )


def _compute(job: ShapeJob, report: Report, cancelled: Callable[[], bool]) -> ShapeResult:
    if cancelled():
        raise Cancelled
    _prepare_kernels(job, report, cancelled)
    shape = dict(resolution=job.resolution, directions=job.directions, seed=job.seed)
    if job.situation is not None:
        result = trained_shape(
            job.situation,
            job.steps,
            job.snapshots,
            explanation=job.explanation,
            callback=report,
            should_stop=cancelled,
            **shape,
        )
    elif job.source is not None:
        result = loss_shape(job.source, callback=report, should_stop=cancelled, **shape)
    else:
        raise ValueError("nothing to compute: no experiment and no trained network")
    if result is None:
        raise Cancelled
    return result


class ShapeController(WorkerThread):
    """The GUI side: ``progressed(job, fraction, stage)``, then ``finished(job, ShapeResult)``,
    ``failed(job, message)`` or ``cancelled(job, None)`` for the newest job."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_compute, "dlopt-landscape", parent)

    def compute(self, **fields) -> ShapeJob:
        """Queue a new job (``ShapeJob`` fields); earlier jobs are cancelled."""
        job = ShapeJob(**fields)
        self.submit(job)
        return job
