"""2-D test functions for the Landscape tab: each ``TestFunction`` has a value ``f(x, y)`` and an
analytic gradient ``grad(x, y)``; both take scalars or broadcastable arrays, so the same call serves
one point and a whole grid (``f_grid``). ``grad`` returns an array of shape ``(2, ...)``:
``grad(x, y)[0]`` is df/dx and ``grad(x, y)[1]`` is df/dy.

``FUNCTIONS`` holds one of each with its default parameters; ``get_function`` builds one with
others (the quadratic's condition number and angle, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Bounds = tuple[tuple[float, float], tuple[float, float]]
Point = tuple[float, float]
ArrayLike = float | np.ndarray


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


def as_function(function: str | TestFunction) -> TestFunction:
    return get_function(function) if isinstance(function, str) else function


def f_grid(
    fn: str | TestFunction, n: int = 200, bounds: Bounds | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, ys, Z)`` for a heat map: n points per axis over ``bounds`` (default the function's),
    ``Z[i, j] = f(xs[j], ys[i])`` (rows follow y, as ``numpy.meshgrid``'s default)."""
    fn = as_function(fn)
    (x0, x1), (y0, y1) = bounds or fn.bounds
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.asarray(fn.f(xs[None, :], ys[:, None]), dtype=np.float64)
    return xs, ys, Z
