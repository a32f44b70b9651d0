"""Comparisons of optimizers on one experiment: races, learning-rate sweeps and seed bands.

Every function trains many models in one :class:`~dlopt_core.train.engine.Engine` wherever it can,
so the models share the compiled loop, and, unless told otherwise, the same initial parameters and
the same mini-batches: differences between them are the optimizer's alone.

Long runs go in chunks. Between two chunks ``callback(progress, partial_result)`` is called with
the fraction done (0..1) and a result of the same type as the final one, and ``should_stop()`` is
asked whether to give up; a cancelled run returns what it has, with ``cancelled=True``. Results
are frozen dataclasses holding copies, safe to hand to another thread. Chunk sizes adapt to take
about :data:`TARGET_CHUNK_S` seconds each; they never change the numbers (see ``engine``).

"Final" values are those of the parameters after the last step; a model that diverged has none
(NaN). "Best" values are the lowest recorded ones (every ``training.eval_every`` steps).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dlopt_core.data import features
from dlopt_core.train.engine import Engine, Metrics, ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import Optimizer, make_optimizer, optimizer_from_dict
from dlopt_core.train.schedules import Schedule, make_schedule

MAX_RACE = 8
MAX_SWEEP_MODELS = 4096
MAX_SEEDS = 64
SECOND_PARAMS = ("momentum", "beta1", "batch_size")
CURVE_FIELDS = ("train_loss", "val_loss", "train_error", "val_error")
TARGET_CHUNK_S = 0.2
SWEEP_HISTORY = 16  # curve points kept per sweep model: sweeps report best and final values
SAFE_MARGIN = 3.0  # a suggested rate stays this many times below the first unstable one

Callback = Callable[[float, Any], None]
StopCheck = Callable[[], bool]


# -- configurations -------------------------------------------------------------------------------
def spec_from_dict(raw: Mapping[str, Any]) -> ModelSpec:
    """A :class:`ModelSpec` from a plain dict.

    ``{"optimizer": "adam", "lr": 0.01, "schedule": "cosine", "label": "Adam"}``: the optimizer
    is a name (its hyper-parameters are the other keys) or a dict like ``Optimizer.to_dict()``
    (``{"name": "adam", "lr": 0.01}``, also accepted at the top level); the schedule a name or a
    dict like ``Schedule.to_dict()``; ``label``, ``init_seed`` and ``order_seed`` are optional.
    """
    raw = dict(raw)
    label = str(raw.pop("label", ""))
    init_seed = raw.pop("init_seed", None)
    order_seed = raw.pop("order_seed", None)
    sched = raw.pop("schedule", "constant")
    opt = raw.pop("optimizer", None)
    if opt is None:
        opt = raw.pop("name", None)
    if isinstance(opt, Optimizer):
        optimizer = opt.replace(**raw) if raw else opt
    elif isinstance(opt, Mapping):
        optimizer = optimizer_from_dict({**opt, **raw})
    elif isinstance(opt, str):
        optimizer = optimizer_from_dict(raw, name=opt)
    else:
        raise ValueError(f"a configuration needs an optimizer name, got {opt!r}")
    if isinstance(sched, Schedule):
        schedule = sched
    elif isinstance(sched, Mapping):
        params = dict(sched)
        schedule = make_schedule(params.pop("name", "constant"), **params)
    else:
        schedule = make_schedule(sched)
    return ModelSpec(
        optimizer,
        schedule,
        None if init_seed is None else int(init_seed),
        None if order_seed is None else int(order_seed),
        label,
    )


def _specs(configs: Sequence[ModelSpec | Mapping[str, Any]]) -> list[ModelSpec]:
    return [c if isinstance(c, ModelSpec) else spec_from_dict(c) for c in configs]


def unique_labels(specs: Sequence[ModelSpec]) -> tuple[str, ...]:
    """Each spec's name, with " #2", " #3" ... added to repeats."""
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        name = spec.name
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return tuple(out)


def base_optimizer(exp: Experiment, optimizer: str | Optimizer) -> Optimizer:
    """``optimizer`` itself, or the named one: the experiment's when the names agree, else the
    defaults of that name."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer == exp.optimizer.name:
        return exp.optimizer
    return make_optimizer(optimizer)


def _check_steps(steps: int) -> int:
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return steps


# -- driving an engine in chunks ------------------------------------------------------------------
class _Driver:
    """Runs engines in chunks with progress reports and cancellation."""

    def __init__(
        self,
        total: int,
        chunk: int | None,
        callback: Callback | None,
        should_stop: StopCheck | None,
    ) -> None:
        self.total = max(1, int(total))  # steps over all engines
        self.chunk = None if chunk is None else max(1, int(chunk))
        self.callback = callback
        self.should_stop = should_stop
        self.done_before = 0  # steps of engines already finished
        self.cancelled = False

    def stop_requested(self) -> bool:
        if not self.cancelled and self.should_stop is not None and self.should_stop():
            self.cancelled = True
        return self.cancelled

    def run(
        self,
        engine: Engine,
        steps: int,
        on_chunk: Callable[[Metrics], None] | None,
        partial: Callable[[], Any],
    ) -> None:
        """Advance ``engine`` by ``steps`` steps (fewer when all models stop or on cancel)."""
        every = engine.train.eval_every
        size = self.chunk or min(steps, max(every, 10))
        done = 0
        while done < steps and engine.running.any():
            if self.stop_requested():
                break
            n = min(size, steps - done)
            t0 = time.perf_counter()
            metrics = engine.run(n)
            dt = time.perf_counter() - t0
            done += n
            if on_chunk is not None:
                on_chunk(metrics)
            if self.chunk is None:
                size = self._next_size(n, dt, every, steps)
            if self.callback is not None and done < steps and engine.running.any():
                self.callback(self.fraction(done), partial())
        self.done_before += steps

    def fraction(self, done: int) -> float:
        return min(1.0, (self.done_before + done) / self.total)

    @staticmethod
    def _next_size(n: int, seconds: float, every: int, steps: int) -> int:
        factor = 4.0 if seconds <= 0.0 else min(4.0, max(0.25, TARGET_CHUNK_S / seconds))
        want = int(max(1, n * factor))
        want = min(want, max(every, -(-steps // 10)))  # at least about ten reports per run
        if want >= every:
            want = want // every * every
        return max(1, want)


class _TargetTracker:
    """First recorded step at which each model's validation loss is <= target (-1: not yet)."""

    def __init__(self, engine: Engine, target: float) -> None:
        self.target = target
        self.first = np.full(engine.n_models, -1, dtype=np.int64)
        if target > 0.0:
            self._add(engine.history.steps[:1], engine.history.field("val_loss")[:1])

    def __call__(self, metrics: Metrics) -> None:
        self._add(metrics.steps, metrics.val_loss)

    def _add(self, steps: np.ndarray, val_loss: np.ndarray) -> None:
        if self.target <= 0.0 or len(steps) == 0:
            return
        with np.errstate(invalid="ignore"):
            hit = val_loss <= self.target
        for m in np.flatnonzero((self.first < 0) & hit.any(axis=0)):
            self.first[m] = steps[np.argmax(hit[:, m])]


def _build(exp: Experiment, specs: list[ModelSpec], backend: str, history_limit: int) -> Engine:
    """The engine of ``exp`` for ``specs`` with a short history, for runs that need only the
    best and final values (they are tracked exactly whatever the limit)."""
    return exp.build(models=specs, backend=backend, history_limit=history_limit)[2]


def _final(engine: Engine) -> np.ndarray:
    """(4, M) train/val loss and error of the current parameters; NaN for diverged models."""
    values = engine.evaluate()[:4].copy()
    values[:, engine.status == 1] = np.nan
    return values


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64).copy()
    out[~np.isfinite(out)] = np.nan
    return out


# -- sweeps on an executor ------------------------------------------------------------------------
PART_MODELS = 16  # models per task when a sweep runs on an executor (dlopt_core.studies.executors)
PART_FIELDS = (
    "final_train_loss",
    "final_val_loss",
    "best_train_loss",
    "best_val_loss",
    "best_val_step",
    "diverged",
    "diverged_step",
    "initial_train_loss",
)


def _train_part(
    shared: tuple[int, str], item: tuple[Experiment, list[ModelSpec]]
) -> dict[str, Any]:
    """Train one part of a sweep on an engine of its own: the per-model arrays of
    :data:`PART_FIELDS` and the step reached. A pure function of its inputs, so an executor may
    run it anywhere (models train alike whichever others share their engine)."""
    steps, backend = shared
    exp, specs = item
    engine = _build(exp, list(specs), backend, SWEEP_HISTORY)
    _Driver(steps, None, None, None).run(engine, steps, None, lambda: None)
    h = engine.history
    final = _final(engine)
    best = _finite_or_nan(h.best_val_loss)
    return {
        "final_train_loss": final[0],
        "final_val_loss": final[1],
        "best_train_loss": _finite_or_nan(h.min_train_loss),
        "best_val_loss": best,
        "best_val_step": np.where(np.isfinite(best), h.best_val_step, -1),
        "diverged": engine.status == 1,
        "diverged_step": engine.diverged_step.copy(),
        "initial_train_loss": _finite_or_nan(h.field("train_loss")[0]),
        "step": int(engine.step),
    }


def _run_parts(
    executor: Any,
    steps: int,
    backend: str,
    parts: list[tuple[Experiment, list[ModelSpec]]],
    on_part: Callable[[int, dict[str, Any], float], None],
    should_stop: StopCheck | None,
) -> bool:
    """Run ``parts`` on ``executor``; ``on_part(k, arrays, fraction)`` as each arrives.
    True when cancelled."""
    results = executor.run(_train_part, (steps, backend), parts)
    try:
        for done, (k, arrays) in enumerate(results, start=1):
            on_part(k, arrays, done / len(parts))
            if done < len(parts) and should_stop is not None and should_stop():
                return True
    finally:
        results.close()
    return False


def _split(specs: list[ModelSpec], size: int = PART_MODELS) -> list[list[ModelSpec]]:
    return [specs[k : k + size] for k in range(0, len(specs), size)]


# -- race -----------------------------------------------------------------------------------------
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
    engine: Engine, labels: tuple[str, ...], tracker: _TargetTracker, total: int, cancelled: bool
) -> RaceResult:
    h = engine.history
    final = _final(engine)
    best = _finite_or_nan(h.best_val_loss)
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
        diverged=engine.status == 1,
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
    specs = _specs(configs)
    if not 1 <= len(specs) <= MAX_RACE:
        raise ValueError(f"a race takes 1 to {MAX_RACE} configurations, got {len(specs)}")
    steps = _check_steps(steps)
    target = float(exp.target_loss if target is None else target)
    _, _, engine = exp.build(models=specs, backend=backend)
    labels = unique_labels(specs)
    tracker = _TargetTracker(engine, target)
    driver = _Driver(steps, chunk, callback, should_stop)
    driver.run(engine, steps, tracker, lambda: _race_result(engine, labels, tracker, steps, False))
    return _race_result(engine, labels, tracker, steps, driver.cancelled)


# -- learning-rate sweep --------------------------------------------------------------------------
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


def _check_lr_range(lr_min: float, lr_max: float) -> None:
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
    final = _final(engine)
    best = _finite_or_nan(h.best_val_loss)
    return SweepResult(
        optimizers=optimizers,
        group_labels=labels,
        lrs=lrs.copy(),
        group=group.copy(),
        final_train_loss=final[0],
        final_val_loss=final[1],
        best_train_loss=_finite_or_nan(h.min_train_loss),
        best_val_loss=best,
        best_val_step=np.where(np.isfinite(best), h.best_val_step, -1),
        diverged=engine.status == 1,
        diverged_step=engine.diverged_step.copy(),
        initial_train_loss=_finite_or_nan(h.field("train_loss")[0]),
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
    _check_lr_range(lr_min, lr_max)
    if n < 1:
        raise ValueError(f"a sweep needs at least one learning rate, got n = {n}")
    if n * len(optimizers) > MAX_SWEEP_MODELS:
        raise ValueError(
            f"{n} rates x {len(optimizers)} optimizers = {n * len(optimizers)} models; "
            f"at most {MAX_SWEEP_MODELS}"
        )
    steps = _check_steps(steps)
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
    engine = _build(exp, specs, backend, SWEEP_HISTORY)
    driver = _Driver(steps, chunk, callback, should_stop)

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
    cancelled = _run_parts(executor, steps, backend, parts, on_part, should_stop)
    return result(cancelled)


# -- learning-rate range test ---------------------------------------------------------------------
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
    _check_lr_range(lr_min, lr_max)
    steps = _check_steps(steps)
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
    driver = _Driver(steps, chunk or max(5, steps // 100), callback, stop)
    driver.run(
        engine, steps, collect, lambda: _range_result(opt, lrs, losses, beta, engine, steps, False)
    )
    cancelled = driver.cancelled and not blown
    return _range_result(opt, lrs, losses, beta, engine, steps, cancelled)


# -- two-dimensional sweep ------------------------------------------------------------------------
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
    steps = _check_steps(steps)
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
        f = _final(engine)[1].reshape(-1, L)
        final[rows] = f
        best[rows] = _finite_or_nan(engine.history.best_val_loss).reshape(-1, L)
        diverged[rows] = (engine.status == 1).reshape(-1, L)
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

        cancelled = _run_parts(executor, steps, backend, parts, on_row, should_stop)
        return snapshot(cancelled)
    driver = _Driver(steps * len(jobs), chunk, None, should_stop)
    for k, (run_exp, opts, rows) in enumerate(jobs):
        if driver.stop_requested():
            break
        specs = [ModelSpec(o, exp.schedule) for o in opts]
        engine = _build(run_exp, specs, backend, SWEEP_HISTORY)

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


# -- seed bands -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """Statistics over seeds, each (C, R): per configuration and recorded step.

    ``std`` is the population standard deviation (ddof 0); runs that stopped (NaN) are left out,
    and ``count`` says how many runs a point is made of.
    """

    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class SeedBandsResult:
    """Each configuration trained once per seed; ``runs[field]`` is (C, N, R), ``bands[field]``
    the statistics over the N seeds, on the common grid ``steps`` (R,)."""

    labels: tuple[str, ...]
    specs: tuple[ModelSpec, ...]
    seeds: tuple[int, ...]
    steps: np.ndarray
    runs: dict[str, np.ndarray]
    bands: dict[str, Band]
    diverged: np.ndarray  # (C, N)
    step: int
    total: int
    cancelled: bool = False
    regression: bool = False  # errors are RMSE (else the misclassified fraction)

    @property
    def complete(self) -> bool:
        return not self.cancelled


def band_stats(runs: np.ndarray) -> Band:
    """Mean, std, min, max and count over axis 1 of (C, N, R) values, ignoring NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return Band(
            mean=np.nanmean(runs, axis=1),
            std=np.nanstd(runs, axis=1),
            low=np.nanmin(runs, axis=1),
            high=np.nanmax(runs, axis=1),
            count=np.isfinite(runs).sum(axis=1),
        )


def _bands_result(
    engine: Engine,
    specs: list[ModelSpec],
    labels: tuple[str, ...],
    seeds: tuple[int, ...],
    total: int,
    cancelled: bool,
) -> SeedBandsResult:
    C, N = len(specs), len(seeds)
    h = engine.history
    runs = {}
    bands = {}
    for name in CURVE_FIELDS:
        values = h.field(name)  # (R, C * N), model m = c * N + k
        cube = np.ascontiguousarray(values.T.reshape(C, N, -1))
        runs[name] = cube
        bands[name] = band_stats(cube)
    return SeedBandsResult(
        labels=labels,
        specs=tuple(specs),
        seeds=seeds,
        steps=h.steps,
        runs=runs,
        bands=bands,
        diverged=(engine.status == 1).reshape(C, N),
        step=int(engine.step),
        total=int(total),
        cancelled=cancelled,
        regression=engine.network.loss == "mse",
    )


def seed_bands(
    exp: Experiment,
    configs: Sequence[ModelSpec | Mapping[str, Any]],
    n_seeds: int,
    steps: int,
    *,
    seeds: Sequence[int] | None = None,
    backend: str = "cpu",
    chunk: int | None = None,
    callback: Callback | None = None,
    should_stop: StopCheck | None = None,
) -> SeedBandsResult:
    """Each configuration over ``n_seeds`` seeds, all in one engine.

    Seed ``s`` sets both the initial parameters and the batch order (``init_seed = order_seed =
    s``); the seeds are ``exp.seed, exp.seed + 1, ...`` unless given. Model ``c * N + k`` is
    configuration ``c`` with seed ``k``.
    """
    specs = _specs(configs)
    if not specs:
        raise ValueError("choose at least one configuration")
    if seeds is None:
        seeds = [exp.seed + k for k in range(int(n_seeds))]
    seeds = tuple(int(s) for s in seeds)
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"seed bands take 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    if len(specs) * len(seeds) > MAX_SWEEP_MODELS:
        raise ValueError(f"{len(specs)} configurations x {len(seeds)} seeds is too many models")
    steps = _check_steps(steps)
    labels = unique_labels(specs)
    models = [replace(spec, init_seed=s, order_seed=s) for spec in specs for s in seeds]
    _, _, engine = exp.build(models=models, backend=backend)
    driver = _Driver(steps, chunk, callback, should_stop)
    driver.run(
        engine, steps, None, lambda: _bands_result(engine, specs, labels, seeds, steps, False)
    )
    return _bands_result(engine, specs, labels, seeds, steps, driver.cancelled)


# -- decision boundaries --------------------------------------------------------------------------
@dataclass
class BoundaryGrid:
    """Network outputs over a grid of the raw 2-D inputs, for small decision-boundary pictures.

    Build it with :meth:`for_experiment` (None when the data are not 2-D); ``values(theta)``
    gives (n, n) outputs (P(class 1), or the value for regression) or (n, n, K) class
    probabilities, row 0 at ``bounds[2]`` (the lowest y).
    """

    network: Network
    bounds: tuple[float, float, float, float]
    n: int
    inputs: np.ndarray
    task: str
    n_classes: int
    points: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    @classmethod
    def for_experiment(cls, exp: Experiment, n: int = 48) -> BoundaryGrid | None:
        loaded = exp.load_data()
        raw, data = loaded.raw, loaded.inputs
        if raw.X_train.shape[1] != 2:
            return None
        net = exp.make_network(data)
        pts = np.concatenate([raw.X_train, raw.X_val])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.06 * np.maximum(hi - lo, 1e-6)
        bounds = (
            float(lo[0] - pad[0]),
            float(hi[0] + pad[0]),
            float(lo[1] - pad[1]),
            float(hi[1] + pad[1]),
        )
        gx, gy = np.meshgrid(
            np.linspace(bounds[0], bounds[1], n), np.linspace(bounds[2], bounds[3], n)
        )
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        inputs = features.expand(grid, exp.network.features)
        return cls(
            net,
            bounds,
            n,
            inputs,
            data.task,
            int(data.n_classes),
            np.array(raw.X_train),
            np.array(raw.y_train),
        )

    def values(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.asarray(self.network.predict(np.ascontiguousarray(theta), self.inputs))
        out = np.nan_to_num(out, nan=0.5, posinf=0.0, neginf=0.0)
        return out.reshape(self.n, self.n, -1) if out.ndim == 2 else out.reshape(self.n, self.n)


__all__ = [
    "MAX_RACE",
    "SECOND_PARAMS",
    "Band",
    "BoundaryGrid",
    "RaceResult",
    "RangeTestResult",
    "SeedBandsResult",
    "Sweep2DResult",
    "SweepResult",
    "band_stats",
    "base_optimizer",
    "growth_schedule",
    "lr_range_test",
    "lr_sweep",
    "race",
    "seed_bands",
    "smooth",
    "spec_from_dict",
    "sweep_2d",
    "unique_labels",
]
