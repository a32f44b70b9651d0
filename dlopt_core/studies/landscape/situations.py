"""Ready-made training runs whose loss shape the Landscape tab draws, and the tracing of a run.

``paper_situations`` gives small versions of the settings of Goodfellow, Vinyals & Saxe (2015)
(an MLP experiment, ``PaperSituation``, or the LSTM, ``SequenceSituation``), read from
``resources/landscape/situations.json``; ``trace_training`` trains one and keeps evenly spaced
snapshots of its parameters (the path drawn on the slice).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dlopt_core.data.resources import entry_error, load_entries
from dlopt_core.studies.landscape.models import Model, fgsm_robustness
from dlopt_core.train.network import Network
from dlopt_core.train.optimizers import make_optimizer

SITUATIONS_FILE = "landscape/situations.json"


class TrainingRun(Protocol):
    """What ``trace_training`` steps: a model training from ``theta_init`` on ``(X, y)``.

    ``run(n)`` advances up to n steps; ``running`` turns False when it stops on its own, with
    ``status`` saying why ("diverged", "early_stopped") and ``stop_step`` when; Xv and yv may
    have no rows.
    """

    @property
    def model(self) -> Model: ...

    @property
    def theta_init(self) -> np.ndarray: ...

    @property
    def X(self) -> np.ndarray: ...  # noqa: N802 (the data's usual name)

    @property
    def y(self) -> np.ndarray: ...

    @property
    def Xv(self) -> np.ndarray: ...  # noqa: N802

    @property
    def yv(self) -> np.ndarray: ...

    @property
    def step(self) -> int: ...

    @property
    def running(self) -> bool: ...

    @property
    def status(self) -> str: ...

    @property
    def stop_step(self) -> int: ...

    def run(self, n_steps: int) -> Any: ...

    def current_theta(self) -> np.ndarray: ...


class Situation(Protocol):
    """A ready-made training run whose loss shape the Landscape tab draws: a title, what the
    paper found (``explanation``), the default number of steps, a one-line ``describe()`` of the
    model, data and optimizer, ``start()``, a fresh ``TrainingRun``, and ``findings(path)``, what
    a finished run shows beyond the line, computed from it ("" when nothing)."""

    @property
    def title(self) -> str: ...

    @property
    def explanation(self) -> str: ...

    @property
    def steps(self) -> int: ...

    def describe(self) -> str: ...

    def start(self) -> TrainingRun: ...

    def findings(self, path: TrainedPath) -> str: ...


class _EngineRun:
    """The single model of an ``Engine`` as a ``TrainingRun`` (evaluated on its Polyak average
    when there is one, as the engine does)."""

    def __init__(self, network: Network, engine: Any) -> None:
        self.model = network
        self.engine = engine
        self.theta_init = engine.theta_init[0].copy()
        self.X, self.y, self.Xv, self.yv = engine.X, engine.Y, engine.Xv, engine.Yv

    @property
    def step(self) -> int:
        return int(self.engine.step)

    @property
    def running(self) -> bool:
        return bool(self.engine.running[0])

    @property
    def status(self) -> str:
        return self.engine.status_name(0)

    @property
    def stop_step(self) -> int:
        return int(self.engine.stop_step[0])

    def run(self, n_steps: int) -> Any:
        return self.engine.run(n_steps)

    def current_theta(self) -> np.ndarray:
        return self.engine.eval_theta()[0].copy()


@dataclass(frozen=True)
class PaperSituation:
    """A small version of one setting of Goodfellow, Vinyals & Saxe (2015), as plain data.

    layer_sizes: the full network, input (2) to output; data_kind, n_samples, noise: a
    ``datasets.generate`` data set; optimizer and hyper: for ``make_optimizer``; batch_size and
    steps: the training to run before interpolating from the initial to the final parameters;
    training: further ``TrainConfig`` settings of the experiment's training section.
    ``experiment_dict()`` gives the same as an ``Experiment.from_dict`` config.
    """

    title: str
    explanation: str
    layer_sizes: tuple[int, ...]
    activation: str
    loss: str
    data_kind: str
    n_samples: int
    noise: float
    val_fraction: float
    init: str
    init_std: float
    optimizer: str
    hyper: Mapping[str, Any]
    batch_size: int
    steps: int
    seed: int = 0
    training: Mapping[str, Any] = field(default_factory=dict)

    def experiment_dict(self) -> dict[str, Any]:
        return {
            "name": self.title,
            "seed": self.seed,
            "data": {
                "kind": self.data_kind,
                "n_samples": self.n_samples,
                "noise": self.noise,
                "val_fraction": self.val_fraction,
                "seed": self.seed,
            },
            "network": {
                "hidden": list(self.layer_sizes[1:-1]),
                "activation": self.activation,
                "init": self.init,
                "init_std": self.init_std,
            },
            "optimizer": {"name": self.optimizer, **dict(self.hyper)},
            "training": {"batch_size": self.batch_size, **dict(self.training)},
            "max_steps": self.steps,
        }

    def describe(self) -> str:
        sizes = "-".join(str(n) for n in self.layer_sizes)
        return (
            f"{sizes} {self.activation} network, {self.loss} loss; data: {self.data_kind} "
            f"({self.n_samples} points, noise {self.noise:g}); {self.optimizer} "
            f"({_hyper_text(self.hyper)}), batch {self.batch_size}"
            + "".join(f", {k.replace('_', ' ')} {v:g}" for k, v in self.training.items())
        )

    def start(self) -> TrainingRun:
        """The experiment built on the CPU backend, untrained."""
        from dlopt_core.train.experiment import Experiment

        _, net, engine = Experiment.from_dict(self.experiment_dict()).build(backend="cpu")
        return _EngineRun(net, engine)

    @property
    def adversarial_eps(self) -> float:
        return float(self.training.get("adversarial_eps", 0.0))

    def findings(self, path: TrainedPath) -> str:
        """For adversarial training: the trained network's loss on clean and on FGSM inputs (of
        the training set) and its validation accuracy on both (``fgsm_robustness``); else ""."""
        eps = self.adversarial_eps
        if eps <= 0.0 or not isinstance(path.model, Network):
            return ""
        train = fgsm_robustness(path.model, path.theta_final, path.X, path.y, eps)
        text = (
            f"On inputs moved by FGSM (\u03b5 = {eps:g}) the trained network's training loss "
            f"is {train.adversarial_loss:.3g}, against {train.loss:.3g} on the clean inputs"
        )
        if path.Xv is not None and path.yv is not None and self.loss in ("bce", "ce"):
            val = fgsm_robustness(path.model, path.theta_final, path.Xv, path.yv, eps)
            text += (
                f"; it classifies {100 * (1 - val.error):.0f} % of the validation points "
                f"right, {100 * (1 - val.adversarial_error):.0f} % of their FGSM versions"
            )
        return text + "."


@dataclass(frozen=True)
class SequenceSituation:
    """The interpolation paper's LSTM in small form: an ``LSTMNetwork`` with ``hidden_size``
    units on ``lstm.adding_task(n_samples, length, val_fraction, seed)``, initialised with
    ``init`` (and ``init_std``) from ``seed``, trained by ``lstm.SequenceTrainer`` with the
    optimizer ``make_optimizer(optimizer, **hyper)``, batches of ``batch_size`` and the batch
    order of ``seed``."""

    title: str
    explanation: str
    hidden_size: int
    length: int
    n_samples: int
    val_fraction: float
    init: str
    init_std: float
    optimizer: str
    hyper: Mapping[str, Any]
    batch_size: int
    steps: int
    seed: int = 0

    def describe(self) -> str:
        return (
            f"LSTM with {self.hidden_size} units and a linear read-out, mse loss; data: "
            f"adding problem ({self.n_samples} sequences of {self.length} steps); "
            f"{self.optimizer} ({_hyper_text(self.hyper)}), batch {self.batch_size}"
        )

    def start(self) -> TrainingRun:
        from dlopt_core.train import lstm

        data = lstm.adding_task(self.n_samples, self.length, self.val_fraction, self.seed)
        net = lstm.LSTMNetwork(data.input_size, self.hidden_size, 1, "mse")
        theta0 = net.init(self.seed, self.init, self.init_std)
        return lstm.SequenceTrainer(
            net,
            data,
            make_optimizer(self.optimizer, **self.hyper),
            batch_size=self.batch_size,
            seed=self.seed,
            theta0=theta0,
        )

    def findings(self, path: TrainedPath) -> str:
        return ""


def _hyper_text(hyper: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in hyper.items())


@dataclass(frozen=True)
class TrainedPath:
    """Snapshots of a training run: ``thetas`` (S, P), the first the initial parameters and the
    last the final ones (Polyak-averaged where the run averages), with the data; ``steps``: the
    training steps taken; ``cancelled``: stopped by ``should_stop``; ``notes``: what a reader
    should know (an early stop)."""

    model: Model
    thetas: np.ndarray
    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray | None
    yv: np.ndarray | None
    steps: int
    cancelled: bool = False
    notes: tuple[str, ...] = ()

    @property
    def theta_init(self) -> np.ndarray:
        return self.thetas[0]

    @property
    def theta_final(self) -> np.ndarray:
        return self.thetas[-1]


def trace_training(
    situation: Situation,
    steps: int | None = None,
    snapshots: int = 40,
    callback: Callable[[float, TrainedPath], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedPath:
    """Train ``situation`` for ``steps`` steps (default its own), keeping ``snapshots`` + 1
    parameter vectors at evenly spaced steps (the path drawn on the slice).

    Between two snapshots ``callback(fraction done, path so far)`` is called and
    ``should_stop()`` asked whether to give up; a cancelled run returns what it has, with
    ``cancelled=True``. A run that stops early keeps its last parameters and says so in
    ``notes``; one that diverges raises ``ValueError`` with the step.
    """
    run = situation.start()
    steps = max(1, int(situation.steps if steps is None else steps))
    marks = np.unique(np.linspace(0, steps, max(2, int(snapshots)) + 1).round().astype(np.int64))
    thetas = [run.current_theta()]
    notes: list[str] = []
    has_val = len(run.Xv) > 0

    def path(cancelled: bool = False) -> TrainedPath:
        return TrainedPath(
            run.model,
            np.array(thetas),
            run.X,
            run.y,
            run.Xv if has_val else None,
            run.yv if has_val else None,
            int(run.step),
            cancelled,
            tuple(notes),
        )

    for mark in marks[1:]:
        if should_stop is not None and should_stop():
            return path(cancelled=True)
        run.run(int(mark) - run.step)
        thetas.append(run.current_theta())
        if not run.running:
            if run.status == "diverged":
                raise ValueError(
                    f"training diverged at step {run.stop_step:,} (the loss became "
                    "infinite): lower the learning rate"
                )
            notes.append(f"Training stopped early at step {run.step:,} ({run.status}).")
            break
        if callback is not None and mark < marks[-1]:
            callback(run.step / steps, path())
    return path()


def paper_situations() -> dict[str, Situation]:
    """The interpolation paper's situations in small form: name -> ``PaperSituation`` (an MLP
    experiment, ``"kind": "mlp"`` in the file) or ``SequenceSituation`` (the LSTM, ``"lstm"``)."""
    kinds: dict[str, type[PaperSituation] | type[SequenceSituation]] = {
        "mlp": PaperSituation,
        "lstm": SequenceSituation,
    }
    out: dict[str, Situation] = {}
    for name, entry in load_entries(SITUATIONS_FILE).items():
        try:
            fields = dict(entry)
            kind = kinds[fields.pop("kind")]
            if "layer_sizes" in fields:
                fields["layer_sizes"] = tuple(fields["layer_sizes"])
            out[name] = kind(**fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise entry_error(SITUATIONS_FILE, name, exc) from None
    return out
