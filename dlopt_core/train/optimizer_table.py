"""The optimizer registry: one ``OptimizerInfo`` entry per optimizer, with its formula here.

``OPTIMIZERS`` is what the app, the studies and the parsers read (through
``dlopt_core.train.optimizers``, which builds validated ``Optimizer`` values from it): names,
hyper-parameters, what the state slots hold, the effective step, good rates. The update rules
themselves are compiled from ``kernels/rules.py``.

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
lion      c = b1 m + (1 - b1) g;  theta <- theta - lr (sign(c) + wd theta) (decoupled decay);
          m <- b2 m + (1 - b2) g  (Chen et al. 2023, "Symbolic Discovery of Optimization
          Algorithms"; every parameter moves by lr: rates 3 to 10 times smaller than Adam's)

Adding an optimizer touches two files: an ``OptimizerInfo`` entry in ``OPTIMIZERS`` below (its
formula in this docstring) and its rule in ``kernels/rules.py`` (a code and a branch of
``update_param``, with ``step_coefficients`` if it needs per-step scalars).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dlopt_core.train.kernels import rules
from dlopt_core.train.optimizer_spec import HyperSpec, MainHyper, OptimizerInfo, Slot, constant_step

_LR_HELP = "learning rate: the step size"
_EPS_HELP = "added to the denominator for numerical stability"
_WD_HELP = "L2 weight decay: adds wd * theta to the gradient"
_BETAS_HELP = "decay rates of the running averages of the gradient and of its square"
_ADAM_BETA_PARTS = (
    "this one decays the average of the gradient (momentum)",
    "this one decays the average of the squared gradient",
)


def _h(
    name: str,
    default: Any,
    kind: str = "float",
    help: str = "",
    low: float = 0.0,
    high: float = math.inf,
    high_open: bool = False,
    **more: Any,
) -> HyperSpec:
    return HyperSpec(name, default, kind, help, low, high, high_open, **more)


def _lr(default: float) -> HyperSpec:
    return _h("lr", default, help=_LR_HELP, high=1000.0)


_MOMENTUM = "fraction of the previous update kept (heavy-ball momentum)"
_WD = _h("weight_decay", 0.0, help=_WD_HELP, label="L2 weight decay", log_step=1e-5)


def _eps(default: float) -> HyperSpec:
    return _h("eps", default, help=_EPS_HELP, label="\u03b5 (eps)", log_step=1e-12)


def _momentum(help: str = _MOMENTUM) -> HyperSpec:
    return _h("momentum", 0.9, help=help, high=1.0, high_open=True, label="Momentum")


def _betas(
    default: tuple[float, float] = (0.9, 0.999),
    help: str = _BETAS_HELP,
    parts: tuple[str, str] = _ADAM_BETA_PARTS,
) -> HyperSpec:
    return _h("betas", default, "betas", help, 0.0, 1.0, True, part_help=parts)


_ADAM_COMMON = (_betas(), _eps(1e-8))
_AMSGRAD = _h(
    "amsgrad",
    False,
    "bool",
    "use the running maximum of the second moment",
    label="AMSGrad variant",
)
_MAIN_MOMENTUM = MainHyper("momentum", "mom.", "momentum: fraction of the previous update kept")
_MAIN_BETA1 = MainHyper("beta1", "\u03b21", "beta1: decay of the running mean of the gradient")


def _adagrad_step(
    lr: float, s: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray | None:
    if not np.any(s[0]):
        return None
    decay = float(hyper["lr_decay"])
    clr = lr / (1.0 + (step - 1) * decay) if step and decay else lr
    return clr / (np.sqrt(s[0]) + float(hyper["eps"]))


def _rmsprop_step(
    lr: float, s: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray | None:
    if not np.any(s[0]):
        return None
    ms = np.maximum(s[0] - s[1] * s[1], 0.0) if hyper["centered"] else s[0]
    return lr / (np.sqrt(ms) + float(hyper["eps"]))


def _adadelta_step(
    lr: float, s: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray | None:
    if not np.any(s[0]):
        return None
    eps = float(hyper["eps"])
    return lr * np.sqrt(s[1] + eps) / np.sqrt(s[0] + eps)


def _adamax_step(
    lr: float, s: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray | None:
    if not np.any(s[1]):
        return None
    with np.errstate(divide="ignore"):
        return np.where(s[1] > 0.0, lr / np.where(s[1] > 0.0, s[1], 1.0), np.inf)


def _adam_step(
    lr: float, s: Sequence[np.ndarray], hyper: Mapping[str, Any], step: int | None
) -> np.ndarray | None:
    v = s[2] if hyper.get("amsgrad") else s[1]
    if not np.any(v):
        return None
    bc2 = 1.0 - float(hyper["betas"][1]) ** step if step else 1.0
    return lr / (np.sqrt(v / bc2) + float(hyper["eps"]))


def _adam_slots(title: str) -> tuple[Slot, ...]:
    return (
        Slot(0, f"{title} first moment m"),
        Slot(1, f"{title} second moment v", True, lambda h: not h.get("amsgrad")),
        Slot(2, f"{title} running max of v", True, lambda h: bool(h.get("amsgrad"))),
    )


OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.name: info
    for info in (
        OptimizerInfo(
            "sgd",
            rules.SGD,
            "SGD",
            "plain (mini-batch) stochastic gradient descent",
            (_lr(0.001), _WD),
            good_lr=0.1,
        ),
        OptimizerInfo(
            "momentum",
            rules.SGD,
            "SGD + momentum",
            "SGD with heavy-ball momentum: a running sum of past gradients",
            (
                _lr(0.001),
                _momentum(),
                _h(
                    "dampening",
                    0.0,
                    help="fraction of the new gradient left out of the buffer",
                    high=1.0,
                    label="Dampening",
                ),
                _WD,
            ),
            slots=(Slot(0, "momentum buffer b (running sum of gradients)"),),
            good_lr=0.02,
            main=_MAIN_MOMENTUM,
        ),
        OptimizerInfo(
            "nesterov",
            rules.SGD,
            "Nesterov",
            "momentum that looks ahead: the gradient is corrected by the next momentum step",
            (_lr(0.001), _momentum(), _WD),
            {"nesterov": True},
            slots=(Slot(0, "Nesterov momentum buffer b"),),
            good_lr=0.02,
            main=_MAIN_MOMENTUM,
        ),
        OptimizerInfo(
            "adagrad",
            rules.ADAGRAD,
            "AdaGrad",
            "per-parameter rates shrinking with the sum of all past squared gradients",
            (
                _lr(0.01),
                _h(
                    "lr_decay",
                    0.0,
                    help="rate divided by 1 + (t - 1) * lr_decay",
                    label="Rate decay",
                    log_step=1e-5,
                ),
                _h(
                    "initial_accumulator_value",
                    0.0,
                    help="starting value of the sum of squares",
                    label="Initial sum",
                    log_step=1e-3,
                ),
                _eps(1e-10),
                _WD,
            ),
            slots=(Slot(0, "AdaGrad sum of squared gradients", True),),
            step=_adagrad_step,
            good_lr=0.05,
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
                    label="\u03b1 (alpha)",
                ),
                _eps(1e-8),
                _h("momentum", 0.0, help=_MOMENTUM, high=1.0, high_open=True, label="Momentum"),
                _h(
                    "centered",
                    False,
                    "bool",
                    "divide by the estimated variance, not the raw second moment",
                    label="centered",
                ),
                _WD,
            ),
            slots=(
                Slot(0, "RMSProp mean square of g", True),
                Slot(1, "RMSProp mean gradient (centered)", when=lambda h: bool(h["centered"])),
                Slot(
                    2,
                    "RMSProp momentum buffer",
                    when=lambda h: not h["centered"] and bool(h["momentum"]),
                ),
            ),
            step=_rmsprop_step,
            good_lr=0.005,
            main=MainHyper(
                "alpha", "\u03b1", "alpha: decay of the moving average of squared gradients"
            ),
        ),
        OptimizerInfo(
            "adadelta",
            rules.ADADELTA,
            "AdaDelta",
            "RMSProp whose step is scaled by a moving average of past squared updates",
            (
                _lr(1.0),
                _h(
                    "rho", 0.9, help="decay of both moving averages", high=1.0, label="\u03c1 (rho)"
                ),
                _eps(1e-6),
                _WD,
            ),
            slots=(
                Slot(0, "AdaDelta mean square gradient E[g\u00b2]", True),
                Slot(1, "AdaDelta mean square update E[\u0394x\u00b2]", True),
            ),
            step=_adadelta_step,
            good_lr=1.0,
            main=MainHyper("rho", "\u03c1", "rho: decay of both moving averages"),
        ),
        OptimizerInfo(
            "adam",
            rules.ADAM,
            "Adam",
            "momentum plus RMSProp scaling, with bias correction of both averages",
            (_lr(0.001), *_ADAM_COMMON, _WD, _AMSGRAD),
            slots=_adam_slots("Adam"),
            step=_adam_step,
            good_lr=0.01,
            main=_MAIN_BETA1,
        ),
        OptimizerInfo(
            "adamax",
            rules.ADAMAX,
            "Adamax",
            "Adam with the infinity norm: divides by a decaying maximum of |g|",
            (_lr(0.002), *_ADAM_COMMON, _WD),
            slots=(Slot(0, "Adamax first moment m"), Slot(1, "Adamax infinity norm u", True)),
            step=_adamax_step,
            good_lr=0.02,
            main=_MAIN_BETA1,
        ),
        OptimizerInfo(
            "nadam",
            rules.NADAM,
            "NAdam",
            "Adam with Nesterov momentum",
            (
                _lr(0.002),
                *_ADAM_COMMON,
                _WD,
                _h(
                    "momentum_decay",
                    0.004,
                    help="psi in the momentum schedule mu_t",
                    label="Momentum decay \u03c8",
                ),
            ),
            slots=_adam_slots("NAdam"),
            step=_adam_step,
            good_lr=0.01,
            main=_MAIN_BETA1,
        ),
        OptimizerInfo(
            "amsgrad",
            rules.ADAM,
            "AMSGrad",
            "Adam that never lets the second-moment estimate shrink",
            (_lr(0.001), *_ADAM_COMMON, _WD),
            {"amsgrad": True},
            slots=_adam_slots("AMSGrad"),
            step=_adam_step,
            good_lr=0.01,
            main=_MAIN_BETA1,
        ),
        OptimizerInfo(
            "adamw",
            rules.ADAMW,
            "AdamW",
            "Adam with decoupled weight decay: theta shrinks by lr * wd each step",
            (
                _lr(0.001),
                *_ADAM_COMMON,
                _h(
                    "weight_decay",
                    0.01,
                    help="decoupled decay: theta <- theta (1 - lr wd)",
                    label="L2 weight decay",
                    log_step=1e-5,
                ),
                _AMSGRAD,
            ),
            slots=_adam_slots("AdamW"),
            step=_adam_step,
            good_lr=0.01,
            main=_MAIN_BETA1,
        ),
        OptimizerInfo(
            "lion",
            rules.LION,
            "Lion",
            "the sign of a momentum blend: every parameter moves by the rate (Chen et al. 2023)",
            (
                _lr(1e-4),
                _betas(
                    (0.9, 0.99),
                    "beta1 blends the momentum with the gradient for the sign; beta2 decays the "
                    "momentum",
                    (
                        "this one weighs the momentum against the new gradient in the step",
                        "this one decays the momentum (the running average of the gradient)",
                    ),
                ),
                _h(
                    "weight_decay",
                    0.0,
                    help="decoupled decay: theta <- theta (1 - lr wd)",
                    label="Weight decay",
                    log_step=1e-5,
                ),
            ),
            slots=(Slot(0, "Lion momentum m"),),
            step=constant_step,
            good_lr=0.002,
            main=_MAIN_BETA1,
        ),
    )
}
