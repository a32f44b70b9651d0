"""The loss-shape study: its line, plane and path checked point by point against the network's own
loss, its progress and cancel callbacks, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from dlopt_core.studies import landscape as ls
from dlopt_core.studies import loss_shape as shape
from dlopt_core.studies.loss_shape import ShapeSource, loss_shape, trained_shape, widen
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer


def _source(steps: int = 30, seed: int = 0) -> ShapeSource:
    """A small network trained by plain NumPy Adam steps, with its whole path."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    Xv = rng.uniform(-1, 1, size=(40, 2))
    yv = (Xv[:, 0] * Xv[:, 1] > 0).astype(float)
    net = Network([2, 6, 1], "tanh", "bce")
    theta = net.init(seed)
    opt = make_optimizer("adam", lr=0.05)
    state = opt.init(theta)
    path = [theta.copy()]
    for _ in range(steps):
        opt.step(theta, net.loss_and_grad(theta, X, y)[1], state)
        path.append(theta.copy())
    thetas = np.array(path)
    return ShapeSource("adam", net, thetas[0], thetas[-1], thetas, X, y, Xv, yv, steps=steps)


def _loss(src: ShapeSource, theta: np.ndarray, val: bool = False) -> float:
    X, y = (src.Xv, src.yv) if val else (src.X, src.y)
    return float(src.network.loss_and_grad(theta, X, y)[0])


def test_line_plane_and_path_are_the_networks_losses_at_those_points():
    src = _source()
    seen: list[tuple[float, str]] = []
    r = loss_shape(src, resolution=9, callback=lambda f, s: seen.append((f, s)))
    assert r is not None and r.directions == "path" and r.source is src
    # the line: (1 - a) theta_init + a theta_final, train and validation
    np.testing.assert_array_equal(r.alphas, ls.DEFAULT_ALPHAS)
    for k in (0, 10, 17, 30, 40):
        a = r.alphas[k]
        point = (1.0 - a) * src.theta_init + a * src.theta_final
        assert r.train_loss[k] == pytest.approx(_loss(src, point), rel=1e-10)
        assert r.val_loss[k] == pytest.approx(_loss(src, point, val=True), rel=1e-10)
    # the plane around the final parameters, spanned by the path's principal directions
    proj = ls.project_trajectory(src.thetas, src.theta_final)
    assert r.slice_loss.shape == (9, 9)
    for i, j in [(0, 0), (4, 4), (2, 7), (8, 3)]:
        point = src.theta_final + r.slice_a[j] * proj.d1 + r.slice_b[i] * proj.d2
        assert r.slice_loss[i, j] == pytest.approx(_loss(src, point), rel=1e-10)
    (a0, a1), (b0, b1) = (r.slice_a[0], r.slice_a[-1]), (r.slice_b[0], r.slice_b[-1])
    assert a0 <= r.coords[:, 0].min() and r.coords[:, 0].max() <= a1
    assert b0 <= r.coords[:, 1].min() and r.coords[:, 1].max() <= b1
    # the path: its projection reproduces it where it lies in the plane, and its losses
    assert r.coords.shape == (31, 2)
    np.testing.assert_allclose(r.coords[-1], 0.0, atol=1e-12)
    assert 0.0 < r.explained[1] <= r.explained[0] and r.explained.sum() <= 1.0 + 1e-12
    for t in (0, 15, 30):
        assert r.path_loss[t] == pytest.approx(_loss(src, src.thetas[t]), rel=1e-10)
    assert r.path_loss[-1] < r.path_loss[0]  # it trained
    # progress: from 0 to 1, never backwards, ending with "done"
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and seen[-1] == (1.0, "done")
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
    assert any("plane" in s for _, s in seen) and any("line" in s for _, s in seen)


def test_a_large_plane_row_by_row_equals_the_plane_in_one_call(monkeypatch):
    src = _source(steps=12)
    whole = loss_shape(src, resolution=7)
    monkeypatch.setattr(shape, "PIECE_S", 1e-9)  # every row is a piece of its own
    rows: list[str] = []
    by_rows = loss_shape(src, resolution=7, callback=lambda f, s: rows.append(s))
    assert sum("row" in s for s in rows) == 7
    np.testing.assert_array_equal(by_rows.slice_a, whole.slice_a)
    np.testing.assert_array_equal(by_rows.slice_b, whole.slice_b)
    np.testing.assert_allclose(by_rows.slice_loss, whole.slice_loss, rtol=1e-10)
    np.testing.assert_allclose(by_rows.train_loss, whole.train_loss, rtol=1e-12)


def test_random_directions_are_reproducible_and_say_the_path_is_a_shadow():
    src = _source(steps=12)
    r = loss_shape(src, resolution=5, directions="random", seed=3)
    again = loss_shape(src, resolution=5, directions="random", seed=3)
    other = loss_shape(src, resolution=5, directions="random", seed=4)
    assert np.all(np.isnan(r.explained)) and any("shadow" in n for n in r.notes)
    np.testing.assert_array_equal(r.slice_loss, again.slice_loss)
    assert not np.array_equal(r.slice_loss, other.slice_loss)
    assert r.slice_a[0] <= -1.0 and r.slice_a[-1] >= 1.0  # at least one unit each way


def test_a_cancel_between_two_pieces_returns_none():
    src = _source(steps=12)
    assert loss_shape(src, resolution=5, should_stop=lambda: True) is None
    calls: list[float] = []

    def stop_after_the_first_report() -> bool:
        return len(calls) > 0

    out = loss_shape(
        src,
        resolution=5,
        callback=lambda f, s: calls.append(f),
        should_stop=stop_after_the_first_report,
    )
    assert out is None and calls and max(calls) < 1.0


def test_refusals_are_messages():
    src = _source(steps=3)
    with pytest.raises(ValueError, match="unknown directions 'sideways'"):
        loss_shape(src, directions="sideways")
    bad = ShapeSource(
        "nan", src.network, src.theta_init, src.theta_final * np.nan, src.thetas, src.X, src.y
    )
    with pytest.raises(ValueError, match="training diverged"):
        loss_shape(bad)


def test_widen_stretches_only_the_narrow_axis_around_its_middle():
    assert widen(((-2.0, 2.0), (0.0, 0.4))) == ((-2.0, 2.0), (-0.8, 1.2))
    assert widen(((1.0, 1.5), (-3.0, 1.0))) == ((0.25, 2.25), (-3.0, 1.0))
    assert widen(((-1.0, 1.0), (-0.6, 0.6))) == ((-1.0, 1.0), (-0.6, 0.6))


def test_a_paper_situation_trains_then_shows_its_shape():
    situation = ls.paper_situations()["deep_linear"]
    seen: list[tuple[float, str]] = []
    r = trained_shape(
        situation, 60, snapshots=6, resolution=5, callback=lambda f, s: seen.append((f, s))
    )
    assert r is not None and r.source.thetas.shape[0] == 7 and r.source.steps == 60
    assert r.source.title == situation.title and r.coords.shape == (7, 2)
    np.testing.assert_array_equal(r.source.theta_init, r.source.thetas[0])
    assert r.train_loss[10] == pytest.approx(_loss(r.source, r.source.theta_init), rel=1e-10)
    assert r.train_loss[30] == pytest.approx(_loss(r.source, r.source.theta_final), rel=1e-10)
    training = [f for f, s in seen if s.startswith("training")]
    assert training and max(training) <= 0.5  # training is the first half of the progress
    assert seen[0] == (0.0, "building the network\u2026") and seen[-1] == (1.0, "done")
    # cancelled while training: nothing
    reports: list[str] = []
    stop = trained_shape(
        situation,
        60,
        snapshots=6,
        callback=lambda f, s: reports.append(s),
        should_stop=lambda: any(s.startswith("training") for s in reports),
    )
    assert stop is None and not any("line" in s for s in reports)
