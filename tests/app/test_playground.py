"""The Playground tab end to end: live training in the worker thread, banners, files, shutdown."""

import json
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app import worker as worker_module
from app.playground.status import divergence_text, loss_ratio
from app.window import MainWindow
from app.worker import TrainingWorker
from dlopt_core.train.experiment import Experiment, example

TIMEOUT = 15_000  # ms; generous for a cold Numba cache on a slow machine


def small(**patch) -> Experiment:
    raw = {
        "data": {"kind": "spiral", "n_samples": 200},
        "network": {"hidden": [6, 6]},
        "optimizer": {"name": "adam", "lr": 0.01},
        "training": {"batch_size": 10, "eval_every": 10},
    }
    for key, value in patch.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return Experiment.from_dict(raw)


@pytest.fixture
def make_window(qtbot):
    windows = []

    def make(exp: Experiment | None = None, persist: bool = False) -> MainWindow:
        win = MainWindow(exp or small(), persist=persist)
        qtbot.addWidget(win)
        win.show()
        windows.append(win)
        tab = win.playground
        qtbot.waitUntil(
            lambda: tab.snapshot is not None and tab.build_info is not None, timeout=TIMEOUT
        )
        return win

    yield make
    for win in windows:
        win.close()
        assert win.playground.controller.thread.isFinished()


def snap_step(win: MainWindow) -> int:
    snap = win.playground.snapshot
    return -1 if snap is None else snap.step


def test_change_data_and_network_then_play(make_window, qtbot):
    win = make_window()
    tab = win.playground
    combo = tab.data_panel.kind
    combo.setCurrentIndex(combo.findData("circle"))
    combo.activated.emit(combo.currentIndex())
    tab.network_panel.add_layer.click()
    exp = tab.experiment
    assert exp.data.kind == "circle"
    assert exp.network.hidden == (6, 6, 6)
    qtbot.waitUntil(
        lambda: tab.build_info is not None and tab.build_info.layer_sizes == (2, 6, 6, 6, 1),
        timeout=TIMEOUT,
    )
    tab.transport.play.trigger()
    qtbot.waitUntil(lambda: snap_step(win) > 300, timeout=TIMEOUT)
    first = tab.curves.loss.point_count("train")
    qtbot.waitUntil(lambda: tab.curves.loss.point_count("train") > first + 5, timeout=TIMEOUT)
    assert tab.curves.loss.point_count("val") > 5
    assert tab.curves.error.point_count("val") > 5
    assert "steps/s" in tab.status.speed.text()
    assert "train loss" in tab.status.losses.text()
    qtbot.waitUntil(lambda: tab.boundary is not None and tab.boundary.step > 0, timeout=TIMEOUT)
    assert tab.boundary.values.shape == (80, 80)
    assert len(tab.boundary.thumbnails) == 4  # three hidden layers and the output


def test_pause_then_step_one_chunk(make_window, qtbot):
    win = make_window()
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 100, timeout=TIMEOUT)
    tab.play(False)
    qtbot.waitUntil(lambda: not tab.snapshot.playing, timeout=TIMEOUT)
    paused_at = snap_step(win)
    tab.transport.set_speed(50)
    tab.transport.step.trigger()
    qtbot.waitUntil(lambda: snap_step(win) == paused_at + 50, timeout=TIMEOUT)
    assert not tab.transport.play.isChecked()
    qtbot.keyClick(win, Qt.Key.Key_S)  # the shortcut does the same
    qtbot.waitUntil(lambda: snap_step(win) == paused_at + 100, timeout=TIMEOUT)


def test_after_a_pause_the_inspector_shows_the_last_steps_update(make_window, qtbot, monkeypatch):
    """Paused at full speed between the chunks that keep their last step apart (``PREV_EVERY_S``
    made long: as for most chunks), the inspector shows the update from step N - 1 to the step N
    shown, as a run trained in one go to N gives it, not that of an earlier step."""
    monkeypatch.setattr(worker_module, "PREV_EVERY_S", 1e9)
    win = make_window()
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 300, timeout=TIMEOUT)
    tab.play(False)
    qtbot.waitUntil(lambda: not tab.snapshot.playing, timeout=TIMEOUT)
    step = snap_step(win)
    _, net, engine = tab.experiment.build()
    engine.run(step - 1)
    before = [W for W, _ in net.unflatten(engine.eval_theta()[0].copy())]
    engine.run(1)
    after = [W for W, _ in net.unflatten(engine.eval_theta()[0])]
    want = [np.linalg.norm(a - b) / np.linalg.norm(a) for a, b in zip(after, before, strict=True)]
    qtbot.waitUntil(
        lambda: (
            None not in tab.inspector.ratios()
            and np.allclose(tab.inspector.ratios(), want, rtol=1e-9, atol=0.0)
        ),
        timeout=TIMEOUT,
    )
    assert tab.snapshot.step == step


def test_learning_rate_changes_while_training_without_reset(make_window, qtbot):
    win = make_window()
    tab = win.playground
    tab.transport.set_speed(20)
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 200, timeout=TIMEOUT)
    changed_at = snap_step(win)
    tab.optimizer_panel.lr.spin.setValue(0.05)
    assert tab.experiment.optimizer.lr == 0.05
    qtbot.waitUntil(lambda: tab.snapshot.lr == 0.05, timeout=TIMEOUT)
    assert tab.snapshot.step >= changed_at  # no reset
    qtbot.waitUntil(lambda: snap_step(win) > changed_at + 100, timeout=TIMEOUT)
    assert tab.snapshot.optimizer.name == "adam"
    assert tab.snapshot.opt_steps >= tab.snapshot.step  # Adam's state was kept


def test_switching_the_optimizer_applies_live(make_window, qtbot):
    win = make_window()
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 100, timeout=TIMEOUT)
    combo = tab.optimizer_panel.combo
    combo.setCurrentIndex(combo.findData("momentum"))
    assert tab.experiment.optimizer.name == "momentum"
    assert tab.experiment.optimizer.lr == 0.01  # the rate carries over
    at = snap_step(win)
    qtbot.waitUntil(lambda: tab.snapshot.optimizer.name == "momentum", timeout=TIMEOUT)
    assert tab.snapshot.step >= at


def test_divergence_shows_a_banner_and_no_nan_curves(make_window, qtbot):
    exp = small(
        data={"kind": "plane"}, optimizer={"name": "sgd", "lr": 10.0}, network={"hidden": [4]}
    )
    win = make_window(exp)
    tab = win.playground
    assert "regression" in tab.data_panel.task.text()
    tab.play(True)
    qtbot.waitUntil(lambda: tab.banner.isVisible(), timeout=TIMEOUT)
    snap = tab.snapshot
    assert snap.status == "diverged" and not snap.playing
    assert tab.banner.text() == divergence_text(snap.stop_step)
    assert "try a smaller learning rate or gradient clipping" in tab.banner.text()
    qtbot.waitUntil(lambda: not tab.transport.play.isChecked(), timeout=TIMEOUT)
    for plot in (tab.curves.loss, tab.curves.error, tab.curves.grad):
        for key in ("train", "val", "grad"):
            if key in plot._main:
                _, y = plot.curve_data(key)
                assert np.all(np.isfinite(y))
    assert tab.curves.loss.marker("diverged")[0] == snap.stop_step
    # the plots still show the run: on a log axis, from the first value to the last finite one
    assert tab.curves.log_box.isChecked()
    train = snap.history["train_loss"]
    finite = train[np.isfinite(train)]
    lo, hi = tab.curves.loss.getViewBox().viewRange()[1]
    assert lo <= np.log10(finite.min()) and np.log10(finite.max()) <= hi
    assert len(finite) >= 2 and tab.curves.loss.point_count("train") == len(finite)
    tab.play(True)  # nothing to train: stays paused, banner stays
    qtbot.waitUntil(lambda: not tab.transport.play.isChecked(), timeout=TIMEOUT)
    tab.reset()
    qtbot.waitUntil(lambda: snap_step(win) == 0 and not tab.banner.isVisible(), timeout=TIMEOUT)
    assert not tab.curves.log_box.isChecked()  # the user's own choice is back


def test_a_loss_far_above_its_start_says_not_converging(make_window, qtbot):
    win = make_window(small(optimizer={"name": "sgd", "lr": 10.0}))
    tab = win.playground
    tab.run_until(3000)
    qtbot.waitUntil(lambda: "not converging" in tab.banner.text(), timeout=TIMEOUT)
    assert tab.banner.kind == "warning" and "\u00d7 its initial value" in tab.banner.text()
    assert "try a smaller learning rate" in tab.banner.text()
    ratio = loss_ratio(tab.snapshot.history["train_loss"])
    assert ratio is not None and ratio >= 2.0
    tab.optimizer_panel.lr.spin.setValue(0.01)  # a sensible rate: the loss falls, the note goes
    tab.reset()
    tab.run_until(3000)
    qtbot.waitUntil(lambda: tab.shown_up_to(3000), timeout=TIMEOUT)
    assert not tab.banner.isVisible()


def test_loss_ratio_is_the_recent_median_over_the_start():
    assert loss_ratio(np.ones(10)) is None  # too few points yet
    values = np.r_[0.5, np.full(30, 5.0), np.nan]
    assert loss_ratio(values) == pytest.approx(10.0)
    assert loss_ratio(np.r_[0.0, np.ones(30)]) is None


def test_early_stopping_and_step_budget_pause_with_a_banner(make_window, qtbot):
    exp = small(
        data={"kind": "circle", "val_fraction": 0.5, "noise": 0.3},
        network={"hidden": [16, 16]},
        optimizer={"lr": 0.03},
        training={"early_stopping": 3, "eval_every": 5},
    )
    win = make_window(exp)
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(lambda: tab.banner.isVisible(), timeout=TIMEOUT)
    assert tab.snapshot.status == "early_stopped"
    assert "early stopping" in tab.banner.text()
    assert tab.curves.loss.marker("early_stopped") is not None

    tab.training_panel.patience.setValue(0)
    tab.training_panel.max_steps.setValue(120)  # a stop condition applies live, no rebuild
    tab.reset()
    qtbot.waitUntil(lambda: snap_step(win) == 0, timeout=TIMEOUT)
    tab.play(True)
    qtbot.waitUntil(lambda: "step budget" in tab.banner.text(), timeout=TIMEOUT)
    assert tab.snapshot.step == 120 and not tab.snapshot.playing


def test_multiclass_and_regression_outputs(make_window, qtbot):
    win = make_window(small(data={"kind": "gaussians", "n_classes": 3}))
    tab = win.playground
    assert "3 classes" in tab.data_panel.task.text()
    assert tab.data_panel.n_classes.isVisibleTo(tab.data_panel)
    qtbot.waitUntil(lambda: tab.boundary is not None, timeout=TIMEOUT)
    assert tab.boundary.values.shape == (80, 80, 3)
    tab.output.discrete.setChecked(True)
    img = tab.output.image.image
    assert img.shape == (159, 159, 4) and img.dtype == np.uint8  # refined 2x for display

    combo = tab.data_panel.kind
    combo.setCurrentIndex(combo.findData("bumps"))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: tab.build_info.task == "regression", timeout=TIMEOUT)
    assert not tab.data_panel.n_classes.isVisibleTo(tab.data_panel)
    assert "RMSE" in tab.curves.error.title


def test_features_need_one_and_rebuild_the_input_layer(make_window, qtbot):
    win = make_window()
    tab = win.playground
    buttons = tab.features_panel.buttons
    buttons["x1^2"].click()
    buttons["sin(x1)"].click()
    qtbot.waitUntil(lambda: tab.build_info.layer_sizes[0] == 4, timeout=TIMEOUT)
    for name in ("x1", "x2", "x1^2"):
        buttons[name].click()
    assert tab.experiment.network.features == ("sin(x1)",)
    buttons["sin(x1)"].click()  # the last one stays on
    assert buttons["sin(x1)"].isChecked()
    qtbot.waitUntil(lambda: tab.build_info.layer_sizes[0] == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: tab.boundary is not None, timeout=TIMEOUT)  # still a 2-D picture


def test_save_and_reopen_gives_the_same_experiment(make_window, qtbot, tmp_path, monkeypatch):
    win = make_window()
    tab = win.playground
    tab.optimizer_panel.lr.spin.setValue(0.003)
    tab.training_panel.clip.setValue(2.0)
    tab.network_panel.remove_layer.click()
    assert win.isWindowModified()
    path = tmp_path / "run.json"
    monkeypatch.setattr(
        "app.window_files.QFileDialog.getSaveFileName", lambda *a, **k: (str(path), "")
    )
    assert win.save()
    assert not win.isWindowModified()
    saved = tab.experiment

    other = make_window(small(data={"kind": "xor"}))
    assert other.open_file(str(path))
    qtbot.waitUntil(lambda: other.path == str(path.resolve()), timeout=TIMEOUT)
    assert other.experiment == saved
    assert other.playground.optimizer_panel.lr.value() == 0.003
    assert other.playground.network_panel.hidden() == (6,)
    assert str(path.resolve()) in other.windowTitle() or path.name in other.windowTitle()


def test_a_malformed_file_shows_an_error_and_keeps_the_experiment(
    make_window, tmp_path, monkeypatch
):
    win = make_window()
    before = win.experiment
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": {"kind": "spiral", "noise": }', encoding="utf-8")
    assert not win.open_file(str(bad))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"model": "resnet", "epochs": 3}), encoding="utf-8")
    assert not win.open_file(str(foreign))
    assert len(shown) == 2
    assert "not valid JSON" in shown[0]
    assert "unknown key" in shown[1]
    assert win.experiment == before
    assert win.playground.data_panel.spec() == before.data


def test_a_bad_csv_reports_and_restores_the_previous_data(
    make_window, qtbot, tmp_path, monkeypatch
):
    win = make_window()
    before = win.experiment
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    csv = tmp_path / "broken.csv"
    csv.write_text("a,b,label\n1,2,0\n3,oops,1\n", encoding="utf-8")
    win.playground.data_panel.set_csv_path(str(csv))
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=TIMEOUT)
    assert "broken.csv" in shown[0] or "line" in shown[0]
    qtbot.waitUntil(lambda: win.experiment == before, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: win.playground.build_info is not None, timeout=TIMEOUT)
    assert win.playground.data_panel.spec().kind == before.data.kind


def test_a_csv_with_many_columns_shows_a_message_instead_of_the_boundary(
    make_window, qtbot, tmp_path
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    path = tmp_path / "four.csv"
    rows = ["a,b,c,d,label"] + [
        ",".join(f"{v:.5f}" for v in x) + f",{t}" for x, t in zip(X, y, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    win = make_window()
    tab = win.playground
    tab.features_panel.buttons["x1*x2"].click()
    tab.data_panel.set_csv_path(str(path))
    qtbot.waitUntil(
        lambda: tab.build_info is not None and tab.build_info.n_inputs == 4, timeout=TIMEOUT
    )
    assert tab.experiment.network.features == ("x1", "x2")  # derived features were dropped
    assert tab.output.pages.currentWidget() is tab.output.message
    assert not tab.features_panel.buttons["x1^2"].isEnabled()
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 50, timeout=TIMEOUT)


def test_settings_keep_the_experiment_and_geometry(
    make_window, qtbot, isolated_settings, monkeypatch
):
    win = make_window(small(name="remember me", data={"kind": "moons"}), persist=True)
    saved_geometry = win.saveGeometry()
    win.close()
    assert isolated_settings.exists()
    restored = []
    monkeypatch.setattr(MainWindow, "restoreGeometry", lambda self, g: restored.append(g))
    again = MainWindow(persist=True)
    qtbot.addWidget(again)
    try:
        assert again.experiment.name == "remember me"
        assert again.experiment.data.kind == "moons"
        assert restored and bytes(restored[0]) == bytes(saved_geometry)
    finally:
        again.close()
    assert again.playground.controller.thread.isFinished()


def test_closing_while_training_stops_the_worker(make_window, qtbot):
    # how quickly is a benchmark's question (benchmarks/bench_gui.py): here, that it ends at all
    win = make_window(small(data={"n_samples": 2000}))
    tab = win.playground
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 200, timeout=TIMEOUT)
    win.close()
    assert tab.controller.thread.isFinished()


def test_hover_readout_smoothing_and_exports(make_window, qtbot, tmp_path):
    win = make_window()
    tab = win.playground
    tab.run_until(400)
    qtbot.waitUntil(lambda: tab.shown_up_to(400), timeout=TIMEOUT)
    text = tab.curves.loss.hover_at_step(200)
    assert text.startswith("step 200") and "train" in text and "validation" in text
    _, raw = tab.curves.loss.curve_data("train")
    tab.curves.smooth_box.setChecked(True)
    tab.curves.log_box.setChecked(True)
    _, smooth = tab.curves.loss.curve_data("train")
    assert len(smooth) == len(raw) and not np.allclose(smooth, raw)
    assert tab.curves.loss.hover_at_step(200) == text  # the read-out shows raw values
    csv_path = tmp_path / "curves.csv"
    rows = tab.export_curves(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("step,epoch,train_loss,val_loss")
    assert rows == 41 and len(lines) == rows + 1  # steps 0, 10, ..., 400
    png = tmp_path / "plot.png"
    assert tab.export_plot(png) and png.stat().st_size > 1000


def test_space_reaches_play_pause_from_a_number_box_but_text_fields_keep_it(make_window, qtbot):
    from PySide6.QtWidgets import QLineEdit

    win = make_window()
    tab = win.playground
    qtbot.waitExposed(win)
    spin = tab.optimizer_panel.lr.spin
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "3e-3")  # typing a rate (the exponent's e included) still works
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 0.003 and tab.experiment.optimizer.lr == 0.003
    assert spin.hasFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tab.snapshot.playing, timeout=TIMEOUT)
    assert spin.text() == "0.003"  # the space was not typed into the box
    qtbot.keyClick(tab.data_panel.seed, Qt.Key.Key_Space)  # an integer box too
    qtbot.waitUntil(lambda: not tab.snapshot.playing, timeout=TIMEOUT)
    # a text field types a space as usual
    edit = QLineEdit()
    tab.classroom_note.parentWidget().layout().addWidget(edit)
    edit.setFocus()
    qtbot.keyClicks(edit, "a b")
    assert edit.text() == "a b" and not tab.transport.play.isChecked()


def test_space_plays_and_pauses_and_the_mouse_shows_a_readout(make_window, qtbot):
    win = make_window()
    tab = win.playground
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tab.snapshot.playing and snap_step(win) > 200, timeout=TIMEOUT)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not tab.snapshot.playing, timeout=TIMEOUT)
    assert not tab.transport.play.isChecked()
    plot = tab.curves.loss
    center = plot.getViewBox().sceneBoundingRect().center()
    qtbot.mouseMove(plot.viewport(), plot.mapFromScene(center))
    qtbot.waitUntil(lambda: plot._readout.isVisible(), timeout=TIMEOUT)
    assert plot._readout.textItem.toPlainText().startswith("step ")


def test_training_settings_apply_live_but_batch_size_rebuilds(make_window, qtbot):
    win = make_window()
    tab = win.playground
    tab.transport.set_speed(20)
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 200, timeout=TIMEOUT)
    generation = tab.controller.generation
    tab.training_panel.clip.setValue(1.0)
    tab.training_panel.eval_every.setValue(5)
    assert tab.controller.generation == generation  # no rebuild
    at = snap_step(win)
    qtbot.waitUntil(lambda: snap_step(win) > at + 100, timeout=TIMEOUT)
    steps = tab.snapshot.history_steps
    assert steps[-1] - steps[-2] == 5  # the new evaluation interval is in use
    tab.training_panel.batch.setValue(32)
    assert tab.controller.generation == generation + 1
    assert tab.experiment.training.batch_size == 32
    qtbot.waitUntil(lambda: tab.snapshot is not None and tab.snapshot.playing, timeout=TIMEOUT)
    assert tab.build_info.steps_per_epoch == -(-tab.build_info.n_train // 32)


def test_adversarial_training_is_a_training_setting_that_reaches_the_engine(make_window, qtbot):
    win = make_window()
    tab = win.playground
    panel = tab.training_panel
    assert panel.adv_eps.text() == "off" and not panel.adv_clean.isEnabled()
    assert "FGSM" in panel.adv_eps.toolTip() and "sign" in panel.adv_eps.toolTip()
    assert "clean" in panel.adv_clean.toolTip()
    generation = tab.controller.generation
    panel.adv_eps.setValue(0.1)
    assert panel.adv_clean.isEnabled()
    assert tab.experiment.training.adversarial_eps == 0.1
    panel.adv_clean.setValue(0.3)
    assert tab.controller.generation == generation  # applied to the running run, no restart
    train = tab.experiment.training
    assert (train.adversarial_eps, train.adversarial_clean_weight) == (0.1, 0.3)
    engine = lambda: tab.controller.worker._engine  # noqa: E731
    qtbot.waitUntil(lambda: engine() is not None and engine().train == train, timeout=TIMEOUT)
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 100, timeout=TIMEOUT)
    assert np.isfinite(tab.snapshot.history["train_loss"][-1])
    # a file with adversarial settings shows them
    exp = small(training={"adversarial_eps": 0.25, "adversarial_clean_weight": 0.0})
    tab.set_experiment(exp)
    assert panel.adv_eps.value() == 0.25 and panel.adv_clean.value() == 0.0
    assert tab.experiment.training == exp.training


def test_the_worker_applies_adversarial_settings_to_a_running_engine(qtbot):
    from dataclasses import replace

    from app.worker import TrainingWorker

    worker = TrainingWorker()
    exp = small()
    worker.rebuild(exp, 0)
    assert worker._engine is not None and worker._engine.train.adversarial_eps == 0.0
    worker.set_training(replace(exp.training, adversarial_eps=0.1, adversarial_clean_weight=0.2))
    train = worker._engine.train
    assert (train.adversarial_eps, train.adversarial_clean_weight) == (0.1, 0.2)


def test_a_start_with_a_missing_csv_falls_back_to_the_example(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    exp = Experiment.from_dict({"data": {"kind": "csv", "path": str(tmp_path / "gone.csv")}})
    win = MainWindow(exp, persist=False)
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: len(shown) == 1, timeout=TIMEOUT)
        assert "gone.csv" in shown[0]
        qtbot.waitUntil(lambda: win.playground.build_info is not None, timeout=TIMEOUT)
        assert win.experiment == example()
    finally:
        win.close()
    assert win.playground.controller.thread.isFinished()


def test_preparing_the_kernels_shows_the_seconds_until_ready(make_window):

    win = make_window()
    tab = win.playground
    tab._info = None  # as before the first build
    tab._on_kernels_preparing()
    assert tab._prep_timer.isActive()
    assert tab.status.kernels.text() == "preparing kernels\u2026"
    tab._prep_started = time.monotonic() - 7.2  # seven seconds into the compile
    tab._show_preparing()
    assert tab.status.kernels.text() == "preparing kernels\u2026 7 s"
    assert "7 s" in tab.output.message.text()
    tab._on_kernels_ready(7.5)
    assert not tab._prep_timer.isActive() and tab.status.kernels.text() == ""


def test_a_files_fine_data_settings_are_kept_exactly(qtbot):
    from app.playground.data_panel import DataPanel
    from dlopt_core.train.experiment import DataSpec

    panel = DataPanel()
    qtbot.addWidget(panel)
    spec = DataSpec(kind="moons", n_samples=300, noise=0.025, val_fraction=0.125, seed=4)
    panel.set_spec(spec)
    assert panel.noise.text() == "0.025" and panel.val_fraction.text() == "0.125"
    assert panel.spec() == spec
    panel.noise.stepBy(1)  # + 0.05, without float noise in the experiment
    assert panel.spec().noise == 0.075


def test_a_long_live_run_draws_a_rate_change_at_its_step(make_window, qtbot):
    """100,000 steps in the window: the start stays resolved and a change of learning rate
    made at step 60,000 is drawn there (not smeared back to step 0)."""
    exp = small(
        data={"kind": "gaussians", "n_samples": 100},
        network={"hidden": []},
        optimizer={"name": "sgd", "lr": 0.01},
        training={"batch_size": 1, "eval_every": 4},
    )
    win = make_window(exp)
    tab = win.playground
    tab.run_until(60_000)
    qtbot.waitUntil(lambda: tab.shown_up_to(60_000), timeout=4 * TIMEOUT)
    tab.optimizer_panel.lr.spin.setValue(0.5)
    qtbot.waitUntil(lambda: tab.snapshot.optimizer.lr == 0.5, timeout=TIMEOUT)
    tab.run_until(100_000)
    qtbot.waitUntil(lambda: tab.shown_up_to(100_000), timeout=4 * TIMEOUT)
    tab.curves.show_small(
        tab.snapshot.history_steps, tab.snapshot.history, tab.snapshot.history_bands
    )  # drawn now, not at the next refresh
    steps = tab.snapshot.history_steps
    stride = np.diff(steps)[0]
    assert stride >= 4 * 4  # the history was thinned
    x, lr = tab.curves.lr.curve_data("lr")
    assert lr[0] == 0.01 and np.all(lr[x <= 60_000] == 0.01) and np.all(lr[x > 60_000] == 0.5)
    assert x[x > 60_000].min() - x[x <= 60_000].max() <= stride
    x, _ = tab.curves.loss.curve_data("train")
    assert np.count_nonzero(x <= 5_000) >= 5


@pytest.mark.parametrize(
    "patch",
    [
        {"optimizer": {"name": "sgd", "lr": 1000.0}},
        {"optimizer": {"name": "adam", "lr": 1e-12}},
        {"optimizer": {"name": "momentum", "lr": 0.1, "momentum": 0.999}},
        {"training": {"polyak": 0.99999}},
        {
            "training": {
                "batch_size": 100_000,
                "clip_norm": 1e6,
                "l1": 10.0,
                "early_stopping": 100_000,
                "eval_every": 100_000,
            }
        },
        {"max_steps": 10**9, "target_loss": 1e6},
        {"data": {"n_samples": 100_000, "noise": 10.0, "val_fraction": 0.9, "seed": 2**32 - 1}},
        {"network": {"hidden": [256] * 6, "init": "normal", "init_std": 100.0}},
        {"schedule": {"name": "warmup_cosine", "warmup": 100_000, "T_max": 10**7}},
    ],
    ids=lambda patch: "-".join(f"{k}" for k in patch),
)
def test_the_panels_show_every_value_an_experiment_allows(qtbot, patch):
    """What the panels show is what the experiment holds, up to the ends of every range an
    experiment file may use: a value a panel clamped (a learning rate of 1000 shown as 10)
    would train one experiment and show, and on the next edit save, another."""
    from app.playground.data_panel import DataPanel
    from app.playground.network_panel import NetworkPanel
    from app.playground.optimizer_panel import OptimizerPanel
    from app.playground.training_panel import TrainingPanel

    exp = Experiment.from_dict(patch)
    data, net, opt, train = DataPanel(), NetworkPanel(), OptimizerPanel(), TrainingPanel()
    for panel in (data, net, opt, train):
        qtbot.addWidget(panel)
    data.set_spec(exp.data)
    net.set_spec(exp.network)
    opt.set_optimizer(exp.optimizer)
    opt.set_schedule(exp.schedule)
    train.set_values(exp.training, exp.max_steps, exp.target_loss)
    assert data.spec() == exp.data
    assert net.spec(exp.network.features) == exp.network
    assert opt.optimizer() == exp.optimizer
    assert opt.schedule_value() == exp.schedule
    assert train.config() == exp.training
    assert train.stops() == (exp.max_steps, exp.target_loss)


def test_the_rate_box_takes_every_rate_the_optimizers_allow(qtbot):
    """The slider spans 1e-5 to 10; the box beside it takes a typed 1000 (the highest rate
    of every rule) and leaves the slider at its end."""
    from app.playground.optimizer_panel import LR_BOX, OptimizerPanel
    from dlopt_core.train.optimizers import OPTIMIZERS

    assert {
        next(s.high for s in info.params if s.name == "lr") for info in OPTIMIZERS.values()
    } == {LR_BOX[1]}
    panel = OptimizerPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.optimizerChanged):
        panel.lr.spin.lineEdit().setText("1000")
        panel.lr.spin.interpretText()
    assert panel.optimizer().lr == 1000.0
    assert panel.lr.slider.value() == panel.lr.slider.maximum()


def test_slow_curves_do_not_starve_the_other_views(make_window, monkeypatch):
    """While it trains, curves that take longer to draw than their interval still leave
    ticks for the boundary, the small plots and the inspector (which otherwise stood still
    at an early step, under a title that named that step, for as long as the run went on)."""
    import dataclasses
    import types

    import app.playground.drawing as tab_module

    win = make_window()
    tab = win.playground
    tab._timer.stop()  # this test drives the refresh itself
    clock = [time.monotonic() + 10.0]
    monkeypatch.setattr(tab_module, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    ran = []

    def spy(name: str):
        real = getattr(tab, name)

        def job(snap, now, live):
            done = real(snap, now, live)
            if done:
                ran.append(name)
            return done

        return job

    for name in ("_job_curves", "_job_boundary", "_job_small", "_job_details"):
        monkeypatch.setattr(tab, name, spy(name))
    show_history = tab.curves.show_history

    def slow_curves(*args, **kwargs):
        clock[0] += 0.2  # longer than the curves' interval, as for a long run on a busy machine
        return show_history(*args, **kwargs)

    monkeypatch.setattr(tab.curves, "show_history", slow_curves)
    first = tab.snapshot
    for k in range(12):
        tab._latest = dataclasses.replace(first, playing=True, step=first.step + k + 1)
        tab._refresh()
        clock[0] += 1 / 30
    assert ran.count("_job_curves") >= 3
    assert ran.count("_job_small") >= 2 and ran.count("_job_details") >= 2


def test_layer_controls_reach_the_engine_and_rate_factors_apply_live(make_window, qtbot):
    win = make_window()
    tab = win.playground
    panel = tab.network_panel
    assert "mean-field" in panel.parameterization.toolTip()
    assert "bias" in panel.bias.toolTip()
    assert "times this" in panel.factors[0].toolTip() and panel.output_factor.isVisible()
    assert [b.isVisible() for b in panel.factors] == [True, True] + [False] * 4
    engine = lambda: tab.controller.worker._engine  # noqa: E731
    generation = tab.controller.generation
    panel.bias.setChecked(False)
    panel.parameterization.setCurrentIndex(panel.parameterization.findData("mean_field"))
    assert tab.controller.generation == generation + 2  # a new network: rebuilt
    assert not panel.init.isEnabled()  # mean-field weights start standard normal
    qtbot.waitUntil(
        lambda: (
            engine() is not None
            and not engine().network.bias
            and engine().network.parameterization == "mean_field"
        ),
        timeout=TIMEOUT,
    )
    assert engine().network.n_params == 2 * 6 + 6 * 6 + 6
    generation = tab.controller.generation
    panel.factors[1].setValue(0.0)
    panel.output_factor.setValue(4.0)
    assert tab.controller.generation == generation  # applied to the running run
    assert tab.experiment.layer_lr == (1.0, 0.0, 4.0)
    qtbot.waitUntil(lambda: engine().specs[0].layer_lr == (1.0, 0.0, 4.0), timeout=TIMEOUT)
    frozen = engine().network.layer_of_params() == 1
    before = engine().theta[0][frozen].copy()
    tab.play(True)
    qtbot.waitUntil(lambda: snap_step(win) > 50, timeout=TIMEOUT)
    tab.play(False)
    qtbot.waitUntil(lambda: not tab.snapshot.playing, timeout=TIMEOUT)
    assert np.array_equal(engine().theta[0][frozen], before)  # factor 0: the layer stays put
    # the views read the parameters of a network without biases where it keeps them
    assert tab.build_info.network.n_params == engine().network.n_params
    qtbot.waitUntil(lambda: tab.diagram._theta is not None, timeout=TIMEOUT)
    assert tab.diagram._theta.size == engine().network.n_params
    assert not tab._warned, f"views that failed: {tab._warned}"
    # an experiment file with the options shows them
    exp = small(
        network={"bias": False}, optimizer={"name": "sgd", "lr": 0.1, "layer_lr": [2.0, 1.0, 0.5]}
    )
    tab.set_experiment(exp)
    assert not panel.bias.isChecked() and panel.parameterization.currentData() == "standard"
    assert [panel.factors[0].value(), panel.factors[1].value(), panel.output_factor.value()] == [
        2.0,
        1.0,
        0.5,
    ]
    assert tab.experiment == exp


def test_a_large_set_says_its_curves_are_evaluated_on_a_sample(make_window, qtbot):
    win = make_window(small(data={"n_samples": 30_000}))
    tab = win.playground
    note = "evaluated on a sample of 20,000 of 24,000 training rows"
    assert tab.build_info.eval_note == note
    assert tab.status.sample.text() == "curves on a sample of rows"
    assert note in tab.status.sample.toolTip() and note in tab.curves.loss.toolTip()
    assert "curves on a sample of rows" in tab.status.text()
    tab.set_experiment(small())  # a small set: every row, and nothing said
    qtbot.waitUntil(lambda: tab.build_info.n_train == 160, timeout=TIMEOUT)
    assert tab.build_info.eval_note == "" and tab.status.sample.text() == ""
    assert tab.curves.loss.toolTip() == "" and not tab.status.sample.isVisibleTo(tab.status)


# -- the worker at rest: the inspector's one-step update is the one that led to the model shown,
# however training came to rest (pause, Step, Step-until, a stop condition)


def headless(exp: Experiment, step: int) -> tuple[np.ndarray, np.ndarray]:
    """The parameters at ``step - 1`` and at ``step`` of the same run, trained in one go."""
    _, _, engine = exp.build()
    engine.run(step - 1)
    prev = engine.eval_theta()[0].copy()
    engine.run(1)
    return prev, engine.eval_theta()[0].copy()


@pytest.fixture
def worker(qtbot, monkeypatch):
    """A worker in this thread whose chunks never keep their last step apart on the clock (as
    most chunks at full speed), so that only coming to rest can give the one-step update."""
    monkeypatch.setattr(worker_module, "PREV_EVERY_S", 1e9)
    w = TrainingWorker()
    w.snaps = []
    w.snapshotReady.connect(w.snaps.append)
    w.failed.connect(lambda _g, message: pytest.fail(message))
    yield w
    w.set_playing(False)  # (not shutdown: that ends the event loop of the thread it lives in)


def play(worker: TrainingWorker, qtbot, exp: Experiment, rest, until_stopped: bool = False):
    """Build ``exp``, play at full speed past a few chunks, bring training to rest with
    ``rest(worker)`` and return the snapshot that says it is at rest."""
    worker.rebuild(exp, 0)
    worker.set_speed(0)
    worker.set_playing(True, 1)
    if until_stopped:
        qtbot.waitUntil(lambda: not worker.snaps[-1].playing, timeout=TIMEOUT)
    else:
        qtbot.waitUntil(lambda: worker.snaps[-1].step > 150, timeout=TIMEOUT)
        rest(worker)
    snap = worker.snaps[-1]
    assert not snap.playing
    return snap


def check_update(exp: Experiment, snap) -> None:
    assert snap.prev_theta is not None, f"no one-step update at step {snap.step}"
    prev, theta = headless(exp, snap.step)
    np.testing.assert_array_equal(snap.theta, theta)
    np.testing.assert_array_equal(snap.prev_theta, prev)
    assert not np.array_equal(snap.prev_theta, snap.theta)


@pytest.mark.parametrize("training", [{}, {"polyak": 0.9}])
def test_a_pause_at_full_speed_shows_the_last_steps_update(worker, qtbot, training):
    exp = small(training=training)  # with Polyak averaging: the averages' update
    snap = play(worker, qtbot, exp, lambda w: w.set_playing(False, 2))
    check_update(exp, snap)
    at = snap.step
    worker.set_optimizer(exp.optimizer)  # a command at rest: the same model, the same update
    assert worker.snaps[-1].step == at
    np.testing.assert_array_equal(worker.snaps[-1].prev_theta, snap.prev_theta)


def test_play_until_and_step_show_the_last_steps_update(worker, qtbot):
    exp = small()
    worker.rebuild(exp, 0)
    worker.set_speed(0)
    worker.play_until(437, 1)
    qtbot.waitUntil(lambda: not worker.snaps[-1].playing, timeout=TIMEOUT)
    assert worker.snaps[-1].step == 437
    check_update(exp, worker.snaps[-1])
    for _ in range(2):  # one step right after the other
        worker.step_once(25, 2)
        check_update(exp, worker.snaps[-1])
    assert worker.snaps[-1].step == 487


@pytest.mark.parametrize(
    ("patch", "stop"),
    [
        ({"max_steps": 333}, "max_steps"),
        ({"target_loss": 0.62}, "target_loss"),
        (
            {
                "data": {"kind": "circle", "val_fraction": 0.5, "noise": 0.3},
                "network": {"hidden": [16, 16]},
                "optimizer": {"lr": 0.03},
                "training": {"early_stopping": 3, "eval_every": 5},
            },
            "early_stopped",
        ),
        (
            {
                "data": {"kind": "plane"},
                "optimizer": {"name": "sgd", "lr": 10.0},
                "network": {"hidden": [4]},
            },
            "diverged",
        ),
    ],
)
def test_a_stop_shows_the_update_that_led_to_the_stopped_model(worker, qtbot, patch, stop):
    exp = small(**patch)
    worker.set_stop_conditions(exp.max_steps, exp.target_loss)
    snap = play(worker, qtbot, exp, None, until_stopped=True)
    assert stop in (snap.stop_reason, snap.status)
    check_update(exp, snap)
