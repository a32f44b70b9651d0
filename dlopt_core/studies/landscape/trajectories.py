"""Optimizer paths on the 2-D test functions, and the theory they are checked against.

``trajectory`` runs the core's own ``Optimizer.step`` (the compiled update rules of
``dlopt_core.train.optimizers``) on a 2-D point, with optional gradient clipping and Gaussian
gradient noise, so a path drawn here is the path the same optimizer takes inside a network's
training.

Theory on the quadratic ``f = 0.5 x^T H x`` with eigenvalues ``mu = 1`` and ``L = kappa``:
``gd_optimal``, ``momentum_optimal`` and the rate ``measured_rate`` reads off a path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.studies.landscape.functions import TestFunction, as_function
from dlopt_core.train.optimizers import Optimizer, make_optimizer
from dlopt_core.train.schedules import Schedule


@dataclass(frozen=True)
class Trajectory:
    """An optimizer's path on a test function.

    path: (steps + 1, 2) points, ``path[0]`` the start and ``path[t]`` the point after ``t``
    steps; values: f along the path (steps + 1,); grad_norms: (steps,) norm of the gradient the
    step ``t`` saw (noise included, before clipping; NaN after a divergence); diverged_at: the
    first row of ``path`` that is not a real iterate, or -1. When a gradient or a new point
    becomes non-finite (overflow) the run stops: from ``diverged_at`` on, ``path`` repeats the
    last finite point.
    """

    path: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int = -1

    @property
    def diverged(self) -> bool:
        return self.diverged_at >= 0

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]

    def steps_to(self, point: Sequence[float], tol: float) -> int:
        """First ``t`` with ``|path[t] - point| <= tol``, or -1 if never."""
        d = np.linalg.norm(self.path - np.asarray(point, dtype=np.float64), axis=1)
        hit = np.flatnonzero(d <= tol)
        return int(hit[0]) if hit.size else -1


def trajectory(
    function: str | TestFunction,
    optimizer: str | Optimizer,
    start: Sequence[float] | None = None,
    steps: int = 100,
    *,
    clip_norm: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Schedule | None = None,
    **hyper: Any,
) -> Trajectory:
    """Run ``steps`` optimizer steps on a test function from ``start`` (default its own).

    ``optimizer`` is a name (``hyper`` goes to ``make_optimizer``) or an ``Optimizer`` (``hyper``,
    if any, replaces some of its hyper-parameters). Step t = 0, 1, ...:

        g = grad f(p_t) + noise * z_t,   z_t ~ N(0, I_2) from numpy.random.default_rng(seed)
        g <- g * clip_norm / |g|          if clip_norm > 0 and |g| > clip_norm
        p_{t+1} = Optimizer.step(p_t, g, lr = schedule(lr, t))   (the core's compiled rule)

    The noise stands for mini-batch noise: an unbiased gradient estimate with variance noise^2
    per coordinate; the same seed gives the same path.
    """
    fn = as_function(function)
    if isinstance(optimizer, str):
        opt = make_optimizer(optimizer, **hyper)
    else:
        opt = optimizer.replace(**hyper) if hyper else optimizer
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if clip_norm < 0.0 or noise < 0.0:
        raise ValueError("clip_norm and noise must be >= 0")
    p = np.array(fn.default_start if start is None else start, dtype=np.float64).reshape(2)
    if not np.all(np.isfinite(p)):
        raise ValueError(f"the start point must be finite, got {p}")
    state = opt.init(p)
    rng = np.random.default_rng(seed)
    path = np.empty((steps + 1, 2))
    path[0] = p
    grad_norms = np.full(steps, np.nan)
    diverged_at = -1
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            g = np.array(fn.grad(p[0], p[1]), dtype=np.float64).reshape(2)
            if noise > 0.0:
                g += noise * rng.standard_normal(2)
            gnorm = math.hypot(g[0], g[1])
            grad_norms[t] = gnorm
            if math.isfinite(gnorm):
                if clip_norm > 0.0 and gnorm > clip_norm:
                    g *= clip_norm / gnorm
                lr = None if schedule is None else float(schedule(opt.lr, t))
                opt.step(p, g, state, lr=lr)
            if not (math.isfinite(gnorm) and math.isfinite(p[0]) and math.isfinite(p[1])):
                diverged_at = t + 1
                path[t + 1 :] = path[t]
                grad_norms[t + 1 :] = np.nan
                break
            path[t + 1] = p
        values = np.asarray(fn.f(path[:, 0], path[:, 1]), dtype=np.float64)
    return Trajectory(path, values, grad_norms, diverged_at)


# =================================================================================================
# Theory on the ill-conditioned quadratic
# =================================================================================================


def gd_optimal(kappa: float, mu: float = 1.0) -> tuple[float, float]:
    """``(lr*, rate)`` of gradient descent on a quadratic, Hessian eigenvalues mu and L = kappa mu.

    Each eigen-direction contracts by |1 - lr lambda| per step; the worst of the two is smallest
    at lr* = 2 / (mu + L), where both equal rate = (L - mu) / (L + mu) = (kappa - 1) / (kappa + 1).
    """
    kappa, mu = float(kappa), float(mu)
    if kappa < 1.0 or mu <= 0.0:
        raise ValueError("kappa must be >= 1 and mu > 0")
    return 2.0 / (mu + kappa * mu), (kappa - 1.0) / (kappa + 1.0)


def momentum_optimal(kappa: float, mu: float = 1.0) -> tuple[float, float, float]:
    """``(lr*, momentum*, rate)`` of heavy-ball momentum on the same quadratic (Polyak 1964).

    lr* = 4 / (sqrt(L) + sqrt(mu))^2,  momentum* = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2,
    rate = (sqrt(kappa) - 1) / (sqrt(kappa) + 1): the error shrinks like rate^t (times a factor
    linear in t, the two roots of each mode coinciding at these values).
    The core's ``momentum`` rule (torch's: b <- momentum b + g, p <- p - lr b) is heavy-ball
    p_{t+1} = p_t - lr g_t + momentum (p_t - p_{t-1}) with the same lr and momentum.
    """
    kappa, mu = float(kappa), float(mu)
    if kappa < 1.0 or mu <= 0.0:
        raise ValueError("kappa must be >= 1 and mu > 0")
    root = math.sqrt(kappa)
    rate = (root - 1.0) / (root + 1.0)
    lr = 4.0 / (math.sqrt(kappa * mu) + math.sqrt(mu)) ** 2
    return lr, rate * rate, rate


def measured_rate(
    path: np.ndarray | Trajectory,
    minimum: Sequence[float],
    tail: float = 0.5,
    floor: float | None = None,
) -> float:
    """The linear convergence rate r with |p_t - p*| ~ C r^t, read off the tail of a path.

    d_t = |p_t - p*| is kept up to its first value at or below ``floor`` (default 1000 floating
    point spacings of p*, where round-off takes over: 1e-280 for p* = 0); on the last ``tail``
    fraction of those steps, log d_t is fitted by least squares to a + t log r. This is the
    geometric mean of the ratios d_{t+1} / d_t, smoothed: oscillating paths (momentum) do not
    depend on where the tail starts and ends. NaN with fewer than 3 usable points.
    """
    pts = path.path if isinstance(path, Trajectory) else np.asarray(path, dtype=np.float64)
    star = np.asarray(minimum, dtype=np.float64)
    if floor is None:
        floor = max(1000.0 * float(np.spacing(np.max(np.abs(star)))), 1e-280)
    d = np.linalg.norm(pts - star, axis=1)
    bad = np.flatnonzero(~np.isfinite(d) | (d <= floor))
    usable = d[: bad[0]] if bad.size else d
    first = int(len(usable) * (1.0 - tail))
    t = np.arange(first, len(usable), dtype=np.float64)
    if t.size < 3:
        return math.nan
    slope = np.polyfit(t, np.log(usable[first:]), 1)[0]
    return float(math.exp(slope))
