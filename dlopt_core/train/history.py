"""The metrics of a run: what one chunk records (``Metrics``) and the whole run in bounded memory
(``History``), with the names of the recorded fields.

Kept apart from the engine that fills them: the app, the command line and the studies read these
values without caring how they were trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELDS = ("train_loss", "val_loss", "train_error", "val_error", "grad_norm", "lr")
# the fields whose per-bucket minimum and maximum a History keeps (spikes survive thinning)
ENVELOPE_FIELDS = ("train_loss", "val_loss", "train_error", "val_error", "grad_norm")
_ENV_INDEX = [FIELDS.index(f) for f in ENVELOPE_FIELDS]


@dataclass(frozen=True)
class Metrics:
    """Metrics at ``steps`` (R,); every field is an (R, M) array, NaN where a model was stopped.

    The error is the misclassified fraction (classification) or the RMSE (regression).
    """

    steps: np.ndarray
    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_error: np.ndarray
    val_error: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)

    def model(self, m: int) -> dict[str, np.ndarray]:
        return {"step": self.steps, **{f: getattr(self, f)[:, m] for f in FIELDS}}


class History:
    """The metrics of a whole run in bounded memory, at even resolution in steps.

    The run is cut into buckets of ``stride`` steps: bucket ``k`` holds the rows recorded at steps
    in ``((k - 1) * stride, k * stride]`` (bucket 0 is step 0 alone, the initial values). A bucket
    keeps its newest row, so the latest values are always at hand, and for the
    :data:`ENVELOPE_FIELDS` the minimum and maximum over all of its rows, so that a spike between
    two kept rows still shows. When a new row would need more than ``limit`` buckets, the stride
    doubles and neighbouring buckets merge: the whole history halves, the start of the run no more
    than its end, and later rows are kept at the new stride. Memory never exceeds ``limit`` rows.
    The best validation loss of each model, its step and the lowest training loss are exact.
    """

    def __init__(self, n_models: int, limit: int = 4000):
        self.limit = max(16, int(limit))
        self.n_models = int(n_models)
        self.stride = 1
        self._n = 0
        self._steps = np.empty(0, dtype=np.int64)
        self._data = np.empty((0, len(FIELDS), self.n_models))
        self._lo = np.empty((0, len(ENVELOPE_FIELDS), self.n_models))
        self._hi = np.empty((0, len(ENVELOPE_FIELDS), self.n_models))
        self.best_val_loss = np.full(self.n_models, np.inf)
        self.best_val_step = np.full(self.n_models, -1, dtype=np.int64)
        self.min_train_loss = np.full(self.n_models, np.inf)

    def append(self, steps: np.ndarray, data: np.ndarray) -> None:
        """Add rows ``data[r, field, model]`` recorded at ``steps`` (increasing, after the last)."""
        steps = np.asarray(steps, dtype=np.int64)
        if len(steps) == 0:
            return
        data = np.asarray(data, dtype=np.float64)
        last = self._steps[self._n - 1] if self._n else -1
        if steps[0] < last or np.any(np.diff(steps) < 0):
            raise ValueError("history rows must come in step order")
        self._track_best(steps, data)
        ids = self._bucket(steps)
        while self._n + self._new_buckets(ids) > self.limit:
            self._halve()
            ids = self._bucket(steps)
        starts, ends = _runs(ids)
        env = data[:, _ENV_INDEX, :]
        lo = np.fmin.reduceat(env, starts, axis=0)
        hi = np.fmax.reduceat(env, starts, axis=0)
        first = 0
        if self._n and ids[0] == self._bucket(self._steps[self._n - 1]):
            i = self._n - 1  # the rows continue the newest bucket
            self._steps[i] = steps[ends[0]]
            self._data[i] = data[ends[0]]
            np.fmin(self._lo[i], lo[0], out=self._lo[i])
            np.fmax(self._hi[i], hi[0], out=self._hi[i])
            first = 1
        new = slice(self._n, self._n + len(starts) - first)
        self._reserve(new.stop)
        self._steps[new] = steps[ends[first:]]
        self._data[new] = data[ends[first:]]
        self._lo[new] = lo[first:]
        self._hi[new] = hi[first:]
        self._n = new.stop

    def _track_best(self, steps: np.ndarray, data: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            val = np.where(np.isfinite(data[:, 1, :]), data[:, 1, :], np.inf)
            r_best = np.argmin(val, axis=0)
            best = val[r_best, np.arange(self.n_models)]
            better = best < self.best_val_loss
            self.best_val_loss[better] = best[better]
            self.best_val_step[better] = steps[r_best[better]]
            train = np.where(np.isfinite(data[:, 0, :]), data[:, 0, :], np.inf)
            self.min_train_loss = np.minimum(self.min_train_loss, train.min(axis=0))

    def _bucket(self, steps: np.ndarray) -> np.ndarray:
        return -(-steps // self.stride)

    def _new_buckets(self, ids: np.ndarray) -> int:
        count = 1 + int(np.count_nonzero(ids[1:] != ids[:-1]))
        if self._n and ids[0] == self._bucket(self._steps[self._n - 1]):
            count -= 1
        return count

    def _halve(self) -> None:
        """Double the stride and merge the buckets that now share one."""
        n = self._n
        self.stride *= 2
        if n == 0:
            return
        starts, ends = _runs(self._bucket(self._steps[:n]))
        m = len(starts)
        self._lo[:m] = np.fmin.reduceat(self._lo[:n], starts, axis=0)
        self._hi[:m] = np.fmax.reduceat(self._hi[:n], starts, axis=0)
        self._steps[:m] = self._steps[ends]
        self._data[:m] = self._data[ends]
        self._n = m

    def _reserve(self, n: int) -> None:
        """Room for ``n`` rows: the arrays grow by doubling, up to ``limit`` rows."""
        if n <= len(self._steps):
            return
        size = min(self.limit, max(n, 2 * len(self._steps), 64))
        for name in ("_steps", "_data", "_lo", "_hi"):
            old = getattr(self, name)
            grown = np.empty((size, *old.shape[1:]), dtype=old.dtype)
            grown[: self._n] = old[: self._n]
            setattr(self, name, grown)

    # -- read-outs ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Memory held by the kept rows and their envelopes (at most ``limit`` rows' worth)."""
        return sum(a.nbytes for a in (self._steps, self._data, self._lo, self._hi))

    @property
    def steps(self) -> np.ndarray:
        """The step of each kept row (the newest row of its bucket)."""
        return self._steps[: self._n].copy()

    def field(self, name: str, m: int | None = None) -> np.ndarray:
        """One metric at :attr:`steps`: (R, M), or (R,) for model ``m``."""
        col = self._data[: self._n, _field_index(name), :]
        return col.copy() if m is None else col[:, m].copy()

    def envelope(self, name: str, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest value of ``name`` (one of :data:`ENVELOPE_FIELDS`) over each
        kept row's bucket: two (R, M) arrays, or (R,) for model ``m``; NaN where none was finite
        or NaN."""
        if name not in ENVELOPE_FIELDS:
            raise ValueError(
                f"no envelope is kept for {name!r}; choose one of {', '.join(ENVELOPE_FIELDS)}"
            )
        i = ENVELOPE_FIELDS.index(name)
        lo, hi = self._lo[: self._n, i, :], self._hi[: self._n, i, :]
        if m is None:
            return lo.copy(), hi.copy()
        return lo[:, m].copy(), hi[:, m].copy()

    def steps_to_reach(self, value: float, name: str = "val_loss") -> np.ndarray:
        """Per model, the step by which ``name`` had first been <= ``value`` (-1 if never).

        Exact while every recorded row is kept (``stride`` 1); later, the newest step of the
        first bucket in which it happened (at most ``stride`` steps late).
        """
        if name in ENVELOPE_FIELDS:
            col = self.envelope(name)[0]
        else:
            col = self._data[: self._n, _field_index(name), :]
        out = np.full(self.n_models, -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            hit = col <= value
        reached = hit.any(axis=0)
        out[reached] = self._steps[np.argmax(hit, axis=0)[reached]]
        return out


def _field_index(name: str) -> int:
    if name not in FIELDS:
        raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(FIELDS)}")
    return FIELDS.index(name)


def _runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each run of equal values in ``ids`` (sorted)."""
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)] - 1
    return starts, ends
