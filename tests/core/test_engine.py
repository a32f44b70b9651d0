"""The many-model engine against single-model runs and hand-written training loops."""

from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer
from dlopt_core.train.schedules import make_schedule


def _xor_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    k = int(0.75 * n)
    return SimpleNamespace(X_train=X[:k], y_train=y[:k], X_val=X[k:], y_val=y[k:])


def _regression_data(n=80, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * 3
    y = X @ np.array([2.0, -1.0]) + 0.5
    k = 60
    return SimpleNamespace(X_train=X[:k], y_train=y[:k], X_val=X[k:], y_val=y[k:])


SPECS = [
    ModelSpec(make_optimizer("sgd", lr=0.2)),
    ModelSpec(
        make_optimizer("momentum", lr=0.05, weight_decay=1e-3),
        make_schedule("step", step_size=20, gamma=0.5),
    ),
    ModelSpec(make_optimizer("adam", lr=0.01), make_schedule("cosine", T_max=100)),
    ModelSpec(make_optimizer("rmsprop", lr=0.01, centered=True), order_seed=7),
    ModelSpec(make_optimizer("nadam"), init_seed=3),
    ModelSpec(make_optimizer("adamw", lr=0.02), make_schedule("one_cycle", total_steps=150)),
]


def _engine(specs, data=None, net=None, **train):
    net = net or Network([2, 6, 5, 1], "tanh", "bce")
    cfg = TrainConfig(**{"batch_size": 8, "eval_every": 5, **train})
    return Engine(net, data or _xor_data(), specs, cfg, seed=11)


@pytest.mark.parametrize("train", [{}, {"clip_norm": 0.5, "l1": 1e-3, "polyak": 0.9}])
def test_many_models_equal_separate_runs(train):
    together = _engine(SPECS, **train)
    m_together = together.run(137)
    for m, spec in enumerate(SPECS):
        alone = _engine([spec], **train)
        m_alone = alone.run(137)
        np.testing.assert_array_equal(together.theta[m], alone.theta[0])
        np.testing.assert_array_equal(m_together.val_loss[:, m], m_alone.val_loss[:, 0])
        np.testing.assert_array_equal(m_together.lr[:, m], m_alone.lr[:, 0])


def test_same_seed_same_numbers_and_other_seed_differs():
    a, b = _engine(SPECS[:3]), _engine(SPECS[:3])
    ma, mb = a.run(60), b.run(60)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(ma.train_loss, mb.train_loss)
    c = _engine(SPECS[:3])
    c.reset(seed=12)
    c.run(60)
    assert not np.allclose(a.theta, c.theta)


def test_chunking_does_not_change_results():
    a, b = _engine(SPECS), _engine(SPECS)
    a.run(250)
    for n in (1, 13, 36, 100, 100):
        b.run(n)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.history.field("val_loss"), b.history.field("val_loss"))


def test_engine_matches_hand_written_loop_with_documented_batch_order():
    data = _xor_data(50)
    net = Network([2, 4, 1], "tanh", "bce")
    opt = make_optimizer("momentum", lr=0.1)
    eng = Engine(net, data, [ModelSpec(opt)], TrainConfig(batch_size=8, eval_every=6), seed=5)
    eng.run(30)
    theta = net.init(5, "xavier")
    state = opt.init(theta)
    n = len(data.y_train)
    t = 0
    for epoch in range(10):
        perm = np.random.default_rng([5, epoch]).permutation(n)
        for start in range(0, n, 8):
            if t == 30:
                break
            rows = perm[start : start + 8]
            _, g = net.loss_and_grad(theta, data.X_train[rows], data.y_train[rows])
            opt.step(theta, g, state)
            t += 1
    np.testing.assert_allclose(eng.theta[0], theta, rtol=1e-12, atol=1e-14)
    loss, _ = net.loss_and_grad(theta, data.X_val, data.y_val)
    assert eng.history.field("val_loss", 0)[-1] == pytest.approx(loss, rel=1e-12)


def test_metrics_shape_steps_and_initial_point():
    eng = _engine(SPECS[:2], eval_every=10)
    m = eng.run(35)
    np.testing.assert_array_equal(m.steps, [10, 20, 30])
    assert m.train_loss.shape == (3, 2)
    m2 = eng.run(10)
    np.testing.assert_array_equal(m2.steps, [40])
    assert eng.history.steps[0] == 0 and eng.history.steps[-1] == 40
    err = eng.history.field("val_error")
    assert np.all((err >= 0) & (err <= 1))


def test_a_diverging_model_leaves_the_others_untouched():
    data = _regression_data()
    net = Network([2, 8, 1], "relu", "mse")
    good = ModelSpec(make_optimizer("sgd", lr=0.001))
    bad = ModelSpec(make_optimizer("sgd", lr=5.0))
    also_good = ModelSpec(make_optimizer("adam", lr=0.01))
    eng = Engine(net, data, [good, bad, also_good], TrainConfig(batch_size=10, eval_every=5))
    metrics = eng.run(200)
    assert eng.status_name(1) == "diverged"
    assert 0 < eng.diverged_step[1] <= 200
    assert eng.status_name(0) == eng.status_name(2) == "running"
    after = metrics.steps >= eng.diverged_step[1]
    assert np.all(np.isnan(metrics.train_loss[after, 1]))
    for m in (0, 2):
        alone = Engine(
            net, data, [[good, bad, also_good][m]], TrainConfig(batch_size=10, eval_every=5)
        )
        alone.run(200)
        np.testing.assert_array_equal(eng.theta[m], alone.theta[0])
    assert eng.run(10).steps.tolist() == [205, 210]


def test_all_models_stopped_run_returns_nothing():
    data = _regression_data()
    net = Network([2, 8, 1], "relu", "mse")
    eng = Engine(net, data, [ModelSpec(make_optimizer("sgd", lr=50.0))], TrainConfig(batch_size=60))
    eng.run(100)
    assert eng.status_name(0) == "diverged"
    assert len(eng.run(100)) == 0


def test_early_stopping_keeps_the_best_parameters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = rng.integers(0, 2, size=60).astype(float)  # pure noise: validation loss must turn up
    data = SimpleNamespace(X_train=X[:30], y_train=y[:30], X_val=X[30:], y_val=y[30:])
    net = Network([2, 32, 32, 1], "tanh", "bce")
    eng = Engine(
        net,
        data,
        [ModelSpec(make_optimizer("adam", lr=0.01))],
        TrainConfig(batch_size=30, eval_every=5, early_stopping=10),
    )
    eng.run(5000)
    assert eng.status_name(0) == "early_stopped"
    assert eng.stop_step[0] < 5000
    best = eng.final_theta(0)
    loss, _ = net.loss_and_grad(best, data.X_val, data.y_val)
    assert loss == pytest.approx(eng.history.best_val_loss[0], rel=1e-12)
    assert eng.stop_step[0] - eng.history.best_val_step[0] == 10 * 5


def test_polyak_average_is_an_exponential_moving_average():
    eng = _engine([SPECS[0]], polyak=0.8, eval_every=1)
    avg = eng.theta[0].copy()
    for _ in range(20):
        eng.run(1)
        avg = 0.8 * avg + 0.2 * eng.theta[0]
    np.testing.assert_allclose(eng.avg[0], avg, rtol=1e-12)
    loss, _ = eng.network.loss_and_grad(avg, eng.Xv, eng.Yv)
    assert eng.history.field("val_loss", 0)[-1] == pytest.approx(loss, rel=1e-10)


def test_clipping_bounds_the_sgd_step():
    data = _regression_data()
    net = Network([2, 8, 1], "relu", "mse")
    eng = Engine(
        net,
        data,
        [ModelSpec(make_optimizer("sgd", lr=0.1))],
        TrainConfig(batch_size=60, clip_norm=0.01, shuffle=False),
    )
    before = eng.theta[0].copy()
    eng.run(1)
    assert np.linalg.norm(eng.theta[0] - before) == pytest.approx(0.1 * 0.01, rel=1e-9)


def test_set_optimizer_keeps_state_for_the_same_rule_only():
    eng = _engine([ModelSpec(make_optimizer("adam", lr=0.01))])
    eng.run(10)
    slots = eng.slots[0].copy()
    eng.set_optimizer(0, make_optimizer("adam", lr=0.001))
    np.testing.assert_array_equal(eng.slots[0], slots)
    assert eng.hyper[0, 0] == 0.001
    eng.set_optimizer(0, make_optimizer("sgd", lr=0.1))
    assert not eng.slots[0].any() and eng.scalars[0, 0] == 0
    eng.run(10)
    assert eng.step == 20


def test_multiclass_and_regression_errors():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 2))
    y = np.argmax(X @ rng.normal(size=(2, 3)), axis=1).astype(float)
    data = SimpleNamespace(X_train=X[:60], y_train=y[:60], X_val=X[60:], y_val=y[60:])
    eng = Engine(
        Network([2, 8, 3], "relu", "ce"),
        data,
        [ModelSpec(make_optimizer("adam", lr=0.05))],
        TrainConfig(batch_size=20),
    )
    eng.run(300)
    assert eng.history.field("train_error", 0)[-1] < 0.1
    reg = _regression_data()
    eng = Engine(
        Network([2, 1], "linear", "mse"),
        reg,
        [ModelSpec(make_optimizer("adam", lr=0.1))],
        TrainConfig(batch_size=20),
    )
    eng.run(2000)
    rmse = eng.history.field("train_error", 0)[-1]
    assert rmse == pytest.approx(np.sqrt(eng.history.field("train_loss", 0)[-1]))
    assert rmse < 1e-2


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one model"):
        _engine([])
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="polyak"):
        TrainConfig(polyak=1.0)
    with pytest.raises(ValueError, match="n_steps"):
        _engine(SPECS[:1]).run(-1)


@pytest.mark.parametrize("n_models", [1, 3])
def test_warm_up_readies_the_kernels_a_run_calls(n_models):
    from dlopt_core.train.kernels import train
    from dlopt_core.train.warm_up import warm_up

    net = Network([3, 4, 2], "relu", "ce")
    optimizers = [make_optimizer("rmsprop"), make_optimizer("sgd")][: min(n_models, 2)]
    warm_up(net, optimizers, n_models=n_models)
    family = train.family_of(n_models)
    assert train.kernel_ready(family, train.code_of([o.code for o in optimizers]), net.blas)
    with pytest.raises(ValueError, match="at least one optimizer"):
        warm_up(net, [], 1)


def test_models_in_several_blocks_over_threads_equal_separate_runs():
    """35 models: three blocks of lanes (the last one partly empty), shared out over threads."""
    specs = [ModelSpec(make_optimizer("adam", lr=float(lr))) for lr in np.logspace(-3, -1, 35)]
    together = _engine(specs)
    together.run(40)
    for m in (0, 16, 34):
        alone = _engine([specs[m]])
        alone.run(40)
        np.testing.assert_array_equal(together.theta[m], alone.theta[0])
