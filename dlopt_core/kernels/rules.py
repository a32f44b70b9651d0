"""The numerical leaves shared by every backend: activations, losses, schedules and update rules.

Each function here is plain Python on scalars and small arrays, with no decorator and no calls to
other functions of this module. The CPU backend compiles them with ``numba.njit`` and the CUDA
backend with ``numba.cuda.jit(device=True)``: one source, so the numbers cannot drift between
backends. The Python-facing modules (``optimizers``, ``schedules``, ``network``) document the
formulas; the codes below are their indices in those modules' name tables.
"""

import math
from decimal import Decimal, localcontext

import numpy as np

# activation codes (network.ACTIVATIONS)
RELU, LEAKY_RELU, TANH, SIGMOID, LINEAR = 0, 1, 2, 3, 4
LEAKY_SLOPE = 0.01

# loss codes (network.LOSSES)
BCE, CE, MSE = 0, 1, 2

# optimizer codes (optimizers.OPTIMIZERS)
SGD, ADAGRAD, RMSPROP, ADADELTA, ADAM, ADAMAX, NADAM, ADAMW = 0, 1, 2, 3, 4, 5, 6, 7

# hyper-parameter vector layout (optimizers.HYPER_FIELDS)
H_LR, H_MOMENTUM, H_DAMPENING, H_NESTEROV = 0, 1, 2, 3
H_BETA1, H_BETA2, H_EPS, H_WEIGHT_DECAY = 4, 5, 6, 7
H_ALPHA, H_RHO, H_LR_DECAY, H_INITIAL_ACC = 8, 9, 10, 11
H_CENTERED, H_MOMENTUM_DECAY, H_AMSGRAD = 12, 13, 14
N_HYPER = 15

# per-model scalar state: steps taken by the optimizer, and NAdam's running product of mu
S_STEP, S_MU_PRODUCT = 0, 1
N_SCALARS = 2

# step coefficients computed once per step (step_coefficients), read by update_param
C_BC1, C_BC2, C_MU, C_MU_NEXT, C_MU_PRODUCT, C_MU_PRODUCT_NEXT, C_CLR = 0, 1, 2, 3, 4, 5, 6
N_COEF = 7

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


def tanh_fast(x):
    """tanh(x) by arithmetic alone, so that loops over it vectorise (libm's tanh does not).

    With y = 2|x| = k ln2 + r, 0 <= r < ln2: expm1(y) = 2^k expm1(r) + (2^k - 1) (no cancellation),
    expm1(r) by its Taylor polynomial to r^17 (truncation below 1e-17), and
    tanh|x| = expm1(y) / (expm1(y) + 2). Within 3 units in the last place of math.tanh (tested);
    NaN stays NaN.
    """
    y = min(2.0 * abs(x), TANH_CLIP)
    y = y if y == y else 0.0  # NaN: computed as 0, restored below
    k = math.floor(y * INV_LN2)
    r = (y - k * LN2_HI) - k * LN2_LO
    p = 1.0 / 355687428096000.0
    p = p * r + 1.0 / 20922789888000.0
    p = p * r + 1.0 / 1307674368000.0
    p = p * r + 1.0 / 87178291200.0
    p = p * r + 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 1.0 / 2.0
    p = p * r + 1.0
    scale = POW2[int(k)]
    em = scale * (p * r) + (scale - 1.0)
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
    """Derivative of the activation, written in terms of its output ``a``."""
    if code == RELU:
        return 1.0 if a > 0.0 else 0.0
    if code == LEAKY_RELU:
        return 1.0 if a > 0.0 else LEAKY_SLOPE
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return a * (1.0 - a)
    return 1.0


def bce_with_logit(z, y):
    """Binary cross-entropy of the sigmoid of ``z`` against label ``y``, and its slope in ``z``.

    loss = max(z, 0) - z y + log(1 + exp(-|z|))  (stable for any z);  dloss/dz = sigmoid(z) - y.
    """
    loss = max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))
    if z >= 0.0:
        p = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        p = e / (1.0 + e)
    return loss, p - y


def schedule_lr(code, params, base_lr, t):
    """Learning rate at step ``t`` (0-based count of steps already taken).

    The formulas are listed in ``dlopt_core.schedules``; ``params`` holds up to four numbers.
    """
    if code == STEP:
        return base_lr * params[1] ** math.floor(t / params[0])
    if code == EXPONENTIAL:
        return base_lr * params[0] ** t
    if code == INVERSE_TIME:
        return base_lr / (1.0 + params[0] * t)
    if code == COSINE:
        total = params[0]
        eta_min = params[1]
        tt = min(t, total)
        return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * tt / total))
    if code == WARMUP_COSINE:
        warm = params[0]
        total = params[1]
        eta_min = params[2]
        if t < warm:
            return base_lr * (t + 1.0) / warm
        tt = min(t - warm, total - warm)
        span = max(total - warm, 1.0)
        return eta_min + 0.5 * (base_lr - eta_min) * (1.0 + math.cos(math.pi * tt / span))
    if code == ONE_CYCLE:
        total = params[0]
        pct = params[1]
        div = params[2]
        final_div = params[3]
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


def step_coefficients(code, hyper, lr, scalars, coef):
    """Advance the per-model scalar state by one step and fill ``coef`` for ``update_param``.

    Bias corrections 1 - beta^t of the Adam family, NAdam's momentum schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) and its running product, AdaGrad's decayed rate.
    """
    t = scalars[S_STEP] + 1.0
    scalars[S_STEP] = t
    b1 = hyper[H_BETA1]
    b2 = hyper[H_BETA2]
    coef[C_BC1] = 1.0 - b1**t
    coef[C_BC2] = 1.0 - b2**t
    coef[C_CLR] = lr / (1.0 + (t - 1.0) * hyper[H_LR_DECAY])
    if code == NADAM:
        psi = hyper[H_MOMENTUM_DECAY]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1.0) * psi))
        prod = scalars[S_MU_PRODUCT] * mu
        scalars[S_MU_PRODUCT] = prod
        coef[C_MU] = mu
        coef[C_MU_NEXT] = mu_next
        coef[C_MU_PRODUCT] = prod
        coef[C_MU_PRODUCT_NEXT] = prod * mu_next


def update_param(code, p, g, s0, s1, s2, lr, hyper, coef, first):
    """One optimizer step for one parameter ``p`` with gradient ``g`` and state slots s0..s2.

    Returns the new ``(p, s0, s1, s2)``. ``first`` is True on the optimizer's first step (SGD's
    momentum buffer starts at the first gradient, as in torch.optim.SGD). The formulas of each rule
    are written out in ``dlopt_core.optimizers``.
    """
    wd = hyper[H_WEIGHT_DECAY]
    if code == ADAMW:
        p = p * (1.0 - lr * wd)
    elif wd != 0.0:
        g = g + wd * p
    if code == SGD:
        mom = hyper[H_MOMENTUM]
        if mom != 0.0:
            if first:
                s0 = g
            else:
                s0 = mom * s0 + (1.0 - hyper[H_DAMPENING]) * g
            if hyper[H_NESTEROV] != 0.0:
                g = g + mom * s0
            else:
                g = s0
        return p - lr * g, s0, s1, s2
    if code == ADAGRAD:
        s0 = s0 + g * g
        return p - coef[C_CLR] * g / (math.sqrt(s0) + hyper[H_EPS]), s0, s1, s2
    if code == RMSPROP:
        alpha = hyper[H_ALPHA]
        s0 = alpha * s0 + (1.0 - alpha) * g * g
        if hyper[H_CENTERED] != 0.0:
            s1 = alpha * s1 + (1.0 - alpha) * g
            avg = math.sqrt(s0 - s1 * s1) + hyper[H_EPS]
        else:
            avg = math.sqrt(s0) + hyper[H_EPS]
        mom = hyper[H_MOMENTUM]
        if mom > 0.0:
            s2 = mom * s2 + g / avg
            return p - lr * s2, s0, s1, s2
        return p - lr * g / avg, s0, s1, s2
    if code == ADADELTA:
        rho = hyper[H_RHO]
        eps = hyper[H_EPS]
        s0 = rho * s0 + (1.0 - rho) * g * g
        delta = math.sqrt(s1 + eps) / math.sqrt(s0 + eps) * g
        s1 = rho * s1 + (1.0 - rho) * delta * delta
        return p - lr * delta, s0, s1, s2
    b1 = hyper[H_BETA1]
    b2 = hyper[H_BETA2]
    eps = hyper[H_EPS]
    s0 = b1 * s0 + (1.0 - b1) * g
    if code == ADAMAX:
        s1 = max(b2 * s1, abs(g) + eps)
        return p - lr / coef[C_BC1] * s0 / s1, s0, s1, s2
    s1 = b2 * s1 + (1.0 - b2) * g * g
    if code == NADAM:
        denom = math.sqrt(s1 / coef[C_BC2]) + eps
        p = p - lr * (1.0 - coef[C_MU]) / (1.0 - coef[C_MU_PRODUCT]) * g / denom
        p = p - lr * coef[C_MU_NEXT] / (1.0 - coef[C_MU_PRODUCT_NEXT]) * s0 / denom
        return p, s0, s1, s2
    # ADAM and ADAMW (AMSGrad is Adam with the amsgrad flag)
    v = s1
    if hyper[H_AMSGRAD] != 0.0:
        s2 = max(s2, s1)
        v = s2
    denom = math.sqrt(v) / math.sqrt(coef[C_BC2]) + eps
    return p - lr / coef[C_BC1] * s0 / denom, s0, s1, s2
