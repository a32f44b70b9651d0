"""A quiz question as a value: its types, topics and compute kinds (the words of the question
files, see ``bank``), ``Question`` itself (options in display order, mapped back to the bank's by
``order``) and ``QuizError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

TOPICS: dict[str, str] = {
    "neural_networks": "Neurons and networks",
    "what_is_optimization": "What is optimization?",
    "dl_vs_pure": "Deep learning versus pure optimization",
    "challenges": "Challenges of optimization",
    "basic_algorithms": "Basic algorithms",
    "adaptive_algorithms": "Adaptive learning rates",
    "strategies": "Strategies",
}
TYPES = ("single", "multiple", "yesno", "numeric", "experiment")
METRICS = ("train_loss", "val_loss", "train_error", "val_error")
METRIC_WORDS = {
    "train_loss": "training loss",
    "val_loss": "validation loss",
    "train_error": "training error",
    "val_error": "validation error",
}
CHOICE_KINDS = ("first_to_reach", "lower_final")
YESNO_KINDS = ("diverges", "stops_early", "overfits", "identical_units")
COMPUTE_KINDS = CHOICE_KINDS + YESNO_KINDS
MAX_EXPERIMENT_STEPS = 5000
DEFAULT_TOLERANCE = 1e-9


def is_int(value: Any) -> TypeGuard[int]:
    """An integer of Python or NumPy, not a bool (JSON's true is no count)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_number(value: Any) -> bool:
    """A finite real number of Python or NumPy, not a bool."""
    if not isinstance(value, int | float | np.integer | np.floating) or isinstance(
        value, bool | np.bool_
    ):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond the float range
        return False


class QuizError(ValueError):
    """A question, response or progress file that cannot be used; the message says why."""


# =================================================================================================
# Questions and the bank
# =================================================================================================


@dataclass(frozen=True)
class Question:
    """One validated question (see the module docstring for the fields)."""

    id: str
    type: str
    topic: str
    difficulty: int
    prompt: str
    explanation: str
    options: tuple[str, ...] = ()
    answer: Any = None  # int, tuple of ints, bool, float; None for experiment questions
    tolerance: float = DEFAULT_TOLERANCE
    rel_tolerance: float = 0.0
    lesson: str | None = None
    preset: Any = None  # preset id (str) or experiment dict
    compute: Mapping[str, Any] | None = None
    source: str = ""
    #: display position -> index in the bank's order of options; () when shown in bank order
    order: tuple[int, ...] = ()

    def __hash__(self) -> int:  # the dict fields are not hashable; ids are unique in a bank
        return hash(self.id)

    @property
    def response_type(self) -> str:
        """What a response looks like: ``single``, ``multiple``, ``yesno`` or ``numeric``."""
        if self.type != "experiment":
            return self.type
        return "single" if self.compute and self.compute["kind"] in CHOICE_KINDS else "yesno"

    @property
    def topic_title(self) -> str:
        return TOPICS.get(self.topic, self.topic)

    @property
    def bank_options(self) -> tuple[str, ...]:
        """The options in the order of the question file (for experiments: the order of the runs,
        then "none of them")."""
        if not self.order:
            return self.options
        out = [""] * len(self.options)
        for shown, bank in enumerate(self.order):
            out[bank] = self.options[shown]
        return tuple(out)

    def shown_index(self, bank_index: int) -> int:
        """Where the option ``bank_index`` (in the file's order) is shown."""
        return self.order.index(bank_index) if self.order else bank_index
