"""The network's layout, losses, gradients and initialisation against an independent NumPy model."""

from __future__ import annotations

import numpy as np
import pytest

from dlopt_core.train.network import ACTIVATIONS, INIT_SCHEMES, LOSSES, Network

# --------------------------------------------------------------------------- independent reference


def ref_act(name, z):
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    assert name == "linear"
    return z


def ref_layers(sizes, theta):
    """Documented layout: per layer W (n_in, n_out) row-major, then b (n_out)."""
    out, pos = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = theta[pos : pos + n_in * n_out].reshape(n_in, n_out)
        pos += n_in * n_out
        b = theta[pos : pos + n_out]
        pos += n_out
        out.append((W, b))
    assert pos == len(theta)
    return out


def ref_forward(sizes, act, theta, X):
    """Logits and every hidden pre-activation."""
    a = X
    pre = []
    layers = ref_layers(sizes, theta)
    for i, (W, b) in enumerate(layers):
        z = a @ W + b
        if i < len(layers) - 1:
            pre.append(z)
            a = ref_act(act, z)
        else:
            a = z
    return a, pre


def ref_loss(sizes, act, loss, theta, X, y):
    z, _ = ref_forward(sizes, act, theta, X)
    if loss == "bce":
        p = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))
    if loss == "ce":
        zmax = z.max(axis=1, keepdims=True)
        logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
        return float(-np.mean(logp[np.arange(len(y)), y.astype(int)]))
    Y = y.reshape(len(y), -1)
    return float(np.mean((z - Y) ** 2))  # mean over samples and outputs, no 1/2


def n_params_formula(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


# --------------------------------------------------------------------------- data

LOSS_CASES = {
    "bce": (1, lambda rng, n: rng.integers(0, 2, size=n).astype(float)),
    "ce": (3, lambda rng, n: rng.integers(0, 3, size=n)),
    "mse1": (1, lambda rng, n: rng.normal(size=n)),
    "mse2": (2, lambda rng, n: rng.normal(size=(n, 2))),
}


def make_case(act, loss_case, seed=0, n=23, d=3):
    n_out, labels = LOSS_CASES[loss_case]
    loss = "mse" if loss_case.startswith("mse") else loss_case
    sizes = [d, 5, 4, n_out]
    net = Network(sizes, act, loss)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = labels(rng, n)
    theta = rng.normal(size=net.n_params) * 0.8
    return net, sizes, loss, theta, X, y


PAIRS = [(a, lc) for a in ACTIVATIONS for lc in LOSS_CASES]


def test_pairs_cover_every_activation_and_loss():
    assert {lc[:3] for lc in LOSS_CASES} == set(LOSSES)
    assert {a for a, _ in PAIRS} == set(ACTIVATIONS)


@pytest.mark.parametrize(("act", "loss_case"), PAIRS)
def test_loss_matches_reference_and_gradient_matches_finite_differences(act, loss_case):
    net, sizes, loss, theta, X, y = make_case(act, loss_case, seed=ACTIVATIONS.index(act))
    _, pre = ref_forward(sizes, act, theta, X)
    if act in ("relu", "leaky_relu"):
        # keep every pre-activation well away from the kink, so finite differences are smooth
        assert min(np.abs(z).min() for z in pre) > 1e-4
    value, grad = net.loss_and_grad(theta, X, y)
    assert grad.shape == (net.n_params,)
    assert value == pytest.approx(ref_loss(sizes, act, loss, theta, X, y), rel=1e-12, abs=1e-14)

    eps = 1e-6
    fd = np.empty_like(theta)
    for i in range(len(theta)):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        fd[i] = (net.loss_and_grad(tp, X, y)[0] - net.loss_and_grad(tm, X, y)[0]) / (2 * eps)
    scale = max(1.0, np.abs(fd).max())
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6 * scale)
    # and the gradient is not trivially zero
    assert np.abs(grad).max() > 1e-3


@pytest.mark.parametrize(
    ("act", "loss_case"), [("tanh", "bce"), ("relu", "ce"), ("sigmoid", "mse2")]
)
def test_many_rows_in_blocks(act, loss_case):
    """More rows than one kernel block: the mean is still over all rows."""
    net, sizes, loss, theta, X, y = make_case(act, loss_case, n=203)
    value, grad = net.loss_and_grad(theta, X, y)
    assert value == pytest.approx(ref_loss(sizes, act, loss, theta, X, y), rel=1e-12)
    parts = [net.loss_and_grad(theta, X[i : i + 1], y[i : i + 1]) for i in range(len(X))]
    np.testing.assert_allclose(value, np.mean([p[0] for p in parts]), rtol=1e-12)
    np.testing.assert_allclose(grad, np.mean([p[1] for p in parts], axis=0), rtol=1e-10, atol=1e-14)


def test_loss_values_by_hand():
    """Single-unit nets whose loss can be written down directly."""
    # bce with logit z = w x + b
    net = Network([1, 1], "linear", "bce")
    theta = np.array([2.0, -0.5])
    X = np.array([[1.0], [-1.0]])
    y = np.array([1.0, 0.0])
    z = np.array([1.5, -2.5])
    want = np.mean(np.log1p(np.exp(-z * (2 * y - 1))))
    assert net.loss_and_grad(theta, X, y)[0] == pytest.approx(want, rel=1e-14)
    # mse with 2 outputs: mean over samples and outputs, no 1/2
    net = Network([1, 2], "linear", "mse")
    theta = np.array([1.0, 2.0, 0.0, 0.0])  # W = [[1, 2]], b = 0
    X = np.array([[1.0], [2.0]])
    Y = np.array([[0.0, 0.0], [0.0, 1.0]])
    # errors: [1, 2], [2, 3] -> squares 1 4 4 9 -> mean 4.5
    assert net.loss_and_grad(theta, X, Y)[0] == pytest.approx(4.5, rel=1e-15)
    # ce with equal logits: log K
    net = Network([2, 4], "linear", "ce")
    loss, _ = net.loss_and_grad(np.zeros(net.n_params), np.ones((3, 2)), np.array([0, 3, 1]))
    assert loss == pytest.approx(np.log(4.0), rel=1e-15)


def test_extreme_logits_are_stable():
    net = Network([1, 1], "linear", "bce")
    theta = np.array([1000.0, 0.0])
    X = np.array([[1.0], [-1.0]])
    loss, grad = net.loss_and_grad(theta, X, np.array([0.0, 1.0]))
    assert loss == pytest.approx(1000.0, rel=1e-12)
    assert np.all(np.isfinite(grad))
    net = Network([1, 3], "linear", "ce")
    theta = np.array([800.0, -800.0, 0.0, 0.0, 0.0, 0.0])
    loss, grad = net.loss_and_grad(theta, np.array([[1.0]]), np.array([1]))
    assert loss == pytest.approx(1600.0, rel=1e-12) and np.all(np.isfinite(grad))


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize("sizes", [[2, 1], [3, 5, 4, 2], [1, 7, 1], [4, 3, 3, 3, 6]])
def test_n_params_and_unflatten_layout(sizes):
    net = Network(sizes, "tanh", "mse")
    assert net.n_params == n_params_formula(sizes)
    theta = np.arange(net.n_params, dtype=np.float64)
    layers = net.unflatten(theta)
    ref = ref_layers(sizes, theta)
    assert len(layers) == len(sizes) - 1
    for (W, b), (Wr, br), n_in, n_out in zip(layers, ref, sizes[:-1], sizes[1:], strict=True):
        assert W.shape == (n_in, n_out) and b.shape == (n_out,)
        np.testing.assert_array_equal(W, Wr)
        np.testing.assert_array_equal(b, br)
    # views that write through
    for i, (W, b) in enumerate(layers):
        W[...] = -(i + 1)
        b[...] = 100 + i
    pos = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        assert np.all(theta[pos : pos + n_in * n_out] == -(i + 1))
        pos += n_in * n_out
        assert np.all(theta[pos : pos + n_out] == 100 + i)
        pos += n_out
    assert pos == len(theta)


def test_row_major_weight_order():
    net = Network([2, 3], "linear", "mse")
    theta = np.arange(9, dtype=np.float64)
    W, b = net.unflatten(theta)[0]
    np.testing.assert_array_equal(W, [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(b, [6, 7, 8])
    # and the forward pass uses it as x @ W + b
    z = net.logits(theta, np.array([[1.0, 10.0]]))
    np.testing.assert_array_equal(z, [[0 + 30 + 6, 1 + 40 + 7, 2 + 50 + 8]])


def test_unflatten_rejects_wrong_theta():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="theta"):
        net.unflatten(np.zeros(net.n_params + 1))
    with pytest.raises(ValueError, match="theta"):
        net.loss_and_grad(np.zeros(net.n_params, dtype=np.float32), np.zeros((2, 2)), np.zeros(2))


# --------------------------------------------------------------------------- init


def test_xavier_bound_and_zero_biases():
    sizes = [30, 50, 20, 1]
    net = Network(sizes, "tanh", "bce")
    theta = net.init(seed=3, scheme="xavier")
    for (W, b), n_in, n_out in zip(net.unflatten(theta), sizes[:-1], sizes[1:], strict=True):
        a = np.sqrt(6.0 / (n_in + n_out))
        assert np.all(np.abs(W) <= a)
        assert np.abs(W).max() > 0.9 * a  # fills the interval
        assert np.all(b == 0.0)
    W = net.unflatten(theta)[0][0]  # 1500 draws of U(-a, a): variance a^2 / 3
    a = np.sqrt(6.0 / 80)
    assert W.std() == pytest.approx(a / np.sqrt(3), rel=0.06)


def test_he_std_on_a_wide_layer():
    net = Network([200, 300, 1], "relu", "bce")
    theta = net.init(seed=1, scheme="he")
    (W1, b1), (W2, b2) = net.unflatten(theta)
    assert W1.std() == pytest.approx(np.sqrt(2.0 / 200), rel=0.02)  # 60000 draws
    assert abs(W1.mean()) < 4 * np.sqrt(2.0 / 200) / np.sqrt(W1.size)
    assert W2.std() == pytest.approx(np.sqrt(2.0 / 300), rel=0.15)
    assert np.all(b1 == 0) and np.all(b2 == 0)


@pytest.mark.parametrize("std", [0.1, 0.5, 2.0])
def test_normal_std(std):
    net = Network([100, 200, 1], "tanh", "bce")
    theta = net.init(seed=2, scheme="normal", std=std)
    (W1, b1), (_, b2) = net.unflatten(theta)
    assert W1.std() == pytest.approx(std, rel=0.03)
    assert np.all(b1 == 0) and np.all(b2 == 0)


def test_zeros_init():
    net = Network([3, 4, 5, 2], "tanh", "ce")
    theta = net.init(seed=5, scheme="zeros")
    assert theta.shape == (net.n_params,) and np.all(theta == 0.0)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_init_deterministic_by_seed(scheme):
    net = Network([4, 6, 3], "tanh", "ce")
    a, b = net.init(seed=7, scheme=scheme), net.init(seed=7, scheme=scheme)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float64 and a.shape == (net.n_params,)
    if scheme != "zeros":
        assert not np.array_equal(a, net.init(seed=8, scheme=scheme))


def test_unknown_init_scheme():
    with pytest.raises(ValueError, match="glorot"):
        Network([2, 3, 1]).init(scheme="glorot")


# --------------------------------------------------------------------------- validation


def test_bad_labels_and_shapes():
    net = Network([2, 3, 1], "tanh", "bce")
    theta = net.init(0)
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="bce"):
        net.loss_and_grad(theta, X, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="bce"):
        net.loss_and_grad(theta, X, np.array([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        net.loss_and_grad(theta, np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        net.predict(theta, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="shape"):
        net.loss_and_grad(theta, np.zeros(2), np.zeros(1))
    with pytest.raises(ValueError, match="rows"):
        net.loss_and_grad(theta, X, np.zeros(4))

    net = Network([2, 3, 3], "relu", "ce")
    theta = net.init(0)
    for bad in ([0, 1, 3], [0, -1, 2], [0, 1.5, 2], [0, np.nan, 1]):
        with pytest.raises(ValueError, match="ce labels"):
            net.loss_and_grad(theta, X, np.array(bad, dtype=float))

    net = Network([2, 3, 2], "relu", "mse")
    with pytest.raises(ValueError, match="columns"):
        net.loss_and_grad(net.init(0), X, np.zeros(3))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="layer_sizes"):
        Network([3])
    with pytest.raises(ValueError, match="layer_sizes"):
        Network([3, 0, 1])
    with pytest.raises(ValueError, match="swish"):
        Network([2, 1], "swish")
    with pytest.raises(ValueError, match="hinge"):
        Network([2, 1], "tanh", "hinge")
    with pytest.raises(ValueError, match="bce"):
        Network([2, 2], "tanh", "bce")
    with pytest.raises(ValueError, match="ce"):
        Network([2, 1], "tanh", "ce")


def test_empty_batch_is_a_value_error():
    """No rows: a ValueError from the checks, not a ZeroDivisionError from the kernel."""
    net = Network([2, 3, 1], "tanh", "bce")
    with pytest.raises(ValueError):
        net.loss_and_grad(net.init(0), np.zeros((0, 2)), np.zeros(0))


# --------------------------------------------------------------------------- predict


def test_predict_bce_probabilities():
    net, sizes, _, theta, X, _ = make_case("tanh", "bce", n=40)
    p = net.predict(theta, X)
    assert p.shape == (40,)
    assert np.all((p > 0) & (p < 1))
    z, _ = ref_forward(sizes, "tanh", theta, X)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-z[:, 0])), rtol=1e-12)


def test_predict_ce_rows_sum_to_one():
    net, sizes, _, theta, X, _ = make_case("leaky_relu", "ce", n=70)
    P = net.predict(theta, X)
    assert P.shape == (70, 3)
    assert np.all(P > 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    z, _ = ref_forward(sizes, "leaky_relu", theta, X)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(P, e / e.sum(axis=1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("loss_case", ["mse1", "mse2"])
def test_predict_mse_values(loss_case):
    net, sizes, _, theta, X, _ = make_case("sigmoid", loss_case, n=9)
    out = net.predict(theta, X)
    z, _ = ref_forward(sizes, "sigmoid", theta, X)
    want = z[:, 0] if z.shape[1] == 1 else z
    assert out.shape == want.shape
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)


def test_hidden_outputs_match_reference():
    net, sizes, _, theta, X, _ = make_case("tanh", "ce", n=11)
    outs = net.hidden_outputs(theta, X)
    _, pre = ref_forward(sizes, "tanh", theta, X)
    assert len(outs) == 2
    for got, z in zip(outs, pre, strict=True):
        np.testing.assert_allclose(got, np.tanh(z), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- symmetry


@pytest.mark.parametrize(
    ("act", "loss_case"), [("sigmoid", "bce"), ("sigmoid", "ce"), ("tanh", "mse2"), ("relu", "bce")]
)
def test_zeros_init_keeps_hidden_units_identical(act, loss_case):
    net, sizes, _, _, X, y = make_case(act, loss_case, n=31)  # odd n: bce labels unbalanced
    theta = net.init(seed=0, scheme="zeros")
    for _ in range(25):
        _, g = net.loss_and_grad(theta, X, y)
        theta -= 0.5 * g
    layers = net.unflatten(theta)
    for i, (W, b) in enumerate(layers[:-1]):
        # every hidden unit (a column of W, an entry of b) is the same
        np.testing.assert_allclose(W, np.repeat(W[:, :1], W.shape[1], axis=1), rtol=1e-12, atol=0)
        np.testing.assert_allclose(b, np.full_like(b, b[0]), rtol=1e-12, atol=0)
        # and the next layer sees them all with the same weights (its rows are equal)
        W_next = layers[i + 1][0]
        np.testing.assert_allclose(
            W_next, np.repeat(W_next[:1], W_next.shape[0], axis=0), rtol=1e-12, atol=0
        )
    assert np.any(theta != 0.0)  # training did move something
    if act == "sigmoid":
        assert np.any(layers[0][0] != 0.0)  # the hidden weights moved too, yet stayed tied
