"""Trainability maps: which hyper-parameters train a network and which make it diverge.

After J. Sohl-Dickstein, "The boundary of neural network trainability is fractal" (2024,
arXiv 2402.06184). One small network, one data set, one initialisation; a grid of copies that
differ in two hyper-parameters (the two axes), each trained by full-batch gradient descent (or
momentum, or Adam) for ``steps`` steps. Each pixel's value says whether that run converged and how
fast (see :func:`values_from_losses`); the border between the two outcomes is fractal, and its
box-counting dimension (:func:`box_counting`) measures how much.

The network is the paper's "mean-field" one without biases, ``h = tanh(sqrt(2) X W1 / sqrt(d))``,
``out = h W2 / d``, trained on the mean squared error; :class:`Problem` holds its data and initial
weights. The grid is cut into tiles (:meth:`MapSpec.tiles`), each a strided sub-lattice of the
whole map, so that the first finished tile is already a coarse picture of all of it and later ones
refine it. A tile is a pure function of ``(problem, spec, tile index)`` (:func:`compute_tile`):
executors (``dlopt_core.studies.executors``: in this process, or on a Dask cluster) run tiles in any
order, anywhere, and the map comes out the same to the last bit.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dlopt_core.data.files import read_bytes

MAX_RES = 4096
MAX_STEPS = 100_000
MAX_WIDTH = 256
MAX_ROWS = 100_000
MAX_PROBLEM_BYTES = 256 * 2**20
TILE = 16  # pixels per tile side: a tile of 256 models is about a second on one core
CAP = 1e6  # a normalised loss above this (or not finite) counts as this
CONVERGED_LAST = 20  # the run converged when the mean of its last 20 normalised losses is below 1
OPTIMIZERS = ("gd", "momentum", "adam")


class MapError(ValueError):
    """A problem or map that cannot be computed; the message names the field and the fix."""


# -- the problem ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Problem:
    """The data ``X`` (n, d), targets ``Y`` (n, 1) and initial weights ``W1`` (d, d), ``W2``
    (d, 1) of the mean-field network; every model of a map starts from these."""

    X: np.ndarray
    Y: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        arrays = {}
        for key in ("X", "Y", "W1", "W2"):
            try:
                a = np.array(getattr(self, key), dtype=np.float64, order="C")
            except (TypeError, ValueError):
                raise MapError(f"{key} must be an array of numbers") from None
            if not np.all(np.isfinite(a)):
                raise MapError(f"{key} holds a value that is not a finite number")
            a.setflags(write=False)
            arrays[key] = a
        X, Y, W1, W2 = arrays["X"], arrays["Y"], arrays["W1"], arrays["W2"]
        if X.ndim != 2 or X.shape[0] < 1 or not 1 <= X.shape[1] <= MAX_WIDTH:
            raise MapError(f"X must have shape (n, d) with d from 1 to {MAX_WIDTH}, got {X.shape}")
        n, d = X.shape
        if n > MAX_ROWS:
            raise MapError(f"X has {n} rows; at most {MAX_ROWS} are allowed")
        for key, a, shape in (("Y", Y, (n, 1)), ("W1", W1, (d, d)), ("W2", W2, (d, 1))):
            if a.shape != shape:
                raise MapError(f"{key} must have shape {shape} (X is {n} x {d}), got {a.shape}")
        for key, a in arrays.items():
            object.__setattr__(self, key, a)

    @property
    def width(self) -> int:
        return int(self.X.shape[1])

    @property
    def rows(self) -> int:
        return int(self.X.shape[0])

    @classmethod
    def paper(cls, width: int = 16, seed: int = 0) -> Problem:
        """The paper's set-up: as many rows as parameters (``d*d + d``), X, Y, W1 and W2 all
        standard normal, drawn in that order from ``numpy.random.default_rng(seed)``."""
        width = int(width)
        if not 1 <= width <= MAX_WIDTH:
            raise MapError(f"the width must be from 1 to {MAX_WIDTH}, got {width}")
        rng = np.random.default_rng(int(seed))
        n = width * width + width
        X = rng.standard_normal((n, width))
        Y = rng.standard_normal((n, 1))
        W1 = rng.standard_normal((width, width))
        W2 = rng.standard_normal((width, 1))
        return cls(X, Y, W1, W2, f"paper, width {width}, seed {seed}")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Problem:
        """A problem from an ``.npz`` file with the arrays ``X``, ``Y``, ``W1`` and ``W2``."""
        data = read_bytes(path, MAX_PROBLEM_BYTES, MapError)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                missing = [k for k in ("X", "Y", "W1", "W2") if k not in npz.files]
                if missing:
                    raise MapError(
                        f"{path}: the file has no array {', '.join(missing)} (it "
                        f"needs X, Y, W1 and W2)"
                    )
                arrays = {k: npz[k] for k in ("X", "Y", "W1", "W2")}
        except MapError:
            raise
        except Exception as exc:  # not a zip, a bad member, an object array ...
            raise MapError(f"{path}: not a readable .npz file ({exc})") from None
        try:
            return cls(**arrays, name=os.path.basename(os.fspath(path)))
        except MapError as exc:
            raise MapError(f"{path}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        np.savez(path, X=self.X, Y=self.Y, W1=self.W1, W2=self.W2)

    def __dask_tokenize__(self) -> tuple:
        return (
            "Problem",
            self.X.tobytes(),
            self.Y.tobytes(),
            self.W1.tobytes(),
            self.W2.tobytes(),
            self.X.shape,
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
            key=lambda ab: (-min(_level(ab[0]), _level(ab[1])), ab),
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
        from dlopt_core.train.kernels import trainability as K

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


def _level(a: int) -> int:
    """How coarse offset ``a`` is: the power of two dividing it (0 is the coarsest)."""
    return 64 if a == 0 else (a & -a).bit_length()


# -- one run's value ------------------------------------------------------------------------------
def normalised_losses(losses: np.ndarray) -> np.ndarray:
    """``l_t / l_0`` along axis 0, a value that is not finite counted as CAP and values capped
    at CAP."""
    losses = np.asarray(losses, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = losses / losses[:1]
    v = np.where(np.isfinite(v), v, CAP)
    return np.minimum(v, CAP)


def values_from_losses(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(value, converged)`` of runs whose losses ``l_0 .. l_{T-1}`` (``l_t`` before step t) run
    along axis 0.

    With ``v = l_t / l_0`` (see :func:`normalised_losses`), a run converged when the mean of its
    last 20 ``v`` is below 1; its value is ``-sum(v)`` when it converged and ``sum(1 / v)`` when
    not: the sign says trainable or not, the size how fast.
    """
    # one contiguous row per run: NumPy sums each row alike however many rows there are, so a
    # run's value does not depend on the runs computed with it
    v = np.ascontiguousarray(normalised_losses(losses).T)
    converged = v[:, -CONVERGED_LAST:].mean(axis=1) < 1.0
    with np.errstate(divide="ignore"):
        value = np.where(converged, -v.sum(axis=1), (1.0 / v).sum(axis=1))
    return value, converged


# -- tiles ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TileResult:
    """One tile's pixels: ``value[k, l]`` belongs to pixel ``(rows[k], cols[l])``."""

    index: tuple[int, int]
    rows: np.ndarray
    cols: np.ndarray
    value: np.ndarray
    converged: np.ndarray


def train_losses(
    problem: Problem, spec: MapSpec, hyper: np.ndarray, backend: str = "cpu"
) -> np.ndarray:
    """``losses[steps, M]`` of the models ``hyper[N_HYPER, M]`` (M a multiple of LANES)."""
    from dlopt_core.train.kernels import PARALLEL_LOCK
    from dlopt_core.train.kernels import trainability as K

    opt = {"gd": K.GD, "momentum": K.MOMENTUM, "adam": K.ADAM}[spec.effective_optimizer]
    losses = np.empty((spec.steps, hyper.shape[1]))
    batches = spec.batches(problem.rows)
    if backend == "cuda":
        from dlopt_core.train.kernels import trainability_cuda

        trainability_cuda.train_models(
            problem.X, problem.Y, problem.W1, problem.W2, hyper, opt, spec.steps, batches, losses
        )
    elif backend == "cpu":
        with PARALLEL_LOCK:
            K.train_models(
                problem.X,
                problem.Y,
                problem.W1,
                problem.W2,
                hyper,
                opt,
                spec.steps,
                batches,
                losses,
            )
    else:
        raise MapError(f"unknown backend {backend!r}; choose cpu or cuda")
    return losses


def patch_order(n_rows: int, n_cols: int) -> np.ndarray:
    """The pixels of an ``n_rows x n_cols`` tile (row-major numbers) in patches of 4 x 2, so
    that each kernel block trains neighbours: a block ends when all its runs have diverged, and
    neighbours tend to share their fate."""
    r, c = (a.ravel() for a in np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij"))
    return np.lexsort((c % 2, r % 4, c // 2, r // 4))  # the last key sorts first


def compute_tile(
    problem: Problem, spec: MapSpec, index: tuple[int, int], backend: str = "cpu"
) -> TileResult:
    """Train tile ``index``'s models and return their values: a pure function of its inputs."""
    rows, cols = spec.tile_pixels(index)
    shape = (len(rows), len(cols))
    order = patch_order(*shape)
    ii, jj = np.meshgrid(rows, cols, indexing="ij")
    hyper = spec.hyper(ii.ravel()[order], jj.ravel()[order])
    m = len(order)
    trained, conv = values_from_losses(train_losses(problem, spec, hyper, backend)[:, :m])
    value = np.empty(m)
    converged = np.empty(m, dtype=bool)
    value[order] = trained
    converged[order] = conv
    return TileResult(tuple(index), rows, cols, value.reshape(shape), converged.reshape(shape))


def _tile_task(shared: tuple[Problem, MapSpec, str], index: tuple[int, int]) -> TileResult:
    problem, spec, backend = shared
    return compute_tile(problem, spec, index, backend)


def pixel_losses(
    problem: Problem, spec: MapSpec, i: int, j: int, backend: str = "cpu"
) -> np.ndarray:
    """The raw losses ``l_0 .. l_{T-1}`` of the run at pixel ``(i, j)`` (NaN after a loss that
    was not finite): the run the map's pixel comes from, trained again alone."""
    if not (0 <= i < spec.res[0] and 0 <= j < spec.res[1]):
        raise MapError(f"no pixel ({i}, {j}) in a {spec.res[0]} x {spec.res[1]} map")
    hyper = spec.hyper(np.array([i]), np.array([j]))
    return train_losses(problem, spec, hyper, backend)[:, 0].copy()


def pixel_hyper(spec: MapSpec, i: int, j: int) -> dict[str, float]:
    """The hyper-parameters of pixel ``(i, j)``: lr1, lr2, offset, beta and the optimizer."""
    from dlopt_core.train.kernels import trainability as K

    h = spec.hyper(np.array([i]), np.array([j]))[:, 0]
    return {
        "optimizer": spec.effective_optimizer,
        "lr1": float(h[K.H_LR1]),
        "lr2": float(h[K.H_LR2]),
        "offset": float(h[K.H_OFFSET]),
        "beta": float(h[K.H_BETA]),
    }


# -- the fractal dimension ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FractalFit:
    """A box-counting fit: ``log count = -dimension * log size + intercept`` over the box sizes
    ``sizes[lo:hi]`` (pixels); ``counts`` are the boxes that hold an edge pixel."""

    dimension: float
    intercept: float
    sizes: np.ndarray
    counts: np.ndarray
    fit_range: tuple[int, int]  # smallest and largest box size used by the fit, in pixels

    @property
    def ok(self) -> bool:
        return math.isfinite(self.dimension)

    def describe(self) -> str:
        if not self.ok:
            return "no fractal dimension (too few edge pixels or box sizes)"
        lo, hi = self.fit_range
        return f"{self.dimension:.3f} (box sizes {lo} to {hi} pixels)"


def edge_mask(value: np.ndarray) -> np.ndarray:
    """Edge pixels: ``mask[i, j]`` is true when the 2 x 2 block ``value[i:i+2, j:j+2]`` holds
    both signs (a trainable and a divergent run). NaN (not computed) counts as neither."""
    value = np.asarray(value, dtype=np.float64)
    pos = value > 0
    neg = value < 0
    blocks_pos = pos[:-1, :-1] | pos[1:, :-1] | pos[:-1, 1:] | pos[1:, 1:]
    blocks_neg = neg[:-1, :-1] | neg[1:, :-1] | neg[:-1, 1:] | neg[1:, 1:]
    return blocks_pos & blocks_neg


def box_counting(mask: np.ndarray, min_size: int = 1, max_size: int | None = None) -> FractalFit:
    """The box-counting dimension of the true pixels of ``mask``.

    Boxes of side 1, 2, 4, ... up to a quarter of the shorter side (or ``max_size``) tile the
    image; ``counts[k]`` is how many boxes of side ``sizes[k]`` hold a true pixel. The dimension
    is minus the least-squares slope of log count against log size over the sizes from
    ``min_size`` to ``max_size``; it needs at least three sizes with boxes counted (else NaN).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise MapError("box counting needs a 2-D mask")
    limit = min(mask.shape) // 4 if max_size is None else int(max_size)
    sizes, counts = [], []
    s = 1
    while s <= max(limit, 1):
        h, w = -(-mask.shape[0] // s), -(-mask.shape[1] // s)
        padded = np.zeros((h * s, w * s), dtype=bool)
        padded[: mask.shape[0], : mask.shape[1]] = mask
        counts.append(int(padded.reshape(h, s, w, s).any(axis=(1, 3)).sum()))
        sizes.append(s)
        s *= 2
    sizes_a, counts_a = np.array(sizes), np.array(counts)
    use = (sizes_a >= min_size) & (counts_a > 0)
    if use.sum() < 3:
        return FractalFit(math.nan, math.nan, sizes_a, counts_a, (0, 0))
    slope, intercept = np.polyfit(np.log(sizes_a[use]), np.log(counts_a[use]), 1)
    used = sizes_a[use]
    return FractalFit(
        float(-slope), float(intercept), sizes_a, counts_a, (int(used.min()), int(used.max()))
    )


# -- the map --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MapResult:
    """A (possibly partial) map: ``value[i, j]`` for the first axis' i-th value and the
    second's j-th (NaN where not computed yet), the converged mask, the axis values, which
    pixels are done, and the fractal dimension of the edge (over the finished map)."""

    spec: MapSpec
    problem_name: str
    value: np.ndarray
    converged: np.ndarray
    done: np.ndarray
    values0: np.ndarray
    values1: np.ndarray
    fractal: FractalFit
    tiles_done: int
    tiles_total: int
    cancelled: bool = False
    executor: str = ""
    seconds: float = field(default=0.0)

    @property
    def complete(self) -> bool:
        return self.tiles_done == self.tiles_total

    def filled(self) -> np.ndarray:
        """The value grid with every pixel not computed yet showing its nearest computed
        neighbour above and to the left (a coarse picture while tiles arrive)."""
        return fill_missing(self.value, self.done)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the ``.npz`` export, named after the axes."""
        a0, a1 = self.spec.axes
        out = {
            "value": self.value,
            a0: self.values0,
            a1: self.values1,
            "converged": self.converged,
            "fractal_dimension": np.float64(self.fractal.dimension),
            "fractal_sizes": self.fractal.sizes,
            "fractal_counts": self.fractal.counts,
            "fractal_fit_range": np.array(self.fractal.fit_range),
            "steps": np.int64(self.spec.steps),
            "axes": np.array(self.spec.axes),
        }
        return out

    def save_npz(self, path: str | os.PathLike[str]) -> None:
        np.savez(path, **self.arrays())


def fill_missing(value: np.ndarray, done: np.ndarray) -> np.ndarray:
    """``value`` with each pixel not ``done`` replaced by the last done one before it, first
    along the second axis, then along the first (pixel (0, 0) must be done)."""
    idx1 = np.where(done, np.arange(value.shape[1])[None, :], 0)
    np.maximum.accumulate(idx1, axis=1, out=idx1)
    rows = np.arange(value.shape[0])[:, None]
    out = value[rows, idx1]
    row_done = done.any(axis=1)
    idx0 = np.where(row_done, np.arange(value.shape[0]), 0)
    np.maximum.accumulate(idx0, out=idx0)
    return out[idx0]


Progress = Callable[[float, MapResult], None]
StopCheck = Callable[[], bool]


def trainability_map(
    problem: Problem,
    spec: MapSpec,
    executor: Any = None,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    backend: str = "cpu",
) -> MapResult:
    """Compute the map of ``spec`` for ``problem``.

    ``executor`` runs the tiles (default: in this process, see ``dlopt_core.studies.executors``).
    ``progress(fraction, partial)`` is called after each finished tile with the map so far;
    ``should_stop()`` is asked between tiles, and a cancelled map returns what it has, with
    ``cancelled=True``.
    """
    import time

    from dlopt_core.studies.executors import InProcessExecutor

    executor = executor or InProcessExecutor()
    t0 = time.perf_counter()
    tiles = spec.tiles()
    value = np.full(spec.res, np.nan)
    converged = np.zeros(spec.res, dtype=bool)
    done = np.zeros(spec.res, dtype=bool)
    state = {"n": 0, "cancelled": False}
    values0, values1 = spec.axis_values(0), spec.axis_values(1)

    def result(final: bool) -> MapResult:
        complete = state["n"] == len(tiles)
        fit = (
            box_counting(edge_mask(value))
            if complete
            else FractalFit(math.nan, math.nan, np.zeros(0, int), np.zeros(0, int), (0, 0))
        )
        return MapResult(
            spec,
            problem.name,
            value.copy(),
            converged.copy(),
            done.copy(),
            values0,
            values1,
            fit,
            state["n"],
            len(tiles),
            state["cancelled"] and final,
            executor.name,
            time.perf_counter() - t0,
        )

    results = executor.run(_tile_task, (problem, spec, backend), tiles)
    try:
        for _, tile in results:
            ii = np.ix_(tile.rows, tile.cols)
            value[ii] = tile.value
            converged[ii] = tile.converged
            done[ii] = True
            state["n"] += 1
            if progress is not None:
                progress(state["n"] / len(tiles), result(False))
            if state["n"] < len(tiles) and should_stop is not None and should_stop():
                state["cancelled"] = True
                break
    finally:
        results.close()
    return result(True)


def warm_up() -> None:
    """Compile, or load from Numba's cache, the map's kernel (a 2 x 2 map of a tiny problem)."""
    trainability_map(Problem.paper(width=2, seed=0), MapSpec(res=(2, 2), steps=2, tile=1))
