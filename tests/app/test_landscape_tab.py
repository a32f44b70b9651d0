"""The Landscape tab: races on 2-D functions, challenges, network presets and the loss shape."""

import os
import re
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402

from app.landscape.common import contour_segments  # noqa: E402
from app.landscape.shape_view import USER  # noqa: E402
from app.landscape.tab import FUNCTIONS_PAGE, LandscapeTab  # noqa: E402
from dlopt_core.course.network_presets import COMPARE, PLAYGROUND, get_network_presets  # noqa: E402
from dlopt_core.studies import landscape as ls  # noqa: E402
from dlopt_core.train.experiment import Experiment  # noqa: E402
from dlopt_core.train.optimizers import make_optimizer  # noqa: E402

TIMEOUT = 15_000  # ms; a cold Numba cache on a slow machine


@pytest.fixture
def tab(qtbot):
    t = LandscapeTab()
    qtbot.addWidget(t)
    t.resize(1300, 850)
    t.show()
    qtbot.waitExposed(t)
    yield t
    t.shutdown()
    for thread in (t.shape.controller.thread, t.functions.runner.thread):
        assert thread is None or thread.isFinished()


def test_contour_segments_lie_on_their_level():
    xs = np.linspace(-2.0, 2.0, 61)
    ys = np.linspace(-1.5, 1.5, 47)
    Z = xs[None, :] ** 2 + ys[:, None] ** 2
    x, y = contour_segments(xs, ys, Z, [1.0])
    assert len(x) > 40 and len(x) % 2 == 0
    assert np.allclose(np.hypot(x, y), 1.0, atol=0.01)
    Z[10, 10] = np.nan  # cells next to a hole are skipped, not broken
    x, y = contour_segments(xs, ys, Z, [1.0, 2.0])
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


def test_pick_function_click_start_and_race_three_optimizers(tab, qtbot):
    fv = tab.functions
    fv.function.setCurrentIndex(fv.function.findData("himmelblau"))
    assert fv.fn.name == "himmelblau"
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    assert not fv.quad_box.isVisible() and not fv.theory_box.isVisible()
    assert fv.map.contour_count() > 100
    checked = [row.label for row in fv.free.rows if row.check.isChecked()]
    assert checked == ["GD", "Momentum", "Adam"]
    # a click on the map sets the start point and starts the race
    pos = fv.map.view_to_widget(1.0, -2.0)
    qtbot.mouseClick(fv.map.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert fv.start == pytest.approx((1.0, -2.0), abs=0.15)
    assert fv.start_x.value() == pytest.approx(fv.start[0])
    assert fv.playing
    first = fv.path_lengths()
    assert len(first) == 3
    qtbot.waitUntil(lambda: min(fv.path_lengths()) > max(first) + 5, timeout=TIMEOUT)
    for k in range(3):
        x, y = fv.paths[k].getData()
        assert (x[0], y[0]) == pytest.approx(fv.start)
        assert fv.values[k].getData()[0] is not None
    assert len(fv.legend.items) == 3
    fv.reset()
    assert fv.path_lengths() == [1, 1, 1] and not fv.playing
    fv.step_once()
    assert fv.path_lengths() == [2, 2, 2]
    assert "step 1 of" in fv.step_label.text()


def test_gradient_settings_and_a_refused_setting(tab, qtbot):
    fv = tab.functions
    fv.function.setCurrentIndex(fv.function.findData("cliff"))
    fv.clip.setValue(1.0)
    fv.noise.setValue(0.5)
    fv.recompute()
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    gd = next(r for r in fv.results if r.spec.label == "GD").trajectory
    assert np.nanmax(gd.grad_norms) > 1.0  # noise and the wall, measured before clipping
    nesterov = fv.free.row("nesterov")
    nesterov.set_values(hyper=0.0, checked=True)
    fv.recompute()
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    refused = next(r for r in fv.results if r.spec.optimizer == "nesterov")
    assert refused.trajectory is None and "momentum" in refused.error
    assert "Nesterov" in fv.results_label.text()


def test_theory_buttons_set_the_optimal_parameters(tab, qtbot):
    fv = tab.functions
    fv.select_function("quadratic", kappa=25.0, angle=0.0)
    assert fv.theory_box.isVisible()
    fv.steps.setValue(120)
    fv.speed.setCurrentIndex(fv.speed.findData(100))
    fv.use_gd.click()
    lr, rate = ls.gd_optimal(25.0)
    assert fv.free.row("sgd").lr.value() == pytest.approx(lr, rel=1e-3)
    fv.use_momentum.click()
    hb_lr, hb_mom, hb_rate = ls.momentum_optimal(25.0)
    row = fv.free.row("momentum")
    assert row.lr.value() == pytest.approx(hb_lr, rel=1e-3)
    assert row.hyper_spin.value() == pytest.approx(hb_mom, abs=1e-4)
    qtbot.waitUntil(lambda: not fv.playing, timeout=TIMEOUT)
    measured = fv.measured_rates()
    assert measured["GD"] == pytest.approx(rate, abs=0.01)
    assert measured["Momentum"] == pytest.approx(hb_rate, abs=0.05)
    text = fv.theory_text.text()
    assert f"{rate:.3f}" in text and f"{hb_rate:.3f}" in text
    x, _ = fv.theory_gd.getData()
    assert x is not None and len(x) > 10


def test_each_challenge_loads_and_runs(tab, qtbot):
    fv = tab.functions
    tab.views.setCurrentIndex(1)
    for name, ch in ls.get_challenges().items():
        tab.challenges.challenge_buttons[name].click()
        assert tab.views.currentIndex() == FUNCTIONS_PAGE
        assert fv.challenge == name and fv.fn.name == ch.function
        assert fv.start == pytest.approx(ch.start)
        assert [row.label for row in fv.challenge_runs.rows] == [r.name for r in ch.runs]
        assert fv.banner.isVisible()
        assert ch.explanation.split("\n")[0][:40] in fv.banner.text()
        assert "{{" not in fv.banner.text()  # the numbers from the runs are filled in
        qtbot.waitUntil(
            lambda: fv.paths_ready and min(fv.path_lengths(), default=0) > 3, timeout=TIMEOUT
        )
        assert len(fv.path_lengths()) == len(ch.runs)
        colors = {r.spec.color.name() for r in fv.results}
        assert len(colors) == len(ch.runs)  # every run has a colour of its own
    # the runs are the challenge's own: clipping of the cliff's second run, a schedule for SGD
    tab.load_challenge("cliff")
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    assert [r.spec.clip_norm for r in fv.results] == [None, 1.0]
    fv.leave_challenge.click()
    assert fv.challenge is None and not fv.banner.isVisible()


def test_every_control_has_a_tooltip(tab):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QTabBar

    inner = QAbstractSpinBox | QComboBox | QTabBar  # their own sub-widgets
    missing = []
    for kind in (QAbstractButton, QAbstractSpinBox, QComboBox):
        for w in tab.findChildren(kind):
            if not w.toolTip() and not w.isHidden() and not isinstance(w.parent(), inner):
                missing.append(f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}")
    assert not missing


def test_network_presets_validate():
    assert {"minibatch_noise", "bad_init", "dying_relu", "overfitting"} <= set(
        get_network_presets()
    )
    for preset in get_network_presets().values():
        assert preset.target in (PLAYGROUND, COMPARE)
        assert len(preset.explanation.split("\n")) == 2
        for label in preset.variant_labels():
            exp = Experiment.from_dict(preset.experiment_dict(label))
            _, _, engine = exp.build()
            engine.run(5)
            assert exp.max_steps > 0
        if preset.target == COMPARE:
            assert len(preset.optimizers) >= 2
            for o in preset.optimizer_dicts():
                make_optimizer(**o)
    assert get_network_presets()["bad_init"].build("zeros").network.init == "zeros"
    assert get_network_presets()["minibatch_noise"].build("batch size 1").training.batch_size == 1
    assert (
        get_network_presets()["overfitting"]
        .build("early stopping (patience 20)")
        .training.early_stopping
        == 20
    )
    with pytest.raises(ValueError, match="no variant"):
        get_network_presets()["bad_init"].experiment_dict("nonsense")


def test_network_preset_buttons_emit_the_right_signal(tab, qtbot):
    view = tab.challenges
    tab.views.setCurrentIndex(1)
    for (name, label), button in view.preset_buttons.items():
        preset = get_network_presets()[name]
        if preset.target == PLAYGROUND:
            with qtbot.waitSignal(tab.open_in_playground, timeout=1000) as blocker:
                button.click()
            exp = blocker.args[0]
            assert isinstance(exp, Experiment)
            assert exp == preset.build(label)
        else:
            with qtbot.waitSignal(tab.open_in_compare, timeout=1000) as blocker:
                button.click()
            exp, optimizers = blocker.args
            assert isinstance(exp, Experiment)
            assert optimizers == preset.optimizer_dicts()
        assert view.banner.isVisible() and preset.title in view.banner.text()


def test_train_a_paper_situation_then_interpolation_and_slice(tab, qtbot):
    sv = tab.shape
    tab.views.setCurrentIndex(2)
    sv.select_situation("deep_linear")
    sv.steps.setValue(300)
    sv.snapshots.setValue(12)
    sv.resolution.setValue(15)
    sv.train_button.click()
    assert sv.busy and sv.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: sv.result is not None, timeout=TIMEOUT)
    alphas, losses = sv.line_points()
    assert len(alphas) == len(ls.DEFAULT_ALPHAS) == 41
    assert np.all(np.isfinite(losses))
    r = sv.result
    assert r.slice_loss.shape == (15, 15) and np.all(np.isfinite(r.slice_loss))
    assert r.coords.shape == (13, 2)
    assert np.all(np.isfinite(sv.val_curve.getData()[1]))
    assert sv.map.contour_count() > 0
    assert "Deep linear" in sv.banner.text()
    assert not sv.busy and sv.recompute_button.isEnabled()
    # another plane for the same network, without training again
    sv.directions.setCurrentIndex(sv.directions.findData("random"))
    sv.recompute_button.click()
    qtbot.waitUntil(lambda: sv.result is not r, timeout=TIMEOUT)
    assert sv.result.directions == "random" and np.all(np.isnan(sv.result.explained))


def train_situation(tab, qtbot, key: str):
    """Choose situation ``key``, train it for its own steps with 12 snapshots and a 15 x 15 slice,
    and wait for the result; the view."""
    sv = tab.shape
    tab.views.setCurrentIndex(2)
    sv.select_situation(key)
    assert sv.steps.value() == 3000
    sv.snapshots.setValue(12)
    sv.resolution.setValue(15)
    sv.train_button.click()
    qtbot.waitUntil(lambda: sv.result is not None, timeout=120_000)  # includes a cold compile
    alphas, losses = sv.line_points()
    assert len(alphas) == 41 and np.all(np.isfinite(losses))
    r = sv.result
    assert r.slice_loss.shape == (15, 15) and np.all(np.isfinite(r.slice_loss))
    assert r.coords.shape == (13, 2) and sv.map.contour_count() > 0
    return sv


def test_the_lstm_situation_trains_and_draws_its_plateau(tab, qtbot):
    sv = train_situation(tab, qtbot, "lstm")
    assert "LSTM" in sv.description.text() and "plateau" in sv.explanation.text()
    r = sv.result
    _, losses = sv.line_points()
    assert (
        losses[30]
        == ls.network_loss(r.source.network, r.source.theta_final, r.source.X, r.source.y)
        < 0.01
    )
    assert np.all(np.isfinite(sv.val_curve.getData()[1]))
    text = sv.banner.text()
    assert "LSTM after 3,000 steps" in text and "bump" not in text
    assert re.search("falling (monotonically|without a barrier)", text)
    assert re.search("a plateau first: only by \u03b1 = 0\\.[4-8]", text)  # read off the line
    # a random filter-normalised plane through the trained LSTM, without training again
    sv.directions.setCurrentIndex(sv.directions.findData("random"))
    sv.recompute_button.click()
    qtbot.waitUntil(lambda: sv.result is not r, timeout=TIMEOUT)
    assert sv.result.directions == "random" and np.all(np.isfinite(sv.result.slice_loss))
    assert sv.result.source is r.source


def test_the_adversarial_situation_trains_with_fgsm_and_draws_its_line(tab, qtbot):
    sv = train_situation(tab, qtbot, "adversarial")
    assert "adversarial eps 0.2" in sv.description.text()
    assert "FGSM" in sv.explanation.text() and "nearly convex" in sv.explanation.text()
    _, losses = sv.line_points()
    src = sv.result.source
    assert losses[10] == ls.network_loss(src.network, src.theta_init, src.X, src.y)
    assert losses[30] == ls.network_loss(src.network, src.theta_final, src.X, src.y)
    assert losses[30] < 0.15 * losses[10]  # trained to a low loss on the clean points
    text = sv.banner.text()
    assert "Adversarially trained network after 3,000 steps" in text and "bump" not in text
    assert re.search("falling (monotonically|without a barrier)", text)
    robust = ls.fgsm_robustness(src.network, src.theta_final, src.X, src.y, 0.2)
    assert src.findings and src.findings in text  # what this run shows on FGSM inputs
    assert f"training loss is {robust.adversarial_loss:.3g}" in text


def test_set_trained_network_from_a_tiny_engine(tab, qtbot):
    exp = Experiment.from_dict(
        {
            "data": {"kind": "moons", "n_samples": 80, "val_fraction": 0.25},
            "network": {"hidden": [4]},
            "optimizer": {"name": "adam", "lr": 0.05},
            "training": {"batch_size": 20},
        }
    )
    _, net, engine = exp.build()
    thetas = [engine.theta[0].copy()]
    for _ in range(6):
        engine.run(10)
        thetas.append(engine.theta[0].copy())
    sv = tab.shape
    sv.resolution.setValue(11)
    tab.set_trained_network(
        net,
        engine.theta_init[0],
        engine.theta[0],
        np.array(thetas),
        engine.X,
        engine.Y,
        engine.Xv,
        engine.Yv,
    )
    assert sv.situation.currentData() == USER
    qtbot.waitUntil(lambda: sv.result is not None, timeout=TIMEOUT)
    alphas, losses = sv.line_points()
    assert len(alphas) == 41 and np.all(np.isfinite(losses))
    k = int(np.argmin(np.abs(alphas - 1.0)))
    assert losses[k] == pytest.approx(ls.network_loss(net, engine.theta[0], engine.X, engine.Y))
    assert sv.result.coords.shape == (7, 2)
    # a parameter vector of the wrong size is refused with a message
    sv.set_trained_network(net, np.zeros(3), np.zeros(3), None, engine.X, engine.Y)
    assert "do not fit" in sv.state.text()


def test_cancel_and_shutdown_are_prompt(tab, qtbot):
    sv = tab.shape
    sv.select_situation("noisy_task")
    sv.steps.setValue(100_000)
    sv.train_button.click()
    qtbot.waitUntil(lambda: sv.progress.value() > 0, timeout=TIMEOUT)
    sv.cancel_button.click()
    qtbot.waitUntil(lambda: not sv.busy, timeout=2000)
    assert sv.state.text() == "cancelled" and sv.result is None
    sv.train_button.click()
    qtbot.waitUntil(lambda: sv.progress.value() > 0, timeout=TIMEOUT)
    # the fixture's teardown checks that shutdown stops the running job within a second


def test_a_start_just_off_a_line_is_shown_and_kept(tab):
    fv = tab.functions
    tab.load_challenge("saddle")  # starts at (1.5, 1e-6): just off the saddle's stable line
    assert fv.start_y.value() == 1e-6 and fv.start_y.text() == "1e-06"
    fv.start_x.setValue(1.2)  # editing x must not round y to 0, where no method could escape
    assert fv.start == (1.2, 1e-6)


def test_a_lesson_preset_with_a_situation_trains_it_and_draws_the_line(tab, qtbot):
    from app.landscape.tab import SHAPE_PAGE
    from dlopt_core.course.lessons import load_presets

    preset = load_presets()["interpolation_linear"]
    tab.load_preset(preset)
    sv = tab.shape
    assert tab.views.currentIndex() == SHAPE_PAGE
    assert sv.situation.currentData() == "deep_linear" and sv.busy
    qtbot.waitUntil(lambda: sv.result is not None, timeout=4 * TIMEOUT)
    alphas, losses = sv.line_points()
    assert len(alphas) == 41 and np.all(np.isfinite(losses))
    assert "Deep linear" in sv.banner.text()


def test_each_plot_of_the_slide_is_one_lesson_preset_away(tab, qtbot):
    """The challenges lesson's Try-its for the course's four interpolation plots each open their
    situation and start training it."""
    from dlopt_core.course.lessons import load_lessons, load_presets

    presets = load_presets()
    lesson = next(x for x in load_lessons() if x.id == "challenges")
    linked = [pid for _, pid in lesson.links]
    slide = {
        "interpolation_lstm": "lstm",
        "interpolation_adversarial": "adversarial",
        "interpolation_relu": "relu_net",
        "interpolation_linear": "deep_linear",
    }
    assert [pid for pid in linked if pid in slide] == list(slide)  # in the slide's order
    sv = tab.shape
    for pid, key in slide.items():
        tab.load_preset(presets[pid])
        assert sv.situation.currentData() == key and sv.busy, pid
        sv.cancel()
        qtbot.waitUntil(lambda: not sv.busy, timeout=4 * TIMEOUT)


@pytest.mark.parametrize("challenge", ["saddle", "cliff", "ill_conditioning"])
def test_the_map_is_shaded_wherever_it_shows_and_keeps_the_paths(tab, qtbot, challenge):
    fv = tab.functions
    fv.load_challenge(challenge, play=False)
    vb = fv.map.getViewBox()

    def covered() -> bool:
        (vx0, vx1), (vy0, vy1) = vb.viewRange()
        b = fv.field_bounds()
        return b is not None and b[0] <= vx0 and vx1 <= b[1] and b[2] <= vy0 and vy1 <= b[3]

    qtbot.waitUntil(covered, timeout=TIMEOUT)  # no white band beside the aspect-locked map
    (vx0, vx1), (vy0, vy1) = vb.viewRange()
    rx0, rx1, ry0, ry1 = fv.reach()
    for r in fv.results:
        pts = r.trajectory.path
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        inside = (np.clip(pts[:, 0], rx0, rx1), np.clip(pts[:, 1], ry0, ry1))
        assert np.all((vx0 <= inside[0]) & (inside[0] <= vx1)), r.spec.label
        assert np.all((vy0 <= inside[1]) & (inside[1] <= vy1)), r.spec.label
    # a pan beyond the field gets a new one, shaded too
    vb.setRange(xRange=(vx1, vx1 + (vx1 - vx0)), yRange=(vy0, vy1), padding=0.0)
    qtbot.waitUntil(covered, timeout=TIMEOUT)


def test_a_path_that_runs_away_leaves_the_map_to_the_one_that_converges(tab, qtbot):
    """Lesson 4's valley_gd: GD just below 2/λmax zig-zags across the narrow valley, GD just
    above it blows up. The view fits the zig-zag (the function's region), not the blow-up,
    and the zig-zag is drawn over the path that runs away."""
    from dlopt_core.course.lessons import load_presets

    preset = load_presets()["valley_gd"]
    tab.load_preset(preset)
    fv = tab.functions
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    converging, runaway = fv.results
    assert converging.distances[-1] < 0.1 * converging.distances[0]
    assert runaway.distances[-1] > 100 * runaway.distances[0]
    (vx0, vx1), (vy0, vy1) = fv.map.getViewBox().viewRange()
    pts = converging.trajectory.path
    assert vx0 <= pts[:, 0].min() and pts[:, 0].max() <= vx1
    assert vy0 <= pts[:, 1].min() and pts[:, 1].max() <= vy1
    (x0, x1), (y0, y1) = fv.fn.bounds
    assert vy1 - vy0 <= 1.1 * max(y1 - y0, np.ptp(pts[:, 1]))  # fitted, not widened
    # the zig-zag: across the valley at every step (the steep coordinate changes sign)
    angle = np.radians(preset.function_params["angle"])
    steep = -np.sin(angle) * pts[:40, 0] + np.cos(angle) * pts[:40, 1]
    assert np.all(np.sign(steep[1:]) != np.sign(steep[:-1]))
    assert fv.paths[0].zValue() > fv.paths[1].zValue()


def test_paths_are_computed_off_the_gui_thread_while_the_view_answers(tab, qtbot, monkeypatch):
    from app.landscape import paths

    fv = tab.functions
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    gate, where = threading.Event(), []
    real = paths.run_all

    def held(*args):
        where.append(threading.get_ident())
        gate.wait(10)
        return real(*args)

    monkeypatch.setattr(paths, "run_all", held)
    fv.recompute()
    qtbot.waitUntil(lambda: bool(where), timeout=TIMEOUT)
    assert where[0] != threading.get_ident() and not fv.paths_ready
    ticks = []
    QTimer.singleShot(0, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: bool(ticks), timeout=2000)  # the GUI answers meanwhile
    fv.set_playing(True)  # and takes commands
    gate.set()
    qtbot.waitUntil(lambda: fv.paths_ready, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: max(fv.path_lengths(), default=0) > 3, timeout=TIMEOUT)


def test_damaged_content_files_leave_a_message_and_the_rest_of_the_tab_works(
    qtbot, tmp_path, monkeypatch
):
    """A damaged challenges file and a damaged situations file: the tab opens, says which file
    and entry are wrong in place of what they would show, and the rest (the network presets,
    the 2-D functions, the user's own network) still works."""
    import shutil

    from dlopt_core.data.resources import resources_dir

    copy = tmp_path / "res"
    shutil.copytree(resources_dir(), copy)
    (copy / "landscape" / "challenges.json").write_text('{"valley": {"start": 3}}')
    (copy / "landscape" / "situations.json").write_text("{")
    monkeypatch.setenv("DLOPT_RESOURCES", str(copy))
    ls.get_challenges.cache_clear()
    try:
        t = LandscapeTab()
        qtbot.addWidget(t)
        view = t.challenges
        assert not view.challenge_buttons
        assert any("landscape/challenges.json: valley: " in p for p in view.problems)
        assert view.banner.kind == "error" and "challenges.json: valley" in view.banner.text()
        assert view.preset_buttons  # the network situations are fine
        assert view.open_preset("bad_init", "zeros") is not None
        assert t.shape.situations == {}
        assert t.shape.banner.kind == "error"
        assert "landscape/situations.json" in t.shape.banner.text()
        fv = t.functions  # the 2-D functions view works as ever
        fv.function.setCurrentIndex(fv.function.findData("himmelblau"))
        assert fv.fn.name == "himmelblau"
        t.shutdown()
    finally:
        ls.get_challenges.cache_clear()
