"""The loss along the straight line between two parameter vectors (Goodfellow, Vinyals & Saxe
2015): ``interpolate``, and ``line_shape``, what the line shows (monotone or not, the plateau).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlopt_core.studies.landscape.models import Model, as_flat_model, checked_theta, evaluate_points
from dlopt_core.train import loss_surface
from dlopt_core.train.network import Network


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
    theta_a = checked_theta(network, theta_a, "theta_a")
    theta_b = checked_theta(network, theta_b, "theta_b")
    alphas = np.ascontiguousarray(DEFAULT_ALPHAS if alphas is None else alphas, dtype=np.float64)
    if alphas.ndim != 1:
        raise ValueError("alphas must be a 1-D array")
    if not isinstance(network, Network):
        model = as_flat_model(network)
        points = (1.0 - alphas)[:, None] * theta_a + alphas[:, None] * theta_b
        train = evaluate_points(model, points, X, y)
        val = np.full((alphas.size, 2), np.nan)
        if Xv is not None and yv is not None and len(Xv):
            val = evaluate_points(model, points, Xv, yv)
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
