"""Rich text that renders the course's notation everywhere: letters with combining marks.

Many sans-serif fonts (DejaVu Sans, the Linux default, among them) place a combining mark such as
the hat of m̂ or v̂ a line above the letter, or drop it. Math letters are set in an italic serif
font anyway, and serif fonts position their marks: :func:`math_marks` wraps each marked letter
in such a font.
"""

from __future__ import annotations

import html
import re

# Fonts with wide Unicode coverage and positioned combining marks, first found wins.
MATH_FAMILIES = [
    "Cambria Math",
    "STIX Two Math",
    "Noto Serif",
    "DejaVu Serif",
    "Times New Roman",
    "serif",
]
_MARKED = re.compile(r"\w[\u0300-\u036f]+")


def sentence_start(text: str) -> str:
    """``text`` with a capital first letter, as a sentence or a button starts, unless that
    letter is a symbol of the notation: a Greek letter (κ, η, λ; their capitals Κ, Η, Λ are other
    symbols or none) stays as it is."""
    first = text[:1]
    if not first or "\u0370" <= first <= "\u03ff" or "\u1f00" <= first <= "\u1fff":
        return text
    return first.upper() + text[1:]


def families_css(names: list[str]) -> str:
    """A CSS font-family list: names with spaces quoted."""
    return ", ".join(f"'{n}'" if " " in n else n for n in names)


def math_marks(markup: str) -> str:
    """``markup`` (HTML) with every letter that carries combining marks set in an italic serif
    math font, where the marks sit on the letter."""
    style = f"font-family: {families_css(MATH_FAMILIES)}; font-style: italic"
    return _MARKED.sub(lambda m: f'<span style="{style}">{m.group(0)}</span>', markup)


def rich(text: str) -> str:
    """Plain ``text`` as rich text for a QLabel: escaped, with :func:`math_marks`."""
    return math_marks(html.escape(text)).replace("\n", "<br>")
