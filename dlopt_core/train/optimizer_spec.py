"""What an optimizer entry says about itself: its hyper-parameters, its state slots, its step.

``OptimizerInfo`` is the one place the app and the studies read optimizer facts from: the name
and title, the hyper-parameters (``HyperSpec``: default, range, meaning, label), what each state
slot holds (``Slot``), the effective step a gradient component gets, a rate that trains the
Playground's small networks and the hyper-parameter worth a control of its own (``MainHyper``).
The entries themselves are in ``dlopt_core.train.optimizers``; their update rules in
``dlopt_core.train.kernels.rules``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlopt_core.train.kernels import rules


@dataclass(frozen=True)
class HyperSpec:
    """One hyper-parameter: default, allowed range and a one-line meaning (the app's tooltip).

    ``label`` names it in a form (the name when empty); ``log_step`` > 0: a number box steps it
    by factors, starting from that value; ``part_help`` says what each part of a pair does.
    """

    name: str
    default: Any
    kind: str  # "float", "bool" or "betas"
    help: str
    low: float = 0.0
    high: float = math.inf
    high_open: bool = False
    label: str = ""
    log_step: float = 0.0
    part_help: tuple[str, ...] = ()


def _always(hyper: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class Slot:
    """What state slot ``index`` holds for a rule: ``meaning`` (a caption), whether it is
    positive and best seen on a log scale, and ``when`` it is in use (a test of the complete
    hyper-parameters: RMSProp's mean gradient only when centered)."""

    index: int
    meaning: str
    log: bool = False
    when: Callable[[Mapping[str, Any]], bool] = _always


@dataclass(frozen=True)
class MainHyper:
    """The hyper-parameter shown beside the rate where there is room for one: its key (a name of
    ``params``, or "beta1" for the first of the betas), a short label and a tooltip."""

    key: str
    short: str
    help: str


# (lr, slot arrays, complete hyper-parameters, steps taken or None) -> per-parameter step or None
StepSize = Callable[[float, Sequence[np.ndarray], Mapping[str, Any], int | None], np.ndarray | None]


def constant_step(
    lr: float, slots: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray:
    """The step of a rule that moves every parameter by the rate itself (SGD and its momentum)."""
    return np.full(np.shape(slots[0]), lr)


@dataclass(frozen=True)
class OptimizerInfo:
    """One optimizer: its name, the kernel rule ``code`` (``kernels.rules``), title, summary,
    hyper-parameters and the values its name fixes (``fixed``: Nesterov, AMSGrad), what its state
    slots hold, its effective step, a good rate for small networks and its main hyper-parameter.
    """

    name: str
    code: int
    title: str
    summary: str
    params: tuple[HyperSpec, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)  # vector entries set by the name
    slots: tuple[Slot, ...] = ()
    step: StepSize = constant_step
    good_lr: float = 0.01
    main: MainHyper | None = None

    def __post_init__(self) -> None:
        if any(not 0 <= s.index < rules.N_SLOTS for s in self.slots):
            raise ValueError(f"{self.name}: the kernels keep {rules.N_SLOTS} state slots")

    @property
    def defaults(self) -> dict[str, Any]:
        """The default of every hyper-parameter."""
        return {spec.name: spec.default for spec in self.params}

    def complete(self, hyper: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``hyper`` with the defaults and the values fixed by the name filled in."""
        return {**self.defaults, **self.fixed, **(hyper or {})}

    def slots_in_use(self, hyper: Mapping[str, Any] | None = None) -> tuple[Slot, ...]:
        """The slots that hold something with these hyper-parameters (none for plain SGD)."""
        full = self.complete(hyper)
        return tuple(slot for slot in self.slots if slot.when(full))

    def step_size(
        self,
        lr: float,
        slots: Sequence[np.ndarray],
        hyper: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> np.ndarray | None:
        """The factor the rule multiplies a gradient component by, per parameter (``slots``: the
        N_SLOTS state arrays, or one layer's slices of them; ``step``: the steps taken, for the
        bias corrections). None while the state does not define it yet."""
        return self.step(float(lr), slots, self.complete(hyper), step)


def check_value(optimizer: str, spec: HyperSpec, value: Any) -> Any:
    """``value`` as a valid ``spec`` (float, bool or a pair); ``ValueError`` naming it if not."""
    where = f"{optimizer}: {spec.name}"
    if spec.kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{where} must be true or false, got {value!r}")
        return bool(value)
    if spec.kind == "betas":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"{where} must be a pair (beta1, beta2), got {value!r}")
        return tuple(
            check_value(
                optimizer, HyperSpec(f"{spec.name}[{i}]", 0.0, "float", "", 0.0, 1.0, True), v
            )
            for i, v in enumerate(value)
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{where} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{where} = {value!r} is far outside the allowed range") from None
    high = "1)" if spec.high_open else f"{spec.high:g}]"
    if (
        not math.isfinite(value)
        or value < spec.low
        or value > spec.high
        or (spec.high_open and value >= spec.high)
    ):
        raise ValueError(f"{where} = {value!r} is outside the allowed range [{spec.low:g}, {high}")
    if spec.name == "lr" and value == 0.0:
        raise ValueError(f"{where} must be positive, got 0")
    return value


def check_rule(name: str, code: int) -> None:
    """``ValueError`` unless the kernels have an update rule for ``code``: the rule runs once, in
    plain Python, on a made-up state. An entry whose kernel branch was forgotten then fails where
    it is chosen, before any backend (CPU or CUDA) would run it."""
    hyper = np.full((rules.N_HYPER, 1), 0.5)
    coef = np.full((rules.N_COEF, 1), 0.5)
    try:
        rules.update_param(int(code), 0.0, 1.0, 0.0, 0.0, 0.0, 1e-3, hyper, coef, 0, True)
    except ValueError:
        raise ValueError(
            f"optimizer {name!r} has rule code {code}, for which the kernels have no update rule"
            " (add its branch to kernels/rules.py: update_param)"
        ) from None
