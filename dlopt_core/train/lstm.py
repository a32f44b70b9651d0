"""A one-layer LSTM with a linear read-out, on one flat parameter vector.

The cell is PyTorch's ``nn.LSTM`` (one layer, batch first, h_0 = c_0 = 0). For a sequence
x_1 .. x_T (x_t of length I) and H hidden units, step t computes

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H pre-activations, gates i, f, g, o)
    i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

and the read-out ``z = out_w h_T + out_b`` (an ``nn.Linear(H, O)`` on the last hidden state)
gives the logits, with the losses of ``dlopt_core.train.network`` (bce, ce, mse; a mean over the
batch).

Layout of ``theta`` (float64), PyTorch's names, shapes and gate order, each block row-major:

    name          shape     nn.LSTM / nn.Linear parameter
    weight_ih_l0  (4H, I)   lstm.weight_ih_l0   rows [i; f; g; o]
    weight_hh_l0  (4H, H)   lstm.weight_hh_l0
    bias_ih_l0    (4H,)     lstm.bias_ih_l0
    bias_hh_l0    (4H,)     lstm.bias_hh_l0
    out_w         (O, H)    linear.weight
    out_b         (O,)      linear.bias

so ``theta = concatenate([p.ravel() for p in (weight_ih_l0, ..., out_b)])`` and
``unflatten``/``flatten`` go between the two. P = 4H (I + H + 2) + O (H + 1).

Forward pass, loss and backpropagation through time are compiled with Numba; training
(``SequenceTrainer``, ``train``) steps the core's own optimizers (``Optimizer.step``, the compiled
update rules of the engine) at the learning rate of any schedule of the core, with the engine's
batch order. ``adding_task`` is a memory task that trains in seconds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

from dlopt_core.train.kernels import cpu, rules
from dlopt_core.train.network import LOSSES, check_targets, loss_outputs
from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule, constant

NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "out_w", "out_b")
INIT_SCHEMES = ("pytorch", "normal", "zeros")
ROWS = 64  # sequences per block of the compiled passes
_NO_GRAD = np.empty(0)
_NO_LOGITS = np.empty((0, 1))


# =================================================================================================
# Compiled kernels
# =================================================================================================


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


# =================================================================================================
# The model
# =================================================================================================


class LSTMNetwork:
    """``LSTMNetwork(input_size, hidden_size, output_size, loss)``: one LSTM layer, then a linear
    read-out of the last hidden state; inputs X of shape (N, T, input_size), batch first."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1, loss: str = "mse"):
        sizes = (input_size, hidden_size, output_size)
        if any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in sizes):
            raise ValueError(
                f"input_size, hidden_size and output_size must be positive integers, got {sizes}"
            )
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        if loss == "bce" and output_size != 1:
            raise ValueError(f"the bce loss needs one output unit, got {output_size}")
        if loss == "ce" and output_size < 2:
            raise ValueError("the ce loss needs at least two output units (one per class)")
        self.input_size, self.hidden_size, self.output_size = (int(s) for s in sizes)
        self.loss = loss
        self.loss_code = LOSSES.index(loss)
        n_in, h, n_out = self.input_size, self.hidden_size, self.output_size
        self.shapes: dict[str, tuple[int, ...]] = {
            "weight_ih_l0": (4 * h, n_in),
            "weight_hh_l0": (4 * h, h),
            "bias_ih_l0": (4 * h,),
            "bias_hh_l0": (4 * h,),
            "out_w": (n_out, h),
            "out_b": (n_out,),
        }
        self.offsets: dict[str, int] = {}
        start = 0
        for name in NAMES:
            self.offsets[name] = start
            start += math.prod(self.shapes[name])
        self.n_params = start

    @property
    def dims(self) -> tuple[int, int, int]:
        return self.input_size, self.hidden_size, self.output_size

    def __repr__(self) -> str:
        return (
            f"LSTMNetwork({self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"loss={self.loss!r})"
        )

    def describe(self) -> str:
        """One line for a reader: the sizes and the loss."""
        return (
            f"LSTM, {self.input_size} input{'s' * (self.input_size > 1)}, "
            f"{self.hidden_size} hidden units, linear read-out to {self.output_size}, "
            f"{self.loss} loss"
        )

    # -- parameters -------------------------------------------------------------------------------
    def init(
        self, seed: int = 0, scheme: str = "pytorch", std: float = 0.1, forget_bias: float = 0.0
    ) -> np.ndarray:
        """Initial parameters.

        pytorch: every weight and bias ~ U(-k, k), k = 1 / sqrt(H), as ``nn.LSTM`` and
        ``nn.Linear(H, O)`` do by default; normal: weights ~ N(0, std^2), biases 0; zeros: all
        zero. ``forget_bias`` is then added to ``bias_hh_l0`` of the forget gate (the usual trick
        of a forget gate open from the start; 0 leaves the scheme as it is).
        """
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {scheme!r}; choose one of {INIT_SCHEMES}")
        rng = np.random.default_rng(seed)
        theta = np.zeros(self.n_params)
        if scheme == "pytorch":
            k = 1.0 / math.sqrt(self.hidden_size)
            theta[:] = rng.uniform(-k, k, size=self.n_params)
        elif scheme == "normal":
            params = self.unflatten(theta)
            for name in ("weight_ih_l0", "weight_hh_l0", "out_w"):
                params[name][:] = rng.normal(0.0, std, size=params[name].shape)
        H = self.hidden_size
        self.unflatten(theta)["bias_hh_l0"][H : 2 * H] += forget_bias
        return theta

    def unflatten(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """``{name: array}`` with PyTorch's names and shapes, as views into ``theta``."""
        theta = self._check_theta(theta)
        return {
            name: theta[self.offsets[name] : self.offsets[name] + math.prod(shape)].reshape(shape)
            for name, shape in self.shapes.items()
        }

    def flatten(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """The flat vector of ``{name: array}`` (the names of ``unflatten``, every one given)."""
        missing = [name for name in NAMES if name not in params]
        unknown = sorted(set(params) - set(NAMES))
        if missing or unknown:
            raise ValueError(
                f"parameters must be exactly {', '.join(NAMES)}; "
                f"missing {missing}, unknown {unknown}"
            )
        parts = []
        for name in NAMES:
            value = np.asarray(params[name], dtype=np.float64)
            if value.shape != self.shapes[name]:
                raise ValueError(f"{name} must have shape {self.shapes[name]}, got {value.shape}")
            parts.append(value.ravel())
        return np.concatenate(parts)

    def filter_groups(self) -> np.ndarray:
        """For filter-normalised directions: a group number per parameter, -1 for biases.

        A filter is one unit's incoming weights: row u of [weight_ih_l0 | weight_hh_l0] for each
        of the 4H gate units, and row o of out_w for each output.
        """
        groups = np.full(self.n_params, -1, dtype=np.int64)
        h4 = 4 * self.hidden_size
        w_hh = self.offsets["weight_hh_l0"]
        units = np.arange(h4)
        groups[:w_hh] = np.repeat(units, self.input_size)
        groups[w_hh : w_hh + h4 * self.hidden_size] = np.repeat(units, self.hidden_size)
        o_w = self.offsets["out_w"]
        groups[o_w : o_w + self.output_size * self.hidden_size] = np.repeat(
            h4 + np.arange(self.output_size), self.hidden_size
        )
        return groups

    # -- losses -----------------------------------------------------------------------------------
    def loss_and_grad(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``(loss, grad)``: mean loss over the sequences of ``X`` and its gradient, flat."""
        theta = self._check_theta(theta)
        X, Y = self.prepare(X, y)
        grad = np.empty(self.n_params)
        loss, _ = self._pass(theta, X, Y, np.arange(X.shape[0]), True, grad)
        return float(loss), grad

    def _pass(
        self,
        theta: np.ndarray,
        X: np.ndarray,
        Y: np.ndarray,
        rows: np.ndarray,
        want_grad: bool,
        grad: np.ndarray,
        logits: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """``sequence_pass`` on checked arrays."""
        out = _NO_LOGITS if logits is None else logits
        return sequence_pass(
            theta, *self.dims, self.loss_code, X, Y, rows, bool(want_grad), grad, out
        )

    def evaluate(self, thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``(K, 2)``: mean loss and error (misclassified fraction, or RMSE for mse) of each row
        of ``thetas`` (K, P) on ``(X, y)``, in compiled code, in threads over the rows; NaN for
        an empty set. The loss equals ``loss_and_grad``'s, bit for bit."""
        thetas = np.ascontiguousarray(thetas, dtype=np.float64)
        if thetas.ndim != 2 or thetas.shape[1] != self.n_params:
            raise ValueError(f"thetas must have shape (K, {self.n_params}), got {thetas.shape}")
        X, Y = self.prepare(X, y, allow_empty=True)
        rows = np.arange(X.shape[0])
        out = np.empty((thetas.shape[0], 2))

        def block(first: int, last: int) -> None:
            for k in range(first, last):
                out[k] = self._pass(thetas[k], X, Y, rows, False, _NO_GRAD)

        workers = min(thetas.shape[0], os.cpu_count() or 1)
        if workers <= 1:
            block(0, thetas.shape[0])
            return out
        # the kernel releases the GIL: one block of points per thread, each point on its own,
        # so the numbers do not depend on the number of threads
        cuts = np.linspace(0, thetas.shape[0], workers + 1).astype(np.int64)
        with ThreadPoolExecutor(workers) as pool:
            for job in [
                pool.submit(block, int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)
            ]:
                job.result()
        return out

    def logits(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Read-out outputs before the loss's non-linearity, shape (N, O)."""
        theta = self._check_theta(theta)
        X = self._check_X(X)
        out = np.empty((X.shape[0], self.output_size))
        Y = np.zeros((X.shape[0], self.output_size))  # a valid label for every loss, unused
        self._pass(theta, X, Y, np.arange(X.shape[0]), False, _NO_GRAD, out)
        return out

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Outputs: P(y = 1) for bce (N,), class probabilities for ce (N, K), values for mse."""
        return loss_outputs(self.loss, self.logits(theta, X))

    # -- checks -----------------------------------------------------------------------------------
    def prepare(
        self, X: np.ndarray, y: np.ndarray, allow_empty: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check and shape sequences and labels into the kernels' (N, T, I) and (N, k) arrays."""
        X = self._check_X(X)
        if X.shape[0] == 0 and not allow_empty:
            raise ValueError("X has no sequences: a loss needs at least one")
        return X, check_targets(self.loss, self.output_size, X.shape[0], y, "sequences")

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 3 or X.shape[2] != self.input_size or X.shape[1] < 1:
            raise ValueError(
                f"X must have shape (N, T, {self.input_size}) with T >= 1 "
                f"(batch first), got {X.shape}"
            )
        return X

    def _check_theta(self, theta: np.ndarray) -> np.ndarray:
        if not isinstance(theta, np.ndarray) or theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {np.shape(theta)}")
        if theta.dtype != np.float64:
            raise ValueError("theta must be float64")
        return theta


# =================================================================================================
# A task that needs memory
# =================================================================================================


@dataclass(frozen=True)
class SequenceData:
    """Sequences (N, T, I), batch first, with their targets; a training/validation split."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    description: str = ""

    @property
    def length(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def input_size(self) -> int:
        return int(self.X_train.shape[2])


def adding_task(
    n_samples: int = 600, length: int = 20, val_fraction: float = 0.25, seed: int = 0
) -> SequenceData:
    """The adding problem (Hochreiter & Schmidhuber 1997): remember one number for many steps.

    Each sequence has ``length`` steps of two inputs: a value ~ U(0, 1) and a marker, 1 at exactly
    two steps and 0 elsewhere. The first marked step is in the first half, the second in the
    second half; the target is the sum of the two marked values minus 1, so that its mean is 0:
    a network with small weights, which outputs about 0, starts at the best guess without
    memory, the variance 1/6 (mse). To do better the network must carry the first marked value
    to the end, across at least ``length / 2`` steps: the task needs memory. The last
    ``round(val_fraction * n_samples)`` sequences are the validation set. The same arguments
    give the same sequences.
    """
    n_samples, length = int(n_samples), int(length)
    if n_samples < 2:
        raise ValueError(f"n_samples must be >= 2, got {n_samples}")
    if length < 2:
        raise ValueError(f"length must be >= 2 (two marked steps), got {length}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    half = length // 2
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(n_samples, length))
    first = rng.integers(0, half, size=n_samples)
    second = rng.integers(half, length, size=n_samples)
    X = np.zeros((n_samples, length, 2))
    X[:, :, 0] = values
    rows = np.arange(n_samples)
    X[rows, first, 1] = 1.0
    X[rows, second, 1] = 1.0
    y = values[rows, first] + values[rows, second] - 1.0
    n_val = int(round(val_fraction * n_samples))
    n_train = n_samples - n_val
    if n_train < 1:
        raise ValueError(f"val_fraction {val_fraction!r} leaves no training sequence")
    return SequenceData(
        "adding",
        X[:n_train],
        y[:n_train],
        X[n_train:],
        y[n_train:],
        f"adding problem: {length} steps of (value, marker), the target the sum of the two "
        "marked values minus 1",
    )


# =================================================================================================
# Training
# =================================================================================================


@dataclass(frozen=True)
class SequenceMetrics:
    """Losses and errors at ``steps`` (R,), every ``eval_every`` steps: the mean over the whole
    training and validation sets (NaN without validation), the norm of the step's gradient and
    its learning rate."""

    steps: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_error: np.ndarray
    val_error: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


_METRIC_FIELDS = ("train_loss", "val_loss", "train_error", "val_error", "grad_norm", "lr")


class SequenceTrainer:
    """Mini-batch training of an ``LSTMNetwork`` with an optimizer and schedule of the core.

    Step t takes the rows of epoch e = t // steps_per_epoch in the engine's order,
    ``numpy.random.default_rng([seed, e]).permutation(n_train)``, in batches of ``batch_size``
    with a smaller last batch; computes the mean loss gradient of the batch in compiled code;
    clips its global norm to ``clip_norm`` (if > 0); and applies ``optimizer.step`` (the
    compiled update rule of the engine) at ``schedule(lr, t)``. The order depends on the step
    count alone, so ``run`` in chunks of any size gives the same numbers. A step whose loss,
    gradient or parameters are not finite stops the run with status ``diverged``.
    """

    def __init__(
        self,
        network: LSTMNetwork,
        data: SequenceData,
        optimizer: Optimizer,
        schedule: Schedule | None = None,
        batch_size: int = 32,
        seed: int = 0,
        theta0: np.ndarray | None = None,
        clip_norm: float = 0.0,
        eval_every: int = 50,
    ):
        if batch_size < 1 or eval_every < 1 or clip_norm < 0.0:
            raise ValueError("batch_size and eval_every must be >= 1 and clip_norm >= 0")
        self.model = network
        self.X, self.y = network.prepare(data.X_train, data.y_train)
        self.Xv, self.yv = network.prepare(data.X_val, data.y_val, allow_empty=True)
        self.optimizer = optimizer
        self.schedule = schedule or constant()
        self.batch_size = min(int(batch_size), self.X.shape[0])
        self.seed = int(seed)
        self.clip_norm = float(clip_norm)
        self.eval_every = int(eval_every)
        theta = network.init(seed) if theta0 is None else np.array(theta0, dtype=np.float64)
        self.theta_init = network._check_theta(theta).copy()
        self.theta = self.theta_init.copy()
        self.state = optimizer.init(self.theta)
        self.step = 0
        self.status = "running"
        self.stop_step = -1
        self._grad = np.empty(network.n_params)
        self._epoch = -1
        self._perm = np.empty(0, dtype=np.int64)
        self._records: list[tuple[int, tuple[float, ...]]] = []

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def batch_rows(self, t: int) -> np.ndarray:
        """The training rows of step ``t`` (a pure function of seed, batch size and t)."""
        spe = self.steps_per_epoch
        epoch = t // spe
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.X.shape[0])
            self._epoch = epoch
        start = (t - epoch * spe) * self.batch_size
        return self._perm[start : start + self.batch_size]

    def current_theta(self) -> np.ndarray:
        """The parameters now (a copy)."""
        return self.theta.copy()

    def evaluate(self) -> tuple[float, float, float, float]:
        """``(train loss, val loss, train error, val error)`` of the current parameters."""
        both = self.model.evaluate(self.theta[None, :], self.X, self.y)[0]
        val = self.model.evaluate(self.theta[None, :], self.Xv, self.yv)[0]
        return float(both[0]), float(val[0]), float(both[1]), float(val[1])

    def run(self, n_steps: int) -> SequenceMetrics:
        """Advance by up to ``n_steps`` steps (fewer if it diverges); the metrics recorded."""
        net, grad = self.model, self._grad
        first = len(self._records)
        lr0 = self.optimizer.lr
        for _ in range(int(n_steps)):
            if not self.running:
                break
            t = self.step
            loss, _ = net._pass(self.theta, self.X, self.y, self.batch_rows(t), True, grad)
            with np.errstate(over="ignore", invalid="ignore"):
                gnorm = float(np.sqrt(grad @ grad))
            if not (math.isfinite(loss) and math.isfinite(gnorm)):
                self._diverge()
                break
            if self.clip_norm > 0.0 and gnorm > self.clip_norm:
                grad *= self.clip_norm / gnorm
            lr = float(self.schedule(lr0, t))
            self.optimizer.step(self.theta, grad, self.state, lr=lr)
            self.step += 1
            if not np.all(np.isfinite(self.theta)):
                self._diverge()
                break
            if self.step % self.eval_every == 0:
                self._records.append((self.step, (*self.evaluate(), gnorm, lr)))
        return self._metrics(self._records[first:])

    def _diverge(self) -> None:
        self.status = "diverged"
        self.stop_step = self.step

    def history(self) -> SequenceMetrics:
        """Every record of the run so far."""
        return self._metrics(self._records)

    @staticmethod
    def _metrics(records: list[tuple[int, tuple[float, ...]]]) -> SequenceMetrics:
        steps = np.array([s for s, _ in records], dtype=np.int64)
        values = np.array([v for _, v in records], dtype=np.float64).reshape(-1, 6)
        return SequenceMetrics(steps, *(values[:, i].copy() for i in range(6)))


def train(
    network: LSTMNetwork,
    data: SequenceData,
    optimizer: Optimizer,
    steps: int,
    schedule: Schedule | None = None,
    batch_size: int = 32,
    seed: int = 0,
    theta0: np.ndarray | None = None,
    clip_norm: float = 0.0,
    eval_every: int = 50,
) -> SequenceTrainer:
    """Train for ``steps`` steps (see ``SequenceTrainer``) and return the trainer: its
    ``theta_init``, ``theta``, ``status`` and ``history()`` (the loss curves)."""
    trainer = SequenceTrainer(
        network, data, optimizer, schedule, batch_size, seed, theta0, clip_norm, eval_every
    )
    trainer.run(steps)
    return trainer
