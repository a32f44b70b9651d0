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
(P, M), ``state.slots`` (N_SLOTS, P, M), ``state.hyper`` (N_HYPER, M), ...), so that neighbouring
models sit in neighbouring SIMD lanes and GPU threads. ``engine.theta``, ``engine.slots`` and the
other read-outs are views of the same memory with the model first: ``engine.theta[m]`` is model
``m``'s flat parameter vector (see ``network``), and writing to it writes the state.

Evaluation of large data sets: the metrics ``run`` records (the live curves) and the early-stopping
decisions taken in the kernels evaluate every row of a set of at most ``eval_rows`` rows
(:data:`EVAL_SAMPLE_ROWS` by default), and a fixed sample of ``eval_rows`` of the rows of a larger
set (:func:`sample_rows`: seeded by the set's size alone, drawn once, the same for every chunk,
reset and model), so that an evaluation costs at most about ``2 * eval_rows`` rows whatever the
data set's size. ``Engine.evaluate()`` evaluates every row and gives the numbers that are
reported (``summary``, the comparisons' final values); ``Engine.evaluate(sample=True)`` gives
what ``run`` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from dlopt_core.train import backends, kernels
from dlopt_core.train.config import LIVE_TRAINING_FIELDS, ModelSpec, TrainConfig
from dlopt_core.train.history import FIELDS, History, Metrics
from dlopt_core.train.kernels import rules
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import Optimizer
from dlopt_core.train.schedules import Schedule


class TrainingData(Protocol):
    """What the engine reads of a data set (a ``datasets.Dataset`` has it): the training and
    validation rows, inputs already expanded."""

    @property
    def X_train(self) -> np.ndarray: ...
    @property
    def y_train(self) -> np.ndarray: ...
    @property
    def X_val(self) -> np.ndarray: ...
    @property
    def y_val(self) -> np.ndarray: ...


RUNNING, DIVERGED, EARLY_STOPPED = 0, 1, 2  # the values of Engine.status, named below
STATUS_NAMES = ("running", "diverged", "early_stopped")
_MAX_EPOCHS_PER_CALL = 256
# a set of more rows than this is evaluated on a fixed sample of this many rows while training
EVAL_SAMPLE_ROWS = 20_000
EVAL_SAMPLE_SEED = 1937


def kernels_release_gil() -> bool:
    """Whether the training kernels release Python's lock while they run (a training thread then
    runs beside a GUI thread instead of taking turns with it)."""
    return bool(kernels.TRAINING_RELEASES_GIL)


def training_kernels_ready(n_models: int = 1, codes: Sequence[int] = (rules.ADAM,)) -> bool:
    """Whether the training kernel of ``n_models`` models with optimizer codes ``codes``
    (``Optimizer.code``; by default one Adam model) is compiled or loaded in this process: False
    until its first call, which compiles it (seconds on a fresh install) or loads it from the
    cache; a GUI uses it to say why a first run waits."""
    return kernels.training_kernels_ready(n_models, tuple(codes))


def sample_rows(n_rows: int, limit: int, which: int = 0) -> np.ndarray | None:
    """The rows of a set of ``n_rows`` rows that training evaluates on: None (every row) when
    ``n_rows <= limit``, else ``limit`` distinct rows in increasing order, drawn without
    replacement by a generator seeded with (:data:`EVAL_SAMPLE_SEED`, ``which``, ``n_rows``)
    (``which``: 0 for the training set, 1 for the validation set), so that the sample is the same
    in every run of the same data."""
    if limit < 1:
        raise ValueError(f"the evaluation sample needs at least 1 row, got {limit}")
    if n_rows <= limit:
        return None
    rng = np.random.default_rng([EVAL_SAMPLE_SEED, which, n_rows])
    return np.sort(rng.choice(n_rows, size=limit, replace=False))


def _take(X: np.ndarray, Y: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if rows is None:
        return X, Y
    return np.ascontiguousarray(X[rows]), np.ascontiguousarray(Y[rows])


def _labels_for(network: Network, y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return np.ascontiguousarray(y.reshape(len(y), -1))


class Engine:
    """Trains several models of one network on one data set at once.

    ``data`` is any object with ``X_train, y_train, X_val, y_val`` (a ``datasets.Dataset``).
    ``theta0``: initial parameters every model starts from (a flat vector, see ``network``), in
    place of ``init`` from the seeds. ``eval_rows``: the most rows of each set that training
    evaluates on (see the module docstring); ``train_sample`` and ``val_sample`` are the sampled
    rows, None for a set evaluated whole.
    """

    def __init__(
        self,
        network: Network,
        data: TrainingData,
        models: Sequence[ModelSpec],
        train: TrainConfig | None = None,
        *,
        seed: int = 0,
        init: str = "xavier",
        init_std: float = 0.1,
        backend: str = "cpu",
        history_limit: int = 4000,
        theta0: np.ndarray | None = None,
        eval_rows: int = EVAL_SAMPLE_ROWS,
    ):
        if not models:
            raise ValueError("an engine needs at least one model")
        if theta0 is not None:
            theta0 = np.array(theta0, dtype=np.float64).reshape(-1)
            if theta0.shape != (network.n_params,) or not np.all(np.isfinite(theta0)):
                raise ValueError(
                    f"theta0 must be {network.n_params} finite numbers (the "
                    f"network's flat parameters), got shape {theta0.shape}"
                )
        self.theta0 = theta0
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
        self.eval_rows = int(eval_rows)
        self.train_sample = sample_rows(self.X.shape[0], self.eval_rows, 0)
        self.val_sample = sample_rows(self.Xv.shape[0], self.eval_rows, 1)
        self._sampled = (
            *_take(self.X, self.Y, self.train_sample),
            *_take(self.Xv, self.Yv, self.val_sample),
        )
        self.specs = list(models)
        for m, spec in enumerate(self.specs):
            _check_layer_lr(network, spec.layer_lr, m)
        self.history_limit = history_limit
        self._kept_perms: dict[tuple[int, int, bool], np.ndarray] = {}
        self.reset()

    # -- set-up -------------------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        return len(self.specs)

    @property
    def layered(self) -> bool:
        """Whether the run needs the kernels with layer options: a network without biases or
        with pre-activation factors, or a model with a layer factor other than 1."""
        return not self.network.plain or any(
            spec.layer_lr is not None and any(f != 1.0 for f in spec.layer_lr)
            for spec in self.specs
        )

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def reset(self, seed: int | None = None) -> None:
        """Back to step 0: fresh parameters (from ``seed`` if given), optimizer state, history."""
        if seed is not None:
            self.seed = int(seed)
        M, P = self.n_models, self.network.n_params
        self.state = RunState.empty(P, M, self.network.n_layers)
        inits: dict[int, np.ndarray] = {}
        for m, spec in enumerate(self.specs):
            s = self.seed if spec.init_seed is None else spec.init_seed
            if self.theta0 is not None:
                self.state.theta[:, m] = self.theta0
                continue
            if s not in inits:
                inits[s] = self.network.init(s, self.init_scheme, self.init_std)
            self.state.theta[:, m] = inits[s]
        self.opt_code = np.zeros(M, dtype=np.int64)
        self.sched_code = np.zeros(M, dtype=np.int64)
        for m, spec in enumerate(self.specs):
            self._load_optimizer(m, spec.optimizer, keep_state=False)
            self._load_schedule(m, spec.schedule)
            self._load_layer_lr(m, spec.layer_lr)
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
        first = self.evaluate(sample=True)
        self.best_val[:] = np.where(np.isfinite(first[1]), first[1], np.inf)
        self.history.append(np.array([0]), first[None])

    def _load_optimizer(self, m: int, optimizer: Optimizer, keep_state: bool) -> None:
        self.state.hyper[:, m] = optimizer.vector()
        self.opt_code[m] = optimizer.code
        if not keep_state:
            state = optimizer.init(self.theta[m])
            self.state.slots[:, :, m] = state.slots
            self.state.scalars[:, m] = state.scalars

    def _load_layer_lr(self, m: int, factors: tuple[float, ...] | None) -> None:
        self.state.layer_lr[:, m] = 1.0 if factors is None else factors

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
        """(M, N_SLOTS, P): each model's optimizer slots (a view of the state; what each holds:
        ``OptimizerInfo.slots``)."""
        return self.state.slots.transpose(2, 0, 1)

    @property
    def scalars(self) -> np.ndarray:
        """(M, 2): each model's optimizer step count and NAdam's product of mu (a view)."""
        return self.state.scalars.T

    @property
    def hyper(self) -> np.ndarray:
        """(M, N_HYPER): each model's hyper-parameter vector (``Optimizer.vector``; a view)."""
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

    def set_layer_lr(self, m: int, factors: Sequence[float] | None) -> None:
        """Model ``m``'s per-layer learning-rate factors from the next step (None: all 1)."""
        spec = _replace_spec(self.specs[m], layer_lr=None if factors is None else tuple(factors))
        _check_layer_lr(self.network, spec.layer_lr, m)
        self.specs[m] = spec
        self._load_layer_lr(m, spec.layer_lr)

    def set_schedule(self, m: int, schedule: Schedule) -> None:
        self.specs[m] = _replace_spec(self.specs[m], schedule=schedule)
        self._load_schedule(m, schedule)

    def set_training(self, train: TrainConfig) -> None:
        """Take the live fields of ``train`` (``LIVE_TRAINING_FIELDS``: clipping, L1, early
        stopping, the evaluation interval, adversarial training) from the next step; the others
        stay as the engine was built with them."""
        self.train = replace(
            self.train, **{name: getattr(train, name) for name in LIVE_TRAINING_FIELDS}
        )

    # -- training -------------------------------------------------------------------------------
    def _perms(self, first_epoch: int, last_epoch: int) -> np.ndarray:
        """The row orders of epochs ``first_epoch .. last_epoch`` of every order seed. The last
        epoch's orders are kept for the next chunk, which most often starts in it: drawing the
        permutation of a large training set again for every chunk would cost more than the
        chunk's steps."""
        n = self.X.shape[0]
        perms = np.empty((len(self._order_seeds), last_epoch - first_epoch + 1, n), dtype=np.int64)
        kept: dict[tuple[int, int, bool], np.ndarray] = {}
        for u, s in enumerate(self._order_seeds):
            for e in range(first_epoch, last_epoch + 1):
                key = (s, e, self.train.shuffle)
                kept_order = self._kept_perms.get(key)
                if kept_order is not None:
                    order = kept_order
                elif self.train.shuffle:
                    order = np.random.default_rng([s, e]).permutation(n)
                else:
                    order = np.arange(n)
                perms[u, e - first_epoch] = order
            kept[key] = order
        self._kept_perms = kept
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

    def eval_sets(
        self, sample: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Xv, Yv)`` an evaluation runs on: the rows training evaluates on (a fixed
        sample of a set larger than ``eval_rows``), or with ``sample`` false every row."""
        return self._sampled if sample else (self.X, self.Y, self.Xv, self.Yv)

    @property
    def sampled(self) -> bool:
        """Whether training evaluates a sample of the training or the validation set."""
        return self.train_sample is not None or self.val_sample is not None

    def sample_note(self) -> str:
        """What training evaluates on, for people ("" when on every row): e.g. "evaluated on a
        sample of 20,000 of 800,000 training rows and 20,000 of 200,000 validation rows"."""
        parts = []
        for rows, total, name in (
            (self.train_sample, self.X.shape[0], "training"),
            (self.val_sample, self.Xv.shape[0], "validation"),
        ):
            if rows is not None:
                parts.append(f"{len(rows):,} of {total:,} {name} rows")
        return "evaluated on a sample of " + " and ".join(parts) if parts else ""

    def evaluate(self, sample: bool = False) -> np.ndarray:
        """Current (field, model) metrics of every model on every row of both sets (the numbers
        to report), or with ``sample`` on the rows ``run`` evaluates, as it would record them."""
        data = np.full((len(FIELDS), self.n_models), np.nan)
        self.backend.evaluate(self, data[:4], sample)
        data[5] = [spec.schedule(spec.optimizer.lr, self.step) for spec in self.specs]
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

    def optimizer_steps(self, m: int) -> int:
        """Steps model ``m``'s optimizer has taken (the t of its bias corrections; counted
        afresh after a change of rule)."""
        return int(self.state.scalars[rules.S_STEP, m])

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

    def summary(self) -> list[dict[str, Any]]:
        """One row per model: final and best losses and errors, and how its run ended.

        The final values are evaluated on every row; the best validation loss and its step come
        from the recorded metrics (a fixed sample of a large validation set).
        """
        rows = []
        last = self.evaluate()
        for m, spec in enumerate(self.specs):
            rows.append(
                {
                    "model": spec.name,
                    "status": self.status_name(m),
                    "stop_step": int(self.stop_step[m]),
                    "train_loss": float(last[0, m]),
                    "val_loss": float(last[1, m]),
                    "train_error": float(last[2, m]),
                    "val_error": float(last[3, m]),
                    "best_val_loss": float(self.history.best_val_loss[m]),
                    "best_val_step": int(self.history.best_val_step[m]),
                }
            )
        return rows


def _check_layer_lr(network: Network, factors: tuple[float, ...] | None, m: int) -> None:
    if factors is not None and len(factors) != network.n_layers:
        raise ValueError(
            f"model {m}: layer_lr has {len(factors)} factors, the network "
            f"{network.n_layers} layers with parameters"
        )


def _replace_spec(spec: ModelSpec, **changes: Any) -> ModelSpec:
    return replace(spec, **changes)


@dataclass
class RunState:
    """The arrays the kernels train in place, the model as the last axis (M models, P params).

    theta, avg (Polyak average), best (early stopping): (P, M); slots: (N_SLOTS, P, M); scalars
    (step count, NAdam's product of mu): (2, M); hyper (``Optimizer.vector``): (N_HYPER, M);
    sched_params (``Schedule.vector``): (4, M); layer_lr (each layer's learning-rate factor):
    (L, M).
    """

    theta: np.ndarray
    slots: np.ndarray
    scalars: np.ndarray
    hyper: np.ndarray
    sched_params: np.ndarray
    avg: np.ndarray
    best: np.ndarray
    layer_lr: np.ndarray

    @classmethod
    def empty(cls, n_params: int, n_models: int, n_layers: int) -> RunState:
        return cls(
            theta=np.zeros((n_params, n_models)),
            slots=np.zeros((rules.N_SLOTS, n_params, n_models)),
            scalars=np.zeros((rules.N_SCALARS, n_models)),
            hyper=np.zeros((rules.N_HYPER, n_models)),
            sched_params=np.zeros((rules.N_SCHED, n_models)),
            avg=np.zeros((n_params, n_models)),
            best=np.zeros((n_params, n_models)),
            layer_lr=np.ones((n_layers, n_models)),
        )
