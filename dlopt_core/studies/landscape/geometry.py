"""The shape of a network's loss: lines, slices and projected training paths.

``interpolate`` and ``line_shape``: the straight line between two parameter vectors (Goodfellow,
Vinyals & Saxe 2015); ``filter_normalized_direction`` and ``slice_2d``: random 2-D slices (Li et
al. 2018); ``project_trajectory``: a training path on the plane of its two principal directions;
``fgsm_robustness``: a network's loss on clean and on FGSM inputs. A ``Network`` is evaluated by
the compiled kernels (``dlopt_core.train.loss_surface``), any ``FlatModel`` (the LSTM) by its own
``evaluate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, cast, runtime_checkable

import numpy as np

from dlopt_core.studies.landscape.functions import Bounds
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
_BLOCK_VALUES = 1 << 20  # parameter values per block of points for a FlatModel (8 MB)


def _theta(network: Model, theta: np.ndarray, what: str = "theta") -> np.ndarray:
    if not isinstance(network, Network):
        _flat_model(network)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if theta.shape != (network.n_params,):
        raise ValueError(f"{what} must have shape ({network.n_params},), got {theta.shape}")
    return theta


def _flat_model(model: Model) -> FlatModel:
    if not isinstance(model, FlatModel):
        raise TypeError(
            f"{type(model).__name__} is neither a Network nor a model with "
            "n_params, evaluate and filter_groups"
        )
    return model


def _evaluate_points(
    model: FlatModel, points: np.ndarray, X: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """``model.evaluate`` on the rows of ``points``, in blocks that bound the memory."""
    out = np.empty((points.shape[0], 2))
    block = max(1, _BLOCK_VALUES // max(points.shape[1], 1))
    for start in range(0, points.shape[0], block):
        out[start : start + block] = model.evaluate(points[start : start + block], X, y)
    return out


def network_loss(network: Model, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """The mean loss of ``theta`` on ``(X, y)`` (equal, bit for bit, to the model's own
    ``loss_and_grad(theta, X, y)[0]``); NaN for an empty set. Any ``FlatModel`` or a
    ``Network`` (by the landscape kernels)."""
    theta = _theta(network, theta)
    if not isinstance(network, Network):
        return float(_flat_model(network).evaluate(theta[None, :], X, y)[0, 0])
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
    theta = _theta(network, theta)
    loss, error = _loss_and_error(network, theta, X, y)
    adv_loss, adv_error = _loss_and_error(network, theta, network.fgsm(theta, X, y, eps), y)
    return Robustness(float(eps), loss, error, adv_loss, adv_error)


@dataclass(frozen=True)
class Interpolation:
    """Losses along theta(a) = (1 - a) theta_a + a theta_b, at each a of ``alphas``.

    Errors are misclassified fractions (bce, ce) or RMSEs (mse); val_* are NaN without a
    validation set.
    """

    alphas: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_error: np.ndarray
    val_error: np.ndarray


DEFAULT_ALPHAS = np.arange(-10, 31) / 20.0  # -0.5, -0.45, ..., 1.5 with 0 and 1 exact


def interpolate(
    network: Model,
    theta_a: np.ndarray,
    theta_b: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    Xv: np.ndarray | None = None,
    yv: np.ndarray | None = None,
    alphas: np.ndarray | None = None,
) -> Interpolation:
    """The loss along the straight line from ``theta_a`` (a = 0) to ``theta_b`` (a = 1).

    Goodfellow, Vinyals & Saxe (2015): for many networks the loss falls monotonically from the
    initial parameters to the trained ones along this line, so the hard part of training is not
    crossing barriers. Default alphas: -0.5 to 1.5 in steps of 0.05. At a = 0 and a = 1 the
    points are exactly theta_a and theta_b, and the losses there are those of
    ``network.loss_and_grad``. ``network``: a ``Network`` (compiled line kernel) or any
    ``FlatModel`` (its ``evaluate`` on the points of the line).
    """
    theta_a = _theta(network, theta_a, "theta_a")
    theta_b = _theta(network, theta_b, "theta_b")
    alphas = np.ascontiguousarray(DEFAULT_ALPHAS if alphas is None else alphas, dtype=np.float64)
    if alphas.ndim != 1:
        raise ValueError("alphas must be a 1-D array")
    if not isinstance(network, Network):
        model = _flat_model(network)
        points = (1.0 - alphas)[:, None] * theta_a + alphas[:, None] * theta_b
        train = _evaluate_points(model, points, X, y)
        val = np.full((alphas.size, 2), np.nan)
        if Xv is not None and yv is not None and len(Xv):
            val = _evaluate_points(model, points, Xv, yv)
        return Interpolation(alphas, train[:, 0], val[:, 0], train[:, 1], val[:, 1])
    X, Y = network.prepare(X, y)
    train = loss_surface.line_losses(network, theta_a, theta_b, alphas, X, Y)
    val = np.full((alphas.size, 2), np.nan)
    if Xv is not None and yv is not None and len(Xv):
        Xv, Yv = network.prepare(Xv, yv)
        val = loss_surface.line_losses(network, theta_a, theta_b, alphas, Xv, Yv)
    return Interpolation(alphas, train[:, 0], val[:, 0], train[:, 1], val[:, 1])


@dataclass(frozen=True)
class LineShape:
    """What the loss does between a = 0 and a = 1 on an interpolation line.

    start, end: the loss at a = 0 and a = 1; max_rise: the height of the largest barrier, how
    far the loss climbs above the lowest value it had reached, walking from a = 0 to a = 1 (0
    when it never rises); monotone: it falls (end < start) and max_rise is at most
    ``tolerance`` times the fall start - end (no barrier worth the name); plateau_end: the a at
    which the loss has made ``fraction`` of its fall (linear between the points; NaN when it
    does not fall). A plateau_end far from 0 is a flat start: a long plateau before the drop.
    """

    start: float
    end: float
    max_rise: float
    monotone: bool
    plateau_end: float
    fraction: float
    tolerance: float

    @property
    def fall(self) -> float:
        return self.start - self.end


def line_shape(
    alphas: np.ndarray, losses: np.ndarray, fraction: float = 0.1, tolerance: float = 0.01
) -> LineShape:
    """Read ``LineShape`` off the losses at ``alphas`` (the points with 0 <= a <= 1, sorted)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    inside = (alphas >= 0.0) & (alphas <= 1.0)
    a, seg = alphas[inside], losses[inside]
    order = np.argsort(a)
    a, seg = a[order], seg[order]
    if seg.size < 2 or not np.all(np.isfinite(seg)):
        raise ValueError("line_shape needs finite losses at two or more points in [0, 1]")
    start, end = float(seg[0]), float(seg[-1])
    rise = float(np.max(seg - np.minimum.accumulate(seg)))
    monotone = end < start and rise <= tolerance * (start - end)
    plateau_end = math.nan
    if end < start:
        level = start - fraction * (start - end)
        k = int(np.argmax(seg <= level))
        if k == 0:
            plateau_end = float(a[0])
        else:
            step = seg[k - 1] - seg[k]
            share = (seg[k - 1] - level) / step if step > 0.0 else 1.0
            plateau_end = float(a[k - 1] + share * (a[k] - a[k - 1]))
    return LineShape(
        start, end, rise, bool(monotone), plateau_end, float(fraction), float(tolerance)
    )


def filter_normalized_direction(
    network: Model, theta: np.ndarray, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """A random direction scaled filter by filter to ``theta`` (Li et al. 2018).

    A filter of a fully connected layer is one unit's incoming weights, the column W[:, j] of
    the layer's W (n_in, n_out). Draw d ~ N(0, I), then for every layer and unit j
    d_W[:, j] <- d_W[:, j] |W[:, j]| / |d_W[:, j]|, so a step along d changes every unit in
    proportion to its own weights (a unit with zero weights gets a zero filter). The biases of d
    are zero, as in the paper. ``rng``: a Generator, or a seed for one. For any other
    ``FlatModel`` the filters are those of its ``filter_groups()`` (for an LSTM, one gate unit's
    input and recurrent weights).
    """
    theta = _theta(network, theta)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = rng.standard_normal(network.n_params)
    if not isinstance(network, Network):
        groups = np.asarray(_flat_model(network).filter_groups(), dtype=np.int64)
        w = groups >= 0
        target = np.sqrt(np.bincount(groups[w], theta[w] ** 2))
        norm = np.sqrt(np.bincount(groups[w], d[w] ** 2))
        ratio = np.divide(target, norm, out=np.zeros_like(norm), where=norm > 0.0)
        d[w] *= ratio[groups[w]]
        d[~w] = 0.0
        return d
    for (W_d, b_d), (W, _) in zip(network.unflatten(d), network.unflatten(theta), strict=True):
        target = np.linalg.norm(W, axis=0)
        norm = np.linalg.norm(W_d, axis=0)
        W_d *= np.divide(target, norm, out=np.zeros_like(norm), where=norm > 0.0)
        b_d[:] = 0.0
    return d


@dataclass(frozen=True)
class Slice:
    """The loss on the plane ``center + a d1 + b d2``: ``loss[i, j]`` at ``(alphas[j], betas[i])``
    (rows follow b, like ``f_grid``)."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    center: np.ndarray

    @property
    def directions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.d1, self.d2


def _axis(span: float | tuple[float, float], n: int) -> np.ndarray:
    """n points over ``span``: [-span, span] with an exact 0 in the middle, or (low, high)."""
    if np.ndim(span) == 0:
        half = (n - 1) / 2.0
        return float(cast(float, span)) * ((np.arange(n) - half) / max(half, 1.0))
    low, high = span  # type: ignore[misc]
    return np.linspace(float(low), float(high), n)


def slice_2d(
    network: Model,
    theta: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    n: int = 41,
    span: float | Bounds = 1.0,
    seed: int = 0,
    directions: tuple[np.ndarray, np.ndarray] | None = None,
) -> Slice:
    """The training loss on a 2-D slice through ``theta``, on an n x n grid, in compiled code
    (a ``Network``'s plane kernel, or a ``FlatModel``'s ``evaluate`` on blocks of rows).

    Directions: two filter-normalised random directions drawn from ``default_rng(seed)``, or
    ``directions = (d1, d2)`` (for instance ``project_trajectory``'s). ``span`` = s gives
    a, b in [-s, s] (with an exact 0 in the middle, where the loss is that of ``theta``), or
    ``((a_low, a_high), (b_low, b_high))``.
    """
    theta = _theta(network, theta)
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if directions is None:
        rng = np.random.default_rng(seed)
        d1 = filter_normalized_direction(network, theta, rng)
        d2 = filter_normalized_direction(network, theta, rng)
    else:
        d1 = _theta(network, directions[0], "directions[0]")
        d2 = _theta(network, directions[1], "directions[1]")
    if np.ndim(span) == 0:
        alphas = betas = _axis(span, n)  # type: ignore[arg-type]
    else:
        alphas, betas = _axis(span[0], n), _axis(span[1], n)  # type: ignore[index]
    if not isinstance(network, Network):
        model = _flat_model(network)
        loss = np.empty((n, n))
        rows = max(1, _BLOCK_VALUES // (n * network.n_params))
        line = theta + alphas[:, None] * d1
        for i in range(0, n, rows):
            points = line[None, :, :] + betas[i : i + rows, None, None] * d2
            loss[i : i + rows] = model.evaluate(points.reshape(-1, network.n_params), X, y)[
                :, 0
            ].reshape(-1, n)
        return Slice(alphas, betas, loss, d1, d2, theta.copy())
    X, Y = network.prepare(X, y)
    loss = loss_surface.plane_losses(network, theta, d1, d2, alphas, betas, X, Y)
    return Slice(alphas, betas, loss, d1, d2, theta.copy())


@dataclass(frozen=True)
class Projection:
    """A path of parameter vectors as coordinates on a plane.

    coords: (T, 2) with thetas[t] ~ center + coords[t, 0] d1 + coords[t, 1] d2 (the closest point
    of the plane); explained: fraction of sum_t |thetas[t] - center|^2 each principal direction
    accounts for (NaN when the directions were given).
    """

    coords: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    center: np.ndarray
    explained: np.ndarray

    @property
    def directions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.d1, self.d2

    def extent(self, margin: float = 0.25) -> Bounds:
        """((a_low, a_high), (b_low, b_high)) around the path and the center, widened by
        ``margin`` times the path's size: the ``span`` for ``slice_2d``."""
        lows = np.minimum(self.coords.min(axis=0), 0.0)
        highs = np.maximum(self.coords.max(axis=0), 0.0)
        pad = margin * np.maximum(highs - lows, 1e-12)
        return (
            (float(lows[0] - pad[0]), float(highs[0] + pad[0])),
            (float(lows[1] - pad[1]), float(highs[1] + pad[1])),
        )


def project_trajectory(
    thetas: np.ndarray,
    center: np.ndarray | None = None,
    directions: tuple[np.ndarray, np.ndarray] | None = None,
) -> Projection:
    """Project a path ``thetas`` (T, P) onto a plane through ``center`` (default thetas[-1]).

    Without ``directions`` the plane is that of the two principal directions of the displacements
    M = thetas - center (Li et al. 2018): the first two right singular vectors of M (unit,
    orthogonal, each signed so the path starts at a coordinate >= 0), and coords = M [d1 d2].
    With ``directions`` the coordinates are the least-squares solution of [d1 d2] c = m per row
    (the closest point of the plane; for orthonormal directions the dot products).
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    if thetas.ndim != 2 or thetas.shape[0] < 1:
        raise ValueError(f"thetas must have shape (T, P), got {thetas.shape}")
    center = thetas[-1].copy() if center is None else np.asarray(center, dtype=np.float64).copy()
    M = thetas - center
    if directions is None:
        _, s, vt = np.linalg.svd(M, full_matrices=False)
        basis = np.zeros((2, thetas.shape[1]))
        k = min(2, vt.shape[0])
        basis[:k] = vt[:k]
        coords = M @ basis.T
        for i in range(2):
            if coords[0, i] < 0.0:
                coords[:, i] *= -1.0
                basis[i] *= -1.0
        power = np.zeros(2)
        power[:k] = s[:k] ** 2
        total = float(np.sum(s**2))
        explained = power / total if total > 0.0 else np.zeros(2)
    else:
        basis = np.array([np.asarray(d, dtype=np.float64) for d in directions])
        if basis.shape != (2, thetas.shape[1]):
            raise ValueError(f"directions must be two vectors of length {thetas.shape[1]}")
        coords = np.linalg.lstsq(basis.T, M.T, rcond=None)[0].T
        explained = np.full(2, np.nan)
    return Projection(
        np.ascontiguousarray(coords), basis[0].copy(), basis[1].copy(), center, explained
    )
