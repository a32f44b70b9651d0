"""The map's specification: its two axes (``AXES``: which hyper-parameters, over which
ranges), resolution, steps, optimizer and batches, and how the grid is cut into tiles, each a
strided sub-lattice of the whole map (``MapSpec.tiles``), so that the first finished tile is
already a coarse picture of all of it and later ones refine it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dlopt_core.studies.trainability.problem import (
    MAX_RES,
    MAX_ROWS,
    MAX_STEPS,
    OPTIMIZERS,
    TILE,
    MapError,
)


# -- axes and the map's specification -------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One hyper-parameter a map can vary: on a log10 scale (learning rates) or a linear one."""

    name: str
    label: str
    log: bool
    default: tuple[float, float]
    lo: float  # allowed range of the axis coordinate (log10 for log axes)
    hi: float
    help: str


AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        Axis(
            "lr1",
            "learning rate of W1",
            True,
            (-3.0, 6.0),
            -10.0,
            10.0,
            "the hidden layer's learning rate (log10)",
        ),
        Axis(
            "lr2",
            "learning rate of W2",
            True,
            (-3.0, 6.0),
            -10.0,
            10.0,
            "the output layer's learning rate (log10)",
        ),
        Axis(
            "lr",
            "learning rate",
            True,
            (-3.0, 6.0),
            -10.0,
            10.0,
            "one learning rate for both layers (log10)",
        ),
        Axis(
            "offset",
            "offset of W1's initial values",
            False,
            (-2.0, 2.0),
            -1e3,
            1e3,
            "a number added to every initial value of W1",
        ),
        Axis(
            "momentum",
            "momentum",
            False,
            (0.0, 0.99),
            0.0,
            0.999999,
            "heavy-ball momentum (PyTorch's SGD); the optimizer becomes momentum",
        ),
        Axis(
            "beta1",
            "Adam's beta1",
            False,
            (0.0, 0.99),
            0.0,
            0.999999,
            "Adam's first-moment decay; the optimizer becomes Adam",
        ),
    )
}
_CLASHES = ({"lr", "lr1"}, {"lr", "lr2"}, {"momentum", "beta1"})


@dataclass(frozen=True)
class MapSpec:
    """What to compute: the two axes, their ranges (log10 for learning rates), the resolution
    (pixels along the first and the second axis), the number of steps, the optimizer and the
    values of the hyper-parameters that are not on an axis.

    ``value[i, j]`` of the result belongs to the first axis' i-th value and the second's j-th;
    along each axis the values run from ``lo`` to ``hi``, both included.
    """

    axes: tuple[str, str] = ("lr1", "lr2")
    ranges: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 6.0), (-3.0, 6.0))
    res: tuple[int, int] = (64, 64)
    steps: int = 200
    optimizer: str = "gd"
    lr1: float = 0.1
    lr2: float = 0.1
    offset: float = 0.0
    beta: float = 0.9  # momentum or Adam's beta1 when neither is an axis
    tile: int = TILE
    batch: int = 0  # rows per step's gradient, drawn with replacement; 0: the whole data set
    batch_seed: int = 0

    def __post_init__(self) -> None:
        axes = tuple(str(a) for a in self.axes)
        if len(axes) != 2 or axes[0] == axes[1]:
            raise MapError(f"a map needs two different axes, got {self.axes}")
        for a in axes:
            if a not in AXES:
                raise MapError(f"unknown axis {a!r}; choose from {', '.join(AXES)}")
        for clash in _CLASHES:
            if clash <= set(axes):
                raise MapError(f"the axes {' and '.join(sorted(clash))} cannot be used together")
        try:
            ranges = tuple((float(lo), float(hi)) for lo, hi in self.ranges)
        except (TypeError, ValueError):
            raise MapError("each range must be two numbers, LO and HI") from None
        if len(ranges) != 2:
            raise MapError("a map needs a range for each of its two axes")
        for a, (lo, hi) in zip(axes, ranges, strict=True):
            ax = AXES[a]
            unit = "log10 " if ax.log else ""
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise MapError(
                    f"the range of {a} must be two finite numbers LO < HI, got {lo} {hi}"
                )
            if lo < ax.lo or hi > ax.hi:
                raise MapError(
                    f"the range of {a} ({unit}{lo:g} to {hi:g}) must lie within "
                    f"{ax.lo:g} and {ax.hi:g}"
                )
        res = tuple(int(r) for r in self.res)
        if len(res) != 2 or not all(2 <= r <= MAX_RES for r in res):
            raise MapError(f"the resolution must be 2 to {MAX_RES} pixels per axis, got {self.res}")
        steps = int(self.steps)
        if not 1 <= steps <= MAX_STEPS:
            raise MapError(f"steps must be from 1 to {MAX_STEPS}, got {self.steps}")
        if self.optimizer not in OPTIMIZERS:
            raise MapError(
                f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"
            )
        for key in ("lr1", "lr2", "offset", "beta"):
            if not math.isfinite(float(getattr(self, key))):
                raise MapError(f"{key} must be a finite number")
        if not 0.0 <= float(self.beta) < 1.0:
            raise MapError(f"beta (momentum or beta1) must be in [0, 1), got {self.beta}")
        if not (0.0 < float(self.lr1) and 0.0 < float(self.lr2)):
            raise MapError("the learning rates must be positive")
        batch = int(self.batch)
        if not 0 <= batch <= MAX_ROWS:
            raise MapError(
                f"the batch must be from 1 to {MAX_ROWS} rows, or 0 for the whole "
                f"data set, got {self.batch}"
            )
        object.__setattr__(self, "batch", batch)
        object.__setattr__(self, "batch_seed", int(self.batch_seed))
        tile = int(self.tile)
        if not 1 <= tile <= 256:
            raise MapError(f"the tile side must be from 1 to 256 pixels, got {self.tile}")
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "ranges", ranges)
        object.__setattr__(self, "res", res)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "tile", tile)

    @property
    def effective_optimizer(self) -> str:
        """The optimizer the runs use: an axis of momentum or beta1 decides it."""
        if "momentum" in self.axes:
            return "momentum"
        if "beta1" in self.axes:
            return "adam"
        return self.optimizer

    def axis_values(self, k: int) -> np.ndarray:
        """The values along axis ``k`` (0 or 1): 10**linspace for learning rates."""
        lo, hi = self.ranges[k]
        grid = np.linspace(lo, hi, self.res[k])
        return 10.0**grid if AXES[self.axes[k]].log else grid

    @property
    def strides(self) -> tuple[int, int]:
        """A tile takes every ``stride``-th pixel along each axis."""
        return tuple(-(-r // self.tile) for r in self.res)  # type: ignore[return-value]

    def tiles(self) -> list[tuple[int, int]]:
        """Every tile ``(a, b)``, coarse first: tile (a, b) holds pixels ``i = a + k * sx``,
        ``j = b + l * sy``; (0, 0) is a coarse picture of the whole map, and each later group
        halves the distance between computed pixels."""
        sx, sy = self.strides
        return sorted(
            ((a, b) for a in range(sx) for b in range(sy)),
            key=lambda ab: (-min(grid_level(ab[0]), grid_level(ab[1])), ab),
        )

    def tile_pixels(self, index: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The rows and columns of tile ``index``."""
        (sx, sy), (a, b) = self.strides, index
        if not (0 <= a < sx and 0 <= b < sy):
            raise MapError(f"no tile {index} in a map with {sx} x {sy} tiles")
        return np.arange(a, self.res[0], sx), np.arange(b, self.res[1], sy)

    def hyper(self, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
        """``hyper[N_HYPER, M]`` for the pixels ``(ii[k], jj[k])``, padded to a whole number of
        kernel blocks (and to at least a tile's worth) with copies of the last pixel."""
        from dlopt_core.train import mean_field as K

        ii, jj = np.asarray(ii).ravel(), np.asarray(jj).ravel()
        m = len(ii)
        total = max(self.tile * self.tile, m)
        total += -total % K.LANES
        hyper = np.empty((K.N_HYPER, total))
        hyper[K.H_LR1] = self.lr1
        hyper[K.H_LR2] = self.lr2
        hyper[K.H_OFFSET] = self.offset
        hyper[K.H_BETA] = self.beta
        coords = (self.axis_values(0)[ii], self.axis_values(1)[jj])
        for name, vals in zip(self.axes, coords, strict=True):
            for row in _HYPER_ROWS[name]:
                hyper[getattr(K, row), :m] = vals
        hyper[:, m:] = hyper[:, m - 1 : m]
        return hyper

    def to_dict(self) -> dict[str, Any]:
        return {
            "axes": list(self.axes),
            "ranges": [list(r) for r in self.ranges],
            "res": list(self.res),
            "steps": self.steps,
            "optimizer": self.optimizer,
            "lr1": self.lr1,
            "lr2": self.lr2,
            "offset": self.offset,
            "beta": self.beta,
            "tile": self.tile,
            "batch": self.batch,
            "batch_seed": self.batch_seed,
        }

    def batches(self, rows: int) -> np.ndarray:
        """``batches[t]``: the rows of step t's gradient, drawn with replacement from
        ``numpy.random.default_rng([batch_seed, t])``, the same for every run of the map; no
        columns for full batch."""
        if self.batch == 0:
            return np.zeros((self.steps, 0), dtype=np.int64)
        return np.stack(
            [
                np.random.default_rng([self.batch_seed, t]).integers(0, rows, self.batch)
                for t in range(self.steps)
            ]
        ).astype(np.int64)

    def zoomed(self, ranges: tuple[tuple[float, float], tuple[float, float]]) -> MapSpec:
        """The same map over other ranges (same resolution): a zoom."""
        return replace(self, ranges=ranges)


_HYPER_ROWS = {
    "lr1": ("H_LR1",),
    "lr2": ("H_LR2",),
    "lr": ("H_LR1", "H_LR2"),
    "offset": ("H_OFFSET",),
    "momentum": ("H_BETA",),
    "beta1": ("H_BETA",),
}


def grid_level(a: int) -> int:
    """How coarse offset ``a`` is: the power of two dividing it (0 is the coarsest)."""
    return 64 if a == 0 else (a & -a).bit_length()
