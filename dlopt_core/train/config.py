"""What a run is made of: the training strategies shared by its models (``TrainConfig``) and each
model's optimizer, schedule and seeds (``ModelSpec``).

Values, checked when made; the engine (``dlopt_core.train.engine``) trains them.
``LIVE_TRAINING_FIELDS`` lists the strategies a running engine takes from its next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule, constant

# the TrainConfig fields a running engine takes from its next step (``Engine.set_training``); the
# others (batch size, shuffling, Polyak averaging) shape the engine: changing them needs a new one
LIVE_TRAINING_FIELDS = (
    "clip_norm",
    "l1",
    "early_stopping",
    "eval_every",
    "adversarial_eps",
    "adversarial_clean_weight",
)


@dataclass(frozen=True)
class TrainConfig:
    """Training strategies shared by all models of a run.

    batch_size: rows per step (the whole training set for full-batch gradient descent);
    shuffle: a new row order every epoch; clip_norm: rescale the gradient to this global norm when
    longer (0: off); l1: adds l1 * sign(theta) to the gradient; early_stopping: patience, in
    evaluations, on the validation loss (0: off); polyak: decay of the exponential moving average
    of the parameters used for evaluation (0: off); eval_every: steps between evaluations.
    L2 weight decay is the optimizer's ``weight_decay``.

    Adversarial training (FGSM, Goodfellow et al. 2015): with ``adversarial_eps`` > 0 every step
    takes the gradient g of the batch's loss with respect to the network's inputs (the features
    it sees, after standardising and expansion), moves each input to
    x_adv = x + adversarial_eps * sign(g), and trains on
    ``adversarial_clean_weight`` * L(x) + (1 - ``adversarial_clean_weight``) * L(x_adv)
    (0: adversarial examples only). Evaluation stays on the clean data.
    """

    batch_size: int = 32
    shuffle: bool = True
    clip_norm: float = 0.0
    l1: float = 0.0
    early_stopping: int = 0
    polyak: float = 0.0
    eval_every: int = 10
    adversarial_eps: float = 0.0
    adversarial_clean_weight: float = 0.5

    def restart_key(self) -> tuple[Any, ...]:
        """The values of the fields that are not live (``LIVE_TRAINING_FIELDS``): configurations
        whose keys differ need a new engine, the others only ``Engine.set_training``."""
        return tuple(
            getattr(self, f.name) for f in fields(self) if f.name not in LIVE_TRAINING_FIELDS
        )

    def __post_init__(self) -> None:
        checks = (
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("clip_norm", self.clip_norm >= 0.0, ">= 0"),
            ("l1", self.l1 >= 0.0, ">= 0"),
            ("early_stopping", self.early_stopping >= 0, ">= 0"),
            ("polyak", 0.0 <= self.polyak < 1.0, "in [0, 1)"),
            ("eval_every", self.eval_every >= 1, ">= 1"),
            ("adversarial_eps", 0.0 <= self.adversarial_eps < float("inf"), ">= 0 and finite"),
            ("adversarial_clean_weight", 0.0 <= self.adversarial_clean_weight <= 1.0, "in [0, 1]"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"training: {name} = {getattr(self, name)!r} must be {allowed}")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a run: optimizer, schedule, and optional seeds of its own.

    ``layer_lr``: per-layer learning-rate factors, one per layer with parameters (hidden layers
    and the output layer; None: all 1). The step of layer l's weights and biases is taken at
    the rate ``lr * layer_lr[l]`` (after the schedule), as with one ``torch.optim`` parameter
    group per layer: for the adaptive optimizers the factor multiplies the step (and AdamW's
    decoupled weight decay), not the gradient.
    """

    optimizer: Optimizer
    schedule: Schedule = field(default_factory=constant)
    init_seed: int | None = None
    order_seed: int | None = None
    label: str = ""
    layer_lr: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.layer_lr is not None:
            factors = tuple(float(f) for f in self.layer_lr)
            if not factors or not all(math.isfinite(f) and f >= 0.0 for f in factors):
                raise ValueError(
                    f"layer_lr: every factor must be a finite number >= 0, got {self.layer_lr!r}"
                )
            object.__setattr__(self, "layer_lr", factors)

    @property
    def name(self) -> str:
        return self.label or self.optimizer.name
