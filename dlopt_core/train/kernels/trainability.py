"""The trainability map's many-model trainer: a two-layer mean-field network, full batch.

The network (no biases) is ``h = tanh(s * X W1)``, ``out = h W2 / d`` with ``s = sqrt(2 / d)``,
``d`` the width; the loss is the mean squared error over the ``n`` rows. Every model of a map has
the same data and initial weights and differs only in its hyper-parameters (two learning rates,
an offset added to W1's initial values, momentum or Adam's beta1).

Layout: models are the innermost, contiguous dimension (``hyper[H, M]``, ``losses[T, M]``, and
inside a block ``w1[d, d, LANES]``), so the compiler turns every loop over a block's models into
SIMD instructions; ``prange`` runs blocks of :data:`LANES` models in parallel. A model's numbers
depend on nothing but its own hyper-parameters: no sum runs across models, and the block width
is a compile-time constant, so a model trains alike in any block, tile, thread or process.

``tanh`` here is :func:`tanh_lane`, a branch-free double-precision tanh (within a few ulp of the
C library's) that the compiler can vectorise; the library's own is a scalar call that would cost
more than the matrix products.

The leaves (``tanh_lane``, ``adam_step``) are plain Python compiled by ``njit`` for the CPU and
by ``cuda.jit(device=True)`` for the GPU (``trainability_cuda``), so both use the same formulas.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LANES = 8  # models per SIMD block; a compile-time constant
GD, MOMENTUM, ADAM = 0, 1, 2  # optimizer codes
H_LR1, H_LR2, H_OFFSET, H_BETA = 0, 1, 2, 3  # rows of ``hyper``
N_HYPER = 4
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8
TANH_ONE = 20.0  # tanh(x) rounds to 1.0 in double precision for |x| >= 19.1
LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * LN2_HI is exact (Cody and Waite)
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
ROUND = 6755399441055744.0  # 1.5 * 2**52: adding and subtracting it rounds to a whole number
# 1/j! for the Taylor series of expm1 on |r| <= ln(2)/2 (the 14th term is below 1e-17 * r)
_C2, _C3, _C4, _C5, _C6, _C7 = 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040
_C8, _C9, _C10, _C11 = 1 / 40320, 1 / 362880, 1 / 3628800, 1 / 39916800
_C12, _C13 = 1 / 479001600, 1 / 6227020800


def tanh_lane(x: float) -> float:
    """tanh(x) without a library call: ``tanh|x| = -e / (2 + e)`` with ``e = expm1(-2|x|)``.

    expm1(u) for u in [-40, 0]: u = k ln2 + r with |r| <= ln2 / 2, expm1(u) = 2^k expm1(r) +
    (2^k - 1), expm1(r) by its Taylor series, 2^k as a product of exact powers of two chosen by
    the bits of -k. Every branch is a select, so a loop over models vectorises. NaN stays NaN.
    """
    a = -x if x < 0.0 else x
    a = TANH_ONE if a > TANH_ONE else a
    u = -2.0 * a
    k = (u * INV_LN2 + ROUND) - ROUND  # the nearest whole number, by pure arithmetic
    r = (u - k * LN2_HI) - k * LN2_LO
    p = _C12 + r * _C13
    p = _C11 + r * p
    p = _C10 + r * p
    p = _C9 + r * p
    p = _C8 + r * p
    p = _C7 + r * p
    p = _C6 + r * p
    p = _C5 + r * p
    p = _C4 + r * p
    p = _C3 + r * p
    p = _C2 + r * p
    p = r * (1.0 + r * p)
    nk = -k  # 0 .. 58: 2^k from the bits of nk, high to low, each a select
    two_k = 1.0
    big = nk >= 32.0
    two_k *= 2.3283064365386963e-10 if big else 1.0
    nk -= 32.0 if big else 0.0
    big = nk >= 16.0
    two_k *= 1.52587890625e-05 if big else 1.0
    nk -= 16.0 if big else 0.0
    big = nk >= 8.0
    two_k *= 0.00390625 if big else 1.0
    nk -= 8.0 if big else 0.0
    big = nk >= 4.0
    two_k *= 0.0625 if big else 1.0
    nk -= 4.0 if big else 0.0
    big = nk >= 2.0
    two_k *= 0.25 if big else 1.0
    nk -= 2.0 if big else 0.0
    two_k *= 0.5 if nk >= 1.0 else 1.0
    e = two_k * p + (two_k - 1.0)
    t = -e / (2.0 + e)
    return -t if x < 0.0 else t


def adam_step(
    m: float, v: float, g: float, lr: float, beta1: float, bias1: float, bias2: float
) -> tuple[float, float, float]:
    """Adam (PyTorch's form) for one weight: ``(new m, new v, the change to the weight)``."""
    m = beta1 * m + (1.0 - beta1) * g
    v = ADAM_BETA2 * v + (1.0 - ADAM_BETA2) * g * g
    return m, v, -lr * (m / bias1) / (math.sqrt(v / bias2) + ADAM_EPS)


tanh_lane_cpu = njit(cache=True, inline="always", error_model="numpy")(tanh_lane)
adam_step_cpu = njit(cache=True, inline="always", error_model="numpy")(adam_step)


# the row passes are inlined into the block's loop over rows (a tenth of the map's time, measured)
@njit(cache=True, error_model="numpy", inline="always")
def _forward_row(X, Y, i, w1, w2, z, out, rq, s):
    """Row ``i`` through a block: ``z`` becomes h (flat, ``j * LANES + u``), ``rq`` the residual
    of each lane repeated for each j."""
    L = LANES
    d = X.shape[1]
    q_n = d * L
    z[:] = 0.0
    for k in range(d):
        xik = X[i, k]
        w1k = w1[k]
        for q in range(q_n):
            z[q] += xik * w1k[q]
    for q in range(q_n):
        z[q] = tanh_lane_cpu(s * z[q])
    out[:] = 0.0
    for j in range(d):
        for u in range(L):
            out[u] += z[j * L + u] * w2[j * L + u]
    for u in range(L):
        r = out[u] / d - Y[i, 0]
        for j in range(d):
            rq[j * L + u] = r


@njit(cache=True, error_model="numpy", inline="always")
def _backward_row(X, i, w2, z, rq, dz, g1, g2):
    """Add row ``i``'s share to the block's gradient sums (after ``_forward_row``)."""
    q_n = z.shape[0]
    for q in range(q_n):
        g2[q] += z[q] * rq[q]
        dz[q] = rq[q] * w2[q] * (1.0 - z[q] * z[q])
    for k in range(X.shape[1]):
        xik = X[i, k]
        g1k = g1[k]
        for q in range(q_n):
            g1k[q] += xik * dz[q]


@njit(cache=True, error_model="numpy")
def _train_block(X, Y, W1, W2, hyper, opt, steps, batches, losses, m0):  # noqa: C901
    """Train models ``m0 .. m0 + LANES`` and write their losses (``nan`` once a loss was not
    finite: such a run has diverged and stops). ``batches[t]`` are the rows of step t's
    gradient (mini-batches); with no columns every step takes the whole data set. The loss is
    always that of the whole data set.

    A block's weights are flat: ``w1[k, j * LANES + u]`` is W1[k, j] of model ``m0 + u``, so
    the long loops run over ``d * LANES`` contiguous numbers."""
    L = LANES
    n, d = X.shape
    q_n = d * L
    s = math.sqrt(2.0 / d)
    nb = batches.shape[1]
    c2 = 2.0 / ((n if nb == 0 else nb) * d)  # d loss / d W2 = c2 * sum_i h_i r_i
    c1 = c2 * s  # d loss / d W1 = c1 * sum_i x_i (r_i W2 (1 - h_i^2))
    w1 = np.empty((d, q_n))
    w2 = np.empty(q_n)
    g1 = np.empty((d, q_n))
    g2 = np.empty(q_n)
    a1 = np.zeros((d, q_n))  # momentum buffer or Adam's first moment
    a2 = np.zeros(q_n)
    b1 = np.zeros((d, q_n))  # Adam's second moment
    b2 = np.zeros(q_n)
    z = np.empty(q_n)
    dz = np.empty(q_n)
    rq = np.empty(q_n)  # a lane's value repeated for each j
    lr1 = np.empty(q_n)
    lr2 = np.empty(q_n)
    beta = np.empty(q_n)
    bias1 = np.empty(q_n)
    out = np.empty(L)
    loss = np.empty(L)
    alive = np.ones(L, dtype=np.bool_)
    for j in range(d):
        for u in range(L):
            lr1[j * L + u] = hyper[H_LR1, m0 + u]
            lr2[j * L + u] = hyper[H_LR2, m0 + u]
            beta[j * L + u] = hyper[H_BETA, m0 + u]
            w2[j * L + u] = W2[j, 0]
            for k in range(d):
                w1[k, j * L + u] = W1[k, j] + hyper[H_OFFSET, m0 + u]
    for t in range(steps):
        g1[:] = 0.0
        g2[:] = 0.0
        loss[:] = 0.0
        for i in range(n):
            _forward_row(X, Y, i, w1, w2, z, out, rq, s)
            for u in range(L):
                loss[u] += rq[u] * rq[u]
            if nb == 0:
                _backward_row(X, i, w2, z, rq, dz, g1, g2)
        for b in range(nb):
            i = batches[t, b]
            _forward_row(X, Y, i, w1, w2, z, out, rq, s)
            _backward_row(X, i, w2, z, rq, dz, g1, g2)
        any_alive = False
        for u in range(L):
            value = loss[u] / n
            if alive[u] and not np.isfinite(value):
                alive[u] = False
            losses[t, m0 + u] = value if alive[u] else np.nan
            any_alive = any_alive or alive[u]
        if not any_alive:
            losses[t + 1 :, m0 : m0 + L] = np.nan
            return
        if opt == GD:
            for k in range(d):
                w1k = w1[k]
                g1k = g1[k]
                for q in range(q_n):
                    w1k[q] -= lr1[q] * (c1 * g1k[q])
            for q in range(q_n):
                w2[q] -= lr2[q] * (c2 * g2[q])
        elif opt == MOMENTUM:  # PyTorch's SGD: buf = mu * buf + g; w -= lr * buf
            for k in range(d):
                w1k = w1[k]
                g1k = g1[k]
                a1k = a1[k]
                for q in range(q_n):
                    a1k[q] = beta[q] * a1k[q] + c1 * g1k[q]
                    w1k[q] -= lr1[q] * a1k[q]
            for q in range(q_n):
                a2[q] = beta[q] * a2[q] + c2 * g2[q]
                w2[q] -= lr2[q] * a2[q]
        else:
            bias2 = 1.0 - math.pow(ADAM_BETA2, t + 1.0)
            for q in range(q_n):
                bias1[q] = 1.0 - math.pow(beta[q], t + 1.0)
            for k in range(d):
                w1k = w1[k]
                g1k = g1[k]
                a1k = a1[k]
                b1k = b1[k]
                for q in range(q_n):
                    a1k[q], b1k[q], dw = adam_step_cpu(
                        a1k[q], b1k[q], c1 * g1k[q], lr1[q], beta[q], bias1[q], bias2
                    )
                    w1k[q] += dw
            for q in range(q_n):
                a2[q], b2[q], dw = adam_step_cpu(
                    a2[q], b2[q], c2 * g2[q], lr2[q], beta[q], bias1[q], bias2
                )
                w2[q] += dw


@njit(cache=True, parallel=True, error_model="numpy")
def train_models(X, Y, W1, W2, hyper, opt, steps, batches, losses):
    """Train ``M`` models (``hyper[N_HYPER, M]``, M a multiple of LANES) for ``steps`` steps;
    ``losses[t, m]`` is model m's loss before step t. ``batches[steps, B]`` (int64) are the
    rows of each step's mini-batch, the same for every model; B = 0: full batch."""
    for b in prange(hyper.shape[1] // LANES):
        _train_block(X, Y, W1, W2, hyper, opt, steps, batches, losses, b * LANES)
