"""The course content checked like the numerics.

1. Every display formula of a lesson (the ``>`` lines) is listed in ``FORMULAS`` with the check
   that compares it with the engine's counterpart, or in ``NO_COUNTERPART`` with the reason; a
   formula that is edited, added or removed fails ``test_every_display_formula_is_checked``
   until its entry here is updated.
2. Inline formulas and rules the lessons state (``INLINE``) are checked the same way; each entry
   names a phrase that must still be in the lesson.
3. Numbers quoted from demos are ``{{name}}`` placeholders filled from ``numbers.json``;
   ``test_quoted_numbers_match_the_engine`` recomputes every one of them, and the claims the
   text makes about them (this is larger than that, the edge is reached, ...) are checked on the
   values.
4. Numbers typed in quiz explanations and landscape texts that come from demos are compared with
   the same values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from dlopt_core.course import lesson_numbers as ln
from dlopt_core.course.demos import raw_preset
from dlopt_core.course.lessons import LessonError, default_lessons_dir, load_lessons, load_presets
from dlopt_core.course.network_presets import get_network_presets, hidden_units, train_rows
from dlopt_core.course.quiz import load_bank
from dlopt_core.studies import landscape as ls
from dlopt_core.train.engine import Engine, ModelSpec, TrainConfig
from dlopt_core.train.experiment import Experiment
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer
from dlopt_core.train.schedules import make_schedule
from dlopt_core.train.sharpness import stability_threshold

RNG = np.random.default_rng(20240601)


@pytest.fixture(scope="module")
def lessons() -> dict[str, str]:
    return {lesson.id: lesson.markdown for lesson in load_lessons()}


@pytest.fixture(scope="module")
def numbers() -> dict[str, float]:
    return {name: parse_number(text) for name, text in ln.load_numbers().items()}


_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def parse_number(text: str) -> float:
    """The value of a number as ``lesson_numbers`` writes it: ``1,050,625``, ``−0.5``,
    ``2.4 × 10⁻⁴``, ``58 %``."""
    text = text.replace(",", "").replace("−", "-").strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    if "×" in text:
        mantissa, power = text.split("×")
        return float(mantissa) * 10.0 ** int(power.strip()[2:].translate(_SUPER))
    return float(text)


# =================================================================================================
# Helpers: the engine's rules, one step at a time
# =================================================================================================


def steps_of(optimizer, grads: list[np.ndarray], theta0: np.ndarray) -> list[np.ndarray]:
    """The iterates of ``optimizer`` (the compiled rule) fed with ``grads`` from ``theta0``."""
    theta = np.array(theta0, dtype=np.float64)
    state = optimizer.init(theta)
    out = []
    for g in grads:
        optimizer.step(theta, np.asarray(g, dtype=np.float64), state)
        out.append(theta.copy())
    return out


def iterates_on(grad: Callable[[np.ndarray], np.ndarray], optimizer, theta0, n: int):
    """Iterates of ``optimizer`` with the gradient function ``grad`` (p -> gradient)."""
    theta = np.array(theta0, dtype=np.float64)
    state = optimizer.init(theta)
    out = []
    for _ in range(n):
        optimizer.step(theta, grad(theta), state)
        out.append(theta.copy())
    return out


def quadratic_grad(H: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda p: H @ p


H2 = np.array([[3.0, 1.0], [1.0, 2.0]])


def small_net(activation: str = "tanh", loss: str = "bce"):
    net = Network([3, 5, 1], activation, loss)
    X = RNG.standard_normal((12, 3))
    y = (RNG.random(12) < 0.5).astype(float) if loss == "bce" else RNG.standard_normal(12)
    return net, net.init(3, "xavier"), X, y


# =================================================================================================
# Display formulas
# =================================================================================================


def check_neuron() -> None:
    """z = w·x + b, a = f(z): a 3-1-1 network whose output passes the hidden unit on."""
    x = RNG.standard_normal((6, 3))
    for activation, f in (
        ("tanh", np.tanh),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("relu", lambda z: np.maximum(z, 0.0)),
        ("linear", lambda z: z),
    ):
        net = Network([3, 1, 1], activation, "mse")
        theta = np.zeros(net.n_params)
        (W1, b1), (W2, _) = net.unflatten(theta)
        w, b = RNG.standard_normal(3), 0.3
        W1[:, 0], b1[0], W2[0, 0] = w, b, 1.0
        np.testing.assert_allclose(net.predict(theta, x), f(x @ w + b), rtol=1e-12, atol=1e-12)


def check_argmin() -> None:
    """theta* = argmin f: the search comparison's gradient descent ends at Booth's minimum."""
    from dlopt_core.course.lessons import search_comparison

    gd = search_comparison("booth", 1e-8).results[2]
    assert gd.reached and np.allclose(gd.best_point, (1.0, 3.0), atol=1e-3)


def check_gradient_step() -> None:
    """theta <- theta - eta grad f: the engine's sgd and the Landscape's path on Booth."""
    fn = ls.get_function("booth")
    path = ls.trajectory(fn, "sgd", (-8.0, 8.0), 20, lr=0.05).path
    p = np.array([-8.0, 8.0])
    for t in range(20):
        p = p - 0.05 * np.asarray(fn.grad(*p))
        np.testing.assert_allclose(path[t + 1], p, rtol=1e-12)
    g = RNG.standard_normal(4)
    theta0 = RNG.standard_normal(4)
    np.testing.assert_allclose(
        steps_of(make_optimizer("sgd", lr=0.3), [g], theta0)[0], theta0 - 0.3 * g, rtol=1e-14
    )


def check_cross_entropy() -> None:
    net, theta, X, y = small_net()
    p = net.predict(theta, X)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert net.loss_and_grad(theta, X, y)[0] == pytest.approx(expected, rel=1e-12)


def check_minibatch_gradient() -> None:
    """g = (1/B) sum of the per-example gradients."""
    net, theta, X, y = small_net()
    batch = [0, 3, 4, 9]
    mean = np.mean([net.loss_and_grad(theta, X[[i]], y[[i]])[1] for i in batch], axis=0)
    np.testing.assert_allclose(
        net.loss_and_grad(theta, X[batch], y[batch])[1], mean, rtol=1e-10, atol=1e-14
    )


def check_interpolation_line() -> None:
    net, theta1, X, y = small_net()
    theta0 = net.init(8, "xavier")
    alphas = np.array([-0.5, 0.0, 0.3, 1.0, 1.4])
    line = ls.interpolate(net, theta0, theta1, X, y, alphas=alphas)
    for a, loss in zip(alphas, line.train_loss, strict=True):
        point = (1 - a) * theta0 + a * theta1
        assert loss == pytest.approx(net.loss_and_grad(point, X, y)[0], rel=1e-10)


def check_fgsm_training() -> None:
    """x_adv = x + eps sign(dL/dx) with the input gradient by central differences, and one
    full-batch SGD step of the engine on w L(x) + (1 - w) L(x_adv)."""
    from dlopt_core.data import datasets

    data = datasets.generate("moons", 40, 0.1, 0.0, 2)
    net = Network([2, 5, 1], "tanh", "bce")
    X, y = data.X_train, data.y_train
    eps, w, lr = 0.1, 0.3, 0.5
    engine = Engine(
        net,
        data,
        [ModelSpec(make_optimizer("sgd", lr=lr))],
        TrainConfig(
            batch_size=len(y),
            shuffle=False,
            eval_every=1000,
            adversarial_eps=eps,
            adversarial_clean_weight=w,
        ),
    )
    theta = engine.theta[0].copy()
    h = 1e-6
    dx = np.zeros_like(X)
    for i in range(X.shape[0]):  # the mean loss's gradient in row i, one coordinate at a time
        for k in range(X.shape[1]):
            up, down = X.copy(), X.copy()
            up[i, k] += h
            down[i, k] -= h
            dx[i, k] = (
                net.loss_and_grad(theta, up, y)[0] - net.loss_and_grad(theta, down, y)[0]
            ) / (2 * h)
    X_adv = X + eps * np.sign(dx)
    np.testing.assert_allclose(net.fgsm(theta, X, y, eps), X_adv, rtol=0, atol=1e-15)
    grad = w * net.loss_and_grad(theta, X, y)[1] + (1 - w) * net.loss_and_grad(theta, X_adv, y)[1]
    engine.run(1)
    np.testing.assert_allclose(engine.theta[0], theta - lr * grad, rtol=1e-10, atol=1e-13)


def check_sgd_block() -> None:
    check_minibatch_gradient()
    check_gradient_step()


def check_buffer_rule(name: str) -> None:
    """b <- mu b + g, then theta <- theta - eta b (momentum) or theta - eta (g + mu b)
    (nesterov); torch's first b is g, as mu 0 + g."""
    grads = [RNG.standard_normal(3) for _ in range(6)]
    theta0 = RNG.standard_normal(3)
    got = steps_of(make_optimizer(name, lr=0.1, momentum=0.8), grads, theta0)
    b, theta = np.zeros(3), theta0.copy()
    for g, engine in zip(grads, got, strict=True):
        b = 0.8 * b + g
        theta = theta - 0.1 * ((g + 0.8 * b) if name == "nesterov" else b)
        np.testing.assert_allclose(engine, theta, rtol=1e-12)


def check_momentum_buffer() -> None:
    check_buffer_rule("momentum")


def check_nesterov_buffer() -> None:
    check_buffer_rule("nesterov")


def check_textbook_form(name: str) -> None:
    """The textbook's velocity form gives the engine's iterates (v = -eta b). Heavy ball:
    v <- a v - eps g(theta), theta <- theta + v; Nesterov takes the gradient at the look-ahead
    point theta + a v, and that point is the engine's theta."""
    a = 0.7 if name == "nesterov" else 0.0
    engine = iterates_on(
        quadratic_grad(H2), make_optimizer(name, lr=0.1, momentum=0.7), np.array([1.0, -2.0]), 30
    )
    v, theta = np.zeros(2), np.array([1.0, -2.0])
    for p in engine:
        v = 0.7 * v - 0.1 * (H2 @ (theta + a * v))
        theta = theta + v
        np.testing.assert_allclose(p, theta + a * v, rtol=1e-10, atol=1e-14)


def check_textbook_momentum() -> None:
    check_textbook_form("momentum")


def check_textbook_nesterov() -> None:
    check_textbook_form("nesterov")


def check_gd_rate() -> None:
    """(kappa - 1)/(kappa + 1) at eta = 2/(lmin + lmax): theory and the measured path."""
    for kappa in (10.0, 50.0):
        lr, rate = ls.gd_optimal(kappa)
        assert lr == pytest.approx(2.0 / (1.0 + kappa)) and rate == (kappa - 1) / (kappa + 1)
        path = ls.trajectory(
            ls.get_function("quadratic", kappa=kappa, angle=20.0), "sgd", (-1.8, 0.2), 300, lr=lr
        )
        assert ls.measured_rate(path, (0.0, 0.0)) == pytest.approx(rate, abs=2e-3)


def check_heavy_ball_rate() -> None:
    """(sqrt(kappa) - 1)/(sqrt(kappa) + 1) with Polyak's settings (the lesson writes them out)."""
    for kappa in (10.0, 100.0):
        lr, mu, rate = ls.momentum_optimal(kappa)
        root = math.sqrt(kappa)
        assert lr == pytest.approx(4.0 / (root + 1.0) ** 2)
        assert mu == pytest.approx(((root - 1) / (root + 1)) ** 2)
        assert rate == pytest.approx((root - 1) / (root + 1))
        path = ls.trajectory(
            ls.get_function("quadratic", kappa=kappa, angle=20.0),
            "momentum",
            (-1.8, 0.2),
            300,
            lr=lr,
            momentum=mu,
        )
        # the double root adds a factor linear in t: the measured rate is a little above
        assert rate <= ls.measured_rate(path, (0.0, 0.0)) <= rate + 0.01


def check_adagrad() -> None:
    grads = [RNG.standard_normal(3) for _ in range(5)]
    theta0 = RNG.standard_normal(3)
    got = steps_of(make_optimizer("adagrad", lr=0.5), grads, theta0)
    r, theta = np.zeros(3), theta0.copy()
    for g, engine in zip(grads, got, strict=True):
        r = r + g * g
        theta = theta - 0.5 * g / (np.sqrt(r) + 1e-10)
        np.testing.assert_allclose(engine, theta, rtol=1e-12)


def check_rmsprop() -> None:
    grads = [RNG.standard_normal(3) for _ in range(5)]
    theta0 = RNG.standard_normal(3)
    got = steps_of(make_optimizer("rmsprop", lr=0.01, alpha=0.9), grads, theta0)
    r, theta = np.zeros(3), theta0.copy()
    for g, engine in zip(grads, got, strict=True):
        r = 0.9 * r + 0.1 * g * g
        theta = theta - 0.01 * g / (np.sqrt(r) + 1e-8)
        np.testing.assert_allclose(engine, theta, rtol=1e-12)


def check_adam() -> None:
    grads = [RNG.standard_normal(3) for _ in range(6)]
    theta0 = RNG.standard_normal(3)
    got = steps_of(make_optimizer("adam", lr=0.01), grads, theta0)
    m, v, theta = np.zeros(3), np.zeros(3), theta0.copy()
    for t, (g, engine) in enumerate(zip(grads, got, strict=True), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
        np.testing.assert_allclose(engine, theta, rtol=1e-12)


def check_schedules() -> None:
    lr = 0.3
    step = make_schedule("step", step_size=7, gamma=0.5)
    exponential = make_schedule("exponential", gamma=0.97)
    inverse = make_schedule("inverse_time", k=0.05)
    cosine = make_schedule("cosine", T_max=40, eta_min=0.01)
    for t in range(0, 60, 3):
        assert step(lr, t) == pytest.approx(lr * 0.5 ** (t // 7))
        assert exponential(lr, t) == pytest.approx(lr * 0.97**t)
        assert inverse(lr, t) == pytest.approx(lr / (1 + 0.05 * t))
        if t <= 40:
            expected = 0.01 + (lr - 0.01) * (1 + math.cos(math.pi * t / 40)) / 2
            assert cosine(lr, t) == pytest.approx(expected)


def check_adamw() -> None:
    """theta <- theta (1 - eta lambda), then the Adam step without lambda."""
    theta0 = RNG.standard_normal(3)
    zero = np.zeros(3)
    got = steps_of(make_optimizer("adamw", lr=0.01, weight_decay=0.5), [zero] * 4, theta0)
    np.testing.assert_allclose(got[-1], theta0 * (1 - 0.005) ** 4, rtol=1e-12)
    g = RNG.standard_normal(3)
    decayed = theta0 * (1 - 0.005)
    plain = steps_of(make_optimizer("adam", lr=0.01), [g], decayed)[0]
    np.testing.assert_allclose(
        steps_of(make_optimizer("adamw", lr=0.01, weight_decay=0.5), [g], theta0)[0],
        plain,
        rtol=1e-12,
    )


def check_polyak() -> None:
    """theta_bar <- beta theta_bar + (1 - beta) theta: the engine evaluates that average."""
    from dlopt_core.data import datasets

    data = datasets.generate("moons", 60, 0.1, 0.2, 0)
    net = Network([2, 4, 1])
    engine = Engine(
        net,
        data,
        [ModelSpec(make_optimizer("sgd", lr=0.3))],
        TrainConfig(batch_size=5, polyak=0.9, eval_every=1000),
    )
    average = engine.theta[0].copy()
    for _ in range(25):
        engine.run(1)
        average = 0.9 * average + 0.1 * engine.theta[0]
    np.testing.assert_allclose(engine.eval_theta()[0], average, rtol=1e-10)


FORMULAS: dict[tuple[str, str], Callable[[], None]] = {
    (
        "neural_networks",
        "z = w<sub>1</sub> x<sub>1</sub> + w<sub>2</sub> x<sub>2</sub> + … + "
        "w<sub>n</sub> x<sub>n</sub> + b\na = f(z)",
    ): check_neuron,
    ("what_is_optimization", "θ* = argmin<sub>θ</sub> f(θ)"): check_argmin,
    ("what_is_optimization", "θ ← θ − η ∇f(θ)"): check_gradient_step,
    (
        "dl_vs_pure",
        "L(θ) = −(1/n) Σ<sub>i</sub> [ y<sub>i</sub> log p<sub>i</sub> + (1 − "
        "y<sub>i</sub>) log(1 − p<sub>i</sub>) ]",
    ): check_cross_entropy,
    ("dl_vs_pure", "g = (1/B) Σ<sub>i ∈ batch</sub> ∇L<sub>i</sub>(θ)"): check_minibatch_gradient,
    ("challenges", "θ(α) = (1 − α) θ<sub>0</sub> + α θ<sub>1</sub>"): check_interpolation_line,
    (
        "challenges",
        "x<sub>adv</sub> = x + ε sign(∇<sub>x</sub>L(θ, x))\nL<sub>mix</sub>(θ) = w "
        "L(θ, x) + (1 − w) L(θ, x<sub>adv</sub>)",
    ): check_fgsm_training,
    (
        "basic_algorithms",
        "g = (1/B) Σ<sub>i ∈ batch</sub> ∇L<sub>i</sub>(θ)\nθ ← θ − η g",
    ): check_sgd_block,
    ("basic_algorithms", "b ← μ b + g\nθ ← θ − η b"): check_momentum_buffer,
    ("basic_algorithms", "v ← α v − ε g\nθ ← θ + v"): check_textbook_momentum,
    ("basic_algorithms", "v ← α v − ε ∇L(θ + α v)\nθ ← θ + v"): check_textbook_nesterov,
    ("basic_algorithms", "b ← μ b + g\nθ ← θ − η (g + μ b)"): check_nesterov_buffer,
    ("basic_algorithms", "(κ − 1) / (κ + 1)"): check_gd_rate,
    ("basic_algorithms", "(√κ − 1) / (√κ + 1)"): check_heavy_ball_rate,
    ("adaptive_algorithms", "r ← r + g²\nθ ← θ − η g / (√r + ε)"): check_adagrad,
    ("adaptive_algorithms", "r ← ρ r + (1 − ρ) g²\nθ ← θ − η g / (√r + ε)"): check_rmsprop,
    (
        "adaptive_algorithms",
        "m ← β<sub>1</sub> m + (1 − β<sub>1</sub>) g\nv ← β<sub>2</sub> v + "
        "(1 − β<sub>2</sub>) g²\nm̂ = m / (1 − β<sub>1</sub><sup>t</sup>),   v̂ = v / (1 − "
        "β<sub>2</sub><sup>t</sup>)\nθ ← θ − η m̂ / (√v̂ + ε)",
    ): check_adam,
    (
        "strategies",
        "step decay: η<sub>t</sub> = η γ<sup>⌊t / k⌋</sup>\nexponential: "
        "η<sub>t</sub> = η γ<sup>t</sup>\n1/t decay: η<sub>t</sub> = η / (1 + k t)\ncosine "
        "annealing: η<sub>t</sub> = η<sub>min</sub> + (η − η<sub>min</sub>) (1 + cos(π t / T)) / 2",
    ): check_schedules,
    ("strategies", "θ ← θ (1 − η λ), then the Adam step without λ"): check_adamw,
    ("strategies", "θ̄ ← β θ̄ + (1 − β) θ"): check_polyak,
}
NO_COUNTERPART = {
    (
        "strategies",
        "x̂ = (x − μ<sub>B</sub>) / √(σ<sub>B</sub>² + ε),   y = γ x̂ + β",
    ): "batch normalisation: the simulator does not implement it (the lesson says so)",
}


def display_formulas(markdown: str) -> list[str]:
    """Each block of consecutive ``>`` lines, joined by newlines."""
    blocks, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith(">"):
            current.append(line[1:].strip())
        elif current:
            blocks.append("\n".join(current))
            current = []
    return blocks


def test_every_display_formula_is_checked(lessons):
    found = {(lid, block) for lid, text in lessons.items() for block in display_formulas(text)}
    known = set(FORMULAS) | set(NO_COUNTERPART)
    assert not found - known, f"formulas without a check: {sorted(found - known)}"
    assert not known - found, f"checks of formulas no longer in a lesson: {sorted(known - found)}"


@pytest.mark.parametrize(
    "key", list(FORMULAS), ids=[f"{k[0]}-{FORMULAS[k].__name__[6:]}" for k in FORMULAS]
)
def test_display_formula_matches_the_engine(key):
    FORMULAS[key]()


# =================================================================================================
# Inline formulas and rules
# =================================================================================================


def check_parameter_count() -> None:
    assert Network([2, 8, 1]).n_params == 2 * 8 + 8 + 8 * 1 + 1 == 33


def check_grid_cost() -> None:
    """k^d evaluations: every grid of the comparison is a k x k grid."""
    from dlopt_core.course.lessons import search_comparison

    grid = search_comparison("booth", 1e-1).results[0]
    k = round(math.sqrt(grid.evaluations))
    assert k * k == grid.evaluations and (k - 1) & (k - 2) == 0  # k = 2^j + 1


def check_steps_per_epoch() -> None:
    from dlopt_core.data import datasets

    data = datasets.generate("moons", 250, 0.1, 0.2, 0)  # 200 training rows
    engine = Engine(
        Network([2, 3, 1]),
        data,
        [ModelSpec(make_optimizer("sgd", lr=0.1))],
        TrainConfig(batch_size=20),
    )
    assert engine.steps_per_epoch == 200 // 20


def check_noise_falls_like_root_b() -> None:
    """The spread of mini-batch gradients (rows drawn at random) falls like 1/sqrt(B)."""
    net = Network([2, 6, 1])
    X = RNG.standard_normal((400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    theta = net.init(0)
    full = net.loss_and_grad(theta, X, y)[1]
    rng = np.random.default_rng(1)

    def spread(batch: int) -> float:
        return float(
            np.mean(
                [
                    np.sum((net.loss_and_grad(theta, X[idx], y[idx])[1] - full) ** 2)
                    for idx in (rng.integers(0, 400, batch) for _ in range(300))
                ]
            )
        )

    assert math.sqrt(spread(4) / spread(64)) == pytest.approx(4.0, rel=0.2)


def check_quadratic_stability() -> None:
    """eta < 2/lmax converges, above it diverges; each step multiplies by 1 - eta lambda."""
    fn = ls.get_function("quadratic", kappa=50.0, angle=30.0)
    below = ls.trajectory(fn, "sgd", (-1.8, 0.2), 3000, lr=0.99 * 2 / 50)
    above = ls.trajectory(fn, "sgd", (-1.8, 0.2), 3000, lr=1.01 * 2 / 50)
    assert below.values[-1] < 1e-6 * below.values[0]
    assert above.diverged or above.values[-1] > above.values[0]
    H = ls.quadratic_hessian(50.0, 30.0)
    lam, vecs = np.linalg.eigh(H)
    p0 = vecs[:, 1]
    p1 = ls.trajectory(fn, "sgd", p0, 1, lr=0.03).path[1]
    np.testing.assert_allclose(p1, (1 - 0.03 * lam[1]) * p0, atol=1e-14)


def check_second_order_step() -> None:
    """f(theta - eta g) = f - eta |g|^2 + eta^2/2 g^T H g exactly on a quadratic; too large a
    step raises f."""
    fn = ls.get_function("quadratic", kappa=10.0, angle=25.0)
    H = ls.quadratic_hessian(10.0, 25.0)
    p = np.array([0.7, -1.1])
    g = np.asarray(fn.grad(*p))
    for eta in (0.05, 0.3):
        q = p - eta * g
        assert fn.f(*q) == pytest.approx(fn.f(*p) - eta * g @ g + 0.5 * eta**2 * g @ H @ g)
    assert fn.f(*(p - 0.3 * g)) > fn.f(*p)


def check_clipping() -> None:
    """g <- c g / |g| when |g| > c: the direction is kept and the step is at most eta c."""
    fn = ls.get_function("cliff")
    path = ls.trajectory(fn, "sgd", (-0.6, 0.3), 200, lr=0.1, clip_norm=1.0)
    steps = np.linalg.norm(np.diff(path.path, axis=0), axis=1)
    assert steps.max() <= 0.1 * 1.0 + 1e-12
    assert (path.grad_norms > 1.0).any()  # the clip really acted
    k = int(np.argmax(path.grad_norms))
    g = np.asarray(fn.grad(*path.path[k]))
    np.testing.assert_allclose(
        path.path[k + 1] - path.path[k], -0.1 * g / np.linalg.norm(g), rtol=1e-10
    )


def check_terminal_velocity() -> None:
    """A steady gradient: momentum's steps grow to 1/(1 - mu) times SGD's."""
    got = steps_of(
        make_optimizer("momentum", lr=0.01, momentum=0.9), [np.ones(1)] * 300, np.zeros(1)
    )
    assert got[-2][0] - got[-1][0] == pytest.approx(0.01 / (1 - 0.9), rel=1e-6)


def check_stability_limits() -> None:
    """Heavy ball diverges above eta lambda = 2(1 + mu), Nesterov above 2(1 + mu)/(1 + 2 mu)."""
    for name, limit in (
        ("momentum", lambda mu: 2 * (1 + mu)),
        ("nesterov", lambda mu: 2 * (1 + mu) / (1 + 2 * mu)),
    ):
        for mu in (0.3, 0.6, 0.9):
            bound = limit(mu)
            if name == "momentum":
                assert stability_threshold("momentum", 1.0, mu) == pytest.approx(bound)
            for factor, stable in ((0.98, True), (1.02, False)):
                path = iterates_on(
                    lambda p: np.array([1.0]) * p,  # curvature 1
                    make_optimizer(name, lr=factor * bound, momentum=mu),
                    np.array([1.0]),
                    3000,
                )
                assert (abs(path[-1][0]) < 1.0) == stable, (name, mu, factor)
    assert stability_threshold("sgd", 0.2) == pytest.approx(10.0)


def check_rmsprop_start_and_memory() -> None:
    """The first step is eta / sqrt(1 - rho); with a steady gradient the step is
    eta / sqrt(1 - rho^t): r needs about 1/(1 - rho) steps to catch up."""
    got = steps_of(
        make_optimizer("rmsprop", lr=1.0, alpha=0.99, eps=0.0), [np.ones(1)] * 300, np.zeros(1)
    )
    steps = -np.diff(np.concatenate(([0.0], [p[0] for p in got])))
    assert steps[0] == pytest.approx(1.0 / math.sqrt(1 - 0.99))
    t = np.arange(1, 301)
    np.testing.assert_allclose(steps, 1.0 / np.sqrt(1 - 0.99**t), rtol=1e-10)
    assert 1 - 0.99**100 == pytest.approx(1 - math.exp(-1), abs=0.01)


def check_adam_step_sizes() -> None:
    """Adam's steps: eta at step 1 and for a steady gradient, scale-free, eta times the
    signal-to-noise ratio for a noisy gradient, eta (1 - b1)/sqrt(1 - b2) after a calm, up to
    (1 - b1)/sqrt((1 - b2)(1 - b1^2/b2)) ~ 7.3 eta for a growing one."""
    adam = make_optimizer("adam", lr=1.0, eps=1e-300)

    def steps(gs):
        got = steps_of(adam, [np.array([g]) for g in gs], np.zeros(1))
        return -np.diff(np.concatenate(([0.0], [p[0] for p in got])))

    assert steps([123.0])[0] == pytest.approx(1.0)
    assert steps([2.0] * 50)[-1] == pytest.approx(1.0)
    gs = list(np.random.default_rng(3).standard_normal(30))
    np.testing.assert_allclose(steps(gs), steps([1000.0 * g for g in gs]), rtol=1e-9)
    calm = steps([0.0] * 20_000 + [1.0])[-1]
    assert calm == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-3)
    assert calm == pytest.approx(3.16, abs=0.01)
    ratio = 0.9 / 0.999  # gradients growing by 1/ratio per step
    sup = 0.1 / math.sqrt(0.001 * (1 - 0.81 / 0.999))
    grown = steps([ratio**-k for k in range(6000)]).max()
    assert 7.0 < grown <= sup + 1e-9 and sup == pytest.approx(7.27, abs=0.01)
    rng = np.random.default_rng(0)
    for snr in (0.2, 1.0):
        noisy = steps(list(snr + rng.standard_normal(20_000)))[5000:].mean()
        assert noisy == pytest.approx(snr / math.sqrt(snr**2 + 1), rel=0.1)


def check_l2_and_sgd_decay() -> None:
    """L2: g <- g + lambda theta; for SGD that is the shrink 1 - eta lambda before the step."""
    theta0, g = RNG.standard_normal(3), RNG.standard_normal(3)
    got = steps_of(make_optimizer("sgd", lr=0.1, weight_decay=0.3), [g], theta0)[0]
    np.testing.assert_allclose(got, theta0 - 0.1 * (g + 0.3 * theta0), rtol=1e-14)
    np.testing.assert_allclose(got, theta0 * (1 - 0.1 * 0.3) - 0.1 * g, rtol=1e-14)


def check_l2_inside_adam() -> None:
    """Inside Adam the L2 term is divided by sqrt(v_hat): a weight with large gradients is
    barely decayed, one with small gradients moves by about eta per step; AdamW shrinks both by
    the same fraction."""
    rng = np.random.default_rng(5)
    grads = [np.array([10.0 * rng.standard_normal(), 0.0]) for _ in range(400)]
    theta0 = np.array([1.0, 1.0])
    l2 = steps_of(make_optimizer("adam", lr=1e-3, weight_decay=0.01), grads, theta0)[-1]
    assert 0.8 * 400 * 1e-3 <= 1.0 - l2[1] <= 400 * 1e-3  # about eta a step for the quiet one
    noisy_alone = steps_of(make_optimizer("adam", lr=1e-3), grads, theta0)[-1]
    assert abs(l2[0] - noisy_alone[0]) < 0.02 * abs(1.0 - l2[1])  # the loud one barely
    adamw = steps_of(make_optimizer("adamw", lr=1e-3, weight_decay=0.01), grads, theta0)[-1]
    assert adamw[1] == pytest.approx((1 - 1e-5) ** 400, rel=1e-12)


def check_xavier_and_he() -> None:
    net = Network([50, 100, 1])
    W = net.unflatten(net.init(0, "xavier"))[0][0]
    a = math.sqrt(6.0 / (50 + 100))
    assert np.abs(W).max() <= a and np.abs(W).max() > 0.99 * a
    assert W.var() == pytest.approx(a * a / 3, rel=0.05)
    W = net.unflatten(net.init(0, "he"))[0][0]
    assert W.var() == pytest.approx(2.0 / 50, rel=0.05)


def check_warmup_and_one_cycle() -> None:
    warm = make_schedule("warmup_cosine", warmup=100, T_max=1000)
    for t in (0, 10, 49, 99):
        assert warm(0.1, t) == pytest.approx(0.1 * (t + 1) / 100)
    cycle = make_schedule("one_cycle", total_steps=1000)
    assert cycle(0.1, 0) == pytest.approx(0.1 / 25)
    assert cycle(0.1, 300) == pytest.approx(0.1, rel=1e-3)
    assert cycle(0.1, 999) == pytest.approx(0.1 / (25 * 1e4), rel=1e-3)
    rise = [cycle(0.1, t) for t in range(0, 301, 30)]
    assert rise == sorted(rise)


def check_robbins_monro() -> None:
    """eta / (1 + k t): every tenfold stretch of steps adds about ln(10) / k to the sum of the
    rates (so it grows without bound), while the squares add ten times less each time."""
    schedule = make_schedule("inverse_time", k=1.0)
    rates = schedule(1.0, np.arange(20_000))
    sums = [rates[a : 10 * a].sum() for a in (20, 200, 2000)]
    squares = [(rates[a : 10 * a] ** 2).sum() for a in (20, 200, 2000)]
    assert sums == pytest.approx([math.log(10)] * 3, rel=0.05)
    assert squares[1] == pytest.approx(squares[0] / 10, rel=0.15)
    assert squares[2] == pytest.approx(squares[1] / 10, rel=0.05)


def check_hessian_vector_and_power_iteration() -> None:
    from dlopt_core.train.sharpness import hessian_vector_product, sharpness

    net = Network([2, 1], "linear", "mse")  # least squares: H = 2 X^T X / n exactly
    X = np.column_stack([RNG.standard_normal(30), RNG.standard_normal(30)])
    y = RNG.standard_normal(30)
    Xb = np.column_stack([X, np.ones(30)])
    H = 2.0 * Xb.T @ Xb / 30
    theta = RNG.standard_normal(3)
    v = RNG.standard_normal(3)
    np.testing.assert_allclose(hessian_vector_product(net, theta, X, y, v), H @ v, rtol=1e-6)
    assert sharpness(net, theta, X, y).value == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)


INLINE: dict[tuple[str, str], Callable[[], None]] = {
    ("neural_networks", "2·8 + 8 + 8·1 + 1 = 33"): check_parameter_count,
    ("what_is_optimization", "k<sup>d</sup> evaluations"): check_grid_cost,
    ("dl_vs_pure", "n / B steps"): check_steps_per_epoch,
    ("dl_vs_pure", "falls only like 1/√B"): check_noise_falls_like_root_b,
    ("challenges", "multiplies the error by 1 − ηλ"): check_quadratic_stability,
    ("challenges", "½ η² gᵀHg"): check_second_order_step,
    ("challenges", "replace g by c g / ‖g‖"): check_clipping,
    ("challenges", "(∇L(θ + hv) − ∇L(θ − hv)) / 2h"): check_hessian_vector_and_power_iteration,
    ("basic_algorithms", "1 / (1 − μ) times the plain SGD step"): check_terminal_velocity,
    ("basic_algorithms", "2(1 + μ)/(1 + 2μ), against 2(1 + μ)"): check_stability_limits,
    ("basic_algorithms", "η<sub>t</sub> = η / (1 + k t)"): check_robbins_monro,
    ("adaptive_algorithms", "η / √(1 − ρ)"): check_rmsprop_start_and_memory,
    ("adaptive_algorithms", "≈ 3.2 η"): check_adam_step_sizes,
    ("strategies", "√(6 / (n<sub>in</sub> + n<sub>out</sub>))"): check_xavier_and_he,
    ("strategies", "η (t + 1) / W"): check_warmup_and_one_cycle,
    ("strategies", "g ← g + λ θ"): check_l2_and_sgd_decay,
    ("strategies", "divided by √v̂"): check_l2_inside_adam,
}


@pytest.mark.parametrize(
    "key", list(INLINE), ids=[f"{k[0]}-{INLINE[k].__name__[6:]}" for k in INLINE]
)
def test_inline_formula_matches_the_engine(key, lessons):
    lesson_id, phrase = key
    assert phrase in lessons[lesson_id], f"{lesson_id} no longer says {phrase!r}"
    INLINE[key]()


# =================================================================================================
# Quoted numbers and the claims made about them
# =================================================================================================


def test_quoted_numbers_match_the_engine():
    """numbers.json is what the engine gives now (rerun python -m dlopt_core.course.lesson_numbers
    after changing a preset or the engine, and reread the text around the numbers)."""
    assert ln.compute_numbers() == ln.load_numbers()


def test_every_placeholder_names_a_number():
    stored = ln.load_numbers()
    texts = [p.read_text(encoding="utf-8") for p in default_lessons_dir().glob("*.md")]
    texts.append((default_lessons_dir() / "presets.json").read_text(encoding="utf-8"))
    used = {name for text in texts for name in ln.placeholders(text)}
    assert used and used <= set(stored), sorted(used - set(stored))
    for lesson in load_lessons():
        assert "{{" not in lesson.markdown and "{{" not in lesson.html, lesson.id
    for preset in load_presets().values():
        assert "{{" not in preset.description, preset.id
    for name, challenge in ls.get_challenges().items():  # the Landscape's challenges quote runs too
        assert set(ln.placeholders(challenge.explanation)) <= set(stored), name
        assert "{{" not in challenge.text, name
    for name, situation in get_network_presets().items():  # and its network situations
        assert set(ln.placeholders(situation.explanation)) <= set(stored), name
        assert "{{" not in situation.text, name


def test_the_network_situations_type_no_number_of_a_run():
    """Every number in a network situation's text is a placeholder of a computed one, a number
    of its own configuration, or the constant log 2 = 0.693 of the all-zero network."""
    for name, situation in get_network_presets().items():
        typed = re.findall(r"\d+(?:\.\d+)?", ln.PLACEHOLDER.sub("", situation.explanation))
        config = situation.config
        allowed = {
            f"{v:g}"
            for v in (
                train_rows(config),
                hidden_units(config),
                config["training"]["batch_size"],
                *(o["lr"] for o in situation.optimizers),
            )
        }
        allowed |= {"2", "0.693", "0.5"} if name == "bad_init" else set()
        assert set(typed) <= allowed, (name, set(typed) - allowed)


def test_the_full_batch_variant_uses_every_training_row():
    """The situations file types the full batch's size: it is the training set's."""
    situation = get_network_presets()["minibatch_noise"]
    full = dict(situation.variants)[f"full batch ({train_rows(situation.config)})"]
    assert full["training"]["batch_size"] == train_rows(situation.config)


def test_an_unknown_placeholder_names_the_file(tmp_path):
    (tmp_path / "numbers.json").write_text('{"a.b": "1.5"}', encoding="utf-8")
    assert ln.fill_numbers("x {{a.b}} y", "t.md", tmp_path) == "x 1.5 y"
    with pytest.raises(LessonError, match=r"t\.md: unknown number \{\{a\.c\}\}"):
        ln.fill_numbers("x {{a.c}}", "t.md", tmp_path)
    assert ln.fill_numbers("no placeholder", "t.md", tmp_path / "none") == "no placeholder"


def test_number_formats():
    assert ln.sci(2.4e-4) == "2.4 × 10⁻⁴" and ln.sci(0.0583) == "0.058"
    assert ln.sci(9.99e-5) == "1.0 × 10⁻⁴" and ln.sci(2e110, 1) == "2 × 10¹¹⁰"
    assert ln.count(1050625) == "1,050,625" and ln.fixed(-0.5, 2) == "−0.50"
    assert ln.percent(0.575) == "57 %" or ln.percent(0.575) == "58 %"
    for text in ("2.4 × 10⁻⁴", "1,050,625", "−0.50", "58 %"):
        assert math.isfinite(parse_number(text))


def test_claims_about_the_demos(numbers):
    n = numbers
    # lesson 2: each tenfold tightening costs gradient descent the same number of evaluations
    gd = [
        n["search.booth_t1_gradient"],
        n["search.booth_t3_gradient"],
        n["search.booth_t4_gradient"],
    ]
    assert (gd[1] - gd[0]) / 2 == pytest.approx(gd[2] - gd[1], rel=0.15)
    assert n["search.booth_t1_grid"] > 10 * gd[0] and n["search.booth_t3_random"] > 1000 * gd[1]
    assert n["search.booth_t4_random"] >= 1e6 - 1 and n["search.booth_t4_grid"] > 1e6
    # plateau: a tiny gradient and a tiny GD step
    assert n["plateau.grad"] < 1e-3 and n["plateau.gd_step"] == pytest.approx(
        0.5 * n["plateau.grad"], rel=0.06
    )
    # momentum and Nesterov at equal settings both beat GD, Nesterov a little more
    assert n["valley.nesterov_rate"] < n["valley.momentum_rate"] < n["valley.gd_rate"]
    # rates at kappa = 100: measured against theory; steps for 1e-6
    assert n["rates.gd_measured"] == pytest.approx(n["rates.gd_theory"], abs=2e-3)
    assert n["rates.hb_theory"] <= n["rates.hb_measured"] <= n["rates.hb_theory"] + 0.01
    assert n["rates.gd_steps"] > 9 * n["rates.hb_steps"]
    assert n["nesterov.nesterov_growth"] > 1.0  # Nesterov diverges at heavy ball's optimum
    # Adam: independent of kappa along the axes, growing with kappa when turned
    aligned = [n[f"adam_valley.aligned_{k}"] for k in (10, 100, 1000)]
    rotated = [n[f"adam_valley.rotated_{k}"] for k in (10, 100, 1000)]
    gd_steps = [n[f"adam_valley.gd_{k}"] for k in (10, 100, 1000)]
    assert max(aligned) <= 1.05 * min(aligned)
    assert rotated == sorted(rotated) and rotated[-1] > 2.5 * rotated[0]
    assert all(r > a for r, a in zip(rotated, aligned, strict=True))
    assert gd_steps[0] < aligned[0] and gd_steps[-1] > rotated[-1]  # GD wins only when easy
    # the interpolation lines (the claims about their whole shape are checked below)
    assert n["interp.relu_0"] > n["interp.relu_5"] > n["interp.relu_10"] > n["interp.relu_100"]
    assert n["interp.relu_argmin"] > 1.0
    assert n["interp.linear_25"] > 0.95 * n["interp.linear_0"]
    assert n["interp.linear_100"] < 0.1 * n["interp.linear_0"]
    assert n["interp.linear_takeoff"] >= 1000
    assert n["interp.lstm_0"] == pytest.approx(1 / 6, rel=0.1)  # guessing the mean
    assert n["interp.lstm_50"] > 0.95 * n["interp.lstm_0"] and n["interp.lstm_plateau"] > 0.4
    assert n["interp.lstm_100"] < 0.01 * n["interp.lstm_0"]
    assert (
        n["interp.adv_0"] > n["interp.adv_25"] > n["interp.adv_50"] > n["interp.adv_100"]
        and n["interp.adv_100"] < 0.15 * n["interp.adv_0"]
    )
    assert n["interp.adv_plateau"] < 0.1  # no plateau: it falls from the start
    assert n["interp.adv_eps"] == ls.paper_situations()["adversarial"].adversarial_eps
    # adversarial training pays on the FGSM inputs; both networks classify clean points well
    assert n["interp.adv_fgsm_right"] > n["interp.adv_clean_fgsm_right"] + 0.1
    assert n["interp.adv_fgsm_loss"] < 0.3 * n["interp.adv_clean_fgsm_loss"]
    assert min(n["interp.adv_val_right"], n["interp.adv_clean_val_right"]) >= 0.95
    # edge of stability: below the edge at the start, past it, then at it
    assert n["eos.start"] < n["eos.threshold"] < n["eos.peak"]
    assert n["eos.final"] == pytest.approx(n["eos.threshold"], rel=0.02)
    assert n["eos.spike"] > 3 * n["eos.spike_before"]  # a jump, not round-off: chaotic here
    # initialisation
    assert n["init.small_reach"] > 5 * n["init.small_xavier_reach"]
    assert n["init.saturated_share"] > 0.5
    assert n["init.saturated_loss"] > 3 * n["init.xavier_loss"]
    assert n["init.saturated_val"] > 2 * n["init.xavier_val"]
    # overfitting and early stopping (patience 20 evaluations of 10 steps)
    assert n["overfit.best_step"] >= 100 and n["overfit.final_val"] > 1.5 * n["overfit.best_val"]
    assert n["overfit.final_train"] < 0.01
    assert n["overfit.stop_step"] == n["overfit.best_step"] + 200
    # the Landscape's network situations: the all-zero network stays at log 2; at the largest
    # rate most ReLUs die and the loss stays near chance, far above the smaller rates' runs
    assert n["network.zeros_loss"] == pytest.approx(math.log(2.0), abs=0.01)
    relu = get_network_presets()["dying_relu"]
    assert n["network.relu_dead_2"] > hidden_units(relu.config) / 2
    assert n["network.relu_dead_0"] <= n["network.relu_dead_1"] < n["network.relu_dead_2"]
    assert (
        n["network.relu_loss_2"] > 0.6 > 5 * max(n["network.relu_loss_0"], n["network.relu_loss_1"])
    )
    # batch size: four times the batch and the rate, about four times the progress per step
    assert 2.5 < n["batch.small_reach"] / n["batch.large_reach"] < 6
    # warm-up: the catapult without it, too sharp with it
    assert n["warmup.cold_10"] < n["warmup.threshold"] < n["warmup.start"] < n["warmup.warm_end"]
    # weight decay
    assert n["wd.adam_l2"] < n["wd.adamw_large"] < n["wd.adamw_small"] <= n["wd.adam"] + 0.2
    # the ill_conditioning challenge: Adam, still far from the minimum in the turned valley,
    # gets there from the same point when the valley lies along the axes
    assert n["challenge.ill_adam_f"] > 0.01 and n["challenge.ill_adam_aligned_f"] < 1e-6
    assert n["challenge.camel_stuck_f"] > n["challenge.camel_best_f"] + 1.0
    # trainability maps: the whole map's edge looks like a line, the zoomed one is ragged
    assert 0.3 < n["fractal.trainable"] < 0.7 and abs(n["fractal.dimension"] - 1.0) < 0.15
    assert n["fractal.zoom_dimension"] > n["fractal.dimension"] + 0.2
    assert n["fractal.box_min"] == 1 and n["fractal.zoom_box_max"] >= 4


def test_the_ill_conditioning_challenge_shows_what_its_text_says():
    """GD crawls, momentum runs along the valley, and Adam, which its text singles out, ends
    the slowest of the three at the f its text quotes."""
    ch = ls.get_challenges()["ill_conditioning"]
    runs = ch.run()
    final = {label: float(tr.values[-1]) for label, tr in runs.items()}
    assert final["Momentum"] < final["GD"] < final["Adam"]
    assert final["Adam"] > 1e3 * final["GD"]
    assert ln.sci(final["Adam"]) in ch.text and "turned by 30°" in ch.text
    assert ch.params["angle"] == 30.0 and ch.steps == 200 and "200 steps" in ch.text


def test_the_interpolation_lines_have_the_shapes_the_text_describes():
    from dlopt_core.studies.landscape import (
        interpolate,
        line_shape,
        paper_situations,
        trace_training,
    )

    for key in ("lstm", "adversarial", "relu_net", "deep_linear"):
        path = trace_training(paper_situations()[key], snapshots=1)
        line = interpolate(path.model, path.thetas[0], path.thetas[-1], path.X, path.y)
        inside = (line.alphas >= 0) & (line.alphas <= 1)
        seg = line.train_loss[inside]
        assert line_shape(line.alphas, line.train_loss).monotone, key  # no barrier
        drops = -np.diff(seg)
        if key == "relu_net":  # falls all the way, fastest at the start, ever more slowly
            assert np.all(drops >= 0)
            assert np.argmax(drops) <= 2 and drops[:4].mean() > 3 * drops[-4:].mean()
        elif key == "adversarial":  # convex: each step of alpha gains less than the one before
            assert np.all(drops > 0) and np.all(np.diff(drops) < 0)
        else:  # flat start (to alpha 0.5 for the LSTM, 0.25 for the linear model), drop later
            flat = seg[line.alphas[inside] <= (0.5 if key == "lstm" else 0.25)]
            assert abs(flat - seg[0]).max() < 0.05 * seg[0] and np.argmax(drops) >= 10, key
    text = ls.paper_situations()["relu_net"].explanation
    assert "fastest at the start" in text and "flat start" not in text


def test_the_sharpness_hovers_at_the_edge_in_the_demo():
    from dlopt_core.train.sharpness import track_sharpness

    raw = raw_preset("edge_of_stability")["experiment"]
    trace = track_sharpness(raw, 4000, every=50)
    edge = trace.threshold[0]
    crossed = int(np.argmax(trace.sharpness > edge))
    assert crossed > 0 and trace.sharpness[0] < edge
    after = trace.sharpness[crossed:]
    assert np.all(np.abs(after - edge) < 0.25 * edge)  # hovers around 2/eta
    assert np.all(np.abs(after[-20:] - edge) < 0.02 * edge)  # and settles there
    losses = trace.train_loss
    assert losses[-1] < 0.2 * losses[0] and np.any(np.diff(losses) > 0)  # falls, with jumps


def test_the_adaptive_race_moves_as_its_explanation_says():
    """experiment-adaptive-race: SGD's steps are tiny, AdaGrad's shrink to SGD's size, Adam's
    stay a sizeable fraction of eta and it travels more than ten times as far."""
    from dlopt_core.course.lessons import model_specs

    question = load_bank().by_id("experiment-adaptive-race")
    specs = model_specs(question.compute["models"])
    _, _, engine = Experiment.from_dict(question.preset).build(models=specs)
    labels = [s.label for s in specs]

    def moves(n: int) -> np.ndarray:
        """Mean |step| per weight over the next n steps, in units of eta, per model."""
        out = []
        for _ in range(n):
            previous = engine.theta.copy()
            engine.run(1)
            out.append(np.abs(engine.theta - previous).mean(axis=1))
        return np.mean(out, axis=0) / 0.01

    early = moves(10)
    engine.run(890)
    late = moves(100)  # steps 900 to 1000
    sgd, adagrad, adam = (labels.index(x) for x in ("SGD", "AdaGrad", "Adam"))
    assert early[sgd] < 0.1 and late[sgd] < 0.1
    assert early[adagrad] > 5 * late[adagrad] and late[adagrad] <= late[sgd]
    assert early[adam] > 0.1 and late[adam] > 0.1
    travel = np.abs(engine.theta - engine.theta_init).mean(axis=1)
    assert travel[adam] > 10 * max(travel[sgd], travel[adagrad])
    assert "no longer than SGD's" in question.explanation


def test_numbers_typed_outside_the_lessons_match(numbers):
    """Quiz explanations and the Landscape's challenge text quote demo numbers too."""
    stored = ln.load_numbers()
    rotated = load_bank().by_id("adam-rotated-valley").explanation
    for name in (
        "adam_valley.aligned_10",
        "adam_valley.rotated_1000",
        "adam_valley.gd_10",
        "adam_valley.gd_1000",
    ):
        assert stored[name] in rotated, name
    plateau = ls.get_challenges()["plateau"].explanation
    assert f"{numbers['plateau.grad']:.1e}" in plateau
    edge = load_bank().by_id("edge-of-stability-value")
    assert edge.answer == pytest.approx(stability_threshold("sgd", 0.05))
    # experiment-sgd-diverges: "curves with about lambda = 2 ... |1 - eta lambda| ~ 9"
    from dlopt_core.train.sharpness import sharpness

    diverges = load_bank().by_id("experiment-sgd-diverges")
    _, net, engine = Experiment.from_dict(diverges.preset).build()
    lam = sharpness(net, engine.theta[0], engine.X, engine.Y).value
    assert lam == pytest.approx(2.0, rel=0.05) and abs(1 - 5.0 * lam) == pytest.approx(9, abs=0.5)
    assert "λ = 2" in diverges.explanation and "≈ 9" in diverges.explanation


def test_presets_use_the_settings_their_texts_name():
    presets = load_presets()
    rates = presets["rates_kappa100"].optimizers
    gd_lr, _ = ls.gd_optimal(100.0)
    hb_lr, hb_mu, _ = ls.momentum_optimal(100.0)
    assert rates[0]["lr"] == pytest.approx(gd_lr, abs=1e-6)
    assert rates[1]["lr"] == pytest.approx(hb_lr, abs=1e-6)
    assert rates[1]["momentum"] == pytest.approx(hb_mu, abs=1e-6)
    for pid in ("adam_valley_aligned", "adam_valley_rotated"):
        preset = presets[pid]
        kappa = preset.function_params["kappa"]
        angle = math.radians(preset.function_params["angle"])
        u = math.sqrt(2.0) * math.cos(4.13)
        v = math.sqrt(2.0 / kappa) * math.sin(4.13)
        start = (
            math.cos(angle) * u - math.sin(angle) * v,
            math.sin(angle) * u + math.cos(angle) * v,
        )
        np.testing.assert_allclose(preset.start, start, atol=2e-6)
        assert preset.optimizers[1]["lr"] == pytest.approx(2 / (1 + kappa), abs=1e-6)
    valley = presets["valley_momentum"].optimizers
    assert valley[1]["lr"] == valley[2]["lr"] and valley[1]["momentum"] == valley[2]["momentum"], (
        "momentum and Nesterov are compared at equal settings"
    )
    assert valley[0]["lr"] == pytest.approx(ls.gd_optimal(50.0)[0], abs=1e-4)
    batch = presets["batch_scaling"].experiment
    assert batch["training"]["batch_size"] == 4 * 10 and batch["optimizer"]["lr"] == 4 * 0.05


def test_the_initialisation_claims_hold_over_seeds():
    """Lesson 7 and the saturated_init preset: weights of std 4 start with a far higher loss
    and saturate most units, yet (in this small network) train faster than Xavier."""
    from dlopt_core.train.experiment import merge_patch

    raw = raw_preset("saturated_init")["experiment"]
    for seed in range(6):
        runs = {}
        for tag, patch in (("saturated", {}), ("xavier", {"network": {"init": "xavier"}})):
            experiment = merge_patch(raw, {**patch, "seed": seed, "data": {"seed": seed}})
            _, net, engine = Experiment.from_dict(experiment).build()
            start = net.loss_and_grad(engine.theta[0], engine.X, engine.Y)[0]
            hidden = np.concatenate(
                [np.abs(h).ravel() for h in net.hidden_outputs(engine.theta[0], engine.X)]
            )
            engine.run(raw["max_steps"])
            runs[tag] = (
                start,
                np.mean(hidden > 0.96),
                int(engine.history.steps_to_reach(0.3, "train_loss")[0]),
            )
        (s_start, s_share, s_reach), (x_start, x_share, x_reach) = runs["saturated"], runs["xavier"]
        assert s_start > 2 * x_start and s_share > 0.4 and x_share < 0.05, seed
        assert 0 <= s_reach < x_reach, seed


def test_the_landscape_bad_initialisation_text_holds_over_seeds():
    """The Landscape tab's bad_init situation: far too large weights give a huge initial loss and
    a fit whose validation loss ends far higher than Xavier's (not a slow one)."""
    from dlopt_core.train.experiment import merge_patch

    preset = get_network_presets()["bad_init"]
    assert "jagged fit" in preset.explanation and "slow" not in preset.explanation
    for seed in range(3):
        runs = {}
        for label in ("too large, N(0, 5\u00b2)", "Xavier (good)"):
            config = merge_patch(
                preset.experiment_dict(label), {"seed": seed, "data": {"seed": seed}}
            )
            _, net, engine = Experiment.from_dict(config).build()
            start = net.loss_and_grad(engine.theta[0], engine.X, engine.Y)[0]
            engine.run(config["max_steps"])
            runs[label[:3]] = (start, float(engine.history.field("val_loss", 0)[-1]))
        assert runs["too"][0] > 5 * runs["Xav"][0] and runs["too"][1] > 1.5 * runs["Xav"][1]
