"""The network diagram and the optimizer inspector, rendered offscreen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402

from app.widgets.controls import LogSlider, SciSpinBox  # noqa: E402
from app.widgets.inspector import SGD_NOTE, OptimizerInspector  # noqa: E402
from app.widgets.network_diagram import NetworkDiagram  # noqa: E402
from dlopt_core.train.network import Network  # noqa: E402

RES = 12


def _thumbnails(net: Network, theta: np.ndarray) -> list[np.ndarray]:
    g = np.linspace(-1.0, 1.0, RES)
    xx, yy = np.meshgrid(g, g[::-1])
    X = np.column_stack([xx.ravel(), yy.ravel()])
    return [h.T.reshape(-1, RES, RES) for h in net.hidden_outputs(theta, X)]


@pytest.fixture
def small():
    net = Network([2, 4, 3, 1], activation="tanh")
    theta = net.init(seed=3)
    for k, (_, b) in enumerate(net.unflatten(theta)):
        b[:] = 0.1 * (k + 1) + 0.01 * np.arange(b.size)
    return net, theta


def _diagram(qtbot, w: int = 420, h: int = 300) -> NetworkDiagram:
    d = NetworkDiagram()
    qtbot.addWidget(d)
    d.resize(w, h)
    return d


def _all_lines(d: NetworkDiagram, sizes: list[int]) -> tuple[list, np.ndarray]:
    keys, segs = [], []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        for i in range(n_in):
            for j in range(n_out):
                ln = d.edge_line(layer, i, j)
                keys.append((layer, i, j))
                segs.append((ln.x1(), ln.y1(), ln.x2(), ln.y2()))
    return keys, np.array(segs)


def _seg_dist(p: np.ndarray, segs: np.ndarray) -> np.ndarray:
    a, b = segs[:, :2], segs[:, 2:]
    t = np.clip(np.sum((p - a) * (b - a), axis=1) / np.sum((b - a) ** 2, axis=1), 0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * (b - a) - p, axis=1)


def _check_edges(
    d: NetworkDiagram, net: Network, theta: np.ndarray, max_checks: int = 40, isolation: float = 5.0
) -> int:
    """Points on edges, away from every other edge, hit exactly that edge and its weight."""
    keys, segs = _all_lines(d, net.layer_sizes)
    weights = [W for W, _ in net.unflatten(theta)]
    checked = 0
    for k, (key, seg) in enumerate(zip(keys, segs, strict=True)):
        p = seg[:2] + 0.3 * (seg[2:] - seg[:2])
        dist = _seg_dist(p, segs)
        dist[k] = np.inf
        if dist.min() < isolation:
            continue
        layer, i, j = key
        hit = d.edge_at(QPointF(*p))
        assert hit is not None and hit[:3] == key
        assert hit[3] == pytest.approx(weights[layer][i, j])
        checked += 1
        if checked >= max_checks:
            break
    return checked


def test_diagram_paints_and_hit_tests_edges(qtbot, small):
    net, theta = small
    d = _diagram(qtbot)
    d.set_network(net.layer_sizes, theta, _thumbnails(net, theta), ["x1", "x2"])
    assert not d.grab().isNull()
    assert _check_edges(d, net, theta) >= 5
    assert d.edge_at(QPointF(2.0, d.height() - 2.0)) is None
    text = d.tooltip_at(QPointF(*_point_on(d.edge_line(1, 2, 0), 0.3)))
    assert text is not None and text.startswith("layer 2: w[3\u21921] = ")


def _point_on(line, t: float) -> tuple[float, float]:
    return line.x1() + t * (line.x2() - line.x1()), line.y1() + t * (line.y2() - line.y1())


def test_diagram_node_tooltip_shows_bias(qtbot, small):
    net, theta = small
    d = _diagram(qtbot)
    d.set_network(net.layer_sizes, theta, _thumbnails(net, theta))
    center = d.node_center(2, 1)
    assert d.node_at(center) == (2, 1)
    bias = net.unflatten(theta)[1][1][1]
    assert f"{bias:+.4g}" in d.tooltip_at(center)
    assert "input x2" in d.tooltip_at(d.node_center(0, 1))
    qtbot.mouseMove(d, center.toPoint())  # hover highlight repaints without error
    assert not d.grab().isNull()


def test_diagram_of_a_network_without_biases_reads_its_weights(qtbot):
    net = Network([2, 4, 3, 1], activation="tanh", bias=False)
    theta = net.init(seed=3)
    d = _diagram(qtbot)
    with pytest.raises(ValueError, match="entries"):  # laid out with biases, it is too short
        d.set_network(net.layer_sizes, theta)
    d.set_network(net.layer_sizes, theta, _thumbnails(net, theta), bias=False)
    assert _check_edges(d, net, theta) >= 5  # every weight where Network puts it
    assert d.tooltip_at(d.node_center(2, 1)).endswith("no bias")
    assert not d.grab().isNull()


def test_diagram_without_parameters_or_thumbnails(qtbot, small):
    net, _ = small
    d = _diagram(qtbot)
    d.set_network(net.layer_sizes, None)
    assert not d.grab().isNull()
    hit = d.edge_at(QPointF(*_point_on(d.edge_line(0, 0, 0), 0.5)))
    assert hit is not None and np.isnan(hit[3])


def test_diagram_without_hidden_layers(qtbot):
    net = Network([2, 1])
    theta = net.init(seed=1)
    d = _diagram(qtbot, 360, 260)
    d.set_network(net.layer_sizes, theta, [])
    assert not d.grab().isNull()
    assert _check_edges(d, net, theta) == 2


def test_diagram_many_inputs_and_deep(qtbot):
    net = Network([64, 16, 10], loss="ce")
    theta = net.init(seed=2)
    d = _diagram(qtbot, 480, 300)
    d.set_network(net.layer_sizes, theta, [np.zeros((16, 4, 4))])
    assert not d.grab().isNull()
    assert _check_edges(d, net, theta, max_checks=10, isolation=1.5) >= 5
    deep = Network([2] + [32] * 6 + [1])
    d.set_network(deep.layer_sizes, deep.init(seed=0))
    assert not d.grab().isNull()
    d.set_network([2, 4, 3, 1], None)  # back to a small net: geometry is rebuilt
    assert d.edge_at(QPointF(*_point_on(d.edge_line(2, 2, 0), 0.5)))[:3] == (2, 2, 0)


def test_diagram_rejects_bad_input(qtbot, small):
    net, theta = small
    d = _diagram(qtbot)
    with pytest.raises(ValueError):
        d.set_network(net.layer_sizes, theta[:-1])
    with pytest.raises(ValueError):
        d.set_network(net.layer_sizes, theta, [np.zeros((3, 4, 4))])


# ---------------------------------------------------------------- inspector


def _state(net: Network, theta: np.ndarray, seed: int = 0):
    """A previous theta and plausible state slots (m signed, v and the rest positive)."""
    rng = np.random.default_rng(seed)
    prev = theta - rng.normal(0.0, 1e-3, theta.size)
    slots = np.empty((3, theta.size))
    slots[0] = rng.normal(0.0, 1e-2, theta.size)
    slots[1] = rng.uniform(1e-6, 1e-4, theta.size)
    slots[2] = slots[1] * 1.5
    return prev, slots


def _inspector(qtbot) -> OptimizerInspector:
    w = OptimizerInspector()
    qtbot.addWidget(w)
    w.resize(400, 440)
    return w


def test_inspector_sgd_shows_note(qtbot, small):
    net, theta = small
    prev, _ = _state(net, theta)
    w = _inspector(qtbot)
    w.update_from(net, "sgd", theta, prev, np.zeros((3, theta.size)), 0.05)
    assert w.note_shown() and w.note.text() == SGD_NOTE
    assert w.histogram(0) is None
    assert w.step_sizes() == [0.05, 0.05, 0.05]
    assert not w.grab().isNull()


def test_inspector_ratios_match_numpy(qtbot, small):
    net, theta = small
    prev, slots = _state(net, theta)
    w = _inspector(qtbot)
    w.update_from(net, "momentum", theta, prev, slots, 0.01)
    expected = [
        np.linalg.norm(W - Wp) / np.linalg.norm(W)
        for (W, _), (Wp, _) in zip(net.unflatten(theta), net.unflatten(prev), strict=True)
    ]
    assert w.ratios() == pytest.approx(expected, rel=1e-12)
    cell = w.table.item(1, 2).text()
    assert float(cell) == pytest.approx(np.log10(expected[1]), abs=0.006)
    assert not w.note_shown()
    caption, edges, counts = w.histogram(0)
    assert "momentum buffer" in caption
    assert counts.sum() == 2 * 4  # layer 1 weights
    assert w.histogram(1) is None
    w.update_from(net, "momentum", theta, None, slots, 0.01)
    assert w.ratios() == [None, None, None]


def test_inspector_adam_histograms_and_layer_switch(qtbot, small):
    net, theta = small
    prev, slots = _state(net, theta)
    w = _inspector(qtbot)
    hyper = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}
    w.update_from(net, "adam", theta, prev, slots, 1e-3, hyper=hyper, step=10)
    m_caption, _, m_counts = w.histogram(0)
    v_caption, v_edges, v_counts = w.histogram(1)
    assert "first moment m" in m_caption and "second moment v" in v_caption
    assert m_counts.sum() == 8 and v_counts.sum() == 8
    v1 = net.unflatten(slots[1].copy())[0][0]
    assert v_edges[0] == pytest.approx(np.log10(v1.min()))  # v on a log10 scale
    bc2 = 1.0 - 0.999**10
    expected = [
        float(np.median(1e-3 / (np.sqrt(net.unflatten(slots[1].copy())[k][0] / bc2) + 1e-8)))
        for k in range(3)
    ]
    assert w.step_sizes() == pytest.approx(expected, rel=1e-9)
    assert not w.grab().isNull()

    w.layer_combo.setCurrentIndex(1)  # hidden 1 -> hidden 2: 4 x 3 weights
    _, _, m_counts = w.histogram(0)
    _, v_edges, v_counts = w.histogram(1)
    assert m_counts.sum() == 12 and v_counts.sum() == 12
    v2 = net.unflatten(slots[1].copy())[1][0]
    assert v_edges[0] == pytest.approx(np.log10(v2.min()))

    w.update_from(net, "sgd", theta, prev, None, 1e-3)  # back to stateless
    assert w.note_shown()


# -- number inputs ---------------------------------------------------------------------------------


def test_sci_spin_box_shows_g_and_steps_by_a_factor(qtbot):
    box = SciSpinBox(1e-7, 1000.0, 0.01, log_step=True, factor=2.0, digits=6)
    qtbot.addWidget(box)
    assert box.text() == "0.01"
    box.stepBy(1)
    assert box.value() == pytest.approx(0.02)
    box.stepBy(-3)
    assert box.value() == pytest.approx(0.0025)
    box.setValue(600.0)
    box.stepBy(1)
    assert box.value() == 1000.0  # clamped to the top
    decade = SciSpinBox(0.0, 10.0, 1e-3, log_step=True, steps_per_decade=10)
    qtbot.addWidget(decade)
    decade.stepBy(10)
    assert decade.value() == pytest.approx(1e-2)


def test_sci_spin_box_steps_up_from_zero_and_back_to_off(qtbot):
    box = SciSpinBox(0.0, 10.0, 0.0, log_step=True, factor=2.0, first_step=1e-4)
    qtbot.addWidget(box)
    box.stepBy(-1)
    assert box.value() == 0.0
    box.stepBy(1)
    assert box.value() == pytest.approx(1e-4)
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-4)
    box.stepBy(-2)
    assert box.value() == 0.0  # below the first step: off again


def test_sci_spin_box_validates_typed_text(qtbot):
    from PySide6.QtGui import QValidator

    box = SciSpinBox(0.0, 10.0, 1.0)
    qtbot.addWidget(box)
    state = QValidator.State
    assert box.validate("3e-3", 0)[0] == state.Acceptable
    assert box.validate("3e-", 0)[0] == state.Intermediate  # still typing
    assert box.validate("abc", 0)[0] == state.Invalid
    assert box.validate("50", 0)[0] == state.Intermediate  # out of range: not accepted yet
    assert box.fixup("50") == "10" and box.fixup("x") == "1"


def test_log_slider_and_spin_box_stay_together(qtbot):
    slider = LogSlider(1e-5, 10.0, 0.01)
    qtbot.addWidget(slider)
    seen = []
    slider.valueChanged.connect(seen.append)
    slider.slider.setValue(slider.RESOLUTION)  # far right: the top of the range
    assert slider.value() == pytest.approx(10.0) and seen[-1] == pytest.approx(10.0)
    slider.spin.setValue(1e-3)
    expected = (np.log10(1e-3) + 5) / 6 * slider.RESOLUTION
    assert slider.slider.value() == round(expected) and seen[-1] == pytest.approx(1e-3)
    slider.setValue(0.1)  # set from code: shown, not emitted
    assert slider.value() == pytest.approx(0.1) and seen[-1] == pytest.approx(1e-3)


def test_number_boxes_write_plain_numbers_where_they_can(qtbot):
    """A rate of 1000 reads "1000" (it read "1e+03"); small and large values keep their
    exponents, and every text reads back as the value shown."""
    box = SciSpinBox(0.0, 1e9, 0.0, digits=3)
    qtbot.addWidget(box)
    for value, text in (
        (1000.0, "1000"),
        (0.01, "0.01"),
        (1e-5, "1e-05"),
        (0.000123, "0.000123"),
        (123456.0, "123000"),
        (2.5e8, "2.5e+08"),
        (0.0, "0"),
    ):
        assert box.textFromValue(value) == text
        assert box.valueFromText(text) == pytest.approx(float(f"{value:.3g}"))


def test_the_boundary_axes_show_the_data_values_without_a_unit_prefix(qtbot):
    from app.playground.output_view import OutputView

    view = OutputView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    item = view.plot.getPlotItem()
    item.setRange(xRange=(-0.0008, 0.0008), yRange=(-0.0009, 0.0009), padding=0.0)
    for name in ("bottom", "left"):
        axis = item.getAxis(name)
        axis.updateAutoSIPrefix()
        assert axis.labelString().find("\u00d7") < 0 and axis.scale == 1.0
        assert axis.labelText in ("x1", "x2")


@pytest.mark.parametrize(
    "values",
    [
        [1.7e308, -1.7e308, 3.0],  # a diverging run's moments, near the float limit
        [1e-320, -5e-321, 0.0],  # subnormal ones
        [2.5e-283, -1e-284],
        [0.0, 0.0],
    ],
)
def test_histograms_of_extreme_values_are_drawn(qtbot, values):
    """Optimizer state of a run at a rate of 10 or 1000 reaches the float range's ends: the
    histogram still counts every value (numpy refused its bins, and the inspector stood
    still)."""
    from app.widgets.inspector import _Histogram

    hist = _Histogram()
    qtbot.addWidget(hist)
    hist.show_values(np.array(values), log=False)
    assert hist.counts.sum() == len(values)
    assert np.all(np.isfinite(hist.edges)) and np.all(np.diff(hist.edges) > 0)


def test_a_long_histogram_caption_stays_on_its_line(qtbot):
    """ "Adam second moment v (log10) (16 zeros left out)" no longer wraps into the plot
    under it: it is elided to the width, whole in its tooltip."""
    from app.widgets.inspector import _Histogram

    hist = _Histogram()
    qtbot.addWidget(hist)
    hist.resize(200, 160)
    hist.show()
    text = "Adam second moment v (log10) (16 zeros left out)"
    hist.set_caption(text)
    assert hist.caption_text() == text and hist.caption.toolTip() == text
    shown = hist.caption.text()
    assert shown != text and shown.endswith("\u2026") and "\n" not in shown
    assert hist.caption.fontMetrics().horizontalAdvance(shown) <= hist.width()
    assert hist.caption.geometry().bottom() < hist.plot.geometry().top()
    hist.resize(600, 160)
    qtbot.waitUntil(lambda: hist.caption.text() == text)
