"""Race configurations: an optimizer with its key hyper-parameters and a schedule.

Schedules are given by name and scaled to the length of the run when it starts (a cosine anneals
over the whole run, a step decay halves the rate four times, ...), so the presets stay sensible
for any number of steps. A configuration taken from the Playground keeps its exact optimizer
hyper-parameters and schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dlopt_core.train.engine import ModelSpec
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from dlopt_core.train.schedules import SCHEDULES, Schedule, make_schedule

SCHEDULE_HELP = {
    "constant": "the same rate throughout",
    "step": "halved at each quarter of the run",
    "exponential": "decays smoothly to 1/100 of the rate by the end of the run",
    "inverse_time": "lr / (1 + k t), reaching 1/10 of the rate at the end of the run",
    "cosine": "cosine annealing to zero over the run",
    "warmup_cosine": "linear warm-up over the first 10% of the run, then cosine to zero",
    "one_cycle": "one cycle over the run: up to the rate, then far below it",
}


def second_kind(optimizer: str) -> str | None:
    """The optimizer's key second hyper-parameter: "momentum", "beta1" or None."""
    names = {p.name for p in OPTIMIZERS[optimizer].params}
    if "momentum" in names:
        return "momentum"
    if "betas" in names:
        return "beta1"
    return None


def scaled_schedule(name: str, steps: int) -> Schedule:
    """Schedule ``name`` with its parameters set for a run of ``steps`` steps."""
    steps = max(2, int(steps))
    if name == "step":
        return make_schedule("step", step_size=max(1, steps // 4), gamma=0.5)
    if name == "exponential":
        return make_schedule("exponential", gamma=0.01 ** (1.0 / steps))
    if name == "inverse_time":
        return make_schedule("inverse_time", k=9.0 / steps)
    if name == "cosine":
        return make_schedule("cosine", T_max=steps)
    if name == "warmup_cosine":
        return make_schedule("warmup_cosine", warmup=max(1, steps // 10), T_max=steps)
    if name == "one_cycle":
        return make_schedule("one_cycle", total_steps=steps)
    return make_schedule(name)


@dataclass(frozen=True)
class RaceConfig:
    """One row of the race: optimizer, rate, momentum or beta1, weight decay, schedule.

    ``base`` and ``fixed_schedule`` (from the Playground) supply the hyper-parameters the row does
    not show, and the exact schedule, while their names agree with the row's.
    """

    optimizer: str
    lr: float
    second: float | None = None
    weight_decay: float = 0.0
    schedule: str = "constant"
    base: Optimizer | None = None
    fixed_schedule: Schedule | None = None

    @classmethod
    def default(cls, optimizer: str, **changes) -> RaceConfig:
        """The optimizer's defaults with a rate that suits small networks."""
        info = OPTIMIZERS[optimizer]
        defaults = {p.name: p.default for p in info.params}
        kind = second_kind(optimizer)
        second = None
        if kind == "momentum":
            second = float(defaults["momentum"])
        elif kind == "beta1":
            second = float(defaults["betas"][0])
        cfg = cls(
            optimizer,
            info.good_lr,
            second,
            float(defaults.get("weight_decay", 0.0)),
        )
        return replace(cfg, **changes)

    @classmethod
    def from_experiment(cls, exp: Experiment) -> RaceConfig:
        opt = exp.optimizer
        kind = second_kind(opt.name)
        second = None
        if kind == "momentum":
            second = float(opt.hyper["momentum"])
        elif kind == "beta1":
            second = float(opt.hyper["betas"][0])
        return cls(
            opt.name,
            opt.lr,
            second,
            float(opt.hyper.get("weight_decay", 0.0)),
            exp.schedule.name,
            opt,
            exp.schedule,
        )

    def with_optimizer(self, name: str) -> RaceConfig:
        """This row switched to optimizer ``name``: its defaults, keeping the schedule."""
        return RaceConfig.default(name, schedule=self.schedule, fixed_schedule=self.fixed_schedule)

    def make_optimizer(self) -> Optimizer:
        """The validated optimizer (raises ValueError with a message naming the problem)."""
        hyper = (
            dict(self.base.hyper)
            if self.base is not None and (self.base.name == self.optimizer)
            else {}
        )
        hyper["lr"] = self.lr
        names = {p.name for p in OPTIMIZERS[self.optimizer].params}
        if "weight_decay" in names:
            hyper["weight_decay"] = self.weight_decay
        kind = second_kind(self.optimizer)
        if kind == "momentum" and self.second is not None:
            hyper["momentum"] = self.second
        elif kind == "beta1" and self.second is not None:
            beta2 = hyper.get("betas", (0.9, 0.999))[1]
            hyper["betas"] = (self.second, beta2)
        return make_optimizer(self.optimizer, **hyper)

    def make_schedule(self, steps: int) -> Schedule:
        if self.fixed_schedule is not None and self.fixed_schedule.name == self.schedule:
            return self.fixed_schedule
        return scaled_schedule(self.schedule, steps)

    def label(self) -> str:
        """A short name: optimizer, rate, and what differs from the plain defaults."""
        parts = [f"{OPTIMIZERS[self.optimizer].title} {self.lr:g}"]
        if self.weight_decay:
            parts.append(f"wd {self.weight_decay:g}")
        if self.schedule != "constant":
            parts.append(SCHEDULES[self.schedule].title.lower())
        if self.base is not None and self.base.name == self.optimizer:
            parts.append("Playground")
        return ", ".join(parts)

    def spec(self, steps: int) -> ModelSpec:
        return ModelSpec(self.make_optimizer(), self.make_schedule(steps), label=self.label())


PRESETS: dict[str, tuple[str, tuple[RaceConfig, ...]]] = {
    "SGD vs momentum vs Adam": (
        "plain SGD, heavy-ball momentum and Adam at rates that suit each",
        (RaceConfig.default("sgd"), RaceConfig.default("momentum"), RaceConfig.default("adam")),
    ),
    "Adam vs AdamW with weight decay": (
        "Adam without decay, Adam with L2 decay in the gradient, and AdamW's decoupled decay",
        (
            RaceConfig.default("adam", weight_decay=0.0),
            RaceConfig.default("adam", weight_decay=0.01),
            RaceConfig.default("adamw", weight_decay=0.01),
        ),
    ),
    "SGD with and without a decaying learning rate": (
        "SGD at a constant rate, with step decay and with cosine annealing",
        (
            RaceConfig.default("sgd", lr=0.2),
            RaceConfig.default("sgd", lr=0.2, schedule="step"),
            RaceConfig.default("sgd", lr=0.2, schedule="cosine"),
        ),
    ),
    "Adaptive methods": (
        "AdaGrad, RMSProp, AdaDelta and Adam: four ways of scaling each parameter's step",
        (
            RaceConfig.default("adagrad"),
            RaceConfig.default("rmsprop"),
            RaceConfig.default("adadelta"),
            RaceConfig.default("adam"),
        ),
    ),
}
