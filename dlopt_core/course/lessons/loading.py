"""Lesson files: a Markdown body below a small header, read through the bounded reader.

A lesson file (``resources/lessons/*.md``) starts with a header between two ``---`` lines::

    ---
    id: basic_algorithms
    title: Basic algorithms
    order: 4
    presets: [compare_basic, valley_momentum]
    ---

``presets`` may also be written ``a, b`` or as ``- a`` lines below ``presets:``. The body is
CommonMark (``markdown.markdown_to_html`` renders it behind an allow-list of links and inline
tags). A link ``[Try it: label](preset:ID)`` opens a preset of ``resources/lessons/presets.json``.

Numbers a lesson quotes from a demo are written as placeholders, ``{{name}}``, filled on loading
from ``lessons/numbers.json`` (see ``dlopt_core.course.lesson_numbers``, which computes them with
the engine and keeps that file in step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlopt_core.course.lessons.markdown import markdown_to_html
from dlopt_core.data import files
from dlopt_core.data.resources import resources_dir

MAX_LESSON_BYTES = 2**20
HEADER_KEYS = ("id", "title", "order", "presets")
SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")


class LessonError(ValueError):
    """A lesson or preset file that cannot be used; the message starts with the file name."""


def default_lessons_dir() -> Path:
    return resources_dir() / "lessons"


def default_presets_path() -> Path:
    return default_lessons_dir() / "presets.json"


@dataclass(frozen=True)
class Lesson:
    """One lesson: header fields, its Markdown body and the body as HTML."""

    id: str
    title: str
    order: int
    presets: tuple[str, ...]
    markdown: str
    html: str
    source: str = ""

    @property
    def links(self) -> list[tuple[str, str]]:
        """``(label, preset_id)`` of every ``preset:`` link of the body, in order."""
        return preset_links(self.markdown)


_LINK = re.compile(r"\[([^\[\]]+)\]\(([^)\s]+)\)")  # no "[" in a label: linear time


def preset_links(markdown: str) -> list[tuple[str, str]]:
    """``(label, preset_id)`` of the ``[label](preset:ID)`` links in ``markdown``."""
    return [
        (m.group(1), m.group(2)[len("preset:") :])
        for m in _LINK.finditer(markdown)
        if m.group(2).startswith("preset:")
    ]


def _parse_list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return [item.strip().strip("'\"") for item in value.split(",") if item.strip()]


def parse_front_matter(text: str, name: str = "<lesson>") -> tuple[dict[str, Any], str]:
    """``(header, body)`` of a lesson file; a bad header raises ``LessonError`` naming ``name``."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise LessonError(f"{name}: the file must start with a '---' header line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise LessonError(f"{name}: the header has no closing '---' line") from None
    header: dict[str, Any] = {}
    key = ""
    for lineno, raw in enumerate(lines[1:end], start=2):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("- ") and key == "presets":
            header["presets"].append(line[2:].strip().strip("'\""))
            continue
        key, sep, value = (part.strip() for part in line.partition(":"))
        if not sep:
            raise LessonError(f"{name}: header line {lineno}: expected 'key: value', got {line!r}")
        if key not in HEADER_KEYS:
            raise LessonError(
                f"{name}: header line {lineno}: unknown key {key!r}; "
                f"allowed keys are {', '.join(HEADER_KEYS)}"
            )
        if key in header:
            raise LessonError(f"{name}: header line {lineno}: {key!r} is given twice")
        header[key] = _parse_list(value) if key == "presets" else value.strip("'\"")
    for key in ("id", "title", "order"):
        if not header.get(key):
            raise LessonError(f"{name}: the header has no '{key}:'")
    if not SLUG.match(header["id"]):
        raise LessonError(
            f"{name}: id {header['id']!r} must be lower case letters, digits, '_' or '-'"
        )
    try:
        header["order"] = int(header["order"])
    except ValueError:
        raise LessonError(f"{name}: order must be an integer, got {header['order']!r}") from None
    header["presets"] = tuple(header.get("presets", ()))
    return header, "\n".join(lines[end + 1 :]).strip("\n") + "\n"


def load_lesson(path: str | Path) -> Lesson:
    """One lesson file, its ``{{name}}`` placeholders filled from the ``numbers.json`` beside
    it; a problem raises ``LessonError`` naming the file."""
    from dlopt_core.course.lesson_numbers import fill_numbers

    path = Path(path)
    data = files.read_bytes(path, MAX_LESSON_BYTES, LessonError, path.name)
    header, body = parse_front_matter(files.decode_text(data, path.name, LessonError), path.name)
    body = fill_numbers(body, path.name, path.parent)
    return Lesson(
        header["id"],
        header["title"],
        header["order"],
        header["presets"],
        body,
        markdown_to_html(body),
        path.name,
    )


def load_lessons(folder: str | Path | None = None, errors: list[str] | None = None) -> list[Lesson]:
    """Every ``*.md`` lesson of ``folder`` (default: the shipped lessons), sorted by order.

    A bad file raises ``LessonError`` naming it, or, when ``errors`` is a list, is skipped and its
    message appended there. Two lessons with the same id are refused the same way.
    """
    folder = Path(folder) if folder is not None else default_lessons_dir()
    lessons: list[Lesson] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            lesson = load_lesson(path)
            if lesson.id in seen:
                raise LessonError(
                    f"{path.name}: id {lesson.id!r} is already used by {seen[lesson.id]}"
                )
        except LessonError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
            continue
        seen[lesson.id] = path.name
        lessons.append(lesson)
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.id))
