"""Saved progress: per-topic and per-question results and the past sessions, in a JSON file in
the user's data folder, validated field by field when read and written atomically after every
answer, so a crash mid-quiz loses nothing already answered.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from dlopt_core.course.quiz.questions import (
    Question,
    QuizError,
    is_int,
)
from dlopt_core.data import files

PROGRESS_VERSION = 1
MAX_SESSIONS_KEPT = 200


def default_progress_path(app_name: str = "dlopt") -> Path:
    """``progress.json`` in the user's data folder (not created here), as platformdirs'
    ``user_data_dir`` names it on each system (``$XDG_DATA_HOME/dlopt`` or
    ``~/.local/share/dlopt`` on Linux, ``%LOCALAPPDATA%\\dlopt`` on Windows,
    ``~/Library/Application Support/dlopt`` on macOS)."""
    return Path(user_data_dir(app_name, appauthor=False)) / "progress.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


MAX_COUNT = 10**9


def _count(value: Any) -> bool:
    return is_int(value) and 0 <= value <= MAX_COUNT


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
        lambda v: is_int(v) and abs(v) <= MAX_SESSION_SEED,
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
            assert progress.path is not None  # a path that exists
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
