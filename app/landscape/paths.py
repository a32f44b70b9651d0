"""The 2-D races' paths, computed in a thread of their own.

A path takes the core's compiled update rule a few hundred times (milliseconds once the kernels
are loaded, but the first call of a session loads or, on a fresh install, compiles them), so the
functions view hands each request to :class:`PathRunner` (``app.threads.WorkerThread``) and
draws the answer when it comes. Only the newest request is computed and reported; older ones
still queued are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject

from app.landscape.runs import RunResult, RunSpec, run_all
from app.threads import Report, WorkerThread
from app.warmup import LANDSCAPE, WARMER
from dlopt_core.studies import landscape as ls


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


def _paths(
    request: PathsRequest, _report: Report, cancelled: Callable[[], bool]
) -> list[RunResult]:
    WARMER.ensure([LANDSCAPE], cancelled=cancelled)
    return run_all(
        request.fn,
        request.specs,
        request.start,
        request.steps,
        request.clip_norm,
        request.noise,
        request.seed,
    )


class PathRunner(WorkerThread):
    """``finished(request, results)`` answers the newest request, ``failed(request, message)``
    says why it could not."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(_paths, "dlopt-paths", parent)
