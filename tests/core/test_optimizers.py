"""Every optimizer against an independent NumPy reference of the torch.optim algorithms.

The references below are written from the documented ``torch.optim`` pseudo-code (and the
textbook forms), not from ``dlopt_core``: they share no code with the module under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlopt_core.train.optimizers import OPTIMIZERS, make_optimizer

RTOL, ATOL = 1e-10, 1e-12
N_STEPS = 60
DIM = 7


# --------------------------------------------------------------------------- reference optimizers


class RefOptimizer:
    """torch.optim-style reference: ``step(theta, g, lr)`` returns the new theta (a copy)."""

    def __init__(self, name: str, **hyper):
        self.name = name
        self.h = hyper
        self.t = 0
        self.state: dict[str, np.ndarray | float] = {}

    def step(self, theta: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        self.t += 1
        t = self.t
        h = self.h
        s = self.state
        theta = theta.copy()
        g = g.copy()
        name = self.name
        wd = h.get("weight_decay", 0.0)
        if name == "lion":  # Chen et al. 2023, Algorithm 2 (decoupled weight decay)
            b1, b2 = h["betas"]
            m = s.get("m", np.zeros_like(theta))
            c = b1 * m + (1.0 - b1) * g
            theta = theta - lr * (np.sign(c) + wd * theta)
            s["m"] = b2 * m + (1.0 - b2) * g
            return theta
        if name == "adamw":
            theta = theta * (1.0 - lr * wd)  # decoupled decay, before the Adam step
        elif wd != 0.0:
            g = g + wd * theta  # coupled L2 decay

        if name == "sgd":
            return theta - lr * g

        if name in ("momentum", "nesterov"):
            mu = h["momentum"]
            damp = h.get("dampening", 0.0)
            if mu == 0.0:
                return theta - lr * g
            if t == 1:
                s["buf"] = g.copy()  # torch: the buffer starts at the first gradient
            else:
                s["buf"] = mu * s["buf"] + (1.0 - damp) * g
            d = g + mu * s["buf"] if name == "nesterov" else s["buf"]
            return theta - lr * d

        if name == "adagrad":
            if t == 1:
                s["sum"] = np.full_like(theta, h["initial_accumulator_value"])
            clr = lr / (1.0 + (t - 1) * h["lr_decay"])
            s["sum"] = s["sum"] + g * g
            return theta - clr * g / (np.sqrt(s["sum"]) + h["eps"])

        if name == "rmsprop":
            a = h["alpha"]
            if t == 1:
                s["sq"] = np.zeros_like(theta)
                s["gavg"] = np.zeros_like(theta)
                s["buf"] = np.zeros_like(theta)
            s["sq"] = a * s["sq"] + (1.0 - a) * g * g
            if h["centered"]:
                s["gavg"] = a * s["gavg"] + (1.0 - a) * g
                avg = np.sqrt(s["sq"] - s["gavg"] ** 2) + h["eps"]
            else:
                avg = np.sqrt(s["sq"]) + h["eps"]
            if h["momentum"] > 0.0:
                s["buf"] = h["momentum"] * s["buf"] + g / avg
                return theta - lr * s["buf"]
            return theta - lr * g / avg

        if name == "adadelta":
            rho, eps = h["rho"], h["eps"]
            if t == 1:
                s["sq"] = np.zeros_like(theta)
                s["acc"] = np.zeros_like(theta)
            s["sq"] = rho * s["sq"] + (1.0 - rho) * g * g
            delta = np.sqrt(s["acc"] + eps) / np.sqrt(s["sq"] + eps) * g
            s["acc"] = rho * s["acc"] + (1.0 - rho) * delta * delta
            return theta - lr * delta

        b1, b2 = h["betas"]
        eps = h["eps"]
        if t == 1:
            s["m"] = np.zeros_like(theta)
            s["v"] = np.zeros_like(theta)
            s["vmax"] = np.zeros_like(theta)
            s["u"] = np.zeros_like(theta)
            s["mu_prod"] = 1.0
        s["m"] = b1 * s["m"] + (1.0 - b1) * g

        if name == "adamax":
            s["u"] = np.maximum(b2 * s["u"], np.abs(g) + eps)
            return theta - lr / (1.0 - b1**t) * s["m"] / s["u"]

        s["v"] = b2 * s["v"] + (1.0 - b2) * g * g

        if name == "nadam":
            psi = h["momentum_decay"]
            mu_t = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            s["mu_prod"] = s["mu_prod"] * mu_t
            prod = s["mu_prod"]
            denom = np.sqrt(s["v"] / (1.0 - b2**t)) + eps
            theta = theta - lr * (1.0 - mu_t) / (1.0 - prod) * g / denom
            theta = theta - lr * mu_next / (1.0 - prod * mu_next) * s["m"] / denom
            return theta

        # adam / amsgrad / adamw: textbook bias-corrected moments
        amsgrad = name == "amsgrad" or h.get("amsgrad", False)
        m_hat = s["m"] / (1.0 - b1**t)
        if amsgrad:
            s["vmax"] = np.maximum(s["vmax"], s["v"])
            v_hat = s["vmax"] / (1.0 - b2**t)
        else:
            v_hat = s["v"] / (1.0 - b2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


# torch.optim defaults (sgd's lr is torch 2.x's 1e-3; momentum/nesterov use momentum 0.9 here)
TORCH_DEFAULTS = {
    "sgd": {"lr": 1e-3, "weight_decay": 0.0},
    "momentum": {"lr": 1e-3, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "nesterov": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {
        "lr": 1e-2,
        "lr_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
        "weight_decay": 0.0,
    },
    "rmsprop": {
        "lr": 1e-2,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0.0,
        "centered": False,
        "weight_decay": 0.0,
    },
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    "adamax": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "nadam": {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
    },
    "amsgrad": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 1e-2,
        "amsgrad": False,
    },
    # not in torch.optim: the paper's betas, a rate ten times below Adam's, no decay
    "lion": {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0},
}


def ref_for(name: str, **hyper) -> RefOptimizer:
    return RefOptimizer(name, **{**TORCH_DEFAULTS[name], **hyper})


# --------------------------------------------------------------------------- gradient sequence


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(DIM, DIM))
    A = M @ M.T / DIM + 0.5 * np.eye(DIM) + 0.3 * rng.normal(size=(DIM, DIM))  # not symmetric
    c = rng.uniform(0.5, 2.0, size=DIM)
    theta0 = rng.normal(size=DIM) * 1.5
    return A, c, theta0


A_MAT, C_VEC, THETA0 = _problem()


def grad_at(theta: np.ndarray, t: int) -> np.ndarray:
    """Gradient of a fixed non-quadratic objective plus per-step noise whose scale varies with t.

    The varying scale makes the second moment rise and fall (so AMSGrad's max differs from Adam).
    """
    noise = np.random.default_rng(1000 + t).normal(size=DIM)
    scale = 1.0 + 0.9 * math.sin(t / 4.0)
    return A_MAT @ theta + C_VEC * np.sin(3.0 * theta) + scale * noise


def run_both(name, hyper, n_steps=N_STEPS, lrs=None):
    """Run module and reference side by side; compare theta after every step."""
    opt = make_optimizer(name, **hyper)
    ref = ref_for(name, **hyper)
    theta = THETA0.copy()
    theta_ref = THETA0.copy()
    state = opt.init(theta)
    base_lr = opt.lr
    for t in range(n_steps):
        g = grad_at(theta_ref, t)
        if lrs is None:
            opt.step(theta, g.copy(), state)
            theta_ref = ref.step(theta_ref, g, base_lr)
        else:
            opt.step(theta, g.copy(), state, lr=lrs[t])
            theta_ref = ref.step(theta_ref, g, lrs[t])
        np.testing.assert_allclose(
            theta,
            theta_ref,
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"{name} {hyper}: theta differs after step {t + 1}",
        )
        assert np.all(np.isfinite(theta))
    assert state.step_count == n_steps
    return theta


CASES = [
    ("sgd", {}),
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.02, "weight_decay": 0.1}),
    ("momentum", {}),
    ("momentum", {"lr": 0.01, "momentum": 0.5}),
    ("momentum", {"lr": 0.01, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("momentum", {"lr": 0.02, "momentum": 0.0}),
    ("momentum", {"lr": 0.01, "momentum": 0.8, "dampening": 1.0}),
    ("nesterov", {}),
    ("nesterov", {"lr": 0.01, "momentum": 0.7, "weight_decay": 0.05}),
    ("nesterov", {"lr": 0.02, "momentum": 0.95}),
    ("adagrad", {}),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-6, "weight_decay": 0.02}),
    (
        "adagrad",
        {"lr": 0.2, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.1},
    ),
    ("rmsprop", {}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.9, "lr": 0.002}),
    (
        "rmsprop",
        {
            "centered": True,
            "momentum": 0.5,
            "alpha": 0.9,
            "eps": 1e-6,
            "weight_decay": 0.05,
            "lr": 0.005,
        },
    ),
    ("rmsprop", {"alpha": 0.5, "weight_decay": 0.01}),
    ("adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1}),
    ("adadelta", {"rho": 0.5}),
    ("adam", {}),
    ("adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ("adam", {"lr": 0.01, "amsgrad": True}),
    ("adam", {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1, "eps": 1e-6, "betas": (0.5, 0.9)}),
    ("adam", {"lr": 0.01, "betas": (0.0, 0.0), "weight_decay": 0.01}),
    ("adamax", {}),
    ("adamax", {"lr": 0.01, "betas": (0.7, 0.95), "weight_decay": 0.05, "eps": 1e-4}),
    ("nadam", {}),
    ("nadam", {"lr": 0.01, "momentum_decay": 0.01, "betas": (0.85, 0.99), "weight_decay": 0.05}),
    ("nadam", {"lr": 0.01, "momentum_decay": 0.0}),
    ("amsgrad", {}),
    ("amsgrad", {"lr": 0.01, "weight_decay": 0.05, "betas": (0.9, 0.95)}),
    ("adamw", {}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.2}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.0, "betas": (0.6, 0.9), "eps": 1e-5}),
    ("lion", {}),
    ("lion", {"lr": 0.01, "weight_decay": 0.5}),
    ("lion", {"lr": 3e-3, "betas": (0.95, 0.98), "weight_decay": 0.1}),
]


def test_cases_cover_every_optimizer_with_weight_decay():
    names = {name for name, _ in CASES}
    assert names == set(OPTIMIZERS)
    for name in OPTIMIZERS:
        assert any(n == name and h.get("weight_decay", 0.0) != 0.0 for n, h in CASES) or (
            name == "adamw"  # adamw's default weight decay is already non-zero
        ), name


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=lambda v: str(v))
def test_matches_reference(name, hyper):
    theta = run_both(name, hyper)
    assert not np.allclose(theta, THETA0)  # it moved


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lr_override_matches_reference(name):
    base = TORCH_DEFAULTS[name]["lr"]
    lrs = [base * (1.5 + math.cos(t / 3.0)) for t in range(N_STEPS)]
    run_both(name, {"weight_decay": 0.03}, lrs=lrs)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_lr_override_is_used_not_the_stored_rate(name):
    opt = make_optimizer(name)
    a, b = THETA0.copy(), THETA0.copy()
    sa, sb = opt.init(a), opt.init(b)
    g = grad_at(THETA0, 0)
    opt.step(a, g, sa, lr=opt.lr)
    opt.step(b, g, sb)
    np.testing.assert_array_equal(a, b)
    c = THETA0.copy()
    opt.step(c, g, opt.init(c), lr=opt.lr * 3)
    assert not np.allclose(c, a)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_defaults_match_torch(name):
    assert dict(make_optimizer(name).hyper) == TORCH_DEFAULTS[name]
    assert make_optimizer(name).lr == TORCH_DEFAULTS[name]["lr"]


def test_amsgrad_differs_from_adam_on_this_sequence():
    a = run_both("adam", {"lr": 0.01})
    b = run_both("adam", {"lr": 0.01, "amsgrad": True})
    c = run_both("amsgrad", {"lr": 0.01})
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(b, c)


def test_adamw_decay_is_decoupled():
    """AdamW's decay is not the same as Adam with coupled L2 decay."""
    a = run_both("adamw", {"lr": 0.01, "weight_decay": 0.5})
    b = run_both("adam", {"lr": 0.01, "weight_decay": 0.5})
    assert not np.allclose(a, b)


def test_state_is_per_call_and_init_is_fresh():
    opt = make_optimizer("adam", lr=0.01)
    theta = THETA0.copy()
    s1 = opt.init(theta)
    opt.step(theta, grad_at(theta, 0), s1)
    s2 = opt.init(theta)
    assert s2.step_count == 0 and s1.step_count == 1
    assert np.all(s2.slots == 0.0)


def test_adagrad_initial_accumulator_in_state():
    opt = make_optimizer("adagrad", initial_accumulator_value=0.25)
    state = opt.init(np.zeros(5))
    np.testing.assert_array_equal(state.slots[0], np.full(5, 0.25))


def test_step_rejects_bad_theta():
    opt = make_optimizer("sgd")
    with pytest.raises(ValueError, match="theta"):
        opt.step(np.zeros(4, dtype=np.float32), np.zeros(4), opt.init(np.zeros(4)))
    with pytest.raises(ValueError, match="theta"):
        opt.step(np.zeros((2, 2)), np.zeros(4), opt.init(np.zeros(4)))
    with pytest.raises(ValueError, match="theta"):
        opt.step(np.zeros(8)[::2], np.zeros(4), opt.init(np.zeros(4)))


# --------------------------------------------------------------------------- textbook forms


@pytest.mark.parametrize(("a", "lr"), [(0.9, 0.01), (0.5, 0.03), (0.99, 0.002)])
def test_momentum_equals_textbook_velocity_form(a, lr):
    """v <- a v - lr g, theta <- theta + v  (v0 = 0) gives the same iterates at a constant rate."""
    opt = make_optimizer("momentum", lr=lr, momentum=a)
    theta = THETA0.copy()
    state = opt.init(theta)
    x = THETA0.copy()
    v = np.zeros(DIM)
    for t in range(N_STEPS):
        g = grad_at(x, t)
        v = a * v - lr * g
        x = x + v
        opt.step(theta, g, state)
        np.testing.assert_allclose(theta, x, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("a", "lr"), [(0.9, 0.01), (0.7, 0.03)])
def test_nesterov_equals_sutskever_lookahead_form(a, lr):
    """Sutskever's NAG (gradient at the look-ahead point theta + a v) in the variable theta + a v
    gives torch's nesterov iterates when the gradient is taken at the module's iterate."""
    opt = make_optimizer("nesterov", lr=lr, momentum=a)
    theta = THETA0.copy()
    state = opt.init(theta)
    x = THETA0.copy()
    v = np.zeros(DIM)
    for t in range(N_STEPS):
        look = x + a * v
        g = grad_at(look, t)
        v = a * v - lr * g
        x = x + v
        opt.step(theta, g, state)
        np.testing.assert_allclose(theta, x + a * v, rtol=1e-9, atol=1e-12)


def test_adam_first_step_moves_by_lr_sign():
    """With bias correction Adam's first step is lr * g / (|g| + eps) ~ lr sign(g)."""
    opt = make_optimizer("adam", lr=0.1, eps=0.0)
    theta = np.zeros(4)
    g = np.array([3.0, -0.5, 1e-3, -7.0])
    opt.step(theta, g, opt.init(theta))
    np.testing.assert_allclose(theta, -0.1 * np.sign(g), rtol=1e-14)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_negative_and_zero_lr_rejected(name):
    with pytest.raises(ValueError, match=r"lr.*-0\.1|-0\.1.*lr"):
        make_optimizer(name, lr=-0.1)
    with pytest.raises(ValueError, match="lr"):
        make_optimizer(name, lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        make_optimizer(name, lr=0)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="lr"):
            make_optimizer(name, lr=bad)


@pytest.mark.parametrize("name", ["adam", "adamax", "nadam", "amsgrad", "adamw"])
@pytest.mark.parametrize(
    ("betas", "which"),
    [
        ((1.0, 0.999), r"betas\[0\]"),
        ((-0.1, 0.999), r"betas\[0\]"),
        ((0.9, 1.0), r"betas\[1\]"),
        ((0.9, 1.5), r"betas\[1\]"),
        ((0.9, -1e-9), r"betas\[1\]"),
    ],
)
def test_betas_outside_unit_interval_rejected(name, betas, which):
    with pytest.raises(ValueError, match=which):
        make_optimizer(name, betas=betas)


@pytest.mark.parametrize("name", ["adam", "adamw"])
@pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999), "ab", None])
def test_betas_wrong_shape_rejected(name, betas):
    with pytest.raises(ValueError, match="betas"):
        make_optimizer(name, betas=betas)


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if "eps" in TORCH_DEFAULTS[n]])
def test_negative_eps_rejected(name):
    with pytest.raises(ValueError, match=r"eps.*-1e-08|-1e-08.*eps"):
        make_optimizer(name, eps=-1e-8)


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("momentum", "momentum", 1.0),
        ("momentum", "momentum", -0.5),
        ("momentum", "dampening", 1.5),
        ("nesterov", "momentum", 1.0),
        ("rmsprop", "alpha", 1.0),
        ("rmsprop", "momentum", 1.0),
        ("adadelta", "rho", 1.5),
        ("adagrad", "lr_decay", -0.1),
        ("adagrad", "initial_accumulator_value", -1.0),
        ("nadam", "momentum_decay", -0.004),
        ("sgd", "weight_decay", -0.01),
        ("adamw", "weight_decay", -0.01),
        ("sgd", "lr", 1e4),
    ],
)
def test_out_of_range_rejected(name, key, value):
    with pytest.raises(ValueError, match=key):
        make_optimizer(name, **{key: value})


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("sgd", "momentum"),
        ("adam", "beta1"),
        ("nesterov", "dampening"),
        ("adagrad", "betas"),
        ("rmsprop", "amsgrad"),
        ("amsgrad", "amsgrad"),
        ("adamw", "momentum_decay"),
        ("sgd", "LR"),
    ],
)
def test_unknown_hyper_parameter_rejected(name, key):
    with pytest.raises(ValueError, match=key):
        make_optimizer(name, **{key: 0.1})


@pytest.mark.parametrize("bad", ["adamx", "SGD", "", "lbfgs"])
def test_unknown_optimizer_rejected(bad):
    with pytest.raises(ValueError, match=f"unknown optimizer '{bad}'"):
        make_optimizer(bad)


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("sgd", "lr", "0.1"),
        ("sgd", "lr", None),
        ("sgd", "lr", True),
        ("adam", "eps", [1e-8]),
        ("adam", "amsgrad", 1),
        ("adam", "amsgrad", "yes"),
        ("rmsprop", "centered", 0.0),
        ("adamw", "betas", {"b1": 0.9}),
        ("adam", "betas", ("0.9", 0.999)),
    ],
)
def test_wrong_type_rejected(name, key, value):
    with pytest.raises(ValueError, match=key.replace("[", r"\[")):
        make_optimizer(name, **{key: value})


def test_numpy_scalars_and_ints_accepted():
    opt = make_optimizer("adam", lr=np.float64(0.01), amsgrad=np.bool_(True), betas=[0.8, 0.9])
    assert opt.hyper["amsgrad"] is True and opt.hyper["betas"] == (0.8, 0.9)
    assert make_optimizer("sgd", lr=1).lr == 1.0


def test_huge_integer_hyper_parameter_raises_value_error():
    """An int too large for a float is an invalid value, not an OverflowError."""
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("sgd", lr=10**400)
    with pytest.raises(ValueError, match="betas"):
        make_optimizer("adam", betas=(0.9, 10**400))


_ALL_KEYS = sorted({k for d in TORCH_DEFAULTS.values() for k in d} | {"beta1", "foo", "nesterov"})
_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.tuples(st.floats(min_value=-0.5, max_value=1.5), st.floats(min_value=-0.5, max_value=1.5)),
    st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=1)), max_size=3),
    st.floats(min_value=-1.0, max_value=2.0).map(np.float64),
    st.booleans().map(np.bool_),
)


@st.composite
def _name_and_hyper(draw):
    """Mostly a real optimizer with (some of) its own keys, sometimes foreign keys or names."""
    name = draw(st.one_of(st.sampled_from(sorted(OPTIMIZERS)), st.text(max_size=6)))
    own = sorted(TORCH_DEFAULTS.get(name, {}))
    keys = st.sampled_from(own) if own and draw(st.integers(0, 4)) else st.sampled_from(_ALL_KEYS)
    hyper = draw(st.dictionaries(keys, _VALUES, max_size=4))
    return name, hyper


@settings(max_examples=500, deadline=None)
@given(case=_name_and_hyper())
def test_random_hyper_dicts_build_or_raise_value_error(case):
    name, hyper = case
    try:
        opt = make_optimizer(name, **hyper)
    except ValueError:
        return
    # a built optimizer is usable
    assert opt.lr > 0.0
    theta = np.linspace(-1.0, 1.0, 3)
    state = opt.init(theta)
    opt.step(theta, np.array([0.3, -0.2, 0.1]), state)
    assert state.step_count == 1
