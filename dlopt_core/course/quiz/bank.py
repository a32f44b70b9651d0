"""The quiz bank: question files read through the bounded reader, and the bank they make.

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

A question (``questions``) is checked field by field when read (``validation``); computing the
experiment answers (``answers``), grading (``grading``), the saved progress (``progress``) and
sessions with their option order (``sessions``) live in the sibling modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dlopt_core.course.quiz.questions import TOPICS, Question, QuizError
from dlopt_core.course.quiz.validation import DUPLICATES, pairs_hook, parse_question
from dlopt_core.data import files
from dlopt_core.data.resources import resources_dir


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
            raw = files.load_json(path, QuizError, source=name, object_pairs_hook=pairs_hook)
        except QuizError as exc:
            bank.errors.append(str(exc))
            continue
        default_topic = None
        if isinstance(raw, Mapping):
            if raw.get(DUPLICATES):
                bank.errors.append(f"{name}: key {raw[DUPLICATES][0]!r} is given twice")
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
