"""The seeded synthetic 2-D data sets (``GENERATORS``: circle, xor, gaussians, spiral, moons,
plane, bumps) and ``generate``, which checks its arguments and splits the points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlopt_core.data.splits import (
    MAX_SAMPLES,
    MIN_SAMPLES,
    Dataset,
    DatasetError,
    check_seed,
    check_val_fraction,
    is_int,
    is_real_number,
    make_dataset,
)

# --------------------------------------------------------------------------- generators

GenFn = Callable[[np.random.Generator, int, float, int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GeneratorInfo:
    """A synthetic 2-D data set: its task kind, allowed class counts and generating function."""

    name: str
    task_kind: str  # "classification" or "regression"
    min_classes: int  # 0 for regression; equal to max_classes when the count is fixed
    max_classes: int
    description: str
    fn: GenFn

    @property
    def variable_classes(self) -> bool:
        """Whether ``n_classes`` is a real choice for this generator."""
        return self.min_classes != self.max_classes


def _class_sizes(n: int, k: int) -> np.ndarray:
    """``n`` split into ``k`` near-equal counts (the first ``n % k`` get one more)."""
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def _labels(sizes: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.float64), sizes)


def _polar(r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


CIRCLE_INNER = 0.5  # radius of the inner disc (class 1)
CIRCLE_OUTER = (0.7, 1.0)  # radii of the outer ring (class 0)


def _circle(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Class 1: a disc of radius 0.5; class 0: a ring between radii 0.7 and 1 (uniform in area)."""
    n_out, n_in = _class_sizes(n, 2)
    lo, hi = CIRCLE_OUTER
    r_out = np.sqrt(rng.uniform(lo**2, hi**2, n_out))
    r_in = CIRCLE_INNER * np.sqrt(rng.uniform(0.0, 1.0, n_in))
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    X = _polar(np.concatenate([r_out, r_in]), theta)
    X += noise * rng.standard_normal(X.shape)
    return X, _labels(np.array([n_out, n_in]))


XOR_MARGIN = 0.05  # noise-free points keep this distance from both axes


def _xor(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Class 1 where x1 and x2 have the same sign, class 0 where they differ."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    mag = rng.uniform(XOR_MARGIN, 1.0, (n, 2))
    s1 = rng.choice([-1.0, 1.0], n)
    s2 = np.where(y == 1.0, s1, -s1)
    X = mag * np.column_stack([s1, s2])
    X += noise * rng.standard_normal(X.shape)
    return X, y


GAUSS_RADIUS = 0.6  # blob centres lie on this circle
GAUSS_SPREAD = 0.1  # std of each blob before noise


def gaussian_centres(k: int) -> np.ndarray:
    """Centres of the ``k`` blobs of ``gaussians``: evenly on a circle, first at 45 degrees."""
    angle = np.pi / 4.0 + 2.0 * np.pi * np.arange(k) / k
    return _polar(np.full(k, GAUSS_RADIUS), angle)


def _gaussians(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """``k`` round blobs (std 0.1, plus the noise) centred on a circle of radius 0.6."""
    sizes = _class_sizes(n, k)
    centres = np.repeat(gaussian_centres(k), sizes, axis=0)
    spread = math.sqrt(GAUSS_SPREAD**2 + noise**2)
    X = centres + spread * rng.standard_normal((n, 2))
    return X, _labels(sizes)


SPIRAL_TURN = 3.5 * np.pi  # angle swept by an arm from its start to its end
SPIRAL_R0 = 0.1  # radius where the arms start (they end at radius 1)


def _spiral(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """``k`` interleaved arms: radius 0.1 + 0.9 t, angle 3.5 pi t + 2 pi c / k, t in [0, 1]."""
    sizes = _class_sizes(n, k)
    y = _labels(sizes)
    t = rng.uniform(0.0, 1.0, n)
    r = SPIRAL_R0 + (1.0 - SPIRAL_R0) * t
    theta = SPIRAL_TURN * t + 2.0 * np.pi * y / k
    X = _polar(r, theta)
    X += noise * rng.standard_normal(X.shape)
    return X, y


MOONS_SCALE = 1.5  # the classic moons span x in [-1, 2]; divided by this (after centring)
MOONS_SHIFT = (0.5, 0.25)


def _moons(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    """Two interleaving half circles, centred and scaled to x1 in [-1, 1], x2 in [-0.5, 0.5]."""
    n0, n1 = _class_sizes(n, 2)
    a0 = rng.uniform(0.0, np.pi, n0)
    a1 = rng.uniform(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1.0 - np.cos(a1), 0.5 - np.sin(a1)])
    X = (np.vstack([upper, lower]) - np.array(MOONS_SHIFT)) / MOONS_SCALE
    X += noise * rng.standard_normal(X.shape)
    return X, _labels(np.array([n0, n1]))


PLANE_WEIGHTS = (0.6, -0.4)


def plane_function(X: np.ndarray) -> np.ndarray:
    """The noise-free target of ``plane``: 0.6 x1 - 0.4 x2."""
    return PLANE_WEIGHTS[0] * X[:, 0] + PLANE_WEIGHTS[1] * X[:, 1]


# (height, centre x1, centre x2, width)
BUMPS = ((1.0, -0.4, 0.4, 0.3), (-1.0, 0.4, -0.3, 0.35), (0.6, 0.5, 0.6, 0.25))


def bumps_function(X: np.ndarray) -> np.ndarray:
    """The noise-free target of ``bumps``: a sum of three Gaussian bumps of both signs."""
    y = np.zeros(X.shape[0])
    for height, c1, c2, width in BUMPS:
        d2 = (X[:, 0] - c1) ** 2 + (X[:, 1] - c2) ** 2
        y += height * np.exp(-d2 / (2.0 * width**2))
    return y


def _plane(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, plane_function(X) + noise * rng.standard_normal(n)


def _bumps(rng: np.random.Generator, n: int, noise: float, k: int) -> tuple[Any, Any]:
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, bumps_function(X) + noise * rng.standard_normal(n)


_C, _R = "classification", "regression"
GENERATORS: dict[str, GeneratorInfo] = {
    g.name: g
    for g in (
        GeneratorInfo("circle", _C, 2, 2, "Inner disc against an outer ring", _circle),
        GeneratorInfo("xor", _C, 2, 2, "Class by the sign of x1 * x2 (quadrants)", _xor),
        GeneratorInfo("gaussians", _C, 2, 8, "2-8 Gaussian blobs on a circle", _gaussians),
        GeneratorInfo("spiral", _C, 2, 8, "2-8 interleaved spiral arms", _spiral),
        GeneratorInfo("moons", _C, 2, 2, "Two interleaving half circles", _moons),
        GeneratorInfo("plane", _R, 0, 0, "Regression: y is a linear function of x", _plane),
        GeneratorInfo("bumps", _R, 0, 0, "Regression: a sum of smooth Gaussian bumps", _bumps),
    )
}


def generate(
    kind: str,
    n_samples: int = 400,
    noise: float = 0.1,
    val_fraction: float = 0.2,
    seed: int = 0,
    n_classes: int = 2,
) -> Dataset:
    """A seeded synthetic 2-D data set; ``n_samples`` in all, split train/validation.

    ``noise`` is the std of Gaussian noise added to the inputs (classification) or to the target
    (regression). ``n_classes`` matters only for ``gaussians`` and ``spiral``.
    """
    info = GENERATORS.get(kind) if isinstance(kind, str) else None
    if info is None:
        raise DatasetError(f"unknown data set kind {kind!r}; choose from {', '.join(GENERATORS)}")
    if not is_int(n_samples) or not MIN_SAMPLES <= int(n_samples) <= MAX_SAMPLES:
        raise DatasetError(
            f"n_samples must be a whole number from {MIN_SAMPLES} to {MAX_SAMPLES}, "
            f"got {n_samples!r}"
        )
    if not is_real_number(noise) or not math.isfinite(float(noise)) or float(noise) < 0.0:
        raise DatasetError(f"noise must be a finite number >= 0, got {noise!r}")
    val_fraction = check_val_fraction(val_fraction)
    seed = check_seed(seed)
    if info.task_kind == _R:
        k = 0
    elif info.variable_classes:
        if not is_int(n_classes) or not info.min_classes <= int(n_classes) <= info.max_classes:
            raise DatasetError(
                f"n_classes for {kind!r} must be a whole number from {info.min_classes} to "
                f"{info.max_classes}, got {n_classes!r}"
            )
        k = int(n_classes)
    else:
        k = info.min_classes
    rng = np.random.default_rng(seed)
    X, y = info.fn(rng, int(n_samples), float(noise), k)
    task = "regression" if k == 0 else ("binary" if k == 2 else "multiclass")
    return make_dataset(kind, task, X, y, k, ("x1", "x2"), val_fraction, rng)
