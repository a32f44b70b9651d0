"""The models whose loss the Landscape draws: a ``Network`` (evaluated by the compiled kernels,
``dlopt_core.train.loss_surface``) or any ``FlatModel`` on one flat parameter vector (the LSTM,
by its own ``evaluate``); a model's loss at a point, and its robustness to FGSM inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from dlopt_core.train import loss_surface
from dlopt_core.train.network import Network


@runtime_checkable
class FlatModel(Protocol):
    """Any model whose parameters are one flat float64 vector, for the line and the slice.

    ``n_params``: the vector's length; ``evaluate(thetas, X, y)``: the (K, 2) mean loss and error
    of each row of ``thetas`` (K, n_params) on ``(X, y)``, equal to the loss of its own
    ``loss_and_grad``; ``filter_groups()``: a filter number per parameter (the weights of one
    unit share one), -1 for parameters a filter-normalised direction leaves at zero (biases).
    ``Network`` does not need these: it has compiled line and plane kernels of its own.
    ``dlopt_core.train.lstm.LSTMNetwork`` is one.
    """

    n_params: int

    def evaluate(self, thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def filter_groups(self) -> np.ndarray: ...


Model = Network | FlatModel
BLOCK_VALUES = 1 << 20  # parameter values per block of points for a FlatModel (8 MB)


def checked_theta(network: Model, theta: np.ndarray, what: str = "theta") -> np.ndarray:
    """``theta`` as a contiguous float64 vector of the model's length (``ValueError`` naming
    ``what`` otherwise; ``TypeError`` for an object that is no model)."""
    if not isinstance(network, Network):
        as_flat_model(network)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if theta.shape != (network.n_params,):
        raise ValueError(f"{what} must have shape ({network.n_params},), got {theta.shape}")
    return theta


def as_flat_model(model: Model) -> FlatModel:
    """``model`` as a ``FlatModel`` (``TypeError`` when it lacks what one needs)."""
    if not isinstance(model, FlatModel):
        raise TypeError(
            f"{type(model).__name__} is neither a Network nor a model with "
            "n_params, evaluate and filter_groups"
        )
    return model


def evaluate_points(
    model: FlatModel, points: np.ndarray, X: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """``model.evaluate`` on the rows of ``points``, in blocks that bound the memory."""
    out = np.empty((points.shape[0], 2))
    block = max(1, BLOCK_VALUES // max(points.shape[1], 1))
    for start in range(0, points.shape[0], block):
        out[start : start + block] = model.evaluate(points[start : start + block], X, y)
    return out


def network_loss(network: Model, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """The mean loss of ``theta`` on ``(X, y)`` (equal, bit for bit, to the model's own
    ``loss_and_grad(theta, X, y)[0]``); NaN for an empty set. Any ``FlatModel`` or a
    ``Network`` (by the landscape kernels)."""
    theta = checked_theta(network, theta)
    if not isinstance(network, Network):
        return float(as_flat_model(network).evaluate(theta[None, :], X, y)[0, 0])
    return _loss_and_error(network, theta, X, y)[0]


def _loss_and_error(
    network: Network, theta: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    X, Y = network.prepare(X, y)
    out = loss_surface.line_losses(network, theta, theta, np.zeros(1), X, Y)
    return float(out[0, 0]), float(out[0, 1])


@dataclass(frozen=True)
class Robustness:
    """A network on clean inputs and on its FGSM inputs x + eps sign(dL/dx) (Goodfellow et al.
    2015): mean losses and errors (misclassified fractions for bce and ce, RMSEs for mse)."""

    eps: float
    loss: float
    error: float
    adversarial_loss: float
    adversarial_error: float


def fgsm_robustness(
    network: Network, theta: np.ndarray, X: np.ndarray, y: np.ndarray, eps: float
) -> Robustness:
    """Loss and error of ``theta`` on ``(X, y)`` and on the FGSM inputs ``network.fgsm(theta, X,
    y, eps)``: each row moved by ``eps`` in every input coordinate, in the direction that raises
    its loss most to first order."""
    theta = checked_theta(network, theta)
    loss, error = _loss_and_error(network, theta, X, y)
    adv_loss, adv_error = _loss_and_error(network, theta, network.fgsm(theta, X, y, eps), y)
    return Robustness(float(eps), loss, error, adv_loss, adv_error)
