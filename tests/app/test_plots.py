"""The training curves: decimation by step, min/max bands, log axes, automatic log after a
divergence, and a long run drawn from the engine's own history."""

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.curve_reduction import MAX_DRAWN, LiveReduction, decimate, decimate_band
from app.metric_plot import CurveSpec, MetricPlot
from app.playground.curves import CurvesPanel
from app.plots import LogAxis
from dlopt_core.train.engine import FIELDS, Engine, ModelSpec, TrainConfig
from dlopt_core.train.history import ENVELOPE_FIELDS
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer


def test_decimate_keeps_values_at_their_own_steps_and_keeps_spikes():
    rng = np.random.default_rng(0)
    # uneven steps: dense at the start, sparse later (as after a change of evaluation interval)
    x = np.r_[np.arange(0, 10_000, 1), np.arange(10_000, 1_000_000, 1000)].astype(float)
    y = rng.normal(size=len(x))
    y[5_000] = 50.0  # a spike
    xs, ys = decimate(x, y, 400)
    assert len(xs) <= 1.5 * 400 and np.all(np.diff(xs) > 0)
    lookup = dict(zip(x, y, strict=True))
    assert all(lookup[a] == b for a, b in zip(xs, ys, strict=True))  # every point is real
    assert 50.0 in ys
    # equal spans of steps, not of indices: the dense start gets 1 % of the points, not 90 %
    assert np.count_nonzero(xs < 10_000) < 0.05 * len(xs)


def test_decimate_draws_a_jump_between_the_two_steps_where_it_happened():
    x = np.arange(0, 300_001, 100, dtype=float)
    y = np.where(x < 123_456, 0.01, 10.0)
    xs, ys = decimate(x, y, 200)
    i = np.flatnonzero(np.diff(ys))
    assert len(i) == 1
    assert xs[i[0]] == 123_400 and xs[i[0] + 1] == 123_500
    assert np.all(ys[xs < 123_456] == 0.01)


def test_decimate_band_holds_each_spans_extremes():
    x = np.arange(10_000, dtype=float)
    lo, hi = -np.ones_like(x), np.ones_like(x)
    lo[777], hi[4321] = -9.0, 9.0
    xb, lb, hb = decimate_band(x, lo, hi, 100)
    assert len(xb) <= 100 and lb.min() == -9.0 and hb.max() == 9.0
    assert xb[np.argmin(lb)] <= 777 <= xb[np.argmin(lb) + 1]


def _long_run():
    """300,000 steps of a one-neuron network; the rate goes from 0.01 to 0.5 at step 200,000."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(512, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=512) > 0).astype(float)

    class Data:
        X_train, y_train, X_val, y_val = X, y, X[:64], y[:64]

    engine = Engine(
        Network([2, 1], "linear", "bce"),
        Data,
        [ModelSpec(make_optimizer("sgd", lr=0.01))],
        TrainConfig(batch_size=1, eval_every=64),
    )
    engine.run(200_000)
    engine.set_optimizer(0, make_optimizer("sgd", lr=0.5))
    engine.run(100_000)
    return engine.history


def test_a_long_run_draws_its_rate_change_at_its_step_and_keeps_its_start(qtbot):
    h = _long_run()
    assert h.stride > 64  # the history was thinned
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.show_history(
        h.steps,
        {f: h.field(f, 0) for f in FIELDS},
        bands={f: h.envelope(f, 0) for f in ENVELOPE_FIELDS},
    )
    x, lr = panel.lr.curve_data("lr")
    assert np.all(lr[x <= 200_000] == 0.01) and np.all(lr[x > 200_000] == 0.5)
    before, after = x[x <= 200_000].max(), x[x > 200_000].min()
    assert 200_000 - h.stride < before and after <= 200_000 + h.stride
    assert lr[0] == 0.01 and x[0] == 0  # the start of the run is its own rate, not the new one
    # the first 5,000 steps are still resolved: kept at the history's stride, and drawn with
    # at the resolution of the rest of the run (a span of steps per drawn bucket)
    assert np.count_nonzero(h.steps <= 5_000) >= 5_000 // h.stride
    x, _ = panel.loss.curve_data("train")
    span = 300_000 / (MAX_DRAWN // 4)
    assert np.diff(x[x <= 5_000]).max() <= span + h.stride
    # the band holds the curve: lowest <= drawn value <= highest
    xb, lo, hi = panel.loss.band_data("train")
    assert len(xb) and np.all(lo <= hi)
    x, y = panel.loss.curve_data("train")
    assert np.all(np.interp(x, xb, lo) <= y + 1e-12)
    assert panel.loss.hover_at_step(100_000).count(" to ") >= 1  # the read-out shows the range


def test_a_short_run_draws_no_band(qtbot):
    plot = MetricPlot("Loss", [CurveSpec("train", "train", QColor("blue"))])
    qtbot.addWidget(plot)
    y = np.linspace(1.0, 0.1, 50)
    plot.set_series(np.arange(50) * 10, {"train": y}, {"train": (y, y)})
    assert len(plot.band_data("train")[0]) == 0


def test_log_axes_label_decades_only_and_do_not_overlap(qtbot):
    axis = LogAxis("left")
    axis.setRange(-3.0, 2.0)
    values = np.log10([0.001, 0.002, 0.003, 0.01, 0.02, 0.05, 1.0, 10.0, 30.0])
    labels = axis.logTickStrings(list(values), 1.0, 1.0)
    assert [s for s in labels if s] == ["0.001", "0.01", "1", "10"]
    plot = MetricPlot("Loss", [CurveSpec("train", "train", QColor("blue"))])
    qtbot.addWidget(plot)
    assert isinstance(plot.getPlotItem().getAxis("left"), LogAxis)


def test_a_log_axis_over_less_than_a_decade_is_labelled(qtbot):
    """A flat loss on a log axis (a sweep whose losses all sit near ln 2, or 2 to 8) holds no
    decade and few 2s and 5s: its ticks are round values of the data, every one labelled,
    instead of an axis without numbers."""
    axis = LogAxis("left")
    axis.setLogMode(False, True)
    for lo, hi in ((0.68, 0.75), (2.0, 8.0), (0.6931, 0.6932), (1e-9, 2e-9)):
        axis.setRange(np.log10(lo), np.log10(hi))
        levels = axis.tickValues(np.log10(lo), np.log10(hi), 300)
        spacing, ticks = levels[0]
        labels = axis.tickStrings(ticks, 1.0, spacing)
        assert len(ticks) >= 2 and all(labels), (lo, hi, labels)
        shown = np.array([float(t) for t in labels])
        assert np.all((shown >= lo * (1 - 1e-9)) & (shown <= hi * (1 + 1e-9)))
        np.testing.assert_allclose(shown, 10.0 ** np.array(ticks), rtol=1e-3)
    axis.setRange(np.log10(0.5), np.log10(20.0))  # more than a decade: decades, 2s and 5s
    spacing, ticks = axis.tickValues(np.log10(0.5), np.log10(20.0), 300)[0]
    assert [s for s in axis.tickStrings(ticks, 1.0, spacing) if s] == ["0.5", "1", "2", "5", "10"]


def test_after_a_divergence_the_axis_turns_logarithmic_and_back(qtbot):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    steps = np.arange(0, 80, 10)
    loss = np.r_[0.5, 3.0, 1e4, 1e12, 1e40, 1e90, 1e200, np.nan]
    data = {f: loss.copy() for f in FIELDS}
    panel.show_history(steps, data)
    panel.set_markers({"diverged": (72, "diverged")})
    panel.show_diverged(True)
    assert panel.log_box.isChecked() and panel.loss.log
    lo, hi = panel.loss.getViewBox().viewRange()[1]
    assert lo <= np.log10(0.5) and hi >= 200  # the whole run is in view, start and blow-up
    panel.clear()
    assert not panel.log_box.isChecked() and not panel.loss.log


def test_no_axis_title_competes_with_the_tick_labels(qtbot):
    from app.landscape.common import small_plot

    panel = CurvesPanel()
    qtbot.addWidget(panel)
    for plot in panel.plots:  # the title names the quantity; the axis keeps its room for numbers
        assert plot.getPlotItem().getAxis("left").labelText == ""
    plot = small_plot("f along the path", "step", "f \u2212 f*")
    qtbot.addWidget(plot)
    axis = plot.getPlotItem().getAxis("left")
    assert axis.labelText and axis.fixedWidth is None  # it sizes itself to title and labels


def test_live_reduction_of_a_growing_run_equals_reducing_it_anew():
    rng = np.random.default_rng(3)
    steps = np.arange(20_000, dtype=np.float64) * 3
    y = np.cumsum(rng.normal(size=len(steps)))
    lo, hi = y - rng.random(len(y)), y + rng.random(len(y))
    live, band = LiveReduction(400), LiveReduction(400, band=True)
    reused = []
    for n in range(500, len(steps), 777):
        got = live(steps[:n], y[:n])
        want = LiveReduction(400)(steps[:n], y[:n])
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        got = band(steps[:n], lo[:n], hi[:n])
        want = LiveReduction(400, band=True)(steps[:n], lo[:n], hi[:n])
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        assert len(got[0]) <= 2 * 400 + 4
        reused.append(live.reused_rows)
    assert sum(r > 0 for r in reused) > len(reused) // 2  # most frames redo only the newest span
    # rows before the newest span changed (a history that halved): all is reduced anew
    y2 = y.copy()
    y2[10] = 1e6
    got = live(steps, y2)
    assert live.reused_rows == 0 and got[1].max() == 1e6


def test_a_followed_run_moves_its_axes_a_few_times_not_every_frame(qtbot):
    plot = MetricPlot("Loss", [CurveSpec("train", "train", QColor("blue"))], floor_zero=True)
    qtbot.addWidget(plot)
    steps = np.arange(30_000, dtype=np.float64)
    loss = 1.0 / (1.0 + steps / 1000.0)
    ranges = []
    for n in range(100, len(steps), 100):
        plot.set_series(steps[:n], {"train": loss[:n]})
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        assert x0 <= 0 and x1 >= steps[n - 1] and y0 <= 0 and y1 >= loss[:n].max()
        ranges.append(((x0, x1), (y0, y1)))
    x_moves = sum(a[0] != b[0] for a, b in zip(ranges[:-1], ranges[1:], strict=True))
    y_moves = sum(a[1] != b[1] for a, b in zip(ranges[:-1], ranges[1:], strict=True))
    assert x_moves < 8 * np.log2(30_000 / 100) and x_moves < len(ranges) // 4
    assert y_moves < 10  # the loss creeps down inside the kept range
    plot.set_series(steps[:100], {"train": loss[:100] * 0.01})  # a new, smaller run: refit
    plot.follow()
    assert plot.getViewBox().viewRange()[1][1] < 0.1


def test_a_plot_on_a_hidden_tab_draws_when_it_shows(qtbot):
    from PySide6.QtWidgets import QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    plot = MetricPlot("Loss", [CurveSpec("train", "train", QColor("blue"))])
    tabs.addTab(QWidget(), "first")
    tabs.addTab(plot, "plot")
    tabs.show()
    qtbot.waitExposed(tabs)
    plot.set_series(np.arange(10.0), {"train": np.linspace(1, 0, 10)})
    assert plot._stale  # not drawn while its tab is hidden
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not plot._stale)
    assert len(plot.curve_data("train")[0]) == 10
