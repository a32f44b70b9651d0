"""The trainability map's trainer on NVIDIA GPUs: one thread trains one model.

The arithmetic is the CPU kernel's (``trainability._train_block``) in the same order, lane by
lane, and the leaves (``tanh_lane``, ``adam_step``) are the same Python source compiled with
``cuda.jit(device=True)``; on Numba's CUDA simulator the two backends agree to the last bit. Every
array keeps the model as its last, contiguous dimension, so the threads of a warp read
neighbouring numbers. Import this module only after ``numba.cuda`` is known to work (or under
``NUMBA_ENABLE_CUDASIM=1``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from . import trainability as K

THREADS_PER_BLOCK = 64

_tanh = cuda.jit(device=True)(K.tanh_lane)
_adam = cuda.jit(device=True)(K.adam_step)


@cuda.jit(device=True)
def _forward_row(X, Y, i, w1, w2, z, m, s):
    """Row ``i`` through model ``m``: ``z[:, m]`` becomes h; returns the residual."""
    d = X.shape[1]
    for j in range(d):
        z[j, m] = 0.0
    for k in range(d):
        xik = X[i, k]
        for j in range(d):
            z[j, m] += xik * w1[k, j, m]
    for j in range(d):
        z[j, m] = _tanh(s * z[j, m])
    out = 0.0
    for j in range(d):
        out += z[j, m] * w2[j, m]
    return out / d - Y[i, 0]


@cuda.jit(device=True)
def _backward_row(X, i, r, w2, z, dz, g1, g2, m):
    d = X.shape[1]
    for j in range(d):
        g2[j, m] += z[j, m] * r
        dz[j, m] = r * w2[j, m] * (1.0 - z[j, m] * z[j, m])
    for k in range(d):
        xik = X[i, k]
        for j in range(d):
            g1[k, j, m] += xik * dz[j, m]


@cuda.jit
def _train_kernel(
    X, Y, W1, W2, hyper, opt, steps, batches, losses, w1, w2, g1, g2, a1, a2, b1, b2, z, dz
):  # noqa: C901
    m = cuda.grid(1)
    if m >= hyper.shape[1]:
        return
    n, d = X.shape
    nb = batches.shape[1]
    s = math.sqrt(2.0 / d)
    c2 = 2.0 / ((n if nb == 0 else nb) * d)
    c1 = c2 * s
    lr1 = hyper[K.H_LR1, m]
    lr2 = hyper[K.H_LR2, m]
    beta = hyper[K.H_BETA, m]
    for k in range(d):
        for j in range(d):
            w1[k, j, m] = W1[k, j] + hyper[K.H_OFFSET, m]
            a1[k, j, m] = 0.0
            b1[k, j, m] = 0.0
    for j in range(d):
        w2[j, m] = W2[j, 0]
        a2[j, m] = 0.0
        b2[j, m] = 0.0
    for t in range(steps):
        for k in range(d):
            for j in range(d):
                g1[k, j, m] = 0.0
        for j in range(d):
            g2[j, m] = 0.0
        loss = 0.0
        for i in range(n):
            r = _forward_row(X, Y, i, w1, w2, z, m, s)
            loss += r * r
            if nb == 0:
                _backward_row(X, i, r, w2, z, dz, g1, g2, m)
        for b in range(nb):
            i = batches[t, b]
            r = _forward_row(X, Y, i, w1, w2, z, m, s)
            _backward_row(X, i, r, w2, z, dz, g1, g2, m)
        value = loss / n
        if not math.isfinite(value):
            for u in range(t, steps):
                losses[u, m] = math.nan
            return
        losses[t, m] = value
        if opt == K.GD:
            for k in range(d):
                for j in range(d):
                    w1[k, j, m] -= lr1 * (c1 * g1[k, j, m])
            for j in range(d):
                w2[j, m] -= lr2 * (c2 * g2[j, m])
        elif opt == K.MOMENTUM:
            for k in range(d):
                for j in range(d):
                    a1[k, j, m] = beta * a1[k, j, m] + c1 * g1[k, j, m]
                    w1[k, j, m] -= lr1 * a1[k, j, m]
            for j in range(d):
                a2[j, m] = beta * a2[j, m] + c2 * g2[j, m]
                w2[j, m] -= lr2 * a2[j, m]
        else:
            bias2 = 1.0 - math.pow(K.ADAM_BETA2, t + 1.0)
            bias1 = 1.0 - math.pow(beta, t + 1.0)
            for k in range(d):
                for j in range(d):
                    a1[k, j, m], b1[k, j, m], dw = _adam(
                        a1[k, j, m], b1[k, j, m], c1 * g1[k, j, m], lr1, beta, bias1, bias2
                    )
                    w1[k, j, m] += dw
            for j in range(d):
                a2[j, m], b2[j, m], dw = _adam(
                    a2[j, m], b2[j, m], c2 * g2[j, m], lr2, beta, bias1, bias2
                )
                w2[j, m] += dw


def kernel_arguments(X, Y, W1, W2, hyper, opt, steps, batches, losses, to_device, empty) -> tuple:
    """The kernel's arguments: inputs copied by ``to_device``, workspaces from ``empty``."""
    d, M = X.shape[1], hyper.shape[1]
    work = [
        empty(shape, np.float64)
        for shape in (
            (d, d, M),
            (d, M),
            (d, d, M),
            (d, M),
            (d, d, M),
            (d, M),
            (d, d, M),
            (d, M),
            (d, M),
            (d, M),
        )
    ]
    return (
        to_device(np.ascontiguousarray(X)),
        to_device(np.ascontiguousarray(Y)),
        to_device(np.ascontiguousarray(W1)),
        to_device(np.ascontiguousarray(W2)),
        to_device(np.ascontiguousarray(hyper)),
        int(opt),
        int(steps),
        to_device(np.ascontiguousarray(batches)),
        to_device(losses),
        *work,
    )


def train_models(X, Y, W1, W2, hyper, opt, steps, batches, losses) -> None:
    """The CPU kernel's ``train_models`` on the current CUDA device: fills ``losses[T, M]``."""
    args = kernel_arguments(
        X, Y, W1, W2, hyper, opt, steps, batches, losses, cuda.to_device, cuda.device_array
    )
    blocks = (hyper.shape[1] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    _train_kernel[blocks, THREADS_PER_BLOCK](*args)
    args[8].copy_to_host(losses)
