"""The LSTM's compiled passes (``dlopt_core.train.lstm``): forward pass, loss and
backpropagation through time on blocks of ``ROWS`` sequences, for one flat parameter vector in
PyTorch's layout (see ``lstm``'s docstring). The leaves (``tanh_fast``, ``dot``,
``output_loss``) are the MLP's own, from ``cpu``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dlopt_core.train.kernels import cpu, rules

ROWS = 64  # sequences per block of the compiled passes


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _offsets(n_in, n_hid, n_out):
    """Where weight_hh_l0, bias_ih_l0, bias_hh_l0, out_w and out_b start (weight_ih_l0: 0)."""
    h4 = 4 * n_hid
    w_hh = h4 * n_in
    b_ih = w_hh + h4 * n_hid
    b_hh = b_ih + h4
    o_w = b_hh + h4
    return w_hh, b_ih, b_hh, o_w, o_w + n_out * n_hid


@njit(cache=True, nogil=True, error_model="numpy")
def _forward(theta, n_in, n_hid, n_out, X, idx, m, Xb, G, C, TC, Hs, Z):
    """Run the sequences ``X[idx[r]]`` (r < m) through the cell and the read-out.

    Writes, the row r innermost: the inputs ``Xb[t, :, r]``, the activated gates ``G[t, :, r]``
    (i, f, g, o), the cell states ``C[t + 1, :, r]``, their tanh ``TC[t + 1, :, r]``, the hidden
    states ``Hs[t + 1, :, r]`` (index 0 holds the zero start) and the logits ``Z[r]``. Every
    loop over r is a loop over independent sequences, so it vectorises without changing any
    sum: a sequence's numbers do not depend on the block it is in.
    """
    T = X.shape[1]
    h4 = 4 * n_hid
    w_hh, b_ih, b_hh, o_w, o_b = _offsets(n_in, n_hid, n_out)
    for r in range(m):
        src = X[idx[r]]
        for t in range(T):
            for k in range(n_in):
                Xb[t, k, r] = src[t, k]
    for j in range(n_hid):
        for r in range(m):
            C[0, j, r] = 0.0
            TC[0, j, r] = 0.0
            Hs[0, j, r] = 0.0
    for t in range(T):
        xt = Xb[t]
        hp = Hs[t]
        gt = G[t]
        for u in range(h4):
            row = gt[u]
            bias = theta[b_ih + u] + theta[b_hh + u]
            for r in range(m):
                row[r] = bias
            for k in range(n_in):
                w = theta[u * n_in + k]
                src = xt[k]
                for r in range(m):
                    row[r] += w * src[r]
            for k in range(n_hid):
                w = theta[w_hh + u * n_hid + k]
                src = hp[k]
                for r in range(m):
                    row[r] += w * src[r]
            # the gate's non-linearity: tanh for g, sigmoid(z) = (1 + tanh(z / 2)) / 2 for i, f, o
            # (by tanh_fast, so that the loop vectorises)
            if 2 * n_hid <= u < 3 * n_hid:
                for r in range(m):
                    row[r] = cpu.tanh_fast(row[r])
            else:
                for r in range(m):
                    row[r] = 0.5 + 0.5 * cpu.tanh_fast(0.5 * row[r])
        for j in range(n_hid):
            gi = gt[j]
            gf = gt[n_hid + j]
            gg = gt[2 * n_hid + j]
            go = gt[3 * n_hid + j]
            c_prev = C[t, j]
            c_new = C[t + 1, j]
            tc_new = TC[t + 1, j]
            h_new = Hs[t + 1, j]
            for r in range(m):
                c = gf[r] * c_prev[r] + gi[r] * gg[r]
                c_new[r] = c
                tc_new[r] = cpu.tanh_fast(c)
            for r in range(m):
                h_new[r] = go[r] * tc_new[r]
    for o in range(n_out):
        for r in range(m):
            Z[r, o] = theta[o_b + o]
        for j in range(n_hid):
            w = theta[o_w + o * n_hid + j]
            src = Hs[T, j]
            for r in range(m):
                Z[r, o] += w * src[r]


@njit(cache=True, nogil=True, error_model="numpy")
def _backward(theta, n_in, n_hid, n_out, m, Xb, G, C, TC, Hs, Dz, grad, dh, dc, da, dz):
    """Add the gradient of the rows' losses to ``grad``, from ``Dz[r]`` = dloss/dlogits (scaled).

    Backpropagation through time, step T down to 1, with d = dloss/d(.):
    dc_t += dh_t o (1 - tanh^2 c_t);  da_o = dh_t tanh(c_t) o (1 - o);  da_i = dc_t g i (1 - i);
    da_f = dc_t c_{t-1} f (1 - f);  da_g = dc_t i (1 - g^2);  dc_{t-1} = dc_t f;
    dW_ih += da x_t^T;  dW_hh += da h_{t-1}^T;  db_ih = db_hh += da;  dh_{t-1} = W_hh^T da,
    summed over the rows. ``dh``, ``dc`` (H, rows), ``da`` (4H, rows), ``dz`` (rows,): scratch.
    """
    T = Xb.shape[0]
    h4 = 4 * n_hid
    w_hh, b_ih, b_hh, o_w, o_b = _offsets(n_in, n_hid, n_out)
    for j in range(n_hid):
        for r in range(m):
            dh[j, r] = 0.0
            dc[j, r] = 0.0
    for o in range(n_out):
        for r in range(m):
            dz[r] = Dz[r, o]
        s = 0.0
        for r in range(m):
            s += dz[r]
        grad[o_b + o] += s
        for j in range(n_hid):
            grad[o_w + o * n_hid + j] += cpu.dot(dz, Hs[T, j], m)
            w = theta[o_w + o * n_hid + j]
            dhj = dh[j]
            for r in range(m):
                dhj[r] += w * dz[r]
    for t in range(T - 1, -1, -1):
        gt = G[t]
        for j in range(n_hid):
            gi = gt[j]
            gf = gt[n_hid + j]
            gg = gt[2 * n_hid + j]
            go = gt[3 * n_hid + j]
            tc_t = TC[t + 1, j]
            c_prev = C[t, j]
            dhj = dh[j]
            dcj = dc[j]
            dai = da[j]
            daf = da[n_hid + j]
            dag = da[2 * n_hid + j]
            dao = da[3 * n_hid + j]
            for r in range(m):
                i = gi[r]
                f = gf[r]
                g = gg[r]
                o = go[r]
                tc = tc_t[r]
                dct = dcj[r] + dhj[r] * o * (1.0 - tc * tc)
                dai[r] = dct * g * i * (1.0 - i)
                daf[r] = dct * c_prev[r] * f * (1.0 - f)
                dag[r] = dct * i * (1.0 - g * g)
                dao[r] = dhj[r] * tc * o * (1.0 - o)
                dcj[r] = dct * f
        xt = Xb[t]
        hp = Hs[t]
        for u in range(h4):
            du = da[u]
            s = 0.0
            for r in range(m):
                s += du[r]
            grad[b_ih + u] += s
            grad[b_hh + u] += s
            for k in range(n_in):
                grad[u * n_in + k] += cpu.dot(du, xt[k], m)
            for k in range(n_hid):
                grad[w_hh + u * n_hid + k] += cpu.dot(du, hp[k], m)
        for k in range(n_hid):
            dhk = dh[k]
            for r in range(m):
                dhk[r] = 0.0
        for u in range(h4):
            du = da[u]
            for k in range(n_hid):
                w = theta[w_hh + u * n_hid + k]
                dhk = dh[k]
                for r in range(m):
                    dhk[r] += w * du[r]


@njit(cache=True, nogil=True, error_model="numpy")
def sequence_pass(theta, n_in, n_hid, n_out, loss, X, Y, rows, want_grad, grad, logits):
    """One pass over the sequences ``X[rows]`` in blocks of ``ROWS``: ``(mean loss, error)``.

    The mean is over the rows (and the outputs for mse), as in ``Network``; the error is the
    misclassified fraction, or the RMSE for mse; both NaN for no rows. The per-row loss and
    error are those of ``kernels.cpu.output_loss`` (the MLP's own). With ``want_grad`` the
    gradient of the mean loss is written into ``grad``; when ``logits`` has a row per sequence,
    the logits are written there. The one compiled entry point of this module (each entry point
    compiles the whole pass again), used for training, evaluation and prediction alike, so a
    loss is the same number whichever way it was asked for.
    """
    n = rows.shape[0]
    if want_grad:
        grad[:] = 0.0
    if n == 0:
        return math.nan, math.nan
    scale = 1.0 / n
    if loss == rules.MSE:
        scale = 1.0 / (n * n_out)
    block = min(n, ROWS)
    T = X.shape[1]
    Xb = np.empty((T, n_in, block))
    G = np.empty((T, 4 * n_hid, block))
    C = np.empty((T + 1, n_hid, block))
    TC = np.empty((T + 1, n_hid, block))
    Hs = np.empty((T + 1, n_hid, block))
    Z = np.empty((block, n_out))
    Dz = np.empty((block, n_out))
    dh = np.empty((n_hid, block))
    dc = np.empty((n_hid, block))
    da = np.empty((4 * n_hid, block))
    dz = np.empty(block)
    want_logits = logits.shape[0] == n
    total = 0.0
    errors = 0.0
    for start in range(0, n, block):
        m = min(block, n - start)
        idx = rows[start : start + m]
        _forward(theta, n_in, n_hid, n_out, X, idx, m, Xb, G, C, TC, Hs, Z)
        if want_logits:
            logits[start : start + m] = Z[:m]
        part, err = cpu.output_loss(loss, Z, Y, idx, m, Dz, scale, want_grad)
        total += part
        errors += err
        if want_grad:
            _backward(theta, n_in, n_hid, n_out, m, Xb, G, C, TC, Hs, Dz, grad, dh, dc, da, dz)
    mean = total * scale
    if loss == rules.MSE:
        return mean, math.sqrt(mean)
    return mean, errors / n
