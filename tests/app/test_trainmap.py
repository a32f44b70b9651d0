"""The Compare tab's Trainability-map page, offscreen: tiles arrive coarse first, zoom, back and
forward, the read-out, a pixel's run, exports and the hand-over to the Playground."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPointF, QRectF, QStandardPaths  # noqa: E402

from app.compare import CompareTab, jobs  # noqa: E402
from app.compare.trainmap_ui import PRESETS  # noqa: E402
from dlopt_core.studies import trainability as tm  # noqa: E402
from dlopt_core.train.engine import Engine, ModelSpec  # noqa: E402
from dlopt_core.train.experiment import example  # noqa: E402


@pytest.fixture
def tab(qtbot, monkeypatch):
    monkeypatch.setattr(jobs, "MIN_REPORT_S", 0.0)  # every tile reaches the GUI
    widget = CompareTab(lambda: example())
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.pages.setCurrentWidget(widget.trainmap)
    view = widget.trainmap
    view.res.setValue(16)
    view.steps.setValue(30)
    view.width.setValue(4)
    yield widget
    assert widget.shutdown(5000)


def _compute(qtbot, tab):
    with qtbot.waitSignal(tab.runner.finished, timeout=60000):
        assert tab.trainmap.compute()
    return tab.trainmap.result


def test_the_map_fills_in_tile_by_tile_coarse_first(qtbot, tab):
    view = tab.trainmap
    partials = []
    real = view._show
    view._show = lambda r: (partials.append(r), real(r))
    result = _compute(qtbot, tab)
    assert result.complete and result.spec.res == (16, 16)
    first = partials[0]
    assert first.tiles_done == 1 and first.tiles_total == 4
    assert first.done[::2, ::2].all() and first.done.sum() == 64  # every other pixel
    assert np.isfinite(first.filled()).all()  # the coarse picture covers the whole map
    want = tm.trainability_map(tm.Problem.paper(4, 0), view.spec())
    assert result.value.tobytes() == want.value.tobytes()
    assert view.image.image.shape == (16, 16, 3)
    assert "complete" in view.map_plot.titleLabel.text
    assert view.fractal_note.label.isVisible() != (result.fractal.counts > 0).any()


def test_zoom_back_and_forward(qtbot, tab):
    view = tab.trainmap
    first = _compute(qtbot, tab).spec
    with qtbot.waitSignal(tab.runner.finished, timeout=60000):
        view.view.zoom_rect.emit(QRectF(QPointF(0.0, 1.0), QPointF(2.0, 2.5)))
    zoomed = view.result.spec
    assert zoomed.ranges == ((0.0, 2.0), (1.0, 2.5)) and zoomed.res == first.res
    assert view.lo_boxes[0].value() == 0.0 and view.hi_boxes[1].value() == 2.5
    assert view.back_button.isEnabled() and not view.forward_button.isEnabled()
    with qtbot.waitSignal(tab.runner.finished, timeout=60000):
        view.back_button.click()
    assert view.result.spec == first and view.forward_button.isEnabled()
    with qtbot.waitSignal(tab.runner.finished, timeout=60000):
        view.forward_button.click()
    assert view.result.spec == zoomed
    view.view.zoom_rect.emit(QRectF(QPointF(0.5, 1.5), QPointF(0.51, 1.51)))  # a sliver
    assert not tab.busy and view.result.spec == zoomed


def test_hover_and_click_read_a_pixel_and_train_its_run(qtbot, tab):
    view = tab.trainmap
    result = _compute(qtbot, tab)
    (lo0, hi0), (lo1, hi1) = result.spec.ranges
    point = QPointF(lo0 + 3 * (hi0 - lo0) / 15, lo1 + 12 * (hi1 - lo1) / 15)
    assert view.pixel_at(point) == (3, 12)
    assert view.pixel_at(QPointF(hi0 + 1.0, lo1)) is None
    text = view.describe_pixel(3, 12)
    assert f"lr1 = {result.values0[3]:.4g}" in text and f"lr2 = {result.values1[12]:.4g}" in text
    assert ("trains" if result.converged[3, 12] else "diverges") in text
    with qtbot.waitSignal(view.curve_runner.finished, timeout=30000):
        view.select(3, 12)
    want = tm.normalised_losses(tm.pixel_losses(view.problem, result.spec, 3, 12))
    np.testing.assert_array_equal(view.curve.yData, want)  # the data, before the log axis
    assert view.send_button.isEnabled()


def test_export_png_and_npz(qtbot, tab, tmp_path):
    view = tab.trainmap
    result = _compute(qtbot, tab)
    assert view.export_png(str(tmp_path / "m.png"))
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    assert view.export_npz(str(tmp_path / "m.npz"))
    with np.load(tmp_path / "m.npz") as npz:
        assert npz["value"].tobytes() == result.value.tobytes()
        np.testing.assert_array_equal(npz["lr1"], result.values0)
    assert not view.export_png(str(tmp_path / "missing" / "m.png"))
    assert "cannot be written" in tab.message.text()


def test_send_to_playground_carries_the_pixels_run(qtbot, tab):
    """Everything of the pixel's run but its initial weights: trained from the problem's
    weights, the Playground's experiment gives the map's own losses."""
    QStandardPaths.setTestModeEnabled(True)
    try:
        view = tab.trainmap
        result = _compute(qtbot, tab)
        i, j = map(int, np.argwhere(result.converged)[-1])  # the fastest rates that train
        with qtbot.waitSignal(view.curve_runner.finished, timeout=30000):
            view.select(i, j)
        assert "initial weights" in view.send_button.toolTip()
        with qtbot.waitSignal(tab.send_to_playground, timeout=2000) as sent:
            view.send_button.click()
        exp = sent.args[0]
        hyper = tm.pixel_hyper(result.spec, i, j)
        assert exp.network.hidden == (4,) and not exp.network.bias
        assert exp.network.parameterization == "mean_field"
        assert exp.optimizer.name == "sgd" and exp.optimizer.lr == 1.0
        assert exp.layer_lr == (hyper["lr1"], hyper["lr2"])
        assert exp.max_steps == 30 and exp.training.batch_size == 20
        data, net, _ = exp.build()
        assert len(data.X_train) == 20 and len(data.X_val) == 0
        problem = view.problem
        theta0 = np.concatenate([problem.W1.ravel(), problem.W2.ravel()])
        engine = Engine(
            net,
            data,
            [ModelSpec(exp.optimizer, exp.schedule, layer_lr=exp.layer_lr)],
            exp.training,
            theta0=theta0,
        )
        engine.run(exp.max_steps - 1)
        losses = tm.pixel_losses(problem, result.spec, i, j)
        # the CSV's rows come in another order: sums differ by round-off only
        np.testing.assert_allclose(engine.history.field("train_loss", 0), losses, rtol=1e-10)
    finally:
        QStandardPaths.setTestModeEnabled(False)


def test_every_preset_makes_a_map(tab):
    view = tab.trainmap
    for k, (name, _, fields) in enumerate(PRESETS):
        view.apply_preset(k)
        spec = view.spec()
        assert spec.axes == fields["axes"] and spec.ranges == fields["ranges"], name


def test_a_mini_batch_map(qtbot, tab):
    view = tab.trainmap
    view.batch.setValue(5)
    assert view.batch.text() == "5"
    result = _compute(qtbot, tab)
    assert result.spec.batch == 5
    want = tm.trainability_map(tm.Problem.paper(4, 0), view.spec())
    assert result.value.tobytes() == want.value.tobytes()
    view.batch.setValue(0)
    assert view.batch.text() == "full batch" and view.spec().batch == 0


def test_bad_settings_are_messages_not_runs(qtbot, tab):
    view = tab.trainmap
    view.run_on.setCurrentIndex(view.run_on.findData("address"))
    view.address.setText("")
    assert not view.compute() and not tab.busy
    assert "scheduler's address" in tab.message.text()
    view.run_on.setCurrentIndex(view.run_on.findData("inprocess"))
    view.lo_boxes[0].setValue(3.0)
    view.hi_boxes[0].setValue(1.0)
    assert not view.compute() and "LO < HI" in tab.message.text()
