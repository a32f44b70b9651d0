"""Networks without biases, the mean-field parameterisation and per-layer learning rates.

Checked against finite differences, a NumPy forward pass, per-layer ``Optimizer.step`` calls
(the update rules at the layer's own rate, as ``torch.optim`` parameter groups) and the
trainability map's own trainer.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.studies import trainability
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.kernels import trainability as K
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import OPTIMIZERS, make_optimizer

KINDS = [(False, "standard"), (True, "mean_field"), (False, "mean_field")]


def _data(n=12, d=3, k=1, seed=0, classes=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] > 0).astype(float) if classes else rng.normal(size=(n, k))
    return SimpleNamespace(X_train=X, y_train=y, X_val=X[:0], y_val=y[:0])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_gradient_by_finite_differences(kind, loss):
    net = Network([3, 5, 4, 1], "tanh", loss, bias=kind[0], parameterization=kind[1])
    data = _data(classes=loss == "bce")
    theta = net.init(4) * 0.7
    _, grad = net.loss_and_grad(theta, data.X_train, data.y_train)
    h = 1e-6
    fd = np.empty_like(theta)
    for p in range(net.n_params):
        e = np.zeros_like(theta)
        e[p] = h
        up = net.loss_and_grad(theta + e, data.X_train, data.y_train)[0]
        down = net.loss_and_grad(theta - e, data.X_train, data.y_train)[0]
        fd[p] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


def test_no_biases_leave_them_out_of_the_flat_vector():
    net = Network([3, 5, 2], "relu", "mse", bias=False)
    assert net.n_params == 3 * 5 + 5 * 2
    (W1, b1), (W2, b2) = net.unflatten(np.arange(net.n_params, dtype=float))
    assert W1.shape == (3, 5) and W2.shape == (5, 2) and b1.size == 0 and b2.size == 0
    assert W2[0, 0] == 15.0  # the second layer's weights follow the first's directly
    assert list(net.layer_of_params()) == [0] * 15 + [1] * 10


def test_mean_field_is_the_trainability_network():
    """With one hidden layer of width d = the input dimension and no biases:
    out = tanh(sqrt(2) X W1 / sqrt(d)) W2 / d, weights standard normal."""
    d = 5
    net = Network([d, d, 1], "tanh", "mse", bias=False, parameterization="mean_field")
    theta = net.init(7)
    (W1, _), (W2, _) = net.unflatten(theta)
    assert np.array_equal(theta, np.random.default_rng(7).standard_normal(d * d + d))
    X = np.random.default_rng(1).normal(size=(9, d))
    h = np.tanh(np.sqrt(2.0) * X @ W1 / np.sqrt(d))
    np.testing.assert_allclose(net.logits(theta, X), h @ W2 / d, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(net.hidden_outputs(theta, X)[0], h, rtol=1e-13, atol=1e-15)
    deep = Network([4, 6, 3, 2], "relu", "mse", parameterization="mean_field")
    np.testing.assert_allclose(deep.factors, [np.sqrt(2 / 4), np.sqrt(2 / 6), 1 / 3])


def _reference_run(net, name, factors, data, theta, steps, **hyper):
    """Full-batch training with one optimizer per layer at ``lr * factor``: the textbook
    per-layer learning rate (``torch.optim`` parameter groups)."""
    theta = theta.copy()
    layer = net.layer_of_params()
    opts = []
    for f in factors:
        opt = make_optimizer(name, **hyper)
        opts.append((opt, opt.init(theta[layer == len(opts)]), opt.lr * f))
    for _ in range(steps):
        _, g = net.loss_and_grad(theta, data.X_train, data.y_train)
        for k, (opt, state, lr) in enumerate(opts):
            part = np.ascontiguousarray(theta[layer == k])
            opt.step(part, g[layer == k], state, lr=lr)
            theta[layer == k] = part
    return theta


def test_layer_rates_of_every_optimizer_equal_one_optimizer_per_layer():
    """Every optimizer at once, side by side in one engine (the kernel that reads each model's
    rule; a model's numbers there are its numbers alone, see the next test), each against its
    textbook per-layer run. One kernel instead of one per rule keeps a cold test run short."""
    net = Network([3, 4, 3, 2], "tanh", "mse", bias=True)
    data = _data(k=2)
    factors = (0.5, 2.0, 0.25)
    hypers = {
        name: {"lr": 0.05, "weight_decay": 0.01, **({"lr_decay": 0.1} if name == "adagrad" else {})}
        for name in OPTIMIZERS
    }
    cfg = TrainConfig(batch_size=len(data.X_train), shuffle=False, eval_every=1)
    specs = [
        ModelSpec(make_optimizer(name, **hyper), layer_lr=factors) for name, hyper in hypers.items()
    ]
    e = Engine(net, data, specs, cfg, seed=2)
    refs = [
        _reference_run(net, name, factors, data, e.theta[m].copy(), 6, **hyper)
        for m, (name, hyper) in enumerate(hypers.items())
    ]
    e.run(6)
    for m, name in enumerate(hypers):
        np.testing.assert_allclose(e.theta[m], refs[m], rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_a_model_trains_alike_alone_and_among_others(kind):
    """The many-model family (16 lanes, also with optimizers read per lane) gives each model the
    numbers it gets alone, bit for bit, with layer factors and both options."""
    net = Network([3, 5, 1], "tanh", "mse", bias=kind[0], parameterization=kind[1])
    data = _data()
    cfg = TrainConfig(batch_size=4, eval_every=2)
    specs = [
        ModelSpec(make_optimizer(name, lr=0.02), layer_lr=(0.5 + k, 1.5))
        for k, name in enumerate(["adam", "momentum", "adam", "rmsprop"])
    ]
    many = Engine(net, data, specs, cfg, seed=1)
    many.run(10)
    same_rule = Engine(net, data, [specs[0]] * 3 + [specs[2]], cfg, seed=1)
    same_rule.run(10)
    for m, spec in enumerate(specs):
        alone = Engine(net, data, [spec], cfg, seed=1)
        alone.run(10)
        np.testing.assert_array_equal(alone.theta[0], many.theta[m])
    np.testing.assert_array_equal(same_rule.theta[3], many.theta[2])


def test_the_kernels_with_layer_options_give_a_plain_model_its_plain_numbers():
    """A model with factors 1 beside one with other factors (the kernels with layer options)
    trains exactly as without them (the plain kernels)."""
    net = Network([2, 6, 1], "relu", "bce")
    data = _data(d=2, classes=True)
    adam = make_optimizer("adam")
    plain = Engine(net, data, [ModelSpec(adam), ModelSpec(adam.replace(lr=0.1))], seed=3)
    layered = Engine(
        net,
        data,
        [
            ModelSpec(adam, layer_lr=(1.0, 1.0)),
            ModelSpec(adam.replace(lr=0.1), layer_lr=(2.0, 1.0)),
        ],
        seed=3,
    )
    assert not plain.layered and layered.layered
    plain.run(20)
    layered.run(20)
    np.testing.assert_array_equal(plain.theta[0], layered.theta[0])
    assert not np.array_equal(plain.theta[1], layered.theta[1])


def test_a_zero_factor_freezes_its_layer_and_factors_change_while_training():
    net = Network([3, 4, 1], "tanh", "mse")
    e = Engine(net, _data(), [ModelSpec(make_optimizer("sgd", lr=0.1), layer_lr=(0.0, 1.0))])
    first = net.layer_of_params() == 0
    before = e.theta[0].copy()
    e.run(5)
    assert np.array_equal(e.theta[0][first], before[first])
    assert not np.array_equal(e.theta[0][~first], before[~first])
    e.set_layer_lr(0, (1.0, 0.0))
    mid = e.theta[0].copy()
    e.run(5)
    assert np.array_equal(e.theta[0][~first], mid[~first])
    assert not np.array_equal(e.theta[0][first], mid[first])


def test_bad_layer_factors_are_refused_with_a_message():
    net = Network([3, 4, 1], "tanh", "mse")
    with pytest.raises(ValueError, match="2 layers"):
        Engine(net, _data(), [ModelSpec(make_optimizer("sgd"), layer_lr=(1.0,))])
    with pytest.raises(ValueError, match="finite number >= 0"):
        ModelSpec(make_optimizer("sgd"), layer_lr=(1.0, -1.0))
    with pytest.raises(ValueError, match="finite number >= 0"):
        ModelSpec(make_optimizer("sgd"), layer_lr=(1.0, float("nan")))
    with pytest.raises(ValueError, match="parameterization"):
        Network([3, 4, 1], parameterization="ntk")
    with pytest.raises(ValueError, match="theta0"):
        Engine(net, _data(), [ModelSpec(make_optimizer("sgd"))], theta0=np.zeros(3))


def map_engine(problem, optimizer, lr1, lr2, beta, steps, backend="cpu"):
    """The trainability map's run as an engine run: mean-field, no biases, full batch, the
    two layer rates as factors of the base rate 1, the problem's data and initial weights."""
    d = problem.width
    net = Network([d, d, 1], "tanh", "mse", bias=False, parameterization="mean_field")
    opt = {
        "gd": make_optimizer("sgd", lr=1.0),
        "momentum": make_optimizer("momentum", lr=1.0, momentum=beta),
        "adam": make_optimizer("adam", lr=1.0, betas=(beta, 0.999)),
    }[optimizer]
    data = SimpleNamespace(
        X_train=problem.X, y_train=problem.Y, X_val=problem.X[:0], y_val=problem.Y[:0]
    )
    cfg = TrainConfig(batch_size=problem.rows, shuffle=False, eval_every=1)
    theta0 = np.concatenate([problem.W1.ravel(), problem.W2.ravel()])
    e = Engine(
        net, data, [ModelSpec(opt, layer_lr=(lr1, lr2))], cfg, theta0=theta0, backend=backend
    )
    e.run(steps - 1)
    return e


@pytest.mark.parametrize(
    ("optimizer", "lr1", "lr2"), [("gd", 0.8, 3.0), ("momentum", 0.3, 1.5), ("adam", 0.01, 0.05)]
)
def test_a_mean_field_engine_run_is_the_trainability_run(optimizer, lr1, lr2):
    problem = trainability.Problem.paper(width=4, seed=3)
    steps = 60
    spec = trainability.MapSpec(
        optimizer=optimizer, steps=steps, lr1=lr1, lr2=lr2, beta=0.8, res=(2, 2)
    )
    hyper = spec.hyper(np.array([0]), np.array([0]))  # the pixel's rates set below
    hyper[K.H_LR1], hyper[K.H_LR2] = lr1, lr2
    reference = trainability.train_losses(problem, spec, hyper)[:, 0]
    e = map_engine(problem, optimizer, lr1, lr2, 0.8, steps)
    curve = e.history.field("train_loss", 0)
    assert len(curve) == steps
    assert np.all(np.isfinite(reference)) and reference[-1] < reference[0]
    np.testing.assert_allclose(curve, reference, rtol=1e-12, atol=0.0)
