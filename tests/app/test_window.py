"""The tabs together: preset routing, the Playground's run in the Landscape tab, backends,
classroom mode, quiz links to lessons."""

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from app.window import MainWindow
from dlopt_core.course.lessons import Preset
from dlopt_core.train import backends
from dlopt_core.train.experiment import Experiment

TIMEOUT = 20_000


def small(**extra) -> Experiment:
    return Experiment.from_dict(
        {
            "data": {"kind": "circle", "n_samples": 120},
            "network": {"hidden": [4]},
            "optimizer": {"name": "adam", "lr": 0.02},
            "training": {"batch_size": 10, "eval_every": 10},
            **extra,
        }
    )


@pytest.fixture
def window(qtbot):
    win = MainWindow(small(), persist=False)
    win.show_dialogs = False
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.playground.snapshot is not None, timeout=TIMEOUT)
    yield win
    win.close()
    assert win.playground.controller.thread.isFinished()


def test_status_messages_are_drawn_beside_the_training_status(window, qtbot):
    qtbot.waitExposed(window)
    message = "Sent momentum 0.02 to the Playground"
    window.statusBar().showMessage(message, 6000)
    assert window.statusBar().currentMessage() == message
    status = window.playground.status
    assert status.isVisible() and status.text()  # the training status stays
    room = status.geometry().left()  # the message is drawn left of it
    assert window.statusBar().fontMetrics().horizontalAdvance(message) < room


def test_every_activity_has_its_tab(window):
    assert window.tab_names() == ["Playground", "Compare", "Landscape", "Learn", "Quiz"]


def test_presets_open_in_the_tab_they_name(window, qtbot):
    play = Preset("p1", "Play", "playground", "", {"data": {"kind": "xor", "n_samples": 80}})
    window.open_preset(play)
    assert window.tabs.currentWidget() is window.playground
    assert window.playground.experiment.data.kind == "xor"
    race = Preset(
        "p2",
        "Race",
        "compare",
        "",
        {"data": {"kind": "moons", "n_samples": 80}},
        optimizers=({"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.01, "label": "Adam"}),
    )
    window.open_preset(race)
    assert window.tabs.currentWidget() is window.compare
    assert [c.optimizer for c in window.compare.race.configs()] == ["sgd", "adam"]
    assert window.playground.experiment.data.kind == "moons"
    walk = Preset(
        "p3",
        "Walk",
        "landscape",
        "Two optimizers on Rosenbrock.",
        {},
        optimizers=({"name": "momentum", "lr": 0.001}, {"name": "adam", "lr": 0.05}),
        function="rosenbrock",
        start=(-1.5, 2.0),
        steps=50,
    )
    window.open_preset(walk)
    assert window.tabs.currentWidget() is window.landscape
    view = window.landscape.functions
    qtbot.waitUntil(
        lambda: len(view.path_lengths()) == 2 and min(view.path_lengths()) > 1, timeout=TIMEOUT
    )


def test_a_broken_preset_warns_and_changes_nothing(window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    before = window.playground.experiment
    window.open_preset(Preset("bad", "Bad", "playground", "", {"data": {"kind": "nope"}}))
    assert shown and "data.kind" in shown[0]
    assert window.playground.experiment == before


def test_the_playground_run_opens_in_the_loss_shape_view(window, qtbot):
    tab = window.playground
    tab.controller.step(200)
    qtbot.waitUntil(lambda: tab.snapshot is not None and tab.snapshot.step >= 200, timeout=TIMEOUT)
    assert window.show_loss_shape()
    assert window.tabs.currentWidget() is window.landscape
    shape = window.landscape.shape
    qtbot.waitUntil(lambda: shape.result is not None, timeout=TIMEOUT)
    alphas, losses = shape.line_points()
    assert len(alphas) == 41 and np.all(np.isfinite(losses))


def test_unavailable_backend_is_refused_with_the_reason(window, monkeypatch):
    monkeypatch.setattr(
        backends, "cuda_status", lambda allow_simulator=False: (False, "no CUDA device here")
    )
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    window.show_dialogs = True
    assert not window.set_backend("cuda")
    assert "no CUDA device here" in shown[0]
    assert window.playground.backend == "cpu"
    assert window.set_backend("auto")
    checked = [a.data() for a in window.backend_actions.actions() if a.isChecked()]
    assert checked == ["auto"]


def test_classroom_mode_locks_and_hides_control_groups(qtbot):
    exp = small(
        classroom={
            "note": "Find the largest learning rate that still converges.",
            "locked": ["data", "network", "optimizer"],
            "hidden": ["schedule"],
        }
    )
    win = MainWindow(exp, persist=False)
    qtbot.addWidget(win)
    win.show()
    tab = win.playground
    assert not tab.data_panel.isEnabled() and not tab.network_panel.isEnabled()
    assert not tab.optimizer_panel.combo.isEnabled()
    assert tab.optimizer_panel.lr.isEnabled()
    assert not tab.optimizer_panel.schedule.isVisible()
    assert tab.classroom_note.isVisible() and "largest learning rate" in tab.classroom_note.text()
    tab.set_experiment(small())
    assert tab.data_panel.isEnabled() and not tab.classroom_note.isVisible()
    win.close()


def test_quiz_show_me_opens_the_lesson(window):
    lesson = window.learn.lesson_ids()[0]
    window.quiz.show_lesson.emit(lesson)
    assert window.tabs.currentWidget() is window.learn


def test_playground_keys_work_only_on_the_playground(window, qtbot):
    actions = window.playground.transport_actions()
    assert all(a.isEnabled() for a in actions)
    window.select_tab("Quiz")
    assert not any(a.isEnabled() for a in actions)
    window.select_tab("Playground")
    assert all(a.isEnabled() for a in actions)


def test_ctrl_number_shows_each_tab(window, qtbot):
    from PySide6.QtCore import Qt

    window.show()
    qtbot.waitExposed(window)
    for i, name in enumerate(window.tab_names()):
        assert window.tab_actions[i].shortcut().toString() == f"Ctrl+{i + 1}"
        qtbot.keyClick(window, Qt.Key.Key_1 + i, Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == i, name


def test_the_shortcut_list_names_every_key_and_the_readme_has_them_all(window):
    from pathlib import Path

    rows = window.shortcut_rows()
    keys = {k for _, _, k in rows}
    assert {"Space", "S", "R", "Ctrl+L", "F1", "Ctrl+1", "Ctrl+5", "1–9", "Enter", "N"} <= keys
    html = window.shortcuts_html()
    assert all(k in html and text in html for _, text, k in rows)
    window.act_shortcuts.trigger()  # no dialog while show_dialogs is off; nothing raises
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Keyboard", 1)[1].split("\n\n", 2)[1]
    cells = {c.strip() for line in table.splitlines() for c in line.split("|")[1].split(",")}
    assert keys <= cells, f"README's keyboard table lacks {sorted(keys - cells)}"


def test_about_names_the_versions_for_a_bug_report(window):
    import numba

    import dlopt_core

    text = window.about_text()
    assert f"dlopt {dlopt_core.__version__}" in text and f"Numba {numba.__version__}" in text
    assert "Training backend:" in text


def test_a_comparison_question_opens_and_runs_its_own_race(window, qtbot):
    from app.quiz.presets import question_preset
    from dlopt_core.course.quiz import load_bank

    compare = window.compare
    compare.race.steps.setValue(100)
    with qtbot.waitSignal(compare.runner.finished, timeout=TIMEOUT):
        compare.race.run()  # a first race on the circle data, with the tab's three optimizers
    old_points = len(compare.race.snapshot.boundaries.points)
    question = load_bank().by_id("experiment-basic-race")
    compare.pages.setCurrentWidget(compare.sweep)
    with qtbot.waitSignal(compare.runner.finished, timeout=4 * TIMEOUT):
        window.quiz.open_preset.emit(question_preset(question, {}))
        assert window.tabs.currentWidget() is compare
        assert compare.pages.currentWidget() is compare.race
        # the old race is gone at once: no curves, results or boundaries; the new one runs
        assert compare.race.snapshot is None and compare.race.results.rowCount() == 0
        assert all(len(compare.race.curve_data(m)[0]) == 0 for m in range(3))
        assert not compare.race.boundaries.isVisible() and compare.busy
    race = compare.race
    result = race.snapshot.result
    assert result.step == 1000 and result.target == 0.3  # the question's run and target
    assert race.steps.value() == 1000 and race.target.value() == 0.3
    assert [s.optimizer.name for s in result.specs] == [
        m["name"] for m in question.compute["models"]
    ]
    assert window.playground.experiment.data.kind == "moons"
    assert len(race.snapshot.boundaries.points) == 160 != old_points  # the new data set
    assert race.results.rowCount() == 3 and len(race.toggle_boxes()) == 3
    reach = [race.results.item(r, 5).text() for r in range(3)]
    assert any(text.isdigit() for text in reach)  # steps to the target are in the table


def test_opening_a_comparison_during_a_race_cancels_it_and_runs_the_new_one(window, qtbot):
    compare = window.compare
    compare.race.steps.setValue(200_000)
    compare.race.run()
    assert compare.busy
    preset = Preset(
        "p",
        "Race",
        "compare",
        "",
        {"data": {"kind": "moons", "n_samples": 80}},
        optimizers=({"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.01}),
        steps=300,
    )
    window.open_preset(preset)
    qtbot.waitUntil(
        lambda: (
            not compare.busy
            and compare.race.snapshot is not None
            and compare.race.snapshot.result.step == 300
        ),
        timeout=4 * TIMEOUT,
    )
    assert compare.race.snapshot.result.n_models == 2


def test_try_it_starts_the_run_and_leaves_the_keys_to_the_playground(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractSpinBox, QApplication

    qtbot.waitExposed(window)
    window.select_tab("Learn")
    learn = window.learn
    for lesson in learn.lesson_ids():
        learn.show_lesson(lesson)
        buttons = [
            b
            for b in learn.try_buttons
            if learn.presets[b.property("preset_id")].tab == "playground"
        ]
        if buttons:
            break
    button = buttons[0]
    button.setFocus()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    tab = window.playground
    assert window.tabs.currentWidget() is tab
    qtbot.waitUntil(
        lambda: tab.snapshot is not None and tab.snapshot.step > 0, timeout=TIMEOUT
    )  # it runs (up to the lesson's step budget)
    focus = QApplication.focusWidget()
    assert not isinstance(focus, QAbstractSpinBox) and not isinstance(
        getattr(focus, "parentWidget", lambda: None)(), QAbstractSpinBox
    )
    serial = tab.controller.play_serial
    qtbot.keyClick(focus or window, Qt.Key.Key_Space)  # Space is play/pause, not typed
    assert tab.controller.play_serial == serial + 1


def test_an_experiment_from_elsewhere_detaches_the_file(window, qtbot, tmp_path, monkeypatch):
    """A lesson's, a question's or a challenge's experiment does not come from the open file:
    the window forgets that file, so that Ctrl+S asks for a name instead of writing the preset
    over it. An edit of the file's experiment (a rate chosen in the Compare tab) keeps it."""
    from PySide6.QtWidgets import QFileDialog

    path = tmp_path / "mine.json"
    small(name="mine").save(path)
    saved = path.read_text()
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append(a), ("", ""))[1]
    )

    def open_mine() -> None:
        assert window.open_file(str(path))
        qtbot.waitUntil(lambda: window.path == str(path.resolve()), timeout=TIMEOUT)
        assert not window.isWindowModified() and "mine.json" in window.windowTitle()

    play = Preset(
        "p1",
        "Play",
        "playground",
        "",
        {"name": "xor demo", "data": {"kind": "xor", "n_samples": 80}},
    )
    race = Preset(
        "p2",
        "Race",
        "compare",
        "",
        {"data": {"kind": "moons", "n_samples": 80}},
        optimizers=({"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.01}),
    )
    routes = {
        "a Learn preset": lambda: window.open_preset(play),
        "a Learn race": lambda: window.open_preset(race),
        "a lesson's Try it": lambda: window.learn.open_preset_id("hidden_layer_xor"),
        "a question's preset": lambda: window.quiz.open_preset.emit(play),
        "a challenge in the Playground": lambda: window.landscape.challenges.open_preset(
            "bad_init", "zeros"
        ),
        "a challenge in Compare": lambda: window.landscape.challenges.open_preset("dying_relu"),
    }
    for what, route in routes.items():
        open_mine()
        route()
        assert window.path is None, what
        assert window.isWindowModified(), what
        assert "mine.json" not in window.windowTitle(), what
        assert window.windowTitle().startswith(window.experiment.name or "untitled"), what
        asked.clear()
        assert not window.save(), what  # Save asks for a name (cancelled here)
        assert asked, what
        assert path.read_text() == saved, what
        qtbot.waitUntil(lambda: not window.compare.busy, timeout=TIMEOUT)
    open_mine()
    chosen = window.experiment.optimizer.__class__("sgd", {"lr": 0.3, "weight_decay": 0.0})
    from dataclasses import replace

    window.compare.send(replace(window.experiment, optimizer=chosen), "Sent SGD")
    assert window.path == str(path.resolve()) and window.isWindowModified()
    assert window.save()
    assert Experiment.load(path).optimizer.lr == 0.3


def test_the_edge_of_stability_try_it_plots_the_sharpness_against_2_over_eta(window, qtbot):
    """The lesson's Try-it trains full-batch gradient descent and shows its sharpness, measured
    in the training thread every 50 steps, beside the dashed edge 2/eta = 10: the values the
    core's track_sharpness gives. A preset without the plot switches it off again."""
    from dlopt_core.course.lessons import load_presets
    from dlopt_core.train.sharpness import track_sharpness

    presets = load_presets()
    preset = presets["edge_of_stability"]
    assert preset.plots == ("sharpness",)
    window.open_preset(preset)
    tab = window.playground
    qtbot.waitUntil(
        lambda: (
            tab.snapshot is not None
            and tab.snapshot.step == 4000
            and not tab.snapshot.playing
            and tab.snapshot.sharpness is not None
            and tab.snapshot.sharpness[0][-1] == 4000
        ),
        timeout=60_000,
    )
    curves = tab.curves
    assert curves.sharpness_box.isChecked() and curves.sharpness.isVisible()
    steps, values, edges = tab.snapshot.sharpness
    np.testing.assert_array_equal(steps, np.arange(0, 4001, 50))
    np.testing.assert_allclose(edges, 10.0)
    reference = track_sharpness(preset.experiment, 1000, every=50)
    np.testing.assert_allclose(values[:21], reference.sharpness, rtol=1e-3)
    assert values[0] < 10.0 < values.max()  # below the edge at first, then past it
    qtbot.waitUntil(
        lambda: curves.sharpness.point_count("sharpness") == len(steps), timeout=TIMEOUT
    )
    x, y = curves.sharpness.curve_data("edge")
    np.testing.assert_allclose(y, 10.0)
    window.open_preset(presets["single_neuron"])
    assert not curves.sharpness_box.isChecked() and curves.sharpness.isHidden()
    qtbot.waitUntil(
        lambda: curves.grad.geometry().bottom() > curves.height() - 12, timeout=TIMEOUT
    )  # no empty row where the plot was
    qtbot.waitUntil(
        lambda: tab.snapshot is not None and tab.snapshot.sharpness is None, timeout=TIMEOUT
    )


def test_the_sharpness_box_measures_from_the_step_the_run_is_at(window, qtbot):
    tab = window.playground
    tab.controller.step(123)
    qtbot.waitUntil(lambda: tab.snapshot is not None and tab.snapshot.step == 123, timeout=TIMEOUT)
    tab.show_sharpness(True)
    qtbot.waitUntil(lambda: tab.snapshot.sharpness is not None, timeout=TIMEOUT)
    assert list(tab.snapshot.sharpness[0]) == [123]
    assert np.isnan(tab.snapshot.sharpness[2][0])  # Adam: no edge of stability to draw
    tab.controller.step(100)
    qtbot.waitUntil(lambda: tab.snapshot.step == 223, timeout=TIMEOUT)
    assert list(tab.snapshot.sharpness[0]) == [123, 150, 200]


def test_the_tabs_not_in_view_are_built_in_idle_time_after_the_window_shows(qtbot, monkeypatch):
    monkeypatch.setattr(MainWindow, "build_tabs_when_idle", True)
    win = MainWindow(small(), persist=False)
    win.show_dialogs = False
    qtbot.addWidget(win)
    names = ("Compare", "Landscape", "Learn", "Quiz")
    assert all(win.pages.built(n) is None for n in names)  # the window opens with one tab
    win.show()
    assert all(win.pages.built(n) is None for n in names)  # not while it opens
    qtbot.waitUntil(lambda: all(win.pages.built(n) is not None for n in names), timeout=TIMEOUT)
    assert win.playground.kernels_ready  # the Playground's own start-up came first
    assert win.tabs.currentWidget() is win.playground  # built out of view: nothing moved
    assert [win.tabs.widget(i) for i in range(1, 5)] == [win.pages.built(n) for n in names]
    win.close()
    assert win.playground.controller.thread.isFinished()


def test_replacing_or_closing_an_edited_experiment_asks_to_save_discard_or_cancel(
    window, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    buttons = QMessageBox.StandardButton
    answers: list = []
    asked: list[str] = []

    def ask(self, action):
        asked.append(action)
        return answers.pop(0)

    monkeypatch.setattr(MainWindow, "ask_unsaved", ask)
    play = Preset(
        "p1",
        "Play",
        "playground",
        "",
        {"name": "xor demo", "data": {"kind": "xor", "n_samples": 80}},
    )
    other = tmp_path / "other.json"
    small(name="other").save(other)
    # nothing edited: no question (a preset's experiment is not the user's work)
    window.open_preset(play)
    assert window.open_file(str(other))
    qtbot.waitUntil(lambda: window.path == str(other.resolve()), timeout=TIMEOUT)
    assert not asked
    window.playground.optimizer_panel.lr.spin.setValue(0.003)  # the user edits it
    assert window.isWindowModified()
    edited = window.experiment
    # Cancel: nothing changes, whatever the route
    routes = {
        "preset": lambda: window.open_preset(play),
        "file": lambda: window.open_file(str(other)),
        "new": window.new,
        "challenge": lambda: window.landscape.challenges.open_preset("bad_init", "zeros"),
    }
    for what, route in routes.items():
        answers.append(buttons.Cancel)
        route()
        assert window.experiment == edited and window.path == str(other.resolve()), what
    assert asked == [
        "opening another experiment",
        "opening another experiment",
        "starting a new experiment",
        "opening another experiment",
    ]
    answers.append(buttons.Cancel)
    window.close()  # quitting: Cancel keeps the window
    assert asked[-1] == "quitting" and not window._closed
    assert window.playground.controller.thread.isRunning()
    # Save writes the edits into the file, then the preset opens
    answers.append(buttons.Save)
    window.open_preset(play)
    assert Experiment.load(other).optimizer.lr == 0.003
    assert window.experiment.data.kind == "xor" and window.tabs.currentWidget() is window.playground
    # Discard drops them
    window.playground.optimizer_panel.lr.spin.setValue(0.005)
    answers.append(buttons.Discard)
    assert window.open_file(str(other))
    qtbot.waitUntil(lambda: window.path == str(other.resolve()), timeout=TIMEOUT)
    assert window.experiment.optimizer.lr == 0.003
    # Save on a preset's experiment asks for a name; cancelling that cancels the whole
    window.open_preset(play)
    window.playground.optimizer_panel.lr.spin.setValue(0.007)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    answers.append(buttons.Save)
    assert not window.open_file(str(other))
    assert window.experiment.optimizer.lr == 0.007
    answers.append(buttons.Discard)  # quitting


def test_a_finished_race_is_said_once(window, qtbot):
    """On the Compare tab its progress row says the race finished; the window's status bar
    says it only to a user on another tab."""
    compare = window.compare
    compare.race.steps.setValue(100)
    for tab in ("Compare", "Playground"):
        window.statusBar().clearMessage()
        window.select_tab(tab)
        with qtbot.waitSignal(compare.runner.finished, timeout=TIMEOUT):
            compare.race.run()
        assert compare.job_label.text().startswith("Race finished")
        said = window.statusBar().currentMessage()
        assert said == ("" if tab == "Compare" else compare.job_label.text()), tab
