"""The LSTM of the core: its loss and gradient against an independent NumPy forward pass and central
differences, the PyTorch layout of its flat vector, the adding task, training through the core's
optimizers, and its loss shape (the LSTM situation of the interpolation paper)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dlopt_core.studies import landscape as ls
from dlopt_core.train import lstm
from dlopt_core.train.lstm import LSTMNetwork, adding_task
from dlopt_core.train.optimizers import make_optimizer
from dlopt_core.train.schedules import make_schedule

# --------------------------------------------------------------------------- a NumPy reference


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def reference_loss(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray, hidden: int, n_out: int, loss: str
) -> float:
    """nn.LSTM + nn.Linear + torch.nn.functional's mean loss, written out from the formulas,
    with its own reading of the flat layout (blocks in PyTorch's order, each row-major)."""
    n, T, n_in = X.shape
    h4 = 4 * hidden
    sizes = [h4 * n_in, h4 * hidden, h4, h4, n_out * hidden, n_out]
    parts = np.split(theta, np.cumsum(sizes)[:-1])
    W_ih, W_hh = parts[0].reshape(h4, n_in), parts[1].reshape(h4, hidden)
    b = parts[2] + parts[3]
    W_out, b_out = parts[4].reshape(n_out, hidden), parts[5]
    h = np.zeros((n, hidden))
    c = np.zeros((n, hidden))
    for t in range(T):
        a = X[:, t] @ W_ih.T + h @ W_hh.T + b
        i, f, g, o = np.split(a, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
    z = h @ W_out.T + b_out
    if loss == "mse":
        return float(np.mean((z - y.reshape(n, n_out)) ** 2))
    if loss == "bce":
        p = _sigmoid(z[:, 0])
        return float(np.mean(-y * np.log(p) - (1.0 - y) * np.log(1.0 - p)))
    zs = z - z.max(axis=1, keepdims=True)
    logp = zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(n), y.astype(int)]))


def _problem(loss: str, n: int = 6, T: int = 5, n_in: int = 3, hidden: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_out = {"mse": 2, "bce": 1, "ce": 3}[loss]
    net = LSTMNetwork(n_in, hidden, n_out, loss)
    theta = rng.normal(0.0, 0.6, net.n_params)  # large enough to reach the non-linear parts
    X = rng.normal(size=(n, T, n_in))
    if loss == "mse":
        y = rng.normal(size=(n, n_out))
    elif loss == "bce":
        y = rng.integers(0, 2, n).astype(float)
    else:
        y = rng.integers(0, n_out, n).astype(float)
    return net, theta, X, y


LOSSES = ("mse", "bce", "ce")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n", [1, 6, 70])  # 70 > lstm.ROWS: two blocks of sequences
def test_loss_matches_the_numpy_forward_pass(loss, n):
    net, theta, X, y = _problem(loss, n=n)
    value, _ = net.loss_and_grad(theta, X, y)
    assert value == pytest.approx(
        reference_loss(theta, X, y, 4, net.output_size, loss), rel=1e-12, abs=1e-14
    )


@pytest.mark.parametrize("loss", LOSSES)
def test_every_gradient_matches_central_differences_of_the_numpy_loss(loss):
    net, theta, X, y = _problem(loss, n=5, T=4, n_in=2, hidden=3)
    _, grad = net.loss_and_grad(theta, X, y)
    h = 1e-6
    fd = np.empty(net.n_params)
    for k in range(net.n_params):
        e = np.zeros(net.n_params)
        e[k] = h
        fd[k] = (
            reference_loss(theta + e, X, y, 3, net.output_size, loss)
            - reference_loss(theta - e, X, y, 3, net.output_size, loss)
        ) / (2.0 * h)
    # central differences: truncation ~ h^2 |f'''|, round-off ~ eps |f| / h, both ~ 1e-10
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    assert np.all(grad[net.offsets["weight_ih_l0"] : net.offsets["out_b"]] != 0.0)


def test_long_sequences_and_saturated_gates_stay_accurate():
    net, theta, X, y = _problem("mse", n=3, T=60, n_in=2, hidden=3)
    theta = theta * 5.0  # gates near 0 and 1, where sigmoid and tanh saturate
    value, grad = net.loss_and_grad(theta, X, y)
    assert value == pytest.approx(reference_loss(theta, X, y, 3, 2, "mse"), rel=1e-12)
    assert np.all(np.isfinite(grad))


# --------------------------------------------------------------------------- the flat layout


def test_layout_is_pytorchs_and_round_trips():
    net = LSTMNetwork(3, 5, 2, "mse")
    H = 5
    assert net.n_params == 4 * H * (3 + H + 2) + 2 * (H + 1)
    assert list(net.shapes.items()) == [
        ("weight_ih_l0", (20, 3)),
        ("weight_hh_l0", (20, 5)),
        ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)),
        ("out_w", (2, 5)),
        ("out_b", (2,)),
    ]
    theta = np.arange(net.n_params, dtype=np.float64)
    params = net.unflatten(theta)
    assert list(params) == list(lstm.NAMES)
    # blocks in order, each row-major: theta is the concatenation of the raveled blocks
    np.testing.assert_array_equal(np.concatenate([p.ravel() for p in params.values()]), theta)
    assert params["weight_hh_l0"][1, 0] == 3 * 20 + 5  # row 1 (gate i, unit 1), column 0
    np.testing.assert_array_equal(net.flatten(params), theta)
    rebuilt = net.unflatten(net.flatten({k: v * 2.0 for k, v in params.items()}))
    for name in lstm.NAMES:
        np.testing.assert_array_equal(rebuilt[name], 2.0 * params[name])
    params["out_b"][:] = -1.0  # views: writing to them writes to theta
    assert np.all(theta[-2:] == -1.0)


def test_flatten_and_shapes_are_checked():
    net = LSTMNetwork(2, 3)
    params = net.unflatten(net.init(0))
    with pytest.raises(ValueError, match="missing \\['out_b'\\]"):
        net.flatten({k: v for k, v in params.items() if k != "out_b"})
    with pytest.raises(ValueError, match="weight_ih_l0 must have shape \\(12, 2\\)"):
        net.flatten({**params, "weight_ih_l0": np.zeros((2, 12))})
    with pytest.raises(ValueError, match="batch first"):
        net.loss_and_grad(net.init(0), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="theta must have shape"):
        net.loss_and_grad(np.zeros(3), np.zeros((4, 5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="no sequences"):
        net.loss_and_grad(net.init(0), np.zeros((0, 5, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="bce labels"):
        LSTMNetwork(2, 3, 1, "bce").loss_and_grad(net.init(0), np.zeros((2, 5, 2)), [0.5, 1.0])
    with pytest.raises(ValueError, match="unknown loss"):
        LSTMNetwork(2, 3, 1, "hinge")
    with pytest.raises(ValueError, match="positive integers"):
        LSTMNetwork(2, 0, 1)


def test_init_schemes():
    net = LSTMNetwork(2, 16, 1)
    theta = net.init(3)
    bound = 1.0 / np.sqrt(16)
    assert np.all(np.abs(theta) <= bound) and np.abs(theta).max() > 0.9 * bound
    np.testing.assert_array_equal(theta, net.init(3))
    normal = net.unflatten(net.init(3, "normal", std=0.1, forget_bias=1.0))
    assert np.all(normal["bias_ih_l0"] == 0.0) and np.all(normal["out_b"] == 0.0)
    np.testing.assert_array_equal(normal["bias_hh_l0"], np.repeat([0.0, 1.0, 0.0, 0.0], 16))
    assert 0.08 < normal["weight_hh_l0"].std() < 0.12
    assert not np.any(net.init(0, "zeros"))
    with pytest.raises(ValueError, match="unknown init scheme"):
        net.init(0, "xavier")


def test_evaluate_predict_and_logits_agree_with_the_loss():
    net, theta, X, y = _problem("ce", n=9)
    value, _ = net.loss_and_grad(theta, X, y)
    thetas = np.stack([theta, 0.5 * theta, theta])
    out = net.evaluate(thetas, X, y)
    assert out[0, 0] == value and out[2, 0] == value  # bit for bit, parallel or not
    assert net.evaluate(theta[None, :], X, y)[0, 0] == value
    assert out[1, 0] == pytest.approx(reference_loss(0.5 * theta, X, y, 4, 3, "ce"), rel=1e-12)
    probs = net.predict(theta, X)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert out[0, 1] == np.mean(np.argmax(probs, axis=1) != y)
    mse_net, th, Xm, ym = _problem("mse", n=4)
    loss, rmse = mse_net.evaluate(th[None, :], Xm, ym)[0]
    assert rmse == pytest.approx(np.sqrt(loss))
    np.testing.assert_allclose(np.mean((mse_net.predict(th, Xm) - ym) ** 2), loss, rtol=1e-13)
    assert np.all(np.isnan(net.evaluate(thetas, X[:0], y[:0])))


# --------------------------------------------------------------------------- the adding task


def test_adding_task_is_deterministic_and_well_formed():
    data = adding_task(200, 12, 0.25, seed=4)
    again = adding_task(200, 12, 0.25, seed=4)
    for field in ("X_train", "y_train", "X_val", "y_val"):
        np.testing.assert_array_equal(getattr(data, field), getattr(again, field))
    assert not np.array_equal(adding_task(200, 12, 0.25, seed=5).X_train, data.X_train)
    assert data.X_train.shape == (150, 12, 2) and data.X_val.shape == (50, 12, 2)
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2.0)
    assert np.all(markers[:, :6].sum(axis=1) == 1.0)  # one in each half
    np.testing.assert_allclose(y, (X[:, :, 0] * markers).sum(axis=1) - 1.0)
    assert np.all((X[:, :, 0] >= 0.0) & (X[:, :, 0] < 1.0))
    with pytest.raises(ValueError, match="length"):
        adding_task(10, 1)


# --------------------------------------------------------------------------- training


def test_trainer_steps_the_core_optimizer_with_the_engines_batch_order():
    data = adding_task(50, 6, 0.2, seed=1)
    net = LSTMNetwork(2, 3, 1, "mse")
    opt = make_optimizer("adam", lr=0.02)
    sched = make_schedule("step", step_size=7, gamma=0.5)
    trainer = lstm.SequenceTrainer(
        net, data, opt, sched, batch_size=16, seed=9, clip_norm=0.5, eval_every=5
    )
    trainer.run(11)
    trainer.run(14)  # chunks of any size give the same numbers
    # the same by hand: 40 rows, batches of 16, 16 and 8, Optimizer.step at schedule(lr, t)
    theta = net.init(9)
    state = opt.init(theta)
    for t in range(25):
        epoch, k = divmod(t, 3)
        rows = np.random.default_rng([9, epoch]).permutation(40)[16 * k : 16 * k + 16]
        _, grad = net.loss_and_grad(theta, data.X_train[rows], data.y_train[rows])
        norm = np.linalg.norm(grad)
        if norm > 0.5:
            grad *= 0.5 / norm
        opt.step(theta, grad, state, lr=sched(0.02, t))
    np.testing.assert_allclose(trainer.theta, theta, rtol=1e-12, atol=1e-15)
    hist = trainer.history()
    np.testing.assert_array_equal(hist.steps, [5, 10, 15, 20, 25])
    assert hist.lr[-1] == sched(0.02, 24)
    assert hist.train_loss[-1] == net.loss_and_grad(theta, data.X_train, data.y_train)[0]
    assert np.all(np.isfinite(hist.val_loss)) and trainer.running


def test_a_diverging_run_stops_and_says_so():
    data = adding_task(40, 5, 0.0, seed=0)
    trainer = lstm.SequenceTrainer(
        LSTMNetwork(2, 3), data, make_optimizer("sgd", lr=1000.0), eval_every=1
    )
    trainer.run(300)
    assert trainer.status == "diverged" and not trainer.running
    assert trainer.stop_step == trainer.step < 300
    trainer.run(10)
    assert trainer.step == trainer.stop_step
    assert np.all(np.isnan(trainer.history().val_loss))  # no validation set


def _fit(data: lstm.SequenceData, seed: int, steps: int) -> float:
    net = LSTMNetwork(data.input_size, 8, 1, "mse")
    trained = lstm.train(
        net,
        data,
        make_optimizer("adam", lr=0.01),
        steps,
        batch_size=32,
        seed=seed,
        theta0=net.init(seed, "normal", 0.1),
    )
    assert trained.running
    return float(trained.history().val_loss[-1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_adding_task_is_learned_and_needs_its_memory(seed):
    """With the whole sequence the validation loss ends far below 1/6, the best guess without
    memory; fed only the second half (the first marked value unseen), it cannot get below the
    variance of that value, 1/12."""
    data = adding_task(600, 20, seed=seed)
    assert _fit(data, seed, 1500) < 0.01
    half = dataclasses.replace(data, X_train=data.X_train[:, 10:], X_val=data.X_val[:, 10:])
    assert _fit(half, seed, 1500) > 0.07


# --------------------------------------------------------------------------- its loss shape


def test_line_and_slice_of_a_flat_model():
    net, theta_b, X, y = _problem("mse", n=8)
    theta_a = net.init(1)
    line = ls.interpolate(net, theta_a, theta_b, X, y, X[:3], y[:3])
    k0, k1 = int(np.argmin(np.abs(line.alphas))), int(np.argmin(np.abs(line.alphas - 1.0)))
    assert line.train_loss[k0] == net.loss_and_grad(theta_a, X, y)[0]
    assert line.train_loss[k1] == net.loss_and_grad(theta_b, X, y)[0]
    a = line.alphas[5]
    assert line.val_loss[5] == pytest.approx(
        reference_loss((1 - a) * theta_a + a * theta_b, X[:3], y[:3], 4, 2, "mse"), rel=1e-12
    )
    assert ls.network_loss(net, theta_b, X, y) == line.train_loss[k1]
    sl = ls.slice_2d(net, theta_b, X, y, n=5, span=0.5, seed=2)
    assert sl.loss[2, 2] == net.loss_and_grad(theta_b, X, y)[0]
    point = theta_b + sl.alphas[4] * sl.d1 + sl.betas[1] * sl.d2
    assert sl.loss[1, 4] == pytest.approx(net.loss_and_grad(point, X, y)[0], rel=1e-12)
    # filter-normalised: every gate unit's incoming weights and every read-out row get the norm
    # of theta's, the biases zero
    groups = net.filter_groups()
    for d in (sl.d1, sl.d2):
        for g in range(groups.max() + 1):
            assert np.linalg.norm(d[groups == g]) == pytest.approx(
                np.linalg.norm(theta_b[groups == g]), rel=1e-12
            )
        assert np.all(d[groups < 0] == 0.0)
    assert np.sum(groups < 0) == 2 * 16 + 2  # the four bias blocks and out_b
    with pytest.raises(TypeError, match="neither a Network"):
        ls.interpolate(object(), theta_a, theta_b, X, y)


def test_the_lstm_situation_trains_and_shows_a_plateau_before_the_drop():
    situation = ls.paper_situations()["lstm"]
    fractions = []
    path = ls.trace_training(
        situation, snapshots=10, callback=lambda f, partial: fractions.append((f, partial.steps))
    )
    assert isinstance(path.model, LSTMNetwork) and path.thetas.shape == (11, path.model.n_params)
    assert path.steps == situation.steps == 3000 and not path.cancelled
    assert fractions[0] == (0.1, 300) and len(fractions) == 9
    np.testing.assert_array_equal(path.theta_init, path.model.init(0, "normal", 0.1))
    line = ls.interpolate(
        path.model, path.theta_init, path.theta_final, path.X, path.y, path.Xv, path.yv
    )
    shape = ls.line_shape(line.alphas, line.train_loss)
    assert shape.start == pytest.approx(1 / 6, rel=0.1)  # the guess without memory
    assert shape.end < 0.01 and line.val_loss[30] < 0.01  # learned, also on unseen sequences
    assert shape.monotone  # no barrier
    assert shape.plateau_end > 0.4  # a long plateau: a tenth of the fall only late on the line


def test_trace_training_can_be_cancelled():
    situation = dataclasses.replace(ls.paper_situations()["lstm"], steps=100)
    calls = []
    path = ls.trace_training(
        situation,
        snapshots=5,
        should_stop=lambda: len(calls) >= 2,
        callback=lambda f, p: calls.append(f),
    )
    assert path.cancelled and path.steps == 40 and len(path.thetas) == 3


def test_line_shape_reads_plateaus_and_bumps():
    a = np.linspace(-0.5, 1.5, 41)
    flat_then_drop = np.where(a < 0.6, 1.0, 1.0 - (a - 0.6) / 0.4)
    shape = ls.line_shape(a, flat_then_drop)
    assert shape.monotone and shape.max_rise == 0.0
    assert shape.start == 1.0 and shape.end == pytest.approx(0.0, abs=1e-12)
    assert shape.plateau_end == pytest.approx(0.64)  # 10 % of the fall, 0.04 past 0.6
    # the barrier is the climb above the lowest loss reached, not one step's rise
    # down to 0.6 at a = 0.4, up to 0.7 at a = 0.5 (in two steps of 0.05), down to 0 at a = 1
    bump = np.interp(a, [-0.5, 0.4, 0.5, 1.0, 1.5], [1.5, 0.6, 0.7, 0.0, 0.5])
    shape = ls.line_shape(a, bump)
    assert not shape.monotone and shape.max_rise == pytest.approx(0.1)
    assert shape.fall == pytest.approx(1.0)
    wiggle = ls.line_shape(a, flat_then_drop + 0.005 * (np.abs(a - 0.3) < 0.01))
    assert wiggle.monotone and wiggle.max_rise == pytest.approx(0.005)  # under 1 % of the fall
    rising = ls.line_shape(a, a)
    assert np.isnan(rising.plateau_end) and not rising.monotone and rising.fall == -1.0
    with pytest.raises(ValueError, match="two or more"):
        ls.line_shape(a, np.full(41, np.nan))
