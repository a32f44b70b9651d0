"""Presets: named experiments for one of the app's tabs, read from
``resources/lessons/presets.json`` and checked entry by entry.

A preset is for ``playground`` (the experiment), ``compare`` (the experiment trained with each of
``optimizers``) or ``landscape`` (``function`` of ``dlopt_core.studies.landscape`` raced by
``optimizers``, or ``situation``, a key of ``landscape.paper_situations()``, trained and drawn as
the shape of its loss; the experiment is there for the network view). Its description may quote
computed numbers as ``{{name}}`` placeholders, like the lessons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dlopt_core.course.lessons.loading import SLUG, LessonError, default_presets_path
from dlopt_core.data import files
from dlopt_core.data.resources import ResourceError

if TYPE_CHECKING:
    from dlopt_core.train.engine import ModelSpec
    from dlopt_core.train.experiment import Experiment
    from dlopt_core.train.optimizers import Optimizer
    from dlopt_core.train.schedules import Schedule

PRESET_TABS = ("playground", "compare", "landscape")
PRESET_PLOTS = ("sharpness",)  # optional Playground plots a preset may switch on
RUN_KEYS = ("label", "schedule", "clip_norm", "noise")


@dataclass(frozen=True)
class Preset:
    """A named experiment for one tab of the app.

    experiment: a dict for ``Experiment.from_dict``; optimizers: optimizer dicts (``name``, its
    hyper-parameters, optional ``label``, ``schedule`` dict, and for the landscape ``clip_norm``
    and ``noise``); function, function_params, start, steps: the landscape race. A compare
    preset may set steps (the race's length; 0: the tab's own) and target (the validation loss
    whose first crossing the race times; 0: none), as a quiz question's race does. A playground
    preset may name optional plots to show (``PRESET_PLOTS``: "sharpness").
    """

    id: str
    title: str
    tab: str
    description: str
    experiment: Mapping[str, Any]
    optimizers: tuple[Mapping[str, Any], ...] = ()
    function: str = ""
    function_params: Mapping[str, Any] = field(default_factory=dict)
    start: tuple[float, float] | None = None
    steps: int = 0
    situation: str = ""
    target: float = 0.0
    plots: tuple[str, ...] = ()

    def build_experiment(self) -> Experiment:
        """The validated ``Experiment``."""
        from dlopt_core.train.experiment import Experiment

        return Experiment.from_dict(self.experiment)

    def model_specs(self) -> list[ModelSpec]:
        """``ModelSpec`` per optimizer entry (compare tab); the experiment's own one if none."""
        if not self.optimizers:
            exp = self.build_experiment()
            from dlopt_core.train.engine import ModelSpec

            return [ModelSpec(exp.optimizer, exp.schedule)]
        return model_specs(self.optimizers)


def _short(value: Any) -> str:
    """``repr(value)`` cut to 60 characters, for messages about values from a file."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def optimizer_entry(entry: Mapping[str, Any]) -> tuple[Optimizer, Schedule | None, str]:
    """``(Optimizer, Schedule | None, label)`` of one optimizer dict; ``ValueError`` if bad."""
    from dlopt_core.train.optimizers import optimizer_from_dict
    from dlopt_core.train.schedules import make_schedule

    optimizer = optimizer_from_dict(entry, ignore=RUN_KEYS)
    schedule = None
    if entry.get("schedule") is not None:
        sched = entry["schedule"]
        if not isinstance(sched, Mapping):
            raise ValueError(f"schedule must be an object, got {_short(sched)}")
        params = dict(sched)
        schedule = make_schedule(params.pop("name", "constant"), **params)
    for key in ("clip_norm", "noise"):
        value = entry.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"{key} must be a number >= 0, got {_short(value)}")
    label = entry.get("label", "")
    if not isinstance(label, str):
        raise ValueError(f"label must be a string, got {_short(label)}")
    return optimizer, schedule, label or optimizer.name


def model_specs(entries: Iterable[Mapping[str, Any]]) -> list[ModelSpec]:
    """``ModelSpec`` per optimizer dict (see ``optimizer_entry``)."""
    from dlopt_core.train.engine import ModelSpec
    from dlopt_core.train.schedules import constant

    specs = []
    for entry in entries:
        optimizer, schedule, label = optimizer_entry(entry)
        specs.append(ModelSpec(optimizer, schedule or constant(), label=label))
    return specs


def _preset(pid: str, raw: Any, where: str) -> Preset:
    from dlopt_core.train.experiment import Experiment, ExperimentError

    def fail(problem: str) -> LessonError:
        return LessonError(f"{where}: preset {pid!r}: {problem}")

    if not SLUG.match(pid):
        raise fail("the id must be lower case letters, digits, '_' or '-'")
    if not isinstance(raw, Mapping):
        raise fail("expected an object {...}")
    allowed = {
        "title",
        "tab",
        "description",
        "experiment",
        "optimizers",
        "function",
        "function_params",
        "start",
        "steps",
        "situation",
        "plots",
    }
    extra = sorted(set(raw) - allowed)
    if extra:
        raise fail(f"unknown key {extra[0]!r}; allowed keys are {', '.join(sorted(allowed))}")
    tab = raw.get("tab")
    if tab not in PRESET_TABS:
        raise fail(f"tab must be one of {', '.join(PRESET_TABS)}, got {_short(tab)}")
    for key in ("title", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise fail(f"{key} must be a non-empty string")
    situation = raw.get("situation", "")
    if situation:
        from dlopt_core.studies.landscape import paper_situations

        try:
            known = paper_situations()
        except ResourceError as exc:  # a damaged situations file: this preset cannot be checked
            raise fail(f"its situation cannot be checked: {exc}") from None
        if tab != "landscape" or not isinstance(situation, str) or situation not in known:
            raise fail(
                f"situation must name one of {', '.join(known)} in a landscape preset, "
                f"got {situation!r}"
            )
        if any(k in raw for k in ("function", "function_params", "start", "steps")):
            raise fail("a situation preset takes no function, function_params, start or steps")
    experiment = raw.get("experiment")
    if situation and experiment is None:  # the situation's own, for the network view
        own = getattr(known[situation], "experiment_dict", None)  # the LSTM has none
        experiment = own() if own is not None else {}
    try:
        Experiment.from_dict(experiment)
    except ExperimentError as exc:
        raise fail(f"experiment: {exc}") from None
    optimizers = raw.get("optimizers", [])
    if not isinstance(optimizers, list):
        raise fail("optimizers must be a list of optimizer objects")
    for i, entry in enumerate(optimizers):
        try:
            optimizer_entry(entry)
        except ValueError as exc:
            raise fail(f"optimizers[{i}]: {exc}") from None
    if tab == "compare" and len(optimizers) < 2:
        raise fail("a compare preset needs at least two optimizers")
    function, params, start, steps = "", {}, None, 0
    if tab == "landscape" and not situation:
        from dlopt_core.studies.landscape import get_function

        function = raw.get("function", "")
        params = raw.get("function_params", {})
        if not isinstance(params, Mapping):
            raise fail("function_params must be an object")
        if not isinstance(function, str):
            raise fail(f"function must be a name, got {_short(function)}")
        try:
            fn = get_function(function, **params)
        except (ValueError, TypeError) as exc:
            raise fail(f"function: {exc}") from None
        if not optimizers:
            raise fail("a landscape preset needs at least one optimizer")
        start = raw.get("start", list(fn.default_start))
        if not (
            isinstance(start, list | tuple)
            and len(start) == 2
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in start
            )
        ):
            raise fail(f"start must be a list of two numbers, got {_short(start)}")
        start = tuple(start)
        steps = raw.get("steps", 200)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 100_000:
            raise fail(f"steps must be an integer from 1 to 100000, got {_short(steps)}")
    elif tab != "landscape" and any(
        k in raw for k in ("function", "function_params", "start", "steps")
    ):
        raise fail("function, function_params, start and steps belong to landscape presets")
    plots = raw.get("plots", [])
    if not (isinstance(plots, list) and all(p in PRESET_PLOTS for p in plots)):
        raise fail(f"plots must be a list of {', '.join(PRESET_PLOTS)}, got {_short(plots)}")
    if plots and tab != "playground":
        raise fail("plots belong to playground presets")
    return Preset(
        pid,
        raw["title"],
        tab,
        raw["description"],
        dict(cast(Mapping[str, Any], experiment)),
        tuple(dict(o) for o in optimizers),
        function,
        dict(params),
        (float(start[0]), float(start[1])) if start else None,
        int(steps),
        situation,
        plots=tuple(plots),
    )


def load_presets(path: str | Path | None = None) -> dict[str, Preset]:
    """The presets file (default: the shipped one) as ``{id: Preset}``.

    The file is ``{"version": 1, "presets": {id: {...}}}``; a problem raises ``LessonError``
    naming the file and the preset.
    """
    path = Path(path) if path is not None else default_presets_path()
    raw = files.load_json(path, LessonError, source=path.name)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("presets"), Mapping):
        raise LessonError(f'{path.name}: expected {{"version": 1, "presets": {{...}}}}')
    presets = {pid: _preset(pid, value, path.name) for pid, value in raw["presets"].items()}
    from dlopt_core.course.lesson_numbers import fill_numbers

    return {
        pid: replace(
            p, description=fill_numbers(p.description, f"{path.name}: preset {pid!r}", path.parent)
        )
        for pid, p in presets.items()
    }
