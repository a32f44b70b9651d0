"""Quiz: question bank, validation, grading, experiment questions, sessions and saved progress.

Question files (``resources/quiz/*.json``) hold ``{"topic": T, "questions": [...]}`` (the topic is
the default of the file's questions) or a bare list. A question has ``id`` (a slug, unique over
the bank), ``type``, ``topic`` (``TOPICS``), ``difficulty`` (1-3), ``prompt``, ``explanation`` and,
by type:

single      ``options`` (2 or more) and ``answer``: the index of the right option, from 0
multiple    ``options`` and ``answer``: the distinct indices of all right options
yesno       ``answer``: true or false
numeric     ``answer``: a number; ``tolerance``: a number (absolute) or {"abs": a, "rel": r};
            a response r is right when |r - answer| <= max(abs, rel |answer|) (default: 1e-9)
experiment  ``preset`` (an ``Experiment`` dict) and ``compute`` (below); ``options`` for the
            kinds that pick an option. The answer is computed by running the engine and must not
            be in the file.

Optional: ``lesson`` (a lesson id, for "show me") and, for non-experiment questions, ``preset``
(a preset id of ``resources/lessons/presets.json`` or an experiment dict).

``compute`` kinds (``steps`` is always required, at most ``MAX_EXPERIMENT_STEPS``):

first_to_reach   which run first has ``metric`` (default val_loss) <= ``target``; the runs are
                 ``models`` (optimizer dicts, trained side by side on the preset) or ``variants``
                 ({"label", "patch"}: the preset with ``patch`` merged in, trained on its own); one
                 option per run, plus optionally a last option meaning "none of them"
lower_final      which run ends with the lowest ``metric`` (its last finite recorded value; a
                 diverged run counts as infinitely bad)
diverges         yes/no: does the preset's model diverge (loss or parameters not finite)
stops_early      yes/no: does early stopping end the run (the preset must switch it on)
overfits         yes/no: is the final ``metric`` more than ``factor`` (default 1.5) times the
                 best value seen during the run
identical_units  yes/no: are all units of hidden ``layer`` (default 0) still identical at the end
                 (same incoming weights and bias, within ``tol``, default 1e-9)

Option order: a session shows the options of single, multiple and experiment questions in an
order of its own (``shuffled``), drawn from the session's seed and the question's id, so that the
position of an option says nothing about its truth. Options that speak about the others ("Both of
the above", "None of them within 1000 steps", ``pinned_last``) keep their place at the end. A
shuffled question is a complete question in display order (``options``, ``answer``), and
``order`` maps it back to the bank, so grading, feedback and the saved progress (by id) need no
translation; the answer of an experiment question is computed in the bank's order of its runs and
mapped on grading.

``Progress`` keeps per-topic and per-question results in a JSON file written atomically after
every answer; ``QuizSession`` runs one quiz in the modes ``topic``, ``mixed`` and ``mistakes``.
Nothing here needs Qt.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlopt_core.course.lessons import resources_dir
from dlopt_core.data import files

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
MODES = ("topic", "mixed", "mistakes")
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
PROGRESS_VERSION = 1
MAX_SESSIONS_KEPT = 200
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


@dataclass
class QuizBank:
    """The questions that passed validation, and one message per problem found."""

    questions: list[Question] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def by_id(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def topics(self) -> list[str]:
        return [t for t in TOPICS if any(q.topic == t for q in self.questions)]


def default_bank_dir() -> Path:
    return resources_dir() / "quiz"


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    if not isinstance(value, int | float | np.integer | np.floating) or isinstance(
        value, bool | np.bool_
    ):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond the float range
        return False


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
    if not _is_int(steps) or not 1 <= steps <= MAX_EXPERIMENT_STEPS:
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
        if kind == "first_to_reach" and not _is_number(compute.get("target")):
            raise QuizError("compute.target must be a finite number")
    elif "options" in raw:
        raise QuizError(f"a yes/no experiment ({kind}) takes no options")
    if kind == "stops_early" and exp.training.early_stopping == 0:
        raise QuizError("stops_early needs training.early_stopping > 0 in the preset")
    if kind == "overfits":
        factor = compute.get("factor", 1.5)
        if not _is_number(factor) or factor < 1.0:
            raise QuizError("compute.factor must be a number >= 1")
    if kind == "identical_units":
        layer = compute.get("layer", 0)
        if not _is_int(layer) or not 0 <= layer < len(exp.network.hidden):
            raise QuizError(
                f"compute.layer must index a hidden layer of the preset "
                f"(0 to {len(exp.network.hidden) - 1}), got {layer!r}"
            )
        tol = compute.get("tol", 1e-9)
        if not _is_number(tol) or tol < 0:
            raise QuizError("compute.tol must be a number >= 0")
    return dict(compute), options


def parse_question(raw: Any, source: str = "", default_topic: str | None = None) -> Question:
    """Validate one question object; ``QuizError`` names the problem."""
    if not isinstance(raw, Mapping):
        raise QuizError("expected an object {...}")
    repeated = _repeated_key(raw)
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
    if not _is_int(difficulty) or not 1 <= difficulty <= 3:
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
            if not _is_int(answer) or not 0 <= answer < len(options):
                raise QuizError(
                    f"answer must be an option index from 0 to {len(options) - 1}, got {answer!r}"
                )
            answer = int(answer)
        else:
            if not isinstance(answer, list) or not answer:
                raise QuizError("answer must be a non-empty list of option indices")
            if not all(_is_int(a) and 0 <= a < len(options) for a in answer):
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
        if not _is_number(answer):
            raise QuizError(f"answer must be a finite number, got {answer!r}")
        answer = float(answer)
        tol, rel = _tolerance(raw.get("tolerance", DEFAULT_TOLERANCE))
    elif "tolerance" in raw:
        raise QuizError("only numeric questions take a tolerance")
    if qtype == "experiment":
        compute, options = _check_compute(raw)
        preset = copy.deepcopy(dict(preset))
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
    if _is_number(raw) and raw >= 0:
        return float(raw), 0.0
    if isinstance(raw, Mapping) and set(raw) <= {"abs", "rel"} and raw:
        values = (raw.get("abs", 0.0), raw.get("rel", 0.0))
        if all(_is_number(v) and v >= 0 for v in values):
            return float(values[0]), float(values[1])
    raise QuizError(f'tolerance must be a number >= 0 or {{"abs": a, "rel": r}}, got {raw!r}')


_DUPLICATES = "\x00duplicate keys"


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects that remember a repeated key (json.loads would silently keep the last)."""
    out: dict[str, Any] = {}
    repeated = []
    for key, value in pairs:
        if key in out:
            repeated.append(key)
        out[key] = value
    if repeated:
        out[_DUPLICATES] = repeated
    return out


def _repeated_key(value: Any, where: str = "") -> str | None:
    """The first key given twice anywhere inside ``value`` (as ``a.b.key``), or None."""
    if isinstance(value, Mapping):
        if value.get(_DUPLICATES):
            return where + value[_DUPLICATES][0]
        for key, item in value.items():
            found = _repeated_key(item, f"{where}{key}.")
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _repeated_key(item, where)
            if found:
                return found
    return None


def load_bank(folder: str | Path | None = None) -> QuizBank:
    """Every ``*.json`` question file of ``folder`` (default: the shipped bank).

    Problems do not stop the loading: each becomes a message ``"file.json: question 'id':
    problem"`` (or ``"file.json: problem"`` for a file that cannot be read at all) in
    ``bank.errors``, and the valid questions load. A repeated id is refused after its first use.
    """
    folder = Path(folder) if folder is not None else default_bank_dir()
    bank = QuizBank()
    if not folder.is_dir():
        bank.errors.append(f"{folder}: no such folder")
        return bank
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        name = path.name
        try:  # a repeated key is reported per question, by parse_question
            raw = files.load_json(path, QuizError, source=name, object_pairs_hook=_pairs)
        except QuizError as exc:
            bank.errors.append(str(exc))
            continue
        default_topic = None
        if isinstance(raw, Mapping):
            if raw.get(_DUPLICATES):
                bank.errors.append(f"{name}: key {raw[_DUPLICATES][0]!r} is given twice")
                continue
            default_topic = raw.get("topic")
            items = raw.get("questions")
        else:
            items = raw
        if not isinstance(items, list):
            bank.errors.append(
                f'{name}: expected a list of questions or {{"topic": ..., "questions": [...]}}'
            )
            continue
        for index, item in enumerate(items):
            qid = item.get("id") if isinstance(item, Mapping) else None
            label = f"question {qid!r}" if isinstance(qid, str) else f"question #{index + 1}"
            try:
                question = parse_question(item, name, default_topic)
            except QuizError as exc:
                bank.errors.append(f"{name}: {label}: {exc}")
                continue
            if question.id in seen:
                bank.errors.append(
                    f"{name}: {label}: duplicate id, already used in {seen[question.id]}"
                )
                continue
            seen[question.id] = name
            bank.questions.append(question)
    return bank


# =================================================================================================
# Experiment questions: running the engine
# =================================================================================================


@dataclass(frozen=True)
class RunReport:
    """What running an experiment question gave: the answer and one line per run or fact."""

    answer: int | bool
    lines: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)


_CACHE: dict[tuple[str, str], RunReport] = {}


def clear_cache() -> None:
    """Forget the answers computed so far in this process."""
    _CACHE.clear()


def experiment_runs(question: Question) -> list[tuple[str, Any, list[Any]]]:
    """The runs an experiment question trains: ``[(label, Experiment, [ModelSpec, ...]), ...]``.

    With ``models`` there is one entry training every model side by side; with ``variants`` one
    entry per variant; otherwise one entry with the preset's own optimizer.
    """
    from dlopt_core.course.lessons import model_specs
    from dlopt_core.train.experiment import Experiment, merge_patch

    if question.type != "experiment" or question.compute is None:
        raise QuizError(f"question {question.id!r} is not an experiment question")
    compute = question.compute
    if "models" in compute:
        exp = Experiment.from_dict(question.preset)
        return [("", exp, model_specs(compute["models"]))]
    if "variants" in compute:
        runs = []
        for i, variant in enumerate(compute["variants"]):
            exp = Experiment.from_dict(merge_patch(question.preset, variant["patch"]))
            runs.append((variant.get("label") or f"variant {i + 1}", exp, []))
        return runs
    return [("", Experiment.from_dict(question.preset), [])]


def _final(history, metric: str, m: int) -> float:
    col = history.field(metric, m)
    finite = col[np.isfinite(col)]
    return float(finite[-1]) if finite.size else math.inf


def run_experiment(question: Question) -> RunReport:
    """Train the question's experiment and derive its answer (cached per process)."""
    key = (
        question.id,
        json.dumps([question.preset, question.compute], sort_keys=True, default=str),
    )
    if key in _CACHE:
        return _CACHE[key]
    compute = question.compute or {}
    kind, steps = compute.get("kind"), int(compute.get("steps", 0))
    metric = compute.get("metric", "val_loss")
    labels: list[str] = []
    reach: list[int] = []
    final: list[float] = []
    best: list[float] = []
    status: list[str] = []  # running, diverged or early_stopped
    notes: list[str] = []  # " (diverged at step N)" or ""
    engines = []
    for label, exp, specs in experiment_runs(question):
        _, _, engine = exp.build(models=specs or None)
        engine.run(steps)
        engines.append(engine)
        hist = engine.history
        target = compute.get("target", -math.inf)
        for m in range(engine.n_models):
            labels.append(label or engine.specs[m].name)
            reach.append(int(hist.steps_to_reach(target, metric)[m]))
            diverged = engine.status_name(m) == "diverged"
            final.append(math.inf if diverged else _final(hist, metric, m))
            col = hist.field(metric, m)
            if metric == "val_loss":  # kept exactly, however much the history was thinned
                best.append(float(hist.best_val_loss[m]))
            else:
                best.append(float(np.nanmin(col)) if np.isfinite(col).any() else math.inf)
            status.append(engine.status_name(m))
            notes.append(
                f" ({status[-1]} at step {int(engine.stop_step[m])})" if engine.status[m] else ""
            )
    if question.options and len(question.options) >= len(labels):
        labels = list(question.bank_options[: len(labels)])
    answer: int | bool
    lines: list[str] = []
    tied = False
    words = METRIC_WORDS[metric]
    percent = metric.endswith("_error") and engines[0].network.loss != "mse"

    def show(value: float) -> str:
        """A value of the metric as the app shows it: errors of classifiers in per cent."""
        return f"{100.0 * value:.3g}%" if percent and math.isfinite(value) else f"{value:.4g}"

    if kind == "first_to_reach":
        target = float(compute["target"])
        for lab, r, st in zip(labels, reach, notes, strict=True):
            when = (
                f"reached {words} ≤ {show(target)} at step {r}"
                if r >= 0
                else f"did not reach {words} ≤ {show(target)} in {steps} steps"
            )
            lines.append(f"{lab}: {when}{st}")
        hits = [(r, i) for i, r in enumerate(reach) if r >= 0]
        tied = len(hits) > 1 and sorted(hits)[0][0] == sorted(hits)[1][0]
        if hits:
            answer = min(hits)[1]
        elif len(question.options) == len(labels) + 1:
            answer = len(labels)
        else:
            raise QuizError(
                f"question {question.id!r}: no run reached {metric} <= {target:g}; "
                "add a 'none of them' option or change the target"
            )
    elif kind == "lower_final":
        for lab, v, st in zip(labels, final, notes, strict=True):
            lines.append(f"{lab}: final {words} = {show(v)}{st}")
        answer = int(np.argmin(final))
        tied = sum(v == final[answer] for v in final) > 1
    elif kind == "diverges":
        engine = engines[0]
        answer = engine.status_name(0) == "diverged"
        lines.append(
            f"diverged at step {int(engine.diverged_step[0])}"
            if answer
            else f"still finite after {steps} steps; final {words} = {show(final[0])}"
        )
    elif kind == "stops_early":
        engine = engines[0]
        answer = engine.status_name(0) == "early_stopped"
        lines.append(
            f"early stopping ended the run at step {int(engine.stop_step[0])}; best "
            f"validation loss {engine.history.best_val_loss[0]:.4g} at step "
            f"{int(engine.history.best_val_step[0])}"
            if answer
            else f"ran all {steps} steps without stopping{notes[0]}"
        )
    elif kind == "overfits":
        factor = float(compute.get("factor", 1.5))
        answer = bool(final[0] > factor * best[0])
        lines.append(
            f"best {words} = {show(best[0])}, final {words} = {show(final[0])} "
            f"(ratio {final[0] / best[0] if best[0] > 0 else math.inf:.3g}; "
            f"threshold {factor:g})"
        )
    else:  # identical_units
        engine = engines[0]
        layer = int(compute.get("layer", 0))
        W, b = engine.network.unflatten(engine.theta[0])[layer]
        spread = float(max(np.ptp(W, axis=1).max(), np.ptp(b)))
        answer = bool(spread <= float(compute.get("tol", 1e-9)))
        lines.append(
            f"largest difference between two units of hidden layer {layer + 1}: {spread:.3g}"
        )
    report = RunReport(
        answer,
        tuple(lines),
        {
            "labels": labels,
            "tied": tied,
            "reach_step": reach,
            "final": final,
            "best": best,
            "status": status,
        },
    )
    _CACHE[key] = report
    return report


def compute_answer(question: Question) -> int | bool:
    """The right answer of an experiment question, by running the engine (cached per process):
    yes or no, or the index of the right option as ``question`` shows them."""
    answer = run_experiment(question).answer
    return answer if isinstance(answer, bool) else question.shown_index(answer)


# =================================================================================================
# Responses and grading
# =================================================================================================


@dataclass(frozen=True)
class Result:
    """The grade of one response."""

    correct: bool
    explanation: str
    correct_answer: Any
    correct_text: str = ""
    details: tuple[str, ...] = ()  # experiment questions: what the run gave


def _letter_or_number(token: str, n: int) -> int:
    token = token.strip().rstrip(").").strip()
    if len(token) == 1 and token.isalpha():
        index = ord(token.lower()) - ord("a")
    elif token.isdigit():
        index = int(token) - 1
    else:
        raise QuizError(f"{token!r} is not an option number")
    if not 0 <= index < n:
        raise QuizError(f"choose an option from 1 to {n}")
    return index


def parse_response(question: Question, text: str) -> Any:
    """A typed response from text: ``2`` or ``B`` (one option, numbered from 1), ``1,3``, ``y`` /
    ``n``, or a number. ``QuizError`` says what was expected."""
    text = text.strip()
    kind = question.response_type
    if not text:
        raise QuizError("no answer given")
    if kind == "single":
        return _letter_or_number(text, len(question.options))
    if kind == "multiple":
        tokens = [t for t in re.split(r"[,\s;]+", text) if t]
        indices = {_letter_or_number(t, len(question.options)) for t in tokens}
        return sorted(indices)
    if kind == "yesno":
        low = text.lower()
        if low in ("y", "yes", "true", "t", "1"):
            return True
        if low in ("n", "no", "false", "f", "0"):
            return False
        raise QuizError("answer y (yes) or n (no)")
    try:
        value = float(text.replace("−", "-").replace("_", ""))
    except ValueError:
        raise QuizError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise QuizError("give a finite number")
    return value


def format_answer(question: Question, answer: Any) -> str:
    """An answer as text: the option(s) with their numbers, yes/no, or the number."""
    kind = question.response_type
    if kind == "single":
        return f"{answer + 1}. {question.options[answer]}"
    if kind == "multiple":
        return "; ".join(f"{a + 1}. {question.options[a]}" for a in answer)
    if kind == "yesno":
        return "yes" if answer else "no"
    return f"{answer:g}"


def grade(question: Question, response: Any) -> Result:
    """Grade ``response`` (an option index from 0, a collection of indices, a bool or a number).

    Experiment questions run the engine the first time (see ``run_experiment``). A response of
    the wrong kind raises ``QuizError``.
    """
    details: tuple[str, ...] = ()
    if question.type == "experiment":
        report = run_experiment(question)
        expected: Any = report.answer
        if not isinstance(expected, bool):  # a run index: where that option is shown
            expected = question.shown_index(expected)
        details = report.lines
    else:
        expected = question.answer
    kind = question.response_type
    if kind == "single":
        if not _is_int(response):
            raise QuizError(f"expected an option index, got {response!r}")
        correct = int(response) == expected
    elif kind == "multiple":
        if isinstance(response, str | bytes) or not isinstance(response, Iterable):
            raise QuizError(f"expected a collection of option indices, got {response!r}")
        chosen = list(response)
        if not all(_is_int(r) for r in chosen):
            raise QuizError(f"expected option indices, got {response!r}")
        correct = {int(r) for r in chosen} == set(expected)
    elif kind == "yesno":
        if not isinstance(response, bool | np.bool_):
            raise QuizError(f"expected true or false, got {response!r}")
        correct = bool(response) == expected
    else:
        if not _is_number(response):
            raise QuizError(f"expected a finite number, got {response!r}")
        allowed = max(question.tolerance, question.rel_tolerance * abs(expected))
        correct = abs(float(response) - expected) <= allowed
    return Result(
        correct, question.explanation, expected, format_answer(question, expected), details
    )


# =================================================================================================
# Progress (saved) and sessions
# =================================================================================================


def default_progress_path(app_name: str = "dlopt") -> Path:
    """``progress.json`` in the user's data folder (not created here).

    platformdirs' ``user_data_dir`` when it is installed; otherwise ``%APPDATA%`` on Windows,
    ``~/Library/Application Support`` on macOS and ``$XDG_DATA_HOME`` (default
    ``~/.local/share``) elsewhere.
    """
    try:
        from platformdirs import user_data_dir
    except ImportError:
        user_data_dir = None
    if user_data_dir is not None:
        return Path(user_data_dir(app_name, appauthor=False)) / "progress.json"
    home = Path.home()
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / app_name / "progress.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


MAX_COUNT = 10**9


def _count(value: Any) -> bool:
    return _is_int(value) and 0 <= value <= MAX_COUNT


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


# what each entry of a progress file may hold: key -> (check, what it must be)
_COUNT = (_count, f"a whole number from 0 to {MAX_COUNT}")
_TEXT = (lambda v: isinstance(v, str), "a string")
_TOPIC_FIELDS = {"right": _COUNT, "wrong": _COUNT}
_QUESTION_FIELDS = {
    "right": _COUNT,
    "wrong": _COUNT,
    "last": (lambda v: v in ("right", "wrong"), '"right" or "wrong"'),
    "topic": _TEXT,
    "time": _TEXT,
}
MAX_SESSION_SEED = 2**63 - 1
_SESSION_FIELDS = {
    "id": _TEXT,
    "mode": _TEXT,
    "topic": (_optional_str, "a string or null"),
    "started": _TEXT,
    "last": _TEXT,
    "total": _COUNT,
    "answered": _COUNT,
    "right": _COUNT,
    # what replays the session: its seed, whether it shuffled the options, and
    # its questions in their order (older files lack them)
    "seed": (
        lambda v: _is_int(v) and abs(v) <= MAX_SESSION_SEED,
        f"a whole number of at most {MAX_SESSION_SEED} in size",
    ),
    "shuffle": (lambda v: isinstance(v, bool), "true or false"),
    "questions": (
        lambda v: (
            isinstance(v, list) and len(v) <= MAX_COUNT and all(isinstance(q, str) for q in v)
        ),
        "a list of ids",
    ),
}


def _entry(raw: Any, where: str, fields: Mapping[str, tuple[Any, str]]) -> dict[str, Any]:
    """A copy of one progress entry after checking every key against ``fields``."""
    if not isinstance(raw, Mapping):
        raise QuizError(f"{where}: expected an object")
    for key, value in raw.items():
        if key not in fields:
            raise QuizError(f"{where}: unknown key {key!r}")
        check, what = fields[key]
        if not check(value):
            shown = (
                json.dumps(value)[:40]
                if not isinstance(value, Mapping | list)
                else type(value).__name__
            )
            raise QuizError(f"{where}.{key}: expected {what}, got {shown}")
    return dict(raw)


def _entries(
    raw: Any, where: str, fields: Mapping[str, tuple[Any, str]]
) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping):
        raise QuizError(f"{where}: expected an object")
    return {key: _entry(value, f"{where}[{key!r}]", fields) for key, value in raw.items()}


class Progress:
    """Results so far: per topic (right, wrong), per question (last result and counts) and per
    session (score). ``path=None`` keeps it in memory only.

    Every ``record`` writes the whole file atomically (a temporary file, then ``os.replace``), so
    a crash mid-quiz loses at most the answer being given.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        self.topics: dict[str, dict[str, int]] = {}
        self.questions: dict[str, dict[str, Any]] = {}
        self.sessions: list[dict[str, Any]] = []
        self.load_error: str | None = None

    @classmethod
    def load(cls, path: str | Path | None) -> Progress:
        """The progress saved at ``path``; empty if there is none.

        A damaged file (not JSON, beyond the ``files`` limits, or an entry of the wrong shape) is
        moved aside with the suffix ``.damaged`` and replaced by empty progress; ``load_error``
        then says so in a sentence for the user. A path that is not a regular file (a folder, a
        device, a pipe) is left alone and the progress is kept in memory only.
        """
        progress = cls(path)
        if progress.path is None or not progress.path.exists():
            return progress
        name = progress.path.name
        try:
            progress._read(files.load_json(progress.path, QuizError, source=name))
        except QuizError as exc:
            if not files.is_regular_file(progress.path):
                progress = cls(None)
                progress.load_error = f"{exc}; the quiz progress is not saved this time"
                return progress
            progress = cls(path)
            moved = files.move_aside(progress.path)
            where = f"moved aside to {moved.name}" if moved else "could not be moved aside"
            progress.load_error = (
                f"{name} was damaged ({exc}); it was {where} and the quiz progress starts afresh"
            )
        return progress

    def _read(self, raw: Any) -> None:
        if not isinstance(raw, Mapping) or raw.get("version") != PROGRESS_VERSION:
            raise QuizError("not a version 1 progress file")
        extra = sorted(set(raw) - {"version", "topics", "questions", "sessions"})
        if extra:
            raise QuizError(f"unknown key {extra[0]!r}")
        topics = _entries(raw.get("topics", {}), "topics", _TOPIC_FIELDS)
        questions = _entries(raw.get("questions", {}), "questions", _QUESTION_FIELDS)
        sessions = raw.get("sessions", [])
        if not isinstance(sessions, list):
            raise QuizError("sessions: expected a list")
        self.topics = {
            t: {"right": v.get("right", 0), "wrong": v.get("wrong", 0)} for t, v in topics.items()
        }
        self.questions = questions
        self.sessions = [
            _entry(s, f"sessions[{i}]", _SESSION_FIELDS) for i, s in enumerate(sessions)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PROGRESS_VERSION,
            "topics": self.topics,
            "questions": self.questions,
            "sessions": self.sessions[-MAX_SESSIONS_KEPT:],
        }

    def save(self) -> None:
        """Write the file atomically (nothing to do for in-memory progress)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_dict(), fh, indent=1, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def start_session(
        self,
        mode: str,
        topic: str | None = None,
        total: int = 0,
        *,
        seed: int | None = None,
        shuffle: bool = True,
        questions: Sequence[str] = (),
    ) -> str:
        """Open a session entry (saved with the next answer); its id. ``seed``, ``shuffle``
        and the ``questions``' ids in their order are kept so that the session can be replayed
        (``QuizSession.replay``)."""
        sid = f"s{int(time.time() * 1000)}-{len(self.sessions)}"
        entry: dict[str, Any] = {
            "id": sid,
            "mode": mode,
            "topic": topic,
            "started": _now(),
            "total": total,
            "answered": 0,
            "right": 0,
        }
        if seed is not None:
            entry.update(seed=int(seed), shuffle=bool(shuffle), questions=list(questions))
        self.sessions.append(entry)
        return sid

    def session(self, session_id: str) -> dict[str, Any] | None:
        """The entry of session ``session_id`` (a copy), or None."""
        return next((dict(s) for s in self.sessions if s.get("id") == session_id), None)

    def record(self, question: Question, correct: bool, session_id: str | None = None) -> None:
        """Count one answer and save."""
        key = "right" if correct else "wrong"
        counts = self.topics.setdefault(question.topic, {"right": 0, "wrong": 0})
        counts[key] += 1
        entry = self.questions.setdefault(question.id, {"right": 0, "wrong": 0})
        entry[key] = int(entry.get(key, 0)) + 1
        entry.update(last=key, topic=question.topic, time=_now())
        for session in reversed(self.sessions):
            if session.get("id") == session_id:
                session["answered"] = int(session.get("answered", 0)) + 1
                session["right"] = int(session.get("right", 0)) + int(correct)
                session["last"] = _now()
                break
        self.save()

    def last_result(self, qid: str) -> str | None:
        """``"right"``, ``"wrong"`` or None (never answered)."""
        return self.questions.get(qid, {}).get("last")

    def mistakes(self) -> set[str]:
        """Ids of the questions whose last answer was wrong."""
        return {qid for qid, v in self.questions.items() if v.get("last") == "wrong"}

    def topic_score(self, topic: str) -> tuple[int, int]:
        """``(right, wrong)`` answers in ``topic`` over all sessions."""
        counts = self.topics.get(topic, {})
        return int(counts.get("right", 0)), int(counts.get("wrong", 0))


# An option that speaks about the others: "All of the above", "Both of the above statements are
# true", "None of them within 1000 steps", "Neither", "None of these".
_ABOUT_THE_OTHERS = re.compile(
    r"^\s*(?:all|both|none|neither)\b(?:\s+(?:of\s+)?(?:the\s+)?(?:above|them|these|those)\b|"
    r"\s*$|\s+within\b)|\b(?:all|none|both|neither)\s+of\s+the\s+above\b",
    re.IGNORECASE,
)


def pinned_last(question: Question) -> int:
    """How many of the last options (in the bank's order) keep their place when shuffled.

    An option about the others ("All of the above", "Both of the above", "None of them") only
    makes sense after them; so does the "none of them" option a ``first_to_reach`` experiment may
    add after its runs. The pinned options are the trailing ones of either kind.
    """
    options = question.bank_options
    pinned = 0
    while pinned < len(options) and _ABOUT_THE_OTHERS.search(options[-1 - pinned]):
        pinned += 1
    compute = question.compute or {}
    if compute.get("kind") == "first_to_reach":
        runs = len(compute.get("models", compute.get("variants", ())))
        pinned = max(pinned, len(options) - runs)
    return pinned


def option_order(question: Question, seed: int) -> tuple[int, ...]:
    """The display order of ``question``'s options in a session with ``seed``: position -> bank
    index. Seeded by the session seed and the question id (the same for every platform and
    Python run); yes/no and numeric questions have no options to order."""
    n = len(question.options)
    if question.response_type not in ("single", "multiple") or n < 2:
        return tuple(range(n))
    free = list(range(n - pinned_last(question)))
    random.Random(f"{seed}:{question.id}").shuffle(free)
    return tuple(free) + tuple(range(len(free), n))


def shuffled(question: Question, seed: int) -> Question:
    """``question`` with its options in the order ``option_order(question, seed)`` and its
    answer mapped to it (experiment answers are mapped when graded). A question that is already
    shuffled is first put back into the bank's order."""
    bank = question.bank_options
    base = question.answer
    if question.order and question.type in ("single", "multiple"):
        base = (
            question.order[base]
            if question.type == "single"
            else tuple(sorted(question.order[a] for a in base))
        )
    order = option_order(question, seed)
    answer = base
    if question.type == "single":
        answer = order.index(base)
    elif question.type == "multiple":
        answer = tuple(sorted(order.index(a) for a in base))
    identity = order == tuple(range(len(order)))
    return dataclasses.replace(
        question,
        options=tuple(bank[i] for i in order),
        answer=answer,
        order=() if identity else order,
    )


def select_questions(
    questions: Sequence[Question],
    mode: str = "mixed",
    topic: str | None = None,
    n: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[Question]:
    """The questions of one session.

    topic: the questions of ``topic`` from easy to hard (bank order within a difficulty);
    mixed: all questions (of ``topic`` if given) in a seeded random order; mistakes: those whose
    last answer was wrong (of ``topic`` if given), in bank order. ``n`` caps the count.
    """
    if mode not in MODES:
        raise QuizError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if topic is not None and topic not in TOPICS:
        raise QuizError(f"topic {topic!r} is not one of {', '.join(TOPICS)}")
    if mode == "topic" and topic is None:
        raise QuizError("mode 'topic' needs a topic")
    if n is not None and n < 1:
        raise QuizError(f"the number of questions must be at least 1, got {n}")
    chosen = [q for q in questions if topic is None or q.topic == topic]
    if mode == "topic":
        chosen.sort(key=lambda q: q.difficulty)
    elif mode == "mixed":
        random.Random(seed).shuffle(chosen)
    else:
        wrong = progress.mistakes() if progress is not None else set()
        chosen = [q for q in chosen if q.id in wrong]
    return chosen[:n] if n is not None else chosen


class QuizSession:
    """One quiz: the chosen questions, where we are, and the score.

    ``current`` is the question to answer; ``answer(response)`` grades it, records it in the
    progress (saved at once) and moves on; ``skip()`` moves on without an answer. The options
    are shown in an order drawn from ``seed`` (``shuffled``) unless ``shuffle`` is false.
    ``given=True`` asks ``questions`` as they are, in that order (``mode`` is then only recorded).
    """

    def __init__(
        self,
        questions: Sequence[Question],
        progress: Progress | None = None,
        *,
        mode: str = "mixed",
        topic: str | None = None,
        n: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
        given: bool = False,
    ):
        self.progress = progress if progress is not None else Progress(None)
        self.mode, self.topic, self.seed = mode, topic, seed
        if mode not in MODES:
            raise QuizError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        chosen = (
            list(questions[:n] if n is not None else questions)
            if given
            else select_questions(questions, mode, topic, n, seed, self.progress)
        )
        if not _is_int(seed) or abs(seed) > MAX_SESSION_SEED:
            raise QuizError(f"seed must be a whole number of at most {MAX_SESSION_SEED} in size")
        self.questions = [shuffled(q, seed) for q in chosen] if shuffle else chosen
        self.index = 0
        self.results: list[tuple[str, bool]] = []
        self.session_id = self.progress.start_session(
            mode,
            topic,
            len(self.questions),
            seed=seed,
            shuffle=shuffle,
            questions=[q.id for q in chosen],
        )

    @classmethod
    def replay(
        cls,
        entry: Mapping[str, Any],
        questions: Sequence[Question],
        progress: Progress | None = None,
    ) -> QuizSession:
        """The session a progress entry recorded, asked again: the same questions in the same
        order, their options in the same order. ``questions`` is the bank; a recorded question
        it no longer has, or an entry from before sessions kept their seed, raises
        ``QuizError``."""
        if "seed" not in entry or "questions" not in entry:
            raise QuizError(
                "this session was saved without its seed and questions; it cannot be replayed"
            )
        by_id = {q.id: q for q in questions}
        missing = [qid for qid in entry["questions"] if qid not in by_id]
        if missing:
            raise QuizError(f"the bank no longer has question {missing[0]!r}")
        return cls(
            [by_id[qid] for qid in entry["questions"]],
            progress,
            mode=entry.get("mode", "mixed"),
            topic=entry.get("topic"),
            seed=int(entry["seed"]),
            shuffle=bool(entry.get("shuffle", True)),
            given=True,
        )

    @property
    def current(self) -> Question | None:
        return self.questions[self.index] if self.index < len(self.questions) else None

    @property
    def finished(self) -> bool:
        return self.index >= len(self.questions)

    @property
    def score(self) -> int:
        return sum(ok for _, ok in self.results)

    @property
    def answered(self) -> int:
        return len(self.results)

    @property
    def total(self) -> int:
        return len(self.questions)

    def answer(self, response: Any) -> Result:
        """Grade the current question; a ``QuizError`` (bad response) leaves everything as is."""
        question = self.current
        if question is None:
            raise QuizError("the quiz is over")
        result = grade(question, response)
        self.results.append((question.id, result.correct))
        self.index += 1
        self.progress.record(question, result.correct, self.session_id)
        return result

    def skip(self) -> None:
        if not self.finished:
            self.index += 1
