"""The loss on planes of parameter space: random 2-D slices through a point along
filter-normalised directions (Li et al. 2018, ``slice_2d``), and a training path projected on the
plane of its two principal directions (``project_trajectory``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from dlopt_core.studies.landscape.functions import Bounds
from dlopt_core.studies.landscape.models import BLOCK_VALUES, Model, as_flat_model, checked_theta
from dlopt_core.train import loss_surface
from dlopt_core.train.network import Network


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
    theta = checked_theta(network, theta)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = rng.standard_normal(network.n_params)
    if not isinstance(network, Network):
        groups = np.asarray(as_flat_model(network).filter_groups(), dtype=np.int64)
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
    theta = checked_theta(network, theta)
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if directions is None:
        rng = np.random.default_rng(seed)
        d1 = filter_normalized_direction(network, theta, rng)
        d2 = filter_normalized_direction(network, theta, rng)
    else:
        d1 = checked_theta(network, directions[0], "directions[0]")
        d2 = checked_theta(network, directions[1], "directions[1]")
    if np.ndim(span) == 0:
        alphas = betas = _axis(span, n)  # type: ignore[arg-type]
    else:
        alphas, betas = _axis(span[0], n), _axis(span[1], n)  # type: ignore[index]
    if not isinstance(network, Network):
        model = as_flat_model(network)
        loss = np.empty((n, n))
        rows = max(1, BLOCK_VALUES // (n * network.n_params))
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
