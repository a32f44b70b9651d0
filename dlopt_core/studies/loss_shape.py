"""The loss-shape study: the loss of a trained network on a line and on a plane through it.

The network is any model of ``dlopt_core.studies.landscape`` (an MLP ``Network`` or a
``FlatModel`` such as the LSTM). :func:`trained_shape` first trains a situation's own
``TrainingRun`` (``landscape.trace_training``) and keeps its path; :func:`loss_shape` computes
the loss along
the line from the initial to the final parameters (train and validation) and on a plane around
the final ones, spanned by the principal directions of the path or by two random
filter-normalised directions, with the path projected onto it.

Like the Compare studies (``dlopt_core.studies.compare``), the work goes in short pieces (a
training chunk, a few points of the line, a few rows of the plane): between two pieces
``callback(fraction, stage)`` says how far it is (0..1) and what it is doing, and
``should_stop()`` is asked whether to give up; a cancelled study returns None. Results are frozen
dataclasses holding copies, safe to hand to another thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from dlopt_core.studies import landscape as ls

PIECE_S = 0.15  # aim for pieces of work about this long (seconds)
DIRECTIONS = {
    "path": "principal directions of the training path",
    "random": "random filter-normalised directions",
}

Callback = Callable[[float, str], None]
StopCheck = Callable[[], bool]


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
class ShapeResult:
    """The loss along the line theta_init -> theta_final and on a plane around theta_final."""

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


class _Stopped(Exception):
    """Raised between two pieces when ``should_stop()`` says so; the study returns None."""


class _Progress:
    """Maps a stage's own fraction into the study's [p0, p1] and asks ``should_stop``."""

    def __init__(self, callback: Callback | None, should_stop: StopCheck | None) -> None:
        self.callback = callback
        self.should_stop = should_stop

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise _Stopped

    def report(self, fraction: float, stage: str) -> None:
        if self.callback is not None:
            self.callback(float(fraction), stage)


def trained_shape(
    situation: ls.Situation,
    steps: int,
    snapshots: int = 40,
    resolution: int = 41,
    directions: str = "path",
    seed: int = 0,
    explanation: str = "",
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> ShapeResult | None:
    """Train ``situation`` for ``steps`` steps keeping ``snapshots`` + 1 points of its path
    (the first half of the progress), then :func:`loss_shape` of the trained network (the
    second half); None when cancelled. A diverged run raises ``ValueError``."""
    _check_directions(directions)
    progress = _Progress(callback, should_stop)
    t0 = time.perf_counter()
    try:
        progress.check()
        source, notes = _train(situation, steps, snapshots, explanation, progress)
        result = _loss_shape(source, resolution, directions, seed, progress, 0.5, notes)
    except _Stopped:
        return None
    return replace(result, seconds=time.perf_counter() - t0)  # the training included


def _train(
    situation: ls.Situation, steps: int, snapshots: int, explanation: str, progress: _Progress
) -> tuple[ShapeSource, list[str]]:
    steps = max(1, int(steps))
    progress.report(0.0, "building the network\u2026")

    def report(fraction: float, partial: ls.TrainedPath) -> None:
        progress.report(0.5 * fraction, f"training: step {partial.steps:,} of {steps:,}")

    path = ls.trace_training(situation, steps, snapshots, report, progress.should_stop)
    if path.cancelled:
        raise _Stopped
    source = ShapeSource(
        title=situation.title,
        network=path.model,
        theta_init=path.theta_init.copy(),
        theta_final=path.theta_final.copy(),
        thetas=path.thetas,
        X=path.X.copy(),
        y=path.y.copy(),
        Xv=None if path.Xv is None else path.Xv.copy(),
        yv=None if path.yv is None else path.yv.copy(),
        steps=path.steps,
        explanation=explanation,
        findings=situation.findings(path),
    )
    return source, list(path.notes)


def widen(span: ls.Bounds, ratio: float = 0.5) -> ls.Bounds:
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


def loss_shape(
    source: ShapeSource,
    resolution: int = 41,
    directions: str = "path",
    seed: int = 0,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> ShapeResult | None:
    """The loss of ``source`` on the line and on a ``resolution`` x ``resolution`` plane
    (``directions``: a key of :data:`DIRECTIONS`); None when cancelled.

    Parameters that are not finite (a diverged run) raise ``ValueError`` with what to do.
    """
    _check_directions(directions)
    progress = _Progress(callback, should_stop)
    try:
        progress.check()
        return _loss_shape(source, resolution, directions, seed, progress, 0.0, [])
    except _Stopped:
        return None


def _check_directions(directions: str) -> None:
    if directions not in DIRECTIONS:
        known = ", ".join(DIRECTIONS)
        raise ValueError(f"unknown directions {directions!r}; choose one of {known}")


def _loss_shape(
    source: ShapeSource,
    resolution: int,
    directions: str,
    seed: int,
    progress: _Progress,
    base: float,
    notes: list[str],
) -> ShapeResult:
    """The study of a trained network, its progress from ``base`` to 1."""
    t0 = time.perf_counter()
    thetas = np.asarray(source.thetas, dtype=np.float64)
    if not (np.all(np.isfinite(thetas)) and np.all(np.isfinite(source.theta_final))):
        raise ValueError(
            "the parameters contain NaN or infinite values (training diverged):"
            " lower the learning rate and train again"
        )
    net = source.network
    cost = _forward_cost(net, source)
    start = base + 0.1 * (1.0 - base)
    progress.report(base, "loss along the line\u2026")
    alphas, train, val = _line(source, cost, progress, base, start)
    progress.report(start, "loss on the plane\u2026")
    center = np.asarray(source.theta_final, dtype=np.float64)
    if directions == "random":
        rng = np.random.default_rng(seed)
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
        span = widen(proj.extent())
    sa, sb, loss = _plane(
        net, center, (proj.d1, proj.d2), span, source, resolution, cost, progress, start, 1.0
    )
    path_loss = np.array([ls.network_loss(net, th, source.X, source.y) for th in thetas])
    progress.report(1.0, "done")
    return ShapeResult(
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
        directions=directions,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )


def _forward_cost(net: ls.Model, source: ShapeSource) -> float:
    """Seconds for one loss evaluation on the training set (to size the pieces of work)."""
    t0 = time.perf_counter()
    ls.network_loss(net, source.theta_final, source.X, source.y)
    return max(time.perf_counter() - t0, 1e-7)


def _line(
    source: ShapeSource, cost: float, progress: _Progress, p0: float, p1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    alphas = ls.DEFAULT_ALPHAS.copy()
    n_val = len(source.Xv) if source.Xv is not None and source.yv is not None else 0
    has_val = n_val > 0
    per_point = cost * (1.0 + (n_val / max(len(source.X), 1) if has_val else 0.0))
    chunk = int(max(1, min(len(alphas), PIECE_S / per_point)))
    train = np.empty(len(alphas))
    val = np.full(len(alphas), np.nan)
    for i in range(0, len(alphas), chunk):
        progress.check()
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
        progress.report(
            p0 + (p1 - p0) * min(1.0, (i + chunk) / len(alphas)), "loss along the line\u2026"
        )
    return alphas, train, val


def _plane(
    net: ls.Model,
    center: np.ndarray,
    directions: tuple[np.ndarray, np.ndarray],
    span: ls.Bounds,
    source: ShapeSource,
    resolution: int,
    cost: float,
    progress: _Progress,
    p0: float,
    p1: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = max(3, int(resolution))
    (a0, a1), (b0, b1) = span
    progress.check()
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
            progress.check()
            progress.report(p0 + (p1 - p0) * i / n, f"loss on the plane: row {i + 1} of {n}")
        theta_a = center + betas[i] * d2 + a0 * d1
        theta_b = theta_a + (a1 - a0) * d1
        loss[i] = ls.interpolate(net, theta_a, theta_b, source.X, source.y, alphas=unit).train_loss
    return alphas, betas, loss
