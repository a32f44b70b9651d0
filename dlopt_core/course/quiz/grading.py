"""Responses and grading: a typed response parsed for a question's type, the right answer
formatted for feedback, and the ``Result`` of comparing the two (numeric answers within the
question's tolerance).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.course.quiz.answers import run_experiment
from dlopt_core.course.quiz.questions import Question, QuizError, is_int, is_number


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
        if not is_int(response):
            raise QuizError(f"expected an option index, got {response!r}")
        correct = int(response) == expected
    elif kind == "multiple":
        if isinstance(response, str | bytes) or not isinstance(response, Iterable):
            raise QuizError(f"expected a collection of option indices, got {response!r}")
        chosen = list(response)
        if not all(is_int(r) for r in chosen):
            raise QuizError(f"expected option indices, got {response!r}")
        correct = {int(r) for r in chosen} == set(expected)
    elif kind == "yesno":
        if not isinstance(response, bool | np.bool_):
            raise QuizError(f"expected true or false, got {response!r}")
        correct = bool(response) == expected
    else:
        if not is_number(response):
            raise QuizError(f"expected a finite number, got {response!r}")
        allowed = max(question.tolerance, question.rel_tolerance * abs(expected))
        correct = abs(float(response) - expected) <= allowed
    return Result(
        correct, question.explanation, expected, format_answer(question, expected), details
    )
