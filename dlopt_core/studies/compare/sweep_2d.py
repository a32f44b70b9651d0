"""Two-dimensional sweeps: the final validation loss over learning rate times a second
hyper-parameter (``SECOND_PARAMS``: momentum, beta1 or the batch size).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dlopt_core.studies.compare.runs import (
    MAX_SWEEP_MODELS,
    SECOND_PARAMS,
    SWEEP_HISTORY,
    Callback,
    Driver,
    StopCheck,
    base_optimizer,
    build_engine,
    check_steps,
    final_values,
    finite_or_nan,
    run_parts,
)
from dlopt_core.train.engine import DIVERGED, Engine, ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import Optimizer


@dataclass(frozen=True)
class Sweep2DResult:
    """Final validation loss over learning rate x a second hyper-parameter.

    Grids are (S, L): row ``i`` for ``second_values[i]``, column ``j`` for ``lr_values[j]``.
    ``final_val_loss`` is NaN where the model diverged (``diverged``) or was not trained yet
    (``trained`` False, after a cancel).
    """

    optimizer: Optimizer
    lr_values: np.ndarray
    second_name: str
    second_values: np.ndarray
    final_val_loss: np.ndarray
    best_val_loss: np.ndarray
    diverged: np.ndarray
    trained: np.ndarray
    step: int
    total: int
    cancelled: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return self.final_val_loss.shape

    @property
    def complete(self) -> bool:
        return not self.cancelled

    def best(self) -> tuple[int, int] | None:
        """``(i, j)`` of the lowest final validation loss, None when none is finite."""
        grid = self.final_val_loss
        if not np.isfinite(grid).any():
            return None
        i, j = np.unravel_index(np.nanargmin(grid), grid.shape)
        return int(i), int(j)


def _with_second(opt: Optimizer, name: str, value: float) -> Optimizer:
    if name == "momentum":
        if "momentum" not in opt.hyper:
            raise ValueError(
                f"{opt.info.title} has no momentum; choose SGD + momentum, Nesterov "
                "or RMSProp, or another second hyper-parameter"
            )
        return opt.replace(momentum=float(value))
    if "betas" not in opt.hyper:
        raise ValueError(
            f"{opt.info.title} has no beta1; choose Adam, AdamW, Adamax, NAdam or "
            "AMSGrad, or another second hyper-parameter"
        )
    return opt.replace(betas=(float(value), float(opt.hyper["betas"][1])))


def sweep_2d(
    exp: Experiment,
    optimizer: str | Optimizer,
    lr_values: Sequence[float],
    second_name: str,
    second_values: Sequence[float],
    steps: int,
    *,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
    executor: Any = None,
) -> Sweep2DResult:
    """Train every (learning rate, second value) pair; ``second_name`` is one of SECOND_PARAMS.

    Momentum and beta1 vary within one engine; the batch size is shared by all models of an
    engine, so each batch size gets an engine of its own (run one after the other). With an
    ``executor`` each row (one second value) is a task of its own, with the same numbers.
    """
    if second_name not in SECOND_PARAMS:
        raise ValueError(
            f"unknown second hyper-parameter {second_name!r}; choose one of "
            f"{', '.join(SECOND_PARAMS)}"
        )
    lr_arr = np.asarray(lr_values, dtype=np.float64)
    sec = np.asarray(second_values, dtype=np.float64)
    if lr_arr.ndim != 1 or len(lr_arr) == 0 or sec.ndim != 1 or len(sec) == 0:
        raise ValueError("a 2-D sweep needs at least one learning rate and one second value")
    if len(lr_arr) * len(sec) > MAX_SWEEP_MODELS:
        raise ValueError(
            f"{len(sec)} x {len(lr_arr)} = {len(sec) * len(lr_arr)} models; "
            f"at most {MAX_SWEEP_MODELS}"
        )
    for lr in lr_arr:
        if not (math.isfinite(lr) and 0.0 < lr <= 1000.0):
            raise ValueError(f"learning rate {lr:g} is outside (0, 1000]")
    steps = check_steps(steps)
    base = base_optimizer(exp, optimizer)
    S, L = len(sec), len(lr_arr)
    final = np.full((S, L), np.nan)
    best = np.full((S, L), np.nan)
    diverged = np.zeros((S, L), dtype=bool)
    trained = np.zeros((S, L), dtype=bool)
    state = {"step": 0}

    def snapshot(cancelled: bool) -> Sweep2DResult:
        return Sweep2DResult(
            optimizer=base,
            lr_values=lr_arr.copy(),
            second_name=second_name,
            second_values=sec.copy(),
            final_val_loss=final.copy(),
            best_val_loss=best.copy(),
            diverged=diverged.copy(),
            trained=trained.copy(),
            step=state["step"],
            total=steps,
            cancelled=cancelled,
        )

    def fill(engine: Engine, rows: slice) -> None:
        f = final_values(engine)[1].reshape(-1, L)
        final[rows] = f
        best[rows] = finite_or_nan(engine.history.best_val_loss).reshape(-1, L)
        diverged[rows] = (engine.status == DIVERGED).reshape(-1, L)
        trained[rows] = True
        state["step"] = int(engine.step)

    if second_name == "batch_size":
        sizes = [int(v) for v in sec]
        if any(s < 1 or s != v for s, v in zip(sizes, sec, strict=True)):
            raise ValueError("batch sizes must be whole numbers >= 1")
        jobs = [
            (
                replace(exp, training=replace(exp.training, batch_size=s)),
                [base.replace(lr=float(lr)) for lr in lr_arr],
                slice(i, i + 1),
            )
            for i, s in enumerate(sizes)
        ]
    else:
        opts = [
            _with_second(base, second_name, v).replace(lr=float(lr)) for v in sec for lr in lr_arr
        ]
        jobs = [(exp, opts, slice(0, S))]
    if executor is not None:
        parts = [
            (run_exp, [ModelSpec(o, exp.schedule) for o in opts[r * L : (r + 1) * L]])
            for run_exp, opts, rows in jobs
            for r in range(rows.stop - rows.start)
        ]

        def on_row(k: int, arrays: dict[str, Any], fraction: float) -> None:
            final[k] = arrays["final_val_loss"]
            best[k] = arrays["best_val_loss"]
            diverged[k] = arrays["diverged"]
            trained[k] = True
            state["step"] = max(state["step"], arrays["step"])
            if callback is not None:
                callback(fraction, snapshot(False))

        cancelled = run_parts(executor, steps, backend, parts, on_row, should_stop)
        return snapshot(cancelled)
    driver = Driver(steps * len(jobs), chunk, None, should_stop)
    for k, (run_exp, opts, rows) in enumerate(jobs):
        if driver.stop_requested():
            break
        specs = [ModelSpec(o, exp.schedule) for o in opts]
        engine = build_engine(run_exp, specs, backend, SWEEP_HISTORY)

        def report(
            progress: float, _partial: Any, engine: Engine = engine, rows: slice = rows
        ) -> None:
            fill(engine, rows)
            if callback is not None:
                callback(progress, snapshot(False))

        driver.callback = report
        driver.run(engine, steps, None, lambda: None)
        fill(engine, rows)
        if callback is not None and not driver.cancelled and k < len(jobs) - 1:
            callback(driver.fraction(0), snapshot(False))
    return snapshot(driver.cancelled)
