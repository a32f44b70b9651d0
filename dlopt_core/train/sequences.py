"""Sequences for the LSTM (``dlopt_core.train.lstm``): the adding problem, a memory task that
trains in seconds, and mini-batch training of an ``LSTMNetwork`` with the core's optimizers and
schedules, in the engine's batch order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule, constant

if TYPE_CHECKING:
    from dlopt_core.train.lstm import LSTMNetwork


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
