"""Compiled loss evaluations for the loss-landscape tools (``dlopt_core.landscape``).

Every kernel here computes the mean loss of a parameter vector exactly as
``kernels.cpu.loss_and_grad`` does (same blocks of rows, same order of summation, same final
scaling), so a point of a line or of a plane that equals a network's parameters gives the very
number ``Network.loss_and_grad`` gives there, bit for bit.
"""

import math

import numpy as np
from numba import njit, prange

from . import cpu, rules


@njit(cache=True, nogil=True, error_model="numpy")
def workspaces(sizes, n_rows):
    """``(A, D, idx)``: the activation, delta and row-index workspaces for ``n_rows`` rows."""
    units, widest = cpu._units(sizes)
    rows = max(1, min(n_rows, cpu.EVAL_ROWS))
    A = np.empty((rows, units))
    D = np.empty((2, rows, widest))
    idx = np.empty(rows, dtype=np.int64)
    return A, D, idx


@njit(cache=True, nogil=True, error_model="numpy")
def loss_and_error(theta, sizes, woff, uoff, act, loss, X, Y, A, D, idx):
    """``(mean loss, error)`` of ``theta`` on all rows of ``X``; NaN for an empty set.

    mean loss = (sum of the per-row losses) * (1 / n), with n the number of rows (times the number
    of outputs for mse), as in ``cpu.loss_and_grad``. The error is the misclassified fraction for
    bce and ce and the root of the mean loss (the RMSE) for mse.
    """
    n = X.shape[0]
    if n == 0:
        return math.nan, math.nan
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    rows = idx.shape[0]
    total = 0.0
    errors = 0.0
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        cpu.forward(theta, sizes, woff, uoff, act, X, idx, m, A)
        part, err = cpu.output_loss(loss, A, uoff[n_layers], n_out, Y, idx, m, D[0], 1.0, False)
        total += part
        errors += err
    scale = 1.0 / n
    if loss == rules.MSE:
        scale = 1.0 / (n * n_out)
    mean = total * scale
    if loss == rules.MSE:
        return mean, math.sqrt(mean)
    return mean, errors / n


@njit(cache=True, nogil=True, error_model="numpy")
def line_losses(theta_a, theta_b, alphas, sizes, woff, uoff, act, loss, X, Y, out):
    """``out[k] = (loss, error)`` at ``(1 - alphas[k]) theta_a + alphas[k] theta_b``."""
    n_params = theta_a.shape[0]
    work = np.empty(n_params)
    A, D, idx = workspaces(sizes, X.shape[0])
    for k in range(alphas.shape[0]):
        a = alphas[k]
        for i in range(n_params):
            work[i] = (1.0 - a) * theta_a[i] + a * theta_b[i]
        out[k, 0], out[k, 1] = loss_and_error(work, sizes, woff, uoff, act, loss, X, Y, A, D, idx)


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def plane_losses(theta, d1, d2, alphas, betas, sizes, woff, uoff, act, loss, X, Y, out):
    """``out[i, j]`` = mean loss at ``theta + alphas[j] d1 + betas[i] d2`` (rows follow beta).

    Parallel over the rows of the grid; every point is computed on its own, so the numbers do not
    depend on the number of threads.
    """
    n_params = theta.shape[0]
    for i in prange(betas.shape[0]):
        work = np.empty(n_params)
        A, D, idx = workspaces(sizes, X.shape[0])
        b = betas[i]
        for j in range(alphas.shape[0]):
            a = alphas[j]
            for k in range(n_params):
                work[k] = theta[k] + a * d1[k] + b * d2[k]
            out[i, j], _ = loss_and_error(work, sizes, woff, uoff, act, loss, X, Y, A, D, idx)
