"""Sharpness: the largest eigenvalue of a network's loss Hessian, and how it moves in training.

The Hessian H of the training loss is never formed. A Hessian-vector product is the central
difference of two gradients along a unit vector v,

    H v ~ (grad L(theta + h v) - grad L(theta - h v)) / (2 h),

exact up to round-off when L is quadratic and with an error of order h^2 otherwise. Power
iteration on these products gives the eigenvalue of largest magnitude; when that one is negative
(near a saddle), a second run on H - lambda I finds the largest one, lambda_max, the "sharpness".

Why it matters: on a quadratic, gradient descent with rate eta is stable exactly when
lambda_max < 2 / eta (each eigen-direction is multiplied by 1 - eta lambda per step). A network's
loss is not a quadratic and its Hessian changes as it trains. Cohen et al. (2021) found that
full-batch gradient descent drives the sharpness up ("progressive sharpening") until it reaches
2 / eta, and that it then hovers there while the loss keeps falling, though no longer
monotonically: the "edge of stability". ``track_sharpness`` records the sharpness along a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlopt_core.train.network import Network

if TYPE_CHECKING:
    from dlopt_core.train.experiment import Experiment
    from dlopt_core.train.optimizers import Optimizer

MatVec = Callable[[np.ndarray], np.ndarray]


def hessian_vector_product(
    network: Network,
    theta: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    h: float | None = None,
) -> np.ndarray:
    """H v for the mean training loss of ``network`` at ``theta`` on ``(X, y)``.

    Central difference of gradients along v / |v| with step ``h`` (default 1e-5 times the larger
    of 1 and the root mean square of theta), scaled back by |v|. A zero v gives a zero product.
    """
    v = np.asarray(v, dtype=np.float64)
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(v)
    if h is None:
        h = 1e-5 * max(1.0, float(np.sqrt(np.mean(theta * theta))))
    u = v / norm
    _, g_plus = network.loss_and_grad(theta + h * u, X, y)
    _, g_minus = network.loss_and_grad(theta - h * u, X, y)
    return (g_plus - g_minus) * (norm / (2.0 * h))


@dataclass(frozen=True)
class Eigen:
    """An eigenvalue estimate, its unit eigenvector, the number of products it took and whether
    it met the tolerance."""

    value: float
    vector: np.ndarray
    products: int
    converged: bool


def power_iteration(
    matvec: MatVec,
    n: int,
    *,
    iters: int = 300,
    tol: float = 1e-7,
    start: np.ndarray | None = None,
    seed: int = 0,
) -> Eigen:
    """The eigenvalue of largest magnitude of a symmetric operator, by power iteration.

    v <- A v / |A v| from ``start`` (default a random unit vector of ``default_rng(seed)``); the
    estimate is the Rayleigh quotient v^T A v, and the iteration stops when two successive
    estimates differ by at most ``tol`` times their size (or after ``iters`` products).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) if start is None else np.array(start, dtype=np.float64)
    if v.shape != (n,) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"start must be a finite, non-zero vector of length {n}")
    v /= np.linalg.norm(v)
    value = math.nan
    for k in range(1, iters + 1):
        w = matvec(v)
        new = float(v @ w)
        size = float(np.linalg.norm(w))
        if not math.isfinite(size):
            raise FloatingPointError("the Hessian-vector product is not finite")
        if size == 0.0:  # v is in the null space: every eigenvalue met so far is 0
            return Eigen(0.0, v, k, True)
        converged = abs(new - value) <= tol * abs(new)
        value, v = new, w / size
        if converged:
            return Eigen(value, v, k, True)
    return Eigen(value, v, iters, False)


def largest_eigenvalue(
    matvec: MatVec,
    n: int,
    *,
    iters: int = 300,
    tol: float = 1e-7,
    start: np.ndarray | None = None,
    seed: int = 0,
) -> Eigen:
    """The largest (most positive) eigenvalue of a symmetric operator.

    Power iteration finds the eigenvalue of largest magnitude, lambda_1. If it is negative, a
    second power iteration on A - lambda_1 I (whose eigenvalues are all >= 0) finds
    lambda_max - lambda_1.
    """
    first = power_iteration(matvec, n, iters=iters, tol=tol, start=start, seed=seed)
    if first.value >= 0.0:
        return first
    shift = first.value
    second = power_iteration(
        lambda v: matvec(v) - shift * v, n, iters=iters, tol=tol, seed=seed + 1
    )
    return Eigen(
        second.value + shift,
        second.vector,
        first.products + second.products,
        first.converged and second.converged,
    )


def sharpness(
    network: Network,
    theta: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    *,
    iters: int = 300,
    tol: float = 1e-7,
    start: np.ndarray | None = None,
    seed: int = 0,
) -> Eigen:
    """lambda_max of the Hessian of the mean loss on ``(X, y)`` at ``theta``."""
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    return largest_eigenvalue(
        lambda v: hessian_vector_product(network, theta, X, y, v),
        network.n_params,
        iters=iters,
        tol=tol,
        start=start,
        seed=seed,
    )


def stability_threshold(name: str, lr: float, momentum: float = 0.0) -> float:
    """The largest curvature a quadratic can have for the rule to converge on it at rate ``lr``.

    sgd: 2 / lr (the factor 1 - lr lambda must stay inside (-1, 1)); momentum (heavy ball,
    b <- mu b + g, theta <- theta - lr b): 2 (1 + mu) / lr, where the characteristic roots of
    z^2 - (1 + mu - lr lambda) z + mu leave the unit circle at z = -1.
    """
    if lr <= 0.0 or not 0.0 <= momentum < 1.0:
        raise ValueError("lr must be > 0 and momentum in [0, 1)")
    if name == "sgd":
        return 2.0 / lr
    if name == "momentum":
        return 2.0 * (1.0 + momentum) / lr
    raise ValueError(f"no quadratic stability threshold for {name!r}: use sgd or momentum")


@dataclass(frozen=True)
class SharpnessTrace:
    """The sharpness along one training run, every ``every`` steps from step 0.

    steps, sharpness, train_loss, lr: (R,) arrays: the step, lambda_max and the loss on the whole
    training set there, and the learning rate of the next step; threshold: (R,) the rule's
    ``stability_threshold`` at that rate (2 / lr for gradient descent; infinite at a rate of 0).
    """

    steps: np.ndarray
    sharpness: np.ndarray
    train_loss: np.ndarray
    lr: np.ndarray
    threshold: np.ndarray

    def at(self, step: int) -> float:
        """The sharpness recorded at ``step`` (``KeyError`` if none was)."""
        hit = np.flatnonzero(self.steps == step)
        if not hit.size:
            raise KeyError(step)
        return float(self.sharpness[hit[0]])


def track_sharpness(
    experiment: Experiment | Mapping[str, Any],
    steps: int,
    every: int = 50,
    *,
    iters: int = 300,
    tol: float = 1e-6,
) -> SharpnessTrace:
    """Train ``experiment`` (an ``Experiment``, or a dict for ``Experiment.from_dict``) for
    ``steps`` steps and measure lambda_max of the training loss every ``every`` steps.

    Its optimizer must be ``sgd`` or ``momentum`` (so that the threshold is known); any schedule
    may set the rate. Full-batch training (``batch_size`` at least the training set) is what
    shows the edge of stability. Each measurement starts the power iteration from the previous
    top eigenvector, which the few steps in between change little. The trace ends early when
    the loss stops being finite.
    """
    from dlopt_core.train.experiment import Experiment

    exp = experiment if isinstance(experiment, Experiment) else Experiment.from_dict(experiment)
    opt = exp.optimizer
    momentum = float(opt.hyper.get("momentum", 0.0))
    stability_threshold(opt.name, opt.lr, momentum)  # refuses other rules before training
    if steps < 0 or every < 1:
        raise ValueError("steps must be >= 0 and every >= 1")
    _, net, engine = exp.build()
    rows: list[tuple[int, float, float, float]] = []
    start = None
    while True:
        theta = engine.theta[0]
        loss, _ = net.loss_and_grad(theta, engine.X, engine.Y)
        if not math.isfinite(loss):
            break
        top = sharpness(net, theta, engine.X, engine.Y, iters=iters, tol=tol, start=start)
        start = top.vector
        rows.append((engine.step, top.value, loss, float(exp.schedule(opt.lr, engine.step))))
        if engine.step >= steps or engine.status_name(0) != "running":
            break
        engine.run(min(every, steps - engine.step))
    steps_, values, losses, rates = (
        (np.array(c) for c in zip(*rows, strict=True)) if rows else (np.zeros(0),) * 4
    )
    thresholds = np.array(
        [stability_threshold(opt.name, r, momentum) if r > 0.0 else math.inf for r in rates]
    )
    return SharpnessTrace(steps_.astype(np.int64), values, losses, rates, thresholds)


def edge_of_stability(optimizer: Optimizer, lr: float) -> float:
    """The ``stability_threshold`` of an ``Optimizer`` stepping at rate ``lr``: 2 / lr for sgd,
    2 (1 + mu) / ((1 - dampening) lr) for momentum (infinite at a rate of 0); NaN for the other
    rules, whose steps are not a fixed multiple of the gradient."""
    if optimizer.name not in ("sgd", "momentum"):
        return math.nan
    hyper = optimizer.hyper
    rate = lr * (1.0 - float(hyper.get("dampening", 0.0)))
    if rate <= 0.0:
        return math.inf
    return stability_threshold(optimizer.name, rate, float(hyper.get("momentum", 0.0)))


class SharpnessTracker:
    """The sharpness along a run that trains elsewhere (the app's Playground), in bounded
    memory and at even resolution in steps, like the engine's ``History``.

    A measurement is due at every multiple of ``stride`` steps (``every`` at first); once
    ``limit`` rows are kept, every other row goes and the stride doubles, so a run of any length
    keeps at most ``limit`` rows and costs measurements in proportion to its logarithm. Each
    measurement is lambda_max of the loss on the whole training set ``(X, y)`` (power iteration
    started from the previous top eigenvector, at most ``iters`` products), with the rule's
    ``edge_of_stability`` at the rate of the next step. A loss that is no longer finite ends the
    tracking (``stopped``).
    """

    def __init__(
        self,
        network: Network,
        X: np.ndarray,
        y: np.ndarray,
        *,
        every: int = 50,
        limit: int = 400,
        iters: int = 100,
        tol: float = 1e-5,
    ) -> None:
        if every < 1 or limit < 2:
            raise ValueError("every must be >= 1 and limit >= 2")
        self.network, self.X, self.y = network, X, y
        self.stride = int(every)
        self.limit = int(limit)
        self.iters, self.tol = int(iters), float(tol)
        self.stopped = False
        self._rows: list[tuple[int, float, float]] = []
        self._vector: np.ndarray | None = None

    @property
    def next_step(self) -> int:
        """The step of the next measurement: the first multiple of the stride after the last
        one measured (0 before any; the first is taken wherever the run is)."""
        if not self._rows:
            return 0
        return (self._rows[-1][0] // self.stride + 1) * self.stride

    def due(self, step: int) -> bool:
        """Whether to measure at ``step``: the first time at once, then at ``next_step``."""
        return not self.stopped and (not self._rows or step >= self.next_step)

    def measure(self, step: int, theta: np.ndarray, threshold: float) -> float | None:
        """Record lambda_max at ``step`` for parameters ``theta`` (and the edge ``threshold``);
        None, and tracking ends, when the loss there is not finite."""
        with np.errstate(all="ignore"):
            loss, _ = self.network.loss_and_grad(theta, self.X, self.y)
            if not math.isfinite(loss):
                self.stopped = True
                return None
            try:
                top = sharpness(
                    self.network,
                    theta,
                    self.X,
                    self.y,
                    iters=self.iters,
                    tol=self.tol,
                    start=self._vector,
                )
            except FloatingPointError:
                self.stopped = True
                return None
        self._vector = top.vector
        self._rows.append((int(step), float(top.value), float(threshold)))
        if len(self._rows) >= self.limit:
            self.stride *= 2
            self._rows = [r for r in self._rows if r[0] % self.stride == 0]
        return top.value

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the steps, the sharpness and the edge of stability measured so far."""
        if not self._rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        steps, values, edges = zip(*self._rows, strict=True)
        return np.array(steps, dtype=np.int64), np.array(values), np.array(edges)
