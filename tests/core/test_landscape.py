"""The Landscape tab's numerics: test functions, trajectories, convergence theory, loss surfaces of
networks, and the challenge presets (each must really show what it claims)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from dlopt_core.studies import landscape as ls
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer
from dlopt_core.train.schedules import make_schedule

ALL_FUNCTIONS = [
    *ls.FUNCTIONS.values(),
    ls.get_function("quadratic", kappa=50.0, angle=30.0),
    ls.get_function("quadratic", kappa=3.0, angle=-75.0),
    ls.get_function("rosenbrock", a=-0.5, b=10.0),
    ls.get_function("rastrigin", A=3.0),
]
IDS = [f"{fn.name}{dict(fn.params) or ''}" for fn in ALL_FUNCTIONS]


# --------------------------------------------------------------------------- test functions


def _finite_difference(fn: ls.TestFunction, x: float, y: float, h: float = 1e-6) -> np.ndarray:
    hx, hy = h * max(1.0, abs(x)), h * max(1.0, abs(y))
    return np.array(
        [
            (fn.f(x + hx, y) - fn.f(x - hx, y)) / (2.0 * hx),
            (fn.f(x, y + hy) - fn.f(x, y - hy)) / (2.0 * hy),
        ]
    )


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=IDS)
def test_gradient_matches_central_differences(fn):
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = fn.bounds
    points = np.column_stack([rng.uniform(x0, x1, 25), rng.uniform(y0, y1, 25)])
    if fn.name == "cliff":  # also on the wall itself, where the gradient is huge
        points = np.vstack([points, [[0.98, 0.3], [1.0, -1.0], [1.01, 0.5], [0.95, 0.0]]])
    for x, y in points:
        g = fn.grad(x, y)
        assert g.shape == (2,)
        fd = _finite_difference(fn, x, y)
        # central differences: truncation ~ h^2 f''', round-off ~ eps |f| / h
        tol = 1e-6 * (1.0 + np.abs(g)) + 1e-9 * (1.0 + abs(fn.f(x, y)))
        assert np.all(np.abs(g - fd) <= tol), (fn.name, x, y, g, fd)


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=IDS)
def test_vectorised_over_a_grid_equals_pointwise(fn):
    xs, ys, Z = ls.f_grid(fn, n=7)
    assert xs.shape == ys.shape == (7,) and Z.shape == (7, 7)
    assert (xs[0], xs[-1]) == fn.bounds[0] and (ys[0], ys[-1]) == fn.bounds[1]
    G = fn.grad(xs[None, :], ys[:, None])
    assert G.shape == (2, 7, 7)
    for i in (0, 3, 6):
        for j in (0, 2, 6):
            assert Z[i, j] == pytest.approx(fn.f(xs[j], ys[i]), rel=1e-14, abs=1e-14)
            np.testing.assert_allclose(G[:, i, j], fn.grad(xs[j], ys[i]), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=IDS)
def test_minima_are_stationary_with_the_stated_value(fn):
    (x0, x1), (y0, y1) = fn.bounds
    assert x0 <= fn.default_start[0] <= x1 and y0 <= fn.default_start[1] <= y1
    if not fn.minima:
        assert fn.min_value == -math.inf
        return
    for x, y in fn.minima:
        assert x0 <= x <= x1 and y0 <= y <= y1
        np.testing.assert_allclose(fn.grad(x, y), 0.0, atol=1e-9)
        assert fn.f(x, y) == pytest.approx(fn.min_value, abs=1e-12)
    # and nothing on a fine grid is lower than the global minimum
    _, _, Z = ls.f_grid(fn, n=301)
    assert Z.min() >= fn.min_value - 1e-12


def test_quadratic_hessian_has_condition_number_kappa():
    for kappa, angle in [(1.0, 0.0), (10.0, 0.0), (50.0, 30.0), (7.5, 123.0)]:
        fn = ls.get_function("quadratic", kappa=kappa, angle=angle)
        H = ls.quadratic_hessian(kappa, angle)
        # the gradient is linear: its finite-difference Jacobian is H, and f = 0.5 p^T H p
        h = 1e-3
        J = np.column_stack(
            [
                (fn.grad(h, 0.0) - fn.grad(-h, 0.0)) / (2 * h),
                (fn.grad(0.0, h) - fn.grad(0.0, -h)) / (2 * h),
            ]
        )
        np.testing.assert_allclose(J, H, atol=1e-9)
        p = np.array([0.7, -1.3])
        assert fn.f(*p) == pytest.approx(0.5 * p @ H @ p, rel=1e-13)
        eig, vec = np.linalg.eigh(H)
        np.testing.assert_allclose(eig, [1.0, kappa], rtol=1e-12)
        assert np.linalg.cond(H) == pytest.approx(kappa, rel=1e-10)
        if kappa > 1.0:  # the flat (long) axis points at `angle`
            rad = math.radians(angle)
            assert abs(vec[:, 0] @ [math.cos(rad), math.sin(rad)]) == pytest.approx(1.0)


def test_get_function_errors():
    with pytest.raises(ValueError, match="unknown test function"):
        ls.get_function("nope")
    with pytest.raises(ValueError, match="does not take"):
        ls.get_function("beale", kappa=3.0)
    with pytest.raises(ValueError, match="kappa"):
        ls.get_function("quadratic", kappa=0.5)
    assert ls.get_function("rosenbrock", a=2.0).minima == ((2.0, 4.0),)


# --------------------------------------------------------------------------- trajectories


def _by_hand(fn, opt, start, steps, clip_norm=0.0, noise=0.0, seed=0, schedule=None):
    p = np.array(start, dtype=float)
    state = opt.init(p)
    rng = np.random.default_rng(seed)
    out = [p.copy()]
    for t in range(steps):
        g = fn.grad(p[0], p[1]).astype(float)
        if noise:
            g = g + noise * rng.standard_normal(2)
        n = np.linalg.norm(g)
        if clip_norm and n > clip_norm:
            g = g * (clip_norm / n)
        opt.step(p, g, state, lr=None if schedule is None else schedule(opt.lr, t))
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize(
    "name, hyper",
    [
        ("sgd", {"lr": 0.002}),
        ("momentum", {"lr": 0.001, "momentum": 0.9}),
        ("adam", {"lr": 0.05}),
    ],
)
def test_trajectory_is_the_core_optimizer_stepped_by_hand(name, hyper):
    fn = ls.FUNCTIONS["rosenbrock"]
    tr = ls.trajectory(fn, name, (-1.2, 1.0), 150, **hyper)
    expected = _by_hand(fn, make_optimizer(name, **hyper), (-1.2, 1.0), 150)
    np.testing.assert_array_equal(tr.path, expected)
    np.testing.assert_array_equal(tr.values, fn.f(expected[:, 0], expected[:, 1]))
    assert tr.path.shape == (151, 2) and tr.grad_norms.shape == (150,)
    assert not tr.diverged and tr.diverged_at == -1
    # an Optimizer object and a name give the same path; hyper replaces the object's values
    same = ls.trajectory("rosenbrock", make_optimizer(name, lr=1.0), (-1.2, 1.0), 150, **hyper)
    np.testing.assert_array_equal(same.path, tr.path)


def test_sgd_and_heavy_ball_against_their_formulas():
    fn = ls.get_function("quadratic", kappa=10.0, angle=20.0)
    lr, mom = 0.05, 0.8
    p = np.array(fn.default_start)
    sgd = [p]
    for _ in range(50):
        sgd.append(sgd[-1] - lr * fn.grad(*sgd[-1]))
    np.testing.assert_allclose(
        ls.trajectory(fn, "sgd", None, 50, lr=lr).path, sgd, rtol=1e-13, atol=1e-15
    )
    hb = [p, p - lr * fn.grad(*p)]  # p_{t+1} = p_t - lr g_t + mom (p_t - p_{t-1})
    for _ in range(49):
        hb.append(hb[-1] - lr * fn.grad(*hb[-1]) + mom * (hb[-1] - hb[-2]))
    np.testing.assert_allclose(
        ls.trajectory(fn, "momentum", None, 50, lr=lr, momentum=mom).path,
        hb,
        rtol=1e-12,
        atol=1e-14,
    )


def test_clipping_bounds_every_step():
    fn = ls.FUNCTIONS["booth"]
    lr, clip = 0.01, 2.0
    tr = ls.trajectory(fn, "sgd", (-8.0, -6.0), 80, clip_norm=clip, lr=lr)
    np.testing.assert_array_equal(
        tr.path, _by_hand(fn, make_optimizer("sgd", lr=lr), (-8.0, -6.0), 80, clip_norm=clip)
    )
    steps = np.linalg.norm(np.diff(tr.path, axis=0), axis=1)
    assert np.all(steps <= lr * clip * (1 + 1e-12))
    assert tr.grad_norms[0] > 10 * clip  # the recorded norm is the one before clipping
    assert steps[0] == pytest.approx(lr * clip, rel=1e-12)
    free = ls.trajectory(fn, "sgd", (-8.0, -6.0), 80, lr=lr)
    assert np.linalg.norm(free.path[1] - free.path[0]) > 5 * lr * clip


def test_noise_is_seeded_and_matches_its_definition():
    fn = ls.FUNCTIONS["quadratic"]
    opt = make_optimizer("momentum", lr=0.05, momentum=0.5)
    a = ls.trajectory(fn, opt, None, 100, noise=0.3, seed=4)
    b = ls.trajectory(fn, opt, None, 100, noise=0.3, seed=4)
    c = ls.trajectory(fn, opt, None, 100, noise=0.3, seed=5)
    quiet = ls.trajectory(fn, opt, None, 100)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path) and not np.allclose(a.path, quiet.path)
    np.testing.assert_array_equal(
        a.path, _by_hand(fn, opt, fn.default_start, 100, noise=0.3, seed=4)
    )
    np.testing.assert_array_equal(
        ls.trajectory(fn, opt, None, 100, noise=0.0, seed=9).path, quiet.path
    )


def test_schedule_sets_each_steps_rate():
    fn = ls.FUNCTIONS["himmelblau"]
    opt = make_optimizer("adam", lr=0.2)
    sched = make_schedule("step", step_size=10, gamma=0.5)
    tr = ls.trajectory(fn, opt, None, 60, schedule=sched)
    np.testing.assert_array_equal(tr.path, _by_hand(fn, opt, fn.default_start, 60, schedule=sched))
    assert not np.array_equal(tr.path, ls.trajectory(fn, opt, None, 60).path)


def test_divergence_keeps_the_last_finite_point():
    tr = ls.trajectory("quadratic", "sgd", None, 400, lr=3.0)  # |1 - 3 kappa| = 29 per step
    assert tr.diverged and 100 < tr.diverged_at < 400
    assert np.all(np.isfinite(tr.path))
    k = tr.diverged_at
    np.testing.assert_array_equal(tr.path[k:], np.broadcast_to(tr.path[k - 1], tr.path[k:].shape))
    assert np.all(np.isnan(tr.grad_norms[k:]))
    assert ls.trajectory("quadratic", "sgd", None, 0, lr=0.1).path.shape == (1, 2)


# --------------------------------------------------------------------------- theory


def test_optimal_parameters_formulas():
    lr, rate = ls.gd_optimal(9.0)
    assert lr == pytest.approx(0.2) and rate == pytest.approx(0.8)
    lr, mom, rate = ls.momentum_optimal(9.0)
    assert lr == pytest.approx(4.0 / 16.0) and mom == pytest.approx(0.25)
    assert rate == pytest.approx(0.5)
    assert ls.gd_optimal(9.0, mu=2.0)[0] == pytest.approx(0.1)


@pytest.mark.parametrize("kappa, angle", [(10.0, 0.0), (50.0, 30.0), (200.0, -60.0)])
def test_measured_rates_match_theory(kappa, angle):
    fn = ls.get_function("quadratic", kappa=kappa, angle=angle)
    lr, rate = ls.gd_optimal(kappa)
    gd = ls.trajectory(fn, "sgd", (-1.8, 1.2), 300, lr=lr)
    assert ls.measured_rate(gd, (0.0, 0.0)) == pytest.approx(rate, rel=0.05)
    lr, mom, rate = ls.momentum_optimal(kappa)
    hb = ls.trajectory(fn, "momentum", (-1.8, 1.2), 600, lr=lr, momentum=mom)
    assert ls.measured_rate(hb.path, (0.0, 0.0)) == pytest.approx(rate, rel=0.05)
    # a sub-optimal step is slower than the optimum
    slow = ls.trajectory(fn, "sgd", (-1.8, 1.2), 300, lr=0.5 * ls.gd_optimal(kappa)[0])
    assert ls.measured_rate(slow, (0.0, 0.0)) > ls.gd_optimal(kappa)[1]


def test_measured_rate_stops_at_round_off_and_needs_points():
    t = np.arange(200)
    path = np.column_stack([1.0 + 0.5**t, np.full(200, 2.0)])  # at (1, 2) to the last bit
    assert ls.measured_rate(path, (1.0, 2.0)) == pytest.approx(0.5, rel=1e-6)
    assert math.isnan(ls.measured_rate(np.zeros((2, 2)) + 1.0, (0.0, 0.0)))


# --------------------------------------------------------------------------- networks


def _data(n=150, seed=0, kind="bce"):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    if kind == "bce":
        y = (X[:, 0] * X[:, 1] > 0).astype(float)
    elif kind == "ce":
        y = (X[:, 0] > 0).astype(float) + (X[:, 1] > 0.3)
    else:
        y = np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] ** 2])
    return X, y


NETS = [
    (Network([2, 8, 8, 1], "tanh", "bce"), "bce"),
    (Network([2, 6, 3], "relu", "ce"), "ce"),
    (Network([2, 5, 4, 2], "sigmoid", "mse"), "mse"),
]


@pytest.mark.parametrize("net, kind", NETS, ids=[k for _, k in NETS])
def test_interpolation_endpoints_are_the_networks_losses(net, kind):
    X, y = _data(130, kind=kind)  # 130 rows: two full blocks of 64 and a partial one
    Xv, yv = _data(40, seed=1, kind=kind)
    a, b = net.init(1), net.init(2, scheme="he")
    it = ls.interpolate(net, a, b, X, y, Xv, yv)
    assert it.alphas.shape == it.train_loss.shape == it.val_error.shape == (41,)
    i0, i1 = int(np.flatnonzero(it.alphas == 0.0)[0]), int(np.flatnonzero(it.alphas == 1.0)[0])
    assert it.train_loss[i0] == pytest.approx(net.loss_and_grad(a, X, y)[0], rel=1e-13)
    assert it.train_loss[i1] == pytest.approx(net.loss_and_grad(b, X, y)[0], rel=1e-13)
    assert it.val_loss[i0] == pytest.approx(net.loss_and_grad(a, Xv, yv)[0], rel=1e-13)
    assert it.val_loss[i1] == pytest.approx(net.loss_and_grad(b, Xv, yv)[0], rel=1e-13)
    assert ls.network_loss(net, b, X, y) == pytest.approx(net.loss_and_grad(b, X, y)[0], rel=1e-13)
    for k in (0, 17, 40):
        mix = (1 - it.alphas[k]) * a + it.alphas[k] * b
        assert it.train_loss[k] == pytest.approx(net.loss_and_grad(mix, X, y)[0], rel=1e-12)
    if kind == "mse":
        np.testing.assert_allclose(it.train_error, np.sqrt(it.train_loss), rtol=1e-14)
    else:
        p = net.predict(a, X)
        pred = (p > 0.5) if kind == "bce" else p.argmax(axis=1)
        assert it.train_error[i0] == pytest.approx(np.mean(pred != y))
    alone = ls.interpolate(net, a, b, X, y, alphas=np.array([0.25, 0.5]))
    assert np.all(np.isnan(alone.val_loss)) and alone.train_loss.shape == (2,)


def test_filter_normalized_direction():
    net = Network([3, 5, 4, 2], "tanh", "mse")
    theta = net.init(3)
    W0 = net.unflatten(theta)[0][0]
    W0[:, 2] = 0.0  # a dead unit gets a zero filter
    d = ls.filter_normalized_direction(net, theta, 7)
    np.testing.assert_array_equal(
        d, ls.filter_normalized_direction(net, theta, np.random.default_rng(7))
    )
    assert not np.array_equal(d, ls.filter_normalized_direction(net, theta, 8))
    for (Wd, bd), (W, _) in zip(net.unflatten(d), net.unflatten(theta), strict=True):
        np.testing.assert_allclose(
            np.linalg.norm(Wd, axis=0), np.linalg.norm(W, axis=0), rtol=1e-13
        )
        np.testing.assert_array_equal(bd, 0.0)
    assert np.all(net.unflatten(d)[0][0][:, 2] == 0.0)


def test_slice_2d_center_and_points():
    net = Network([2, 8, 8, 1], "tanh", "bce")
    X, y = _data(200)
    theta = net.init(5)
    sl = ls.slice_2d(net, theta, X, y, n=9, span=0.8, seed=3)
    assert sl.loss.shape == (9, 9) and sl.alphas[4] == 0.0 and sl.betas[4] == 0.0
    assert (sl.alphas[0], sl.alphas[-1]) == (-0.8, 0.8)
    assert sl.loss[4, 4] == pytest.approx(net.loss_and_grad(theta, X, y)[0], rel=1e-13)
    for i, j in [(0, 0), (2, 7), (8, 3)]:
        point = theta + sl.alphas[j] * sl.d1 + sl.betas[i] * sl.d2
        assert sl.loss[i, j] == pytest.approx(net.loss_and_grad(point, X, y)[0], rel=1e-12)
    again = ls.slice_2d(net, theta, X, y, n=9, span=0.8, seed=3)
    np.testing.assert_array_equal(again.loss, sl.loss)
    # given directions and a rectangular extent
    box = ls.slice_2d(
        net, theta, X, y, n=5, span=((-1.0, 0.0), (0.0, 2.0)), directions=(sl.d2, sl.d1)
    )
    np.testing.assert_array_equal(box.alphas, np.linspace(-1.0, 0.0, 5))
    assert box.loss[0, -1] == pytest.approx(net.loss_and_grad(theta, X, y)[0], rel=1e-13)
    point = theta + box.alphas[1] * sl.d2 + box.betas[3] * sl.d1
    assert box.loss[3, 1] == pytest.approx(net.loss_and_grad(point, X, y)[0], rel=1e-12)


def test_project_trajectory_reproduces_a_planar_path():
    rng = np.random.default_rng(0)
    P, T = 30, 25
    center = rng.normal(size=P)
    u, v = rng.normal(size=P), rng.normal(size=P)
    t = np.linspace(0, 1, T)
    a, b = 3.0 * (1 - t) ** 2, np.sin(5 * t) * (1 - t)
    thetas = center + np.outer(a, u) + np.outer(b, v)
    pr = ls.project_trajectory(thetas, center)
    np.testing.assert_allclose(center + pr.coords @ np.array([pr.d1, pr.d2]), thetas, atol=1e-12)
    np.testing.assert_allclose([pr.d1 @ pr.d1, pr.d2 @ pr.d2, pr.d1 @ pr.d2], [1, 1, 0], atol=1e-12)
    assert pr.explained.sum() == pytest.approx(1.0) and pr.explained[0] >= pr.explained[1]
    assert np.all(pr.coords[0] >= 0.0)
    np.testing.assert_allclose(pr.coords[-1], 0.0, atol=1e-12)  # default center: the last point
    np.testing.assert_allclose(ls.project_trajectory(thetas).coords, pr.coords, atol=1e-12)
    given = ls.project_trajectory(thetas, center, directions=(u, v))
    np.testing.assert_allclose(given.coords, np.column_stack([a, b]), atol=1e-12)
    assert np.all(np.isnan(given.explained))
    (a0, a1), (b0, b1) = pr.extent()
    assert a0 < pr.coords[:, 0].min() and a1 > pr.coords[:, 0].max()
    assert b0 < pr.coords[:, 1].min() and b1 > pr.coords[:, 1].max()


def test_training_path_on_its_own_slice():
    net = Network([2, 6, 1], "tanh", "bce")
    X, y = _data(120)
    theta = net.init(0)
    opt = make_optimizer("adam", lr=0.05)
    state = opt.init(theta)
    path = [theta.copy()]
    for _ in range(40):
        opt.step(theta, net.loss_and_grad(theta, X, y)[1], state)
        path.append(theta.copy())
    pr = ls.project_trajectory(np.array(path))
    sl = ls.slice_2d(net, pr.center, X, y, n=7, span=pr.extent(), directions=pr.directions)
    assert np.all(np.isfinite(sl.loss))
    start = pr.center + pr.coords[0, 0] * pr.d1 + pr.coords[0, 1] * pr.d2
    assert np.linalg.norm(start - path[0]) <= np.linalg.norm(path[0] - path[-1])


def _mlp_situations() -> list[ls.PaperSituation]:
    return [s for s in ls.paper_situations().values() if isinstance(s, ls.PaperSituation)]


def test_paper_situations_are_usable_configs():
    situations = ls.paper_situations()
    assert {"tanh_net", "relu_net", "deep_linear", "noisy_task", "lstm", "adversarial"} <= set(
        situations
    )
    for s in situations.values():
        assert s.title and s.explanation and s.describe() and s.steps > 0
    for s in _mlp_situations():
        net = Network(s.layer_sizes, s.activation, s.loss)
        assert net.layer_sizes[0] == 2
        make_optimizer(s.optimizer, **s.hyper)
        assert s.steps > 0 and s.batch_size > 0
        cfg = s.experiment_dict()
        assert cfg["network"]["hidden"] == list(s.layer_sizes[1:-1])
    deep = situations["deep_linear"]
    assert deep.activation == "linear" and deep.init == "normal" and deep.init_std <= 0.1


def test_a_situation_carries_further_training_settings():
    """A new MLP situation with its own training strategy is one ``PaperSituation``: its
    ``training`` settings reach the experiment, the engine and the description."""
    base = ls.paper_situations()["tanh_net"]
    s = dataclasses.replace(base, training={"clip_norm": 0.5, "l1": 1e-4}, steps=20)
    assert s.experiment_dict()["training"] == {"batch_size": 32, "clip_norm": 0.5, "l1": 1e-4}
    assert s.describe().endswith("batch 32, clip norm 0.5, l1 0.0001")
    run = s.start()
    assert run.engine.train.clip_norm == 0.5 and run.engine.train.l1 == 1e-4
    path = ls.trace_training(s, snapshots=4)
    assert path.thetas.shape == (5, run.model.n_params) and path.steps == 20
    np.testing.assert_array_equal(path.theta_init, run.theta_init)


def test_the_adversarial_situation_trains_to_low_loss_without_a_barrier_and_resists_fgsm():
    """The situation trains with FGSM from its fixed seed to a low clean loss, its line falls
    without a barrier, and it holds up on FGSM inputs far better than the same network trained
    on clean points only."""
    s = ls.paper_situations()["adversarial"]
    assert s.training == {"adversarial_eps": 0.2, "adversarial_clean_weight": 0.5}
    assert "nearly convex" in s.explanation and "FGSM" in s.explanation
    run = s.start()
    assert run.engine.train.adversarial_eps == 0.2
    path = ls.trace_training(s, snapshots=4)
    assert path.steps == s.steps and not path.notes
    line = ls.interpolate(path.model, path.theta_init, path.theta_final, path.X, path.y)
    shape = ls.line_shape(line.alphas, line.train_loss)
    assert shape.monotone and shape.end < 0.15 * shape.start  # no barrier, low loss
    robust = ls.fgsm_robustness(path.model, path.theta_final, path.Xv, path.yv, 0.2)
    clean_path = ls.trace_training(dataclasses.replace(s, training={}), snapshots=1)
    clean = ls.fgsm_robustness(clean_path.model, clean_path.theta_final, path.Xv, path.yv, 0.2)
    assert robust.error <= 0.05 and clean.error <= 0.05  # both classify clean points well
    assert robust.adversarial_error < 0.6 * clean.adversarial_error
    assert robust.adversarial_loss < 0.3 * clean.adversarial_loss
    train = ls.fgsm_robustness(path.model, path.theta_final, path.X, path.y, 0.2)
    text = s.findings(path)
    assert f"{train.adversarial_loss:.3g}" in text and f"{train.loss:.3g}" in text
    assert f"{100 * (1 - robust.adversarial_error):.0f} %" in text
    assert ls.paper_situations()["tanh_net"].findings(path) == ""


def test_fgsm_robustness_moves_every_input_by_eps_towards_a_higher_loss():
    net = Network([2, 5, 1], "tanh", "bce")
    rng = np.random.default_rng(3)
    theta = net.init(1)
    X, y = rng.normal(size=(30, 2)), (rng.random(30) > 0.5).astype(float)
    r = ls.fgsm_robustness(net, theta, X, y, 0.1)
    loss, _ = net.loss_and_grad(theta, X, y)
    X_adv = X + 0.1 * np.sign(net.input_gradient(theta, X, y)[1])
    assert r.loss == pytest.approx(loss, rel=1e-12)
    assert r.adversarial_loss == pytest.approx(net.loss_and_grad(theta, X_adv, y)[0], rel=1e-12)
    assert r.adversarial_loss > r.loss
    wrong = np.mean((net.predict(theta, X_adv).ravel() > 0.5) != (y > 0.5))
    assert r.adversarial_error == pytest.approx(wrong)
    zero = ls.fgsm_robustness(net, theta, X, y, 0.0)
    assert zero.adversarial_loss == zero.loss and zero.adversarial_error == zero.error


def test_paper_situations_pass_experiment_validation():
    experiment = pytest.importorskip("dlopt_core.train.experiment")
    for s in _mlp_situations():
        exp = experiment.Experiment.from_dict(s.experiment_dict())
        assert exp.network.activation == s.activation


# --------------------------------------------------------------------------- challenges


@pytest.fixture(scope="module")
def runs():
    return {name: ch.run() for name, ch in ls.get_challenges().items()}


def test_challenges_are_well_formed(runs):
    assert {
        "ill_conditioning",
        "saddle",
        "plateau",
        "cliff",
        "local_minima",
        "noisy_gradients",
    } <= set(ls.get_challenges())
    for name, ch in ls.get_challenges().items():
        assert ch.name == name and ch.explanation.count("\n") == 1
        fn = ch.test_function()
        (x0, x1), (y0, y1) = fn.bounds
        assert x0 <= ch.start[0] <= x1 and y0 <= ch.start[1] <= y1
        assert len(runs[name]) == len(ch.runs) >= 2  # labels are unique
        for tr in runs[name].values():
            assert tr.path.shape == (ch.steps + 1, 2) and not tr.diverged
            np.testing.assert_array_equal(tr.path[0], ch.start)


def test_ill_conditioning_momentum_beats_gd(runs):
    r = runs["ill_conditioning"]
    assert ls.get_challenges()["ill_conditioning"].test_function().params[0] == ("kappa", 50.0)
    gd, mom = r["GD"].steps_to((0.0, 0.0), 1e-3), r["Momentum"].steps_to((0.0, 0.0), 1e-3)
    assert 0 < mom and 3 * mom < gd


def test_saddle_gd_stalls_momentum_and_adam_escape(runs):
    r = runs["saddle"]
    assert np.linalg.norm(r["GD"].final) < 0.05  # still at the saddle
    assert np.linalg.norm(r["GD"].path[-1] - r["GD"].path[-2]) < 1e-3  # and barely moving
    for label in ("Momentum", "Adam"):
        assert np.linalg.norm(r[label].final) > 1.0
        assert r[label].values[-1] < -1.0


def test_plateau_gd_creeps_adam_crosses(runs):
    r = runs["plateau"]
    start = np.array(ls.get_challenges()["plateau"].start)
    assert r["GD"].values[-1] > 0.99 and np.linalg.norm(r["GD"].final - start) < 0.1
    assert r["Adam"].values[-1] < 1e-3
    assert np.nanmax(r["GD"].grad_norms) < 1e-3  # the gradient on the plateau is tiny


def test_cliff_clipping_tames_the_exploding_gradient(runs):
    fn = ls.FUNCTIONS["cliff"]
    foot = np.array(fn.minima[0])
    wild, tame = runs["cliff"]["Momentum"], runs["cliff"]["Momentum, clipped at 1"]
    assert np.nanmax(wild.grad_norms) > 30.0  # it stepped onto the wall
    assert np.max(np.linalg.norm(wild.path - foot, axis=1)) > 8.0  # and was thrown far
    assert wild.path[:, 0].min() < fn.bounds[0][0] - 3.0
    (x0, x1), (y0, y1) = fn.bounds
    assert np.all((tame.path[:, 0] >= x0) & (tame.path[:, 0] <= x1))
    assert np.all((tame.path[:, 1] >= y0) & (tame.path[:, 1] <= y1))
    assert np.linalg.norm(tame.final - foot) < 1e-3


def test_local_minima_trap_gd_but_not_momentum(runs):
    fn = ls.FUNCTIONS["six_hump_camel"]
    r = runs["local_minima"]
    for label in ("GD", "Adam"):
        tr = r[label]
        assert np.linalg.norm(fn.grad(*tr.final)) < 1e-3  # at rest in a minimum
        assert tr.values[-1] > fn.min_value + 1.0  # but not a global one
    best = min(np.linalg.norm(r["Momentum"].final - np.array(m)) for m in fn.minima)
    assert best < 1e-3


def test_noisy_gradients_decay_and_less_noise_shrink_the_cloud(runs):
    r = runs["noisy_gradients"]
    spread = {k: np.linalg.norm(tr.path[-100:], axis=1).mean() for k, tr in r.items()}
    const = spread["SGD"]
    assert spread["SGD, lr / (1 + 0.05 t)"] < 0.5 * const
    assert spread["SGD, 4x less noise"] < 0.5 * const
    ch = ls.get_challenges()["noisy_gradients"]
    again = dataclasses.replace(ch, seed=ch.seed).run()
    np.testing.assert_array_equal(again["SGD"].path, r["SGD"].path)


def test_the_ill_conditioning_race_uses_the_theorys_best_rates():
    """The challenge file types GD's and heavy ball's rates: they are the optimal ones of the
    quadratic it races on (rounded to 4 digits)."""
    ch = ls.get_challenges()["ill_conditioning"]
    kappa = ch.params["kappa"]
    gd, momentum = ch.runs[0].hyper, ch.runs[1].hyper
    assert gd["lr"] == round(ls.gd_optimal(kappa)[0], 4)
    lr, beta, _ = ls.momentum_optimal(kappa)
    assert (momentum["lr"], momentum["momentum"]) == (round(lr, 4), round(beta, 4))
