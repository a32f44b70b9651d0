"""Races: a few optimizers trained side by side on one experiment, from the same initial
parameters on the same mini-batches, with the step at which each first reaches a target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlopt_core.studies.compare.runs import (
    CURVE_FIELDS,
    MAX_RACE,
    Callback,
    Driver,
    StopCheck,
    TargetTracker,
    check_steps,
    final_values,
    finite_or_nan,
    specs_of,
    unique_labels,
)
from dlopt_core.train.engine import DIVERGED, Engine, ModelSpec
from dlopt_core.train.experiment import Experiment


@dataclass(frozen=True)
class RaceResult:
    """Curves and a results table of models trained side by side.

    Curves: ``steps`` (R,) and (R, M) arrays per metric, NaN after a model stopped. Table (M,):
    best validation loss and its step, final losses and errors, steps to reach ``target`` on the
    validation loss (-1: never; all -1 without a target), diverged flag and step (-1 if not).
    """

    labels: tuple[str, ...]
    specs: tuple[ModelSpec, ...]
    steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_error: np.ndarray
    val_error: np.ndarray
    best_val_loss: np.ndarray
    best_val_step: np.ndarray
    final_train_loss: np.ndarray
    final_val_loss: np.ndarray
    final_train_error: np.ndarray
    final_val_error: np.ndarray
    target: float
    steps_to_target: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    status: tuple[str, ...]
    theta: np.ndarray  # (M, P) parameters used for evaluation, for decision boundaries
    step: int
    total: int
    cancelled: bool = False
    # CURVE_FIELDS -> (lowest, highest) (R, M) values behind each of ``steps`` (see History)
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    regression: bool = False  # errors are RMSE (else the misclassified fraction)

    @property
    def n_models(self) -> int:
        return len(self.labels)

    @property
    def complete(self) -> bool:
        return not self.cancelled

    def curve(self, name: str, m: int) -> np.ndarray:
        """Metric ``name`` (one of CURVE_FIELDS) of model ``m`` at ``steps``."""
        if name not in CURVE_FIELDS:
            raise ValueError(f"unknown curve {name!r}; choose one of {', '.join(CURVE_FIELDS)}")
        return getattr(self, name)[:, m]

    def band(self, name: str, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest value of ``name`` behind each of ``steps`` for model ``m``
        (equal to the curve where the run was short enough to keep every recorded step)."""
        if name not in self.bands:
            curve = self.curve(name, m)
            return curve, curve
        lo, hi = self.bands[name]
        return lo[:, m], hi[:, m]

    def steps_to(self, target: float) -> np.ndarray:
        """Steps to reach ``target`` on the validation loss, per model (-1: never).

        Exact for the run's own target; for another one, read off the kept curve points.
        """
        if target == self.target:
            return self.steps_to_target.copy()
        out = np.full(self.n_models, -1, dtype=np.int64)
        if target <= 0.0:
            return out
        with np.errstate(invalid="ignore"):
            hit = self.val_loss <= target
        for m in range(self.n_models):
            rows = np.flatnonzero(hit[:, m])
            if len(rows):
                out[m] = self.steps[rows[0]]
        return out

    def table(self) -> list[dict[str, Any]]:
        """One dict per model with the table's columns."""
        return [
            {
                "label": self.labels[m],
                "optimizer": self.specs[m].optimizer.name,
                "best_val_loss": float(self.best_val_loss[m]),
                "best_val_step": int(self.best_val_step[m]),
                "final_train_error": float(self.final_train_error[m]),
                "final_val_error": float(self.final_val_error[m]),
                "steps_to_target": int(self.steps_to_target[m]),
                "diverged": bool(self.diverged[m]),
                "diverged_step": int(self.diverged_step[m]),
                "status": self.status[m],
            }
            for m in range(self.n_models)
        ]


def _race_result(
    engine: Engine, labels: tuple[str, ...], tracker: TargetTracker, total: int, cancelled: bool
) -> RaceResult:
    h = engine.history
    final = final_values(engine)
    best = finite_or_nan(h.best_val_loss)
    return RaceResult(
        labels=labels,
        specs=tuple(engine.specs),
        steps=h.steps,
        train_loss=h.field("train_loss"),
        val_loss=h.field("val_loss"),
        train_error=h.field("train_error"),
        val_error=h.field("val_error"),
        best_val_loss=best,
        best_val_step=np.where(np.isfinite(best), h.best_val_step, -1),
        final_train_loss=final[0],
        final_val_loss=final[1],
        final_train_error=final[2],
        final_val_error=final[3],
        target=float(tracker.target),
        steps_to_target=tracker.first.copy(),
        diverged=engine.status == DIVERGED,
        diverged_step=engine.diverged_step.copy(),
        status=tuple(engine.status_name(m) for m in range(engine.n_models)),
        theta=engine.eval_theta().copy(),
        step=int(engine.step),
        total=int(total),
        cancelled=cancelled,
        bands={name: h.envelope(name) for name in CURVE_FIELDS},
        regression=engine.network.loss == "mse",
    )


def race(
    exp: Experiment,
    configs: Sequence[ModelSpec | Mapping[str, Any]],
    steps: int,
    *,
    target: float | None = None,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> RaceResult:
    """Train up to :data:`MAX_RACE` configurations side by side for ``steps`` steps.

    ``configs`` are ModelSpecs or dicts (see :func:`spec_from_dict`); all models start from the
    same parameters and see the same batches unless a spec sets its own seeds. ``target`` (else
    ``exp.target_loss``; 0: none) is the validation loss whose first crossing is timed.
    """
    specs = specs_of(configs)
    if not 1 <= len(specs) <= MAX_RACE:
        raise ValueError(f"a race takes 1 to {MAX_RACE} configurations, got {len(specs)}")
    steps = check_steps(steps)
    target = float(exp.target_loss if target is None else target)
    _, _, engine = exp.build(models=specs, backend=backend)
    labels = unique_labels(specs)
    tracker = TargetTracker(engine, target)
    driver = Driver(steps, chunk, callback, should_stop)
    driver.run(engine, steps, tracker, lambda: _race_result(engine, labels, tracker, steps, False))
    return _race_result(engine, labels, tracker, steps, driver.cancelled)
