"""Fully connected networks on one flat parameter vector.

Layout of ``theta`` (float64): for each layer in order, W of shape (n_in, n_out) row-major, then b
of length n_out (none with ``bias=False``). Hidden layers apply the activation; the output layer
is linear and the loss carries the output non-linearity:

bce  sigmoid output, binary labels y in {0, 1}:  mean over samples of
     -y log s(z) - (1 - y) log(1 - s(z))
ce   softmax output, integer labels:  mean over samples of -log softmax(z)_y
mse  linear output:  mean over samples and outputs of (z - y)^2  (no factor 1/2)

as in ``torch.nn.functional``.

Parameterisations: ``standard`` computes layer l's pre-activation z = a W + b. ``mean_field``
multiplies it by a fixed factor: z = c_l (a W + b) with c_l = sqrt(2 / fan_in) for every hidden
layer and c_L = 1 / fan_in for the output layer, the weights initialised standard normal (the
``init`` scheme is then ignored). With one hidden layer of width d = input dimension and no
biases this is the trainability map's network (Sohl-Dickstein 2024): h = tanh(sqrt(2) X W1 /
sqrt(d)), out = h W2 / d. Deeper networks repeat the hidden factor, which keeps each hidden
pre-activation of order one at initialisation, and keep 1 / fan_in at the output, which makes
the output small at initialisation (the mean-field limit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dlopt_core.train.kernels import cpu, rules

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")
LOSSES = ("bce", "ce", "mse")
INIT_SCHEMES = ("xavier", "he", "normal", "zeros")
PARAMETERIZATIONS = ("standard", "mean_field")


class Network:
    """A fully connected network ``Network([2, 8, 8, 1], activation="tanh", loss="bce")``;
    ``bias=False`` leaves out every bias, ``parameterization="mean_field"`` scales the
    pre-activations (see the module docstring)."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        loss: str = "bce",
        *,
        bias: bool = True,
        parameterization: str = "standard",
    ):
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"layer_sizes needs at least two positive sizes, got {layer_sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"unknown parameterization {parameterization!r}; choose one of {PARAMETERIZATIONS}"
            )
        if loss == "bce" and sizes[-1] != 1:
            raise ValueError(f"the bce loss needs one output unit, got {sizes[-1]}")
        if loss == "ce" and sizes[-1] < 2:
            raise ValueError("the ce loss needs at least two output units (one per class)")
        self.sizes = np.array(sizes, dtype=np.int64)
        self.activation = activation
        self.loss = loss
        self.act_code = ACTIVATIONS.index(activation)
        self.loss_code = LOSSES.index(loss)
        self.bias = bool(bias)
        self.parameterization = parameterization
        self.woff, self.uoff = cpu.layout(self.sizes, self.bias)
        self.n_params = int(
            sum(
                a * b + (b if self.bias else 0) for a, b in zip(sizes[:-1], sizes[1:], strict=False)
            )
        )
        self.lay = layer_table(sizes, self.bias, parameterization)
        self.blas = cpu.use_blas(self.sizes)  # products by BLAS (wide layers) or by loops

    @property
    def layer_sizes(self) -> list[int]:
        return [int(s) for s in self.sizes]

    @property
    def n_layers(self) -> int:
        """Layers with parameters (hidden layers and the output layer)."""
        return len(self.sizes) - 1

    @property
    def plain(self) -> bool:
        """Biases in every layer and no pre-activation factors: the training kernels then
        compile without the layer options."""
        return self.bias and self.parameterization == "standard"

    @property
    def factors(self) -> np.ndarray:
        """Each layer's pre-activation factor (all 1 in the standard parameterisation)."""
        return self.lay[0, 1:].copy()

    def layer_of_params(self) -> np.ndarray:
        """The layer (0 for the first hidden layer) of every entry of ``theta``."""
        out = np.empty(self.n_params, dtype=np.int64)
        ends = [*self.woff[2:], self.n_params]
        for layer, (lo, hi) in enumerate(zip(self.woff[1:], ends, strict=True)):
            out[lo:hi] = layer
        return out

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        if self.parameterization != "standard":
            extra += f", parameterization={self.parameterization!r}"
        return (
            f"Network({self.layer_sizes}, activation={self.activation!r}, "
            f"loss={self.loss!r}{extra})"
        )

    def init(self, seed: int = 0, scheme: str = "xavier", std: float = 0.1) -> np.ndarray:
        """Initial parameters; biases start at zero.

        In the mean-field parameterisation every weight is standard normal, whatever ``scheme``.
        xavier: W ~ U(-a, a), a = sqrt(6 / (n_in + n_out)) (Glorot uniform);
        he: W ~ N(0, 2 / n_in) (Kaiming normal); normal: W ~ N(0, std^2); zeros: all zero, which
        makes every hidden unit of a layer compute the same thing forever (the symmetry problem).
        """
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {scheme!r}; choose one of {INIT_SCHEMES}")
        rng = np.random.default_rng(seed)
        theta = np.zeros(self.n_params)
        for W, _ in self.unflatten(theta):
            n_in, n_out = W.shape
            if self.parameterization == "mean_field":
                W[:] = rng.standard_normal(W.shape)
            elif scheme == "xavier":
                a = np.sqrt(6.0 / (n_in + n_out))
                W[:] = rng.uniform(-a, a, size=W.shape)
            elif scheme == "he":
                W[:] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=W.shape)
            elif scheme == "normal":
                W[:] = rng.normal(0.0, std, size=W.shape)
        return theta

    def unflatten(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(W, b), ...]`` as views into ``theta`` (writing to them writes to ``theta``); ``b``
        is empty without biases."""
        self._check_theta(theta)
        out = []
        for layer in range(1, len(self.sizes)):
            n_in, n_out = int(self.sizes[layer - 1]), int(self.sizes[layer])
            w0 = int(self.woff[layer])
            W = theta[w0 : w0 + n_in * n_out].reshape(n_in, n_out)
            b = theta[w0 + n_in * n_out : w0 + n_in * n_out + (n_out if self.bias else 0)]
            out.append((W, b))
        return out

    def loss_and_grad(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``(loss, grad)``: mean loss over the rows of ``X`` and its gradient, flat like theta."""
        loss, grad, _ = self._loss_and_grads(theta, X, y, inputs=False)
        return loss, grad

    def input_gradient(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``(loss, dx)``: the mean loss over the rows of ``X`` and its gradient with respect to
        every input, ``dx`` shaped like ``X`` (row i: d loss / d X[i]), from the backward pass
        carried down to the inputs. ``X`` are the inputs the network sees (features after
        standardising and expansion)."""
        loss, _, dx = self._loss_and_grads(theta, X, y, inputs=True)
        return loss, dx

    def fgsm(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
        """FGSM adversarial examples (Goodfellow et al. 2015): ``X + eps * sign(dx)``, with
        ``dx`` from :meth:`input_gradient` (sign 0 where the gradient is 0). The inputs that
        raise the loss most to first order, within ``eps`` in every coordinate; adversarial
        training (``TrainConfig.adversarial_eps``) trains on them."""
        eps = float(eps)
        if not (np.isfinite(eps) and eps >= 0.0):
            raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
        X = self._check_X(X)
        _, dx = self.input_gradient(theta, X, y)
        return X + eps * np.sign(dx)

    def _loss_and_grads(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray, inputs: bool
    ) -> tuple[float, np.ndarray, np.ndarray]:
        theta = self._check_theta(theta)
        X, Y = self.prepare(X, y)
        grad = np.zeros(self.n_params)
        dx = np.zeros(X.shape if inputs else (0, 0))
        loss = cpu.loss_and_grad_by[self.blas](
            theta,
            self.sizes,
            self.woff,
            self.uoff,
            self.lay,
            self.act_code,
            self.loss_code,
            X,
            Y,
            grad,
            dx,
        )
        return float(loss), grad, dx

    def logits(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Output-layer pre-activations, shape (n, n_out)."""
        theta = self._check_theta(theta)
        X = self._check_X(X)
        out = np.empty((X.shape[0], int(self.sizes[-1])))
        cpu.predict_by[self.blas](
            theta, self.sizes, self.woff, self.uoff, self.lay, self.act_code, X, out
        )
        return out

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Outputs: P(y = 1) for bce (n,), class probabilities for ce (n, K), values for mse."""
        return loss_outputs(self.loss, self.logits(theta, X))

    def hidden_outputs(self, theta: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
        """Outputs of every hidden layer for the rows of ``X`` (the app's neuron thumbnails)."""
        a = self._check_X(X)
        outs = []
        layers = self.unflatten(self._check_theta(theta))
        for (W, b), factor in zip(layers[:-1], self.factors, strict=False):
            z = a @ W + b if self.bias else a @ W
            a = _activate_np(self.activation, z if factor == 1.0 else factor * z)
            outs.append(a)
        return outs

    def prepare(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Check and shape inputs and labels into the kernels' (n, d) and (n, k) float64 arrays."""
        X = self._check_X(X)
        self._check_rows(X)
        return X, check_targets(self.loss, int(self.sizes[-1]), X.shape[0], y, "rows")

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (n, {self.sizes[0]}), got {X.shape}")
        return X

    def _check_rows(self, X: np.ndarray) -> None:
        if X.shape[0] == 0:
            raise ValueError("X has no rows: a loss needs at least one sample")

    def _check_theta(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` itself when it is a contiguous float64 vector, else a contiguous copy (a
        model's row of ``Engine.theta`` is a strided view)."""
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got {theta.shape}")
        if theta.dtype != np.float64:
            raise ValueError("theta must be float64")
        return np.ascontiguousarray(theta)


def layer_table(sizes: Sequence[int], bias: bool, parameterization: str) -> np.ndarray:
    """The kernels' (2, L + 1) table of layers: row 0 each layer's pre-activation factor (1, or
    the mean-field sqrt(2 / fan_in) for hidden layers and 1 / fan_in for the output layer),
    row 1 whether it has biases (1.0 or 0.0); column 0, the inputs, is unused."""
    sizes = [int(s) for s in sizes]
    lay = np.ones((2, len(sizes)))
    if not bias:
        lay[1] = 0.0
    if parameterization == "mean_field":
        for layer in range(1, len(sizes)):
            fan_in = float(sizes[layer - 1])
            lay[0, layer] = 1.0 / fan_in if layer == len(sizes) - 1 else math.sqrt(2.0 / fan_in)
    return lay


def check_targets(loss: str, n_out: int, n: int, y: np.ndarray, what: str = "rows") -> np.ndarray:
    """The targets ``y`` of n samples as the kernels' (n, k) float64 array, checked for ``loss``:
    bce labels 0 or 1, ce labels integers in [0, n_out - 1], mse one column per output."""
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"X has {n} {what} but y has shape {Y.shape}")
    if loss == "mse" and Y.shape[1] != n_out:
        raise ValueError(f"y has {Y.shape[1]} columns, the network {n_out} outputs")
    if loss == "ce":
        labels = Y[:, 0]
        if np.any((labels < 0) | (labels >= n_out) | (labels != np.round(labels))):
            raise ValueError(f"ce labels must be integers in [0, {n_out - 1}]")
    if loss == "bce" and np.any((Y != 0.0) & (Y != 1.0)):
        raise ValueError("bce labels must be 0 or 1")
    return np.ascontiguousarray(Y)


def loss_outputs(loss: str, z: np.ndarray) -> np.ndarray:
    """What the loss makes of logits z (n, k): P(y = 1) for bce (n,), class probabilities for
    ce (n, k), z itself for mse ((n,) for one output)."""
    if loss == "bce":
        return 1.0 / (1.0 + np.exp(-z[:, 0]))
    if loss == "ce":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z[:, 0] if z.shape[1] == 1 else z


def _activate_np(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0.0, z, rules.LEAKY_SLOPE * z)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z
