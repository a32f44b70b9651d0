"""Learning-rate schedules: pure functions of the step count ``t`` (0 for the first step).

constant       lr_t = lr
step           lr_t = lr gamma^floor(t / step_size)
exponential    lr_t = lr gamma^t
inverse_time   lr_t = lr / (1 + k t)      (sum lr_t diverges, sum lr_t^2 converges: Robbins-Monro)
cosine         lr_t = eta_min + (lr - eta_min) (1 + cos(pi min(t, T) / T)) / 2
warmup_cosine  lr_t = lr (t + 1) / W for t < W, then cosine from lr to eta_min over T - W steps
one_cycle      cosine rise from lr / div to lr over the first pct_start T steps, then cosine
               fall to lr / (div final_div) at step T - 1 (torch.optim.lr_scheduler.OneCycleLR)

``lr`` is the optimizer's learning rate; one compiled function (``kernels.rules.schedule_lr``)
serves the engine and this module, so a schedule is tested once for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.train.kernels import rules


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    code: int
    title: str
    params: tuple[tuple[str, float, float, float, str], ...]  # (name, default, low, high, help)


_T = ("T_max", 1000.0, 1.0, 1e9, "steps over which the rate anneals")
_ETA = ("eta_min", 0.0, 0.0, 10.0, "final learning rate")
SCHEDULES: dict[str, ScheduleInfo] = {
    s.name: s
    for s in (
        ScheduleInfo("constant", rules.CONSTANT, "Constant", ()),
        ScheduleInfo(
            "step",
            rules.STEP,
            "Step decay",
            (
                ("step_size", 500.0, 1.0, 1e9, "steps between decays"),
                ("gamma", 0.5, 0.0, 1.0, "factor applied at each decay"),
            ),
        ),
        ScheduleInfo(
            "exponential",
            rules.EXPONENTIAL,
            "Exponential decay",
            (("gamma", 0.999, 0.0, 1.0, "factor applied every step"),),
        ),
        ScheduleInfo(
            "inverse_time",
            rules.INVERSE_TIME,
            "Inverse time (1/t)",
            (("k", 0.01, 0.0, 1e6, "decay speed k in lr / (1 + k t)"),),
        ),
        ScheduleInfo("cosine", rules.COSINE, "Cosine annealing", (_T, _ETA)),
        ScheduleInfo(
            "warmup_cosine",
            rules.WARMUP_COSINE,
            "Warm-up then cosine",
            (
                ("warmup", 100.0, 1.0, 1e9, "steps of linear warm-up"),
                _T,
                _ETA,
            ),
        ),
        ScheduleInfo(
            "one_cycle",
            rules.ONE_CYCLE,
            "One cycle",
            (
                ("total_steps", 1000.0, 2.0, 1e9, "length of the cycle in steps"),
                ("pct_start", 0.3, 0.0, 1.0, "fraction of the cycle spent rising"),
                ("div_factor", 25.0, 1.0, 1e6, "the cycle starts at lr / div_factor"),
                (
                    "final_div_factor",
                    1e4,
                    1.0,
                    1e9,
                    "it ends at lr / (div_factor final_div_factor)",
                ),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Schedule:
    """A validated schedule; ``schedule(lr, t)`` gives the rate of step ``t``."""

    name: str
    params: tuple[tuple[str, float], ...] = ()

    @property
    def info(self) -> ScheduleInfo:
        return SCHEDULES[self.name]

    @property
    def code(self) -> int:
        return self.info.code

    def vector(self) -> np.ndarray:
        vec = np.zeros(rules.N_SCHED)
        for i, (_, value) in enumerate(self.params):
            vec[i] = value
        return vec

    def __call__(self, lr: float, t: int | np.ndarray) -> float | np.ndarray:
        vec = self.vector()[:, None]
        if np.ndim(t) == 0:
            return rules.schedule_lr(self.code, vec, 0, float(lr), float(t))
        steps = np.asarray(t).ravel()
        return np.array([rules.schedule_lr(self.code, vec, 0, float(lr), float(s)) for s in steps])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **dict(self.params)}


def make_schedule(name: str = "constant", **params: Any) -> Schedule:
    """Build a schedule from its name and parameters, checking names and ranges."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    info = SCHEDULES[name]
    known = {p[0] for p in info.params}
    unknown = sorted(set(params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "no parameters"
        raise ValueError(f"schedule {name} has no parameter {unknown[0]!r}; it takes {allowed}")
    values = []
    for pname, default, low, high, _ in info.params:
        value = params.get(pname, default)
        if isinstance(value, bool | np.bool_) or not isinstance(
            value, int | float | np.integer | np.floating
        ):
            raise ValueError(f"schedule {name}: {pname} must be a number, got {value!r}")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(
                f"schedule {name}: {pname} = {value!r} is outside the allowed range "
                f"[{low:g}, {high:g}]"
            )
        values.append((pname, value))
    sched = Schedule(name, tuple(values))
    if name == "warmup_cosine" and sched.vector()[0] > sched.vector()[1] - 1:
        raise ValueError("schedule warmup_cosine: warmup must end at least one step before T_max")
    return sched


def constant() -> Schedule:
    return make_schedule("constant")
