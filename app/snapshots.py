"""What the training worker tells the GUI: frozen dataclasses holding copies, and their history.

The worker (``app.worker``) answers with :class:`BuildInfo` after building an engine,
:class:`Snapshot` after each chunk and :class:`BoundaryResult` when asked for the network's
outputs over the plane. No mutable array is ever shared between the two threads.

A run's history (the engine's ``History``: at most a few thousand rows) would be copied whole
into every snapshot, twenty and more times a second. Instead a snapshot carries the rows that
changed since the previous one: the newest bucket of the history takes the rows of a new chunk
until it is full, and new buckets are appended, so those are the last row sent and the rows after
it; only when the history halves its resolution (or a new run starts) does a snapshot carry it
whole again. :class:`HistoryRows` (in the worker) says which rows to send, :class:`HistoryMerge`
(in the GUI) puts them back together into snapshots with the whole history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from dlopt_core.data.datasets import Dataset
from dlopt_core.train.history import ENVELOPE_FIELDS, FIELDS, History
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import Optimizer


@dataclass(frozen=True)
class BuildInfo:
    """What the GUI needs to know about a freshly built engine (all arrays are copies)."""

    generation: int
    task: str  # "binary", "multiclass" or "regression"
    n_classes: int
    n_inputs: int  # columns of the raw data, before feature expansion
    n_train: int
    n_val: int
    # the network trained (never changed after the build): the views take its parameter layout
    # from it, biases or none, instead of rebuilding one from the sizes
    network: Network
    layer_sizes: tuple[int, ...]
    activation: str
    loss: str
    feature_names: tuple[str, ...]
    steps_per_epoch: int
    backend: str
    backend_note: str
    # raw 2-D inputs for the output view (an even sample of at most MAX_SHOWN_POINTS), or None
    points_train: np.ndarray | None
    labels_train: np.ndarray | None
    points_val: np.ndarray | None
    labels_val: np.ndarray | None
    bounds: tuple[float, float, float, float] | None  # x0, x1, y0, y1 of the grid
    target_range: tuple[float, float] | None  # regression: range of the labels
    dataset: Dataset | None = None  # the data trained on (features applied); nobody writes it
    # what the curves are evaluated on when a set is sampled (Engine.sample_note), else ""
    eval_note: str = ""


@dataclass(frozen=True)
class Snapshot:
    """The state of training after a chunk: copies only, safe to keep in the GUI thread."""

    generation: int
    step: int
    epoch: float
    # rows rows_from, rows_from + 1, ... of the run's history (see HistoryRows)
    history_steps: np.ndarray
    history: dict[str, np.ndarray]  # FIELDS -> values at history_steps
    # ENVELOPE_FIELDS -> (lowest, highest) value behind each of history_steps (see History)
    history_bands: dict[str, tuple[np.ndarray, np.ndarray]]
    theta: np.ndarray
    prev_theta: np.ndarray | None  # the parameters one step earlier, when known
    slots: np.ndarray  # (3, P)
    optimizer: Optimizer
    lr: float  # the rate of the current step (schedule applied)
    opt_steps: int  # the optimizer's own step count (bias corrections)
    playing: bool
    play_serial: int  # the last play/pause command the worker had seen
    status: str  # "running", "diverged" or "early_stopped"
    stop_step: int
    stop_reason: str
    steps_per_second: float
    best_val_loss: float
    best_val_step: int
    # (steps, lambda_max, edge of stability) while the sharpness is tracked, else None
    sharpness: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    rows_from: int = 0  # the index of history_steps[0] in the run's history

    @property
    def n_points(self) -> int:
        return len(self.history_steps)

    def last(self, name: str) -> float:
        """The newest finite value of metric ``name`` (NaN if none)."""
        col = self.history[name]
        finite = np.flatnonzero(np.isfinite(col))
        return float(col[finite[-1]]) if len(finite) else math.nan


@dataclass(frozen=True)
class BoundaryResult:
    """Network outputs over the input grid: (GRID, GRID) or (GRID, GRID, K), row 0 at y0."""

    generation: int
    step: int
    values: np.ndarray
    theta: np.ndarray  # the parameters the outputs were computed with
    # per hidden layer, then the output layer: (n_units, h, w) in [-1, 1], row 0 on top
    thumbnails: tuple[np.ndarray, ...]


class HistoryRows:
    """The worker's side: which rows of a history the next snapshot carries."""

    def __init__(self) -> None:
        self._history: History | None = None  # the history the last snapshot came from
        self._stride = 0
        self._rows = 0

    def take(
        self, history: History
    ) -> tuple[int, np.ndarray, dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """``(rows_from, steps, fields, bands)`` of model 0: the rows from the first one that
        changed since the last call."""
        rows = len(history)
        same = history is self._history and history.stride == self._stride and rows >= self._rows
        start = max(0, self._rows - 1) if same else 0
        self._history, self._stride, self._rows = history, history.stride, rows
        steps = history.steps[start:]
        fields = {name: history.field(name, 0)[start:] for name in FIELDS}
        bands = {}
        for name in ENVELOPE_FIELDS:
            lo, hi = history.envelope(name, 0)
            bands[name] = (lo[start:], hi[start:])
        return start, steps, fields, bands


class HistoryMerge:
    """The GUI's side: the snapshots of one run, each with the whole history so far."""

    def __init__(self) -> None:
        self._last: Snapshot | None = None

    def merge(self, snap: Snapshot) -> Snapshot:
        """``snap`` with its rows after the earlier ones (``rows_from`` 0: the whole history).

        A snapshot that continues no earlier one (another run, or a gap) raises ``ValueError``.
        """
        last = self._last
        start = snap.rows_from
        if start == 0:
            self._last = replace(snap, rows_from=0)
            return self._last
        if last is None or last.generation != snap.generation or start > last.n_points:
            raise ValueError(f"history rows from {start} continue no earlier snapshot")

        def join(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            return np.concatenate([old[:start], new])

        self._last = replace(
            snap,
            rows_from=0,
            history_steps=join(last.history_steps, snap.history_steps),
            history={k: join(last.history[k], v) for k, v in snap.history.items()},
            history_bands={
                k: (join(last.history_bands[k][0], lo), join(last.history_bands[k][1], hi))
                for k, (lo, hi) in snap.history_bands.items()
            },
        )
        return self._last
