"""The numerical leaves shared by every backend: activations, losses, schedules and update rules.

Each function here is plain Python on scalars and small arrays, with no decorator and no calls to
other functions of this module. The CPU backend compiles them with ``numba.njit`` and the CUDA
backend with ``numba.cuda.jit(device=True)``: one source, so the numbers cannot drift between
backends. The Python-facing modules (``optimizer_table``, ``schedules``, ``network``) document
the formulas; the codes below are their indices in those modules' name tables.
"""

import math
from decimal import Decimal, localcontext

import numpy as np

# activation codes (network.ACTIVATIONS)
RELU, LEAKY_RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3, 4
LEAKY_SLOPE = 0.01

# loss codes (network.LOSSES)
BCE, CE, MSE = 0, 1, 2

# optimizer rule codes (``OptimizerInfo.code`` in optimizers.OPTIMIZERS); update_param has one
# branch per code and raises for a code it does not know
SGD, ADAGRAD, RMSPROP, ADADELTA, ADAM, ADAMAX, NADAM, ADAMW, LION = 0, 1, 2, 3, 4, 5, 6, 7, 8

# the hyper-parameter vector (``Optimizer.vector``): one entry per name, in this order
HYPER_FIELDS = (
    "lr",
    "momentum",
    "dampening",
    "nesterov",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "alpha",
    "rho",
    "lr_decay",
    "initial_accumulator_value",
    "centered",
    "momentum_decay",
    "amsgrad",
)
(
    H_LR,
    H_MOMENTUM,
    H_DAMPENING,
    H_NESTEROV,
    H_BETA1,
    H_BETA2,
    H_EPS,
    H_WEIGHT_DECAY,
    H_ALPHA,
    H_RHO,
    H_LR_DECAY,
    H_INITIAL_ACC,
    H_CENTERED,
    H_MOMENTUM_DECAY,
    H_AMSGRAD,
) = range(len(HYPER_FIELDS))
N_HYPER = len(HYPER_FIELDS)

# per-parameter state slots: update_param takes and returns this many (``OptimizerInfo.slots``
# says what each holds, per rule); every state array is sized by this one number
N_SLOTS = 3

# per-model scalar state: steps taken by the optimizer, and NAdam's running product of mu
S_STEP, S_MU_PRODUCT = 0, 1
N_SCALARS = 2

# step coefficients computed once per step (step_coefficients), read by update_param
C_BC1, C_BC2, C_MU, C_MU_NEXT, C_MU_PRODUCT, C_MU_PRODUCT_NEXT, C_CLR = 0, 1, 2, 3, 4, 5, 6
C_STEP, C_SQRT_BC2 = 7, 8  # lr / (1 - beta1^t) and sqrt(1 - beta2^t), the same every parameter
N_COEF = 9

# schedule codes (schedules.SCHEDULES) and their parameter vector
CONSTANT, STEP, EXPONENTIAL, INVERSE_TIME, COSINE, WARMUP_COSINE, ONE_CYCLE = 0, 1, 2, 3, 4, 5, 6
N_SCHED = 4


def _ln2_parts():
    """ln 2 split as HI + LO, HI with 20 significant bits so that k * HI is exact for k < 2^32."""
    with localcontext() as ctx:
        ctx.prec = 50
        ln2 = Decimal(2).ln()
        hi = math.ldexp(round(float(ln2) * 2.0**20), -20)
        return hi, float(ln2 - Decimal(hi))


LN2_HI, LN2_LO = _ln2_parts()
INV_LN2 = 1.0 / math.log(2.0)
POW2 = np.array([2.0**k for k in range(64)])
TANH_CLIP = 40.0  # tanh(x) rounds to +-1 for |x| > 19.1; 2 |x| is clipped here


def fma(a, b, c):
    """a * b + c. The compiled kernels bind this name to the fused multiply-add (one rounding):
    with it written out, every backend and every vectoriser computes the same numbers."""
    return a * b + c


def pow2(k):
    """2.0 ** k for a whole number 0 <= k < 64. The CPU kernels bind this name to the same
    number built from its bits (``leaves.pow2_bits``): a table lookup in a vectorised loop is a
    gather, the slowest instruction of the tanh."""
    return POW2[int(k)]


def tanh_fast(x):
    """tanh(x) by arithmetic alone, so that loops over it vectorise (libm's tanh does not).

    With y = 2|x| = k ln2 + r, 0 <= r < ln2: expm1(y) = 2^k expm1(r) + (2^k - 1) (no cancellation),
    expm1(r) by its Taylor polynomial to r^17 (truncation below 1e-17), and
    tanh|x| = expm1(y) / (expm1(y) + 2). Within 3 units in the last place of math.tanh (tested);
    NaN stays NaN. The polynomial is evaluated with fused multiply-adds.
    """
    y = 2.0 * abs(x)
    y = TANH_CLIP if TANH_CLIP < y else y  # min(y, TANH_CLIP), written so that loops vectorise
    y = y if y == y else 0.0  # NaN: computed as 0, restored below
    k = math.floor(y * INV_LN2)
    r = (y - k * LN2_HI) - k * LN2_LO
    p = 1.0 / 355687428096000.0
    p = fma(p, r, 1.0 / 20922789888000.0)
    p = fma(p, r, 1.0 / 1307674368000.0)
    p = fma(p, r, 1.0 / 87178291200.0)
    p = fma(p, r, 1.0 / 6227020800.0)
    p = fma(p, r, 1.0 / 479001600.0)
    p = fma(p, r, 1.0 / 39916800.0)
    p = fma(p, r, 1.0 / 3628800.0)
    p = fma(p, r, 1.0 / 362880.0)
    p = fma(p, r, 1.0 / 40320.0)
    p = fma(p, r, 1.0 / 5040.0)
    p = fma(p, r, 1.0 / 720.0)
    p = fma(p, r, 1.0 / 120.0)
    p = fma(p, r, 1.0 / 24.0)
    p = fma(p, r, 1.0 / 6.0)
    p = fma(p, r, 1.0 / 2.0)
    p = fma(p, r, 1.0)
    scale = pow2(k)
    em = fma(scale, p * r, scale - 1.0)
    t = math.copysign(em / (em + 2.0), x)
    return t if x == x else x


def activate(code, z):
    """Hidden activation of one pre-activation value."""
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    if code == TANH:
        return tanh_fast(z)
    if code == SIGMOID:
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    return z


def activation_slope(code, a):
    """Derivative of the activation, written in terms of its output ``a``.

    Every candidate is computed and one is selected, without branches on ``a``: a loop over
    many values of one activation then vectorises.
    """
    positive = a > 0.0
    relu = 1.0 if positive else 0.0
    leaky = 1.0 if positive else LEAKY_SLOPE
    tanh = 1.0 - a * a
    sigmoid = a * (1.0 - a)
    if code == RELU:
        return relu
    if code == LEAKY_RELU:
        return leaky
    if code == TANH:
        return tanh
    if code == SIGMOID:
        return sigmoid
    return 1.0


def bce_with_logit(z, y):
    """Binary cross-entropy of the sigmoid of ``z`` against label ``y``, and its slope in ``z``.

    loss = max(z, 0) - z y + log(1 + exp(-|z|))  (stable for any z);  dloss/dz = sigmoid(z) - y.
    """
    loss = (0.0 if 0.0 > z else z) - z * y + math.log1p(math.exp(-abs(z)))
    if z >= 0.0:
        p = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        p = e / (1.0 + e)
    return loss, p - y


def schedule_lr(code, params, lane, base_lr, t):
    """Learning rate at step ``t`` (0-based count of steps already taken) of model ``lane``.

    The formulas are listed in ``dlopt_core.train.schedules``; ``params[:, lane]`` holds up to four
    numbers.
    """
    if code == STEP:
        return base_lr * params[1, lane] ** math.floor(t / params[0, lane])
    if code == EXPONENTIAL:
        return base_lr * params[0, lane] ** t
    if code == INVERSE_TIME:
        return base_lr / (1.0 + params[0, lane] * t)
    if code == COSINE:
        total = params[0, lane]
        eta_min = params[1, lane]
        tt = min(t, total)
        return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * tt / total))
    if code == WARMUP_COSINE:
        warm = params[0, lane]
        total = params[1, lane]
        eta_min = params[2, lane]
        if t < warm:
            return base_lr * (t + 1.0) / warm
        tt = min(t - warm, total - warm)
        span = max(total - warm, 1.0)
        return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * tt / span))
    if code == ONE_CYCLE:
        total = params[0, lane]
        pct = params[1, lane]
        div = params[2, lane]
        final_div = params[3, lane]
        start = base_lr / div
        low = start / final_div
        up = pct * total - 1.0
        tt = min(t, total - 1.0)
        if tt <= up:
            frac = tt / up if up > 0.0 else 1.0
            return base_lr + (start - base_lr) * 0.5 * (1.0 + math.cos(math.pi * frac))
        down = total - 1.0 - up
        frac = (tt - up) / down if down > 0.0 else 1.0
        return low + (base_lr - low) * 0.5 * (1.0 + math.cos(math.pi * frac))
    return base_lr


def step_coefficients(code, hyper, lr, scalars, coef, lane):
    """Advance model ``lane``'s scalar state by one step and fill ``coef[:, lane]``.

    Bias corrections 1 - beta^t of the Adam family, NAdam's momentum schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) and its running product, AdaGrad's decayed rate.
    """
    t = scalars[S_STEP, lane] + 1.0
    scalars[S_STEP, lane] = t
    b1 = hyper[H_BETA1, lane]
    b2 = hyper[H_BETA2, lane]
    coef[C_BC1, lane] = 1.0 - b1**t
    coef[C_BC2, lane] = 1.0 - b2**t
    coef[C_CLR, lane] = lr / (1.0 + (t - 1.0) * hyper[H_LR_DECAY, lane])
    coef[C_STEP, lane] = lr / coef[C_BC1, lane]
    coef[C_SQRT_BC2, lane] = math.sqrt(coef[C_BC2, lane])
    if code == NADAM:
        psi = hyper[H_MOMENTUM_DECAY, lane]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1.0) * psi))
        prod = scalars[S_MU_PRODUCT, lane] * mu
        scalars[S_MU_PRODUCT, lane] = prod
        coef[C_MU, lane] = mu
        coef[C_MU_NEXT, lane] = mu_next
        coef[C_MU_PRODUCT, lane] = prod
        coef[C_MU_PRODUCT_NEXT, lane] = prod * mu_next


def update_param(code, p, g, s0, s1, s2, lr, hyper, coef, lane, first):
    """One optimizer step for one parameter ``p`` of model ``lane`` with gradient ``g``.

    (Maxima are written ``b if b > a else a``, Python's ``max(a, b)``: the builtin is a call
    that stops loops from vectorising.)

    Returns the new ``(p, s0, s1, s2)`` (the N_SLOTS state slots). ``hyper[:, lane]`` and
    ``coef[:, lane]`` hold the model's hyper-parameters and step coefficients; ``first`` is True
    on the optimizer's first step (SGD's momentum buffer starts at the first gradient, as in
    torch.optim.SGD). The formulas of each rule are written out in
    ``dlopt_core.train.optimizer_table``.
    Switches that differ between models (momentum on or off, Nesterov, centred, AMSGrad, weight
    decay) are selections between values computed either way, not branches: a loop over models
    that share ``code`` then vectorises. A code without a branch here raises ``ValueError``.
    """
    wd = hyper[H_WEIGHT_DECAY, lane]
    if code == ADAMW or code == LION:
        p = p * (1.0 - lr * wd)  # decoupled decay
    else:
        g = g + wd * p if wd != 0.0 else g
    if code == SGD:
        mom = hyper[H_MOMENTUM, lane]
        buf = g if first else mom * s0 + (1.0 - hyper[H_DAMPENING, lane]) * g
        step = g + mom * buf if hyper[H_NESTEROV, lane] != 0.0 else buf
        if_mom = mom != 0.0
        return p - lr * (step if if_mom else g), (buf if if_mom else s0), s1, s2
    if code == ADAGRAD:
        s0 = s0 + g * g
        return p - coef[C_CLR, lane] * g / (math.sqrt(s0) + hyper[H_EPS, lane]), s0, s1, s2
    if code == RMSPROP:
        alpha = hyper[H_ALPHA, lane]
        s0 = alpha * s0 + (1.0 - alpha) * g * g
        centered = hyper[H_CENTERED, lane] != 0.0
        s1 = alpha * s1 + (1.0 - alpha) * g if centered else s1
        avg = (math.sqrt(s0 - s1 * s1) if centered else math.sqrt(s0)) + hyper[H_EPS, lane]
        mom = hyper[H_MOMENTUM, lane]
        buf = mom * s2 + g / avg
        if_mom = mom > 0.0
        return p - (lr * buf if if_mom else lr * g / avg), s0, s1, (buf if if_mom else s2)
    if code == ADADELTA:
        rho = hyper[H_RHO, lane]
        eps = hyper[H_EPS, lane]
        s0 = rho * s0 + (1.0 - rho) * g * g
        delta = math.sqrt(s1 + eps) / math.sqrt(s0 + eps) * g
        s1 = rho * s1 + (1.0 - rho) * delta * delta
        return p - lr * delta, s0, s1, s2
    b1 = hyper[H_BETA1, lane]
    b2 = hyper[H_BETA2, lane]
    if code == LION:
        c = b1 * s0 + (1.0 - b1) * g
        sign = 1.0 if c > 0.0 else (-1.0 if c < 0.0 else 0.0)
        return p - lr * sign, b2 * s0 + (1.0 - b2) * g, s1, s2
    eps = hyper[H_EPS, lane]
    s0 = b1 * s0 + (1.0 - b1) * g
    if code == ADAMAX:
        s1 = b2 * s1
        s1 = abs(g) + eps if abs(g) + eps > s1 else s1  # max(b2 s1, |g| + eps)
        return p - coef[C_STEP, lane] * s0 / s1, s0, s1, s2
    s1 = b2 * s1 + (1.0 - b2) * g * g
    if code == NADAM:
        denom = math.sqrt(s1 / coef[C_BC2, lane]) + eps
        p = p - lr * (1.0 - coef[C_MU, lane]) / (1.0 - coef[C_MU_PRODUCT, lane]) * g / denom
        p = p - lr * coef[C_MU_NEXT, lane] / (1.0 - coef[C_MU_PRODUCT_NEXT, lane]) * s0 / denom
        return p, s0, s1, s2
    if code == ADAM or code == ADAMW:  # AMSGrad is Adam with the amsgrad flag
        amsgrad = hyper[H_AMSGRAD, lane] != 0.0
        s2 = (s1 if s1 > s2 else s2) if amsgrad else s2  # max(s2, s1) with AMSGrad
        v = s2 if amsgrad else s1
        denom = math.sqrt(v) / coef[C_SQRT_BC2, lane] + eps
        return p - coef[C_STEP, lane] * s0 / denom, s0, s1, s2
    raise ValueError("update_param has no rule for this optimizer code")
