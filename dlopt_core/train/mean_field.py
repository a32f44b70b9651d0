"""Many two-layer mean-field networks trained at once, one per column of hyper-parameters: the
entry the trainability map (``dlopt_core.studies.trainability``) uses instead of the kernels.

``hyper[N_HYPER, M]`` holds each model's two learning rates, the offset added to W1's initial
values and the momentum (or Adam's beta1), in the rows ``H_LR1``, ``H_LR2``, ``H_OFFSET`` and
``H_BETA``; M is a multiple of ``LANES``. The formulas are in ``kernels.trainability`` (CPU) and
``kernels.trainability_cuda`` (the same leaves compiled for the GPU).
"""

from __future__ import annotations

import numpy as np

from dlopt_core.train.kernels import PARALLEL_LOCK
from dlopt_core.train.kernels.trainability import (
    ADAM,
    GD,
    H_BETA,
    H_LR1,
    H_LR2,
    H_OFFSET,
    LANES,
    MOMENTUM,
    N_HYPER,
)

OPTIMIZER_CODES = {"gd": GD, "momentum": MOMENTUM, "adam": ADAM}

__all__ = [
    "H_BETA",
    "H_LR1",
    "H_LR2",
    "H_OFFSET",
    "LANES",
    "N_HYPER",
    "OPTIMIZER_CODES",
    "train_models",
]


def train_models(
    X: np.ndarray,
    Y: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    hyper: np.ndarray,
    optimizer: str,
    steps: int,
    batches: np.ndarray,
    backend: str = "cpu",
) -> np.ndarray:
    """``losses[steps, M]``: model m's loss before each step, for the models ``hyper[N_HYPER,
    M]`` trained by ``optimizer`` ("gd", "momentum" or "adam") on the rows ``batches[t]`` of
    ``(X, Y)`` (no columns: full batch) from ``(W1, W2)``, on the ``cpu`` or ``cuda`` backend.
    ``ValueError`` for another backend."""
    code = OPTIMIZER_CODES[optimizer]
    losses = np.empty((steps, hyper.shape[1]))
    if backend == "cuda":
        from dlopt_core.train.kernels import trainability_cuda

        trainability_cuda.train_models(X, Y, W1, W2, hyper, code, steps, batches, losses)
    elif backend == "cpu":
        from dlopt_core.train.kernels import trainability

        with PARALLEL_LOCK:
            trainability.train_models(X, Y, W1, W2, hyper, code, steps, batches, losses)
    else:
        raise ValueError(f"unknown backend {backend!r}; choose cpu or cuda")
    return losses
