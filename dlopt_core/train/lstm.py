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

Forward pass, loss and backpropagation through time are compiled with Numba
(``kernels.lstm``); training (``SequenceTrainer``, ``train``, in ``sequences``) steps the core's
own optimizers (``Optimizer.step``, the compiled update rules of the engine) at the learning rate
of any schedule of the core, with the engine's batch order. ``adding_task`` is a memory task that
trains in seconds. Both are reachable from here too.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dlopt_core.train.kernels.lstm import ROWS, sequence_pass
from dlopt_core.train.network import LOSSES, check_targets, loss_outputs
from dlopt_core.train.sequences import (
    SequenceData,
    SequenceMetrics,
    SequenceTrainer,
    adding_task,
    train,
)

__all__ = [
    "INIT_SCHEMES",
    "NAMES",
    "ROWS",
    "LSTMNetwork",
    "SequenceData",
    "SequenceMetrics",
    "SequenceTrainer",
    "adding_task",
    "sequence_pass",
    "train",
]

NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "out_w", "out_b")
INIT_SCHEMES = ("pytorch", "normal", "zeros")
_NO_GRAD = np.empty(0)
_NO_LOGITS = np.empty((0, 1))


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
