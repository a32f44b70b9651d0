r"""What every comparison shares: the limits, optimizer entries made into ``ModelSpec``\s, the
engine built for many models, the chunked driver (progress, cancel, chunk sizes that adapt to
about ``TARGET_CHUNK_S`` seconds without changing the numbers) and the parts a sweep is cut into
when it runs on an executor (``dlopt_core.studies.executors``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from dlopt_core.train.chunks import next_chunk
from dlopt_core.train.engine import DIVERGED, Engine, Metrics, ModelSpec
from dlopt_core.train.experiment import Experiment
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


def specs_of(configs: Sequence[ModelSpec | Mapping[str, Any]]) -> list[ModelSpec]:
    """Each config as a ``ModelSpec`` (optimizer dicts through ``spec_from_dict``)."""
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


def check_steps(steps: int) -> int:
    """``steps`` as an int, at least 1 (``ValueError`` otherwise)."""
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return steps


# -- driving an engine in chunks ------------------------------------------------------------------
class Driver:
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
                # at least about ten progress reports per run
                size = next_chunk(n, dt, TARGET_CHUNK_S, every, max(every, -(-steps // 10)))
            if self.callback is not None and done < steps and engine.running.any():
                self.callback(self.fraction(done), partial())
        self.done_before += steps

    def fraction(self, done: int) -> float:
        return min(1.0, (self.done_before + done) / self.total)


class TargetTracker:
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


def build_engine(
    exp: Experiment, specs: list[ModelSpec], backend: str, history_limit: int
) -> Engine:
    """The engine of ``exp`` for ``specs`` with a short history, for runs that need only the
    best and final values (they are tracked exactly whatever the limit)."""
    return exp.build(models=specs, backend=backend, history_limit=history_limit)[2]


def final_values(engine: Engine) -> np.ndarray:
    """(4, M) train/val loss and error of the current parameters; NaN for diverged models."""
    values = engine.evaluate()[:4].copy()
    values[:, engine.status == DIVERGED] = np.nan
    return values


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """A float copy of ``values`` with every infinite value made NaN (no value, for a plot)."""
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
    engine = build_engine(exp, list(specs), backend, SWEEP_HISTORY)
    Driver(steps, None, None, None).run(engine, steps, None, lambda: None)
    h = engine.history
    final = final_values(engine)
    best = finite_or_nan(h.best_val_loss)
    return {
        "final_train_loss": final[0],
        "final_val_loss": final[1],
        "best_train_loss": finite_or_nan(h.min_train_loss),
        "best_val_loss": best,
        "best_val_step": np.where(np.isfinite(best), h.best_val_step, -1),
        "diverged": engine.status == DIVERGED,
        "diverged_step": engine.diverged_step.copy(),
        "initial_train_loss": finite_or_nan(h.field("train_loss")[0]),
        "step": int(engine.step),
    }


def run_parts(
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
