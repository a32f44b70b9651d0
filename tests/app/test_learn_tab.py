"""The Learn tab: lessons in order, readable HTML, presets, and the search comparison."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, Qt, QUrl  # noqa: E402

from app.learn.search_panel import LESSON_ID  # noqa: E402
from app.learn.tab import LearnTab, button_text, look_for  # noqa: E402
from dlopt_core.course.lessons import load_lessons, load_presets  # noqa: E402

RAW_MARKUP = re.compile(r"\$|\\[a-zA-Z]+|\*\*|</?(sub|sup|b|i)>|\]\(")


@pytest.fixture
def tab(qtbot):
    t = LearnTab()
    qtbot.addWidget(t)
    t.resize(1200, 800)
    t.show()
    qtbot.waitExposed(t)
    return t


def test_lessons_are_listed_in_order(tab):
    lessons = load_lessons()
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)
    assert tab.lesson_ids() == [lesson.id for lesson in lessons]
    first = tab.lesson_list.item(0).text()
    assert first.startswith("1.") and lessons[0].title in first
    assert tab.current is not None and tab.current.id == lessons[0].id
    assert not tab.errors and tab.banner.isHidden()


def test_every_lesson_shows_rendered_html(tab):
    for lesson in load_lessons():
        assert tab.show_lesson(lesson.id)
        assert tab.current.id == lesson.id
        text = tab.view.toPlainText()
        assert lesson.title in text
        assert not RAW_MARKUP.search(text), f"{lesson.id}: {RAW_MARKUP.search(text).group(0)!r}"
        assert "preset:" not in text
    assert not tab.show_lesson("no_such_lesson")


def test_text_is_kept_to_a_readable_width(tab, qtbot):
    tab.resize(1800, 800)
    qtbot.waitUntil(lambda: tab.view.text_margin() > 100)
    tab.resize(700, 800)
    qtbot.waitUntil(lambda: tab.view.text_margin() < 100)


def _link_point(view, text: str) -> QPoint:
    cursor = view.document().find(text)
    assert not cursor.isNull(), text
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    cursor.setPosition(cursor.selectionStart() + 2)
    return view.cursorRect(cursor).center()


def test_clicking_a_preset_link_emits_the_preset(tab, qtbot):
    presets = load_presets()
    tab.show_lesson(LESSON_ID)
    point = _link_point(tab.view, "Try it: gradient descent on the Booth bowl")
    with qtbot.waitSignal(tab.open_preset, timeout=2000) as signal:
        qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    preset = signal.args[0]
    assert preset == presets["booth_descent"]
    assert preset.tab == "landscape" and preset.function == "booth"
    with qtbot.waitSignal(tab.open_preset, timeout=1000) as signal:
        tab.view.anchorClicked.emit(QUrl("preset:first_training_run"))
    assert signal.args[0].id == "first_training_run"
    with qtbot.assertNotEmitted(tab.open_preset):
        tab.view.anchorClicked.emit(QUrl("preset:no_such_preset"))


def test_try_it_buttons_emit_their_presets(tab, qtbot):
    for lesson in load_lessons():
        tab.show_lesson(lesson.id)
        ids = [pid for _label, pid in lesson.links]
        assert [b.property("preset_id") for b in tab.try_buttons][: len(ids)] == ids
    tab.show_lesson("challenges")
    button = tab.try_buttons[1]
    with qtbot.waitSignal(tab.open_preset, timeout=1000) as signal:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert signal.args[0].id == button.property("preset_id")
    assert signal.args[0].tab in ("playground", "compare", "landscape")


def test_what_to_look_for_comes_from_the_lesson():
    markdown = (
        "- [Try it: a saddle](preset:saddle) \u2014 see how long it\n"
        "  lingers there.\n- [Try it: b](preset:b) \u2014 other\n"
    )
    assert look_for(markdown, "saddle") == "See how long it lingers there."
    assert look_for(markdown, "missing") == ""
    assert button_text("Try it: one neuron on XOR") == "One neuron on XOR"


def test_a_hint_or_button_that_starts_with_a_greek_letter_keeps_its_case():
    """κ, η and λ are symbols: "Κ = 1000" (a capital kappa) would be another, or none."""
    markdown = (
        "- [Try it: κ = 100](preset:rates) \u2014 κ = 100 makes gradient descent\n"
        "  crawl; η = 2/(λmin + λmax) is its best step.\n"
    )
    assert look_for(markdown, "rates") == (
        "κ = 100 makes gradient descent crawl; η = 2/(λmin + λmax) is its best step."
    )
    assert button_text("Try it: κ = 100") == "κ = 100"
    assert button_text("Try it: η too large") == "η too large"
    assert button_text("Try it: ἀ") == "ἀ"
    assert button_text("Try it: élan") == "Élan"  # other letters are capitalised


def computed(panel, qtbot):
    """The panel once its newest comparison has arrived from its thread."""
    qtbot.waitUntil(lambda: not panel.busy and panel.comparison is not None, timeout=30_000)
    return panel


def test_search_comparison_table(tab, qtbot):
    tab.show_lesson("neural_networks")
    assert tab.search_panel is None or tab.search_panel.isHidden()
    tab.show_lesson(LESSON_ID)
    panel = tab.search_panel
    assert panel is not None and panel.isVisibleTo(tab)
    panel.set_tolerance(1e-3)
    rows = computed(panel, qtbot).table_rows()
    assert [r[0] for r in rows] == ["Grid search", "Random search", "Gradient descent"]
    evaluations = {r.method: r.evaluations for r in panel.comparison.results}
    assert all(r.reached for r in panel.comparison.results)
    assert evaluations["gradient"] < evaluations["grid"]
    assert evaluations["gradient"] < evaluations["random"]
    assert rows[2][1] == f"{evaluations['gradient']:,}"
    seed = panel.seed
    qtbot.mouseClick(panel.again_button, Qt.MouseButton.LeftButton)
    assert panel.seed == seed + 1 and computed(panel, qtbot).comparison.tol == 1e-3
    panel.set_tolerance(1e-6)  # too tight for grid and random search within their budgets
    rows = computed(panel, qtbot).table_rows()
    assert rows[0][2].startswith("no") and rows[2][2] == "yes"


def test_search_comparison_plot_follows_the_table(tab, qtbot):
    tab.show_lesson(LESSON_ID)
    panel = tab.search_panel
    panel.set_tolerance(1e-3)
    computed(panel, qtbot)
    for result in panel.comparison.results:
        x, y = panel.curve_data(result.method)
        # a step curve through the improvements: ends at the evaluations in the table
        assert x[-1] == pytest.approx(result.evaluations)
        assert y[-1] == pytest.approx(result.best_value - panel.comparison.minimum)
        assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) <= 0)
        assert set(np.round(np.log10(x), 9)) == set(np.round(np.log10(result.trace_evals), 9))
        mx, my = panel.done_marks[result.method].getData()
        assert len(mx) == 1 and 10 ** my[0] <= 1e-3  # reached: a dot below the tolerance
    _, tol_y = panel.tolerance_line.getData()
    np.testing.assert_allclose(10 ** np.asarray(tol_y), [1e-3, 1e-3])
    panel.set_tolerance(1e-6)  # grid search runs out: no dot, a curve that stays above the line
    x, y = computed(panel, qtbot).curve_data("grid")
    mx, _ = panel.done_marks["grid"].getData()
    assert (mx is None or len(mx) == 0) and y[-1] > 1e-6
    np.testing.assert_allclose(10 ** np.asarray(panel.tolerance_line.getData()[1]), 1e-6)


def test_the_search_comparison_is_computed_off_the_gui_thread(tab, qtbot, monkeypatch):
    """Showing the lesson or choosing a tolerance never computes on the window's thread (up to
    a million evaluations, slower still while the Playground trains); the newest request is
    the one shown."""
    import threading

    import app.learn.search_panel as search_panel

    threads = []
    real = search_panel.search_comparison

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(search_panel, "search_comparison", spy)
    tab.show_lesson(LESSON_ID)
    panel = tab.search_panel
    panel.set_tolerance(1e-2)
    panel.set_tolerance(1e-4)
    computed(panel, qtbot)
    assert threads and threading.main_thread() not in threads
    assert panel.comparison.tol == 1e-4
    assert panel.table_rows()[0][0] == "Grid search"
    tab.shutdown()
    assert not panel.runner.thread.isRunning()


def test_a_broken_presets_file_is_reported(qtbot, tmp_path):
    bad = tmp_path / "presets.json"
    bad.write_text('{"version": 1, "presets": {"x": {"tab": "nowhere"}}}', encoding="utf-8")
    t = LearnTab(presets_path=bad)
    qtbot.addWidget(t)
    assert not t.banner.isHidden() and "presets.json" in t.banner.text()
    assert t.lesson_ids()  # the lessons still load
    assert t.try_buttons and not any(b.isEnabled() for b in t.try_buttons)


def test_try_it_buttons_are_wholly_in_view_in_a_1400x900_window(qtbot):
    from app.window import MainWindow

    win = MainWindow(persist=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.select_tab("Learn")
    learn = win.learn

    def whole(button) -> bool:
        shown = button.visibleRegion().boundingRect()
        return shown.height() == button.height() and shown.width() == button.width()

    for lesson in learn.lesson_ids():  # the search comparison's lesson is the tallest
        learn.show_lesson(lesson)
        assert learn.try_buttons
        qtbot.waitUntil(lambda: all(whole(b) for b in learn.try_buttons), timeout=5000)
    win.close()


def test_a_comparison_that_arrives_after_the_tab_was_left_says_nothing(qtbot):
    """The comparison arrives from a thread: its status note is for the Learn tab, not for the
    tab the user has gone to meanwhile."""
    t = LearnTab()
    qtbot.addWidget(t)
    t.show()
    notes = []
    t.status_message.connect(notes.append)
    t.show_lesson(LESSON_ID)
    t.hide()  # the user went to another tab before the comparison came back
    computed(t.search_panel, qtbot)
    assert not any("fewest evaluations" in n for n in notes)
    t.show()
    t.search_panel.run_again()
    computed(t.search_panel, qtbot)
    qtbot.waitUntil(lambda: any("fewest evaluations" in n for n in notes), timeout=5000)
