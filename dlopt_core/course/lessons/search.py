"""The "What is optimization" lesson's demo: how many evaluations grid search, random search and
gradient descent need to get close to the minimum of a 2-D function.

The functions are the Landscape's own test functions (``dlopt_core.studies.landscape``), Booth
and Himmelblau, and a shifted bowl; a ``SearchProblem`` adds what the demo needs: the square
searched, the start and the step of gradient descent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dlopt_core.studies.landscape import Bounds, Point, TestFunction, get_function
from dlopt_core.studies.landscape.functions import ArrayLike


@dataclass(frozen=True)
class SearchProblem:
    """A test function set up for the search demo: ``title`` for display, the square ``domain``
    grid and random search cover, and gradient descent's ``start`` and step ``lr``."""

    function: TestFunction
    title: str
    domain: Bounds
    start: Point
    lr: float

    @property
    def minimum(self) -> float:
        return self.function.min_value

    def f(self, x: ArrayLike, y: ArrayLike) -> np.ndarray:
        return np.asarray(self.function.f(x, y))

    def grad(self, x: float, y: float) -> tuple[float, float]:
        gx, gy = self.function.grad(x, y)
        return float(gx), float(gy)


def _booth() -> SearchProblem:
    # Hessian [[10, 8], [8, 10]]: eigenvalues 2 and 18, so lr = 1/18 is the classic 1/L step
    return SearchProblem(
        get_function("booth"),
        "Booth: (x + 2y − 7)² + (2x + y − 5)², minimum 0 at (1, 3)",
        ((-10.0, 10.0), (-10.0, 10.0)),
        (-8.0, 8.0),
        1.0 / 18.0,
    )


def _bowl_function() -> TestFunction:
    """(x - 1.3)^2 + 5 (y + 0.7)^2: a bowl off the grid points, so no grid finds it by luck."""
    a, b = 1.3, -0.7

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return (x - a) ** 2 + 5 * (y - b) ** 2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        return np.array([2 * (x - a), 10 * (y - b)])

    return TestFunction(
        "bowl",
        "Bowl",
        f,
        grad,
        ((-10.0, 10.0), (-10.0, 10.0)),
        ((a, b),),
        0.0,
        (-8.0, 8.0),
        "An axis-aligned bowl with Hessian eigenvalues 2 and 10.",
    )


def _bowl() -> SearchProblem:
    return SearchProblem(
        _bowl_function(),
        "Bowl: (x − 1.3)² + 5 (y + 0.7)², minimum 0 at (1.3, −0.7)",
        ((-10.0, 10.0), (-10.0, 10.0)),
        (-8.0, 8.0),
        0.1,
    )


def _himmelblau() -> SearchProblem:
    return SearchProblem(
        get_function("himmelblau"),
        "Himmelblau: (x² + y − 11)² + (x + y² − 7)², four minima of value 0",
        ((-5.0, 5.0), (-5.0, 5.0)),
        (0.0, 0.0),
        0.01,
    )


SEARCH_FUNCTIONS: dict[str, Callable[[], SearchProblem]] = {
    "booth": _booth,
    "bowl": _bowl,
    "himmelblau": _himmelblau,
}
SEARCH_NOTE = (
    "Evaluations count every computation of f and every computation of ∇f (so one gradient "
    "descent step costs 2). Grid search: the size k² of the first grid of k = 2ʲ + 1 points per "
    "axis whose best point is within the tolerance (coarser grids tried first are not counted). "
    "Random search: uniform samples over the same square until one is within the tolerance. "
    "Gradient descent: θ ← θ − η ∇f(θ) from a fixed start with a fixed step η."
)


@dataclass(frozen=True)
class SearchResult:
    """One method of the comparison: evaluations used and what it found."""

    method: str  # "grid", "random" or "gradient"
    label: str
    evaluations: int  # evaluations until within the tolerance, or the whole budget if never
    reached: bool
    best_value: float
    best_point: tuple[float, float]
    #: The progress curve: after ``trace_evals[i]`` evaluations the best value found is
    #: ``minimum + trace_gap[i]``. It holds the points where the best value improved (thinned to
    #: at most ``TRACE_POINTS``, always keeping the first and last), so it falls step by step.
    trace_evals: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False)
    trace_gap: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False)


@dataclass(frozen=True)
class SearchComparison:
    """``search_comparison``'s result: the function, the tolerance and one row per method."""

    function: str
    title: str
    minimum: float
    tol: float
    results: tuple[SearchResult, ...]
    note: str = SEARCH_NOTE

    def rows(self) -> list[tuple[str, str, str]]:
        """``(method, evaluations, best value)`` as text, for a table."""
        out = []
        for r in self.results:
            evals = f"{r.evaluations:,}" if r.reached else f"> {r.evaluations:,} (not reached)"
            out.append((r.label, evals, f"{r.best_value:.3g}"))
        return out


TRACE_POINTS = 400


class _Trace:
    """Collects (evaluations, best value so far) where the best value improves."""

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum
        self.evals: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.best = math.inf

    def add(self, evals: np.ndarray, values: np.ndarray) -> None:
        """Candidates in evaluation order; keeps those that beat every earlier one."""
        values = np.asarray(values, dtype=float)
        running = np.minimum.accumulate(np.concatenate(([self.best], values)))[1:]
        previous = np.concatenate(([self.best], running[:-1]))
        better = running < previous
        if better.any():
            self.evals.append(np.asarray(evals, dtype=np.int64)[better])
            self.values.append(running[better])
            self.best = float(running[-1])

    def result(
        self,
        method: str,
        label: str,
        evaluations: int,
        reached: bool,
        best: float,
        point: tuple[float, float],
    ) -> SearchResult:
        ev = np.concatenate(self.evals) if self.evals else np.zeros(0, np.int64)
        gap = np.concatenate(self.values) - self.minimum if self.values else np.zeros(0)
        if len(ev) and ev[-1] != evaluations:  # the budget ran out after the last improvement
            ev, gap = np.append(ev, evaluations), np.append(gap, gap[-1])
        if len(ev) > TRACE_POINTS:  # thin evenly in log(evaluations), keeping both ends
            marks = np.unique(
                np.searchsorted(ev, np.geomspace(ev[0], ev[-1], TRACE_POINTS), side="left")
            )
            keep = np.unique(np.concatenate(([0], np.minimum(marks, len(ev) - 1), [len(ev) - 1])))
            ev, gap = ev[keep], gap[keep]
        return SearchResult(method, label, evaluations, reached, best, point, ev, gap)


def _grid_search(fn: SearchProblem, goal: float, max_level: int) -> SearchResult:
    (x0, x1), (y0, y1) = fn.domain
    best, point, k = math.inf, (math.nan, math.nan), 0
    trace = _Trace(fn.minimum)
    for level in range(1, max_level + 1):
        k = 2**level + 1
        xs, ys = np.linspace(x0, x1, k), np.linspace(y0, y1, k)
        Z = fn.f(xs[None, :], ys[:, None])
        r, c = np.unravel_index(int(np.argmin(Z)), Z.shape)
        best, point = float(Z[r, c]), (float(xs[c]), float(ys[r]))
        trace.add(np.array([k * k]), np.array([best]))
        if best <= goal:
            return trace.result("grid", "Grid search", k * k, True, best, point)
    return trace.result("grid", "Grid search", k * k, False, best, point)


def _random_search(fn: SearchProblem, goal: float, budget: int, seed: int) -> SearchResult:
    (x0, x1), (y0, y1) = fn.domain
    rng = np.random.default_rng(seed)
    best, point, used = math.inf, (math.nan, math.nan), 0
    trace = _Trace(fn.minimum)
    chunk = 65_536
    while used < budget:
        n = min(chunk, budget - used)
        x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
        z = fn.f(x, y)
        hits = np.flatnonzero(z <= goal)
        upto = int(hits[0]) + 1 if hits.size else n
        trace.add(np.arange(used + 1, used + upto + 1), z[:upto])
        if hits.size:
            i = int(hits[0])
            return trace.result(
                "random",
                "Random search",
                used + i + 1,
                True,
                float(z[i]),
                (float(x[i]), float(y[i])),
            )
        i = int(np.argmin(z))
        if z[i] < best:
            best, point = float(z[i]), (float(x[i]), float(y[i]))
        used += n
    return trace.result("random", "Random search", used, False, best, point)


def _gradient_descent(fn: SearchProblem, goal: float, budget: int) -> SearchResult:
    x, y = fn.start
    evaluations = 0
    best, point = math.inf, (x, y)
    counts: list[int] = []
    values: list[float] = []
    trace = _Trace(fn.minimum)
    reached = False
    while evaluations < budget:
        value = float(fn.f(x, y))
        evaluations += 1
        counts.append(evaluations)
        values.append(value)
        if value < best:
            best, point = value, (x, y)
        if value <= goal:
            reached = True
            break
        gx, gy = fn.grad(x, y)
        evaluations += 1
        x, y = x - fn.lr * gx, y - fn.lr * gy
        if not (math.isfinite(x) and math.isfinite(y)):
            break
    trace.add(np.array(counts), np.array(values))
    return trace.result("gradient", "Gradient descent", evaluations, reached, best, point)


def search_comparison(
    function_name: str = "booth",
    tol: float = 1e-4,
    seed: int = 0,
    *,
    budget: int = 1_000_000,
    max_grid_level: int = 10,
) -> SearchComparison:
    """Evaluations grid search, random search and gradient descent need to get within ``tol`` of
    the minimum value of a 2-D function (``booth``, ``bowl`` or ``himmelblau``).

    How evaluations are counted is in ``SEARCH_NOTE``. Random search and gradient descent stop
    after ``budget`` evaluations, grid search after grids of 2^max_grid_level + 1 points per axis;
    a method that never gets close enough is reported with ``reached=False``. The search squares
    are chosen so that no grid lands exactly on a minimum by luck. ``seed`` seeds random search.
    """
    if function_name not in SEARCH_FUNCTIONS:
        raise ValueError(
            f"unknown function {function_name!r}; choose one of {', '.join(SEARCH_FUNCTIONS)}"
        )
    if not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    fn = SEARCH_FUNCTIONS[function_name]()
    goal = fn.minimum + tol
    results = (
        _grid_search(fn, goal, max_grid_level),
        _random_search(fn, goal, budget, seed),
        _gradient_descent(fn, goal, budget),
    )
    return SearchComparison(function_name, fn.title, fn.minimum, float(tol), results)


def search_table(comparisons: Sequence[SearchComparison]) -> str:
    """Plain-text table of one or more comparisons (for a terminal or a log)."""
    lines = []
    for comp in comparisons:
        lines.append(f"{comp.title}; tolerance {comp.tol:g}")
        for label, evals, best in comp.rows():
            lines.append(f"  {label:<18} {evals:>28}   best f = {best}")
    return "\n".join(lines)
