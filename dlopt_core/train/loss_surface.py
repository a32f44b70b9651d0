"""A network's loss on lines and planes of its parameter space, by the compiled kernels.

The studies draw loss surfaces (``dlopt_core.studies.landscape.lines`` and ``planes``) without
knowing the kernels: this module hands the network's layout to ``kernels.landscape_cpu`` and
fills the arrays. Inputs are the network's prepared data (``Network.prepare``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlopt_core.train.kernels import PARALLEL_LOCK, landscape_cpu
from dlopt_core.train.network import Network


def _layout(network: Network) -> tuple[Any, ...]:
    return (
        network.sizes,
        network.woff,
        network.uoff,
        network.lay,
        network.act_code,
        network.loss_code,
    )


def line_losses(
    network: Network,
    theta_a: np.ndarray,
    theta_b: np.ndarray,
    alphas: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
) -> np.ndarray:
    """``(K, 2)``: the mean loss and error at ``(1 - alpha) theta_a + alpha theta_b`` for each
    of the K ``alphas``, on the prepared data ``(X, Y)``."""
    out = np.empty((alphas.size, 2))
    landscape_cpu.line_losses_by[network.blas](
        theta_a, theta_b, alphas, *_layout(network), X, Y, out
    )
    return out


def plane_losses(
    network: Network,
    theta: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    alphas: np.ndarray,
    betas: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
) -> np.ndarray:
    """``(len(betas), len(alphas))``: the mean loss at ``theta + alpha d1 + beta d2`` on the
    prepared data ``(X, Y)`` (a parallel kernel: one at a time)."""
    loss = np.empty((betas.size, alphas.size))
    with PARALLEL_LOCK:
        plane = landscape_cpu.plane_losses_by[network.blas]
        plane(theta, d1, d2, alphas, betas, *_layout(network), X, Y, loss)
    return loss
