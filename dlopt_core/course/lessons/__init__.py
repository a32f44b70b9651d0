"""Lessons: Markdown files with a small header, their HTML, the presets they link to, and the
"What is optimization" lesson's search comparison. ``dl.lessons`` gathers the names of its
modules:

- ``loading``: lesson files and their header (``load_lessons``, ``parse_front_matter``);
- ``markdown``: the body rendered by markdown-it-py behind a link and tag allow-list
  (``markdown_to_html``);
- ``presets``: the named experiments lessons link to (``load_presets``, ``Preset``);
- ``search``: grid search, random search and gradient descent compared (``search_comparison``).
"""

from dlopt_core.course.lessons.loading import (
    HEADER_KEYS,
    MAX_LESSON_BYTES,
    SLUG,
    Lesson,
    LessonError,
    default_lessons_dir,
    default_presets_path,
    load_lesson,
    load_lessons,
    parse_front_matter,
    preset_links,
)
from dlopt_core.course.lessons.markdown import (
    ALLOWED_TAGS,
    LINK_PREFIXES,
    markdown_to_html,
)
from dlopt_core.course.lessons.presets import (
    PRESET_PLOTS,
    PRESET_TABS,
    RUN_KEYS,
    Preset,
    load_presets,
    model_specs,
    optimizer_entry,
)
from dlopt_core.course.lessons.search import (
    SEARCH_FUNCTIONS,
    SEARCH_NOTE,
    TRACE_POINTS,
    SearchComparison,
    SearchProblem,
    SearchResult,
    search_comparison,
    search_table,
)
from dlopt_core.data.resources import RESOURCES_ENV, resources_dir

__all__ = [
    "RESOURCES_ENV",
    "resources_dir",
    "ALLOWED_TAGS",
    "HEADER_KEYS",
    "LINK_PREFIXES",
    "Lesson",
    "LessonError",
    "MAX_LESSON_BYTES",
    "PRESET_PLOTS",
    "PRESET_TABS",
    "Preset",
    "RUN_KEYS",
    "SEARCH_FUNCTIONS",
    "SEARCH_NOTE",
    "SLUG",
    "SearchComparison",
    "SearchProblem",
    "SearchResult",
    "TRACE_POINTS",
    "default_lessons_dir",
    "default_presets_path",
    "load_lesson",
    "load_lessons",
    "load_presets",
    "markdown_to_html",
    "model_specs",
    "optimizer_entry",
    "parse_front_matter",
    "preset_links",
    "search_comparison",
    "search_table",
]
