"""Lessons: the shipped lessons and presets, the Markdown renderer, header errors, and the search
comparison of the "What is optimization" lesson."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from dlopt_core.course.lessons import (
    PRESET_TABS,
    SEARCH_FUNCTIONS,
    TRACE_POINTS,
    LessonError,
    load_lessons,
    load_presets,
    markdown_to_html,
    parse_front_matter,
    search_comparison,
)
from dlopt_core.course.lessons.search import _Trace
from dlopt_core.course.quiz import TOPICS
from dlopt_core.studies import landscape
from dlopt_core.train.experiment import Experiment


@pytest.fixture(scope="module")
def lessons():
    return load_lessons()


@pytest.fixture(scope="module")
def presets():
    return load_presets()


# -- the shipped lessons -------------------------------------------------------------------------


def test_lessons_load_sorted_by_order_one_per_part(lessons):
    assert 6 <= len(lessons) <= 7
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)
    assert len({lesson.id for lesson in lessons}) == len(lessons)
    assert {lesson.id for lesson in lessons} == set(TOPICS)  # one lesson per quiz topic
    for lesson in lessons:
        words = len(re.findall(r"\w+", lesson.markdown))
        assert 300 <= words <= 1800, (lesson.id, words)  # read in a quarter of an hour
        assert lesson.title and lesson.html.startswith("<h1>")


def test_every_lesson_ends_with_try_it_links_to_existing_presets(lessons, presets):
    for lesson in lessons:
        links = lesson.links
        assert links, lesson.id
        assert all(label.startswith("Try it:") for label, _ in links)
        assert {pid for _, pid in links} <= set(lesson.presets) <= set(presets), lesson.id
        last_heading = lesson.markdown.rfind("\n## ")
        assert "preset:" in lesson.markdown[last_heading:], lesson.id
        assert 'href="preset:' in lesson.html


def test_lessons_use_unicode_formulas_not_latex(lessons):
    for lesson in lessons:
        text = lesson.markdown
        assert "\\frac" not in text and "$$" not in text, lesson.id
        assert not re.search(r"\\[a-zA-Z]+", text), lesson.id
        assert "$" not in text, lesson.id
    rules = "\n".join(lesson.markdown for lesson in lessons)
    for formula in ("b ← μ b + g", "θ ← θ − η b", "r ← r + g²", "θ ← θ − η ∇f(θ)"):
        assert formula in rules


def test_presets_validate(presets):
    assert presets
    for pid, preset in presets.items():
        assert preset.tab in PRESET_TABS
        exp = Experiment.from_dict(preset.experiment)
        assert exp == preset.build_experiment()
        specs = preset.model_specs()
        assert specs, pid
        if preset.tab == "compare":
            assert len(specs) >= 2
        if preset.tab == "landscape" and preset.situation:  # the shape of a network's loss
            assert preset.situation in landscape.paper_situations() and not preset.function
        elif preset.tab == "landscape":
            fn = landscape.get_function(preset.function, **preset.function_params)
            assert preset.start is not None and preset.steps > 0
            assert fn.name == preset.function


def test_a_lesson_preset_trains_quickly(presets):
    preset = presets["compare_basic"]
    _, _, engine = preset.build_experiment().build(models=preset.model_specs())
    engine.run(100)
    assert engine.n_models == 3 and engine.step == 100


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_headings_paragraphs_and_inline_markup():
    html = markdown_to_html(
        "# Title\n\nSome **bold** and *italic* and `x < y` text,\n"
        "continued here with θ<sub>t</sub>.\n\n### Small"
    )
    assert "<h1>Title</h1>" in html and "<h3>Small</h3>" in html
    assert "<p>Some <b>bold</b> and <i>italic</i> and <code>x &lt; y</code> text, continued" in html
    assert "θ<sub>t</sub>" in html


def test_markdown_lists_links_and_preset_links():
    html = markdown_to_html(
        "Intro:\n\n- one\n- [Try it: go](preset:compare_basic) — watch\n"
        "  the curve\n\n1. first\n2. second [docs](https://example.org)"
    )
    assert (
        '<ul><li>one</li><li><a href="preset:compare_basic">Try it: go</a> — watch the '
        "curve</li></ul>" in html
    )
    assert '<ol><li>first</li><li>second <a href="https://example.org">docs</a></li></ol>' in html


def test_an_indented_line_inside_a_list_continues_its_item():
    """CommonMark: an indented line continues the item's text; pipes make a table only with a
    delimiter row, so "|1 − η λ| < 1" stays text, and a "> 0" that is no quote is escaped."""
    html = markdown_to_html(
        "- the rate shrinks the error when\n  |1 − η λ| < 1 for every λ\n"
        "  \\> 0, that is 2 / η > λmax\n- next | item\n\n| a | b |\n"
        "|---|---|\n| 1 | 2 |"
    )
    assert (
        "<ul><li>the rate shrinks the error when |1 − η λ| &lt; 1 for every λ &gt; 0, that "
        "is 2 / η &gt; λmax</li><li>next | item</li></ul>"
    ) in html
    assert html.count("<table") == 1 and "<blockquote>" not in html and "<h1>" not in html
    # after a blank line an indented table is a table inside the item
    assert "<table" in markdown_to_html("- item\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |")


def test_links_only_to_what_the_learn_tab_opens():
    """The allow-list: preset, lesson, web and mail links and anchors; any other target (a
    script, a local file, a relative path) stays text."""
    for target in ("preset:a", "lesson:b", "https://x.org", "http://x.org", "mailto:a@b.c", "#s"):
        assert f'<a href="{target}">go</a>' in markdown_to_html(f"[go]({target})"), target
    for target in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "c"):
        html = markdown_to_html(f"[go]({target})")
        assert "<a " not in html and "go" in html, target
    assert "<img" not in markdown_to_html("![a picture](https://x.org/a.png)")


def test_markdown_code_blocks_quotes_tables_and_escaping():
    html = markdown_to_html(
        "```\na < b **not bold**\n```\n\n> v ← μ v + g\n> θ ← θ − η v\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>x</script> snake_case_name"
    )
    assert "<pre><code>a &lt; b **not bold**</code></pre>" in html
    assert "<blockquote>v ← μ v + g<br>θ ← θ − η v</blockquote>" in html
    assert "<tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr>" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "snake_case_name" in html and "<i>" not in html


# -- header errors --------------------------------------------------------------------------------


def lesson_text(header: str, body: str = "# Hi\n\nText.\n") -> str:
    return f"---\n{header}\n---\n{body}"


def test_front_matter_forms():
    header, body = parse_front_matter(
        lesson_text("id: a\ntitle: A\norder: 2\npresets:\n  - p1\n  - p2")
    )
    assert header == {"id": "a", "title": "A", "order": 2, "presets": ("p1", "p2")}
    assert body.startswith("# Hi")
    header, _ = parse_front_matter(lesson_text("id: a\ntitle: A\norder: 1\npresets: p1, p2"))
    assert header["presets"] == ("p1", "p2")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("# no header\n", "must start with"),
        ("---\nid: a\ntitle: A\norder: 1\n", "no closing"),
        (lesson_text("title: A\norder: 1"), "no 'id:'"),
        (lesson_text("id: a\ntitle: A\norder: first"), "order must be an integer"),
        (lesson_text("id: a\ntitle: A\norder: 1\nauthor: me"), "unknown key 'author'"),
        (lesson_text("id: a\ntitle: A\norder: 1\njust words"), "expected 'key: value'"),
    ],
)
def test_header_errors_name_the_file(tmp_path, text, problem):
    (tmp_path / "good.md").write_text(lesson_text("id: good\ntitle: Good\norder: 1"))
    (tmp_path / "broken.md").write_text(text)
    with pytest.raises(LessonError, match=f"^broken.md: .*{re.escape(problem)}"):
        load_lessons(tmp_path)
    errors: list[str] = []
    assert [lesson.id for lesson in load_lessons(tmp_path, errors)] == ["good"]
    assert len(errors) == 1 and errors[0].startswith("broken.md:")


def test_duplicate_lesson_ids_are_refused(tmp_path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(lesson_text("id: same\ntitle: T\norder: 1"))
    with pytest.raises(LessonError, match="b.md: id 'same' is already used by a.md"):
        load_lessons(tmp_path)


def test_bad_presets_are_reported_with_file_and_preset(tmp_path):
    path = tmp_path / "presets.json"
    base = {"title": "T", "description": "D", "tab": "playground", "experiment": {}}
    for change, problem in [
        ({"tab": "elsewhere"}, "tab must be one of"),
        ({"experiment": {"data": {"kind": "nope"}}}, "experiment: data.kind"),
        ({"tab": "compare", "optimizers": [{"name": "sgd"}]}, "at least two optimizers"),
        (
            {"tab": "landscape", "function": "nope", "optimizers": [{"name": "sgd"}]},
            "unknown test function",
        ),
        ({"optimizers": [{"name": "sgd", "lr": -1}]}, "optimizers[0]"),
        ({"tab": "landscape", "situation": "lstm_in_space"}, "situation must name one of"),
        ({"tab": "playground", "situation": "relu_net"}, "situation must name one of"),
        (
            {"tab": "landscape", "situation": "relu_net", "function": "booth"},
            "a situation preset takes no function",
        ),
        ({"plots": ["curvature"]}, "plots must be a list of sharpness"),
        ({"plots": "sharpness"}, "plots must be a list of sharpness"),
        (
            {
                "tab": "compare",
                "optimizers": [{"name": "sgd"}, {"name": "adam"}],
                "plots": ["sharpness"],
            },
            "plots belong to playground presets",
        ),
    ]:
        path.write_text(json.dumps({"version": 1, "presets": {"p1": {**base, **change}}}))
        with pytest.raises(
            LessonError, match=f"^presets.json: preset 'p1': .*{re.escape(problem)}"
        ):
            load_presets(path)


def test_a_situation_preset_trains_the_paper_situation(tmp_path):
    path = tmp_path / "presets.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "presets": {
                    "line": {
                        "title": "T",
                        "description": "D",
                        "tab": "landscape",
                        "situation": "deep_linear",
                    }
                },
            }
        )
    )
    preset = load_presets(path)["line"]
    assert preset.situation == "deep_linear" and not preset.function and not preset.optimizers
    situation = landscape.paper_situations()["deep_linear"]
    assert preset.experiment == situation.experiment_dict()  # for the network view


# -- search comparison ----------------------------------------------------------------------------


def test_gradient_descent_beats_grid_search_at_a_tight_tolerance():
    comp = search_comparison("booth", tol=1e-6, seed=0)
    rows = {r.method: r for r in comp.results}
    assert set(rows) == {"grid", "random", "gradient"}
    gd, grid = rows["gradient"], rows["grid"]
    assert gd.reached and gd.best_value <= 1e-6
    assert gd.evaluations < grid.evaluations
    assert gd.evaluations < rows["random"].evaluations
    assert len(comp.rows()) == 3


def test_search_comparison_at_a_loose_tolerance_and_bad_input():
    comp = search_comparison("bowl", tol=0.01, seed=1)
    assert all(r.reached and r.best_value <= 0.01 for r in comp.results)
    assert comp.results[0].evaluations == 257**2  # the first dyadic grid fine enough
    for name in ("booth", "himmelblau"):
        assert search_comparison(name, tol=1.0).results[2].reached
    with pytest.raises(ValueError, match="unknown function"):
        search_comparison("nope")
    with pytest.raises(ValueError, match="tol"):
        search_comparison("booth", tol=0)


def test_search_traces_record_every_improvement_of_the_best_value():
    """Replayed independently: the running minimum of the values each method saw, at the
    evaluations where it dropped, ending where the method stopped."""
    tol = 0.1
    comp = search_comparison("booth", tol=tol, seed=3)
    fn = SEARCH_FUNCTIONS["booth"]()
    rows = {r.method: r for r in comp.results}

    rng = np.random.default_rng(3)
    (x0, x1), (y0, y1) = fn.domain
    x, y = rng.uniform(x0, x1, 65_536), rng.uniform(y0, y1, 65_536)
    z = (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2  # Booth, written out
    n = rows["random"].evaluations
    assert n < 65_536 and z[n - 1] <= tol and (z[: n - 1] > tol).all()
    drops = [i for i in range(n) if z[i] < z[:i].min(initial=np.inf)]
    np.testing.assert_array_equal(rows["random"].trace_evals, np.array(drops) + 1)
    np.testing.assert_allclose(rows["random"].trace_gap, z[drops])

    gd = rows["gradient"]  # f then ∇f each step: values at evaluations 1, 3, 5, ...
    px, py, values = *fn.start, []
    for _ in range((gd.evaluations + 1) // 2):
        values.append((px + 2 * py - 7) ** 2 + (2 * px + py - 5) ** 2)
        gx = 2 * (px + 2 * py - 7) + 4 * (2 * px + py - 5)
        gy = 4 * (px + 2 * py - 7) + 2 * (2 * px + py - 5)
        px, py = px - fn.lr * gx, py - fn.lr * gy
    assert np.all(np.diff(values) < 0)  # Booth from this start: every step improves
    np.testing.assert_array_equal(gd.trace_evals, np.arange(1, gd.evaluations + 1, 2))
    np.testing.assert_allclose(gd.trace_gap, values, rtol=1e-12)

    for r in comp.results:
        assert r.trace_evals[-1] == r.evaluations
        assert r.trace_gap[-1] == pytest.approx(r.best_value - comp.minimum)
        assert np.all(np.diff(r.trace_gap) <= 0) and np.all(np.diff(r.trace_evals) > 0)
    grid = rows["grid"]  # one point per grid tried, 3², 5², 9², ...
    assert set(grid.trace_evals) <= {(2**j + 1) ** 2 for j in range(1, 11)}


def test_a_search_that_runs_out_of_budget_ends_its_trace_at_the_budget():
    comp = search_comparison("bowl", tol=1e-6, seed=0, budget=5000, max_grid_level=5)
    for r in comp.results[:2]:
        assert not r.reached and r.trace_evals[-1] == r.evaluations
        assert r.trace_gap[-1] == pytest.approx(r.best_value) and r.trace_gap[-1] > 1e-6
    assert comp.results[1].evaluations == 5000


def test_long_traces_are_thinned_on_a_log_scale_keeping_both_ends():
    trace = _Trace(minimum=0.0)
    evals = np.arange(1, 100_001)
    trace.add(evals, 1.0 / evals)  # improves at every evaluation
    r = trace.result("x", "X", 100_000, True, 1e-5, (0.0, 0.0))
    assert len(r.trace_evals) <= TRACE_POINTS + 2
    assert r.trace_evals[0] == 1 and r.trace_evals[-1] == 100_000
    np.testing.assert_allclose(r.trace_gap, 1.0 / r.trace_evals)
    # about evenly spread in log(evaluations): no decade is left empty
    decades = np.floor(np.log10(r.trace_evals)).astype(int)
    assert set(decades) == {0, 1, 2, 3, 4, 5}
