"""The quiz bank: question files, their validation, and the bank they make.

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

Computing the experiment answers (``answers``), grading (``grading``), the saved progress
(``progress``) and sessions with their option order (``sessions``) live in the sibling modules.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard, cast

import numpy as np

from dlopt_core.data import files
from dlopt_core.data.resources import resources_dir

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
