"""Lesson Markdown to the HTML a ``QTextBrowser`` shows, by markdown-it-py (CommonMark with GFM
tables), behind an allow-list.

What this module adds to the renderer is the allow-list and the house style, nothing else:

- links: only ``preset:``, ``lesson:``, ``https:``, ``http:``, ``mailto:`` and ``#anchor``
  targets become links (the Learn tab opens each); any other target stays text; no images;
- raw HTML is shown as text, except the inline tags ``<sub>``, ``<sup>``, ``<br>``, ``<b>``,
  ``<i>``, ``<em>``, ``<strong>``, ``<small>`` (formulas need them);
- ``**bold**`` and ``*italic*`` render as ``<b>`` and ``<i>``, a soft line break as a space, and
  each line of a ``>`` block (a display formula) on a line of its own;
- block tags follow each other without line breaks (``QTextBrowser`` would keep them as spaces).

markdown-it parses in time linear in the input, so a hostile lesson cannot stall the app.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = ("sub", "sup", "br", "b", "i", "em", "strong", "small")
LINK_PREFIXES = ("preset:", "lesson:", "https:", "http:", "mailto:", "#")
_ALLOWED_TAG = re.compile(r"&lt;(/?)(" + "|".join(ALLOWED_TAGS) + r")\s*/?&gt;")
_BETWEEN_TAGS = re.compile(r">\n+<")


def _allowed_link(url: str) -> bool:
    return url.strip().lower().startswith(LINK_PREFIXES)


def _escape_with_tags(text: str) -> str:
    """Text escaped for HTML, with the allowed inline tags put back."""
    return _ALLOWED_TAG.sub(lambda m: f"<{m.group(1)}{m.group(2)}>", html.escape(text, False))


def _text(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return _escape_with_tags(tokens[idx].content)


def _softbreak(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "<br>" if env.get("quote_depth", 0) else " "


def _fence(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f"<pre><code>{html.escape(tokens[idx].content.rstrip(chr(10)))}</code></pre>"


_Rule = Callable[[Sequence[Token], int, OptionsDict, EnvType], str]


def _tag(name: str, depth: int = 0) -> _Rule:
    """A render rule writing ``<name>`` (or ``</name>``), and counting blockquote depth."""

    def rule(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if depth:
            env["quote_depth"] = env.get("quote_depth", 0) + depth
        return f"<{name}>"

    return rule


def _table_open(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return '<table border="1" cellpadding="4" cellspacing="0">'


def _nothing(tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return ""


def _quote_paragraphs(state: Any) -> None:
    """Paragraphs inside a ``>`` block render bare: the block is one display formula per line."""
    depth = 0
    for token in state.tokens:
        if token.type == "blockquote_open":
            depth += 1
        elif token.type == "blockquote_close":
            depth -= 1
        elif depth and token.type in ("paragraph_open", "paragraph_close"):
            token.hidden = True


class _LessonMarkdown(MarkdownIt):
    """CommonMark with tables whose links pass the allow-list."""

    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        return _allowed_link(url)


def _make_renderer() -> MarkdownIt:
    md = _LessonMarkdown("commonmark", {"html": False, "linkify": False}).enable("table")
    md.disable("image")  # no <img>: "![a](b)" stays "!" and a link, as it always did
    md.core.ruler.push("quote_paragraphs", _quote_paragraphs)
    assert isinstance(md.renderer, RendererHTML)
    rules: dict[str, Any] = md.renderer.rules
    rules["text"] = _text
    rules["softbreak"] = _softbreak
    rules["fence"] = _fence
    rules["code_block"] = _fence
    rules["strong_open"], rules["strong_close"] = _tag("b"), _tag("/b")
    rules["em_open"], rules["em_close"] = _tag("i"), _tag("/i")
    rules["blockquote_open"] = _tag("blockquote", +1)
    rules["blockquote_close"] = _tag("/blockquote", -1)
    rules["table_open"] = _table_open
    for part in ("thead", "tbody"):
        rules[f"{part}_open"] = rules[f"{part}_close"] = _nothing
    rules["th_open"], rules["td_open"] = _tag("th"), _tag("td")  # no alignment attributes
    return md


_MD = _make_renderer()


def markdown_to_html(markdown: str) -> str:
    """Render lesson Markdown (CommonMark with tables) to an HTML fragment, behind the
    allow-list of the module docstring."""
    out = _MD.render(markdown, {})
    return _BETWEEN_TAGS.sub("><", out).strip()
