"""Optimizers: a name, its hyper-parameters, state slots and one compiled update rule.

Every rule follows ``torch.optim`` (names, defaults and update order), applied to a flat parameter
vector ``theta`` with gradient ``g`` at step ``t = 1, 2, ...``. ``wd`` is ``weight_decay``; except
for AdamW it is coupled L2 decay: ``g <- g + wd * theta`` before the rule.

sgd       theta <- theta - lr g
momentum  b <- g (t = 1),  b <- mu b + (1 - dampening) g (t > 1);  theta <- theta - lr b
          (textbook heavy ball: v <- a v - eps g, theta <- theta + v; with a constant rate,
          no dampening and b = g at t = 1, v = -lr b, a = mu, eps = lr: the same iterates)
nesterov  as momentum, then theta <- theta - lr (g + mu b)
          (textbook Nesterov takes the gradient at the look-ahead point:
          v <- a v - eps grad(theta' + a v), theta' <- theta' + v; torch's theta is that
          look-ahead point theta' + a v, which turns the rule into the one above with the same
          v = -lr b, a = mu, eps = lr at a constant rate)
adagrad   s <- s + g^2;  theta <- theta - lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)
rmsprop   v <- alpha v + (1 - alpha) g^2;  d = sqrt(v) + eps  (centered: d = sqrt(v - gbar^2) + eps,
          gbar <- alpha gbar + (1 - alpha) g);  momentum > 0: b <- momentum b + g / d,
          theta <- theta - lr b;  else theta <- theta - lr g / d
adadelta  v <- rho v + (1 - rho) g^2;  dx = sqrt(u + eps) / sqrt(v + eps) g;
          u <- rho u + (1 - rho) dx^2;  theta <- theta - lr dx
adam      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
          theta <- theta - lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
          (textbook form: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
          theta <- theta - lr m_hat / (sqrt(v_hat) + eps); equal up to where eps enters)
amsgrad   as adam with vmax <- max(vmax, v) in place of v in the denominator
adamax    m as adam;  u <- max(b2 u, |g| + eps);  theta <- theta - lr / (1 - b1^t) m / u
nadam     mu_t = b1 (1 - 0.5 0.96^(t psi)), psi = momentum_decay, P_t = mu_1 ... mu_t;
          m, v as adam;  d = sqrt(v / (1 - b2^t)) + eps;
          theta <- theta - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d
adamw     theta <- theta (1 - lr wd) (decoupled decay, default wd = 0.01), then adam
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlopt_core.train.kernels import rules


@dataclass(frozen=True)
class HyperSpec:
    """One hyper-parameter: default, allowed range and a one-line meaning (the app's tooltip)."""

    name: str
    default: Any
    kind: str  # "float", "bool" or "betas"
    help: str
    low: float = 0.0
    high: float = math.inf
    high_open: bool = False


_LR_HELP = "learning rate: the step size"
_EPS_HELP = "added to the denominator for numerical stability"
_WD_HELP = "L2 weight decay: adds wd * theta to the gradient"
_BETAS_HELP = "decay rates of the running averages of the gradient and of its square"


def _h(name, default, kind="float", help="", low=0.0, high=math.inf, high_open=False):
    return HyperSpec(name, default, kind, help, low, high, high_open)


def _lr(default):
    return _h("lr", default, help=_LR_HELP, high=1000.0)


_MOMENTUM = "fraction of the previous update kept (heavy-ball momentum)"
_ADAM_COMMON = (
    _h("betas", (0.9, 0.999), "betas", _BETAS_HELP, 0.0, 1.0, True),
    _h("eps", 1e-8, help=_EPS_HELP),
)


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    code: int
    title: str
    summary: str
    params: tuple[HyperSpec, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)  # vector entries set by the name


OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in (
        OptimizerInfo(
            "sgd",
            rules.SGD,
            "SGD",
            "plain (mini-batch) stochastic gradient descent",
            (_lr(0.001), _h("weight_decay", 0.0, help=_WD_HELP)),
        ),
        OptimizerInfo(
            "momentum",
            rules.SGD,
            "SGD + momentum",
            "SGD with heavy-ball momentum: a running sum of past gradients",
            (
                _lr(0.001),
                _h("momentum", 0.9, help=_MOMENTUM, high=1.0, high_open=True),
                _h(
                    "dampening",
                    0.0,
                    help="fraction of the new gradient left out of the buffer",
                    high=1.0,
                ),
                _h("weight_decay", 0.0, help=_WD_HELP),
            ),
        ),
        OptimizerInfo(
            "nesterov",
            rules.SGD,
            "Nesterov",
            "momentum that looks ahead: the gradient is corrected by the next momentum step",
            (
                _lr(0.001),
                _h("momentum", 0.9, help=_MOMENTUM, high=1.0, high_open=True),
                _h("weight_decay", 0.0, help=_WD_HELP),
            ),
            {"nesterov": True},
        ),
        OptimizerInfo(
            "adagrad",
            rules.ADAGRAD,
            "AdaGrad",
            "per-parameter rates shrinking with the sum of all past squared gradients",
            (
                _lr(0.01),
                _h("lr_decay", 0.0, help="rate divided by 1 + (t - 1) * lr_decay"),
                _h("initial_accumulator_value", 0.0, help="starting value of the sum of squares"),
                _h("eps", 1e-10, help=_EPS_HELP),
                _h("weight_decay", 0.0, help=_WD_HELP),
            ),
        ),
        OptimizerInfo(
            "rmsprop",
            rules.RMSPROP,
            "RMSProp",
            "per-parameter rates from a moving average of squared gradients",
            (
                _lr(0.01),
                _h(
                    "alpha",
                    0.99,
                    help="decay of the moving average of squared gradients",
                    high=1.0,
                    high_open=True,
                ),
                _h("eps", 1e-8, help=_EPS_HELP),
                _h("momentum", 0.0, help=_MOMENTUM, high=1.0, high_open=True),
                _h(
                    "centered",
                    False,
                    "bool",
                    "divide by the estimated variance, not the raw second moment",
                ),
                _h("weight_decay", 0.0, help=_WD_HELP),
            ),
        ),
        OptimizerInfo(
            "adadelta",
            rules.ADADELTA,
            "AdaDelta",
            "RMSProp whose step is scaled by a moving average of past squared updates",
            (
                _lr(1.0),
                _h("rho", 0.9, help="decay of both moving averages", high=1.0),
                _h("eps", 1e-6, help=_EPS_HELP),
                _h("weight_decay", 0.0, help=_WD_HELP),
            ),
        ),
        OptimizerInfo(
            "adam",
            rules.ADAM,
            "Adam",
            "momentum plus RMSProp scaling, with bias correction of both averages",
            (
                _lr(0.001),
                *_ADAM_COMMON,
                _h("weight_decay", 0.0, help=_WD_HELP),
                _h("amsgrad", False, "bool", "use the running maximum of the second moment"),
            ),
        ),
        OptimizerInfo(
            "adamax",
            rules.ADAMAX,
            "Adamax",
            "Adam with the infinity norm: divides by a decaying maximum of |g|",
            (_lr(0.002), *_ADAM_COMMON, _h("weight_decay", 0.0, help=_WD_HELP)),
        ),
        OptimizerInfo(
            "nadam",
            rules.NADAM,
            "NAdam",
            "Adam with Nesterov momentum",
            (
                _lr(0.002),
                *_ADAM_COMMON,
                _h("weight_decay", 0.0, help=_WD_HELP),
                _h("momentum_decay", 0.004, help="psi in the momentum schedule mu_t"),
            ),
        ),
        OptimizerInfo(
            "amsgrad",
            rules.ADAM,
            "AMSGrad",
            "Adam that never lets the second-moment estimate shrink",
            (_lr(0.001), *_ADAM_COMMON, _h("weight_decay", 0.0, help=_WD_HELP)),
            {"amsgrad": True},
        ),
        OptimizerInfo(
            "adamw",
            rules.ADAMW,
            "AdamW",
            "Adam with decoupled weight decay: theta shrinks by lr * wd each step",
            (
                _lr(0.001),
                *_ADAM_COMMON,
                _h("weight_decay", 0.01, help="decoupled decay: theta <- theta (1 - lr wd)"),
                _h("amsgrad", False, "bool", "use the running maximum of the second moment"),
            ),
        ),
    )
}

_VECTOR_INDEX = {
    "lr": rules.H_LR,
    "momentum": rules.H_MOMENTUM,
    "dampening": rules.H_DAMPENING,
    "nesterov": rules.H_NESTEROV,
    "eps": rules.H_EPS,
    "weight_decay": rules.H_WEIGHT_DECAY,
    "alpha": rules.H_ALPHA,
    "rho": rules.H_RHO,
    "lr_decay": rules.H_LR_DECAY,
    "initial_accumulator_value": rules.H_INITIAL_ACC,
    "centered": rules.H_CENTERED,
    "momentum_decay": rules.H_MOMENTUM_DECAY,
    "amsgrad": rules.H_AMSGRAD,
}


@dataclass
class OptState:
    """Optimizer state of one model: three slots of per-parameter averages, and scalars.

    ``slots[0..2]`` hold, per rule, momentum buffer / sum of squares / first and second moments and
    their maximum; ``scalars`` the step count and NAdam's product of mu.
    """

    slots: np.ndarray
    scalars: np.ndarray

    @property
    def step_count(self) -> int:
        return int(self.scalars[rules.S_STEP])


def _check_value(optimizer: str, spec: HyperSpec, value: Any) -> Any:
    where = f"{optimizer}: {spec.name}"
    if spec.kind == "bool":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{where} must be true or false, got {value!r}")
        return bool(value)
    if spec.kind == "betas":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError(f"{where} must be a pair (beta1, beta2), got {value!r}")
        return tuple(
            _check_value(
                optimizer, HyperSpec(f"{spec.name}[{i}]", 0.0, "float", "", 0.0, 1.0, True), v
            )
            for i, v in enumerate(value)
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{where} must be a number, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{where} = {value!r} is far outside the allowed range") from None
    high = "1)" if spec.high_open else f"{spec.high:g}]"
    if (
        not math.isfinite(value)
        or value < spec.low
        or value > spec.high
        or (spec.high_open and value >= spec.high)
    ):
        raise ValueError(f"{where} = {value!r} is outside the allowed range [{spec.low:g}, {high}")
    if spec.name == "lr" and value == 0.0:
        raise ValueError(f"{where} must be positive, got 0")
    return value


@dataclass(frozen=True)
class Optimizer:
    """A validated optimizer: its name and the full set of its hyper-parameters."""

    name: str
    hyper: Mapping[str, Any]

    @property
    def info(self) -> OptimizerInfo:
        return OPTIMIZERS[self.name]

    @property
    def code(self) -> int:
        return self.info.code

    @property
    def lr(self) -> float:
        return float(self.hyper["lr"])

    def replace(self, **changes: Any) -> Optimizer:
        """A copy with some hyper-parameters changed (validated)."""
        return make_optimizer(self.name, **{**self.hyper, **changes})

    def vector(self) -> np.ndarray:
        """The hyper-parameters as the fixed-layout float vector the kernels read."""
        vec = np.zeros(rules.N_HYPER)
        vec[rules.H_BETA1], vec[rules.H_BETA2] = 0.9, 0.999
        for key, value in {**self.info.fixed, **self.hyper}.items():
            if key == "betas":
                vec[rules.H_BETA1], vec[rules.H_BETA2] = value
            else:
                vec[_VECTOR_INDEX[key]] = float(value)
        return vec

    def init(self, theta: np.ndarray) -> OptState:
        """Fresh state for parameters shaped like ``theta``."""
        slots = np.zeros((3, np.size(theta)))
        slots[0] = self.hyper.get("initial_accumulator_value", 0.0)
        scalars = np.zeros(rules.N_SCALARS)
        scalars[rules.S_MU_PRODUCT] = 1.0
        return OptState(slots, scalars)

    def step(
        self, theta: np.ndarray, grad: np.ndarray, state: OptState, lr: float | None = None
    ) -> None:
        """Update ``theta`` and ``state`` in place (at ``lr`` if given, else the optimizer's)."""
        from dlopt_core.train.kernels import cpu

        if theta.dtype != np.float64 or not theta.flags.c_contiguous or theta.ndim != 1:
            raise ValueError("theta must be a contiguous 1-D float64 array")
        grad = np.ascontiguousarray(grad, dtype=np.float64).reshape(theta.shape)
        cpu.optimizer_step(
            self.code,
            theta,
            grad,
            state.slots,
            state.scalars.reshape(-1, 1),
            self.vector()[:, None],
            self.lr if lr is None else float(lr),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key, value in self.hyper.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


def make_optimizer(name: str, **hyper: Any) -> Optimizer:
    """Build an optimizer from its name and hyper-parameters (torch.optim names and defaults)."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    info = OPTIMIZERS[name]
    specs = {spec.name: spec for spec in info.params}
    unknown = sorted(set(hyper) - set(specs))
    if unknown:
        raise ValueError(
            f"{name} has no hyper-parameter {unknown[0]!r}; it takes {', '.join(specs)}"
        )
    values = {
        key: _check_value(name, spec, hyper.get(key, spec.default)) for key, spec in specs.items()
    }
    if name == "nesterov" and values["momentum"] == 0.0:
        raise ValueError("nesterov: momentum = 0.0; Nesterov momentum needs a momentum > 0")
    return Optimizer(name, values)
