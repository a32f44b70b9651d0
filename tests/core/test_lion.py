"""Lion in the engine against the paper's update written in NumPy, in every kernel family.

Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2:
c = b1 m + (1 - b1) g;  theta <- theta - lr (sign(c) + wd theta);  m <- b2 m + (1 - b2) g.
The reference below is a hand-written training loop (documented batch order, the network's own
gradient) with that update; it shares no code with the kernels' rule. One model alone runs the
single-model kernel (loops, or BLAS for a wide layer); three Lion models together run the
many-model lanes. (The CUDA backend against the CPU one: tests/cuda, every optimizer.)
"""

from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer

BATCH, STEPS, SEED = 8, 25, 5


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    return SimpleNamespace(X_train=X[:36], y_train=y[:36], X_val=X[36:], y_val=y[36:])


def _paper_lion(net, data, theta, lr, betas, weight_decay):
    """``STEPS`` steps of Lion on the documented batches (epoch e: permutation of [seed, e])."""
    b1, b2 = betas
    wd = weight_decay
    m = np.zeros_like(theta)
    n = len(data.y_train)
    t = 0
    for epoch in range(STEPS):
        perm = np.random.default_rng([SEED, epoch]).permutation(n)
        for start in range(0, n, BATCH):
            if t == STEPS:
                return theta
            rows = perm[start : start + BATCH]
            _, g = net.loss_and_grad(theta, data.X_train[rows], data.y_train[rows])
            c = b1 * m + (1.0 - b1) * g
            theta = theta - lr * (np.sign(c) + wd * theta)
            m = b2 * m + (1.0 - b2) * g
            t += 1
    return theta


HYPERS = [
    {"lr": 0.01, "betas": (0.9, 0.99), "weight_decay": 0.5},
    {"lr": 3e-3, "betas": (0.95, 0.98), "weight_decay": 0.0},
    {"lr": 0.02, "betas": (0.5, 0.9), "weight_decay": 0.1},
]


@pytest.mark.parametrize("sizes", [[2, 6, 1], [2, 64, 40, 1]], ids=["loops", "blas"])
def test_one_lion_model_follows_the_paper(sizes):
    net = Network(sizes, "tanh", "bce")
    assert net.blas == (sizes[1] == 64)
    data = _data()
    hyper = HYPERS[0]
    cfg = TrainConfig(batch_size=BATCH, eval_every=5)
    e = Engine(net, data, [ModelSpec(make_optimizer("lion", **hyper))], cfg, seed=SEED)
    theta0 = e.theta[0].copy()
    e.run(STEPS)
    ref = _paper_lion(net, data, theta0, **hyper)
    np.testing.assert_allclose(e.theta[0], ref, rtol=1e-12, atol=1e-14)
    assert not np.allclose(ref, theta0)


def test_lion_models_in_lanes_follow_the_paper():
    net = Network([2, 6, 1], "tanh", "bce")
    data = _data()
    specs = [ModelSpec(make_optimizer("lion", **h)) for h in HYPERS]
    e = Engine(net, data, specs, TrainConfig(batch_size=BATCH, eval_every=5), seed=SEED)
    theta0 = e.theta.copy()
    e.run(STEPS)
    for m, hyper in enumerate(HYPERS):
        ref = _paper_lion(net, data, theta0[m], **hyper)
        np.testing.assert_allclose(e.theta[m], ref, rtol=1e-12, atol=1e-14, err_msg=str(hyper))
