"""The learning-rate range test: one run whose learning rate grows geometrically, and the
smoothed training loss after each step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from dlopt_core.studies.compare.lr_sweeps import check_lr_range
from dlopt_core.studies.compare.runs import (
    Callback,
    Driver,
    StopCheck,
    base_optimizer,
    check_steps,
)
from dlopt_core.train.engine import Engine, Metrics, ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule


@dataclass(frozen=True)
class RangeTestResult:
    """Training loss after each step of one run whose learning rate grows geometrically.

    ``lrs[k]`` is the rate of step ``k`` and ``losses[k]`` the training loss after it; ``smoothed``
    is their debiased exponential moving average. ``suggested_lr`` is a tenth of
    ``min_loss_lr``, the rate at the minimum of the smoothed loss (a rate that is still safely
    below where the loss turns up); ``steepest_lr`` is where the smoothed loss falls fastest per
    factor of learning rate before that minimum. NaN when there is no such point yet.
    """

    optimizer: Optimizer
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    min_loss_lr: float
    steepest_lr: float
    diverged_step: int
    step: int
    total: int
    cancelled: bool = False

    @property
    def complete(self) -> bool:
        return not self.cancelled


def smooth(values: np.ndarray, beta: float) -> np.ndarray:
    """Debiased exponential moving average ``a_k = beta a_{k-1} + (1 - beta) v_k``."""
    out = np.empty(len(values))
    avg = 0.0
    for k, v in enumerate(values):
        avg = beta * avg + (1.0 - beta) * v
        out[k] = avg / (1.0 - beta ** (k + 1))
    return out


def _range_result(
    opt: Optimizer,
    lrs: list[np.ndarray],
    losses: list[np.ndarray],
    beta: float,
    engine: Engine,
    total: int,
    cancelled: bool,
) -> RangeTestResult:
    lr = np.concatenate(lrs) if lrs else np.empty(0)
    loss = np.concatenate(losses) if losses else np.empty(0)
    keep = np.isfinite(loss)
    lr, loss = lr[keep], loss[keep]
    sm = smooth(loss, beta)
    suggested = min_lr = steepest = math.nan
    if len(sm) >= 3:
        k = int(np.argmin(sm))
        min_lr = float(lr[k])
        suggested = min_lr / 10.0
        if k >= 2:
            slope = np.gradient(sm[: k + 1], np.log(lr[: k + 1]))
            steepest = float(lr[int(np.argmin(slope))])
    return RangeTestResult(
        optimizer=opt,
        lrs=lr,
        losses=loss,
        smoothed=sm,
        suggested_lr=suggested,
        min_loss_lr=min_lr,
        steepest_lr=steepest,
        diverged_step=int(engine.diverged_step[0]),
        step=int(engine.step),
        total=int(total),
        cancelled=cancelled,
    )


def growth_schedule(lr_min: float, lr_max: float, steps: int) -> Schedule:
    """The exponential schedule from ``lr_min`` (step 0) to ``lr_max`` (step ``steps - 1``).

    Its factor is above one, which ``make_schedule`` refuses for decay schedules; the compiled
    formula ``lr gamma^t`` is the same either way.
    """
    gamma = (lr_max / lr_min) ** (1.0 / max(1, steps - 1))
    return Schedule("exponential", (("gamma", float(gamma)),))


def lr_range_test(
    exp: Experiment,
    lr_min: float,
    lr_max: float,
    steps: int,
    *,
    optimizer: str | Optimizer | None = None,
    beta: float = 0.9,
    stop_factor: float = 4.0,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> RangeTestResult:
    """One run whose rate grows from ``lr_min`` to ``lr_max`` by a constant factor each step.

    The training loss is evaluated after every step (``eval_every = 1``, early stopping off).
    The run ends early when the model diverges or the smoothed loss exceeds ``stop_factor`` times
    its minimum (0: never).
    """
    lr_min, lr_max = float(lr_min), float(lr_max)
    check_lr_range(lr_min, lr_max)
    steps = check_steps(steps)
    if steps < 3:
        raise ValueError(f"a range test needs at least 3 steps, got {steps}")
    opt = base_optimizer(exp, exp.optimizer if optimizer is None else optimizer).replace(lr=lr_min)
    run_exp = replace(exp, training=replace(exp.training, eval_every=1, early_stopping=0))
    spec = ModelSpec(opt, growth_schedule(lr_min, lr_max, steps))
    _, _, engine = run_exp.build(models=[spec], backend=backend)
    lrs: list[np.ndarray] = []
    losses: list[np.ndarray] = []
    blown = False

    def collect(metrics: Metrics) -> None:
        nonlocal blown
        lrs.append(metrics.lr[:, 0].copy())
        losses.append(metrics.train_loss[:, 0].copy())
        if stop_factor > 0.0:
            loss = np.concatenate(losses)
            sm = smooth(loss[np.isfinite(loss)], beta)
            blown = len(sm) > 5 and bool(sm[-1] > stop_factor * sm.min())

    def stop() -> bool:
        return blown or (should_stop is not None and should_stop())

    # short chunks: the blow-up test runs between chunks
    driver = Driver(steps, chunk or max(5, steps // 100), callback, stop)
    driver.run(
        engine, steps, collect, lambda: _range_result(opt, lrs, losses, beta, engine, steps, False)
    )
    cancelled = driver.cancelled and not blown
    return _range_result(opt, lrs, losses, beta, engine, steps, cancelled)
