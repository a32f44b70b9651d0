"""Ready-made races of optimizers on the 2-D test functions, one per classic difficulty
(ill-conditioning, saddle points, plateaus, cliffs, local minima, noisy gradients).

The races are data, read from ``resources/landscape/challenges.json``: a function with its
parameters, a start, the runs (optimizer, hyper-parameters, optional clipping, noise and
schedule) and a two-line explanation whose ``{{name}}`` placeholders are numbers computed by
``dlopt_core.course.lesson_numbers``. ``get_challenges()`` reads the file when first asked (not at
import, so that a damaged file cannot stop the package from loading) and keeps what it read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dlopt_core.data.numbers import fill_numbers
from dlopt_core.data.resources import entry_error, load_entries
from dlopt_core.studies.landscape.functions import Point, TestFunction, get_function
from dlopt_core.studies.landscape.trajectories import Trajectory, trajectory
from dlopt_core.train.optimizers import Optimizer, make_optimizer
from dlopt_core.train.schedules import Schedule, make_schedule

CHALLENGES_FILE = "landscape/challenges.json"


@dataclass(frozen=True)
class ChallengeRun:
    """One optimizer of a challenge. ``clip_norm`` and ``noise``, when not None, replace the
    challenge's; ``schedule`` is ``(name, params)`` for ``make_schedule`` or None (constant)."""

    optimizer: str
    hyper: Mapping[str, Any] = field(default_factory=dict)
    clip_norm: float | None = None
    noise: float | None = None
    schedule: tuple[str, Mapping[str, float]] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.optimizer

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, **self.hyper)

    def make_schedule(self) -> Schedule | None:
        if self.schedule is None:
            return None
        name, params = self.schedule
        return make_schedule(name, **params)


@dataclass(frozen=True)
class Challenge:
    """A race of optimizers on one test function, showing one difficulty of optimization.

    explanation: two lines (separated by a newline): what happens and why, with ``{{name}}``
    placeholders for numbers that come from the runs (``text`` fills them in). The runs share the
    start, the number of steps, and (unless a run sets its own) clip_norm and noise; noise uses
    the same seed in every run.
    """

    name: str
    title: str
    explanation: str
    function: str
    params: Mapping[str, float]
    start: Point
    runs: tuple[ChallengeRun, ...]
    steps: int
    clip_norm: float = 0.0
    noise: float = 0.0
    seed: int = 0

    def test_function(self) -> TestFunction:
        return get_function(self.function, **self.params)

    @property
    def text(self) -> str:
        """The explanation with the numbers it quotes from its runs: ``{{name}}`` placeholders
        filled from the lessons' numbers.json (``lesson_numbers`` computes them, so showing a
        challenge needs no run); a name that file lacks stays as written."""
        try:
            return fill_numbers(self.explanation, f"challenge {self.name}")
        except ValueError:
            return self.explanation

    def run(self) -> dict[str, Trajectory]:
        """Every run's trajectory, by its label (in the order of ``runs``)."""
        fn = self.test_function()
        out: dict[str, Trajectory] = {}
        for r in self.runs:
            out[r.name] = trajectory(
                fn,
                r.make_optimizer(),
                self.start,
                self.steps,
                clip_norm=self.clip_norm if r.clip_norm is None else r.clip_norm,
                noise=self.noise if r.noise is None else r.noise,
                seed=self.seed,
                schedule=r.make_schedule(),
            )
        return out


def _run(entry: Mapping[str, Any]) -> ChallengeRun:
    fields = dict(entry)
    if "schedule" in fields:
        params = dict(fields.pop("schedule"))
        fields["schedule"] = (params.pop("name"), params)
    return ChallengeRun(**fields)


def load_challenges() -> dict[str, Challenge]:
    """The challenges of ``resources/landscape/challenges.json``, by name, in file order, read
    now; ``ResourceError`` naming the file (and the entry) when it is damaged."""
    out: dict[str, Challenge] = {}
    for name, entry in load_entries(CHALLENGES_FILE).items():
        try:
            fields = dict(entry)
            fields["start"] = tuple(fields["start"])
            fields["runs"] = tuple(_run(run) for run in fields["runs"])
            out[name] = Challenge(name=name, **fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise entry_error(CHALLENGES_FILE, name, exc) from None
    return out


@functools.cache
def get_challenges() -> Mapping[str, Challenge]:
    """The challenges (``load_challenges``), read on the first call and kept, read-only; a
    damaged file raises ``ResourceError`` on every call until it is mended."""
    return MappingProxyType(load_challenges())
