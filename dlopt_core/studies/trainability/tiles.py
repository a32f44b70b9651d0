"""One run's value and one tile's values: a tile is a pure function of ``(problem, spec, tile
index)`` (``compute_tile``), so executors run tiles in any order, anywhere, with the same
numbers to the last bit. The models train through ``dlopt_core.train.mean_field``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlopt_core.studies.trainability.problem import CAP, CONVERGED_LAST, MapError, Problem
from dlopt_core.studies.trainability.spec import MapSpec


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
    from dlopt_core.train import mean_field

    if backend not in ("cpu", "cuda"):
        raise MapError(f"unknown backend {backend!r}; choose cpu or cuda")
    return mean_field.train_models(
        problem.X,
        problem.Y,
        problem.W1,
        problem.W2,
        hyper,
        spec.effective_optimizer,
        spec.steps,
        spec.batches(problem.rows),
        backend,
    )


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
    return TileResult(
        (int(index[0]), int(index[1])), rows, cols, value.reshape(shape), converged.reshape(shape)
    )


def tile_task(shared: tuple[Problem, MapSpec, str], index: tuple[int, int]) -> TileResult:
    """``compute_tile`` in the form an executor calls: the shared inputs, then the tile index."""
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


def pixel_hyper(spec: MapSpec, i: int, j: int) -> dict[str, float | str]:
    """The hyper-parameters of pixel ``(i, j)``: lr1, lr2, offset, beta and the optimizer."""
    from dlopt_core.train import mean_field as K

    h = spec.hyper(np.array([i]), np.array([j]))[:, 0]
    return {
        "optimizer": spec.effective_optimizer,
        "lr1": float(h[K.H_LR1]),
        "lr2": float(h[K.H_LR2]),
        "offset": float(h[K.H_OFFSET]),
        "beta": float(h[K.H_BETA]),
    }
