"""Learning-rate sweeps: many models that differ in optimizer and learning rate only, their best
and final losses, and the rate to suggest (``SAFE_MARGIN`` below the first unstable one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.studies.compare.runs import (
    MAX_SWEEP_MODELS,
    PART_FIELDS,
    PART_MODELS,
    SAFE_MARGIN,
    SWEEP_HISTORY,
    Callback,
    Driver,
    StopCheck,
    _split,
    base_optimizer,
    build_engine,
    check_steps,
    final_values,
    finite_or_nan,
    run_parts,
    unique_labels,
)
from dlopt_core.train.engine import DIVERGED, Engine, ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import Optimizer


@dataclass(frozen=True)
class SweepResult:
    """Models that differ in optimizer and learning rate only (model ``m = g * n + i``).

    Per model (M,): ``lrs``, ``group`` (index into ``optimizers``), final and best train/val loss,
    step of the best validation loss, diverged flag and step (-1 if not). ``initial_train_loss``
    is the loss at step 0 (the same for every model: they share their initial parameters).
    """

    optimizers: tuple[Optimizer, ...]
    group_labels: tuple[str, ...]
    lrs: np.ndarray
    group: np.ndarray
    final_train_loss: np.ndarray
    final_val_loss: np.ndarray
    best_train_loss: np.ndarray
    best_val_loss: np.ndarray
    best_val_step: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    initial_train_loss: np.ndarray
    step: int
    total: int
    cancelled: bool = False

    @property
    def n_models(self) -> int:
        return len(self.lrs)

    @property
    def unstable(self) -> np.ndarray:
        """Models that diverged or ended with a higher training loss than they started with."""
        with np.errstate(invalid="ignore"):
            worse = self.final_train_loss > self.initial_train_loss
        return self.diverged | worse

    @property
    def complete(self) -> bool:
        return not self.cancelled

    def group_of(self, optimizer: str | Optimizer | int) -> int:
        """The group index of ``optimizer``: an index, a group label, a name or an Optimizer."""
        if isinstance(optimizer, int | np.integer):
            if not 0 <= optimizer < len(self.optimizers):
                raise ValueError(f"no optimizer group {optimizer}")
            return int(optimizer)
        if isinstance(optimizer, Optimizer):
            for g, opt in enumerate(self.optimizers):
                if opt == optimizer:
                    return g
            optimizer = optimizer.name
        if optimizer in self.group_labels:
            return self.group_labels.index(optimizer)
        for g, opt in enumerate(self.optimizers):
            if opt.name == optimizer:
                return g
        raise ValueError(
            f"optimizer {optimizer!r} is not in this sweep; it has {', '.join(self.group_labels)}"
        )

    def indices(self, optimizer: str | Optimizer | int) -> np.ndarray:
        """Model indices of one optimizer, in increasing learning rate."""
        return np.flatnonzero(self.group == self.group_of(optimizer))

    def best_index(self, optimizer: str | Optimizer | int) -> int | None:
        """The model with the lowest best validation loss among those that did not diverge."""
        idx = self.indices(optimizer)
        ok = idx[~self.diverged[idx] & np.isfinite(self.best_val_loss[idx])]
        if len(ok) == 0:
            return None
        return int(ok[np.argmin(self.best_val_loss[ok])])

    def best_lr(self, optimizer: str | Optimizer | int) -> float | None:
        """Learning rate of :meth:`best_index` (None when every model diverged)."""
        m = self.best_index(optimizer)
        return None if m is None else float(self.lrs[m])

    def unstable_lr(self, optimizer: str | Optimizer | int) -> float | None:
        """The smallest learning rate at which this optimizer was :attr:`unstable` (None:
        never): where the region to stay away from begins."""
        idx = self.indices(optimizer)
        bad = idx[self.unstable[idx]]
        return float(self.lrs[bad].min()) if len(bad) else None

    def suggested_index(
        self, optimizer: str | Optimizer | int, margin: float = SAFE_MARGIN
    ) -> int | None:
        """The rate to use: the best one at least ``margin`` times below the first unstable
        rate. The lowest loss often sits right at the edge of the unstable region, where
        another seed, batch order or a longer run diverges; a margin below it costs little."""
        idx = self.indices(optimizer)
        edge = self.unstable_lr(optimizer)
        ok = ~self.unstable[idx] & np.isfinite(self.best_val_loss[idx])
        if edge is not None:
            ok &= self.lrs[idx] <= edge / margin
        ok_idx = idx[ok]
        if len(ok_idx) == 0:
            return None
        return int(ok_idx[np.argmin(self.best_val_loss[ok_idx])])

    def divergence_lr(self, optimizer: str | Optimizer | int) -> float | None:
        """The smallest learning rate at which this optimizer diverged (None: never)."""
        idx = self.indices(optimizer)
        bad = idx[self.diverged[idx]]
        return float(self.lrs[bad].min()) if len(bad) else None

    def optimizer_at(self, m: int) -> Optimizer:
        """Model ``m``'s optimizer, with its learning rate."""
        return self.optimizers[int(self.group[m])].replace(lr=float(self.lrs[m]))


def check_lr_range(lr_min: float, lr_max: float) -> None:
    if not (math.isfinite(lr_min) and math.isfinite(lr_max)) or not 0.0 < lr_min < lr_max:
        raise ValueError(
            f"the learning-rate range needs 0 < lr_min < lr_max, got {lr_min:g} to {lr_max:g}"
        )
    if lr_max > 1000.0:
        raise ValueError(f"lr_max = {lr_max:g} is above the largest allowed rate, 1000")


def _sweep_result(
    engine: Engine,
    optimizers: tuple[Optimizer, ...],
    labels: tuple[str, ...],
    lrs: np.ndarray,
    group: np.ndarray,
    total: int,
    cancelled: bool,
) -> SweepResult:
    h = engine.history
    final = final_values(engine)
    best = finite_or_nan(h.best_val_loss)
    return SweepResult(
        optimizers=optimizers,
        group_labels=labels,
        lrs=lrs.copy(),
        group=group.copy(),
        final_train_loss=final[0],
        final_val_loss=final[1],
        best_train_loss=finite_or_nan(h.min_train_loss),
        best_val_loss=best,
        best_val_step=np.where(np.isfinite(best), h.best_val_step, -1),
        diverged=engine.status == DIVERGED,
        diverged_step=engine.diverged_step.copy(),
        initial_train_loss=finite_or_nan(h.field("train_loss")[0]),
        step=int(engine.step),
        total=int(total),
        cancelled=cancelled,
    )


def lr_sweep(
    exp: Experiment,
    optimizers: Sequence[str | Optimizer],
    lr_min: float,
    lr_max: float,
    n: int,
    steps: int,
    *,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
    executor: Any = None,
) -> SweepResult:
    """``n`` log-spaced learning rates from ``lr_min`` to ``lr_max`` for each optimizer, all
    trained together in one engine from the same initial parameters on the same batches.

    An optimizer given by name takes the experiment's hyper-parameters when it is the experiment's
    optimizer, else its defaults; every model uses the experiment's schedule. With an
    ``executor`` (``dlopt_core.studies.executors``) the models are trained in parts of
    :data:`PART_MODELS` as its tasks, with the same numbers; progress comes part by part.
    """
    if not optimizers:
        raise ValueError("choose at least one optimizer to sweep")
    lr_min, lr_max, n = float(lr_min), float(lr_max), int(n)
    check_lr_range(lr_min, lr_max)
    if n < 1:
        raise ValueError(f"a sweep needs at least one learning rate, got n = {n}")
    if n * len(optimizers) > MAX_SWEEP_MODELS:
        raise ValueError(
            f"{n} rates x {len(optimizers)} optimizers = {n * len(optimizers)} models; "
            f"at most {MAX_SWEEP_MODELS}"
        )
    steps = check_steps(steps)
    bases = tuple(base_optimizer(exp, o) for o in optimizers)
    grid = np.geomspace(lr_min, lr_max, n)
    specs = [
        ModelSpec(opt.replace(lr=float(lr)), exp.schedule, label=opt.name)
        for opt in bases
        for lr in grid
    ]
    labels = unique_labels([ModelSpec(o, label=o.info.title) for o in bases])
    lrs = np.tile(grid, len(bases))
    group = np.repeat(np.arange(len(bases)), n)
    if executor is not None:
        return _lr_sweep_parts(
            exp, specs, bases, labels, lrs, group, steps, backend, callback, should_stop, executor
        )
    engine = build_engine(exp, specs, backend, SWEEP_HISTORY)
    driver = Driver(steps, chunk, callback, should_stop)

    def partial() -> SweepResult:
        return _sweep_result(engine, bases, labels, lrs, group, steps, False)

    driver.run(engine, steps, None, partial)
    return _sweep_result(engine, bases, labels, lrs, group, steps, driver.cancelled)


def _lr_sweep_parts(
    exp: Experiment,
    specs: list[ModelSpec],
    bases: tuple[Optimizer, ...],
    labels: tuple[str, ...],
    lrs: np.ndarray,
    group: np.ndarray,
    steps: int,
    backend: str,
    callback: Callback | None,
    should_stop: StopCheck | None,
    executor: Any,
) -> SweepResult:
    M = len(specs)
    out: dict[str, np.ndarray] = {
        "final_train_loss": np.full(M, np.nan),
        "final_val_loss": np.full(M, np.nan),
        "best_train_loss": np.full(M, np.nan),
        "best_val_loss": np.full(M, np.nan),
        "best_val_step": np.full(M, -1, dtype=np.int64),
        "diverged": np.zeros(M, dtype=bool),
        "diverged_step": np.full(M, -1, dtype=np.int64),
        "initial_train_loss": np.full(M, np.nan),
    }
    state = {"step": 0}

    def result(cancelled: bool) -> SweepResult:
        return SweepResult(
            optimizers=bases,
            group_labels=labels,
            lrs=lrs.copy(),
            group=group.copy(),
            **{k: v.copy() for k, v in out.items()},
            step=state["step"],
            total=steps,
            cancelled=cancelled,
        )

    def on_part(k: int, arrays: dict[str, Any], fraction: float) -> None:
        rows = slice(k * PART_MODELS, k * PART_MODELS + len(arrays["diverged"]))
        for name in PART_FIELDS:
            out[name][rows] = arrays[name]
        state["step"] = max(state["step"], arrays["step"])
        if callback is not None:
            callback(fraction, result(False))

    parts = [(exp, part) for part in _split(specs)]
    cancelled = run_parts(executor, steps, backend, parts, on_part, should_stop)
    return result(cancelled)
