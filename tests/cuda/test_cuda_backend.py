"""The cuda backend against the cpu backend: same seed and config, same numbers to round-off.

Runs on Numba's CUDA simulator without a GPU (tests/conftest.py) and on the device when present.
Sizes stay tiny: the simulator runs every thread in Python.
"""

import os
from types import SimpleNamespace

import numpy as np
import pytest

from dlopt_core.train import backends
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.kernels import rules
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import OPTIMIZERS, make_optimizer
from dlopt_core.train.schedules import make_schedule


def test_the_tests_have_a_cuda_device_or_the_simulator():
    """No silent skip: without a device tests/conftest.py turns on the simulator, so this holds."""
    ok, why = backends.cuda_status(allow_simulator=True)
    assert ok, why


def _data(n=24, n_classes=2, regression=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if regression:
        y = X @ np.array([1.5, -2.0])
    else:
        y = (
            np.floor((np.arctan2(X[:, 1], X[:, 0]) + np.pi) / (2 * np.pi) * n_classes) % n_classes
        ).astype(float)
    k = 2 * n // 3
    return SimpleNamespace(X_train=X[:k], y_train=y[:k], X_val=X[k:], y_val=y[k:])


def _compare(net, data, specs, cfg, steps):
    cpu = Engine(net, data, specs, cfg, seed=3, backend="cpu")
    gpu = Engine(net, data, specs, cfg, seed=3, backend="cuda")
    assert gpu.backend.name == "cuda"
    m_cpu, m_gpu = cpu.run(steps), gpu.run(steps)
    np.testing.assert_allclose(gpu.theta, cpu.theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gpu.slots, cpu.slots, rtol=1e-9, atol=1e-12)
    for field in ("train_loss", "val_loss", "train_error", "grad_norm", "lr"):
        np.testing.assert_allclose(
            getattr(m_gpu, field), getattr(m_cpu, field), rtol=1e-9, atol=1e-12, equal_nan=True
        )
    np.testing.assert_array_equal(gpu.status, cpu.status)
    np.testing.assert_array_equal(gpu.stop_step, cpu.stop_step)
    return cpu, gpu


def test_every_optimizer_matches_the_cpu_backend():
    specs = [ModelSpec(make_optimizer(name)) for name in OPTIMIZERS]
    specs[0] = ModelSpec(make_optimizer("sgd", lr=0.1), make_schedule("step", step_size=3))
    _compare(
        Network([2, 3, 1], "tanh", "bce"),
        _data(),
        specs,
        TrainConfig(batch_size=5, eval_every=2, early_stopping=2),
        steps=12,
    )


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_strategies_losses_and_divergence_match():
    specs = [
        ModelSpec(make_optimizer("adam", lr=0.05), make_schedule("one_cycle", total_steps=8)),
        ModelSpec(make_optimizer("rmsprop", lr=0.01, momentum=0.5, centered=True), order_seed=9),
        ModelSpec(make_optimizer("sgd", lr=50.0)),
    ]
    cfg = TrainConfig(batch_size=4, eval_every=2, clip_norm=0.5, l1=1e-3, polyak=0.7)
    _compare(Network([2, 4, 3], "relu", "ce"), _data(n_classes=3), specs, cfg, steps=8)
    cpu, _ = _compare(
        Network([2, 3, 1], "leaky_relu", "mse"),
        _data(regression=True),
        specs,
        TrainConfig(batch_size=8, eval_every=2),
        steps=8,
    )
    assert cpu.status_name(2) == "diverged"


def test_adversarial_training_matches():
    specs = [ModelSpec(make_optimizer("sgd", lr=0.1)), ModelSpec(make_optimizer("adam", lr=0.02))]
    cfg = TrainConfig(batch_size=4, eval_every=2, adversarial_eps=0.2, adversarial_clean_weight=0.3)
    _compare(Network([2, 3, 1], "tanh", "bce"), _data(), specs, cfg, steps=6)


def test_a_sampled_evaluation_matches():
    """A set larger than the evaluation bound: the curves on the same fixed sample, and the full
    evaluation on every row, on both backends."""
    data = _data(n=30)
    specs = [ModelSpec(make_optimizer("adam", lr=0.05)), ModelSpec(make_optimizer("sgd", lr=0.1))]
    cfg = TrainConfig(batch_size=4, eval_every=2, early_stopping=2)
    net = Network([2, 3, 1], "tanh", "bce")
    engines = []
    for backend in ("cpu", "cuda"):
        engine = Engine(net, data, specs, cfg, seed=3, backend=backend, eval_rows=6)
        assert engine.sampled
        engines.append((engine, engine.run(6)))
    (cpu, m_cpu), (gpu, m_gpu) = engines
    np.testing.assert_array_equal(gpu.train_sample, cpu.train_sample)
    for field in ("train_loss", "val_loss", "train_error", "val_error"):
        np.testing.assert_allclose(
            getattr(m_gpu, field), getattr(m_cpu, field), rtol=1e-9, atol=1e-12, equal_nan=True
        )
    for sample in (True, False):
        np.testing.assert_allclose(
            gpu.evaluate(sample), cpu.evaluate(sample), rtol=1e-9, atol=1e-12
        )
    assert cpu.evaluate()[0, 0] != cpu.evaluate(sample=True)[0, 0]


def test_asking_for_cuda_without_a_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(backends, "cuda_status", lambda allow_simulator=False: (False, "no CUDA"))
    with pytest.raises(backends.BackendError, match="not available: no CUDA"):
        backends.resolve("cuda")
    assert backends.resolve("auto").name == "cpu"
    assert "no CUDA" in backends.resolve("auto").note


@pytest.mark.parametrize(
    ("bias", "parameterization"), [(False, "mean_field"), (True, "mean_field"), (False, "standard")]
)
def test_layer_options_match_the_cpu_backend(bias, parameterization):
    """No biases, the mean-field factors and per-layer rates (different per model)."""
    net = Network([2, 3, 2, 1], "tanh", "mse", bias=bias, parameterization=parameterization)
    specs = [
        ModelSpec(make_optimizer(name, lr=0.05), layer_lr=(0.5 * (k + 1), 2.0, 0.0 + k))
        for k, name in enumerate(["sgd", "momentum", "adam", "adagrad", "adamw"])
    ]
    specs.append(ModelSpec(make_optimizer("rmsprop", lr=0.01)))
    _compare(net, _data(regression=True), specs, TrainConfig(batch_size=6, eval_every=2), steps=8)


@pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
    reason="a device function is called from the host only in the simulator",
)
def test_the_device_rule_refuses_an_unknown_code():
    """The CUDA build of the update rule raises for a code without a branch (it ran AdamW); an
    ``Optimizer`` with such a code cannot be made in the first place (test_optimizer_registry)."""
    from dlopt_core.train.kernels import cuda as kernels

    update = kernels._DEVICE["update_param"]
    hyper = make_optimizer("adam").vector()[:, None]
    coef = np.full((rules.N_COEF, 1), 0.5)
    args = (0.0, 1.0, 0.0, 0.0, 0.0, 1e-3, hyper, coef, 0, True)
    assert update(rules.ADAM, *args)[0] != 0.0
    with pytest.raises(ValueError, match="no rule"):
        update(99, *args)
