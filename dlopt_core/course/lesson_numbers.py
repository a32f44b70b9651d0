"""Numbers the lessons quote from their demos, computed by the engine.

A lesson (or a preset's description) that quotes a number a demo produces writes a placeholder
instead, ``{{name}}``, for example "the gradient's norm is only {{plateau.grad}}". The loaders
(``lessons.load_lesson``, ``lessons.load_presets``) fill the placeholders from ``numbers.json``
beside the lessons, so showing a lesson costs nothing and needs no compiled kernels. This module
computes every number from the presets and the core (``DEMOS``), and writes or checks that file:

    python -m dlopt_core.course.lesson_numbers            # recompute and write lessons/numbers.json
    python -m dlopt_core.course.lesson_numbers --check    # exit 1 if out of date
    python -m dlopt_core.course.lesson_numbers --list     # the names and what each one is

A teacher edits the text freely, moves or drops placeholders, and may use any name of the list;
a new kind of number is a new entry of ``DEMOS``. The test suite recomputes every number and
fails when ``numbers.json`` no longer matches what the engine gives (after a change of a preset
or of the engine) or when a lesson uses an unknown name.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from dlopt_core.course.demos import Demo, networks, plane
from dlopt_core.course.number_format import count, fixed, percent, sci
from dlopt_core.data import numbers
from dlopt_core.data.numbers import NUMBERS_FILE, PLACEHOLDER, placeholders

__all__ = [
    "DEMOS",
    "NUMBERS_FILE",
    "PLACEHOLDER",
    "Demo",
    "compute_numbers",
    "count",
    "fill_numbers",
    "fixed",
    "load_numbers",
    "main",
    "percent",
    "placeholders",
    "sci",
    "write_numbers",
]

DEMOS: tuple[Demo, ...] = plane.DEMOS + networks.DEMOS


def load_numbers(folder: str | Path | None = None) -> dict[str, str]:
    """``numbers.json`` of ``folder`` (default: the shipped lessons) as ``{name: text}``; empty if
    there is none; a damaged file raises ``LessonError``."""
    from dlopt_core.course.lessons import LessonError

    return numbers.load_numbers(folder, LessonError)


def fill_numbers(text: str, where: str = "", folder: str | Path | None = None) -> str:
    """``text`` with every ``{{name}}`` replaced by its value from ``numbers.json`` of
    ``folder``; an unknown name raises ``LessonError`` naming ``where`` and the placeholder."""
    from dlopt_core.course.lessons import LessonError

    return numbers.fill_numbers(text, where, folder, LessonError)


def compute_numbers(prefixes: Iterable[str] | None = None) -> dict[str, str]:
    """Every number of ``DEMOS`` (or of the demos named by ``prefixes``) as ``{name: text}``."""
    wanted = set(prefixes) if prefixes is not None else None
    out: dict[str, str] = {}
    for demo in DEMOS:
        if wanted is None or demo.prefix in wanted:
            out.update({f"{demo.prefix}.{k}": v for k, v in demo.compute().items()})
    return out


def write_numbers(numbers: dict[str, str], folder: str | Path | None = None) -> Path:
    """Write ``numbers.json`` (sorted, one number a line) and return its path."""
    from dlopt_core.course.lessons import default_lessons_dir

    path = Path(folder if folder is not None else default_lessons_dir()) / NUMBERS_FILE
    body = ",\n".join(
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in sorted(numbers.items())
    )
    path.write_text("{\n" + body + "\n}\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dlopt_core.course.lesson_numbers",
        description="Compute the numbers the lessons quote.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with numbers.json instead of writing it (exit 1 if stale)",
    )
    parser.add_argument("--list", action="store_true", help="list the demos and their numbers")
    args = parser.parse_args(argv)
    if args.list:
        stored = load_numbers()
        for demo in DEMOS:
            print(f"{demo.prefix}: {demo.what}")
            for name in sorted(n for n in stored if n.startswith(demo.prefix + ".")):
                print(f"    {{{{{name}}}}} = {stored[name]}")
        return 0
    numbers = compute_numbers()
    if args.check:
        stored = load_numbers()
        stale = sorted(n for n in set(numbers) | set(stored) if numbers.get(n) != stored.get(n))
        for name in stale:
            print(f"{name}: file {stored.get(name)!r}, engine {numbers.get(name)!r}")
        return 1 if stale else 0
    print(f"wrote {len(numbers)} numbers to {write_numbers(numbers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
