"""The demos whose numbers the lessons quote, and what they share: the ``Demo`` record and the
presets trained the way the lessons train them. ``plane`` holds the demos on 2-D functions,
``networks`` those that train networks; ``dlopt_core.course.lesson_numbers`` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlopt_core.data import files

if TYPE_CHECKING:
    from dlopt_core.data.datasets import Dataset
    from dlopt_core.train.engine import Engine
    from dlopt_core.train.network import Network


@dataclass(frozen=True)
class Demo:
    """One computation and the numbers it gives: ``compute()`` returns ``{key: text}`` and the
    names are ``prefix.key``. ``what`` says what it runs and what each number is."""

    prefix: str
    what: str
    compute: Callable[[], dict[str, str]]


def raw_preset(pid: str) -> dict[str, Any]:
    """Preset ``pid`` of the shipped presets.json as written (no placeholder filled)."""
    from dlopt_core.course.lessons import LessonError, default_presets_path

    raw = files.load_json(default_presets_path(), LessonError)
    preset: dict[str, Any] = raw["presets"][pid]
    return preset


def build_preset(
    experiment: dict[str, Any], optimizers: Sequence[dict[str, Any]] | None = None
) -> tuple[Dataset, Network, Engine]:
    """``Experiment.build`` of an experiment dict, with one model per optimizer dict if any."""
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.train.experiment import Experiment

    exp = Experiment.from_dict(experiment)
    return exp.build(models=model_specs(optimizers) if optimizers else None)


def run_preset(
    pid: str, steps: int | None = None, patch: dict[str, Any] | None = None
) -> tuple[Network, Engine]:
    """``(network, engine)`` after training preset ``pid`` (its own optimizers for a compare
    preset) for ``steps`` (default its max_steps)."""
    from dlopt_core.train.experiment import merge_patch

    raw = raw_preset(pid)
    experiment = merge_patch(raw["experiment"], patch or {})
    _, net, engine = build_preset(experiment, raw.get("optimizers"))
    engine.run(steps if steps is not None else int(experiment["max_steps"]))
    return net, engine
