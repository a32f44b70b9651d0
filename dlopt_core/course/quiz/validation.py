"""The checks of a question read from a file: every field of every type (``parse_question``),
the experiment questions' ``compute`` section against their preset, the numeric tolerance. A
problem raises ``QuizError`` naming the field.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any, cast

from dlopt_core.course.quiz.questions import (
    CHOICE_KINDS,
    COMPUTE_KINDS,
    DEFAULT_TOLERANCE,
    MAX_EXPERIMENT_STEPS,
    METRICS,
    TOPICS,
    TYPES,
    Question,
    QuizError,
    is_int,
    is_number,
)

_SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
_QUESTION_KEYS = (
    "id",
    "type",
    "topic",
    "difficulty",
    "prompt",
    "options",
    "answer",
    "tolerance",
    "explanation",
    "lesson",
    "preset",
    "compute",
)
_COMPUTE_KEYS = {
    "first_to_reach": ("kind", "steps", "target", "metric", "models", "variants"),
    "lower_final": ("kind", "steps", "metric", "models", "variants"),
    "diverges": ("kind", "steps"),
    "stops_early": ("kind", "steps"),
    "overfits": ("kind", "steps", "metric", "factor"),
    "identical_units": ("kind", "steps", "layer", "tol"),
}


DUPLICATES = "\x00duplicate keys"


def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects that remember a repeated key (json.loads would silently keep the last)."""
    out: dict[str, Any] = {}
    repeated = []
    for key, value in pairs:
        if key in out:
            repeated.append(key)
        out[key] = value
    if repeated:
        out[DUPLICATES] = repeated
    return out


def repeated_key(value: Any, where: str = "") -> str | None:
    """The first key given twice anywhere inside ``value`` (as ``a.b.key``), or None."""
    if isinstance(value, Mapping):
        if value.get(DUPLICATES):
            return where + value[DUPLICATES][0]
        for key, item in value.items():
            found = repeated_key(item, f"{where}{key}.")
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = repeated_key(item, where)
            if found:
                return found
    return None


def _check_options(raw: Mapping[str, Any], need: int | None = None) -> tuple[str, ...]:
    options = raw.get("options")
    if not isinstance(options, list) or len(options) < 2:
        raise QuizError("options must be a list of at least two strings")
    if not all(isinstance(o, str) and o.strip() for o in options):
        raise QuizError("every option must be a non-empty string")
    if len(set(options)) != len(options):
        raise QuizError("two options have the same text")
    if need is not None and len(options) != need:
        raise QuizError(f"expected {need} options, got {len(options)}")
    return tuple(options)


def _check_experiment(raw: Any, where: str) -> None:
    from dlopt_core.train.experiment import Experiment, ExperimentError

    try:
        Experiment.from_dict(raw)
    except ExperimentError as exc:
        raise QuizError(f"{where}: {exc}") from None


def _check_runs(compute: Mapping[str, Any], preset: Mapping[str, Any]) -> int:
    """Validate ``models`` or ``variants``; the number of runs."""
    from dlopt_core.course.lessons import optimizer_entry

    has_models, has_variants = "models" in compute, "variants" in compute
    if has_models == has_variants:
        raise QuizError("compute needs either 'models' (optimizer dicts) or 'variants'")
    runs = compute["models"] if has_models else compute["variants"]
    if not isinstance(runs, list) or len(runs) < 2:
        raise QuizError("compute: name at least two models or variants")
    for i, run in enumerate(runs):
        if has_models:
            try:
                optimizer_entry(run)
            except ValueError as exc:
                raise QuizError(f"compute.models[{i}]: {exc}") from None
            continue
        if not isinstance(run, Mapping) or set(run) - {"label", "patch"}:
            raise QuizError(f'compute.variants[{i}]: expected {{"label": ..., "patch": {{}}}}')
        if not isinstance(run.get("patch"), Mapping):
            raise QuizError(f"compute.variants[{i}]: patch must be an object")
        from dlopt_core.train.experiment import merge_patch

        _check_experiment(merge_patch(preset, run["patch"]), f"compute.variants[{i}]")
    return len(runs)


def _check_compute(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """Validate an experiment question's preset and compute spec; ``(compute, options)``."""
    from dlopt_core.train.experiment import Experiment

    if "answer" in raw:
        raise QuizError(
            "an experiment question must not store an answer: it is computed by running the engine"
        )
    preset = raw.get("preset")
    if not isinstance(preset, Mapping):
        raise QuizError("an experiment question needs a 'preset' experiment object")
    _check_experiment(preset, "preset")
    compute = raw.get("compute")
    if not isinstance(compute, Mapping):
        raise QuizError("an experiment question needs a 'compute' object")
    kind = compute.get("kind")
    if kind not in COMPUTE_KINDS:
        raise QuizError(f"compute.kind {kind!r} is not one of {', '.join(COMPUTE_KINDS)}")
    extra = sorted(set(compute) - set(_COMPUTE_KEYS[kind]))
    if extra:
        raise QuizError(
            f"compute: unknown key {extra[0]!r} for kind {kind}; allowed keys are "
            f"{', '.join(_COMPUTE_KEYS[kind])}"
        )
    steps = compute.get("steps")
    if not is_int(steps) or not 1 <= steps <= MAX_EXPERIMENT_STEPS:
        raise QuizError(
            f"compute.steps must be an integer from 1 to {MAX_EXPERIMENT_STEPS}, got {steps!r}"
        )
    if compute.get("metric", "val_loss") not in METRICS:
        raise QuizError(f"compute.metric must be one of {', '.join(METRICS)}")
    exp = Experiment.from_dict(preset)
    options: tuple[str, ...] = ()
    if kind in CHOICE_KINDS:
        n_runs = _check_runs(compute, preset)
        options = _check_options(raw)
        allowed = (n_runs, n_runs + 1) if kind == "first_to_reach" else (n_runs,)
        if len(options) not in allowed:
            extra_note = " (or one more meaning 'none of them')" if len(allowed) == 2 else ""
            raise QuizError(
                f"expected one option per run: {n_runs}{extra_note}, got {len(options)}"
            )
        if kind == "first_to_reach" and not is_number(compute.get("target")):
            raise QuizError("compute.target must be a finite number")
    elif "options" in raw:
        raise QuizError(f"a yes/no experiment ({kind}) takes no options")
    if kind == "stops_early" and exp.training.early_stopping == 0:
        raise QuizError("stops_early needs training.early_stopping > 0 in the preset")
    if kind == "overfits":
        factor = compute.get("factor", 1.5)
        if not is_number(factor) or factor < 1.0:
            raise QuizError("compute.factor must be a number >= 1")
    if kind == "identical_units":
        layer = compute.get("layer", 0)
        if not is_int(layer) or not 0 <= layer < len(exp.network.hidden):
            raise QuizError(
                f"compute.layer must index a hidden layer of the preset "
                f"(0 to {len(exp.network.hidden) - 1}), got {layer!r}"
            )
        tol = compute.get("tol", 1e-9)
        if not is_number(tol) or tol < 0:
            raise QuizError("compute.tol must be a number >= 0")
    return dict(compute), options


def parse_question(raw: Any, source: str = "", default_topic: str | None = None) -> Question:
    """Validate one question object; ``QuizError`` names the problem."""
    if not isinstance(raw, Mapping):
        raise QuizError("expected an object {...}")
    repeated = repeated_key(raw)
    if repeated:
        raise QuizError(f"key {repeated!r} is given twice")
    extra = sorted(str(k) for k in raw if k not in _QUESTION_KEYS)
    if extra:
        raise QuizError(f"unknown key {extra[0]!r}; allowed keys are {', '.join(_QUESTION_KEYS)}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _SLUG.match(qid):
        raise QuizError(f"id must be a slug (lower case letters, digits, '_' or '-'), got {qid!r}")
    qtype = raw.get("type")
    if qtype not in TYPES:
        raise QuizError(f"type {qtype!r} is not one of {', '.join(TYPES)}")
    topic = raw.get("topic", default_topic)
    if not isinstance(topic, str) or topic not in TOPICS:
        raise QuizError(f"topic {topic!r} is not one of {', '.join(TOPICS)}")
    difficulty = raw.get("difficulty")
    if not is_int(difficulty) or not 1 <= difficulty <= 3:
        raise QuizError(f"difficulty must be 1, 2 or 3, got {difficulty!r}")
    for key in ("prompt", "explanation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise QuizError(f"{key} must be a non-empty string")
    lesson = raw.get("lesson")
    if lesson is not None and (not isinstance(lesson, str) or not _SLUG.match(lesson)):
        raise QuizError(f"lesson must be a lesson id, got {lesson!r}")
    preset = raw.get("preset")
    options: tuple[str, ...] = ()
    answer: Any = None
    tol, rel = DEFAULT_TOLERANCE, 0.0
    compute = None
    if qtype != "experiment":
        if preset is not None:
            if isinstance(preset, Mapping):
                _check_experiment(preset, "preset")
            elif not isinstance(preset, str) or not _SLUG.match(preset):
                raise QuizError("preset must be a preset id or an experiment object")
        if "compute" in raw:
            raise QuizError("only experiment questions take 'compute'")
        if "answer" not in raw:
            raise QuizError("the question has no answer")
        answer = raw["answer"]
    if qtype in ("single", "multiple"):
        options = _check_options(raw)
        if qtype == "single":
            if not is_int(answer) or not 0 <= answer < len(options):
                raise QuizError(
                    f"answer must be an option index from 0 to {len(options) - 1}, got {answer!r}"
                )
            answer = int(answer)
        else:
            if not isinstance(answer, list) or not answer:
                raise QuizError("answer must be a non-empty list of option indices")
            if not all(is_int(a) and 0 <= a < len(options) for a in answer):
                raise QuizError(
                    f"every answer must be an option index from 0 to "
                    f"{len(options) - 1}, got {answer!r}"
                )
            if len(set(answer)) != len(answer):
                raise QuizError(f"answer lists an option twice: {answer!r}")
            answer = tuple(sorted(int(a) for a in answer))
    elif qtype in ("yesno", "numeric") and "options" in raw:
        raise QuizError(f"a {qtype} question takes no options")
    if qtype == "yesno" and not isinstance(answer, bool):
        raise QuizError(f"answer must be true or false, got {answer!r}")
    if qtype == "numeric":
        if not is_number(answer):
            raise QuizError(f"answer must be a finite number, got {answer!r}")
        answer = float(answer)
        tol, rel = _tolerance(raw.get("tolerance", DEFAULT_TOLERANCE))
    elif "tolerance" in raw:
        raise QuizError("only numeric questions take a tolerance")
    if qtype == "experiment":
        compute, options = _check_compute(raw)
        preset = copy.deepcopy(dict(cast(Mapping[str, Any], preset)))
    return Question(
        qid,
        qtype,
        topic,
        int(difficulty),
        raw["prompt"].strip(),
        raw["explanation"].strip(),
        options,
        answer,
        tol,
        rel,
        lesson,
        preset,
        compute,
        source,
    )


def _tolerance(raw: Any) -> tuple[float, float]:
    if is_number(raw) and raw >= 0:
        return float(raw), 0.0
    if isinstance(raw, Mapping) and set(raw) <= {"abs", "rel"} and raw:
        values = (raw.get("abs", 0.0), raw.get("rel", 0.0))
        if all(is_number(v) and v >= 0 for v in values):
            return float(values[0]), float(values[1])
    raise QuizError(f'tolerance must be a number >= 0 or {{"abs": a, "rel": r}}, got {raw!r}')
