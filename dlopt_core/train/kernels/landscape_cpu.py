"""Compiled loss evaluations for the loss-landscape tools (``dlopt_core.studies.landscape``).

Every kernel here computes the mean loss of a parameter vector exactly as
``kernels.cpu.loss_and_grad`` does (same blocks of rows, same order of summation, same final
scaling), so a point of a line or of a plane that equals a network's parameters gives the very
number ``Network.loss_and_grad`` gives there, bit for bit.
"""

import math

import numpy as np
from numba import njit, prange

from . import cpu, rules, specialise

BLAS = False  # the product method of a copy, as in ``cpu``


def loss_and_error(theta, sizes, woff, uoff, lay, act, loss, X, Y, A, D, idx, rows):
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
    total = 0.0
    errors = 0.0
    for start in range(0, n, rows):
        m = min(rows, n - start)
        for r in range(m):
            idx[r] = start + r
        if BLAS:
            cpu.forward_blas(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        else:
            cpu.forward_loops(theta, sizes, woff, uoff, lay, act, X, idx, m, A, rows)
        part, err = cpu.output_loss(
            loss,
            cpu.logits_block(sizes, uoff, A, m, rows),
            Y,
            idx,
            m,
            cpu.block(D, 0, m, n_out),
            1.0,
            False,
        )
        total += part
        errors += err
    scale = cpu.loss_scale(loss, n, n_out)
    mean = total * scale
    if loss == rules.MSE:
        return mean, math.sqrt(mean)
    return mean, errors / n


def line_losses(theta_a, theta_b, alphas, sizes, woff, uoff, lay, act, loss, X, Y, out):
    """``out[k] = (loss, error)`` at ``(1 - alphas[k]) theta_a + alphas[k] theta_b``."""
    n_params = theta_a.shape[0]
    work = np.empty(n_params)
    rows = max(1, min(X.shape[0], cpu.EVAL_ROWS))
    A, D, _ = cpu.workspaces(sizes, rows)
    idx = np.empty(rows, dtype=np.int64)
    for k in range(alphas.shape[0]):
        a = alphas[k]
        for i in range(n_params):
            work[i] = (1.0 - a) * theta_a[i] + a * theta_b[i]
        out[k, 0], out[k, 1] = loss_and_error(
            work, sizes, woff, uoff, lay, act, loss, X, Y, A, D, idx, rows
        )


def plane_losses(theta, d1, d2, alphas, betas, sizes, woff, uoff, lay, act, loss, X, Y, out):
    """``out[i, j]`` = mean loss at ``theta + alphas[j] d1 + betas[i] d2`` (rows follow beta).

    Parallel over the rows of the grid; every point is computed on its own, so the numbers do not
    depend on the number of threads.
    """
    n_params = theta.shape[0]
    rows = max(1, min(X.shape[0], cpu.EVAL_ROWS))
    for i in prange(betas.shape[0]):
        work = np.empty(n_params)
        A, D, _ = cpu.workspaces(sizes, rows)
        idx = np.empty(rows, dtype=np.int64)
        b = betas[i]
        for j in range(alphas.shape[0]):
            a = alphas[j]
            for k in range(n_params):
                work[k] = theta[k] + a * d1[k] + b * d2[k]
            out[i, j], _ = loss_and_error(
                work, sizes, woff, uoff, lay, act, loss, X, Y, A, D, idx, rows
            )


def _copies(parallel: bool = False):
    """``line_losses`` or ``plane_losses`` in its loops and its BLAS copy (``cpu.LOOPS``,
    ``cpu.WITH_BLAS``), each calling its own copy of ``loss_and_error``."""
    template = plane_losses if parallel else line_losses
    out = []
    for tag, blas in (("loops", False), ("blas", True)):
        inner = njit(**cpu.KW)(specialise(loss_and_error, f"loss_and_error_{tag}", BLAS=blas))
        out.append(
            njit(**cpu.KW, parallel=parallel)(
                specialise(template, f"{template.__name__}_{tag}", loss_and_error=inner)
            )
        )
    return tuple(out)


line_losses_by = _copies()
plane_losses_by = _copies(parallel=True)
