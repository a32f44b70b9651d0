"""Sharpness: Hessian-vector products, power iteration and the trace along training, against
closed forms and a dense finite-difference Hessian built from loss values alone."""

from __future__ import annotations

import numpy as np
import pytest

from dlopt_core.train.network import Network
from dlopt_core.train.sharpness import (
    SharpnessTracker,
    edge_of_stability,
    hessian_vector_product,
    largest_eigenvalue,
    power_iteration,
    sharpness,
    stability_threshold,
    track_sharpness,
)

RNG = np.random.default_rng(7)


def least_squares():
    """A linear model with the mse loss: L = mean((X w + b - y)^2), Hessian 2 [X 1]^T [X 1] / n,
    the same at every theta."""
    X = RNG.standard_normal((40, 3)) * np.array([1.0, 3.0, 0.3])
    y = RNG.standard_normal(40)
    Xb = np.column_stack([X, np.ones(40)])
    return Network([3, 1], "linear", "mse"), X, y, 2.0 * Xb.T @ Xb / 40


def dense_hessian(net: Network, theta: np.ndarray, X, y, h: float = 1e-4) -> np.ndarray:
    """Second differences of the loss value (no gradient code involved)."""
    n = theta.size
    H = np.empty((n, n))

    def f(p):
        return net.loss_and_grad(p, X, y)[0]

    eye = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (
                f(theta + eye[i] + eye[j])
                - f(theta + eye[i] - eye[j])
                - f(theta - eye[i] + eye[j])
                + f(theta - eye[i] - eye[j])
            ) / (4 * h * h)
    return H


def test_hessian_vector_products_of_a_quadratic_loss_are_exact():
    net, X, y, H = least_squares()
    for _ in range(3):
        theta, v = RNG.standard_normal(4), RNG.standard_normal(4)
        np.testing.assert_allclose(
            hessian_vector_product(net, theta, X, y, v), H @ v, rtol=1e-6, atol=1e-8
        )
    assert not np.any(hessian_vector_product(net, theta, X, y, np.zeros(4)))


def test_sharpness_of_a_quadratic_is_its_largest_eigenvalue():
    net, X, y, H = least_squares()
    top = sharpness(net, RNG.standard_normal(4), X, y)
    assert top.converged
    assert top.value == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-7)
    eigvec = np.linalg.eigh(H)[1][:, -1]
    assert abs(top.vector @ eigvec) == pytest.approx(1.0, abs=1e-3)


def test_sharpness_of_a_tiny_network_against_a_dense_finite_difference_hessian():
    for activation, loss in (("tanh", "bce"), ("sigmoid", "mse")):
        net = Network([2, 3, 1], activation, loss)
        X = RNG.standard_normal((25, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(float)
        theta = net.init(1, "normal", std=1.0)
        H = dense_hessian(net, theta, X, y)
        v = RNG.standard_normal(net.n_params)
        np.testing.assert_allclose(
            hessian_vector_product(net, theta, X, y, v), H @ v, rtol=1e-4, atol=1e-5
        )
        top = sharpness(net, theta, X, y)
        assert top.value == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-4), activation


def test_a_dominant_negative_eigenvalue_is_shifted_away():
    """Near a saddle the eigenvalue of largest magnitude can be negative; lambda_max is not."""
    Q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    A = Q @ np.diag([-5.0, 2.0, 1.0, 0.5]) @ Q.T
    assert power_iteration(lambda v: A @ v, 4).value == pytest.approx(-5.0, rel=1e-6)
    top = largest_eigenvalue(lambda v: A @ v, 4)
    assert top.value == pytest.approx(2.0, rel=1e-5) and top.converged
    with pytest.raises(ValueError):
        power_iteration(lambda v: A @ v, 4, start=np.zeros(4))


def test_stability_thresholds_are_those_of_the_quadratic():
    assert stability_threshold("sgd", 0.2) == pytest.approx(10.0)
    assert stability_threshold("momentum", 0.1, 0.9) == pytest.approx(38.0)
    for name, lr, mu in (("sgd", 0.05, 0.0), ("momentum", 0.02, 0.8)):
        limit = stability_threshold(name, lr, mu)
        for lam, stable in ((0.98 * limit, True), (1.02 * limit, False)):
            from dlopt_core.train.optimizers import make_optimizer

            opt = make_optimizer(name, lr=lr, **({"momentum": mu} if mu else {}))
            theta = np.array([1.0])
            state = opt.init(theta)
            for _ in range(3000):
                opt.step(theta, lam * theta, state)
            assert (abs(theta[0]) < 1.0) == stable
    with pytest.raises(ValueError):
        stability_threshold("adam", 0.01)


def test_track_sharpness_reaches_the_edge_of_stability():
    """Full-batch gradient descent: the sharpness starts below 2/eta and ends at it."""
    experiment = {
        "data": {"kind": "bumps", "n_samples": 100, "noise": 0.1},
        "network": {"hidden": [16, 16], "activation": "tanh"},
        "optimizer": {"name": "sgd", "lr": 0.2},
        "training": {"batch_size": 100, "eval_every": 50},
    }
    trace = track_sharpness(experiment, 3000, every=100)
    assert list(trace.steps[:3]) == [0, 100, 200] and trace.steps[-1] == 3000
    assert np.all(trace.threshold == pytest.approx(10.0)) and np.all(trace.lr == 0.2)
    assert trace.sharpness[0] < 0.8 * 10.0
    assert trace.sharpness[-1] == pytest.approx(10.0, rel=0.03)
    assert trace.at(0) == trace.sharpness[0]
    with pytest.raises(KeyError):
        trace.at(150)
    with pytest.raises(ValueError, match="sgd or momentum"):
        track_sharpness({**experiment, "optimizer": {"name": "adam", "lr": 0.01}}, 10)


EOS = {
    "data": {"kind": "bumps", "n_samples": 100, "noise": 0.1},
    "network": {"hidden": [16, 16], "activation": "tanh"},
    "optimizer": {"name": "sgd", "lr": 0.2},
    "training": {"batch_size": 100, "eval_every": 10},
}


def tracked(experiment: dict, steps: int, **kwargs) -> SharpnessTracker:
    """A run trained in pieces that end where the tracker wants to measure (as the app does)."""
    from dlopt_core.train.experiment import Experiment

    exp = Experiment.from_dict(experiment)
    _, net, engine = exp.build()
    tracker = SharpnessTracker(net, engine.X, engine.Y, **kwargs)
    while True:
        if tracker.due(engine.step):
            lr = exp.schedule(exp.optimizer.lr, engine.step)
            tracker.measure(engine.step, engine.theta[0], edge_of_stability(exp.optimizer, lr))
        if engine.step >= steps or tracker.stopped:
            return tracker
        engine.run(min(steps, tracker.next_step) - engine.step)


def test_the_tracker_measures_what_track_sharpness_measures():
    """Every ``every`` steps from step 0, lambda_max of the training loss beside the edge of
    stability 2/eta: the values of ``track_sharpness`` at the same steps."""
    reference = track_sharpness(EOS, 1000, every=50)
    steps, values, edges = tracked(EOS, 1000, every=50).rows()
    np.testing.assert_array_equal(steps, reference.steps)
    np.testing.assert_allclose(values, reference.sharpness, rtol=1e-3)
    np.testing.assert_allclose(edges, 10.0)


def test_a_long_run_keeps_bounded_rows_at_even_resolution():
    """When ``limit`` rows are kept, every other goes and the stride doubles (like History)."""
    tracker = tracked(EOS, 300, every=10, limit=8, iters=30, tol=1e-3)
    steps, values, _ = tracker.rows()
    assert len(steps) < 8 and tracker.stride == 80
    np.testing.assert_array_equal(steps, np.arange(0, 301, 80)[: len(steps)])
    assert steps[-1] >= 300 - tracker.stride and np.all(np.isfinite(values))
    late = SharpnessTracker(Network([1, 1], "linear", "mse"), np.ones((4, 1)), np.ones(4), every=50)
    assert late.due(1234) and late.next_step == 0  # the first measurement: wherever the run is


def test_tracking_ends_when_the_loss_is_no_longer_finite():
    net, X, y, _ = least_squares()
    tracker = SharpnessTracker(net, X, y, every=5)
    assert tracker.measure(0, np.full(net.n_params, np.inf), 1.0) is None
    assert tracker.stopped and not tracker.due(5) and len(tracker.rows()[0]) == 0


def test_the_edge_of_stability_of_each_rule():
    from dlopt_core.train.optimizers import make_optimizer

    assert edge_of_stability(make_optimizer("sgd", lr=0.1), 0.1) == pytest.approx(20.0)
    heavy = make_optimizer("momentum", lr=0.1, momentum=0.9)
    assert edge_of_stability(heavy, 0.1) == pytest.approx(2 * 1.9 / 0.1)
    damped = make_optimizer("momentum", lr=0.1, momentum=0.5, dampening=0.5)
    assert edge_of_stability(damped, 0.1) == pytest.approx(2 * 1.5 / 0.05)
    assert edge_of_stability(make_optimizer("sgd", lr=0.1), 0.0) == np.inf  # a schedule's zero
    assert np.isnan(edge_of_stability(make_optimizer("adam", lr=0.01), 0.01))
