"""Optimizers as values: ``make_optimizer`` builds a validated ``Optimizer`` from the registry.

The entries (``OPTIMIZERS``, one ``OptimizerInfo`` each: hyper-parameters, state slots, effective
step, good rate) and the formulas of every rule are in ``optimizer_table``; an ``Optimizer`` is a
name and its checked hyper-parameters, with the vector the kernels read, a fresh state and one
step on a flat vector (the 2-D landscape). ``optimizer_from_dict`` is the one parser of optimizer
dicts (experiment files, lessons, comparisons, the command line).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.train.kernels import rules
from dlopt_core.train.optimizer_spec import (
    HyperSpec,
    MainHyper,
    OptimizerInfo,
    Slot,
    check_rule,
    check_value,
)
from dlopt_core.train.optimizer_table import OPTIMIZERS

__all__ = [
    "N_SLOTS",
    "OPTIMIZERS",
    "HyperSpec",
    "MainHyper",
    "OptState",
    "Optimizer",
    "OptimizerInfo",
    "Slot",
    "make_optimizer",
    "optimizer_from_dict",
]

N_SLOTS = rules.N_SLOTS  # state slots per parameter, the same for every rule
_VECTOR_INDEX = {name: i for i, name in enumerate(rules.HYPER_FIELDS)}


@dataclass
class OptState:
    """Optimizer state of one model: N_SLOTS slots of per-parameter averages, and scalars.

    ``slots[k]`` holds what ``OptimizerInfo.slots`` says for the rule (momentum buffer, sum of
    squares, first and second moments, ...); ``scalars`` the step count and NAdam's product of mu.
    """

    slots: np.ndarray
    scalars: np.ndarray

    @property
    def step_count(self) -> int:
        return int(self.scalars[rules.S_STEP])


@dataclass(frozen=True)
class Optimizer:
    """A validated optimizer: its name and the full set of its hyper-parameters. Its rule must be
    one the kernels know (``ValueError`` if not: never a silent fall into another rule)."""

    name: str
    hyper: Mapping[str, Any]

    def __post_init__(self) -> None:
        check_rule(self.name, self.code)

    @property
    def info(self) -> OptimizerInfo:
        return OPTIMIZERS[self.name]

    @property
    def code(self) -> int:
        return self.info.code

    @property
    def lr(self) -> float:
        return float(self.hyper["lr"])

    def replace(self, **changes: Any) -> Optimizer:
        """A copy with some hyper-parameters changed (validated)."""
        return make_optimizer(self.name, **{**self.hyper, **changes})

    def vector(self) -> np.ndarray:
        """The hyper-parameters as the fixed-layout float vector the kernels read."""
        vec = np.zeros(rules.N_HYPER)
        vec[rules.H_BETA1], vec[rules.H_BETA2] = 0.9, 0.999
        for key, value in {**self.info.fixed, **self.hyper}.items():
            if key == "betas":
                vec[rules.H_BETA1], vec[rules.H_BETA2] = value
            else:
                vec[_VECTOR_INDEX[key]] = float(value)
        return vec

    def init(self, theta: np.ndarray) -> OptState:
        """Fresh state for parameters shaped like ``theta``."""
        slots = np.zeros((N_SLOTS, np.size(theta)))
        slots[0] = self.hyper.get("initial_accumulator_value", 0.0)
        scalars = np.zeros(rules.N_SCALARS)
        scalars[rules.S_MU_PRODUCT] = 1.0
        return OptState(slots, scalars)

    def step(
        self, theta: np.ndarray, grad: np.ndarray, state: OptState, lr: float | None = None
    ) -> None:
        """Update ``theta`` and ``state`` in place (at ``lr`` if given, else the optimizer's)."""
        from dlopt_core.train.kernels import cpu

        if theta.dtype != np.float64 or not theta.flags.c_contiguous or theta.ndim != 1:
            raise ValueError("theta must be a contiguous 1-D float64 array")
        grad = np.ascontiguousarray(grad, dtype=np.float64).reshape(theta.shape)
        cpu.optimizer_step(
            self.code,
            theta,
            grad,
            state.slots,
            state.scalars.reshape(-1, 1),
            self.vector()[:, None],
            self.lr if lr is None else float(lr),
        )

    def step_size(
        self, lr: float, slots: Sequence[np.ndarray], step: int | None = None
    ) -> np.ndarray | None:
        """The effective per-parameter step (``OptimizerInfo.step_size``) with these values."""
        return self.info.step_size(lr, slots, self.hyper, step)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key, value in self.hyper.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


def make_optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build an optimizer from its name and hyper-parameters (torch.optim names and defaults)."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    info = OPTIMIZERS[name]
    specs = {spec.name: spec for spec in info.params}
    unknown = sorted(set(hyper) - set(specs))
    if unknown:
        raise ValueError(
            f"{name} has no hyper-parameter {unknown[0]!r}; it takes {', '.join(specs)}"
        )
    values = {
        key: check_value(name, spec, hyper.get(key, spec.default)) for key, spec in specs.items()
    }
    if name == "nesterov" and values["momentum"] == 0.0:
        raise ValueError("nesterov: momentum = 0.0; Nesterov momentum needs a momentum > 0")
    return Optimizer(name, values)


def optimizer_from_dict(
    entry: Mapping[str, Any], *, ignore: Collection[str] = (), name: str | None = None
) -> Optimizer:
    """The optimizer of a dict like ``Optimizer.to_dict()``: ``name`` and hyper-parameters.

    Keys in ``ignore`` belong to the caller (a label, a schedule); ``name`` is the optimizer when
    the dict has none (else a missing name is an error). ``ValueError`` names what is wrong.
    """
    if not isinstance(entry, Mapping):
        text = repr(entry)
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ValueError(f"an optimizer entry must be an object, got {shown}")
    hyper = {k: v for k, v in entry.items() if k not in ignore}
    return make_optimizer(hyper.pop("name", name), **hyper)
