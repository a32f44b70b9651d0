"""What "Open in the app" sends for a question: a ``dlopt_core.course.lessons.Preset``.

The Learn tab emits the same type, so the main window routes both by ``preset.tab``
(``playground``, ``compare`` or ``landscape``). Experiment questions racing optimizers
(``compute.models``) become Compare presets that run the question's race (its steps and, for the
validation loss, its target); the others open their experiment in the Playground, with
``max_steps`` set to the steps the question trains so that the run stops at the same point.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from dlopt_core.course.lessons import Preset, optimizer_entry
from dlopt_core.course.quiz import Question
from dlopt_core.train.experiment import merge_patch

TITLE_CHARS = 60


def _title(question: Question) -> str:
    text = question.prompt
    for prefix in ("Predict, then run:", "Predict, then run"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    return "Quiz: " + (text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "\u2026")


def _variant_optimizers(base: Mapping[str, Any], variants: list) -> list[dict] | None:
    """Optimizer dicts of variants that patch only the optimizer (None if any patches more)."""
    from dlopt_core.train.experiment import Experiment

    out = []
    for i, variant in enumerate(variants):
        patch = variant.get("patch", {})
        if set(patch) - {"optimizer"}:
            return None
        try:
            entry = Experiment.from_dict(merge_patch(base, patch)).optimizer.to_dict()
            entry = dict(entry, label=variant.get("label") or f"variant {i + 1}")
            optimizer_entry(entry)
        except Exception:  # an optimizer the compare tab cannot express: use the playground
            return None
        out.append(entry)
    return out


def experiment_preset(question: Question) -> Preset:
    """The Preset to watch an experiment question's runs in the app."""
    compute = dict(question.compute or {})
    experiment = copy.deepcopy(dict(question.preset or {}))
    steps = int(compute.get("steps", 0))
    if steps:
        experiment["max_steps"] = steps
    pid = f"quiz-{question.id}"
    description = question.prompt
    optimizers: list[dict] | None = None
    if "models" in compute:
        optimizers = [dict(m) for m in compute["models"]]
    elif "variants" in compute:
        optimizers = _variant_optimizers(experiment, list(compute["variants"]))
    if optimizers and len(optimizers) >= 2:
        # the race the question runs: its length and, on the validation loss, its target
        target = (
            compute.get("target", 0.0) if compute.get("metric", "val_loss") == "val_loss" else 0.0
        )
        return Preset(
            pid,
            _title(question),
            "compare",
            description,
            experiment,
            tuple(optimizers),
            steps=steps,
            target=float(target or 0.0),
        )
    return Preset(pid, _title(question), "playground", description, experiment)


def question_preset(question: Question, presets: Mapping[str, Preset]) -> Preset | None:
    """The Preset a question points to: its experiment, a named preset, or an experiment dict;
    None if it has none (or names a preset that does not exist)."""
    if question.type == "experiment":
        return experiment_preset(question)
    if isinstance(question.preset, str):
        return presets.get(question.preset)
    if isinstance(question.preset, Mapping):
        return Preset(
            f"quiz-{question.id}",
            _title(question),
            "playground",
            question.prompt,
            copy.deepcopy(dict(question.preset)),
        )
    return None
