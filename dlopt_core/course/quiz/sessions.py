"""Quiz sessions: which questions a quiz asks (modes ``topic``, ``mixed`` and ``mistakes``), the
order of their options (drawn from the session's seed and the question's id; options that speak
about the others stay last), and ``QuizSession``, which runs one quiz and records it in the
``Progress``.

A shuffled question is a complete question in display order (``options``, ``answer``), and
``order`` maps it back to the bank, so grading, feedback and the saved progress (by id) need no
translation; the answer of an experiment question is computed in the bank's order of its runs and
mapped on grading.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dlopt_core.course.quiz.grading import Result, grade
from dlopt_core.course.quiz.progress import MAX_SESSION_SEED, Progress
from dlopt_core.course.quiz.questions import TOPICS, Question, QuizError, is_int

MODES = ("topic", "mixed", "mistakes")


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
        if not is_int(seed) or abs(seed) > MAX_SESSION_SEED:
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
