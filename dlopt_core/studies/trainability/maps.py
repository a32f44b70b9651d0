"""The whole map: its tiles run by an executor, in the coarse-to-fine order, with progress and
cancel callbacks; ``warm_up`` compiles the kernel once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlopt_core.studies.trainability.fractal import FractalFit, box_counting, edge_mask
from dlopt_core.studies.trainability.problem import Problem
from dlopt_core.studies.trainability.spec import MapSpec
from dlopt_core.studies.trainability.tiles import tile_task


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

    def arrays(self) -> dict[str, Any]:
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
    state: dict[str, Any] = {"n": 0, "cancelled": False}
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
            bool(state["cancelled"] and final),
            executor.name,
            time.perf_counter() - t0,
        )

    results = executor.run(tile_task, (problem, spec, backend), tiles)
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
