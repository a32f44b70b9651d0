"""The many-model trainer: ``M`` models, one data set, one compiled loop.

Each model has its own optimizer, hyper-parameters and schedule. By default all models start from
the same initial parameters and see the same mini-batches in the same order, so that differences
between them are the optimizer's alone; ``ModelSpec.init_seed`` and ``ModelSpec.order_seed`` give a
model its own. ``Engine.run(n)`` advances every running model by ``n`` steps inside compiled code
and returns the metrics recorded every ``eval_every`` steps.

Batch order: epoch ``e`` of order seed ``s`` visits the training rows in the order
``numpy.random.default_rng([s, e]).permutation(n_train)`` (or in file order without shuffling),
in batches of ``batch_size`` with a smaller last batch. It depends on the step count alone, so a
run split into chunks of any size gives the same numbers.

State layout: the kernels keep the model as the innermost, contiguous axis (``state.theta`` is
(P, M), ``state.slots`` (3, P, M), ``state.hyper`` (15, M), ...), so that neighbouring models sit
in neighbouring SIMD lanes and GPU threads. ``engine.theta``, ``engine.slots`` and the other
read-outs are views of the same memory with the model first: ``engine.theta[m]`` is model ``m``'s
flat parameter vector (see ``network``), and writing to it writes the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import backends
from .kernels import rules
from .network import Network
from .optimizers import Optimizer
from .schedules import Schedule, constant

FIELDS = ("train_loss", "val_loss", "train_error", "val_error", "grad_norm", "lr")
STATUS_NAMES = ("running", "diverged", "early_stopped")
_MAX_EPOCHS_PER_CALL = 256


@dataclass(frozen=True)
class TrainConfig:
    """Training strategies shared by all models of a run.

    batch_size: rows per step (the whole training set for full-batch gradient descent);
    shuffle: a new row order every epoch; clip_norm: rescale the gradient to this global norm when
    longer (0: off); l1: adds l1 * sign(theta) to the gradient; early_stopping: patience, in
    evaluations, on the validation loss (0: off); polyak: decay of the exponential moving average
    of the parameters used for evaluation (0: off); eval_every: steps between evaluations.
    L2 weight decay is the optimizer's ``weight_decay``.

    Adversarial training (FGSM, Goodfellow et al. 2015): with ``adversarial_eps`` > 0 every step
    takes the gradient g of the batch's loss with respect to the network's inputs (the features
    it sees, after standardising and expansion), moves each input to
    x_adv = x + adversarial_eps * sign(g), and trains on
    ``adversarial_clean_weight`` * L(x) + (1 - ``adversarial_clean_weight``) * L(x_adv)
    (0: adversarial examples only). Evaluation stays on the clean data.
    """

    batch_size: int = 32
    shuffle: bool = True
    clip_norm: float = 0.0
    l1: float = 0.0
    early_stopping: int = 0
    polyak: float = 0.0
    eval_every: int = 10
    adversarial_eps: float = 0.0
    adversarial_clean_weight: float = 0.5

    def __post_init__(self) -> None:
        checks = (
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("clip_norm", self.clip_norm >= 0.0, ">= 0"),
            ("l1", self.l1 >= 0.0, ">= 0"),
            ("early_stopping", self.early_stopping >= 0, ">= 0"),
            ("polyak", 0.0 <= self.polyak < 1.0, "in [0, 1)"),
            ("eval_every", self.eval_every >= 1, ">= 1"),
            ("adversarial_eps", 0.0 <= self.adversarial_eps < float("inf"), ">= 0 and finite"),
            ("adversarial_clean_weight", 0.0 <= self.adversarial_clean_weight <= 1.0,
             "in [0, 1]"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"training: {name} = {getattr(self, name)!r} must be {allowed}")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a run: optimizer, schedule, and optional seeds of its own."""

    optimizer: Optimizer
    schedule: Schedule = field(default_factory=constant)
    init_seed: int | None = None
    order_seed: int | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.optimizer.name


@dataclass(frozen=True)
class Metrics:
    """Metrics at ``steps`` (R,); every field is an (R, M) array, NaN where a model was stopped.

    The error is the misclassified fraction (classification) or the RMSE (regression).
    """

    steps: np.ndarray
    epochs: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_error: np.ndarray
    val_error: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)

    def model(self, m: int) -> dict[str, np.ndarray]:
        return {"step": self.steps, **{f: getattr(self, f)[:, m] for f in FIELDS}}


class History:
    """Metrics of a whole run in bounded memory.

    Holds at most ``limit`` points: when full, every other point of the older half is dropped, so
    recent points stay dense and the whole run stays visible. The best validation loss of each
    model and its step are kept exactly.
    """

    def __init__(self, n_models: int, limit: int = 4000):
        self.limit = max(16, int(limit))
        self.n_models = n_models
        self._steps = np.empty(0, dtype=np.int64)
        self._data = np.empty((0, len(FIELDS), n_models))
        self.best_val_loss = np.full(n_models, np.inf)
        self.best_val_step = np.full(n_models, -1, dtype=np.int64)
        self.min_train_loss = np.full(n_models, np.inf)

    def append(self, steps: np.ndarray, data: np.ndarray) -> None:
        """Add rows ``data[r, field, model]`` recorded at ``steps``."""
        if len(steps) == 0:
            return
        val = data[:, 1, :]
        with np.errstate(invalid="ignore"):
            finite = np.where(np.isfinite(val), val, np.inf)
            r_best = np.argmin(finite, axis=0)
            best = finite[r_best, np.arange(self.n_models)]
            better = best < self.best_val_loss
            self.best_val_loss[better] = best[better]
            self.best_val_step[better] = steps[r_best[better]]
            train = np.where(np.isfinite(data[:, 0, :]), data[:, 0, :], np.inf)
            self.min_train_loss = np.minimum(self.min_train_loss, train.min(axis=0))
        self._steps = np.concatenate([self._steps, steps])
        self._data = np.concatenate([self._data, data])
        while len(self._steps) > self.limit:
            half = len(self._steps) // 2
            keep = np.r_[np.arange(0, half, 2), np.arange(half, len(self._steps))]
            self._steps = self._steps[keep]
            self._data = self._data[keep]

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> np.ndarray:
        return self._steps.copy()

    def field(self, name: str, m: int | None = None) -> np.ndarray:
        """One metric over the kept points: (R, M), or (R,) for model ``m``."""
        col = self._data[:, FIELDS.index(name), :]
        return col.copy() if m is None else col[:, m].copy()

    def steps_to_reach(self, value: float, name: str = "val_loss") -> np.ndarray:
        """First recorded step where ``name`` <= value, per model (-1 if never)."""
        col = self._data[:, FIELDS.index(name), :]
        out = np.full(self.n_models, -1, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            hit = col <= value
        for m in range(self.n_models):
            rows = np.flatnonzero(hit[:, m])
            if len(rows):
                out[m] = self._steps[rows[0]]
        return out


def _labels_for(network: Network, y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return np.ascontiguousarray(y.reshape(len(y), -1))


class Engine:
    """Trains several models of one network on one data set at once.

    ``data`` is any object with ``X_train, y_train, X_val, y_val`` (a ``datasets.Dataset``).
    """

    def __init__(
        self,
        network: Network,
        data,
        models: Sequence[ModelSpec],
        train: TrainConfig | None = None,
        *,
        seed: int = 0,
        init: str = "xavier",
        init_std: float = 0.1,
        backend: str = "cpu",
        history_limit: int = 4000,
    ):
        if not models:
            raise ValueError("an engine needs at least one model")
        self.network = network
        self.train = train or TrainConfig()
        self.seed = int(seed)
        self.init_scheme = init
        self.init_std = float(init_std)
        self.backend = backends.resolve(backend)
        self.X, self.Y = network.prepare(data.X_train, data.y_train)
        if len(data.y_val):
            self.Xv, self.Yv = network.prepare(data.X_val, data.y_val)
        else:
            self.Xv = np.zeros((0, self.X.shape[1]))
            self.Yv = np.zeros((0, self.Y.shape[1]))
        if self.X.shape[0] == 0:
            raise ValueError("the training set is empty")
        self.batch_size = min(self.train.batch_size, self.X.shape[0])
        self.specs = list(models)
        self.history_limit = history_limit
        self.reset()

    # -- set-up -------------------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        return len(self.specs)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def reset(self, seed: int | None = None) -> None:
        """Back to step 0: fresh parameters (from ``seed`` if given), optimizer state, history."""
        if seed is not None:
            self.seed = int(seed)
        M, P = self.n_models, self.network.n_params
        self.state = RunState.empty(P, M)
        inits: dict[int, np.ndarray] = {}
        for m, spec in enumerate(self.specs):
            s = self.seed if spec.init_seed is None else spec.init_seed
            if s not in inits:
                inits[s] = self.network.init(s, self.init_scheme, self.init_std)
            self.state.theta[:, m] = inits[s]
        self.opt_code = np.zeros(M, dtype=np.int64)
        self.sched_code = np.zeros(M, dtype=np.int64)
        for m, spec in enumerate(self.specs):
            self._load_optimizer(m, spec.optimizer, keep_state=False)
            self._load_schedule(m, spec.schedule)
        order_seeds = [self.seed if s.order_seed is None else s.order_seed for s in self.specs]
        self._order_seeds = sorted(set(order_seeds))
        self.order_idx = np.array([self._order_seeds.index(s) for s in order_seeds], dtype=np.int64)
        self.status = np.zeros(M, dtype=np.int64)
        self.stop_step = np.full(M, -1, dtype=np.int64)
        self.state.avg[:] = self.state.theta
        self.state.best[:] = self.state.theta
        self.best_val = np.full(M, np.inf)
        self.bad_evals = np.zeros(M, dtype=np.int64)
        self.theta_init = self.theta.copy()
        self.step = 0
        self.history = History(M, self.history_limit)
        first = self.evaluate()
        self.best_val[:] = np.where(np.isfinite(first[1]), first[1], np.inf)
        self.history.append(np.array([0]), first[None])

    def _load_optimizer(self, m: int, optimizer: Optimizer, keep_state: bool) -> None:
        self.state.hyper[:, m] = optimizer.vector()
        self.opt_code[m] = optimizer.code
        if not keep_state:
            state = optimizer.init(self.theta[m])
            self.state.slots[:, :, m] = state.slots
            self.state.scalars[:, m] = state.scalars

    def _load_schedule(self, m: int, schedule: Schedule) -> None:
        self.sched_code[m] = schedule.code
        self.state.sched_params[:, m] = schedule.vector()

    # -- the state, model first ---------------------------------------------------------------
    @property
    def theta(self) -> np.ndarray:
        """(M, P): ``theta[m]`` is model ``m``'s flat parameter vector (a view of the state)."""
        return self.state.theta.T

    @property
    def slots(self) -> np.ndarray:
        """(M, 3, P): each model's optimizer slots (a view of the state)."""
        return self.state.slots.transpose(2, 0, 1)

    @property
    def scalars(self) -> np.ndarray:
        """(M, 2): each model's optimizer step count and NAdam's product of mu (a view)."""
        return self.state.scalars.T

    @property
    def hyper(self) -> np.ndarray:
        """(M, 15): each model's hyper-parameter vector (``Optimizer.vector``; a view)."""
        return self.state.hyper.T

    @property
    def sched_params(self) -> np.ndarray:
        """(M, 4): each model's schedule parameters (a view)."""
        return self.state.sched_params.T

    @property
    def avg(self) -> np.ndarray:
        """(M, P): the Polyak averages (a view; equal to the initial parameters when off)."""
        return self.state.avg.T

    @property
    def best(self) -> np.ndarray:
        """(M, P): each model's best parameters under early stopping (a view)."""
        return self.state.best.T

    # -- changes while training ------------------------------------------------------------------
    def set_optimizer(self, m: int, optimizer: Optimizer) -> None:
        """Switch model ``m`` to ``optimizer`` from the next step.

        The optimizer state (momentum, moments, step count) is kept when only hyper-parameters
        change and started afresh when the rule changes.
        """
        same_rule = optimizer.name == self.specs[m].optimizer.name
        self.specs[m] = _replace_spec(self.specs[m], optimizer=optimizer)
        self._load_optimizer(m, optimizer, keep_state=same_rule)

    def set_schedule(self, m: int, schedule: Schedule) -> None:
        self.specs[m] = _replace_spec(self.specs[m], schedule=schedule)
        self._load_schedule(m, schedule)

    # -- training -------------------------------------------------------------------------------
    def _perms(self, first_epoch: int, last_epoch: int) -> np.ndarray:
        n = self.X.shape[0]
        perms = np.empty((len(self._order_seeds), last_epoch - first_epoch + 1, n), dtype=np.int64)
        for u, s in enumerate(self._order_seeds):
            for e in range(first_epoch, last_epoch + 1):
                if self.train.shuffle:
                    perms[u, e - first_epoch] = np.random.default_rng([s, e]).permutation(n)
                else:
                    perms[u, e - first_epoch] = np.arange(n)
        return perms

    def run(self, n_steps: int) -> Metrics:
        """Advance every running model by ``n_steps`` steps; return the metrics recorded."""
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"n_steps must be >= 0, got {n_steps}")
        parts = []
        done = 0
        limit = _MAX_EPOCHS_PER_CALL * self.steps_per_epoch
        while done < n_steps and self.running.any():
            n = min(n_steps - done, limit)
            parts.append(self._run_chunk(n))
            done += n
        if not parts:
            empty = np.empty((0, len(FIELDS), self.n_models))
            return self._metrics(np.empty(0, dtype=np.int64), empty)
        steps = np.concatenate([p[0] for p in parts])
        data = np.concatenate([p[1] for p in parts])
        return self._metrics(steps, data)

    def _run_chunk(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        t0 = self.step
        every = self.train.eval_every
        steps = np.arange((t0 // every + 1) * every, t0 + n_steps + 1, every, dtype=np.int64)
        data = np.full((len(steps), len(FIELDS), self.n_models), np.nan)
        spe = self.steps_per_epoch
        first_epoch = t0 // spe
        perms = self._perms(first_epoch, (t0 + n_steps - 1) // spe)
        self.backend.train_chunk(self, perms, first_epoch, t0, n_steps, data)
        self.step = t0 + n_steps
        self.history.append(steps, data)
        return steps, data

    def _metrics(self, steps: np.ndarray, data: np.ndarray) -> Metrics:
        cols = {f: data[:, i, :] for i, f in enumerate(FIELDS)}
        return Metrics(steps=steps, epochs=steps / self.steps_per_epoch, **cols)

    def evaluate(self) -> np.ndarray:
        """Current (field, model) metrics of every model, evaluated as ``run`` would record them."""
        data = np.full((len(FIELDS), self.n_models), np.nan)
        self.backend.evaluate(self, data[:4])
        data[5] = [
            spec.schedule(spec.optimizer.lr, self.step) for spec in self.specs
        ]
        return data

    def kernels_ready(self) -> bool:
        """Whether this run's compiled kernels are loaded in this process (a first run waits
        for them: seconds with an empty Numba cache, a fraction of a second from the cache)."""
        return self.backend.kernels_ready(self)

    # -- read-outs ------------------------------------------------------------------------------
    @property
    def running(self) -> np.ndarray:
        return self.status == 0

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    def status_name(self, m: int) -> str:
        return STATUS_NAMES[int(self.status[m])]

    @property
    def diverged_step(self) -> np.ndarray:
        """Step at which each model diverged, -1 for the others."""
        return np.where(self.status == 1, self.stop_step, -1)

    def eval_theta(self) -> np.ndarray:
        """The parameters evaluation uses: the Polyak average when it is on, else theta."""
        return self.avg if self.train.polyak > 0.0 else self.theta

    def final_theta(self, m: int) -> np.ndarray:
        """Model ``m``'s parameters to keep: the best after early stopping, else eval_theta."""
        if self.train.early_stopping and np.isfinite(self.best_val[m]):
            return self.best[m].copy()
        return self.eval_theta()[m].copy()

    def predict(self, m: int, X: np.ndarray) -> np.ndarray:
        return self.network.predict(self.eval_theta()[m], X)

    def summary(self) -> list[dict]:
        """One row per model: final and best losses and errors, and how its run ended."""
        rows = []
        last = self.evaluate()
        for m, spec in enumerate(self.specs):
            rows.append({
                "model": spec.name,
                "status": self.status_name(m),
                "stop_step": int(self.stop_step[m]),
                "train_loss": float(last[0, m]),
                "val_loss": float(last[1, m]),
                "train_error": float(last[2, m]),
                "val_error": float(last[3, m]),
                "best_val_loss": float(self.history.best_val_loss[m]),
                "best_val_step": int(self.history.best_val_step[m]),
            })
        return rows


def _replace_spec(spec: ModelSpec, **changes) -> ModelSpec:
    return replace(spec, **changes)


@dataclass
class RunState:
    """The arrays the kernels train in place, the model as the last axis (M models, P params).

    theta, avg (Polyak average), best (early stopping): (P, M); slots: (3, P, M); scalars
    (step count, NAdam's product of mu): (2, M); hyper (``Optimizer.vector``): (15, M);
    sched_params (``Schedule.vector``): (4, M).
    """

    theta: np.ndarray
    slots: np.ndarray
    scalars: np.ndarray
    hyper: np.ndarray
    sched_params: np.ndarray
    avg: np.ndarray
    best: np.ndarray

    @classmethod
    def empty(cls, n_params: int, n_models: int) -> RunState:
        return cls(
            theta=np.zeros((n_params, n_models)),
            slots=np.zeros((3, n_params, n_models)),
            scalars=np.zeros((rules.N_SCALARS, n_models)),
            hyper=np.zeros((rules.N_HYPER, n_models)),
            sched_params=np.zeros((rules.N_SCHED, n_models)),
            avg=np.zeros((n_params, n_models)),
            best=np.zeros((n_params, n_models)),
        )
