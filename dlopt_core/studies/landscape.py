"""The Landscape tab's numerical side: optimization on 2-D test functions, and the shape of a
network's loss.

Test functions (``FUNCTIONS``, ``get_function``): each ``TestFunction`` has a value ``f(x, y)`` and
an analytic gradient ``grad(x, y)``; both take scalars or broadcastable arrays, so the same call
serves one point and a whole grid (``f_grid``). ``grad`` returns an array of shape ``(2, ...)``:
``grad(x, y)[0]`` is df/dx and ``grad(x, y)[1]`` is df/dy.

Trajectories (``trajectory``) run the core's own ``Optimizer.step`` (the compiled update rules of
``dlopt_core.train.optimizers``) on a 2-D point, with optional gradient clipping and Gaussian
gradient
noise, so a path drawn here is the path the same optimizer takes inside a network's training.

Theory on the quadratic ``f = 0.5 x^T H x`` with eigenvalues ``mu = 1`` and ``L = kappa``:
``gd_optimal``, ``momentum_optimal`` and the rate ``measured_rate`` reads off a path.

Loss surfaces of networks: ``interpolate`` (the straight line between two parameter vectors,
Goodfellow, Vinyals & Saxe 2015), ``filter_normalized_direction`` and ``slice_2d`` (random 2-D
slices, Li et al. 2018), ``project_trajectory`` (a training path on the plane of its two principal
directions) and ``paper_situations`` (small versions of the interpolation paper's settings).

``CHALLENGES``: ready-made races of optimizers on the test functions, one per classic difficulty
(ill-conditioning, saddle points, plateaus, cliffs, local minima, noisy gradients).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dlopt_core.train.kernels import PARALLEL_LOCK, landscape_cpu
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import Optimizer, make_optimizer
from dlopt_core.train.schedules import Schedule, make_schedule

Bounds = tuple[tuple[float, float], tuple[float, float]]
Point = tuple[float, float]
ArrayLike = float | np.ndarray


# =================================================================================================
# 2-D test functions
# =================================================================================================


@dataclass(frozen=True)
class TestFunction:
    """A 2-D objective with its analytic gradient and what is known about it.

    name: key in ``FUNCTIONS``; title: for display; f(x, y) and grad(x, y): value and gradient
    (``(2, ...)`` array), vectorised over broadcastable arrays; bounds: ((xmin, xmax), (ymin,
    ymax)), the region worth drawing; minima: the global minima (empty where f is unbounded
    below); min_value: f at the global minima (-inf where unbounded below); default_start: a start
    point that shows the function's character; note: one sentence on what it teaches; params: the
    parameters it was built with (``get_function(name, **params)`` rebuilds it).
    """

    __test__ = False  # not a pytest test class, whatever its name

    name: str
    title: str
    f: Callable[[ArrayLike, ArrayLike], ArrayLike]
    grad: Callable[[ArrayLike, ArrayLike], np.ndarray]
    bounds: Bounds
    minima: tuple[Point, ...]
    min_value: float
    default_start: Point
    note: str
    params: tuple[tuple[str, float], ...] = ()


def _pack(gx: ArrayLike, gy: ArrayLike) -> np.ndarray:
    """Stack the two partial derivatives into one ``(2, ...)`` array (broadcast to one shape)."""
    gx, gy = np.broadcast_arrays(np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64))
    return np.stack([gx, gy])


def _rotation(angle: float) -> tuple[float, float]:
    rad = math.radians(angle)
    return math.cos(rad), math.sin(rad)


def quadratic_hessian(kappa: float = 10.0, angle: float = 0.0) -> np.ndarray:
    """H = R^T diag(1, kappa) R with R = [[c, s], [-s, c]], c = cos(angle), s = sin(angle).

    ``angle`` is in degrees; the eigenvector of the small eigenvalue 1 (the valley's long axis)
    is (c, s), at ``angle`` from the x axis; that of ``kappa`` is (-s, c).
    """
    c, s = _rotation(angle)
    R = np.array([[c, s], [-s, c]])
    return R.T @ np.diag([1.0, float(kappa)]) @ R


def _quadratic(kappa: float = 10.0, angle: float = 0.0) -> TestFunction:
    """f = 0.5 (u^2 + kappa v^2) with u = c x + s y, v = -s x + c y (= 0.5 p^T H p)."""
    kappa = float(kappa)
    if not math.isfinite(kappa) or kappa < 1.0:
        raise ValueError(f"quadratic: kappa must be a number >= 1, got {kappa!r}")
    angle = float(angle)
    c, s = _rotation(angle)

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        u = c * x + s * y
        v = -s * x + c * y
        return 0.5 * (u * u + kappa * v * v)

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        u = c * x + s * y
        kv = kappa * (-s * x + c * y)
        return _pack(c * u - s * kv, s * u + c * kv)

    return TestFunction(
        "quadratic",
        f"Quadratic bowl (kappa = {kappa:g}, angle = {angle:g} deg)",
        f,
        grad,
        ((-2.0, 2.0), (-2.0, 2.0)),
        ((0.0, 0.0),),
        0.0,
        (-1.8, 1.2),
        "Hessian eigenvalues 1 and kappa: the larger kappa, the narrower the valley and the slower "
        "plain gradient descent.",
        (("kappa", kappa), ("angle", angle)),
    )


def _rosenbrock(a: float = 1.0, b: float = 100.0) -> TestFunction:
    """f = (a - x)^2 + b (y - x^2)^2; minimum 0 at (a, a^2)."""
    a, b = float(a), float(b)

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        r = y - x * x
        return _pack(-2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r)

    return TestFunction(
        "rosenbrock",
        "Rosenbrock",
        f,
        grad,
        ((-2.0, 2.0), (-1.0, 3.0)),
        ((a, a * a),),
        0.0,
        (-1.5, 2.0),
        "A curved, flat-bottomed valley: finding the valley is easy, following it to the minimum "
        "is slow.",
        (("a", a), ("b", b)),
    )


def _beale() -> TestFunction:
    """f = (1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2; min 0 at (3, 0.5)."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y**2
        t3 = 2.625 - x + x * y**3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y**2 - 1.0) + t3 * (y**3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y**2 * t3)
        return _pack(gx, gy)

    return TestFunction(
        "beale",
        "Beale",
        f,
        grad,
        ((-4.5, 4.5), (-4.5, 4.5)),
        ((3.0, 0.5),),
        0.0,
        (1.0, 1.5),
        "Flat arms and sharp corners: gradients differ by orders of magnitude across the plane.",
    )


def _himmelblau() -> TestFunction:
    """f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2; four global minima of value 0."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        p = x * x + y - 11.0
        q = x + y * y - 7.0
        return _pack(4.0 * x * p + 2.0 * q, 2.0 * p + 4.0 * y * q)

    minima = (
        (3.0, 2.0),
        (-2.8051180869527448, 3.1313125182505730),
        (-3.7793102533777469, -3.2831859912861694),
        (3.5844283403304917, -1.8481265269644036),
    )
    return TestFunction(
        "himmelblau",
        "Himmelblau",
        f,
        grad,
        ((-5.0, 5.0), (-5.0, 5.0)),
        minima,
        0.0,
        (0.0, 0.0),
        "Four equally good minima: where you start decides which one you find.",
    )


def _booth() -> TestFunction:
    """f = (x + 2y - 7)^2 + (2x + y - 5)^2; minimum 0 at (1, 3)."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        p = x + 2.0 * y - 7.0
        q = 2.0 * x + y - 5.0
        return _pack(2.0 * p + 4.0 * q, 4.0 * p + 2.0 * q)

    return TestFunction(
        "booth",
        "Booth",
        f,
        grad,
        ((-10.0, 10.0), (-10.0, 10.0)),
        ((1.0, 3.0),),
        0.0,
        (-8.0, -6.0),
        "A tilted quadratic bowl (Hessian eigenvalues 2 and 18): easy, a baseline.",
    )


def _saddle() -> TestFunction:
    """f = x^2 - y^2: a saddle point at the origin, stable along x, unstable along y."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return x * x - y * y

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        return _pack(2.0 * x, -2.0 * y)

    return TestFunction(
        "saddle",
        "Saddle  x^2 - y^2",
        f,
        grad,
        ((-2.0, 2.0), (-2.0, 2.0)),
        (),
        -math.inf,
        (1.5, 1e-3),
        "Near the line y = 0 the gradient points at the saddle: gradient descent slows to a crawl "
        "there before it escapes along y.",
    )


def _monkey_saddle() -> TestFunction:
    """f = x^3 - 3 x y^2: a degenerate saddle at the origin (zero gradient and zero Hessian)."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return x**3 - 3.0 * x * y * y

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        return _pack(3.0 * (x * x - y * y), -6.0 * x * y)

    return TestFunction(
        "monkey_saddle",
        "Monkey saddle  x^3 - 3xy^2",
        f,
        grad,
        ((-1.5, 1.5), (-1.5, 1.5)),
        (),
        -math.inf,
        (1.2, 0.3),
        "Three valleys meet at a saddle whose Hessian is zero: no curvature information at all "
        "tells the way out.",
    )


CLIFF_HEIGHT, CLIFF_WIDTH, CLIFF_AT = 5.0, 0.02, 1.0


def _sigmoid(z: ArrayLike) -> ArrayLike:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def _cliff_foot() -> float:
    """x of the cliff's minimum: (x - w) + (H / s) sig'((x - w) / s) = 0, by bisection."""
    h, s, w = CLIFF_HEIGHT, CLIFF_WIDTH, CLIFF_AT

    def slope(x: float) -> float:
        z = (x - w) / s
        sg = float(_sigmoid(z))
        return (x - w) + h / s * sg * (1.0 - sg)

    lo, hi = w - 1.0, w  # slope(lo) < 0 < slope(hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if slope(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _cliff() -> TestFunction:
    """f = 0.5 ((x - w)^2 + y^2) + H sig((x - w) / s), H = 5, s = 0.02, w = 1.

    A bowl whose centre lies on a wall of height H and width s: the wall's slope reaches
    H / (4 s) = 62.5 (against a slope of about 1 everywhere else), so a step that lands on it
    is thrown far back: an exploding gradient. The minimum is at the foot of the wall.
    """
    h, s, w = CLIFF_HEIGHT, CLIFF_WIDTH, CLIFF_AT

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return 0.5 * ((x - w) ** 2 + y * y) + h * _sigmoid((x - w) / s)

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        sg = _sigmoid((x - w) / s)
        return _pack((x - w) + h / s * sg * (1.0 - sg), y)

    foot = _cliff_foot()
    return TestFunction(
        "cliff",
        "Cliff",
        f,
        grad,
        ((-4.0, 2.5), (-2.0, 2.0)),
        ((foot, 0.0),),
        float(f(foot, 0.0)),
        (-3.0, 1.0),
        "A gentle slope ends at a steep wall: one step onto the wall gets a gradient 60 times "
        "larger and is thrown far away, unless the gradient is clipped.",
    )


def _plateau() -> TestFunction:
    """f = tanh(q), q = x^2 / 2 + y^2: a basin at the origin inside a wide plateau at f = 1.

    grad f = (1 - tanh(q)^2) (x, 2 y): away from the basin it falls like 4 exp(-2 q), the way
    the gradient of a saturated tanh unit vanishes.
    """

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return np.tanh(0.5 * x * x + y * y)

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        t = np.tanh(0.5 * x * x + y * y)
        sech2 = 1.0 - t * t
        return _pack(sech2 * x, sech2 * 2.0 * y)

    return TestFunction(
        "plateau",
        "Plateau",
        f,
        grad,
        ((-4.0, 4.0), (-3.0, 3.0)),
        ((0.0, 0.0),),
        0.0,
        (3.0, 1.0),
        "Almost flat almost everywhere: the gradient is tiny on the plateau, so the step size "
        "of plain gradient descent is too.",
    )


def _rastrigin(A: float = 10.0) -> TestFunction:
    """f = 2 A + sum_i (x_i^2 - A cos(2 pi x_i)); minimum 0 at the origin, local minima near
    every point of the integer grid."""
    A = float(A)
    two_pi = 2.0 * math.pi

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        return 2.0 * A + x * x - A * np.cos(two_pi * x) + y * y - A * np.cos(two_pi * y)

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        return _pack(
            2.0 * x + A * two_pi * np.sin(two_pi * x), 2.0 * y + A * two_pi * np.sin(two_pi * y)
        )

    return TestFunction(
        "rastrigin",
        "Rastrigin",
        f,
        grad,
        ((-5.12, 5.12), (-5.12, 5.12)),
        ((0.0, 0.0),),
        0.0,
        (3.2, -2.3),
        "A bowl covered in ripples: about a hundred local minima trap any descent method.",
        (("A", A),),
    )


def _six_hump_camel() -> TestFunction:
    """f = (4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (4 y^2 - 4) y^2: two global and four local minima."""

    def f(x: ArrayLike, y: ArrayLike) -> ArrayLike:
        x2 = x * x
        y2 = y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2

    def grad(x: ArrayLike, y: ArrayLike) -> np.ndarray:
        x2 = x * x
        return _pack(8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y**3)

    minima = (
        (0.089842013100318062, -0.71265640302073963),
        (-0.089842013100318062, 0.71265640302073963),
    )
    return TestFunction(
        "six_hump_camel",
        "Six-hump camel",
        f,
        grad,
        ((-2.2, 2.2), (-1.2, 1.2)),
        minima,
        -1.0316284534898774,
        (-2.0, -0.5),
        "Six valleys, two of them the global minimum: a small landscape with real local minima.",
    )


_FACTORIES: dict[str, Callable[..., TestFunction]] = {
    "quadratic": _quadratic,
    "rosenbrock": _rosenbrock,
    "beale": _beale,
    "himmelblau": _himmelblau,
    "booth": _booth,
    "saddle": _saddle,
    "monkey_saddle": _monkey_saddle,
    "cliff": _cliff,
    "plateau": _plateau,
    "rastrigin": _rastrigin,
    "six_hump_camel": _six_hump_camel,
}

FUNCTIONS: dict[str, TestFunction] = {name: make() for name, make in _FACTORIES.items()}


def get_function(name: str, **params: Any) -> TestFunction:
    """The test function ``name``, built with ``params`` where it takes any.

    ``quadratic`` takes ``kappa`` (>= 1, default 10) and ``angle`` (degrees, default 0),
    ``rosenbrock`` ``a`` and ``b`` (default 1 and 100), ``rastrigin`` ``A`` (default 10).
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown test function {name!r}; choose one of {', '.join(_FACTORIES)}")
    if not params:
        return FUNCTIONS[name]
    try:
        return _FACTORIES[name](**params)
    except TypeError:
        raise ValueError(f"test function {name} does not take {sorted(params)}") from None


def _as_function(function: str | TestFunction) -> TestFunction:
    return get_function(function) if isinstance(function, str) else function


def f_grid(
    fn: str | TestFunction, n: int = 200, bounds: Bounds | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, ys, Z)`` for a heat map: n points per axis over ``bounds`` (default the function's),
    ``Z[i, j] = f(xs[j], ys[i])`` (rows follow y, as ``numpy.meshgrid``'s default)."""
    fn = _as_function(fn)
    (x0, x1), (y0, y1) = bounds or fn.bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.asarray(fn.f(xs[None, :], ys[:, None]), dtype=np.float64)
    return xs, ys, Z


# =================================================================================================
# Trajectories
# =================================================================================================


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
    fn = _as_function(function)
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


# =================================================================================================
# Loss surfaces of networks
# =================================================================================================


@runtime_checkable
class FlatModel(Protocol):
    """Any model whose parameters are one flat float64 vector, for the line and the slice.

    ``n_params``: the vector's length; ``evaluate(thetas, X, y)``: the (K, 2) mean loss and error
    of each row of ``thetas`` (K, n_params) on ``(X, y)``, equal to the loss of its own
    ``loss_and_grad``; ``filter_groups()``: a filter number per parameter (the weights of one
    unit share one), -1 for parameters a filter-normalised direction leaves at zero (biases).
    ``Network`` does not need these: it has compiled line and plane kernels of its own.
    ``dlopt_core.train.lstm.LSTMNetwork`` is one.
    """

    n_params: int

    def evaluate(self, thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    def filter_groups(self) -> np.ndarray: ...


Model = Network | FlatModel
_BLOCK_VALUES = 1 << 20  # parameter values per block of points for a FlatModel (8 MB)


def _kernel_args(network: Network) -> tuple:
    return (
        network.sizes,
        network.woff,
        network.uoff,
        network.lay,
        network.act_code,
        network.loss_code,
    )


def _theta(network: Model, theta: np.ndarray, what: str = "theta") -> np.ndarray:
    if not isinstance(network, Network):
        _flat_model(network)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    if theta.shape != (network.n_params,):
        raise ValueError(f"{what} must have shape ({network.n_params},), got {theta.shape}")
    return theta


def _flat_model(model: Model) -> FlatModel:
    if not isinstance(model, FlatModel):
        raise TypeError(
            f"{type(model).__name__} is neither a Network nor a model with "
            "n_params, evaluate and filter_groups"
        )
    return model


def _evaluate_points(
    model: FlatModel, points: np.ndarray, X: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """``model.evaluate`` on the rows of ``points``, in blocks that bound the memory."""
    out = np.empty((points.shape[0], 2))
    block = max(1, _BLOCK_VALUES // max(points.shape[1], 1))
    for start in range(0, points.shape[0], block):
        out[start : start + block] = model.evaluate(points[start : start + block], X, y)
    return out


def network_loss(network: Model, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """The mean loss of ``theta`` on ``(X, y)`` (equal, bit for bit, to the model's own
    ``loss_and_grad(theta, X, y)[0]``); NaN for an empty set. Any ``FlatModel`` or a
    ``Network`` (by the landscape kernels)."""
    theta = _theta(network, theta)
    if not isinstance(network, Network):
        return float(_flat_model(network).evaluate(theta[None, :], X, y)[0, 0])
    return _loss_and_error(network, theta, X, y)[0]


def _loss_and_error(
    network: Network, theta: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[float, float]:
    X, Y = network.prepare(X, y)
    out = np.empty((1, 2))
    landscape_cpu.line_losses_by[network.blas](
        theta, theta, np.zeros(1), *_kernel_args(network), X, Y, out
    )
    return float(out[0, 0]), float(out[0, 1])


@dataclass(frozen=True)
class Robustness:
    """A network on clean inputs and on its FGSM inputs x + eps sign(dL/dx) (Goodfellow et al.
    2015): mean losses and errors (misclassified fractions for bce and ce, RMSEs for mse)."""

    eps: float
    loss: float
    error: float
    adversarial_loss: float
    adversarial_error: float


def fgsm_robustness(
    network: Network, theta: np.ndarray, X: np.ndarray, y: np.ndarray, eps: float
) -> Robustness:
    """Loss and error of ``theta`` on ``(X, y)`` and on the FGSM inputs ``network.fgsm(theta, X,
    y, eps)``: each row moved by ``eps`` in every input coordinate, in the direction that raises
    its loss most to first order."""
    theta = _theta(network, theta)
    loss, error = _loss_and_error(network, theta, X, y)
    adv_loss, adv_error = _loss_and_error(network, theta, network.fgsm(theta, X, y, eps), y)
    return Robustness(float(eps), loss, error, adv_loss, adv_error)


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
    theta_a = _theta(network, theta_a, "theta_a")
    theta_b = _theta(network, theta_b, "theta_b")
    alphas = np.ascontiguousarray(DEFAULT_ALPHAS if alphas is None else alphas, dtype=np.float64)
    if alphas.ndim != 1:
        raise ValueError("alphas must be a 1-D array")
    if not isinstance(network, Network):
        model = _flat_model(network)
        points = (1.0 - alphas)[:, None] * theta_a + alphas[:, None] * theta_b
        train = _evaluate_points(model, points, X, y)
        val = np.full((alphas.size, 2), np.nan)
        if Xv is not None and yv is not None and len(Xv):
            val = _evaluate_points(model, points, Xv, yv)
        return Interpolation(alphas, train[:, 0], val[:, 0], train[:, 1], val[:, 1])
    args = _kernel_args(network)
    line = landscape_cpu.line_losses_by[network.blas]
    X, Y = network.prepare(X, y)
    train = np.empty((alphas.size, 2))
    line(theta_a, theta_b, alphas, *args, X, Y, train)
    val = np.full((alphas.size, 2), np.nan)
    if Xv is not None and yv is not None and len(Xv):
        Xv, Yv = network.prepare(Xv, yv)
        line(theta_a, theta_b, alphas, *args, Xv, Yv, val)
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
    theta = _theta(network, theta)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    d = rng.standard_normal(network.n_params)
    if not isinstance(network, Network):
        groups = np.asarray(_flat_model(network).filter_groups(), dtype=np.int64)
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
        return float(span) * ((np.arange(n) - half) / max(half, 1.0))
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
    theta = _theta(network, theta)
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if directions is None:
        rng = np.random.default_rng(seed)
        d1 = filter_normalized_direction(network, theta, rng)
        d2 = filter_normalized_direction(network, theta, rng)
    else:
        d1 = _theta(network, directions[0], "directions[0]")
        d2 = _theta(network, directions[1], "directions[1]")
    if np.ndim(span) == 0:
        alphas = betas = _axis(span, n)  # type: ignore[arg-type]
    else:
        alphas, betas = _axis(span[0], n), _axis(span[1], n)  # type: ignore[index]
    if not isinstance(network, Network):
        model = _flat_model(network)
        loss = np.empty((n, n))
        rows = max(1, _BLOCK_VALUES // (n * network.n_params))
        line = theta + alphas[:, None] * d1
        for i in range(0, n, rows):
            points = line[None, :, :] + betas[i : i + rows, None, None] * d2
            loss[i : i + rows] = model.evaluate(points.reshape(-1, network.n_params), X, y)[
                :, 0
            ].reshape(-1, n)
        return Slice(alphas, betas, loss, d1, d2, theta.copy())
    X, Y = network.prepare(X, y)
    loss = np.empty((n, n))
    with PARALLEL_LOCK:
        plane = landscape_cpu.plane_losses_by[network.blas]
        plane(theta, d1, d2, alphas, betas, *_kernel_args(network), X, Y, loss)
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


class TrainingRun(Protocol):
    """What ``trace_training`` steps: a model training from ``theta_init`` on ``(X, y)``.

    ``run(n)`` advances up to n steps; ``running`` turns False when it stops on its own, with
    ``status`` saying why ("diverged", "early_stopped") and ``stop_step`` when; Xv and yv may
    have no rows.
    """

    model: Model
    theta_init: np.ndarray
    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray
    yv: np.ndarray
    step: int
    running: bool
    status: str
    stop_step: int

    def run(self, n_steps: int) -> Any: ...

    def current_theta(self) -> np.ndarray: ...


class Situation(Protocol):
    """A ready-made training run whose loss shape the Landscape tab draws: a title, what the
    paper found (``explanation``), the default number of steps, a one-line ``describe()`` of the
    model, data and optimizer, ``start()``, a fresh ``TrainingRun``, and ``findings(path)``, what
    a finished run shows beyond the line, computed from it ("" when nothing)."""

    title: str
    explanation: str
    steps: int

    def describe(self) -> str: ...

    def start(self) -> TrainingRun: ...

    def findings(self, path: TrainedPath) -> str: ...


class _EngineRun:
    """The single model of an ``Engine`` as a ``TrainingRun`` (evaluated on its Polyak average
    when there is one, as the engine does)."""

    def __init__(self, network: Network, engine: Any) -> None:
        self.model = network
        self.engine = engine
        self.theta_init = engine.theta_init[0].copy()
        self.X, self.y, self.Xv, self.yv = engine.X, engine.Y, engine.Xv, engine.Yv

    @property
    def step(self) -> int:
        return int(self.engine.step)

    @property
    def running(self) -> bool:
        return bool(self.engine.running[0])

    @property
    def status(self) -> str:
        return self.engine.status_name(0)

    @property
    def stop_step(self) -> int:
        return int(self.engine.stop_step[0])

    def run(self, n_steps: int) -> Any:
        return self.engine.run(n_steps)

    def current_theta(self) -> np.ndarray:
        return self.engine.eval_theta()[0].copy()


@dataclass(frozen=True)
class PaperSituation:
    """A small version of one setting of Goodfellow, Vinyals & Saxe (2015), as plain data.

    layer_sizes: the full network, input (2) to output; data_kind, n_samples, noise: a
    ``datasets.generate`` data set; optimizer and hyper: for ``make_optimizer``; batch_size and
    steps: the training to run before interpolating from the initial to the final parameters;
    training: further ``TrainConfig`` settings of the experiment's training section.
    ``experiment_dict()`` gives the same as an ``Experiment.from_dict`` config.
    """

    title: str
    explanation: str
    layer_sizes: tuple[int, ...]
    activation: str
    loss: str
    data_kind: str
    n_samples: int
    noise: float
    val_fraction: float
    init: str
    init_std: float
    optimizer: str
    hyper: Mapping[str, Any]
    batch_size: int
    steps: int
    seed: int = 0
    training: Mapping[str, Any] = field(default_factory=dict)

    def experiment_dict(self) -> dict[str, Any]:
        return {
            "name": self.title,
            "seed": self.seed,
            "data": {
                "kind": self.data_kind,
                "n_samples": self.n_samples,
                "noise": self.noise,
                "val_fraction": self.val_fraction,
                "seed": self.seed,
            },
            "network": {
                "hidden": list(self.layer_sizes[1:-1]),
                "activation": self.activation,
                "init": self.init,
                "init_std": self.init_std,
            },
            "optimizer": {"name": self.optimizer, **dict(self.hyper)},
            "training": {"batch_size": self.batch_size, **dict(self.training)},
            "max_steps": self.steps,
        }

    def describe(self) -> str:
        sizes = "-".join(str(n) for n in self.layer_sizes)
        return (
            f"{sizes} {self.activation} network, {self.loss} loss; data: {self.data_kind} "
            f"({self.n_samples} points, noise {self.noise:g}); {self.optimizer} "
            f"({_hyper_text(self.hyper)}), batch {self.batch_size}"
            + "".join(f", {k.replace('_', ' ')} {v:g}" for k, v in self.training.items())
        )

    def start(self) -> TrainingRun:
        """The experiment built on the CPU backend, untrained."""
        from dlopt_core.train.experiment import Experiment

        _, net, engine = Experiment.from_dict(self.experiment_dict()).build(backend="cpu")
        return _EngineRun(net, engine)

    @property
    def adversarial_eps(self) -> float:
        return float(self.training.get("adversarial_eps", 0.0))

    def findings(self, path: TrainedPath) -> str:
        """For adversarial training: the trained network's loss on clean and on FGSM inputs (of
        the training set) and its validation accuracy on both (``fgsm_robustness``); else ""."""
        eps = self.adversarial_eps
        if eps <= 0.0 or not isinstance(path.model, Network):
            return ""
        train = fgsm_robustness(path.model, path.theta_final, path.X, path.y, eps)
        text = (
            f"On inputs moved by FGSM (\u03b5 = {eps:g}) the trained network's training loss "
            f"is {train.adversarial_loss:.3g}, against {train.loss:.3g} on the clean inputs"
        )
        if path.Xv is not None and path.yv is not None and self.loss in ("bce", "ce"):
            val = fgsm_robustness(path.model, path.theta_final, path.Xv, path.yv, eps)
            text += (
                f"; it classifies {100 * (1 - val.error):.0f} % of the validation points "
                f"right, {100 * (1 - val.adversarial_error):.0f} % of their FGSM versions"
            )
        return text + "."


@dataclass(frozen=True)
class SequenceSituation:
    """The interpolation paper's LSTM in small form: an ``LSTMNetwork`` with ``hidden_size``
    units on ``lstm.adding_task(n_samples, length, val_fraction, seed)``, initialised with
    ``init`` (and ``init_std``) from ``seed``, trained by ``lstm.SequenceTrainer`` with the
    optimizer ``make_optimizer(optimizer, **hyper)``, batches of ``batch_size`` and the batch
    order of ``seed``."""

    title: str
    explanation: str
    hidden_size: int
    length: int
    n_samples: int
    val_fraction: float
    init: str
    init_std: float
    optimizer: str
    hyper: Mapping[str, Any]
    batch_size: int
    steps: int
    seed: int = 0

    def describe(self) -> str:
        return (
            f"LSTM with {self.hidden_size} units and a linear read-out, mse loss; data: "
            f"adding problem ({self.n_samples} sequences of {self.length} steps); "
            f"{self.optimizer} ({_hyper_text(self.hyper)}), batch {self.batch_size}"
        )

    def start(self) -> TrainingRun:
        from dlopt_core.train import lstm

        data = lstm.adding_task(self.n_samples, self.length, self.val_fraction, self.seed)
        net = lstm.LSTMNetwork(data.input_size, self.hidden_size, 1, "mse")
        theta0 = net.init(self.seed, self.init, self.init_std)
        return lstm.SequenceTrainer(
            net,
            data,
            make_optimizer(self.optimizer, **self.hyper),
            batch_size=self.batch_size,
            seed=self.seed,
            theta0=theta0,
        )

    def findings(self, path: TrainedPath) -> str:
        return ""


def _hyper_text(hyper: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in hyper.items())


@dataclass(frozen=True)
class TrainedPath:
    """Snapshots of a training run: ``thetas`` (S, P), the first the initial parameters and the
    last the final ones (Polyak-averaged where the run averages), with the data; ``steps``: the
    training steps taken; ``cancelled``: stopped by ``should_stop``; ``notes``: what a reader
    should know (an early stop)."""

    model: Model
    thetas: np.ndarray
    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray | None
    yv: np.ndarray | None
    steps: int
    cancelled: bool = False
    notes: tuple[str, ...] = ()

    @property
    def theta_init(self) -> np.ndarray:
        return self.thetas[0]

    @property
    def theta_final(self) -> np.ndarray:
        return self.thetas[-1]


def trace_training(
    situation: Situation,
    steps: int | None = None,
    snapshots: int = 40,
    callback: Callable[[float, TrainedPath], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedPath:
    """Train ``situation`` for ``steps`` steps (default its own), keeping ``snapshots`` + 1
    parameter vectors at evenly spaced steps (the path drawn on the slice).

    Between two snapshots ``callback(fraction done, path so far)`` is called and
    ``should_stop()`` asked whether to give up; a cancelled run returns what it has, with
    ``cancelled=True``. A run that stops early keeps its last parameters and says so in
    ``notes``; one that diverges raises ``ValueError`` with the step.
    """
    run = situation.start()
    steps = max(1, int(situation.steps if steps is None else steps))
    marks = np.unique(np.linspace(0, steps, max(2, int(snapshots)) + 1).round().astype(np.int64))
    thetas = [run.current_theta()]
    notes: list[str] = []
    has_val = len(run.Xv) > 0

    def path(cancelled: bool = False) -> TrainedPath:
        return TrainedPath(
            run.model,
            np.array(thetas),
            run.X,
            run.y,
            run.Xv if has_val else None,
            run.yv if has_val else None,
            int(run.step),
            cancelled,
            tuple(notes),
        )

    for mark in marks[1:]:
        if should_stop is not None and should_stop():
            return path(cancelled=True)
        run.run(int(mark) - run.step)
        thetas.append(run.current_theta())
        if not run.running:
            if run.status == "diverged":
                raise ValueError(
                    f"training diverged at step {run.stop_step:,} (the loss became "
                    "infinite): lower the learning rate"
                )
            notes.append(f"Training stopped early at step {run.step:,} ({run.status}).")
            break
        if callback is not None and mark < marks[-1]:
            callback(run.step / steps, path())
    return path()


def paper_situations() -> dict[str, Situation]:
    """The interpolation paper's situations in small form: name -> ``PaperSituation`` (an MLP
    experiment) or ``SequenceSituation`` (the LSTM)."""
    return {
        "tanh_net": PaperSituation(
            "Tanh network",
            "From initialisation to solution the loss falls steadily along the "
            "straight line: no barrier, no local minimum on the way.",
            (2, 16, 16, 1),
            "tanh",
            "bce",
            "moons",
            400,
            0.1,
            0.25,
            "xavier",
            0.1,
            "momentum",
            {"lr": 0.05, "momentum": 0.9},
            32,
            3000,
        ),
        "relu_net": PaperSituation(
            "ReLU network",
            "The same with ReLU units: the loss falls monotonically along the "
            "line, fastest at the start and ever more slowly towards the solution, with a shallow "
            "minimum just past a = 1.",
            (2, 32, 32, 1),
            "relu",
            "bce",
            "circle",
            400,
            0.1,
            0.25,
            "he",
            0.1,
            "sgd",
            {"lr": 0.1},
            32,
            3000,
        ),
        "deep_linear": PaperSituation(
            "Deep linear network",
            "A factored linear model (three hidden layers of 2 units, no "
            "non-linearity) started near zero sits on a plateau around the saddle at theta = 0, "
            "then drops: the line shows the same flat start.",
            (2, 2, 2, 2, 1),
            "linear",
            "mse",
            "plane",
            400,
            0.1,
            0.25,
            "normal",
            0.1,
            "sgd",
            {"lr": 0.05},
            400,
            3000,
        ),
        "noisy_task": PaperSituation(
            "Noisy task",
            "Overlapping classes and a large network: along the line the training "
            "loss keeps falling to the end, the validation loss bottoms out before a = 1.",
            (2, 64, 64, 1),
            "relu",
            "bce",
            "xor",
            200,
            0.5,
            0.5,
            "he",
            0.1,
            "adam",
            {"lr": 0.01},
            16,
            3000,
        ),
        "lstm": SequenceSituation(
            "LSTM",
            "The paper's LSTM: along the line the loss stays on a long plateau, then "
            "drops close to the trained parameters, with no barrier on the way. Here a small "
            "LSTM learns the adding problem, where it must carry a number across half of each "
            "sequence: until its gates hold that memory, it can only guess the mean.",
            8,
            20,
            600,
            0.25,
            "normal",
            0.1,
            "adam",
            {"lr": 0.01},
            32,
            3000,
        ),
        "adversarial": PaperSituation(
            "Adversarially trained network",
            "The paper also trained a network on adversarial "
            "examples: along the straight line its training loss falls without a barrier, nearly "
            "convex, like the others. Here every step trains half on the clean points and half on "
            "their FGSM versions x + \u03b5 sign(\u2207\u2093L), each moved by \u03b5 towards a "
            "higher loss; the line shows the loss on the clean points.",
            (2, 16, 16, 1),
            "tanh",
            "bce",
            "moons",
            400,
            0.1,
            0.25,
            "xavier",
            0.1,
            "adam",
            {"lr": 0.01},
            32,
            3000,
            training={"adversarial_eps": 0.2, "adversarial_clean_weight": 0.5},
        ),
    }


# =================================================================================================
# Challenges
# =================================================================================================


@dataclass(frozen=True)
class ChallengeRun:
    """One optimizer of a challenge. ``clip_norm`` and ``noise``, when not None, replace the
    challenge's; ``schedule`` is ``(name, params)`` for ``make_schedule`` or None (constant)."""

    optimizer: str
    hyper: Mapping[str, Any] = field(default_factory=dict)
    clip_norm: float | None = None
    noise: float | None = None
    schedule: tuple[str, Mapping[str, float]] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.optimizer

    def make_optimizer(self) -> Optimizer:
        return make_optimizer(self.optimizer, **self.hyper)

    def make_schedule(self) -> Schedule | None:
        if self.schedule is None:
            return None
        name, params = self.schedule
        return make_schedule(name, **params)


@dataclass(frozen=True)
class Challenge:
    """A race of optimizers on one test function, showing one difficulty of optimization.

    explanation: two lines (separated by a newline): what happens and why, with ``{{name}}``
    placeholders for numbers that come from the runs (``text`` fills them in). The runs share the
    start, the number of steps, and (unless a run sets its own) clip_norm and noise; noise uses
    the same seed in every run.
    """

    name: str
    title: str
    explanation: str
    function: str
    params: Mapping[str, float]
    start: Point
    runs: tuple[ChallengeRun, ...]
    steps: int
    clip_norm: float = 0.0
    noise: float = 0.0
    seed: int = 0

    def test_function(self) -> TestFunction:
        return get_function(self.function, **self.params)

    @property
    def text(self) -> str:
        """The explanation with the numbers it quotes from its runs: ``{{name}}`` placeholders
        filled from the lessons' numbers.json (``lesson_numbers`` computes them, so showing a
        challenge needs no run); a name that file lacks stays as written."""
        from dlopt_core.course.lesson_numbers import fill_numbers
        from dlopt_core.course.lessons import LessonError

        try:
            return fill_numbers(self.explanation, f"challenge {self.name}")
        except LessonError:
            return self.explanation

    def run(self) -> dict[str, Trajectory]:
        """Every run's trajectory, by its label (in the order of ``runs``)."""
        fn = self.test_function()
        out: dict[str, Trajectory] = {}
        for r in self.runs:
            out[r.name] = trajectory(
                fn,
                r.make_optimizer(),
                self.start,
                self.steps,
                clip_norm=self.clip_norm if r.clip_norm is None else r.clip_norm,
                noise=self.noise if r.noise is None else r.noise,
                seed=self.seed,
                schedule=r.make_schedule(),
            )
        return out


def _plateau_grad_norm(point: Point) -> float:
    return float(np.linalg.norm(_plateau().grad(*point)))


def _challenges() -> dict[str, Challenge]:
    gd_lr, _ = gd_optimal(50.0)
    hb_lr, hb_mom, _ = momentum_optimal(50.0)
    items = (
        Challenge(
            "ill_conditioning",
            "Ill-conditioning",
            "In a narrow valley (Hessian eigenvalues 1 and 50, turned by 30°) the largest stable "
            "step is tiny for the flat direction: gradient descent zig-zags and crawls; momentum "
            "averages the zig-zag out and runs along the valley.\nAdam scales each coordinate on "
            "its own, which cannot straighten a valley that runs across the axes: after 200 "
            "steps it is still at f = {{challenge.ill_adam_f}}, where from the same point of "
            "the valley turned onto the axes it reaches {{challenge.ill_adam_aligned_f}}.",
            "quadratic",
            {"kappa": 50.0, "angle": 30.0},
            (-1.8, 0.2),
            (
                ChallengeRun("sgd", {"lr": round(gd_lr, 4)}, label="GD"),
                ChallengeRun(
                    "momentum",
                    {"lr": round(hb_lr, 4), "momentum": round(hb_mom, 4)},
                    label="Momentum",
                ),
                ChallengeRun("adam", {"lr": 0.05}, label="Adam"),
            ),
            200,
        ),
        Challenge(
            "saddle",
            "Saddle point",
            "Started just off the stable line of the saddle x^2 - y^2, the gradient leads into "
            "the saddle and vanishes there:\ngradient descent stalls for a long time; "
            "momentum builds up speed and Adam rescales the tiny gradient, so both escape.",
            "saddle",
            {},
            (1.5, 1e-6),
            (
                ChallengeRun("sgd", {"lr": 0.05}, label="GD"),
                ChallengeRun("momentum", {"lr": 0.05, "momentum": 0.9}, label="Momentum"),
                ChallengeRun("adam", {"lr": 0.05}, label="Adam"),
            ),
            60,
        ),
        Challenge(
            "plateau",
            "Plateau",
            "Far from the basin the surface is almost flat (like a saturated tanh unit): at the "
            f"start the gradient's norm is {_plateau_grad_norm((3.0, 1.0)):.1e}.\nGradient "
            "descent creeps; Adam divides by the gradient's own size and crosses the plateau at "
            "full speed.",
            "plateau",
            {},
            (3.0, 1.0),
            (
                ChallengeRun("sgd", {"lr": 0.5}, label="GD"),
                ChallengeRun("momentum", {"lr": 0.5, "momentum": 0.9}, label="Momentum"),
                ChallengeRun("adam", {"lr": 0.1}, label="Adam"),
            ),
            150,
        ),
        Challenge(
            "cliff",
            "Cliff and gradient clipping",
            "Momentum rolls down a gentle slope into a wall whose gradient is 60 times larger: "
            "the step on the wall throws the point far back.\nClipping the gradient norm keeps "
            "its direction but bounds the step: the clipped run settles at the foot of the wall.",
            "cliff",
            {},
            (-3.0, 1.0),
            (
                ChallengeRun("momentum", {"lr": 0.1, "momentum": 0.8}, label="Momentum"),
                ChallengeRun(
                    "momentum",
                    {"lr": 0.1, "momentum": 0.8},
                    clip_norm=1.0,
                    label="Momentum, clipped at 1",
                ),
            ),
            150,
        ),
        Challenge(
            "local_minima",
            "Local minima",
            "The six-hump camel has six valleys: started at the rim of a poor one, gradient "
            "descent and a cautious Adam stop in it (f = {{challenge.camel_stuck_f}}).\n"
            "Momentum's speed carries it over the ridge into a global minimum "
            "(f = {{challenge.camel_best_f}}); nothing guarantees that in general.",
            "six_hump_camel",
            {},
            (-2.0, -0.5),
            (
                ChallengeRun("sgd", {"lr": 0.01}, label="GD"),
                ChallengeRun("momentum", {"lr": 0.01, "momentum": 0.9}, label="Momentum"),
                ChallengeRun("adam", {"lr": 0.05}, label="Adam"),
            ),
            300,
        ),
        Challenge(
            "noisy_gradients",
            "Noisy gradients",
            "Mini-batch gradients are noisy: at a constant learning rate SGD never settles, it "
            "hovers in a cloud around the minimum.\nA decaying rate (lr / (1 + k t), "
            "Robbins-Monro) shrinks the cloud; so does less noise (larger batches).",
            "quadratic",
            {"kappa": 4.0, "angle": 0.0},
            (-1.8, 1.2),
            (
                ChallengeRun("sgd", {"lr": 0.1}, label="SGD"),
                ChallengeRun(
                    "sgd",
                    {"lr": 0.1},
                    schedule=("inverse_time", {"k": 0.05}),
                    label="SGD, lr / (1 + 0.05 t)",
                ),
                ChallengeRun("sgd", {"lr": 0.1}, noise=0.5, label="SGD, 4x less noise"),
            ),
            400,
            noise=2.0,
        ),
    )
    return {c.name: c for c in items}


CHALLENGES: dict[str, Challenge] = _challenges()
