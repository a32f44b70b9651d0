"""Compile ahead: train a made-up engine of a run's kind for one step, so that the kernels that run
calls are compiled (or loaded from Numba's cache) before it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dlopt_core.train.config import ModelSpec, TrainConfig
from dlopt_core.train.engine import Engine
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import Optimizer

WARM_UP_ROWS = 4  # rows of the made-up data set a warm-up trains on


def warm_up(
    network: Network,
    optimizers: Sequence[Optimizer],
    n_models: int = 1,
    gradients: bool = False,
    layer_lr: Sequence[float] | None = None,
) -> None:
    """Compile, or load from Numba's cache, what training ``n_models`` models with these
    optimizers on ``network`` calls, and nothing else.

    The training kernels are compiled per family (one model, or many side by side), optimizer
    rule (the run's common rule, or every rule read per model when they differ) and product
    method (BLAS for wide layers), on first use: this trains a tiny engine of the same kind
    (``n_models`` models cycling through ``optimizers``, made-up rows of the right shape) for
    one step with an evaluation, then predicts with ``network`` as a GUI's plots do, and with
    ``gradients`` takes a loss gradient too (``Network.loss_and_grad``: the sharpness, the loss
    shape; a separate compile of seconds that the first training step does not need).
    ``layer_lr``: the models' per-layer learning-rate factors (factors other than 1 train on the
    kernels with layer options). Seconds on an empty cache, a fraction of a second from it.
    """
    if not optimizers or n_models < 1:
        raise ValueError("warm_up needs at least one optimizer and one model")
    n_in, n_out = int(network.sizes[0]), int(network.sizes[-1])
    X = np.linspace(-1.0, 1.0, WARM_UP_ROWS * n_in).reshape(WARM_UP_ROWS, n_in)
    y: np.ndarray
    if network.loss == "mse":
        y = np.zeros((WARM_UP_ROWS, n_out))
    else:
        y = (np.arange(WARM_UP_ROWS) % max(n_out, 2)).astype(np.float64)
    data = _WarmUpData(X, y)
    factors = None if layer_lr is None else tuple(layer_lr)
    specs = [
        ModelSpec(optimizers[m % len(optimizers)], layer_lr=factors)
        for m in range(max(n_models, 1))
    ]
    engine = Engine(network, data, specs, TrainConfig(batch_size=2, eval_every=1))
    engine.run(1)
    theta = engine.eval_theta()[0]
    network.predict(theta, X)
    if gradients:
        network.loss_and_grad(theta, X, y)


@dataclass(frozen=True)
class _WarmUpData:
    X_train: np.ndarray
    y_train: np.ndarray

    @property
    def X_val(self) -> np.ndarray:
        return self.X_train[:1]

    @property
    def y_val(self) -> np.ndarray:
        return self.y_train[:1]
