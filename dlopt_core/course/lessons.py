"""Lessons: Markdown files with a small header, their HTML, the presets they link to, and the
"What is optimization" lesson's search comparison.

A lesson file (``resources/lessons/*.md``) starts with a header between two ``---`` lines::

    ---
    id: basic_algorithms
    title: Basic algorithms
    order: 4
    presets: [compare_basic, valley_momentum]
    ---

``presets`` may also be written ``a, b`` or as ``- a`` lines below ``presets:``. The body is a
small Markdown subset (``markdown_to_html``): headings, paragraphs, ``**bold**``, ``*italic*``,
inline code, lists, fenced code blocks, ``>`` blocks (display formulas, one line each), simple
``| a | b |`` tables (first row the header), links, and the inline HTML tags ``<sub>``, ``<sup>``,
``<br>``, ``<b>``, ``<i>``, ``<em>``, ``<strong>``, ``<small>`` (any other HTML shows as text).
A link ``[Try it: label](preset:ID)`` opens a preset of ``resources/lessons/presets.json``.

Presets (``load_presets``) are named experiments for one of the app's tabs: ``playground`` (the
experiment), ``compare`` (the experiment trained with each of ``optimizers``) and ``landscape``
(``function`` of ``dlopt_core.studies.landscape`` raced by ``optimizers``, or ``situation``, a key
of ``landscape.paper_situations()``, trained and drawn as the shape of its loss; the experiment is
there for the network view).

Numbers a lesson or a preset description quotes from a demo are written as placeholders,
``{{name}}``, filled on loading from ``lessons/numbers.json`` (see
``dlopt_core.course.lesson_numbers``,
which computes them with the engine and keeps that file in step).
"""

from __future__ import annotations

import html
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dlopt_core.data import files

PRESET_TABS = ("playground", "compare", "landscape")
PRESET_PLOTS = ("sharpness",)  # optional Playground plots a preset may switch on
MAX_LESSON_BYTES = 2**20
HEADER_KEYS = ("id", "title", "order", "presets")
RESOURCES_ENV = "DLOPT_RESOURCES"
# keys of an optimizer entry that are not hyper-parameters
RUN_KEYS = ("label", "schedule", "clip_norm", "noise")
_SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")


class LessonError(ValueError):
    """A lesson or preset file that cannot be used; the message starts with the file name."""


# =================================================================================================
# Where the resources are
# =================================================================================================


def resources_dir() -> Path:
    """The folder holding ``quiz/`` and ``lessons/``.

    In order: ``$DLOPT_RESOURCES``; ``dlopt_core/resources`` (if the folder is ever moved into
    the package); ``resources/`` next to the package (a source checkout or an editable install);
    ``<sys.prefix>/share/dlopt/resources`` (installed as data files). The first that exists wins;
    the checkout's path is returned when none does.
    """
    env = os.environ.get(RESOURCES_ENV)
    here = Path(__file__).resolve().parents[1]  # the dlopt_core package
    candidates = [
        Path(env) if env else None,
        here / "resources",
        here.parent / "resources",
        Path(sys.prefix) / "share" / "dlopt" / "resources",
    ]
    for path in candidates:
        if path is not None and path.is_dir():
            return path
    return here.parent / "resources"


def default_lessons_dir() -> Path:
    return resources_dir() / "lessons"


def default_presets_path() -> Path:
    return default_lessons_dir() / "presets.json"


# =================================================================================================
# Lessons
# =================================================================================================


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
    if not _SLUG.match(header["id"]):
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


# =================================================================================================
# A small Markdown renderer (what QTextBrowser needs, nothing more)
# =================================================================================================

_ALLOWED_TAG = re.compile(r"&lt;(/?)(sub|sup|br|b|i|em|strong|small)\s*/?&gt;")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")  # closing #s are stripped after the match
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")


# (opener, closer, delimiter width, tag): **bold**, __bold__, *italic*, _italic_, in this order
_EMPHASIS = (
    (re.compile(r"(?=\*\*\S)"), re.compile(r"(?<=\S)(?=\*\*)"), 2, "b"),
    (re.compile(r"(?=__\S)"), re.compile(r"(?<=\S)(?=__)"), 2, "b"),
    (re.compile(r"(?<![\w*])(?=\*\S)"), re.compile(r"(?<=\S)(?=\*(?![\w*]))"), 1, "i"),
    (re.compile(r"(?<![\w_])(?=_\S)"), re.compile(r"(?<=\S)(?=_(?![\w_]))"), 1, "i"),
)


def _emphasis(text: str, opener: re.Pattern, closer: re.Pattern, width: int, tag: str) -> str:
    """Wrap each opener ... closer pair in ``<tag>``, as a left-to-right ``re.sub`` with a lazy
    ``(.+?)`` between them would, in linear time: every opener takes the first closer at least
    one character after it (the positions come from two passes over the text, so an opener
    without a closer costs nothing)."""
    closers = [m.start() for m in closer.finditer(text)]
    if not closers:
        return text
    out: list[str] = []
    pos = c = 0
    for match in opener.finditer(text):
        start = match.start()
        if start < pos:
            continue
        body = start + width
        while c < len(closers) and closers[c] < body + 1:
            c += 1
        if c == len(closers):
            break
        end = closers[c]
        out += [text[pos:start], f"<{tag}>", text[body:end], f"</{tag}>"]
        pos = end + width
    out.append(text[pos:])
    return "".join(out)


def _inline(text: str) -> str:
    """Inline Markdown of one block to HTML (text is escaped; a few tags pass through)."""
    stash: list[str] = []

    def keep(fragment: str) -> str:
        stash.append(fragment)
        return f"\x00{len(stash) - 1}\x00"

    text = re.sub(r"`([^`]+)`", lambda m: keep(f"<code>{html.escape(m.group(1))}</code>"), text)
    text = _LINK.sub(
        lambda m: keep(f'<a href="{html.escape(m.group(2))}">{_inline(m.group(1))}</a>'), text
    )
    text = html.escape(text, quote=False)
    text = _ALLOWED_TAG.sub(lambda m: f"<{m.group(1)}{m.group(2)}>", text)
    for opener, closer, width, tag in _EMPHASIS:
        text = _emphasis(text, opener, closer, width, tag)
    return re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], text)


def _table(rows: list[list[str]]) -> str:
    """A table whose first row is the header."""
    parts = []
    for r, cells in enumerate(rows):
        tag = "th" if r == 0 else "td"
        parts.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells) + "</tr>")
    return f'<table border="1" cellpadding="4" cellspacing="0">{"".join(parts)}</table>'


def markdown_to_html(markdown: str) -> str:
    """Render the lesson Markdown subset to an HTML fragment (see the module docstring)."""
    out: list[str] = []
    lines = markdown.splitlines()
    para: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if items:
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            out.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()
            list_tag = ""

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _FENCE.match(line):
            flush()
            fence = _FENCE.match(line).group(1)
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            i += 1
            continue
        heading = _HEADING.match(stripped)
        bullet = _BULLET.match(line)
        numbered = _NUMBERED.match(line)
        if not stripped:
            flush()
        elif items and line[:1].isspace() and not (bullet or numbered):
            # an indented line continues the list item, whatever it starts with: "|x| < 1" is
            # no table, "> 0" no quote, "# 2" no heading
            items[-1] += " " + stripped
        elif heading:
            flush()
            level = len(heading.group(1))
            title = heading.group(2).rstrip().rstrip("#").rstrip()
            out.append(f"<h{level}>{_inline(title)}</h{level}>")
        elif stripped.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            out.append(_table(rows))
            continue
        elif stripped.startswith(">"):
            flush()
            quoted = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quoted.append(_inline(lines[i].strip()[1:].strip()))
                i += 1
            out.append(f"<blockquote>{'<br>'.join(q for q in quoted if q)}</blockquote>")
            continue
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if para or (items and tag != list_tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1).strip())
        else:
            if items:
                flush()
            para.append(stripped)
        i += 1
    flush()
    return "\n".join(out)


# =================================================================================================
# Presets
# =================================================================================================


@dataclass(frozen=True)
class Preset:
    """A named experiment for one tab of the app.

    experiment: a dict for ``Experiment.from_dict``; optimizers: optimizer dicts (``name``, its
    hyper-parameters, optional ``label``, ``schedule`` dict, and for the landscape ``clip_norm``
    and ``noise``); function, function_params, start, steps: the landscape race. A compare
    preset may set steps (the race's length; 0: the tab's own) and target (the validation loss
    whose first crossing the race times; 0: none), as a quiz question's race does. A playground
    preset may name optional plots to show (``PRESET_PLOTS``: "sharpness").
    """

    id: str
    title: str
    tab: str
    description: str
    experiment: Mapping[str, Any]
    optimizers: tuple[Mapping[str, Any], ...] = ()
    function: str = ""
    function_params: Mapping[str, Any] = field(default_factory=dict)
    start: tuple[float, float] | None = None
    steps: int = 0
    situation: str = ""
    target: float = 0.0
    plots: tuple[str, ...] = ()

    def build_experiment(self):
        """The validated ``Experiment``."""
        from dlopt_core.train.experiment import Experiment

        return Experiment.from_dict(self.experiment)

    def model_specs(self) -> list:
        """``ModelSpec`` per optimizer entry (compare tab); the experiment's own one if none."""
        if not self.optimizers:
            exp = self.build_experiment()
            from dlopt_core.train.engine import ModelSpec

            return [ModelSpec(exp.optimizer, exp.schedule)]
        return model_specs(self.optimizers)


def _short(value: Any) -> str:
    """``repr(value)`` cut to 60 characters, for messages about values from a file."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def optimizer_entry(entry: Mapping[str, Any]):
    """``(Optimizer, Schedule | None, label)`` of one optimizer dict; ``ValueError`` if bad."""
    from dlopt_core.train.optimizers import optimizer_from_dict
    from dlopt_core.train.schedules import make_schedule

    optimizer = optimizer_from_dict(entry, ignore=RUN_KEYS)
    schedule = None
    if entry.get("schedule") is not None:
        sched = entry["schedule"]
        if not isinstance(sched, Mapping):
            raise ValueError(f"schedule must be an object, got {_short(sched)}")
        params = dict(sched)
        schedule = make_schedule(params.pop("name", "constant"), **params)
    for key in ("clip_norm", "noise"):
        value = entry.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"{key} must be a number >= 0, got {_short(value)}")
    label = entry.get("label", "")
    if not isinstance(label, str):
        raise ValueError(f"label must be a string, got {_short(label)}")
    return optimizer, schedule, label or optimizer.name


def model_specs(entries: Iterable[Mapping[str, Any]]) -> list:
    """``ModelSpec`` per optimizer dict (see ``optimizer_entry``)."""
    from dlopt_core.train.engine import ModelSpec
    from dlopt_core.train.schedules import constant

    specs = []
    for entry in entries:
        optimizer, schedule, label = optimizer_entry(entry)
        specs.append(ModelSpec(optimizer, schedule or constant(), label=label))
    return specs


def _preset(pid: str, raw: Any, where: str) -> Preset:
    from dlopt_core.train.experiment import Experiment, ExperimentError

    def fail(problem: str) -> LessonError:
        return LessonError(f"{where}: preset {pid!r}: {problem}")

    if not _SLUG.match(pid):
        raise fail("the id must be lower case letters, digits, '_' or '-'")
    if not isinstance(raw, Mapping):
        raise fail("expected an object {...}")
    allowed = {
        "title",
        "tab",
        "description",
        "experiment",
        "optimizers",
        "function",
        "function_params",
        "start",
        "steps",
        "situation",
        "plots",
    }
    extra = sorted(set(raw) - allowed)
    if extra:
        raise fail(f"unknown key {extra[0]!r}; allowed keys are {', '.join(sorted(allowed))}")
    tab = raw.get("tab")
    if tab not in PRESET_TABS:
        raise fail(f"tab must be one of {', '.join(PRESET_TABS)}, got {_short(tab)}")
    for key in ("title", "description"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise fail(f"{key} must be a non-empty string")
    situation = raw.get("situation", "")
    if situation:
        from dlopt_core.studies.landscape import paper_situations

        known = paper_situations()
        if tab != "landscape" or not isinstance(situation, str) or situation not in known:
            raise fail(
                f"situation must name one of {', '.join(known)} in a landscape preset, "
                f"got {situation!r}"
            )
        if any(k in raw for k in ("function", "function_params", "start", "steps")):
            raise fail("a situation preset takes no function, function_params, start or steps")
    experiment = raw.get("experiment")
    if situation and experiment is None:  # the situation's own, for the network view
        own = getattr(known[situation], "experiment_dict", None)  # the LSTM has none
        experiment = own() if own is not None else {}
    try:
        Experiment.from_dict(experiment)
    except ExperimentError as exc:
        raise fail(f"experiment: {exc}") from None
    optimizers = raw.get("optimizers", [])
    if not isinstance(optimizers, list):
        raise fail("optimizers must be a list of optimizer objects")
    for i, entry in enumerate(optimizers):
        try:
            optimizer_entry(entry)
        except ValueError as exc:
            raise fail(f"optimizers[{i}]: {exc}") from None
    if tab == "compare" and len(optimizers) < 2:
        raise fail("a compare preset needs at least two optimizers")
    function, params, start, steps = "", {}, None, 0
    if tab == "landscape" and not situation:
        from dlopt_core.studies.landscape import get_function

        function = raw.get("function", "")
        params = raw.get("function_params", {})
        if not isinstance(params, Mapping):
            raise fail("function_params must be an object")
        if not isinstance(function, str):
            raise fail(f"function must be a name, got {_short(function)}")
        try:
            fn = get_function(function, **params)
        except (ValueError, TypeError) as exc:
            raise fail(f"function: {exc}") from None
        if not optimizers:
            raise fail("a landscape preset needs at least one optimizer")
        start = raw.get("start", list(fn.default_start))
        if not (
            isinstance(start, list | tuple)
            and len(start) == 2
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in start
            )
        ):
            raise fail(f"start must be a list of two numbers, got {_short(start)}")
        start = tuple(start)
        steps = raw.get("steps", 200)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 100_000:
            raise fail(f"steps must be an integer from 1 to 100000, got {_short(steps)}")
    elif tab != "landscape" and any(
        k in raw for k in ("function", "function_params", "start", "steps")
    ):
        raise fail("function, function_params, start and steps belong to landscape presets")
    plots = raw.get("plots", [])
    if not (isinstance(plots, list) and all(p in PRESET_PLOTS for p in plots)):
        raise fail(f"plots must be a list of {', '.join(PRESET_PLOTS)}, got {_short(plots)}")
    if plots and tab != "playground":
        raise fail("plots belong to playground presets")
    return Preset(
        pid,
        raw["title"],
        tab,
        raw["description"],
        dict(experiment),
        tuple(dict(o) for o in optimizers),
        function,
        dict(params),
        tuple(float(v) for v in start) if start else None,
        int(steps),
        situation,
        plots=tuple(plots),
    )


def load_presets(path: str | Path | None = None) -> dict[str, Preset]:
    """The presets file (default: the shipped one) as ``{id: Preset}``.

    The file is ``{"version": 1, "presets": {id: {...}}}``; a problem raises ``LessonError``
    naming the file and the preset.
    """
    path = Path(path) if path is not None else default_presets_path()
    raw = files.load_json(path, LessonError, source=path.name)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("presets"), Mapping):
        raise LessonError(f'{path.name}: expected {{"version": 1, "presets": {{...}}}}')
    presets = {pid: _preset(pid, value, path.name) for pid, value in raw["presets"].items()}
    from dlopt_core.course.lesson_numbers import fill_numbers

    return {
        pid: replace(
            p, description=fill_numbers(p.description, f"{path.name}: preset {pid!r}", path.parent)
        )
        for pid, p in presets.items()
    }


# =================================================================================================
# What is optimization: grid search, random search and gradient descent on one function
# =================================================================================================


@dataclass(frozen=True)
class _Function2D:
    title: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[float, float], tuple[float, float]]
    domain: tuple[tuple[float, float], tuple[float, float]]
    minimum: float
    start: tuple[float, float]
    lr: float


def _booth() -> _Function2D:
    def f(x, y):
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def grad(x, y):
        p, q = x + 2 * y - 7, 2 * x + y - 5
        return 2 * p + 4 * q, 4 * p + 2 * q

    # Hessian [[10, 8], [8, 10]]: eigenvalues 2 and 18, so lr = 1/18 is the classic 1/L step
    return _Function2D(
        "Booth: (x + 2y − 7)² + (2x + y − 5)², minimum 0 at (1, 3)",
        f,
        grad,
        ((-10.0, 10.0), (-10.0, 10.0)),
        0.0,
        (-8.0, 8.0),
        1.0 / 18.0,
    )


def _bowl() -> _Function2D:
    a, b = 1.3, -0.7

    def f(x, y):
        return (x - a) ** 2 + 5 * (y - b) ** 2

    def grad(x, y):
        return 2 * (x - a), 10 * (y - b)

    return _Function2D(
        "Bowl: (x − 1.3)² + 5 (y + 0.7)², minimum 0 at (1.3, −0.7)",
        f,
        grad,
        ((-10.0, 10.0), (-10.0, 10.0)),
        0.0,
        (-8.0, 8.0),
        0.1,
    )


def _himmelblau() -> _Function2D:
    def f(x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def grad(x, y):
        p, q = x**2 + y - 11, x + y**2 - 7
        return 4 * x * p + 2 * q, 2 * p + 4 * y * q

    return _Function2D(
        "Himmelblau: (x² + y − 11)² + (x + y² − 7)², four minima of value 0",
        f,
        grad,
        ((-5.0, 5.0), (-5.0, 5.0)),
        0.0,
        (0.0, 0.0),
        0.01,
    )


SEARCH_FUNCTIONS: dict[str, Callable[[], _Function2D]] = {
    "booth": _booth,
    "bowl": _bowl,
    "himmelblau": _himmelblau,
}
SEARCH_NOTE = (
    "Evaluations count every computation of f and every computation of ∇f (so one gradient "
    "descent step costs 2). Grid search: the size k² of the first grid of k = 2ʲ + 1 points per "
    "axis whose best point is within the tolerance (coarser grids tried first are not counted). "
    "Random search: uniform samples over the same square until one is within the tolerance. "
    "Gradient descent: θ ← θ − η ∇f(θ) from a fixed start with a fixed step η."
)


@dataclass(frozen=True)
class SearchResult:
    """One method of the comparison: evaluations used and what it found."""

    method: str  # "grid", "random" or "gradient"
    label: str
    evaluations: int  # evaluations until within the tolerance, or the whole budget if never
    reached: bool
    best_value: float
    best_point: tuple[float, float]
    #: The progress curve: after ``trace_evals[i]`` evaluations the best value found is
    #: ``minimum + trace_gap[i]``. It holds the points where the best value improved (thinned to
    #: at most ``TRACE_POINTS``, always keeping the first and last), so it falls step by step.
    trace_evals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False)
    trace_gap: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False)


@dataclass(frozen=True)
class SearchComparison:
    """``search_comparison``'s result: the function, the tolerance and one row per method."""

    function: str
    title: str
    minimum: float
    tol: float
    results: tuple[SearchResult, ...]
    note: str = SEARCH_NOTE

    def rows(self) -> list[tuple[str, str, str]]:
        """``(method, evaluations, best value)`` as text, for a table."""
        out = []
        for r in self.results:
            evals = f"{r.evaluations:,}" if r.reached else f"> {r.evaluations:,} (not reached)"
            out.append((r.label, evals, f"{r.best_value:.3g}"))
        return out


TRACE_POINTS = 400


class _Trace:
    """Collects (evaluations, best value so far) where the best value improves."""

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum
        self.evals: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.best = math.inf

    def add(self, evals: np.ndarray, values: np.ndarray) -> None:
        """Candidates in evaluation order; keeps those that beat every earlier one."""
        values = np.asarray(values, dtype=float)
        running = np.minimum.accumulate(np.concatenate(([self.best], values)))[1:]
        previous = np.concatenate(([self.best], running[:-1]))
        better = running < previous
        if better.any():
            self.evals.append(np.asarray(evals, dtype=np.int64)[better])
            self.values.append(running[better])
            self.best = float(running[-1])

    def result(
        self,
        method: str,
        label: str,
        evaluations: int,
        reached: bool,
        best: float,
        point: tuple[float, float],
    ) -> SearchResult:
        ev = np.concatenate(self.evals) if self.evals else np.zeros(0, np.int64)
        gap = np.concatenate(self.values) - self.minimum if self.values else np.zeros(0)
        if len(ev) and ev[-1] != evaluations:  # the budget ran out after the last improvement
            ev, gap = np.append(ev, evaluations), np.append(gap, gap[-1])
        if len(ev) > TRACE_POINTS:  # thin evenly in log(evaluations), keeping both ends
            marks = np.unique(
                np.searchsorted(ev, np.geomspace(ev[0], ev[-1], TRACE_POINTS), side="left")
            )
            keep = np.unique(np.concatenate(([0], np.minimum(marks, len(ev) - 1), [len(ev) - 1])))
            ev, gap = ev[keep], gap[keep]
        return SearchResult(method, label, evaluations, reached, best, point, ev, gap)


def _grid_search(fn: _Function2D, goal: float, max_level: int) -> SearchResult:
    (x0, x1), (y0, y1) = fn.domain
    best, point, k = math.inf, (math.nan, math.nan), 0
    trace = _Trace(fn.minimum)
    for level in range(1, max_level + 1):
        k = 2**level + 1
        xs, ys = np.linspace(x0, x1, k), np.linspace(y0, y1, k)
        Z = fn.f(xs[None, :], ys[:, None])
        r, c = np.unravel_index(int(np.argmin(Z)), Z.shape)
        best, point = float(Z[r, c]), (float(xs[c]), float(ys[r]))
        trace.add(np.array([k * k]), np.array([best]))
        if best <= goal:
            return trace.result("grid", "Grid search", k * k, True, best, point)
    return trace.result("grid", "Grid search", k * k, False, best, point)


def _random_search(fn: _Function2D, goal: float, budget: int, seed: int) -> SearchResult:
    (x0, x1), (y0, y1) = fn.domain
    rng = np.random.default_rng(seed)
    best, point, used = math.inf, (math.nan, math.nan), 0
    trace = _Trace(fn.minimum)
    chunk = 65_536
    while used < budget:
        n = min(chunk, budget - used)
        x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        z = fn.f(x, y)
        hits = np.flatnonzero(z <= goal)
        upto = int(hits[0]) + 1 if hits.size else n
        trace.add(np.arange(used + 1, used + upto + 1), z[:upto])
        if hits.size:
            i = int(hits[0])
            return trace.result(
                "random",
                "Random search",
                used + i + 1,
                True,
                float(z[i]),
                (float(x[i]), float(y[i])),
            )
        i = int(np.argmin(z))
        if z[i] < best:
            best, point = float(z[i]), (float(x[i]), float(y[i]))
        used += n
    return trace.result("random", "Random search", used, False, best, point)


def _gradient_descent(fn: _Function2D, goal: float, budget: int) -> SearchResult:
    x, y = fn.start
    evaluations = 0
    best, point = math.inf, (x, y)
    counts: list[int] = []
    values: list[float] = []
    trace = _Trace(fn.minimum)
    reached = False
    while evaluations < budget:
        value = float(fn.f(x, y))
        evaluations += 1
        counts.append(evaluations)
        values.append(value)
        if value < best:
            best, point = value, (x, y)
        if value <= goal:
            reached = True
            break
        gx, gy = fn.grad(x, y)
        evaluations += 1
        x, y = x - fn.lr * gx, y - fn.lr * gy
        if not (math.isfinite(x) and math.isfinite(y)):
            break
    trace.add(np.array(counts), np.array(values))
    return trace.result("gradient", "Gradient descent", evaluations, reached, best, point)


def search_comparison(
    function_name: str = "booth",
    tol: float = 1e-4,
    seed: int = 0,
    *,
    budget: int = 1_000_000,
    max_grid_level: int = 10,
) -> SearchComparison:
    """Evaluations grid search, random search and gradient descent need to get within ``tol`` of
    the minimum value of a 2-D function (``booth``, ``bowl`` or ``himmelblau``).

    How evaluations are counted is in ``SEARCH_NOTE``. Random search and gradient descent stop
    after ``budget`` evaluations, grid search after grids of 2^max_grid_level + 1 points per axis;
    a method that never gets close enough is reported with ``reached=False``. The search squares
    are chosen so that no grid lands exactly on a minimum by luck. ``seed`` seeds random search.
    """
    if function_name not in SEARCH_FUNCTIONS:
        raise ValueError(
            f"unknown function {function_name!r}; choose one of {', '.join(SEARCH_FUNCTIONS)}"
        )
    if not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    fn = SEARCH_FUNCTIONS[function_name]()
    goal = fn.minimum + tol
    results = (
        _grid_search(fn, goal, max_grid_level),
        _random_search(fn, goal, budget, seed),
        _gradient_descent(fn, goal, budget),
    )
    return SearchComparison(function_name, fn.title, fn.minimum, float(tol), results)


def search_table(comparisons: Sequence[SearchComparison]) -> str:
    """Plain-text table of one or more comparisons (for a terminal or a log)."""
    lines = []
    for comp in comparisons:
        lines.append(f"{comp.title}; tolerance {comp.tol:g}")
        for label, evals, best in comp.rows():
            lines.append(f"  {label:<18} {evals:>28}   best f = {best}")
    return "\n".join(lines)
