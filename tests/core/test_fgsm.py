"""FGSM adversarial training against an independent NumPy implementation of one step.

Reference: forward and backward passes written out with NumPy matrices (no kernel code), the
input gradient dL/dx, x_adv = x + eps * sign(dL/dx), and the step of plain SGD on the mixed
gradient w * dL(x)/dtheta + (1 - w) * dL(x_adv)/dtheta.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer


def _act(name, z):
    if name == "tanh":
        return np.tanh(z), 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    raise AssertionError(name)


def _numpy_loss_grads(net, theta, X, y, act):
    """(mean loss, dL/dtheta flat, dL/dX) by explicit NumPy backpropagation."""
    layers = net.unflatten(theta.copy())
    h, cache = X, []
    for k, (W, b) in enumerate(layers):
        z = h @ W + b
        cache.append((h, z))
        h = z if k == len(layers) - 1 else _act(act, z)[0]
    z, n = h, X.shape[0]
    if net.loss == "bce":
        t = y.reshape(-1, 1)
        s = 1.0 / (1.0 + np.exp(-z))
        loss = np.mean(-t * np.log(s) - (1 - t) * np.log(1 - s))
        dz = (s - t) / n
    elif net.loss == "ce":
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        onehot = np.eye(z.shape[1])[y.astype(int)]
        loss = -np.mean(np.log(p[np.arange(n), y.astype(int)]))
        dz = (p - onehot) / n
    else:
        t = y.reshape(n, -1)
        loss = np.mean((z - t) ** 2)
        dz = 2.0 * (z - t) / z.size
    grads = []
    for k in range(len(layers) - 1, -1, -1):
        h_in, _ = cache[k]
        W, _ = layers[k]
        grads.append((h_in.T @ dz, dz.sum(axis=0)))
        dh = dz @ W.T
        dz = dh * _act(act, cache[k - 1][1])[1] if k > 0 else dh
    flat = np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in reversed(grads)])
    return loss, flat, dz


CASES = [
    (Network([2, 3, 1], "tanh", "bce"), np.array([1.0, 0.0, 0.0, 1.0, 1.0])),
    (Network([2, 4, 3], "relu", "ce"), np.array([0.0, 2.0, 1.0, 1.0, 0.0])),
    (Network([2, 3, 2], "tanh", "mse"), None),
]


def _case(k):
    net, y = CASES[k]
    rng = np.random.default_rng(4 + k)
    X = rng.normal(size=(5, 2))
    if y is None:
        y = rng.normal(size=(5, 2))
    return net, X, y


@pytest.mark.parametrize("k", range(len(CASES)))
def test_input_gradient_matches_numpy_and_finite_differences(k):
    net, X, y = _case(k)
    theta = net.init(1, "he")
    loss, dx = net.input_gradient(theta, X, y)
    ref_loss, _, ref_dx = _numpy_loss_grads(net, theta, X, y, net.activation)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-14)
    h = 1e-6
    for i, j in [(0, 0), (2, 1), (4, 0)]:
        Xp, Xm = X.copy(), X.copy()
        Xp[i, j] += h
        Xm[i, j] -= h
        fd = (net.loss_and_grad(theta, Xp, y)[0] - net.loss_and_grad(theta, Xm, y)[0]) / (2 * h)
        assert dx[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    np.testing.assert_array_equal(net.fgsm(theta, X, y, 0.1), X + 0.1 * np.sign(ref_dx))


def test_fgsm_rejects_a_bad_eps():
    net, X, y = _case(0)
    with pytest.raises(ValueError, match="eps"):
        net.fgsm(net.init(0), X, y, -0.1)


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("n_models", [1, 3])
@pytest.mark.parametrize("clean_weight", [0.0, 0.3, 1.0])
def test_one_adversarial_sgd_step_matches_the_hand_computed_step(k, n_models, clean_weight):
    """One step with the whole training set as the batch (its order does not change the mean),
    on the single-model path (one model) and the many-model lanes (three)."""
    net, X, y = _case(k)
    eps, lr = 0.25, 0.1
    data = SimpleNamespace(X_train=X, y_train=y, X_val=X[:0], y_val=y[:0])
    specs = [ModelSpec(make_optimizer("sgd", lr=lr), init_seed=s) for s in range(n_models)]
    cfg = TrainConfig(
        batch_size=len(X), eval_every=1, adversarial_eps=eps, adversarial_clean_weight=clean_weight
    )
    eng = Engine(net, data, specs, cfg, init="he")
    theta0 = eng.theta.copy()
    eng.run(1)
    for m in range(n_models):
        _, g_clean, dx = _numpy_loss_grads(net, theta0[m], X, y, net.activation)
        X_adv = X + eps * np.sign(dx)
        _, g_adv, _ = _numpy_loss_grads(net, theta0[m], X_adv, y, net.activation)
        g_mix = clean_weight * g_clean + (1.0 - clean_weight) * g_adv
        np.testing.assert_allclose(eng.theta[m], theta0[m] - lr * g_mix, rtol=1e-12, atol=1e-15)
        clean_loss, _, _ = _numpy_loss_grads(net, eng.theta[m].copy(), X, y, net.activation)
        assert eng.history.field("train_loss", m)[-1] == pytest.approx(clean_loss, rel=1e-12)


def test_adversarial_training_changes_the_run_and_zero_eps_does_not():
    net, X, y = _case(0)
    data = SimpleNamespace(X_train=X, y_train=y, X_val=X[:0], y_val=y[:0])
    spec = [ModelSpec(make_optimizer("adam", lr=0.05))]

    def final(**adv):
        eng = Engine(net, data, spec, TrainConfig(batch_size=2, eval_every=5, **adv))
        eng.run(20)
        return eng.theta[0].copy()

    plain = final()
    np.testing.assert_array_equal(final(adversarial_eps=0.0, adversarial_clean_weight=0.2), plain)
    assert not np.allclose(final(adversarial_eps=0.3), plain)


@pytest.mark.parametrize(
    "bad",
    [
        {"adversarial_eps": -0.1},
        {"adversarial_eps": float("inf")},
        {"adversarial_clean_weight": 1.5},
    ],
)
def test_train_config_rejects_bad_adversarial_settings(bad):
    with pytest.raises(ValueError, match="adversarial"):
        TrainConfig(**bad)
