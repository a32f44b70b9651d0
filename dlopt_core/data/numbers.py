"""The computed numbers that texts quote: ``{{name}}`` placeholders and the ``numbers.json``
that fills them.

A lesson, a preset's description or a Landscape challenge that quotes a number a demo produces
writes a placeholder instead, for example "the gradient's norm is only {{plateau.grad}}"; the
loaders fill it from ``numbers.json`` beside the lessons, so showing a text costs nothing and
needs no compiled kernels. ``dlopt_core.course.lesson_numbers`` computes the numbers and writes
the file. This module only reads: it sits in the data layer so that every layer may fill texts.
"""

from __future__ import annotations

import re
from pathlib import Path

from dlopt_core.data import files
from dlopt_core.data.resources import resources_dir

NUMBERS_FILE = "numbers.json"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+(?:\.[a-z0-9_]+)+)\s*\}\}")

_LOADED: dict[Path, tuple[float, dict[str, str]]] = {}


def numbers_folder() -> Path:
    """The folder of the shipped ``numbers.json``: the lessons'."""
    return resources_dir() / "lessons"


def load_numbers(
    folder: str | Path | None = None, error: files.ErrorType = ValueError
) -> dict[str, str]:
    """``numbers.json`` of ``folder`` (default: the shipped lessons) as ``{name: text}``; empty if
    there is none. Read once per change of the file; a damaged file raises ``error``."""
    path = Path(folder if folder is not None else numbers_folder()) / NUMBERS_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    raw = files.load_json(path, error, source=NUMBERS_FILE)
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise error(f'{NUMBERS_FILE}: expected {{"name": "text", ...}}')
    _LOADED[path] = (mtime, raw)
    return raw


def placeholders(text: str) -> list[str]:
    """The names of the ``{{name}}`` placeholders of ``text``, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def fill_numbers(
    text: str,
    where: str = "",
    folder: str | Path | None = None,
    error: files.ErrorType = ValueError,
) -> str:
    """``text`` with every ``{{name}}`` replaced by its value from ``numbers.json`` of
    ``folder``; an unknown name raises ``error`` naming ``where`` and the placeholder."""
    if "{{" not in text:
        return text
    numbers = load_numbers(folder, error)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in numbers:
            raise error(
                f"{where}: unknown number {{{{{name}}}}}; see python -m "
                "dlopt_core.course.lesson_numbers --list"
            )
        return numbers[name]

    return PLACEHOLDER.sub(value, text)
